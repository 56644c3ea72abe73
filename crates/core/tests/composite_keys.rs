//! Keys of several columns (`TableDef::key_parts`, SQL's `PRIMARY KEY (a, b)`): the table
//! computes the key column from the parts on every write, keys order part by part, a key
//! written by hand must agree, parts cannot change in an update nor be dropped or renamed, and
//! definitions that cannot work are refused.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

mod common;

use common::{commit, insert, row};
use tabula_core::{
    Column, ColumnType, Error, Filter, Op, Query, SchemaChange, State, TableDef, Value,
};

fn lines() -> TableDef {
    TableDef::new("lines", "key")
        .column(Column::new("key", ColumnType::List))
        .column(Column::new("order", ColumnType::Int).not_null())
        .column(Column::new("line", ColumnType::Int).not_null())
        .column(Column::new("qty", ColumnType::Int))
        .key_parts(["order", "line"])
}

fn key(order: i64, line: i64) -> Value {
    Value::List(vec![Value::Int(order), Value::Int(line)])
}

fn line(order: i64, line: i64, qty: i64) -> Op {
    insert(
        "lines",
        row([
            ("order", Value::Int(order)),
            ("line", Value::Int(line)),
            ("qty", Value::Int(qty)),
        ]),
    )
}

fn db() -> State {
    let mut db = State::new();
    commit(
        &mut db,
        vec![
            Op::CreateTable(lines()),
            line(7, 2, 1),
            line(7, 1, 3),
            line(10, 1, 5),
            line(8, 1, 2),
        ],
    )
    .unwrap();
    db
}

#[test]
fn the_key_is_computed_from_the_parts_and_orders_part_by_part() {
    let db = db();
    let found = db.get("lines", &key(7, 1)).unwrap().unwrap();
    assert_eq!(found.get("qty"), Some(Value::Int(3)));
    assert_eq!(found.get("key"), Some(key(7, 1)));
    // A key given with a float part (by value the same) is conformed to the part's type.
    let def = db.table("lines").unwrap().def();
    assert_eq!(
        def.conform_key(Value::List(vec![Value::Float(7.0), Value::Int(1)]))
            .unwrap(),
        key(7, 1)
    );
    let keys: Vec<Value> = db
        .query("lines", &Query::new().order_by_asc("key"))
        .unwrap()
        .rows
        .iter()
        .map(|r| r.get("key").unwrap())
        .collect();
    assert_eq!(keys, [key(7, 1), key(7, 2), key(8, 1), key(10, 1)]);
    // Every line of order 7: a range over the key.
    let seven = db
        .query(
            "lines",
            &Query::new().filter(Filter::and(
                Filter::ge("key", key(7, i64::MIN)),
                Filter::le("key", key(7, i64::MAX)),
            )),
        )
        .unwrap();
    assert_eq!(seven.rows.len(), 2);
}

#[test]
fn writes_that_disagree_with_the_parts_are_refused_and_change_nothing() {
    let mut db = db();
    let before = db.clone();
    let mut fails = |ops: Vec<Op>| {
        let error = commit(&mut db, ops).unwrap_err();
        assert_eq!(db, before, "{error}");
        error
    };
    // The same parts again.
    assert!(matches!(
        fails(vec![line(7, 1, 9)]),
        Error::DuplicateKey { .. }
    ));
    // A key column written by hand that is not the parts'.
    let mut lying = row([
        ("order", Value::Int(9)),
        ("line", Value::Int(1)),
        ("key", key(9, 2)),
    ]);
    let mismatch = fails(vec![insert("lines", lying.clone())]);
    assert!(matches!(mismatch, Error::KeyMismatch { .. }), "{mismatch}");
    assert!(mismatch.to_string().contains("order, line"), "{mismatch}");
    // A missing part.
    lying.remove("line");
    lying.remove("key");
    match fails(vec![insert("lines", lying)]) {
        Error::NullViolation { column, .. } | Error::MissingPrimaryKey { column, .. } => {
            assert_eq!(column, "line");
        }
        other => panic!("{other}"),
    }
    // An update that changes a part would change the key.
    assert!(matches!(
        fails(vec![Op::Update {
            table: "lines".into(),
            key: key(7, 1),
            set: row([("line", Value::Int(5))]),
        }]),
        Error::PrimaryKeyChange { .. }
    ));
    // Parts cannot be dropped or renamed.
    for change in [
        SchemaChange::DropColumn("order".into()),
        SchemaChange::RenameColumn {
            from: "line".into(),
            to: "position".into(),
        },
    ] {
        assert!(matches!(
            fails(vec![Op::AlterTable {
                table: "lines".into(),
                change,
            }]),
            Error::InvalidDefinition { .. }
        ));
    }
}

