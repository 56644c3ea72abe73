//! The serde representation of [`Value`] and [`Timestamp`]: natural in every self-describing
//! format, with `$`-tagged escapes for what a format cannot carry.
//!
//! A `Value` serializes as the format's own null, bool, integer, float, string, byte string,
//! array and map, so `serde_json::to_string(&value)` is the JSON anyone would write. What a
//! format cannot carry natively is written as an *escape*: a map with exactly one member whose
//! name starts with `$`.
//!
//! | value                                   | human-readable (JSON)        | binary (MessagePack)   |
//! |-----------------------------------------|------------------------------|------------------------|
//! | `Bytes(b)`                              | `{"$bytes": "<base64>"}`     | native byte string     |
//! | `Timestamp(t)`                          | `{"$ts": "<RFC 3339>"}`      | `{"$ts": <micros i64>}` |
//! | `Float` NaN / +inf / -inf               | `{"$float": "NaN" \| "inf" \| "-inf"}` | native float |
//! | `Int(n)`, `\|n\| > 2^53 - 1`            | `{"$int": "<decimal>"}`      | native integer         |
//! | `Map(m)` whose first key is an escape name | `{"$map": m}`             | `{"$map": m}`          |
//!
//! The five escape names are `$bytes`, `$ts`, `$float`, `$int` and `$map`. A reader decides at a
//! map's *first* key: if it is an escape name, the map is an escape and must have no other
//! member; otherwise it is a plain map, whatever its other keys. A writer wraps every map whose
//! first key (maps are ordered by key) is an escape name in `$map`, whose content is read as a
//! plain map. So the encoding is unambiguous and decided without looking ahead; other `$` keys
//! (`{"$x": 1}`) are plain data.
//!
//! Base64 is the standard alphabet with padding (RFC 4648 §4). Integers beyond 2^53 - 1 are
//! escaped because JavaScript and many JSON readers round them. Floats are written in their
//! shortest exact form and always with a fraction or exponent (`1.0`, `1e300`), so an integral
//! float reads back as a `Float` and an integer as an `Int`.
//!
//! Decoding is lenient where that is unambiguous: `$ts` takes text or microseconds, `$int`,
//! `$float` and `$bytes` take their native form too.
//!
//! Decoding refuses what it cannot keep exactly: an integer beyond `i64` (tabula never writes
//! one; rounding it to the nearest float made two distinct keys one, so an upsert overwrote
//! another row), and a map that names a member twice (the last one silently won, the key
//! included). [`StrictRow`] reads a row the same way.
//!
//! Nesting depth is not bounded here: the decoder of each format bounds it before a `Value` is
//! built (see `tabula-codec`).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use super::{Map, Timestamp, Value};

/// Integers with a larger magnitude are escaped in human-readable formats.
const MAX_SAFE_INT: i64 = (1 << 53) - 1;

/// Serializes a one-member escape map `{name: value}`.
fn escape<S: Serializer, T: Serialize + ?Sized>(
    s: S,
    name: &str,
    value: &T,
) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(1))?;
    map.serialize_entry(name, value)?;
    map.end()
}

/// The member names that make a map an escape when they come first.
const ESCAPES: [&str; 5] = ["$bytes", "$ts", "$float", "$int", "$map"];

/// Whether a map would read back as an escape and so must itself be escaped as `$map`.
fn looks_like_escape(map: &Map) -> bool {
    map.keys()
        .next()
        .is_some_and(|k| ESCAPES.contains(&k.as_str()))
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let hr = s.is_human_readable();
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(n) if hr && !(-MAX_SAFE_INT..=MAX_SAFE_INT).contains(n) => {
                escape(s, "$int", &n.to_string())
            }
            Value::Int(n) => s.serialize_i64(*n),
            Value::Float(f) if hr && !f.is_finite() => escape(s, "$float", float_name(*f)),
            Value::Float(f) => s.serialize_f64(*f),
            Value::Text(t) => s.serialize_str(t),
            Value::Bytes(b) if hr => escape(s, "$bytes", &BASE64.encode(b)),
            Value::Bytes(b) => s.serialize_bytes(b),
            Value::Timestamp(t) if hr => escape(s, "$ts", &t.to_string()),
            Value::Timestamp(t) => escape(s, "$ts", &t.as_micros()),
            Value::List(items) => s.collect_seq(items),
            Value::Map(map) if looks_like_escape(map) => escape(s, "$map", map),
            Value::Map(map) => s.collect_map(map),
        }
    }
}

