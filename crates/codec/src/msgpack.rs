//! MessagePack through `rmp-serde`, with a structural pre-pass over the bytes.
//!
//! Encoding writes structs as maps with field names (`rmp_serde::encode::write_named`), so a
//! record is self-describing and readable by any MessagePack library. Values are native
//! MessagePack (nil, bool, int, float 64, str, bin, array, map); timestamps are `{"$ts": µs}`
//! and a map whose first key is an escape name is `{"$map": {…}}`, as documented on
//! `tabula_core::Value`.
//!
//! Decoding first walks one record's structure without recursion ([`skip`]): it checks every
//! marker, bounds depth and collection lengths, and takes each length's bytes from the input
//! (so a claimed length beyond the bytes present is refused before anything is allocated).
//! Only then does `rmp-serde` build the record from the validated bytes.

use rmp::Marker;

use crate::input::Input;
use crate::{Codable, ELEMENT_COST, ENTRY_COST, Error, Format, MAP_COST, Result};

/// Appends the MessagePack encoding of `record`.
pub(crate) fn encode<T: Codable>(record: &T, out: &mut Vec<u8>) -> Result<()> {
    rmp_serde::encode::write_named(out, record).map_err(|e| Error::Unencodable {
        format: Format::MessagePack,
        reason: e.to_string(),
    })
}

/// Decodes one record from bytes that [`skip`] has validated. `base` is their offset.
pub(crate) fn decode<T: Codable>(bytes: &[u8], base: u64) -> Result<T> {
    rmp_serde::from_slice(bytes).map_err(|e| Error::Invalid {
        format: Format::MessagePack,
        offset: Some(base),
        expected: format!("a record: {e}"),
    })
}

fn be(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0, |acc, &b| (acc << 8) | u64::from(b))
}

/// What follows a marker.
enum Shape {
    /// This many payload bytes (0 for a value held in the marker itself).
    Bytes(u64),
    /// An array of this many elements.
    Array(u64),
    /// A map of this many entries.
    Map(u64),
}

/// What follows `marker` (read at `at`), taking the length bytes it announces from `input`.
fn shape<I: Input>(input: &mut I, at: u64, marker: u8) -> Result<Shape> {
    let mut len =
        |bytes: usize, what: &'static str| -> Result<u64> { Ok(be(input.take(bytes, what)?)) };
    Ok(match Marker::from_u8(marker) {
        Marker::FixPos(_) | Marker::FixNeg(_) | Marker::Null | Marker::True | Marker::False => {
            Shape::Bytes(0)
        }
        Marker::U8 | Marker::I8 => Shape::Bytes(1),
        Marker::U16 | Marker::I16 => Shape::Bytes(2),
        Marker::U32 | Marker::I32 | Marker::F32 => Shape::Bytes(4),
        Marker::U64 | Marker::I64 | Marker::F64 => Shape::Bytes(8),
        Marker::FixStr(n) => Shape::Bytes(u64::from(n)),
        Marker::Str8 | Marker::Bin8 => Shape::Bytes(len(1, "a length")?),
        Marker::Str16 | Marker::Bin16 => Shape::Bytes(len(2, "a length")?),
        Marker::Str32 | Marker::Bin32 => Shape::Bytes(len(4, "a length")?),
        // An extension: its type byte, then its data.
        Marker::FixExt1 => Shape::Bytes(2),
        Marker::FixExt2 => Shape::Bytes(3),
        Marker::FixExt4 => Shape::Bytes(5),
        Marker::FixExt8 => Shape::Bytes(9),
        Marker::FixExt16 => Shape::Bytes(17),
        Marker::Ext8 => Shape::Bytes(len(1, "an ext length")? + 1),
        Marker::Ext16 => Shape::Bytes(len(2, "an ext length")? + 1),
        Marker::Ext32 => Shape::Bytes(len(4, "an ext length")? + 1),
        Marker::FixArray(n) => Shape::Array(u64::from(n)),
        Marker::Array16 => Shape::Array(len(2, "an array length")?),
        Marker::Array32 => Shape::Array(len(4, "an array length")?),
        Marker::FixMap(n) => Shape::Map(u64::from(n)),
        Marker::Map16 => Shape::Map(len(2, "a map length")?),
        Marker::Map32 => Shape::Map(len(4, "a map length")?),
        Marker::Reserved => {
            return Err(input.invalid(at, "a MessagePack marker, found 0xc1 (never used)"));
        }
    })
}

/// Takes one whole MessagePack value from `input`, checking its structure and limits. Returns
/// the deepest nesting of arrays and maps seen, which bounds every value's depth.
pub(crate) fn skip<I: Input>(input: &mut I) -> Result<usize> {
    let mut deepest = 0;
    let max_depth = crate::json::structural_limit(input.limits().max_depth);
    // Items still to read at each enclosing level; the innermost count is `left`.
    let mut outer: Vec<u64> = Vec::new();
    let mut left: u64 = 1;
    loop {
        while left == 0 {
            match outer.pop() {
                Some(n) => left = n,
                None => return Ok(deepest),
            }
        }
        left -= 1;
        let at = input.offset();
        let marker = input.take_byte("a MessagePack value")?;
        let (payload, container) = match shape(input, at, marker)? {
            Shape::Bytes(n) => (n, None),
            Shape::Array(n) => (0, Some((n, false))),
            Shape::Map(n) => (0, Some((n, true))),
        };
        if let Some((count, is_map)) = container {
            let what = if is_map { "map length" } else { "array length" };
            input.check_len(count, what, at)?;
            let (cost, items) = if is_map {
                let cost = if count > 0 {
                    MAP_COST + ENTRY_COST * count
                } else {
                    0
                };
                (cost, 2 * count)
            } else {
                (ELEMENT_COST * count, count)
            };
            input.charge(cost, at)?;
            if outer.len() + 1 > max_depth {
                return Err(Error::TooDeep {
                    format: Format::MessagePack,
                    offset: at,
                    limit: max_depth,
                });
            }
            outer.push(left);
            deepest = deepest.max(outer.len());
            left = items;
        } else if payload > 0 {
            let n = usize::try_from(payload)
                .map_err(|_| input.invalid(at, "a length that fits in memory"))?;
            let data = input.take(n, "MessagePack data")?;
            // A `str` must be UTF-8 (rmp-serde would quietly turn a bad one into bytes).
            let is_str = matches!(
                Marker::from_u8(marker),
                Marker::FixStr(_) | Marker::Str8 | Marker::Str16 | Marker::Str32
            );
            if is_str && let Err(e) = std::str::from_utf8(data) {
                let bad = input.offset() - (n - e.valid_up_to()) as u64;
                return Err(input.invalid(bad, "UTF-8 text in a MessagePack str"));
            }
        }
    }
}
