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
    Wal(#[from] tabula_wal::Error),
    /// A snapshot failed to write or load.
    #[error("snapshot: {0}")]
    Snapshot(#[from] tabula_snapshot::Error),
    /// Another engine, in this process or another, has the directory open.
    #[error("the database in {} is already open", dir.display())]
    AlreadyOpen {
        /// The database directory.
        dir: PathBuf,
    },
    /// A file operation failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The log failed after a commit was applied in memory: the engine refuses every further
    /// write until it is reopened (reopening recovers exactly the durable commits).
    #[error("the engine is poisoned by an earlier log failure: {cause}")]
    Poisoned {
        /// The log's failure.
        cause: Arc<tabula_wal::Error>,
    },
    /// The files disagree with each other (such as a log that ends before the snapshot).
    #[error("inconsistent database directory: {0}")]
    Inconsistent(String),
    /// An option is out of range.
    #[error("invalid option: {0}")]
    InvalidOption(String),
}

impl From<tabula_core::Error> for Error {
    fn from(error: tabula_core::Error) -> Self {
        Error::Rejected(Box::new(error))
    }
}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
