//! The tables the engine keeps for itself, inside the database so that snapshots, the log,
//! recovery and time travel carry them like any other data (as SQLite keeps `sqlite_schema`):
//!
//! - `_tabula_tags` (`name` text key, `lsn` int, `at` timestamp): the tags of [`crate::Engine::tag`];
//! - `_tabula_meta` (`key` text key, `value`): the schema version of [`crate::Engine::migrate`];
//! - `_tabula_ttl` (`table` text key, `column` text, `after` int µs): the time-to-live rules of
//!   [`crate::Engine::set_ttl`].
//!
//! Every name starting with `_tabula` is reserved: the caller's transactions may not touch such a
//! table ([`crate::Error::ReservedTable`]), and diffs and rollbacks leave them alone (a rollback
//! does not take back tags).

use tabula_core::{Column, ColumnType, Op, Row, State, TableDef, Value};

/// The prefix of the engine's own tables.
pub const RESERVED_PREFIX: &str = "_tabula";
/// The table of tags.
pub const TAGS_TABLE: &str = "_tabula_tags";

/// The table of engine metadata (the schema version).
pub const META_TABLE: &str = "_tabula_meta";

/// The table of time-to-live rules.
pub const TTL_TABLE: &str = "_tabula_ttl";

/// Whether `table` is the engine's.
#[must_use]
pub fn is_reserved(table: &str) -> bool {
    table.starts_with(RESERVED_PREFIX)
}

fn tags_def() -> TableDef {
    TableDef::new(TAGS_TABLE, "name")
        .column(Column::new("name", ColumnType::Text).not_null())
        .column(Column::new("lsn", ColumnType::Int).not_null())
        .column(Column::new("at", ColumnType::Timestamp).not_null())
}

fn meta_def() -> TableDef {
    TableDef::new(META_TABLE, "key")
        .column(Column::new("key", ColumnType::Text).not_null())
        .column(Column::new("value", ColumnType::Any))
}

fn ttl_def() -> TableDef {
    TableDef::new(TTL_TABLE, "table")
        .column(Column::new("table", ColumnType::Text).not_null())
        .column(Column::new("column", ColumnType::Text).not_null())
        .column(Column::new("after", ColumnType::Int).not_null())
}

/// The ops that write `row` into the system table `def` of `db`, creating the table first if it
/// is not there yet.
pub(crate) fn upsert(db: &State, def: fn() -> TableDef, row: Row) -> Vec<Op> {
    let def = def();
    let table = def.name.clone();
    let mut ops = Vec::with_capacity(2);
    if db.table(&table).is_none() {
        ops.push(Op::CreateTable(def));
    }
    ops.push(Op::Upsert { table, row });
    ops
}

pub(crate) fn tag_row(name: &str, lsn: u64, at: tabula_core::Timestamp) -> Row {
    let lsn = i64::try_from(lsn).unwrap_or(i64::MAX);
    Row::from([
        ("name".to_owned(), Value::Text(name.to_owned())),
        ("lsn".to_owned(), Value::Int(lsn)),
        ("at".to_owned(), Value::Timestamp(at)),
    ])
}

pub(crate) fn tags() -> fn() -> TableDef {
    tags_def
}

pub(crate) fn ttl() -> fn() -> TableDef {
    ttl_def
}

pub(crate) fn meta() -> fn() -> TableDef {
    meta_def
}

/// A value of the metadata table.
pub(crate) fn meta_value(db: &State, key: &str) -> Option<Value> {
    db.get(META_TABLE, &Value::Text(key.to_owned()))
        .ok()
        .flatten()
        .and_then(|row| row.get("value"))
}

pub(crate) fn meta_row(key: &str, value: Value) -> Row {
    Row::from([
        ("key".to_owned(), Value::Text(key.to_owned())),
        ("value".to_owned(), value),
    ])
}
