//! [`Limits`]: the configurable bounds core enforces, and the name rules.
//!
//! TableState, column and index names become file names and appear in paths (`a.b.c`), so they are
//! restricted to a portable charset. Limits apply to everything that enters the database, whether
//! from a user, a log replay or an import; exceeding one is a typed error, never a crash.

use serde::{Deserialize, Serialize};

use crate::error::{Error, NameKind};

/// Bounds on names, nesting and sizes. The defaults suit most applications; every field documents
/// its default.
///
/// ```
/// use tabula_core::Limits;
/// let limits = Limits { max_record_size: 1 << 20, ..Limits::default() };
/// assert_eq!(limits.max_name_len, 64);
/// ```
///
/// Not `#[non_exhaustive]`, so that `Limits { field: x, ..Limits::default() }` works; new limits
/// are only ever added with a default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Longest table, column or index name, in bytes. Default 64.
    pub max_name_len: usize,
    /// Deepest nesting of a row: a row of scalars is 2 deep, each list or map level adds one.
    /// Default 32.
    pub max_depth: usize,
    /// Largest row, by the estimate in [`crate::Measure`]. Default 16 MiB.
    pub max_record_size: usize,
    /// Most columns a schema may declare. Default 1024.
    pub max_columns: usize,
    /// Most indexes on one table (declared plus those implied by unique columns). Default 64.
    pub max_indexes: usize,
    /// Most ops in one transaction. Default 1,000,000.
    pub max_ops_per_transaction: usize,
    /// Deepest nesting of a filter (`and`/`or`/`not`). Default 64.
    pub max_filter_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_name_len: 64,
            max_depth: 32,
            max_record_size: 16 << 20,
            max_columns: 1024,
            max_indexes: 64,
            max_ops_per_transaction: 1_000_000,
            max_filter_depth: 64,
        }
    }
}

impl Limits {
    /// Checks a table, column or index name: 1 to `max_name_len` bytes of ASCII letters, digits,
    /// `_` and `-`, starting with a letter or `_`. This keeps names safe as file names on every
    /// platform (no separators, no `.` or `..`, no control characters) and unambiguous in paths.
    ///
    /// # Errors
    /// [`Error::InvalidName`] saying which rule failed.
    pub fn check_name(&self, kind: NameKind, name: &str) -> Result<(), Error> {
        let fail = |reason: &'static str| {
            Err(Error::InvalidName {
                kind,
                name: name
                    .chars()
                    .take(self.max_name_len.saturating_add(16))
                    .collect(),
                reason,
            })
        };
        let Some(first) = name.bytes().next() else {
            return fail("must not be empty");
        };
        if name.len() > self.max_name_len {
            return fail("is longer than the name length limit");
        }
        if !(first.is_ascii_alphabetic() || first == b'_') {
            return fail("must start with an ASCII letter or '_'");
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return fail("may contain only ASCII letters, digits, '_' and '-'");
        }
        Ok(())
    }
}
