//! Shared fixtures for core's integration tests: the seed's university schema and a tiny
//! transaction builder that numbers LSNs.

#![allow(dead_code, reason = "each test binary uses a different part")]

use tabula_core::{
    Column, ColumnType, Lsn, Op, Row, State, TableDef, Timestamp, Transaction, Value,
};

/// Builds a row from `(field, value)` pairs.
pub fn row<const N: usize>(fields: [(&str, Value); N]) -> Row {
    fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// The students table of the seed: auto-increment id, required name, unique email, gpa with a
/// default, an index on gpa.
pub fn students() -> TableDef {
    TableDef::new("students", "id")
        .auto_increment()
        .column(Column::new("id", ColumnType::Int))
        .column(Column::new("name", ColumnType::Text).not_null())
        .column(Column::new("email", ColumnType::Text).unique())
        .column(Column::new("gpa", ColumnType::Float).default_value(0.0))
        .column(Column::new("address", ColumnType::Map))
        .index("by_gpa", "gpa")
}

/// Applies `ops` as one transaction at the database's next LSN.
pub fn commit(
    db: &mut State,
    ops: Vec<Op>,
) -> Result<Vec<tabula_core::RowChange>, tabula_core::Error> {
    let mut tx = Transaction::new(db.lsn().next(), Timestamp::EPOCH);
    tx.ops = ops;
    db.apply(&tx)
}

/// An insert op.
pub fn insert(table: &str, row: Row) -> Op {
    Op::Insert {
        table: table.into(),
        row,
    }
}

/// A database holding the students table and three students (ids 1..=3).
pub fn university() -> State {
    let mut db = State::new();
    commit(
        &mut db,
        vec![
            Op::CreateTable(students()),
            insert(
                "students",
                row([
                    ("name", "Alice".into()),
                    ("email", "alice@u.edu".into()),
                    ("gpa", 3.8.into()),
                ]),
            ),
            insert(
                "students",
                row([
                    ("name", "Bob".into()),
                    ("email", "bob@u.edu".into()),
                    ("gpa", 3.5.into()),
                ]),
            ),
            insert(
                "students",
                row([
                    ("name", "Carol".into()),
                    ("email", "carol@u.edu".into()),
                    ("gpa", 3.9.into()),
                ]),
            ),
        ],
    )
    .unwrap();
    assert_eq!(db.lsn(), Lsn(1));
    db
}
