//! [`Op`], [`Transaction`], [`Cause`] and [`Lsn`]: every change as a serializable value.
//!
//! The write-ahead log stores transactions; recovery, time travel and the change feed replay
//! them through [`crate::State::apply`]. Ops carry no clocks or random numbers, so replaying
//! the same transactions from the same state gives the same state.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::schema::{Column, IndexDef, TableDef};
use crate::value::{Row, Timestamp, Value};

/// A log sequence number: the position of a committed transaction in the database's history.
/// Strictly increasing; `Lsn::ZERO` is the empty database before the first commit.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Lsn(pub u64);

impl Lsn {
    /// Before the first transaction.
    pub const ZERO: Lsn = Lsn(0);

    /// The next LSN.
    #[must_use]
    pub fn next(self) -> Lsn {
        Lsn(self.0.saturating_add(1))
    }
}

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A change to a table's columns. The table is rewritten and every row checked again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SchemaChange {
    /// Adds a column; existing rows get its default, or `null` (then it must be nullable).
    AddColumn(Column),
    /// Removes a column and its value from every row, and any index on it. Not the primary key.
    DropColumn(String),
    /// Renames a column in the schema, every row and every index path. Not the primary key.
    RenameColumn {
        /// The current name.
        from: String,
        /// The new name.
        to: String,
    },
    /// Replaces the definition of the column of the same name (its type, nullability,
    /// uniqueness, default): SQL's `ALTER COLUMN`. Every row is checked against it, so making a
    /// column `NOT NULL` fails while a row has no value, and a new type must hold every value
    /// (values convert as on a write: an `int` into a `float` column). Not a key column.
    AlterColumn(Column),
}

/// One change to the database.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Op {
    /// Creates a table.
    CreateTable(TableDef),
    /// Drops a table and its rows.
    DropTable {
        /// The table.
        table: String,
    },
    /// Creates an index and fills it.
    CreateIndex {
        /// The table.
        table: String,
        /// The index.
        index: IndexDef,
    },
    /// Drops a declared index.
    DropIndex {
        /// The table.
        table: String,
        /// The index name.
        index: String,
    },
    /// Inserts a row; its key must be new.
    Insert {
        /// The table.
        table: String,
        /// The row.
        row: Row,
    },
    /// Inserts a row or replaces the whole row with the same key.
    Upsert {
        /// The table.
        table: String,
        /// The row.
        row: Row,
    },
    /// Sets some fields of an existing row.
    Update {
        /// The table.
        table: String,
        /// The row's primary key.
        key: Value,
        /// The fields to set.
        set: Row,
    },
    /// Deletes an existing row.
    Delete {
        /// The table.
        table: String,
        /// The row's primary key.
        key: Value,
    },
    /// Changes a table's columns. Adding needs a typed table; dropping and renaming also work on
    /// schemaless tables, where they change the field in every row.
    AlterTable {
        /// The table.
        table: String,
        /// The change.
        change: SchemaChange,
    },
}

impl Op {
    /// The table the op touches.
    #[must_use]
    pub fn table(&self) -> &str {
        match self {
            Op::CreateTable(def) => &def.name,
            Op::DropTable { table }
            | Op::CreateIndex { table, .. }
            | Op::DropIndex { table, .. }
            | Op::Insert { table, .. }
            | Op::Upsert { table, .. }
            | Op::Update { table, .. }
            | Op::Delete { table, .. }
            | Op::AlterTable { table, .. } => table,
        }
    }
}

/// Why a change was made, as DeltaTraceDB records it: who, what, where, why, and anything else.
///
/// ```
/// use tabula_core::Cause;
/// let cause = Cause::new().who("registrar").why("fall enrollment");
/// assert_eq!(cause.who.as_deref(), Some("registrar"));
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Cause {
    /// The actor: a user, service or job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub who: Option<String>,
    /// What was done, in the actor's terms ("enroll student").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub what: Option<String>,
    /// Where it came from: a host, endpoint or screen.
    #[serde(rename = "where", default, skip_serializing_if = "Option::is_none")]
    pub where_: Option<String>,
    /// The reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    /// Free-form extra fields.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub context: BTreeMap<String, Value>,
}

impl Cause {
    /// An empty cause.
    #[must_use]
    pub fn new() -> Self {
        Cause::default()
    }

    /// Sets who.
    #[must_use]
    pub fn who(mut self, who: impl Into<String>) -> Self {
        self.who = Some(who.into());
        self
    }

    /// Sets what.
    #[must_use]
    pub fn what(mut self, what: impl Into<String>) -> Self {
        self.what = Some(what.into());
        self
    }

    /// Sets where.
    #[must_use]
    pub fn place(mut self, place: impl Into<String>) -> Self {
        self.where_ = Some(place.into());
        self
    }

    /// Sets why.
    #[must_use]
    pub fn why(mut self, why: impl Into<String>) -> Self {
        self.why = Some(why.into());
        self
    }

    /// Adds a context field.
    #[must_use]
    pub fn context(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.context.insert(key.into(), value.into());
        self
    }
}

/// A committed unit of change: ops applied all-or-nothing, with the commit's metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transaction {
    /// Its position in the log.
    pub lsn: Lsn,
    /// The wall-clock time of the commit, taken once by whoever commits (core has no clock).
    pub timestamp: Timestamp,
    /// Why, if the committer said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<Cause>,
    /// The changes, in order.
    pub ops: Vec<Op>,
}

impl Transaction {
    /// A transaction at `lsn` and `timestamp` with no ops yet.
    #[must_use]
    pub fn new(lsn: Lsn, timestamp: Timestamp) -> Self {
        Transaction {
            lsn,
            timestamp,
            cause: None,
            ops: Vec::new(),
        }
    }

    /// Sets the cause.
    #[must_use]
    pub fn with_cause(mut self, cause: Cause) -> Self {
        self.cause = Some(cause);
        self
    }

    /// Adds an op.
    #[must_use]
    pub fn with(mut self, op: Op) -> Self {
        self.ops.push(op);
        self
    }
}
