//! Shared strategies: every core record, including the awkward corners of each value kind.
//!
//! Strategies are boxed: unboxed, the value trees of a whole transaction are large enough to
//! overflow a debug test thread's 2 MiB stack while proptest builds them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]
#![allow(dead_code, reason = "each test file uses a different subset")]

use proptest::prelude::*;
use tabula_codec::{Codable, Codec, Format};
use tabula_core::{
    Cause, Column, ColumnType, IndexDef, Lsn, Map, Op, Path, Schema, SchemaChange, TableDef,
    Timestamp, Transaction, Value,
};

/// Equality that sees representation: `Int(1)` vs `Float(1.0)`, `-0.0` vs `0.0`. NaN payloads
/// are not compared (`Debug` prints every NaN the same), which is the documented JSON loss.
pub fn same<T: std::fmt::Debug>(a: &T, b: &T) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

pub fn codecs() -> [Codec; 3] {
    Format::ALL.map(Codec::new)
}

pub fn round_trip<T: Codable + std::fmt::Debug>(codec: Codec, record: &T) -> T {
    let bytes = codec
        .encode(record)
        .unwrap_or_else(|e| panic!("{}: encode failed: {e}\n{record:?}", codec.format()));
    codec.decode(&bytes).unwrap_or_else(|e| {
        panic!(
            "{}: decode failed: {e}\n{record:?}\n{}",
            codec.format(),
            String::from_utf8_lossy(&bytes)
        )
    })
}

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        any::<u64>().prop_map(f64::from_bits),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(-0.0),
        Just(0.0),
        Just(1.0),
        Just(f64::MIN_POSITIVE),
        Just(f64::MAX),
        Just(5e-324),
        Just(9_007_199_254_740_993.0),
    ]
}

fn int() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        -1000i64..1000,
        Just(i64::MIN),
        Just(i64::MAX),
        Just((1 << 53) - 1),
        Just(1 << 53),
        Just(-(1 << 53)),
        Just(-(1 << 53) + 1),
    ]
}

pub fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,12}",
        ".{0,8}",
        Just(String::new()),
        Just("$bytes".to_owned()),
        Just("$ts".to_owned()),
        Just("$".to_owned()),
        Just("line\nbreak \"quoted\" \\ \u{0}".to_owned()),
        Just("日本語 🦀".to_owned()),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z_]{1,6}",
        1 => text(),
        1 => Just("$map".to_owned()),
        1 => Just("$float".to_owned()),
        1 => Just("$x".to_owned()),
    ]
}

pub fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        int().prop_map(Value::Int),
        float().prop_map(Value::Float),
        text().prop_map(Value::Text),
        prop::collection::vec(any::<u8>(), 0..12).prop_map(Value::Bytes),
        prop_oneof![
            any::<i64>(),
            -10_000_000_000_000i64..300_000_000_000_000_000
        ]
        .prop_map(|t| Value::Timestamp(Timestamp::from_micros(t))),
    ]
}

pub fn value() -> BoxedStrategy<Value> {
    scalar()
        .prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::List),
                prop::collection::btree_map(key(), inner.clone(), 0..5).prop_map(Value::Map),
                // A map with a single `$` member: must be escaped as `$map`.
                (key().prop_map(|k| format!("${k}")), inner)
                    .prop_map(|(k, v)| Value::Map([(k, v)].into())),
            ]
        })
        .boxed()
}

pub fn row() -> BoxedStrategy<Map> {
    prop::collection::btree_map(key(), value(), 0..6).boxed()
}

fn column_type() -> impl Strategy<Value = ColumnType> {
    prop::sample::select(vec![
        ColumnType::Any,
        ColumnType::Bool,
        ColumnType::Int,
        ColumnType::Float,
        ColumnType::Text,
        ColumnType::Bytes,
        ColumnType::Timestamp,
        ColumnType::List,
        ColumnType::Map,
    ])
}

pub fn column() -> BoxedStrategy<Column> {
    (
        text(),
        column_type(),
        any::<bool>(),
        any::<bool>(),
        prop::option::of(value()),
    )
        .prop_map(|(name, ty, nullable, unique, default)| {
            let mut c = Column::new(name, ty);
            c.nullable = nullable;
            c.unique = unique;
            c.default = default;
            c
        })
        .boxed()
}

pub fn schema() -> BoxedStrategy<Schema> {
    prop::collection::vec(column(), 0..4)
        .prop_map(|columns| Schema { columns })
        .boxed()
}

pub fn index_def() -> BoxedStrategy<IndexDef> {
    (text(), "[a-z]{1,5}(\\.[a-z]{1,5}){0,2}", any::<bool>())
        .prop_map(|(name, path, unique)| {
            let mut i = IndexDef::new(name, Path::parse_lenient(&path));
            i.unique = unique;
            i
        })
        .boxed()
}

pub fn table_def() -> BoxedStrategy<TableDef> {
    (
        text(),
        text(),
        any::<bool>(),
        prop::option::of(schema()),
        prop::collection::vec(index_def(), 0..3),
        prop::collection::vec(text(), 0..3),
    )
        .prop_map(|(name, pk, auto, schema, indexes, key_parts)| {
            let mut d = TableDef::new(name, pk);
            // A key of several columns never auto-increments (the codecs need not know).
            d.auto_increment = auto && key_parts.is_empty();
            d.schema = schema;
            d.indexes = indexes;
            d.key_parts = key_parts;
            d
        })
        .boxed()
}

pub fn schema_change() -> BoxedStrategy<SchemaChange> {
    prop_oneof![
        column().prop_map(SchemaChange::AddColumn),
        column().prop_map(SchemaChange::AlterColumn),
        text().prop_map(SchemaChange::DropColumn),
        (text(), text()).prop_map(|(from, to)| SchemaChange::RenameColumn { from, to }),
    ]
    .boxed()
}

pub fn op() -> BoxedStrategy<Op> {
    prop_oneof![
        table_def().prop_map(Op::CreateTable),
        text().prop_map(|table| Op::DropTable { table }),
        (text(), index_def()).prop_map(|(table, index)| Op::CreateIndex { table, index }),
        (text(), text()).prop_map(|(table, index)| Op::DropIndex { table, index }),
        (text(), row()).prop_map(|(table, row)| Op::Insert { table, row }),
        (text(), row()).prop_map(|(table, row)| Op::Upsert { table, row }),
        (text(), value(), row()).prop_map(|(table, key, set)| Op::Update { table, key, set }),
        (text(), value()).prop_map(|(table, key)| Op::Delete { table, key }),
        (text(), schema_change()).prop_map(|(table, change)| Op::AlterTable { table, change }),
    ]
    .boxed()
}

pub fn cause() -> BoxedStrategy<Cause> {
    (
        prop::option::of(text()),
        prop::option::of(text()),
        prop::option::of(text()),
        prop::option::of(text()),
        row(),
    )
        .prop_map(|(who, what, where_, why, context)| {
            let mut c = Cause::new();
            c.who = who;
            c.what = what;
            c.where_ = where_;
            c.why = why;
            c.context = context;
            c
        })
        .boxed()
}

pub fn transaction() -> BoxedStrategy<Transaction> {
    (
        any::<u64>(),
        any::<i64>(),
        prop::option::of(cause()),
        prop::collection::vec(op(), 0..4),
    )
        .prop_map(|(lsn, ts, cause, ops)| {
            let mut tx = Transaction::new(Lsn(lsn), Timestamp::from_micros(ts));
            tx.cause = cause;
            tx.ops = ops;
            tx
        })
        .boxed()
}
