//! The stored representation (packed rows, the hashed and the ordered key maps) against a plain
//! model: a schemaless table whose keys are of every value type (`Int(1)` and `Float(1.0)` one
//! key, text around the inline length) and whose rows have different fields, nested maps
//! included; filters on nested paths agree with evaluating them on the rows as maps; schema
//! changes on tables with rows keep every row.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use std::collections::BTreeMap;

use proptest::prelude::*;
use tabula_core::{
    Column, ColumnType, Error, Filter, Lsn, Map, Op, Query, Row, SchemaChange, State, TableDef,
    Timestamp, Transaction, Value,
};

const TABLE: &str = "t";

fn key() -> impl Strategy<Value = Value> {
    let text = proptest::collection::vec(prop_oneof![Just("a"), Just("é"), Just("\0")], 0..30)
        .prop_map(|parts| parts.concat());
    prop_oneof![
        4 => (-3i64..3).prop_map(Value::Int),
        2 => (-3i64..3).prop_map(|i| Value::Float(i as f64)),
        1 => prop_oneof![Just(0.5), Just(f64::NAN), Just(-0.0)].prop_map(Value::Float),
        4 => text.prop_map(Value::Text),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => (0i64..3).prop_map(|t| Value::Timestamp(Timestamp::from_micros(t))),
        1 => proptest::collection::vec(any::<u8>(), 0..2).prop_map(Value::Bytes),
        1 => (0i64..2).prop_map(|i| Value::List(vec![Value::Int(i)])),
        1 => (0i64..2).prop_map(|i| Value::Map(Map::from([("x".to_owned(), Value::Int(i))]))),
        1 => Just(Value::Null),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        (0i64..3).prop_map(Value::Int),
        (0i64..3).prop_map(|i| Value::Float(i as f64)),
        "[ab]{0,2}".prop_map(Value::Text),
        (0i64..2).prop_map(|t| Value::Timestamp(Timestamp::from_micros(t))),
    ]
}

/// Fields other than the key: a few names, some of them nested maps.
fn fields() -> impl Strategy<Value = Row> {
    let nested = proptest::collection::btree_map("[xy]", leaf(), 0..3).prop_map(Value::Map);
    proptest::collection::btree_map(
        "[a-d]",
        prop_oneof![3 => leaf(), 1 => nested, 1 => proptest::collection::vec(leaf(), 0..3).prop_map(Value::List)],
        0..4,
    )
}

#[derive(Debug, Clone)]
enum Step {
    Insert(Value, Row),
    Upsert(Value, Row),
    Update(Value, Row),
    Delete(Value),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (key(), fields()).prop_map(|(k, r)| Step::Insert(k, r)),
        2 => (key(), fields()).prop_map(|(k, r)| Step::Upsert(k, r)),
        2 => (key(), fields()).prop_map(|(k, r)| Step::Update(k, r)),
        2 => key().prop_map(Step::Delete),
    ]
}

fn with_key(key: &Value, mut row: Row) -> Row {
    row.insert("k".to_owned(), key.clone());
    row
}

fn apply(db: &mut State, lsn: &mut u64, op: Op) -> Result<(), Error> {
    *lsn += 1;
    let tx = Transaction::new(Lsn(*lsn), Timestamp::EPOCH).with(op);
    match db.apply(&tx) {
        Ok(_) => Ok(()),
        Err(e) => {
            // A failed transaction still takes its LSN slot in this test's numbering.
            db.apply(&Transaction::new(Lsn(*lsn), Timestamp::EPOCH))
                .expect("an empty transaction applies");
            Err(e)
        }
    }
}

