//! `tabula`: an embedded, in-memory table database with durable persistence and full history.
//!
//! This is the crate applications add. Open a [`Database`] on a directory (or in memory), get
//! typed tables from your own serde structs with `#[derive(Record)]`, and read and write them;
//! every commit goes through a checksummed write-ahead log, checkpoints stream consistent
//! snapshots while writers go on, and recovery never loses an acknowledged commit. The history is
//! kept: any past state ([`Database::as_of`]), a record's versions
//! with who changed it and why, tags, diffs, rollbacks, backups and a change feed.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use tabula::prelude::*;
//!
//! #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
//! #[tabula(table = "students")]
//! struct Student {
//!     #[tabula(primary_key, auto_increment)]
//!     id: Option<i64>,
//!     name: String,
//!     #[tabula(unique)]
//!     email: String,
//!     #[tabula(index)]
//!     gpa: f64,
//! }
//!
//! let dir = tempfile::tempdir()?;
//! let db = Database::open(dir.path())?;
//! let students = db.table::<Student>()?;
//! let ada = Student { id: None, name: "Ada".into(), email: "ada@uni.edu".into(), gpa: 3.9 };
//! let id = students.insert(&ada)?;
//! let before = db.read().lsn();
//! students.update(id, |s| s.gpa = 4.0)?;
//!
//! let honours = students.filter(Filter::ge("gpa", 3.95))?;
//! assert_eq!(honours.len(), 1);
//! // The past stays readable.
//! assert_eq!(students.as_of(before)?.get(id)?.unwrap().gpa, 3.9);
//! assert_eq!(students.history(id)?.len(), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Writes that belong together go in one [`Database::transaction`]: it is serialized with every
//! other writer, reads its own writes and commits all of it (one LSN, one cause) or, on an
//! error or a panic, none of it. Every read-modify-write of a [`Table`] (`update`,
//! `upsert_with`, `update_if`, `update_where`, ...) is such a transaction, so concurrent
//! updates are never lost.
//!
//! What lives where: [`Database`], [`Table`], [`Rows`] and the transaction types
//! ([`WriteTransaction`], [`TxTable`], [`TxRows`]) here; the engine's types
//! ([`Options`], [`At`], [`LogFilter`], [`Migration`], [`Ttl`], ...) re-exported from
//! `tabula-engine`; the data model ([`Value`], [`Row`], [`Filter`], [`Query`], [`TableDef`], ...)
//! from `tabula-core`; a consistent read-only view of the whole database (what [`Database::read`]
//! returns, the engine's `ReadView`) is [`View`] here; the codecs in [`codec`].

#![deny(missing_docs)]

#[cfg(feature = "async")]
mod r#async;
#[cfg(feature = "async")]
pub use r#async::{AsyncFeed, AsyncTableFeed};
mod database;
mod error;
mod feed;
mod field;
mod history;
mod maintenance;
mod record;
mod transaction;
mod typed;

pub use tabula_codec as codec;
pub use tabula_core as core;
pub use tabula_engine as engine;

pub use database::{Database, Rows};
pub use error::{Error, ErrorKind, Result};
pub use feed::{Change, TableFeed};
pub use field::Field;
pub use history::Feed;
pub use record::{MigrationExt, Record};
/// Serde types to and from [`Value`]s (`tabula-core`'s converter, the typed layer's format).
pub use tabula_core::{ConvertError, from_value, to_value, wide_json_integer};
pub use transaction::{TxRows, TxTable, WriteTransaction};
pub use typed::{RecordVersion, Table, TableView};

/// Derives [`Record`] for a struct with named fields; see [`Record`] for the attributes.
pub use tabula_derive::Record;

pub use tabula_core::{
    Cause, Column, ColumnType, Filter, IndexDef, Limits, Lsn, Map, Op, OrderBy, ParseFilterError,
    Path, Plan, Query, QueryResult, Row, RowChange, RowRef, Schema, SchemaChange, StrictRow,
    TableDef, TableMemory, Timestamp, Transaction, Value,
};
/// A consistent, read-only view of the whole database at one LSN (`tabula_engine::ReadView`):
/// what [`Database::read`] and [`Database::as_of`] return.
pub use tabula_engine::ReadView as View;
pub use tabula_engine::ViewTable;

pub use tabula_engine::{
    ArchiveReport, At, BackupInfo, Batch, CheckReport, CheckpointInfo, CheckpointPolicy, Clock,
    Committed, Compression, Damage, Diff, Engine, FeedOptions, FeedStop, Format, LogFilter,
    ManualClock, Migration, Options, Problem, ProblemKind, RecoveryMode, RecoveryReport, Retention,
    SnapshotOptions, SnapshotRetention, SourceFormat, Start, Stats, Subscription, SyncPolicy,
    SystemClock, Ttl, VerifyReport, Version, VersionKind, WriteTx, check, create_database,
    list_backups, load_file, load_source, remove_old_backups, repair, restore, restore_archive,
    salvage, save_file,
};

/// The names most programs use, for `use tabula::prelude::*`.
pub mod prelude {
    pub use crate::{
        At, Cause, Column, ColumnType, Database, Error, ErrorKind, FeedOptions, Field, Filter,
        Format, LogFilter, Lsn, Migration, MigrationExt, Op, Options, Query, Record, Row, Start,
        SyncPolicy, Table, TableDef, Timestamp, Ttl, Value, WriteTransaction,
    };
}

/// The README's Rust examples, compiled and run by `cargo test --doc` so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
