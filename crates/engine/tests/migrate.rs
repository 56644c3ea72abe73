//! Migrations: applied in order, once, as logged transactions that survive reopen; a failing one
//! commits nothing and leaves the database at the previous version.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use tabula_core::{Column, ColumnType, Op, Row, TableDef, Value};
use tabula_engine::{Engine, Error, LogFilter, Migration, Options};

fn migrations() -> Vec<Migration> {
    vec![
        Migration::new(1, "add active").add_column(
            "users",
            Column::new("active", ColumnType::Bool).default_value(true),
        ),
        Migration::new(2, "rename name").rename_column("users", "name", "full_name"),
        Migration::new(3, "age becomes an int").change_type("users", "age", ColumnType::Int, |v| {
            match v {
                Value::Text(s) => s.parse::<i64>().map(Value::Int).map_err(|e| e.to_string()),
                other => Ok(other.clone()),
            }
        }),
    ]
}

fn user(id: i64, name: &str, age: &str) -> Op {
    Op::Insert {
        table: "users".into(),
        row: Row::from([
            ("id".to_owned(), Value::Int(id)),
            ("name".to_owned(), Value::from(name)),
            ("age".to_owned(), Value::from(age)),
        ]),
    }
}

#[test]
fn migrations_apply_in_order_once_and_a_failing_one_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _) = Engine::open(dir.path(), Options::new()).unwrap();
    let def = TableDef::new("users", "id")
        .column(Column::new("id", ColumnType::Int))
        .column(Column::new("name", ColumnType::Text))
        .column(Column::new("age", ColumnType::Text))
        .index("by_age", "age");
    engine
        .commit(vec![
            Op::CreateTable(def),
            user(1, "Ada", "36"),
            user(2, "Alan", "41"),
        ])
        .unwrap();
    assert_eq!(engine.schema_version(), 0);

    // Version 4 fails on Alan's row: nothing of it is committed.
    let mut all = migrations();
    all.push(
        Migration::new(4, "drop age")
            .drop_column("users", "age")
            .custom(|db| {
                if db.table("users").is_some_and(|t| t.len() > 1) {
                    Err("too many users to drop ages".into())
                } else {
                    Ok(Vec::new())
                }
            }),
    );
    let failed = engine.migrate(&all);
    match failed {
        Err(Error::Migration {
            version: 4,
            current: 3,
            error: ref source,
            ..
        }) => assert!(source.to_string().contains("too many users")),
        other => panic!("{other:?}"),
    }
    assert_eq!(engine.schema_version(), 3);
    let check = |engine: &Engine| {
        let db = engine.read();
        let users = db.table("users").unwrap();
        let ada = users.get(&Value::Int(1)).unwrap();
        assert_eq!(ada.get("active").unwrap(), Value::Bool(true));
        assert_eq!(ada.get("full_name").unwrap(), Value::from("Ada"));
        assert_eq!(ada.get("age").unwrap(), Value::Int(36));
        assert!(!ada.contains_key("name"));
        let schema = users.def().schema.as_ref().unwrap();
        assert_eq!(schema.column("age").unwrap().ty, ColumnType::Int);
        assert_eq!(users.def().indexes.len(), 1, "the index on age is kept");
    };
    check(&engine);
    let lsn = engine.read().lsn();
    let log: Vec<_> = engine
        .log(LogFilter::new().after(tabula_core::Lsn(1)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(log.len(), 3, "one transaction per migration");
    assert!(
        log.iter()
            .all(|tx| tx.cause.as_ref().unwrap().what.as_deref() == Some("migration"))
    );
    drop(engine);

    // Registered at open, a failing migration keeps the database closed at the version before.
    assert!(matches!(
        Engine::open_migrated(dir.path(), Options::new(), &all),
        Err(Error::Migration { version: 4, .. })
    ));

    // Reopened: the version and the data stay; migrations already applied do not run again.
    let (engine, _) = Engine::open_migrated(dir.path(), Options::new(), &migrations()).unwrap();
    assert_eq!(engine.schema_version(), 3);
    check(&engine);
    assert_eq!(engine.migrate(&migrations()).unwrap(), 3);
    assert_eq!(engine.read().lsn(), lsn);
    // A conversion error also fails cleanly, naming the value.
    engine
        .commit(vec![Op::Insert {
            table: "users".into(),
            row: Row::from([
                ("id".to_owned(), Value::Int(3)),
                ("age".to_owned(), Value::Int(5)),
            ]),
        }])
        .unwrap();
    let bad = Migration::new(5, "age back to text, badly").change_type(
        "users",
        "age",
        ColumnType::Text,
        |v| Err(format!("no text for {v:?}")),
    );
    let error = engine.migrate(&[bad]).unwrap_err();
    assert!(error.to_string().contains("users.age"), "{error}");
    assert_eq!(engine.schema_version(), 3);
    // Versions out of order are refused before anything runs.
    let unordered = [Migration::new(7, "b"), Migration::new(6, "a")];
    assert!(matches!(
        engine.migrate(&unordered),
        Err(Error::MigrationOrder { versions: [7, 6] })
    ));
}

/// Issue 26: nullability changes by migration, as SQL's `SET NOT NULL` / `DROP NOT NULL`: null
/// and missing values get the fill value first, or (no fill) the step fails naming a row and
/// commits nothing; a column that does not exist is an error, not a silent no-op.
#[test]
fn nullability_changes_fill_or_refuse_and_name_the_row() {
    let engine = Engine::in_memory(Options::new());
    let def = TableDef::new("t", "id")
        .column(Column::new("id", ColumnType::Int))
        .column(Column::new("points", ColumnType::Int));
    let row = |id: i64, points: Option<i64>| {
        let mut row = Row::from([("id".to_owned(), Value::Int(id))]);
        if let Some(points) = points {
            row.insert("points".to_owned(), Value::Int(points));
        }
        Op::Insert {
            table: "t".into(),
            row,
        }
    };
    engine
        .commit(vec![
            Op::CreateTable(def),
            row(1, Some(5)),
            row(2, None),
            row(3, None),
        ])
        .unwrap();
    let points = |engine: &Engine, id: i64| {
        engine
            .read()
            .get("t", &Value::Int(id))
            .unwrap()
            .unwrap()
            .get("points")
    };
    let nullable = |engine: &Engine| {
        engine
            .read()
            .table("t")
            .unwrap()
            .def()
            .schema
            .as_ref()
            .unwrap()
            .column("points")
            .unwrap()
            .nullable
    };

    let refused = engine
        .migrate(&[Migration::new(1, "strict").set_not_null("t", "points", Value::Null)])
        .unwrap_err();
    assert!(refused.to_string().contains("key 2"), "{refused}");
    assert!(nullable(&engine));
    assert_eq!(engine.schema_version(), 0);

    let unknown = engine
        .migrate(&[Migration::new(1, "typo").set_not_null("t", "pionts", 0)])
        .unwrap_err();
    assert!(unknown.to_string().contains("pionts"), "{unknown}");

    engine
        .migrate(&[Migration::new(1, "points required").set_not_null("t", "points", 0)])
        .unwrap();
    assert!(!nullable(&engine));
    assert_eq!(points(&engine, 1), Some(Value::Int(5)));
    assert_eq!(points(&engine, 2), Some(Value::Int(0)));
    // Now a null is refused.
    assert!(engine.commit(vec![row(4, None)]).is_err());

    engine
        .migrate(&[Migration::new(2, "points optional").set_nullable("t", "points")])
        .unwrap();
    assert!(nullable(&engine));
    engine.commit(vec![row(4, None)]).unwrap();
    assert_eq!(points(&engine, 4), Some(Value::Null));
}

/// Review of issue 26: column changes keep the rows in place, so an auto-increment counter
/// past deleted keys survives them (no key is handed out twice), and a part of a key of several
/// columns can change type, the key computed again.
#[test]
fn column_changes_keep_the_counter_and_keys_of_several_columns() {
    let engine = Engine::in_memory(Options::new());
    let def = TableDef::new("t", "id")
        .auto_increment()
        .column(Column::new("id", ColumnType::Int))
        .column(Column::new("n", ColumnType::Text));
    let insert = |n: &str| Op::Insert {
        table: "t".into(),
        row: Row::from([("n".to_owned(), Value::from(n))]),
    };
    engine
        .commit(vec![
            Op::CreateTable(def),
            insert("1"),
            insert("2"),
            insert("3"),
        ])
        .unwrap();
    engine
        .commit(vec![Op::Delete {
            table: "t".into(),
            key: Value::Int(3),
        }])
        .unwrap();
    engine
        .migrate(&[
            Migration::new(1, "n is a number").change_type("t", "n", ColumnType::Int, |v| {
                v.as_str()
                    .and_then(|s| s.parse().ok())
                    .map(Value::Int)
                    .ok_or_else(|| "not a number".to_owned())
            }),
            Migration::new(2, "n required").set_not_null("t", "n", 0),
        ])
        .unwrap();
    let view = engine.read();
    assert_eq!(
        view.get("t", &Value::Int(2)).unwrap().unwrap().get("n"),
        Some(Value::Int(2))
    );
    assert_eq!(view.table("t").unwrap().next_auto_increment(), Some(4));

    let lines = TableDef::new("lines", "key")
        .column(Column::new("key", ColumnType::List))
        .column(Column::new("order", ColumnType::Text).not_null())
        .column(Column::new("line", ColumnType::Int).not_null())
        .key_parts(["order", "line"]);
    let row = Row::from([
        ("order".to_owned(), Value::from("7")),
        ("line".to_owned(), Value::Int(1)),
    ]);
    engine
        .commit(vec![
            Op::CreateTable(lines),
            Op::Insert {
                table: "lines".into(),
                row,
            },
        ])
        .unwrap();
    engine
        .migrate(&[Migration::new(3, "orders are numbers").change_type(
            "lines",
            "order",
            ColumnType::Int,
            |v| {
                v.as_str()
                    .and_then(|s| s.parse().ok())
                    .map(Value::Int)
                    .ok_or_else(|| "not a number".to_owned())
            },
        )])
        .unwrap();
    let key = Value::List(vec![Value::Int(7), Value::Int(1)]);
    assert!(engine.read().get("lines", &key).unwrap().is_some());
}
