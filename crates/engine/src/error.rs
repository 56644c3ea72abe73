//! [`Error`]: everything the engine reports. Lower layers' errors are wrapped whole, so their
//! corruption variants (with file and offset) reach the caller.

use std::path::PathBuf;
use std::sync::Arc;

/// An engine error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The transaction was refused (a schema violation, a duplicate key, a bad name, a limit):
    /// nothing changed.
    #[error("transaction refused: {0}")]
    Rejected(Box<tabula_core::Error>),
    /// The write-ahead log failed (or reported damage while recovering).
    #[error("write-ahead log: {0}")]
    Wal(tabula_wal::Error),
    /// A snapshot failed to write or load.
    #[error("snapshot: {0}")]
    Snapshot(tabula_snapshot::Error),
    /// Another engine, in this process or another, has the directory open.
    #[error("the database in {} is already open ({holder}); close it there first", dir.display())]
    AlreadyOpen {
        /// The database directory.
        dir: PathBuf,
        /// Who holds it, as the lock says (e.g. `held by process 4242`).
        holder: String,
    },
    /// The directory's MANIFEST does not read: damaged, cut short, or written by a newer
    /// tabula. Deleting it opens the directory as one written before the MANIFEST existed.
    #[error("MANIFEST {}: {reason}", path.display())]
    Manifest {
        /// The MANIFEST file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Log segments the MANIFEST records as live, and that hold records no snapshot covers,
    /// are gone (a deleted `wal/`, a cleanup of `*.log` files): opening would lose the commits
    /// in them. Put them back, restore a backup, or open with `RecoveryMode::Salvage` (`tabula
    /// check --salvage`) to go on without them.
    #[error(
        "log segments missing from {}: the MANIFEST records segments starting at LSN {} that \
         hold commits no snapshot covers",
        dir.display(),
        first_lsns.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    )]
    MissingSegments {
        /// The log directory.
        dir: PathBuf,
        /// The first LSN of each missing segment.
        first_lsns: Vec<tabula_core::Lsn>,
    },
    /// The database changed between the `check` a repair was shown and the repair (another
    /// process opened it): nothing was repaired. Check again.
    #[error("{} changed since it was checked; nothing was repaired: check it again", dir.display())]
    ChangedSinceCheck {
        /// The database directory.
        dir: PathBuf,
    },
    /// History (`history`, `log`) asked of a database that keeps none: one opened with
    /// [`crate::Engine::in_memory`] has no log. Open it on a directory to keep history.
    #[error("{what} needs the log, and an in-memory database keeps none: open one on a directory")]
    NoHistory {
        /// What was asked (`history`, `log`).
        what: &'static str,
    },
    /// A file operation failed.
    #[error("{op} {}: {error}", path.display())]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        error: std::io::Error,
    },
    /// The log failed after a commit was applied in memory: the engine refuses every further
    /// write until it is reopened (reopening recovers exactly the durable commits).
    #[error("the engine is poisoned by an earlier log failure: {cause}")]
    Poisoned {
        /// The log's failure.
        cause: Arc<tabula_wal::Error>,
    },
    /// The log ends before an LSN it must hold (the snapshot's it continues, or a committed
    /// one a history read replays to).
    #[error("the log ends at LSN {log_end}, before LSN {needed}, which it must hold")]
    LogEndsEarly {
        /// The last LSN in the log.
        log_end: tabula_core::Lsn,
        /// The LSN it must reach.
        needed: tabula_core::Lsn,
    },
    /// The log (or an archive's log) starts after the first LSN the base snapshot does not hold:
    /// the records between are missing.
    #[error("the log starts at LSN {log_start}, but LSN {needed} is needed after the snapshot")]
    LogGap {
        /// The first LSN the log holds.
        log_start: tabula_core::Lsn,
        /// The first LSN the snapshot does not hold.
        needed: tabula_core::Lsn,
    },
    /// A logged transaction does not apply to the state before it: the log and the snapshot
    /// disagree (damage that the checksums did not catch, or a tabula bug).
    #[error("the logged transaction at LSN {lsn} does not apply: {error}")]
    Replay {
        /// The transaction's LSN.
        lsn: tabula_core::Lsn,
        /// Why it was refused.
        error: Box<tabula_core::Error>,
    },
    /// An archive directory holds no readable snapshot and no log.
    #[error("the archive {} holds no readable snapshot and no log", dir.display())]
    EmptyArchive {
        /// The archive.
        dir: PathBuf,
    },
    /// A directory that must be new or empty (the target of a restore) holds files.
    #[error("{} is not empty: a restore only makes a new database directory", dir.display())]
    NotEmpty {
        /// The directory.
        dir: PathBuf,
    },
    /// A path that must be a directory (an exported directory) is a file.
    #[error("{} is a file, not an exported directory", path.display())]
    NotADirectory {
        /// The path.
        path: PathBuf,
    },
    /// Migrations given out of order: versions must increase.
    #[error("migration versions must increase: {versions:?}")]
    MigrationOrder {
        /// The two versions out of order.
        versions: [u64; 2],
    },
    /// An invariant of tabula itself broke: this is a tabula bug, please report it with the
    /// message. Debug builds assert first.
    #[error("this is a tabula bug, please report it: {what}")]
    Bug {
        /// Which invariant.
        what: String,
    },
    /// A point in history before what the retained snapshots and archived log can rebuild.
    #[error(
        "LSN {requested} is no longer retained: the oldest point available is LSN {oldest_available}"
    )]
    Pruned {
        /// The point asked for.
        requested: tabula_core::Lsn,
        /// The oldest point that can still be read.
        oldest_available: tabula_core::Lsn,
    },
    /// A point in history after the last committed transaction.
    #[error("LSN {requested} is not committed: the last committed LSN is {last}")]
    NotCommitted {
        /// The point asked for.
        requested: tabula_core::Lsn,
        /// The last committed (and visible) LSN.
        last: tabula_core::Lsn,
    },
    /// No tag has this name.
    #[error("no tag named {tag:?}")]
    UnknownTag {
        /// The name asked for.
        tag: String,
    },
    /// A tag with this name exists; tags are never moved (delete it first).
    #[error("tag {tag:?} already names LSN {lsn}")]
    TagExists {
        /// The name.
        tag: String,
        /// The LSN it names.
        lsn: tabula_core::Lsn,
    },
    /// A transaction touched a table the engine keeps for itself (names starting with
    /// `_tabula`); tags, migrations and TTL rules are changed through their own methods.
    #[error("table {table:?} is reserved for the engine")]
    ReservedTable {
        /// The table.
        table: String,
    },
    /// A change feed subscriber fell further behind than its buffer; it missed nothing before
    /// this error, and can resubscribe from `next` (the log permitting).
    #[error(
        "the subscriber fell more than {buffer} transactions behind; resubscribe from LSN {next}"
    )]
    Lagged {
        /// The subscriber's buffer size.
        buffer: usize,
        /// The first LSN it did not receive.
        next: tabula_core::Lsn,
    },
    /// A migration failed; the database stays at the previous version.
    #[error("migration {version} ({name}) failed; the schema stays at version {current}: {error}")]
    Migration {
        /// The migration's version.
        version: u64,
        /// Its name.
        name: String,
        /// The schema version the database stays at.
        current: u64,
        /// Why.
        error: Box<Error>,
    },
    /// A step the caller supplied (a migration's conversion or custom step) refused.
    #[error("{0}")]
    StepFailed(String),
    /// A time-to-live rule that cannot apply to its table.
    #[error("invalid time to live for table {table:?}: {reason}")]
    InvalidTtl {
        /// The table.
        table: String,
        /// Why.
        reason: String,
    },
    /// A write (a commit, a transaction, a tag, ...) was started from inside a write
    /// transaction on the same engine, on the same thread: it would wait for the lock its own
    /// transaction holds. Do the write inside the transaction instead.
    #[error(
        "a write was started inside a write transaction on the same database; do it through the transaction"
    )]
    NestedTransaction,
    /// A [`crate::WriteTx`] was swapped with one of another engine's (`std::mem::swap` of two
    /// nested transactions' handles): nothing was committed.
    #[error("a write transaction was swapped with another database's; nothing was committed")]
    ForeignTransaction,
    /// An option is out of range.
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// A write to a database opened read-only ([`crate::Engine::open_read_only`]).
    #[error("{} is open read-only: writes are refused", dir.display())]
    ReadOnly {
        /// The database directory.
        dir: PathBuf,
    },
}

impl From<tabula_wal::Error> for Error {
    fn from(error: tabula_wal::Error) -> Self {
        Error::Wal(error)
    }
}

impl From<tabula_snapshot::Error> for Error {
    fn from(error: tabula_snapshot::Error) -> Self {
        Error::Snapshot(error)
    }
}

impl From<tabula_core::Error> for Error {
    fn from(error: tabula_core::Error) -> Self {
        Error::Rejected(Box::new(error))
    }
}

/// Maps an I/O error of `op` on `path` to [`Error::Io`] (for `map_err`).
pub(crate) fn io(op: &'static str, path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_path_buf();
    move |source| Error::Io {
        op,
        path,
        error: source,
    }
}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
