//! The bincode codec writes exactly what `bincode` 1.3.3 writes for the plain serde types that
//! `tabula_codec::bincode` documents, and `bincode` 1.3.3 reads our bytes back.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

mod common;

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use tabula_codec::{Codec, Format};
use tabula_core as core;

// The documented layout, as plain serde types.

#[derive(Debug, PartialEq, Serialize, Deserialize)]
enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    Bytes(Vec<u8>),
    Timestamp(i64),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
enum ColumnType {
    Any,
    Bool,
    Int,
    Float,
    Text,
    Bytes,
    Timestamp,
    List,
    Map,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Column {
    name: String,
    ty: ColumnType,
    nullable: bool,
    unique: bool,
    default: Option<Value>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Schema {
    columns: Vec<Column>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct IndexDef {
    name: String,
    path: String,
    unique: bool,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct TableDef {
    name: String,
    primary_key: String,
    auto_increment: bool,
    schema: Option<Schema>,
    indexes: Vec<IndexDef>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[expect(
    clippy::enum_variant_names,
    reason = "mirrors tabula_core::SchemaChange"
)]
enum SchemaChange {
    AddColumn(Column),
    DropColumn(String),
    RenameColumn { from: String, to: String },
    AlterColumn(Column),
}

type Row = BTreeMap<String, Value>;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
enum Op {
    CreateTable(TableDef),
    DropTable { table: String },
    CreateIndex { table: String, index: IndexDef },
    DropIndex { table: String, index: String },
    Insert { table: String, row: Row },
    Upsert { table: String, row: Row },
    Update { table: String, key: Value, set: Row },
    Delete { table: String, key: Value },
    AlterTable { table: String, change: SchemaChange },
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Cause {
    who: Option<String>,
    what: Option<String>,
    where_: Option<String>,
    why: Option<String>,
    context: Row,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Transaction {
    lsn: u64,
    timestamp: i64,
    cause: Option<Cause>,
    ops: Vec<Op>,
}

// Conversions from the core types.

fn value(v: &core::Value) -> Value {
    match v {
        core::Value::Null => Value::Null,
        core::Value::Bool(b) => Value::Bool(*b),
        core::Value::Int(n) => Value::Int(*n),
        core::Value::Float(f) => Value::Float(*f),
        core::Value::Text(t) => Value::Text(t.clone()),
        core::Value::Bytes(b) => Value::Bytes(b.clone()),
        core::Value::Timestamp(t) => Value::Timestamp(t.as_micros()),
        core::Value::List(items) => Value::List(items.iter().map(value).collect()),
        core::Value::Map(m) => Value::Map(row(m)),
    }
}

fn row(r: &core::Map) -> Row {
    r.iter().map(|(k, v)| (k.clone(), value(v))).collect()
}

fn column(c: &core::Column) -> Column {
    let ty = match c.ty {
        core::ColumnType::Any => ColumnType::Any,
        core::ColumnType::Bool => ColumnType::Bool,
        core::ColumnType::Int => ColumnType::Int,
        core::ColumnType::Float => ColumnType::Float,
        core::ColumnType::Text => ColumnType::Text,
        core::ColumnType::Bytes => ColumnType::Bytes,
        core::ColumnType::Timestamp => ColumnType::Timestamp,
        core::ColumnType::List => ColumnType::List,
        core::ColumnType::Map => ColumnType::Map,
        other => panic!("unknown column type {other:?}"),
    };
    Column {
        name: c.name.clone(),
        ty,
        nullable: c.nullable,
        unique: c.unique,
        default: c.default.as_ref().map(value),
    }
}

fn index(i: &core::IndexDef) -> IndexDef {
    IndexDef {
        name: i.name.clone(),
        path: i.path.to_string(),
        unique: i.unique,
    }
}

fn table_def(d: &core::TableDef) -> TableDef {
    TableDef {
        name: d.name.clone(),
        primary_key: d.primary_key.clone(),
        auto_increment: d.auto_increment,
        schema: d.schema.as_ref().map(|s| Schema {
            columns: s.columns.iter().map(column).collect(),
        }),
        indexes: d.indexes.iter().map(index).collect(),
    }
}

fn op(o: &core::Op) -> Op {
    let t = |t: &String| t.clone();
    match o {
        core::Op::CreateTable(d) => Op::CreateTable(table_def(d)),
        core::Op::DropTable { table } => Op::DropTable { table: t(table) },
        core::Op::CreateIndex { table, index: i } => Op::CreateIndex {
            table: t(table),
            index: index(i),
        },
        core::Op::DropIndex { table, index } => Op::DropIndex {
            table: t(table),
            index: index.clone(),
        },
        core::Op::Insert { table, row: r } => Op::Insert {
            table: t(table),
            row: row(r),
        },
        core::Op::Upsert { table, row: r } => Op::Upsert {
            table: t(table),
            row: row(r),
        },
        core::Op::Update { table, key, set } => Op::Update {
            table: t(table),
            key: value(key),
            set: row(set),
        },
        core::Op::Delete { table, key } => Op::Delete {
            table: t(table),
            key: value(key),
        },
        core::Op::AlterTable { table, change } => Op::AlterTable {
            table: t(table),
            change: match change {
                core::SchemaChange::AddColumn(c) => SchemaChange::AddColumn(column(c)),
                core::SchemaChange::DropColumn(c) => SchemaChange::DropColumn(c.clone()),
                core::SchemaChange::RenameColumn { from, to } => SchemaChange::RenameColumn {
                    from: from.clone(),
                    to: to.clone(),
                },
                core::SchemaChange::AlterColumn(c) => SchemaChange::AlterColumn(column(c)),
                other => panic!("unknown schema change {other:?}"),
            },
        },
        other => panic!("unknown op {other:?}"),
    }
}

fn transaction(tx: &core::Transaction) -> Transaction {
    Transaction {
        lsn: tx.lsn.0,
        timestamp: tx.timestamp.as_micros(),
        cause: tx.cause.as_ref().map(|c| Cause {
            who: c.who.clone(),
            what: c.what.clone(),
            where_: c.where_.clone(),
            why: c.why.clone(),
            context: row(&c.context),
        }),
        ops: tx.ops.iter().map(op).collect(),
    }
}

/// Our bytes equal bincode's for the mirror, and bincode reads ours back to the same mirror.
fn golden<
    T: tabula_codec::Codable,
    M: Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug,
>(
    record: &T,
    mirror: &M,
) -> Result<(), TestCaseError> {
    let ours = Codec::new(Format::Bincode).encode(record).unwrap();
    let theirs = bincode::serialize(mirror).unwrap();
    prop_assert_eq!(&ours, &theirs);
    let back: M = bincode::deserialize(&ours).unwrap();
    // Compare through bits so that NaN payloads count too.
    prop_assert_eq!(bincode::serialize(&back).unwrap(), theirs);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn values_and_rows_match_bincode(v in common::value(), r in common::row()) {
        golden(&v, &value(&v))?;
        golden(&r, &row(&r))?;
    }

    #[test]
    fn definitions_and_ops_match_bincode(d in common::table_def(), o in common::op()) {
        // bincode 1.3 has no form for key parts: the extension is checked byte by byte in
        // `key_parts_extend_the_layout`.
        let (d, o) = (single_key(d), single_key_op(o));
        golden(&d, &table_def(&d))?;
        golden(&o, &op(&o))?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn transactions_match_bincode(tx in common::transaction()) {
        let mut tx = tx;
        tx.ops = tx.ops.into_iter().map(single_key_op).collect();
        golden(&tx, &transaction(&tx))?;
    }
}

/// `d` without key parts: the layout bincode 1.3 writes.
fn single_key(mut d: core::TableDef) -> core::TableDef {
    d.key_parts.clear();
    d
}

fn single_key_op(o: core::Op) -> core::Op {
    match o {
        core::Op::CreateTable(d) => core::Op::CreateTable(single_key(d)),
        other => other,
    }
}

/// The one extension of layout 1 (documented in `tabula_codec::bincode`): a definition with
/// key parts writes its `auto_increment` byte as 2 and the parts after its indexes, and reads
/// back whole; a byte past 2 is a typed error.
#[test]
fn key_parts_extend_the_layout() {
    let bin = Codec::new(Format::Bincode);
    let def = core::TableDef::new("t", "k").key_parts(["a"]);
    let mut expected = Vec::new();
    for text in ["t", "k"] {
        expected.extend(1u64.to_le_bytes());
        expected.extend(text.as_bytes());
    }
    expected.extend([2, 0]); // key parts follow; no schema
    expected.extend(0u64.to_le_bytes()); // no indexes
    expected.extend(1u64.to_le_bytes());
    expected.extend(1u64.to_le_bytes());
    expected.extend(b"a");
    let bytes = bin.encode(&def).unwrap();
    assert_eq!(bytes, expected);
    assert_eq!(bin.decode::<core::TableDef>(&bytes).unwrap(), def);
    let mut bad = bytes;
    bad[18] = 3;
    let error = bin.decode::<core::TableDef>(&bad).unwrap_err().to_string();
    assert!(error.contains("found 3"), "{error}");
}

#[test]
fn documented_examples() {
    let bin = Codec::new(Format::Bincode);
    assert_eq!(
        bin.encode(&core::Value::Int(7)).unwrap(),
        [2, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0]
    );
    assert_eq!(
        bin.encode(&core::Value::from("hi")).unwrap(),
        [4, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, b'h', b'i']
    );
}