fn float_name(f: f64) -> &'static str {
    if f.is_nan() {
        "NaN"
    } else if f > 0.0 {
        "inf"
    } else {
        "-inf"
    }
}

/// A bare timestamp (a transaction's time, not a cell) is RFC 3339 text in human-readable
/// formats and microseconds since the epoch otherwise.
impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            s.serialize_i64(self.as_micros())
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TimestampVisitor;
        impl Visitor<'_> for TimestampVisitor {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 timestamp or microseconds since the epoch")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Timestamp, E> {
                Ok(Timestamp::from_micros(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Timestamp, E> {
                i64::try_from(v)
                    .map(Timestamp::from_micros)
                    .map_err(|_| E::custom("timestamp out of range"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
                v.parse().map_err(E::custom)
            }
        }
        if d.is_human_readable() {
            d.deserialize_any(TimestampVisitor)
        } else {
            d.deserialize_i64(TimestampVisitor)
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a tabula value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        i64::try_from(v).map(Value::Int).map_err(|_| too_big(v))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        i64::try_from(v).map(Value::Int).map_err(|_| too_big(v))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        i64::try_from(v).map(Value::Int).map_err(|_| too_big(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Text(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::Text(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Bytes(v.to_vec()))
    }
    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Value, E> {
        Ok(Value::Bytes(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        // A claimed length is not trusted beyond a small preallocation.
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        let Some(first) = access.next_key::<String>()? else {
            return Ok(Value::Map(map));
        };
        if ESCAPES.contains(&first.as_str()) {
            // `$map`'s content is a plain map (BTreeMap's own serde), never itself an escape.
            let value = if first == "$map" {
                Value::Map(access.next_value::<Map>()?)
            } else {
                access.next_value::<Value>()?
            };
            if access.next_key::<de::IgnoredAny>()?.is_some() {
                return Err(de::Error::custom(format_args!(
                    "escape `{first}` must be the only member of its map"
                )));
            }
            return unescape(&first, value);
        }
        let value = access.next_value()?;
        map.insert(first, value);
        read_members(&mut map, access)?;
        Ok(Value::Map(map))
    }
}

/// Reads the rest of a map's members into `map`, refusing a name given twice.
fn read_members<'de, A: MapAccess<'de>>(map: &mut Map, mut access: A) -> Result<(), A::Error> {
    while let Some(name) = access.next_key::<String>()? {
        if map.contains_key(&name) {
            return Err(repeated(&name));
        }
        let value = access.next_value()?;
        map.insert(name, value);
    }
    Ok(())
}

/// The error for a member named twice in one map.
fn repeated<E: de::Error>(name: &str) -> E {
    E::custom(format_args!(
        "member {name:?} appears twice in one object (tabula keeps every value or none)"
    ))
}

/// The error for an integer beyond `i64`.
fn too_big<E: de::Error>(v: impl fmt::Display) -> E {
    E::custom(format_args!(
        "integer {v} is outside the 64-bit signed range, so it cannot be stored exactly"
    ))
}

/// A [`Row`](super::Row) read from outside (a JSON object on the command line, a line of an
/// export, a record of a DictDB file): a map whose member names are unique, each value read as
/// a [`Value`] (integers beyond `i64` refused). A `Row`'s own `Deserialize` (serde's for
/// `BTreeMap`) lets a repeated member overwrite the first.
///
/// ```
/// use tabula_core::StrictRow;
/// assert!(serde_json::from_str::<StrictRow>(r#"{"id": 1, "id": 2}"#).is_err());
/// assert!(serde_json::from_str::<StrictRow>(r#"{"id": 18446744073709551615}"#).is_err());
/// let row = serde_json::from_str::<StrictRow>(r#"{"id": 1}"#).unwrap().0;
/// assert_eq!(row["id"], tabula_core::Value::Int(1));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct StrictRow(pub Map);

impl<'de> Deserialize<'de> for StrictRow {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<StrictRow, D::Error> {
        struct RowVisitor;
        impl<'de> Visitor<'de> for RowVisitor {
            type Value = StrictRow;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a row: an object of column names and values")
            }
            fn visit_map<A: MapAccess<'de>>(self, access: A) -> Result<StrictRow, A::Error> {
                let mut map = Map::new();
                read_members(&mut map, access)?;
                Ok(StrictRow(map))
            }
        }
        deserializer.deserialize_map(RowVisitor)
    }
}

/// Turns an escape `{name: value}` back into the value it stands for.
fn unescape<E: de::Error>(name: &str, value: Value) -> Result<Value, E> {
    let bad = |expected: &str| {
        E::custom(format_args!(
            "`{name}` escape: expected {expected}, found {}",
            value.type_name()
        ))
    };
    match (name, &value) {
        ("$bytes", Value::Text(t)) => BASE64
            .decode(t)
            .map(Value::Bytes)
            .map_err(|e| E::custom(format_args!("`$bytes` escape: invalid base64: {e}"))),
        ("$bytes", Value::Bytes(_)) => Ok(value),
        ("$ts", Value::Text(t)) => t.parse().map(Value::Timestamp).map_err(E::custom),
        ("$ts", Value::Int(n)) => Ok(Value::Timestamp(Timestamp::from_micros(*n))),
        ("$float", Value::Text(t)) => match t.as_str() {
            "NaN" | "nan" => Ok(Value::Float(f64::NAN)),
            "inf" | "+inf" | "Infinity" | "+Infinity" => Ok(Value::Float(f64::INFINITY)),
            "-inf" | "-Infinity" => Ok(Value::Float(f64::NEG_INFINITY)),
            _ => Err(E::custom(format_args!(
                "`$float` escape: expected \"NaN\", \"inf\" or \"-inf\", found {t:?}"
            ))),
        },
        ("$float", Value::Float(_)) => Ok(value),
        ("$int", Value::Text(t)) => t
            .parse()
            .map(Value::Int)
            .map_err(|_| E::custom(format_args!("`$int` escape: {t:?} is not a 64-bit integer"))),
        ("$int", Value::Int(_)) => Ok(value),
        ("$map", Value::Map(_)) => Ok(value),
        ("$bytes" | "$ts" | "$float" | "$int" | "$map", _) => Err(bad(match name {
            "$bytes" => "base64 text",
            "$ts" => "RFC 3339 text or microseconds",
            "$float" => "\"NaN\", \"inf\" or \"-inf\"",
            "$int" => "decimal text",
            _ => "a map",
        })),
        _ => Err(E::custom(format_args!("unknown escape `{name}`"))),
    }
}

/// `Option<Value>` fields that must tell "absent" (`None`) from "present and null"
/// (`Some(Null)`); serde's own `Option` reads `null` as `None`.
pub(crate) fn some_value<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// The first integer literal in the JSON text `json` that lies outside `i64`, with its byte
/// offset. JSON parsers read such a literal as the nearest float when it also passes `u64`
/// (so `18446744073709551617` and `18446744073709551618` become one value), before any visitor
/// can refuse it; a reader of JSON from outside checks the text first.
///
/// ```
/// use tabula_core::wide_json_integer;
/// assert_eq!(wide_json_integer(br#"{"a": 1.5e30, "b": "99999999999999999999"}"#), None);
/// assert_eq!(
///     wide_json_integer(br#"[1, -99999999999999999999]"#),
///     Some((4, "-99999999999999999999"))
/// );
/// ```
#[must_use]
pub fn wide_json_integer(json: &[u8]) -> Option<(usize, &str)> {
    let mut i = 0;
    while let Some(&b) = json.get(i) {
        match b {
            b'"' => {
                // Past the string: only a quote ends it, only a backslash escapes.
                i += 1;
                while let Some(&c) = json.get(i) {
                    i += if c == b'\\' { 2 } else { 1 };
                    if c == b'"' {
                        break;
                    }
                }
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while json
                    .get(i)
                    .is_some_and(|c| matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                {
                    i += 1;
                }
                let token = json.get(start..i).unwrap_or_default();
                let integral = !token.iter().any(|c| matches!(c, b'.' | b'e' | b'E'));
                if integral && let Ok(text) = std::str::from_utf8(token) {
                    // Only a syntactically whole integer that does not fit is reported; the
                    // parser reports malformed numbers itself.
                    let digits = text.strip_prefix('-').unwrap_or(text);
                    if !digits.is_empty()
                        && digits.bytes().all(|c| c.is_ascii_digit())
                        && text.parse::<i64>().is_err()
                    {
                        return Some((start, text));
                    }
                }
            }
            _ => i += 1,
        }
    }
    None
}
