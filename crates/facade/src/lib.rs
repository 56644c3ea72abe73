//! `tabula`: an embedded, in-memory table database with durable persistence and full history.
//!
//! This is the crate applications add. Today it re-exports the data model of `tabula-core`:
//! values, schemas, tables with unique and ordered indexes, filters and queries, and the
//! transactions that change a [`Database`] all-or-nothing; and, in [`codec`], the JSON,
//! MessagePack and bincode encodings of all of them. The durable engine (write-ahead log,
//! snapshots, recovery, time travel) and typed tables from your own structs join it as the lower
//! crates fill in; see `ARCHITECTURE.md`.

#![deny(missing_docs)]

pub use tabula_codec as codec;
pub use tabula_core as core;
pub use tabula_core::{
    Cause, Column, ColumnType, Database, Error, Filter, Index, IndexDef, Limits, Lsn, Map, Measure,
    NameKind, Op, OrderBy, ParseTimestampError, Path, Plan, Query, QueryResult, Row, RowChange,
    RowRef, Schema, SchemaChange, Table, TableDef, Timestamp, Transaction, TypeClass, Value,
};

/// The names most programs use, for `use tabula::prelude::*`.
pub mod prelude {
    pub use tabula_core::{
        Cause, Column, ColumnType, Database, Filter, Lsn, Op, Query, Row, TableDef, Timestamp,
        Transaction, Value,
    };
}

/// The README's Rust examples, compiled and run by `cargo test --doc` so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
