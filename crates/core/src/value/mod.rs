//! `Value`: the one dynamic type every cell, key, filter operand and default is made of.
//!
//! This module owns the variants and their constructors and accessors. How values order and
//! compare lives in [`ord`], the timestamp type in [`time`], and the iterative size/depth walk used
//! to enforce limits in [`measure`]; serde types to and from values ([`to_value`],
//! [`from_value`]) in `convert`. Encoding to bytes belongs to `tabula-codec`, not here.

pub(crate) mod convert;
mod measure;
mod ord;
mod serde_repr;
pub use serde_repr::{StrictRow, wide_json_integer};
mod time;

use std::collections::BTreeMap;
use std::fmt;

pub(crate) use convert::unexpected;
pub use convert::{ConvertError, from_map_ref, from_value, to_value};
pub use measure::Measure;
pub use ord::TypeClass;
pub(crate) use serde_repr::some_value;
pub use time::{ParseTimestampError, Timestamp};

/// A map of field names to values: a row, or a `Value::Map`.
///
/// `BTreeMap` rather than a hash map so that iteration, equality and encoding are deterministic.
pub type Map = BTreeMap<String, Value>;

/// A row: field names to values. The primary key is one of the fields.
pub type Row = Map;

/// A dynamically typed value.
///
/// # Ordering and equality
///
/// Values have one total order that indexes, `order by` and primary keys rely on. Values of
/// different [`TypeClass`]es order by class:
///
/// `Null < Bool < Number < Timestamp < Text < Bytes < List < Map`
///
/// `Int` and `Float` are one class, *Number*, and compare by exact numeric value, as SQLite does:
/// `Int(1) == Float(1.0)`, `Int(i64::MAX) < Float(2f64.powi(63))`, `-0.0 == 0.0`. `NaN` is one
/// value, equal to itself and greater than every other number (so `+inf < NaN`). Text compares by
/// bytes (UTF-8 code point order), bytes lexicographically, lists and maps element by element.
/// [`Hash`] agrees with this equality. Because `Int(1)` and `Float(1.0)` are equal, they are the
/// same key in a table or an index; the representation stored is the one written.
///
/// ```
/// use tabula_core::Value;
/// assert_eq!(Value::Int(1), Value::Float(1.0));
/// assert!(Value::Null < Value::Bool(false));
/// assert!(Value::Float(f64::INFINITY) < Value::Float(f64::NAN));
/// assert!(Value::Int(9) < Value::from("10")); // numbers sort before text
/// ```
///
/// # Serde
///
/// Natural in every self-describing format, with `$`-tagged escapes for what a format cannot
/// carry (bytes, timestamps and non-finite floats in JSON, for example):
///
/// ```
/// use tabula_core::{Timestamp, Value};
/// let v = Value::List(vec![1.into(), 2.5.into(), "x".into(), Value::Bytes(vec![1, 2])]);
/// assert_eq!(serde_json::to_string(&v).unwrap(), r#"[1,2.5,"x",{"$bytes":"AQI="}]"#);
/// let t = Value::Timestamp(Timestamp::from_micros(0));
/// assert_eq!(serde_json::to_string(&t).unwrap(), r#"{"$ts":"1970-01-01T00:00:00Z"}"#);
/// ```
#[derive(Debug, Clone, Default)]
pub enum Value {
    /// The absence of a value. A missing field reads as `Null`.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A signed 64-bit integer.
    Int(i64),
    /// A 64-bit float; any bit pattern, including `NaN` and infinities.
    Float(f64),
    /// UTF-8 text.
    Text(String),
    /// Raw bytes.
    Bytes(Vec<u8>),
    /// A point in time, UTC, with microsecond precision.
    Timestamp(Timestamp),
    /// An ordered list of values.
    List(Vec<Value>),
    /// Named fields, ordered by name.
    Map(Map),
}

