//! Encoding into a `Vec<u8>`. It fails only for a value deeper than the limit (which the
//! decoder would refuse) or a variant added to `tabula-core` after this crate knew it.

use tabula_core::{Map, Value};

use crate::{Error, Format, Result};

/// A record that can be written in the bincode-1 layout.
pub trait BinWrite {
    /// Appends the encoding of `self` to `out`; values may be at most `max_depth` deep.
    ///
    /// # Errors
    /// `Unencodable` for a value deeper than `max_depth`, or an op or schema change this crate
    /// does not know.
    fn write_bin(&self, out: &mut Vec<u8>, max_depth: usize) -> Result<()>;
}

pub(super) fn too_deep(max_depth: usize) -> Error {
    Error::Unencodable {
        format: Format::Bincode,
        reason: format!("a value nests deeper than the limit of {max_depth} levels"),
    }
}

pub(super) fn tag(out: &mut Vec<u8>, tag: u32) {
    out.extend_from_slice(&tag.to_le_bytes());
}

pub(super) fn len(out: &mut Vec<u8>, len: usize) {
    out.extend_from_slice(&(len as u64).to_le_bytes());
}

pub(super) fn bool(out: &mut Vec<u8>, b: bool) {
    out.push(u8::from(b));
}

pub(super) fn str(out: &mut Vec<u8>, s: &str) {
    len(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

pub(super) fn opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => out.push(0),
        Some(s) => {
            out.push(1);
            str(out, s);
        }
    }
}

/// Writes a value found at `depth` (1 for a value on its own, 2 for a row's field).
///
/// # Errors
/// `Unencodable` when the value nests beyond `max_depth`; recursion stops there.
pub fn write_value(out: &mut Vec<u8>, value: &Value, depth: usize, max_depth: usize) -> Result<()> {
    if depth > max_depth {
        return Err(too_deep(max_depth));
    }
    match value {
        Value::Null => tag(out, 0),
        Value::Bool(b) => {
            tag(out, 1);
            bool(out, *b);
        }
        Value::Int(n) => {
            tag(out, 2);
            out.extend_from_slice(&n.to_le_bytes());
        }
        Value::Float(f) => {
            tag(out, 3);
            out.extend_from_slice(&f.to_bits().to_le_bytes());
        }
        Value::Text(t) => {
            tag(out, 4);
            str(out, t);
        }
        Value::Bytes(b) => {
            tag(out, 5);
            len(out, b.len());
            out.extend_from_slice(b);
        }
        Value::Timestamp(t) => {
            tag(out, 6);
            out.extend_from_slice(&t.as_micros().to_le_bytes());
        }
        Value::List(items) => {
            tag(out, 7);
            len(out, items.len());
            for item in items {
                write_value(out, item, depth + 1, max_depth)?;
            }
        }
        Value::Map(map) => {
            tag(out, 8);
            write_map(out, map, depth, max_depth)?;
        }
    }
    Ok(())
}

/// Writes a map or row found at `depth`; its values are one level down.
pub(super) fn write_map(
    out: &mut Vec<u8>,
    map: &Map,
    depth: usize,
    max_depth: usize,
) -> Result<()> {
    if depth > max_depth {
        return Err(too_deep(max_depth));
    }
    len(out, map.len());
    for (k, v) in map {
        str(out, k);
        write_value(out, v, depth + 1, max_depth)?;
    }
    Ok(())
}
