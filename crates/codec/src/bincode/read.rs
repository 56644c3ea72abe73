//! Decoding from any [`Input`], with every length checked before it is trusted.

use std::collections::BTreeMap;

use tabula_core::{Map, Timestamp, Value};

use crate::Result;
use crate::input::Input;

/// A record that can be read from the bincode-1 layout.
pub trait BinRead: Sized {
    /// Reads one record.
    ///
    /// # Errors
    /// `Invalid`, `Truncated`, `TooDeep` or `TooLarge`, each with the byte offset.
    fn read_bin<I: Input>(input: &mut I) -> Result<Self>;
}

pub(super) fn u32<I: Input>(input: &mut I, what: &str) -> Result<u32> {
    input.take_array(what).map(u32::from_le_bytes)
}

pub(super) fn u64<I: Input>(input: &mut I, what: &str) -> Result<u64> {
    input.take_array(what).map(u64::from_le_bytes)
}

pub(super) fn i64<I: Input>(input: &mut I, what: &str) -> Result<i64> {
    input.take_array(what).map(i64::from_le_bytes)
}

pub(super) fn bool<I: Input>(input: &mut I, what: &str) -> Result<bool> {
    let at = input.offset();
    match input.take_byte(what)? {
        0 => Ok(false),
        1 => Ok(true),
        b => Err(input.invalid(at, format!("{what} as a bool byte 0 or 1, found {b}"))),
    }
}

/// Reads an enum tag and checks it is below `count`.
pub(super) fn tag<I: Input>(input: &mut I, what: &str, count: u32) -> Result<u32> {
    let at = input.offset();
    let tag = u32(input, what)?;
    if tag >= count {
        return Err(input.invalid(at, format!("{what} tag 0..={}, found {tag}", count - 1)));
    }
    Ok(tag)
}

/// Reads a length prefix for a string or byte string. Only the record-size limit and the bytes
/// present bound it, both checked by `take`.
fn byte_len<I: Input>(input: &mut I, what: &str) -> Result<usize> {
    let at = input.offset();
    let n = u64(input, what)?;
    usize::try_from(n).map_err(|_| {
        input.invalid(
            at,
            format!("a length of {what} that fits in memory, found {n}"),
        )
    })
}

pub(super) fn bytes<I: Input>(input: &mut I, what: &str) -> Result<Vec<u8>> {
    let n = byte_len(input, what)?;
    input.take(n, what).map(<[u8]>::to_vec)
}

pub(super) fn string<I: Input>(input: &mut I, what: &str) -> Result<String> {
    let n = byte_len(input, what)?;
    let at = input.offset();
    let bytes = input.take(n, what)?;
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_owned()),
        Err(e) => {
            let bad = at + e.valid_up_to() as u64;
            Err(input.invalid(bad, format!("{what} as UTF-8 text")))
        }
    }
}

pub(super) fn opt_string<I: Input>(input: &mut I, what: &str) -> Result<Option<String>> {
    if option(input, what)? {
        string(input, what).map(Some)
    } else {
        Ok(None)
    }
}

/// Reads an `Option` marker: whether a value follows.
pub(super) fn option<I: Input>(input: &mut I, what: &str) -> Result<bool> {
    let at = input.offset();
    match input.take_byte(what)? {
        0 => Ok(false),
        1 => Ok(true),
        b => Err(input.invalid(at, format!("optional {what} marker 0 or 1, found {b}"))),
    }
}

/// Reads a collection length, checked against the limit. Callers reserve [`capacity`] for it:
/// at most 64 elements, because each element takes at least one byte of input, so growth
/// beyond that is paid for by bytes really present.
pub(super) fn collection_len<I: Input>(input: &mut I, what: &'static str) -> Result<usize> {
    let at = input.offset();
    let n = u64(input, what)?;
    input.check_len(n, what, at)
}

pub(super) fn capacity(n: usize) -> usize {
    n.min(64)
}

/// Reads a length for a vector of `T` and charges its estimated memory.
pub(super) fn vec_len<I: Input, T>(input: &mut I, what: &'static str) -> Result<usize> {
    let at = input.offset();
    let n = collection_len(input, what)?;
    input.charge((size_of::<T>() * n) as u64, at)?;
    Ok(n)
}

/// Reads a value found at `depth` (1 for a value on its own, 2 for a row's field).
///
/// # Errors
/// `TooDeep` beyond the depth limit, so recursion is bounded by the limit, not the input.
pub fn read_value<I: Input>(input: &mut I, depth: usize) -> Result<Value> {
    if depth > input.limits().max_depth {
        return Err(crate::Error::TooDeep {
            format: input.format(),
            offset: input.offset(),
            limit: input.limits().max_depth,
        });
    }
    Ok(match tag(input, "value", 9)? {
        0 => Value::Null,
        1 => Value::Bool(bool(input, "bool value")?),
        2 => Value::Int(i64(input, "int value")?),
        3 => Value::Float(f64::from_bits(u64(input, "float value")?)),
        4 => Value::Text(string(input, "text value")?),
        5 => Value::Bytes(bytes(input, "bytes value")?),
        6 => Value::Timestamp(Timestamp::from_micros(i64(input, "timestamp value")?)),
        7 => {
            let at = input.offset();
            let n = collection_len(input, "list length")?;
            input.charge(crate::ELEMENT_COST * n as u64, at)?;
            let mut items = Vec::with_capacity(capacity(n));
            for _ in 0..n {
                items.push(read_value(input, depth + 1)?);
            }
            Value::List(items)
        }
        _ => Value::Map(read_map(input, depth)?),
    })
}

/// Reads a map or row found at `depth`.
pub(super) fn read_map<I: Input>(input: &mut I, depth: usize) -> Result<Map> {
    if depth > input.limits().max_depth {
        return Err(crate::Error::TooDeep {
            format: input.format(),
            offset: input.offset(),
            limit: input.limits().max_depth,
        });
    }
    let at = input.offset();
    let n = collection_len(input, "map length")?;
    if n > 0 {
        input.charge(crate::MAP_COST + crate::ENTRY_COST * n as u64, at)?;
    }
    let mut map = BTreeMap::new();
    for _ in 0..n {
        let key = string(input, "map key")?;
        let value = read_value(input, depth + 1)?;
        map.insert(key, value);
    }
    Ok(map)
}