impl Value {
    /// The class this value orders in; see the type docs.
    #[must_use]
    pub fn class(&self) -> TypeClass {
        match self {
            Value::Null => TypeClass::Null,
            Value::Bool(_) => TypeClass::Bool,
            Value::Int(_) | Value::Float(_) => TypeClass::Number,
            Value::Timestamp(_) => TypeClass::Timestamp,
            Value::Text(_) => TypeClass::Text,
            Value::Bytes(_) => TypeClass::Bytes,
            Value::List(_) => TypeClass::List,
            Value::Map(_) => TypeClass::Map,
        }
    }

    /// The name of this value's variant, for error messages: `"int"`, `"text"`, ...
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Text(_) => "text",
            Value::Bytes(_) => "bytes",
            Value::Timestamp(_) => "timestamp",
            Value::List(_) => "list",
            Value::Map(_) => "map",
        }
    }

    /// Whether this is `Null`.
    #[must_use]
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The integer, if this is an `Int`.
    #[must_use]
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The integer this value equals, if any: an `Int`, or a `Float` holding a whole number in
    /// `i64` range (`Float(2.0)` is the same key as `Int(2)`).
    #[must_use]
    pub fn as_integral(&self) -> Option<i64> {
        match *self {
            Value::Int(i) => Some(i),
            Value::Float(f) => ord::integral(f),
            _ => None,
        }
    }

    /// The number as a float, if this is an `Int` or a `Float`.
    #[must_use]
    pub fn as_float(&self) -> Option<f64> {
        match self {
            #[expect(
                clippy::cast_precision_loss,
                reason = "a lossy view is what is asked for"
            )]
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The text, if this is `Text`.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, if this is a `Bool`.
    #[must_use]
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The map, if this is a `Map`.
    #[must_use]
    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// A short description for error messages: scalars as [`Display`](fmt::Display) writes them
    /// (cut at 64 characters), containers by kind and length, so that a huge or deep value never
    /// ends up whole in a message.
    #[must_use]
    pub fn brief(&self) -> String {
        match self {
            Value::List(l) => format!("<list of {}>", l.len()),
            Value::Map(m) => format!("<map of {}>", m.len()),
            scalar => {
                let text = scalar.to_string();
                match text.char_indices().nth(64) {
                    Some((cut, _)) => format!("{}...", &text[..cut]),
                    None => text,
                }
            }
        }
    }

    /// The list, if this is a `List`.
    #[must_use]
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }
}

macro_rules! from_impl {
    ($($t:ty => |$v:ident| $e:expr),* $(,)?) => {
        $(impl From<$t> for Value {
            fn from($v: $t) -> Self {
                $e
            }
        })*
    };
}

from_impl! {
    bool => |v| Value::Bool(v),
    i32 => |v| Value::Int(i64::from(v)),
    i64 => |v| Value::Int(v),
    u32 => |v| Value::Int(i64::from(v)),
    f64 => |v| Value::Float(v),
    f32 => |v| Value::Float(f64::from(v)),
    &str => |v| Value::Text(v.to_owned()),
    String => |v| Value::Text(v),
    Vec<u8> => |v| Value::Bytes(v),
    Timestamp => |v| Value::Timestamp(v),
    Vec<Value> => |v| Value::List(v),
    Map => |v| Value::Map(v),
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// Writes a compact, JSON-like form for messages and tables: text is quoted, bytes are hex
/// (`x'00ff'`), timestamps are RFC 3339, floats always show as floats (`1.0`, `1e300`, `NaN`).
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            // `Debug` always marks a float as one (`1.0`, `1e300`, `NaN`, `inf`), so it never
            // reads as an int and never prints hundreds of digits.
            Value::Float(x) => write!(f, "{x:?}"),
            Value::Text(s) => write!(f, "{s:?}"),
            Value::Bytes(b) => {
                f.write_str("x'")?;
                for byte in b {
                    write!(f, "{byte:02x}")?;
                }
                f.write_str("'")
            }
            Value::Timestamp(t) => write!(f, "{t}"),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Value::Map(map) => {
                f.write_str("{")?;
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k:?}: {v}")?;
                }
                f.write_str("}")
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod test;