/// A filter on a nested path or a plain field, with an operand from the generated values.
fn filter() -> impl Strategy<Value = Filter> {
    let path = prop_oneof![Just("a"), Just("b"), Just("a.x"), Just("c.y"), Just("k")];
    (path, leaf(), 0..4u8).prop_map(|(path, v, op)| match op {
        0 => Filter::eq(path, v),
        1 => Filter::ge(path, v),
        2 => Filter::is_null(path),
        _ => Filter::ne(path, v),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn stored_rows_agree_with_a_model(
        steps in proptest::collection::vec(step(), 1..60),
        filters in proptest::collection::vec(filter(), 1..4),
    ) {
        let mut db = State::new();
        let mut lsn = 0;
        apply(&mut db, &mut lsn, Op::CreateTable(TableDef::new(TABLE, "k"))).unwrap();
        let mut model: BTreeMap<Value, Row> = BTreeMap::new();
        for step in steps {
            match step {
                Step::Insert(k, fields) => {
                    let got = apply(&mut db, &mut lsn, Op::Insert { table: TABLE.into(), row: with_key(&k, fields.clone()) });
                    if k.is_null() {
                        prop_assert!(matches!(got, Err(Error::InvalidKey { .. })), "{got:?}");
                    } else if model.contains_key(&k) {
                        prop_assert!(matches!(got, Err(Error::DuplicateKey { .. })), "{got:?}");
                    } else {
                        prop_assert!(got.is_ok(), "{got:?}");
                        model.insert(k.clone(), with_key(&k, fields));
                    }
                }
                Step::Upsert(k, fields) => {
                    let got = apply(&mut db, &mut lsn, Op::Upsert { table: TABLE.into(), row: with_key(&k, fields.clone()) });
                    if k.is_null() {
                        prop_assert!(got.is_err());
                    } else {
                        prop_assert!(got.is_ok(), "{got:?}");
                        model.remove(&k);
                        model.insert(k.clone(), with_key(&k, fields));
                    }
                }
                Step::Update(k, set) => {
                    let got = apply(&mut db, &mut lsn, Op::Update { table: TABLE.into(), key: k.clone(), set: set.clone() });
                    match model.get_mut(&k) {
                        Some(row) => {
                            prop_assert!(got.is_ok(), "{got:?}");
                            row.extend(set);
                        }
                        None => prop_assert!(matches!(got, Err(Error::KeyNotFound { .. })), "{got:?}"),
                    }
                }
                Step::Delete(k) => {
                    let got = apply(&mut db, &mut lsn, Op::Delete { table: TABLE.into(), key: k.clone() });
                    prop_assert_eq!(got.is_ok(), model.remove(&k).is_some());
                }
            }
            let table = db.table(TABLE).unwrap();
            prop_assert_eq!(table.len(), model.len());
            // Every row is found by key (through the hashed map), with every field as written,
            // and by any key equal to it (`7.0` finds the row of `7`).
            for (k, row) in &model {
                let stored = table.get(k).map(tabula_core::RowRef::to_row);
                prop_assert_eq!(stored.as_ref(), Some(row));
                if let Some(i) = k.as_integral() {
                    prop_assert!(table.get(&Value::Float(i as f64)).is_some());
                    prop_assert!(table.get(&Value::Int(i)).is_some());
                }
            }
            // Key order (the ordered map) is the values' order.
            let keys: Vec<Value> = table.iter().map(|(k, _)| k).collect();
            let model_keys: Vec<Value> = model.keys().cloned().collect();
            prop_assert_eq!(keys, model_keys);
        }
        // Filters read stored rows as they read the rows as maps, nested paths included.
        for f in filters {
            let got: Vec<Row> = db
                .query(TABLE, &Query::new().filter(f.clone()))
                .unwrap()
                .rows
                .iter()
                .map(tabula_core::RowRef::to_row)
                .collect();
            let want: Vec<Row> = model.values().filter(|r| f.matches(*r)).cloned().collect();
            prop_assert_eq!(got, want, "filter {:?}", f);
        }
    }
}

/// Adding, renaming and dropping columns rewrites every row of a typed table, and each row reads
/// back with its values under the new names.
#[test]
fn schema_changes_keep_every_row() {
    let mut db = State::new();
    let mut lsn = 0;
    let def = TableDef::new(TABLE, "id")
        .column(Column::new("id", ColumnType::Int))
        .column(Column::new("name", ColumnType::Text))
        .column(Column::new("extra", ColumnType::Int));
    apply(&mut db, &mut lsn, Op::CreateTable(def)).unwrap();
    for i in 0..50i64 {
        let row = Row::from([
            ("id".to_owned(), Value::Int(i)),
            ("name".to_owned(), Value::from(format!("n{i}"))),
            ("extra".to_owned(), Value::Int(i * 2)),
        ]);
        apply(
            &mut db,
            &mut lsn,
            Op::Insert {
                table: TABLE.into(),
                row,
            },
        )
        .unwrap();
    }
    let alter = |change| Op::AlterTable {
        table: TABLE.into(),
        change,
    };
    apply(
        &mut db,
        &mut lsn,
        alter(SchemaChange::AddColumn(
            Column::new("score", ColumnType::Float).default_value(1.5),
        )),
    )
    .unwrap();
    apply(
        &mut db,
        &mut lsn,
        alter(SchemaChange::RenameColumn {
            from: "name".into(),
            to: "title".into(),
        }),
    )
    .unwrap();
    apply(
        &mut db,
        &mut lsn,
        alter(SchemaChange::DropColumn("extra".into())),
    )
    .unwrap();
    let table = db.table(TABLE).unwrap();
    assert_eq!(table.len(), 50);
    for i in 0..50i64 {
        let row = table.get(&Value::Int(i)).unwrap().to_row();
        assert_eq!(
            row,
            Row::from([
                ("id".to_owned(), Value::Int(i)),
                ("title".to_owned(), Value::from(format!("n{i}"))),
                ("score".to_owned(), Value::Float(1.5)),
            ])
        );
    }
}
