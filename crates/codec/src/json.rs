//! JSON through `serde_json`: compact output, one record per line in a stream, and a depth
//! pre-scan so that hostile nesting is refused with an offset before the parser sees it.
//!
//! Values use the natural JSON form with the `$`-escapes documented on `tabula_core::Value`:
//! `{"$bytes": "<base64>"}`, `{"$ts": "<RFC 3339>"}`, `{"$float": "NaN" | "inf" | "-inf"}`,
//! `{"$int": "<decimal>"}` beyond ±(2^53 − 1), and `{"$map": {…}}` for a map whose first key
//! is one of those five names. Structs are objects with their field names, enums are externally tagged
//! (`{"insert": {"table": "t", "row": {…}}}`), and a transaction's timestamp is RFC 3339 text.

use crate::{Codable, CodecLimits, ELEMENT_COST, ENTRY_COST, Error, Format, MAP_COST, Result};

/// Levels of JSON structure a record may add around its values (transaction, ops list, op,
/// variant body, schema change, column).
const STRUCTURE_LEVELS: usize = 7;

/// The most container levels a record may have when its values are at most `max_depth` deep:
/// escapes can double a value's nesting (`{"$map": {…}}` around each map level, `{"$ts": …}`
/// around a scalar), and the record adds its own structure. Shared with MessagePack.
pub(crate) fn structural_limit(max_depth: usize) -> usize {
    max_depth.saturating_mul(2).saturating_add(STRUCTURE_LEVELS)
}

/// JSON's whitespace (RFC 8259): narrower than `u8::is_ascii_whitespace`, which has form feed.
pub(crate) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Appends the compact JSON of `record` (no newline).
pub(crate) fn encode<T: Codable>(record: &T, out: &mut Vec<u8>) -> Result<()> {
    serde_json::to_writer(out, record).map_err(|e| Error::Unencodable {
        format: Format::Json,
        reason: e.to_string(),
    })
}

/// Decodes one JSON document that is all of `bytes` (whitespace around it allowed). `base` is
/// the offset of `bytes` in the whole input, for errors.
///
/// Also returns the deepest nesting of arrays and objects seen, which bounds every value's depth.
pub(crate) fn decode<T: Codable>(
    bytes: &[u8],
    base: u64,
    limits: &CodecLimits,
) -> Result<(T, usize)> {
    if bytes.len() > limits.max_record_size.saturating_add(1) {
        // (+1: a JSON Lines record may end with its newline.)
        return Err(Error::TooLarge {
            format: Format::Json,
            offset: Some(base),
            what: "record size in bytes",
            size: bytes.len() as u64,
            limit: limits.max_record_size as u64,
        });
    }
    let nesting = check_structure(bytes, base, structural_limit(limits.max_depth), limits)?;
    let record: T = serde_json::from_slice(bytes).map_err(|e| {
        let at = offset_of(bytes, e.line(), e.column());
        let expected = strip_position(&e.to_string());
        match e.classify() {
            serde_json::error::Category::Eof => Error::Truncated {
                format: Format::Json,
                offset: base + bytes.len() as u64,
                expected,
            },
            _ => Error::Invalid {
                format: Format::Json,
                offset: Some(base + at),
                expected,
            },
        }
    })?;
    Ok((record, nesting))
}

/// Refuses input that nests arrays and objects more than `max_depth` levels or has more than
/// `max_len` elements in one of them, without recursion and before the parser allocates.
/// Returns the deepest nesting seen.
fn check_structure(
    bytes: &[u8],
    base: u64,
    max_depth: usize,
    limits: &CodecLimits,
) -> Result<usize> {
    let max_len = limits.max_collection_len;
    let mut deepest = 0;
    let mut memory = 0u64;
    // Charges the estimated heap of one more element (see `CodecLimits::max_memory`).
    let mut charge = |object: bool, elements: usize, at: u64| -> Result<()> {
        memory = memory.saturating_add(match (object, elements) {
            (true, 1) => MAP_COST + ENTRY_COST,
            (true, _) => ENTRY_COST,
            (false, _) => ELEMENT_COST,
        });
        if memory > limits.max_memory as u64 {
            return Err(Error::TooLarge {
                format: Format::Json,
                offset: Some(at),
                what: "estimated memory of the decoded record in bytes",
                size: memory,
                limit: limits.max_memory as u64,
            });
        }
        Ok(())
    };
    // Per open container: whether it is an object, and its elements seen so far.
    let mut open: Vec<(bool, usize)> = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if is_space(b) {
            i += 1;
            continue;
        }
        // The first byte of a container's first element counts it; commas count the rest.
        if !matches!(b, b']' | b'}' | b',')
            && let Some((object, elements)) = open.last_mut()
            && *elements == 0
        {
            *elements = 1;
            check_len(*object, 1, max_len, base + i as u64)?;
            charge(*object, 1, base + i as u64)?;
        }
        match b {
            b'"' => {
                // Jump through the string: only a quote or a backslash can end or escape it.
                let mut j = i + 1;
                loop {
                    match bytes
                        .get(j..)
                        .and_then(|rest| memchr::memchr2(b'"', b'\\', rest))
                    {
                        Some(k) if bytes.get(j + k) == Some(&b'\\') => j += k + 2,
                        Some(k) => {
                            j += k;
                            break;
                        }
                        // Unterminated: the parser reports it.
                        None => return Ok(deepest),
                    }
                }
                i = j;
            }
            b'[' | b'{' => {
                if open.len() >= max_depth {
                    return Err(Error::TooDeep {
                        format: Format::Json,
                        offset: base + i as u64,
                        limit: max_depth,
                    });
                }
                open.push((b == b'{', 0));
                deepest = deepest.max(open.len());
            }
            b']' | b'}' => {
                open.pop();
            }
            b',' => {
                if let Some((object, elements)) = open.last_mut() {
                    *elements += 1;
                    check_len(*object, *elements, max_len, base + i as u64)?;
                    charge(*object, *elements, base + i as u64)?;
                }
            }
            _ => {}
        }
        i += 1;
    }
    Ok(deepest)
}

fn check_len(object: bool, elements: usize, max_len: usize, offset: u64) -> Result<()> {
    if elements > max_len {
        return Err(Error::TooLarge {
            format: Format::Json,
            offset: Some(offset),
            what: if object { "map length" } else { "list length" },
            size: elements as u64,
            limit: max_len as u64,
        });
    }
    Ok(())
}

/// The byte offset of a 1-based line and column as `serde_json` reports them.
fn offset_of(bytes: &[u8], line: usize, column: usize) -> u64 {
    let line_start = if line <= 1 {
        0
    } else {
        bytes
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(line - 2)
            .map_or(bytes.len(), |(i, _)| i + 1)
    };
    (line_start + column.saturating_sub(1)).min(bytes.len()) as u64
}

/// `serde_json` ends its messages with " at line L column C"; the error carries a byte offset
/// instead.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message.get(..i).unwrap_or(message).to_owned(),
        None => message.to_owned(),
    }
}
