//! The bincode-1 wire format for tabula's records, written and read by hand.
//!
//! # Layout
//!
//! Exactly what `bincode` 1.3 (`bincode::serialize`, default options) writes for the plain serde
//! types below, which the golden tests check byte for byte: little-endian fixed-width integers,
//! `f64` as its IEEE 754 bits, `bool` as one byte `0`/`1`, `String`/`Vec<T>`/maps as a `u64`
//! length then the elements (maps in key order), `Option` as a byte `0` (none) or `1` then the
//! value, structs as their fields in order, enums as a `u32` variant index then the fields.
//!
//! ```text
//! enum Value { Null, Bool(bool), Int(i64), Float(f64), Text(String), Bytes(Vec<u8>),
//!              Timestamp(i64 /* µs since the epoch */), List(Vec<Value>),
//!              Map(BTreeMap<String, Value>) }                          // tags 0..=8
//! type Row = BTreeMap<String, Value>;
//! enum ColumnType { Any, Bool, Int, Float, Text, Bytes, Timestamp, List, Map } // tags 0..=8
//! struct Column { name: String, ty: ColumnType, nullable: bool, unique: bool,
//!                 default: Option<Value> }
//! struct Schema { columns: Vec<Column> }
//! struct IndexDef { name: String, path: String /* dotted */, unique: bool }
//! struct TableDef { name: String, primary_key: String, auto_increment: bool,
//!                   schema: Option<Schema>, indexes: Vec<IndexDef> }
//!     // A TableDef with key parts (a key of several columns) writes its auto_increment
//!     // byte as 2 and then, after the indexes, key_parts: Vec<String>.  bincode 1.3 has no
//!     // such form; readers before it refuse the byte 2 with a typed error.
//! enum SchemaChange { AddColumn(Column), DropColumn(String),
//!                     RenameColumn { from: String, to: String },
//!                     AlterColumn(Column) }                                  // tags 0..=3
//! enum Op { CreateTable(TableDef), DropTable { table: String },
//!           CreateIndex { table: String, index: IndexDef },
//!           DropIndex { table: String, index: String },
//!           Insert { table: String, row: Row }, Upsert { table: String, row: Row },
//!           Update { table: String, key: Value, set: Row },
//!           Delete { table: String, key: Value },
//!           AlterTable { table: String, change: SchemaChange } }            // tags 0..=8
//! struct Cause { who: Option<String>, what: Option<String>, where_: Option<String>,
//!                why: Option<String>, context: BTreeMap<String, Value> }
//! struct Transaction { lsn: u64, timestamp: i64, cause: Option<Cause>, ops: Vec<Op> }
//! ```
//!
//! For example `Value::Int(7)` is `02 00 00 00 07 00 00 00 00 00 00 00`, and `Value::Text("hi")`
//! is `04 00 00 00 02 00 00 00 00 00 00 00 68 69`. New variants are only ever appended, so old
//! files keep their meaning; this is layout version 1 (with the key-parts form of `TableDef`
//! above, which only a table with a key of several columns writes).
//!
//! # Why by hand and not through `wincode`
//!
//! The project chose `wincode` for this format. Its traits (`SchemaRead`/`SchemaWrite`) must be
//! implemented with `unsafe impl` for types it does not derive (all of `tabula-core`'s), its
//! custom errors are `&'static str` (so no byte offsets), its readers have no depth context for
//! the recursive `Value`, and its sequence readers preallocate up to a fixed limit (4 MiB by
//! default) from the claimed length rather than from the bytes present. Meeting this crate's
//! contract (typed errors with offsets, depth limits, allocation bounded by the input) would mean
//! replacing every reader it offers, so the format is written here directly: it is small, and
//! the golden tests against `bincode` 1.3.3 prove the bytes.

mod read;
mod records;
mod write;

pub use read::{BinRead, read_value};
pub use write::{BinWrite, write_value};
