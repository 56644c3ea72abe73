//! `tabula-engine`: a database a program opens on a directory and uses from many threads.
//!
//! It composes `tabula-core` (the data model), `tabula-wal` (the log) and `tabula-snapshot`
//! (checkpoints) on one `tabula-storage`:
//!
//! - [`Engine::open`] takes the directory lock (a second opener gets [`Error::AlreadyOpen`]),
//!   loads the newest valid snapshot, replays the log after it and returns a [`RecoveryReport`];
//!   [`Engine::in_memory`] has no directory at all.
//! - [`Engine::commit`] / [`Engine::write`]: validate and apply against an O(1) copy of the state,
//!   append to the log, wait for the sync policy (concurrent committers share fsyncs), publish.
//!   See `db/inner.rs` for what readers see when.
//! - [`Engine::transaction`]: an interactive write transaction ([`WriteTx`]) that reads its own
//!   writes under the writer lock, so read-modify-write is atomic; see `db/transaction.rs`.
//! - [`Engine::read`]: a consistent view ([`ReadView`]) at one LSN, O(1), never blocking
//!   writers.
//! - [`Engine::checkpoint`] and automatic checkpoints ([`CheckpointPolicy`]): a snapshot of the
//!   durable state taken while writers go on, then the log before it removed or archived.
//! - [`Engine::save`] / [`load_file`] / [`Engine::import`]: whole-database files in any codec
//!   (DictDB's JSON document included), and table exports; [`Engine::stats`].
//! - History: [`Engine::as_of`] a point ([`At`]: LSN, time, tag), [`Engine::history`] of a row,
//!   [`Engine::log`] with causes, [`Engine::tag`], [`Engine::diff`], [`Engine::rollback_to`],
//!   the change feed [`Engine::subscribe`], [`Engine::backup`] / [`restore`] /
//!   [`Engine::restore_to`], and [`Engine::migrate`]. The engine's own tables are in [`system`].
//! - Continuous archiving ([`Options::archive_to`]): sealed segments and snapshots copied to a
//!   second directory as they are produced; [`restore_archive`] rebuilds a database from it.
//! - [`check`] reads every snapshot and log record of a directory without changing it, and
//!   reports torn tails and corruption with file and offset; [`repair`] removes a torn tail.
//! - Time to live: [`Engine::set_ttl`] ([`Ttl`]); expired rows are hidden from reads at once and
//!   removed by logged deletes (see `maintenance/ttl.rs`).
//!
//! # Layout
//!
//! `db/` is the hub: the engine, its shared state and commit path, read views, transactions,
//! the lock order and the `Hook`s through which features take part. The features (`history/`,
//! `maintenance/`, `interop/`, `migrate.rs`, `stats.rs`) use the hub and never the reverse;
//! `open.rs` builds an engine and installs the features' hooks.
//!
//! ```text
//! DIR/
//!   LOCK                       held while the engine is open
//!   MANIFEST                   format versions, codecs, the live log segments (see `manifest.rs`)
//!   snapshots/snap-<lsn>.tsnap checkpoints (tabula-snapshot's format)
//!   wal/                       the write-ahead log (tabula-wal's format)
//! ```

#![deny(missing_docs)]

mod clock;
mod db;
mod error;
mod history;
mod interop;
mod maintenance;
mod manifest;
mod migrate;
mod open;
mod options;
mod read_only;
mod stats;
pub mod system;

pub use clock::{Clock, ManualClock, SystemClock};
pub use db::{
    Batch, Committed, Engine, LOCK_FILE, ReadView, RecoveryReport, SNAPSHOT_DIR, ViewTable,
    WAL_DIR, WriteTx,
};
pub use error::{Error, Result};
pub use history::backup::{BackupInfo, list_backups, remove_old_backups, restore};
pub use history::diff::{Diff, TableDiff};
pub use history::feed::{FeedOptions, FeedStop, Start, Subscription};
pub use history::{At, LogEntries, LogFilter, Version, VersionKind};
pub use interop::files::{load_file, save_file};
pub use interop::sources::{SourceFormat, create_database, load_source};
pub use maintenance::archive::{ArchiveReport, restore_archive};
pub use maintenance::check::{CheckReport, Problem, ProblemKind, check, repair, salvage};
pub use maintenance::checkpoint::CheckpointInfo;
pub use maintenance::ttl::{TTL_INDEX, Ttl};
pub use manifest::{MANIFEST_FILE, MANIFEST_VERSION};
pub use migrate::Migration;
pub use options::{CheckpointPolicy, Options};
pub use stats::{DiskStats, Stats, TableStats};

// The lower crates' types that appear in the engine's options and reports, so that users of the
// engine (and of the `tabula` facade) can name them without depending on those crates.
pub use tabula_codec::Format;
pub use tabula_snapshot::{Compression, SnapshotOptions, SnapshotRetention};
pub use tabula_wal::{
    Damage, DamageKind, Evidence, RecoveryMode, Retention, SyncPolicy, VerifyReport,
};
