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

use crate::input::Input;
use crate::{ELEMENT_COST, ENTRY_COST, Error, Format, MAP_COST, Record, Result};

/// Appends the MessagePack encoding of `record`.
pub(crate) fn encode<T: Record>(record: &T, out: &mut Vec<u8>) -> Result<()> {
    rmp_serde::encode::write_named(out, record).map_err(|e| Error::Unencodable {
        format: Format::MessagePack,
        reason: e.to_string(),
    })
}

/// Decodes one record from bytes that [`skip`] has validated. `base` is their offset.
pub(crate) fn decode<T: Record>(bytes: &[u8], base: u64) -> Result<T> {
    rmp_serde::from_slice(bytes).map_err(|e| Error::Invalid {
        format: Format::MessagePack,
        offset: Some(base),
        expected: format!("a record: {e}"),
    })
}

fn be(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0, |acc, &b| (acc << 8) | u64::from(b))
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
        // (payload bytes to take, or a container: its item count)
        let (payload, items): (u64, Option<u64>) = match marker {
            0x00..=0x7f | 0xc0 | 0xc2 | 0xc3 | 0xe0..=0xff => (0, None),
            0x80..=0x8f => (0, Some(2 * u64::from(marker & 0x0f))),
            0x90..=0x9f => (0, Some(u64::from(marker & 0x0f))),
            0xa0..=0xbf => (u64::from(marker & 0x1f), None),
            0xc4 | 0xd9 => (be(input.take(1, "a length")?), None),
            0xc5 | 0xda => (be(input.take(2, "a length")?), None),
            0xc6 | 0xdb => (be(input.take(4, "a length")?), None),
            0xc7 => (be(input.take(1, "an ext length")?) + 1, None),
            0xc8 => (be(input.take(2, "an ext length")?) + 1, None),
            0xc9 => (be(input.take(4, "an ext length")?) + 1, None),
            0xca | 0xce | 0xd2 => (4, None),
            0xcb | 0xcf | 0xd3 => (8, None),
            0xcc | 0xd0 => (1, None),
            0xcd | 0xd1 => (2, None),
            0xd4 => (2, None),
            0xd5 => (3, None),
            0xd6 => (5, None),
            0xd7 => (9, None),
            0xd8 => (17, None),
            0xdc => (0, Some(be(input.take(2, "an array length")?))),
            0xdd => (0, Some(be(input.take(4, "an array length")?))),
            0xde => (0, Some(2 * be(input.take(2, "a map length")?))),
            0xdf => (0, Some(2 * be(input.take(4, "a map length")?))),
            0xc1 => return Err(input.invalid(at, "a MessagePack marker, found 0xc1 (never used)")),
        };
        if let Some(items) = items {
            let what = if marker & 0xf0 == 0x80 || marker >= 0xde {
                "map length"
            } else {
                "array length"
            };
            let count = if what == "map length" {
                items / 2
            } else {
                items
            };
            input.check_len(count, what, at)?;
            let cost = if what == "map length" {
                if count > 0 {
                    MAP_COST + ENTRY_COST * count
                } else {
                    0
                }
            } else {
                ELEMENT_COST * count
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
            let is_str = matches!(marker, 0xa0..=0xbf | 0xd9 | 0xda | 0xdb);
            if is_str && let Err(e) = std::str::from_utf8(data) {
                let bad = input.offset() - (n - e.valid_up_to()) as u64;
                return Err(input.invalid(bad, "UTF-8 text in a MessagePack str"));
            }
        }
    }
}
