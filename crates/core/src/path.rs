//! [`Path`]: a column name or a dotted path into nested maps (`address.city`), and how to read it
//! out of a row.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, NameKind};
use crate::limits::Limits;
use crate::row::Fields;
use crate::value::{Row, Value};

/// A column, or a path through nested maps: `"address.city"` reads the `city` field of the map in
/// column `address`. Serialized as its dotted text.
///
/// The first segment is a column name and follows the name rules; later segments are map keys
/// and may be any non-empty text without a `.`.
///
/// ```
/// use tabula_core::{Path, Value};
/// let p = Path::parse("address.city").unwrap();
/// let mut address = tabula_core::Map::new();
/// address.insert("city".into(), Value::from("Paris"));
/// let mut row = tabula_core::Row::new();
/// row.insert("address".into(), Value::Map(address));
/// assert_eq!(p.get(&row), Some(&Value::from("Paris")));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Path {
    segments: Vec<String>,
}

impl Path {
    /// A one-segment path naming a column.
    #[must_use]
    pub fn column(name: impl Into<String>) -> Self {
        Path {
            segments: vec![name.into()],
        }
    }

    /// Parses a dotted path, checking it against the default limits.
    ///
    /// # Errors
    /// [`Error::InvalidFilter`] for an empty segment, [`Error::InvalidName`] for a bad column name.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let path = Self::parse_lenient(text);
        path.validate(&Limits::default())?;
        Ok(path)
    }

    /// Splits on `.` without checking; [`Path::validate`] checks later. Used where a definition is
    /// built first and validated as a whole.
    #[must_use]
    pub fn parse_lenient(text: &str) -> Self {
        Path {
            segments: text.split('.').map(str::to_owned).collect(),
        }
    }

    /// Checks the column name and that no segment is empty.
    ///
    /// # Errors
    /// As [`Path::parse`].
    pub fn validate(&self, limits: &Limits) -> Result<(), Error> {
        limits.check_name(NameKind::Column, self.first())?;
        if self.segments.len() > limits.max_depth {
            return Err(Error::LimitExceeded {
                what: format!("depth of path {self}"),
                limit: limits.max_depth,
                actual: self.segments.len(),
            });
        }
        if self
            .segments
            .iter()
            .any(|s| s.is_empty() || s.contains('.'))
        {
            return Err(Error::InvalidFilter {
                reason: format!("path {:?} has an empty segment", self.to_string()),
            });
        }
        Ok(())
    }

    /// The column the path starts at.
    #[must_use]
    pub fn first(&self) -> &str {
        self.segments.first().map_or("", String::as_str)
    }

    /// All segments.
    #[must_use]
    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    /// Whether the path is just a column name.
    #[must_use]
    pub fn is_column(&self) -> bool {
        self.segments.len() == 1
    }

    /// The same path starting at column `first` instead.
    #[must_use]
    pub fn with_first(&self, first: &str) -> Path {
        let mut segments = self.segments.clone();
        if let Some(s) = segments.first_mut() {
            first.clone_into(s);
        }
        Path { segments }
    }

    /// The value at this path in `row`, or `None` if a field is missing or a step is not a map.
    #[must_use]
    pub fn get<'r>(&self, row: &'r Row) -> Option<&'r Value> {
        let (first, rest) = self.segments.split_first()?;
        let mut value = row.get(first)?;
        for seg in rest {
            value = value.as_map()?.get(seg)?;
        }
        Some(value)
    }

    /// The value at this path in `row`, borrowed when the row lends it (a [`Row`]) and owned
    /// when it has to be decoded (a [`crate::RowRef`]).
    #[must_use]
    pub fn lookup<'r, R: Fields + ?Sized>(&self, row: &'r R) -> Option<Cow<'r, Value>> {
        let (first, rest) = self.segments.split_first()?;
        match row.field(first)? {
            Cow::Borrowed(mut value) => {
                for seg in rest {
                    value = value.as_map()?.get(seg)?;
                }
                Some(Cow::Borrowed(value))
            }
            Cow::Owned(mut value) => {
                for seg in rest {
                    value = match value {
                        Value::Map(mut map) => map.remove(seg)?,
                        _ => return None,
                    };
                }
                Some(Cow::Owned(value))
            }
        }
    }

    /// The value at this path in `row`, `null` where there is none (as filters read it).
    #[must_use]
    pub fn lookup_or_null<'r, R: Fields + ?Sized>(&self, row: &'r R) -> Cow<'r, Value> {
        const NULL: &Value = &Value::Null;
        self.lookup(row).unwrap_or(Cow::Borrowed(NULL))
    }

    /// The value at this path, with a missing field read as `Null`.
    #[must_use]
    pub fn get_or_null<'r>(&self, row: &'r Row) -> &'r Value {
        const NULL: &Value = &Value::Null;
        self.get(row).unwrap_or(NULL)
    }
}

impl From<&str> for Path {
    fn from(text: &str) -> Self {
        Path::parse_lenient(text)
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.segments.join("."))
    }
}

impl Serialize for Path {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

/// Reads the dotted text leniently (validation happens with the definition that holds it), but
/// refuses more than 64 segments: a path deeper than any value cannot match, and each segment
/// costs an allocation, so a string of dots must not become millions of them.
impl<'de> Deserialize<'de> for Path {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text.split('.').count() > 64 {
            return Err(serde::de::Error::custom("a path has at most 64 segments"));
        }
        Ok(Path::parse_lenient(&text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error names the path as written, not Rust's `Debug` of the type (issue 25, finding 11).
    #[test]
    fn a_bad_path_is_named_as_written() {
        let err = Path::parse("a..b").unwrap_err().to_string();
        assert!(err.contains("\"a..b\""), "{err}");
        assert!(!err.contains("segments"), "{err}");
    }
}
