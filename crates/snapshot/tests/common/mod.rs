//! Random databases for the snapshot tests, built through `State::apply` so every one is a
//! state the engine could hold: schemaless and typed tables, unique and secondary indexes,
//! auto-increment, every kind of value.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    dead_code,
    reason = "test code: a panic is a test failure"
)]

use proptest::prelude::*;
use tabula_core::{
    Column, ColumnType, Lsn, Op, Row, State, TableDef, Timestamp, Transaction, Value,
};

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(-0.0),
        -1e6f64..1e6
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        float().prop_map(Value::Float),
        "\\PC{0,10}".prop_map(Value::Text),
        Just(Value::Text("$bytes".to_owned())),
        prop::collection::vec(any::<u8>(), 0..10).prop_map(Value::Bytes),
        any::<i64>().prop_map(|t| Value::Timestamp(Timestamp::from_micros(t / 8))),
    ]
}

pub fn value() -> BoxedStrategy<Value> {
    scalar()
        .prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::List),
                prop::collection::btree_map("[a-z$][a-z_]{0,5}", inner, 0..4).prop_map(Value::Map),
            ]
        })
        .boxed()
}

/// What a generated table looks like.
#[derive(Debug, Clone)]
pub enum Shape {
    Schemaless,
    Typed { auto: bool },
}

fn table(index: usize, shape: Shape, rows: Vec<(i64, f64, Value, Row)>) -> Vec<Op> {
    let name = format!("t{index}");
    let def = match shape {
        Shape::Schemaless => TableDef::new(&name, "id").index("by_score", "score"),
        Shape::Typed { auto } => {
            let def = TableDef::new(&name, "id")
                .column(Column::new("id", ColumnType::Int))
                .column(Column::new("email", ColumnType::Text).unique())
                .column(
                    Column::new("score", ColumnType::Float)
                        .not_null()
                        .default_value(0.0),
                )
                .column(Column::new("data", ColumnType::Any))
                .index("by_score", "score");
            if auto { def.auto_increment() } else { def }
        }
    };
    let mut ops = vec![Op::CreateTable(def)];
    for (i, (key, score, data, extra)) in rows.into_iter().enumerate() {
        let mut row = Row::new();
        row.insert("id".to_owned(), Value::Int(key));
        row.insert("score".to_owned(), Value::Float(score.round()));
        row.insert("data".to_owned(), data);
        if extra.is_empty() {
            row.insert(
                "email".to_owned(),
                Value::Text(format!("user{i}@example.com")),
            );
        } else {
            // Schemaless rows carry any other fields; typed rows ignore these (they would be
            // refused), so only schemaless tables get them.
            row.insert("email".to_owned(), Value::Null);
            row.extend(extra);
        }
        ops.push(Op::Insert {
            table: name.clone(),
            row,
        });
    }
    ops
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        Just(Shape::Schemaless),
        any::<bool>().prop_map(|auto| Shape::Typed { auto })
    ]
}

fn rows(schemaless: bool) -> BoxedStrategy<Vec<(i64, f64, Value, Row)>> {
    let extra = if schemaless {
        prop::collection::btree_map("[a-z][a-z_]{0,5}", value(), 0..3).boxed()
    } else {
        Just(Row::new()).boxed()
    };
    prop::collection::vec((-1000i64..1000, -50f64..50.0, value(), extra), 0..25)
        .prop_map(|mut rows| {
            rows.sort_by_key(|r| r.0);
            rows.dedup_by_key(|r| r.0);
            rows
        })
        .boxed()
}

/// A database of 0 to 3 tables at some LSN.
pub fn database() -> BoxedStrategy<State> {
    let tables = shape().prop_flat_map(|shape| {
        let schemaless = matches!(shape, Shape::Schemaless);
        (Just(shape), rows(schemaless))
    });
    (prop::collection::vec(tables, 0..4), 1u64..1_000_000)
        .prop_map(|(tables, lsn)| {
            let mut ops = Vec::new();
            for (index, (shape, rows)) in tables.into_iter().enumerate() {
                let rows = match shape {
                    Shape::Schemaless => rows,
                    Shape::Typed { .. } => rows
                        .into_iter()
                        .map(|(k, s, d, _)| (k, s, d, Row::new()))
                        .collect(),
                };
                ops.extend(table(index, shape, rows));
            }
            let mut db = State::new();
            let mut tx = Transaction::new(Lsn(lsn), Timestamp::from_micros(0));
            tx.ops = ops;
            db.apply_owned(tx).unwrap();
            db
        })
        .boxed()
}
