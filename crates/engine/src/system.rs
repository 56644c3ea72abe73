//! The tables the engine keeps for itself, inside the database so that snapshots, the log,
//! recovery and time travel carry them like any other data (as SQLite keeps `sqlite_schema`):
//!
//! - `_tabula_tags` (`name` text key, `lsn` int, `at` timestamp): the tags of [`crate::Engine::tag`];
//!
//! Every name starting with `_tabula` is reserved: the caller's transactions may not touch such a
//! table ([`crate::Error::ReservedTable`]), and diffs and rollbacks leave them alone (a rollback
//! does not take back tags).

use tabula_core::{Column, ColumnType, Database, Op, Row, TableDef, Value};

/// The prefix of the engine's own tables.
pub const RESERVED_PREFIX: &str = "_tabula";
/// The table of tags.
pub const TAGS_TABLE: &str = "_tabula_tags";

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

/// The ops that write `row` into the system table `def` of `db`, creating the table first if it
/// is not there yet.
pub(crate) fn upsert(db: &Database, def: fn() -> TableDef, row: Row) -> Vec<Op> {
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
