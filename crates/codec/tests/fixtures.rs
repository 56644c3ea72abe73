//! Checked-in files in each format keep loading, forever: `fixtures/v1/` holds a stream of
//! transactions covering every op and every kind of value, written by layout version 1
//! (`transactions.*`), and the forms appended to layout 1 since (`additions.*`: a table keyed
//! by several columns, `SchemaChange::AlterColumn`).
//!
//! If encoding today gives different bytes, the layout changed: that needs a new version (and
//! new fixtures beside the old ones), never an edit of these. To create fixtures for a new
//! version, run with `TABULA_BLESS_FIXTURES=1`; existing files are never overwritten.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

mod common;

use std::path::PathBuf;

use common::same;
use tabula_codec::{Codec, Format};
use tabula_core::{
    Cause, Column, ColumnType, IndexDef, Lsn, Map, Op, Path, SchemaChange, TableDef, Timestamp,
    Transaction, Value,
};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1")
}

fn map<const N: usize>(fields: [(&str, Value); N]) -> Map {
    fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// The records in the fixtures: every op, every value kind, and the escape corners.
fn records() -> Vec<Transaction> {
    let t = |micros| Timestamp::from_micros(micros);
    let students = TableDef::new("students", "id")
        .auto_increment()
        .column(Column::new("id", ColumnType::Int).not_null())
        .column(Column::new("email", ColumnType::Text).unique())
        .column(Column::new("gpa", ColumnType::Float).default_value(0.0))
        .column(Column::new("photo", ColumnType::Bytes))
        .column(Column::new("enrolled", ColumnType::Timestamp))
        .column(Column::new("tags", ColumnType::List))
        .column(Column::new("address", ColumnType::Map))
        .column(Column::new("active", ColumnType::Bool).default_value(true))
        .column(Column::new("extra", ColumnType::Any))
        .index("by_gpa", "gpa")
        .unique_index("by_city", "address.city");
    let ada = map([
        ("id", Value::Int(1)),
        ("email", "ada@example.org".into()),
        ("gpa", Value::Float(3.9)),
        ("photo", Value::Bytes(vec![0, 1, 2, 254, 255])),
        ("enrolled", Value::Timestamp(t(1_700_000_000_123_456))),
        (
            "tags",
            Value::List(vec!["math".into(), Value::Int(-7), Value::Null]),
        ),
        (
            "address",
            Value::Map(map([("city", "London".into()), ("zip", Value::Null)])),
        ),
        ("active", Value::Bool(true)),
        (
            "extra",
            Value::List(vec![
                Value::Float(f64::NAN),
                Value::Float(f64::INFINITY),
                Value::Float(f64::NEG_INFINITY),
                Value::Float(-0.0),
                Value::Float(1.0),
                Value::Int(i64::MIN),
                Value::Int(i64::MAX),
                Value::Int(1 << 53),
                Value::Text("日本語 🦀 \"q\" \\ \n".into()),
                Value::Text(String::new()),
                Value::Map(map([("$ts", Value::Int(1))])),
                Value::Map(map([("$other", Value::Int(2))])),
                Value::Timestamp(t(i64::MIN)),
                Value::Timestamp(t(-1)),
                Value::Bytes(vec![]),
                Value::Map(Map::new()),
                Value::List(vec![]),
            ]),
        ),
    ]);
    let cause = Cause::new()
        .who("registrar")
        .what("enrol")
        .place("office 3")
        .why("fall term")
        .context("ticket", 42)
        .context("batch", Value::List(vec![1.into(), 2.into()]));
    vec![
        Transaction::new(Lsn(1), t(1_700_000_000_000_000))
            .with_cause(cause)
            .with(Op::CreateTable(students))
            .with(Op::CreateTable(TableDef::new("notes", "key"))),
        Transaction::new(Lsn(2), t(1_700_000_000_000_001))
            .with(Op::Insert {
                table: "students".into(),
                row: ada,
            })
            .with(Op::Upsert {
                table: "notes".into(),
                row: map([("key", "k".into()), ("body", "hello".into())]),
            }),
        Transaction::new(Lsn(3), t(1_700_000_000_500_000))
            .with(Op::Update {
                table: "students".into(),
                key: Value::Int(1),
                set: map([("gpa", Value::Float(4.0))]),
            })
            .with(Op::CreateIndex {
                table: "notes".into(),
                index: IndexDef::new("by_body", Path::parse("body").unwrap()),
            })
            .with(Op::DropIndex {
                table: "notes".into(),
                index: "by_body".into(),
            })
            .with(Op::AlterTable {
                table: "students".into(),
                change: SchemaChange::AddColumn(
                    Column::new("nick", ColumnType::Text).default_value(Value::Null),
                ),
            })
            .with(Op::AlterTable {
                table: "students".into(),
                change: SchemaChange::RenameColumn {
                    from: "nick".into(),
                    to: "nickname".into(),
                },
            })
            .with(Op::AlterTable {
                table: "students".into(),
                change: SchemaChange::DropColumn("nickname".into()),
            }),
        Transaction::new(Lsn(4), t(1_700_000_001_000_000))
            .with(Op::Delete {
                table: "notes".into(),
                key: "k".into(),
            })
            .with(Op::DropTable {
                table: "notes".into(),
            }),
    ]
}

/// The forms appended to layout 1 after `records`: a definition with key parts (bincode's
/// `auto_increment` byte 2) and `SchemaChange::AlterColumn` (tag 3).
fn additions() -> Vec<Transaction> {
    let lines = TableDef::new("lines", "key")
        .column(Column::new("key", ColumnType::List))
        .column(Column::new("order", ColumnType::Int).not_null())
        .column(Column::new("line", ColumnType::Int).not_null())
        .column(Column::new("qty", ColumnType::Int))
        .key_parts(["order", "line"]);
    vec![
        Transaction::new(Lsn(1), Timestamp::from_micros(1_765_000_000_000_000))
            .with(Op::CreateTable(lines))
            .with(Op::Insert {
                table: "lines".into(),
                row: map([
                    ("order", Value::Int(7)),
                    ("line", Value::Int(1)),
                    ("qty", Value::Int(3)),
                ]),
            }),
        Transaction::new(Lsn(2), Timestamp::from_micros(1_765_000_000_000_001)).with(
            Op::AlterTable {
                table: "lines".into(),
                change: SchemaChange::AlterColumn(
                    Column::new("qty", ColumnType::Float)
                        .not_null()
                        .default_value(0.0),
                ),
            },
        ),
    ]
}

fn file(name: &str, format: Format) -> PathBuf {
    dir().join(format!(
        "{name}.{}",
        match format {
            Format::Json => "jsonl",
            other => other.extension(),
        }
    ))
}

fn encode(records: &[Transaction], format: Format) -> Vec<u8> {
    let mut w = Codec::new(format).writer(Vec::new());
    for tx in records {
        w.write(tx).unwrap();
    }
    w.finish().unwrap()
}

#[test]
fn fixtures_load_in_every_format() {
    for (name, records) in [("transactions", records()), ("additions", additions())] {
        check(name, &records);
    }
}

fn check(name: &str, records: &[Transaction]) {
    if std::env::var_os("TABULA_BLESS_FIXTURES").is_some() {
        std::fs::create_dir_all(dir()).unwrap();
        for format in Format::ALL {
            let path = file(name, format);
            if !path.exists() {
                std::fs::write(&path, encode(records, format)).unwrap();
            }
        }
    }
    for format in Format::ALL {
        let path = file(name, format);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let codec = Codec::new(format);
        let from_slice: Vec<Transaction> = codec
            .slice_reader(&bytes)
            .iter()
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let from_file: Vec<Transaction> = codec
            .reader(std::fs::File::open(&path).unwrap())
            .iter()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(
            same(&from_slice, &records.to_vec()),
            "{format}: the fixture no longer decodes to the records"
        );
        assert!(
            same(&from_file, &records.to_vec()),
            "{format}: reading the file differs"
        );
        assert!(
            encode(records, format) == bytes,
            "{format}: today's encoding differs from layout version 1's fixture: a format change needs a new version"
        );
        assert_eq!(
            Codec::detect::<Transaction>(&bytes, *codec.limits()).unwrap(),
            format
        );
    }
}
