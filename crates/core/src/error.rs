//! The one error type of `tabula-core`. Every variant names the table, column, key or value at
//! fault, so a message alone tells a user what to fix. Core reads nothing from disk, so it has no
//! corruption variants; those belong to the crates that read files.

use std::fmt;

use crate::value::Value;
use crate::{ColumnType, Lsn};

/// What kind of name failed [`crate::Limits::check_name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameKind {
    /// A table name.
    Table,
    /// A column (field) name.
    Column,
    /// An index name.
    Index,
    /// A tag's name (tags follow the rules of table names).
    Tag,
}

impl fmt::Display for NameKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameKind::Table => "table",
            NameKind::Column => "column",
            NameKind::Index => "index",
            NameKind::Tag => "tag",
        })
    }
}

/// Everything that can go wrong in core: constraint violations, unknown names, bad definitions
/// and exceeded limits. A failed [`crate::State::apply`] leaves the database unchanged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An insert used a primary key that is already present.
    #[error("table {table:?}: duplicate primary key {key}")]
    DuplicateKey {
        /// The table.
        table: String,
        /// The key that is already there.
        key: Value,
    },
    /// A write would give two rows the same value in a unique column or index.
    #[error(
        "table {table:?}: unique index {index:?} on {column:?} already has {value} (row {existing_key})"
    )]
    UniqueViolation {
        /// The table.
        table: String,
        /// The unique index.
        index: String,
        /// The indexed column or path.
        column: String,
        /// The duplicated value.
        value: Value,
        /// The primary key of the row that already holds `value` (boxed to keep `Error` small).
        existing_key: Box<Value>,
    },
    /// A value does not have its column's type.
    #[error("table {table:?}: column {column:?} expects {expected}, got {found} {value}")]
    TypeMismatch {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The declared type.
        expected: ColumnType,
        /// The type found.
        found: &'static str,
        /// The value found.
        value: Value,
    },
    /// `null` (or a missing field without default) in a column that is not nullable.
    #[error("table {table:?}: column {column:?} is not nullable")]
    NullViolation {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// A row has no primary key and the table does not auto-increment.
    #[error("table {table:?}: row has no primary key {column:?}")]
    MissingPrimaryKey {
        /// The table.
        table: String,
        /// The primary key column.
        column: String,
    },
    /// A primary key value that cannot be a key (`null`).
    #[error("table {table:?}: {key} cannot be a primary key")]
    InvalidKey {
        /// The table.
        table: String,
        /// The rejected key.
        key: Value,
    },
    /// A row of a table keyed by several columns gave a key column value that is not the list
    /// of its parts' values (the table computes it; leave it out).
    #[error(
        "table {table:?}: key {given} does not match the row's values of {} ({computed})",
        parts.join(", ")
    )]
    KeyMismatch {
        /// The table.
        table: String,
        /// The key columns.
        parts: Vec<String>,
        /// The key the row gave.
        given: Value,
        /// The key its parts make.
        computed: Value,
    },
    /// An update tried to change a row's primary key.
    #[error("table {table:?}: update of row {key} would change its primary key to {new_key}")]
    PrimaryKeyChange {
        /// The table.
        table: String,
        /// The row's key.
        key: Value,
        /// The key the update tried to set.
        new_key: Value,
    },
    /// No table of that name.
    #[error("no table {table:?}")]
    UnknownTable {
        /// The name asked for.
        table: String,
    },
    /// A table of that name already exists.
    #[error("table {table:?} already exists")]
    TableExists {
        /// The name.
        table: String,
    },
    /// A typed table has no column of that name.
    #[error("table {table:?} has no column {column:?}")]
    UnknownColumn {
        /// The table.
        table: String,
        /// The name asked for.
        column: String,
    },
    /// No index of that name on the table.
    #[error("table {table:?} has no index {index:?}")]
    UnknownIndex {
        /// The table.
        table: String,
        /// The name asked for.
        index: String,
    },
    /// An index of that name already exists on the table.
    #[error("table {table:?} already has an index {index:?}")]
    IndexExists {
        /// The table.
        table: String,
        /// The name.
        index: String,
    },
    /// An update or delete named a key that is not in the table.
    #[error("table {table:?}: no row with primary key {key}")]
    KeyNotFound {
        /// The table.
        table: String,
        /// The missing key.
        key: Value,
    },
    /// A name breaks the name rules of [`crate::Limits::check_name`].
    #[error("invalid {kind} name {name:?}: {reason}")]
    InvalidName {
        /// What the name is for.
        kind: NameKind,
        /// The name (cut short if very long).
        name: String,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// A table definition, column or schema change that does not make sense.
    #[error("table {table:?}: invalid definition: {reason}")]
    InvalidDefinition {
        /// The table.
        table: String,
        /// What is wrong.
        reason: String,
    },
    /// A filter that cannot be evaluated (too deep, or a malformed path).
    #[error("invalid filter: {reason}")]
    InvalidFilter {
        /// What is wrong.
        reason: String,
    },
    /// A configured limit was exceeded.
    #[error("{what} is {actual}, over the limit of {limit}")]
    LimitExceeded {
        /// What was measured, with its table and column where known.
        what: String,
        /// The limit.
        limit: usize,
        /// The measured value (for depth limits: the depth at which measuring stopped).
        actual: usize,
    },
    /// Transactions must be applied in increasing LSN order.
    #[error("transaction LSN {got} is not after the database's LSN {last}")]
    LsnNotIncreasing {
        /// The database's LSN.
        last: Lsn,
        /// The transaction's LSN.
        got: Lsn,
    },
    /// Auto-increment ran out of `i64` keys.
    #[error("table {table:?}: auto-increment key space exhausted")]
    KeySpaceExhausted {
        /// The table.
        table: String,
    },
}