#[test]
fn a_key_written_right_by_hand_and_other_writes_are_accepted() {
    let mut db = db();
    commit(
        &mut db,
        vec![
            insert(
                "lines",
                row([
                    ("order", Value::Int(9)),
                    ("line", Value::Int(1)),
                    ("key", key(9, 1)),
                ]),
            ),
            Op::Update {
                table: "lines".into(),
                key: key(7, 1),
                set: row([("qty", Value::Int(4))]),
            },
            Op::Upsert {
                table: "lines".into(),
                row: row([
                    ("order", Value::Int(8)),
                    ("line", Value::Int(1)),
                    ("qty", Value::Int(6)),
                ]),
            },
            Op::Delete {
                table: "lines".into(),
                key: key(10, 1),
            },
        ],
    )
    .unwrap();
    let qty = |k: Value| db.get("lines", &k).unwrap().map(|r| r.get("qty").unwrap());
    assert_eq!(qty(key(9, 1)), Some(Value::Null));
    assert_eq!(qty(key(7, 1)), Some(Value::Int(4)));
    assert_eq!(qty(key(8, 1)), Some(Value::Int(6)));
    assert_eq!(qty(key(10, 1)), None);
}

#[test]
fn definitions_that_cannot_work_are_refused() {
    let refused = |def: TableDef| {
        let mut db = State::new();
        let error = commit(&mut db, vec![Op::CreateTable(def)]).unwrap_err();
        assert!(matches!(error, Error::InvalidDefinition { .. }), "{error}");
    };
    refused(lines().key_parts(["order", "nope"]));
    refused(lines().key_parts(["order", "order"]));
    refused(lines().key_parts(["key", "order"]));
    refused(lines().auto_increment());
    refused(TableDef::new("t", "key").key_parts(["a", "b"]));
    let int_key = TableDef::new("t", "key")
        .column(Column::new("key", ColumnType::Int))
        .column(Column::new("a", ColumnType::Int))
        .key_parts(["a"]);
    refused(int_key);
}

/// `SchemaChange::AlterColumn`: a column's definition replaced in place, every row checked;
/// never a key column or a part of one.
#[test]
fn altering_a_column_checks_every_row_and_spares_the_key() {
    let mut db = db();
    let alter = |column: Column| Op::AlterTable {
        table: "lines".into(),
        change: SchemaChange::AlterColumn(column),
    };
    let before = db.clone();
    for (column, refused) in [
        (Column::new("key", ColumnType::Any), "key column"),
        (Column::new("line", ColumnType::Any), "key part"),
        (Column::new("qty", ColumnType::Text), "ints are not text"),
        (Column::new("nope", ColumnType::Int), "no such column"),
    ] {
        let error = commit(&mut db, vec![alter(column)]).unwrap_err();
        assert_eq!(db, before, "{refused}: {error}");
    }
    commit(
        &mut db,
        vec![alter(Column::new("qty", ColumnType::Float).not_null())],
    )
    .unwrap();
    let qty = db.get("lines", &key(7, 1)).unwrap().unwrap().get("qty");
    assert_eq!(qty, Some(Value::Float(3.0)));
    let table = db.table("lines").unwrap();
    assert!(
        !table
            .def()
            .schema
            .as_ref()
            .unwrap()
            .column("qty")
            .unwrap()
            .nullable
    );
    // Not null now: a row without one is refused.
    assert!(
        commit(
            &mut db,
            vec![
                line(11, 1, 1),
                insert(
                    "lines",
                    row([("order", Value::Int(12)), ("line", Value::Int(1))])
                )
            ]
        )
        .is_err()
    );
}

/// A part of `any` type updated to an equal value of another type (`1.0` for `1`) keeps the
/// key as stored, as a single key column does.
#[test]
fn an_equal_part_in_another_form_keeps_the_stored_key() {
    let mut db = State::new();
    let def = TableDef::new("t", "key")
        .column(Column::new("key", ColumnType::List))
        .column(Column::new("a", ColumnType::Any).not_null())
        .column(Column::new("b", ColumnType::Int).not_null())
        .key_parts(["a", "b"]);
    commit(
        &mut db,
        vec![
            Op::CreateTable(def),
            insert("t", row([("a", Value::Int(1)), ("b", Value::Int(2))])),
            Op::Update {
                table: "t".into(),
                key: key(1, 2),
                set: row([("a", Value::Float(1.0))]),
            },
        ],
    )
    .unwrap();
    let stored = db.get("t", &key(1, 2)).unwrap().unwrap();
    assert_eq!(stored.get("key"), Some(key(1, 2)));
    assert!(
        matches!(stored.get("key"), Some(Value::List(parts)) if parts[0] == Value::Int(1) && matches!(parts[0], Value::Int(_)))
    );
    assert_eq!(stored.get("a"), Some(Value::Float(1.0)));
}
