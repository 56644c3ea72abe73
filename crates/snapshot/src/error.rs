//! [`Error`]: everything writing, reading or managing snapshots can report. Damage says which
//! file (when there is one) and which byte.

use std::io;
use std::path::PathBuf;

use tabula_core::Lsn;
use tabula_storage::DamageKind;

/// A snapshot error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file operation failed.
    #[error("{op} {}: {error}", path.display())]
    Io {
        /// What was being done, such as "write" or "rename".
        op: &'static str,
        /// The file or directory (empty for a caller's reader or writer).
        path: PathBuf,
        /// The operating system's error.
        error: io::Error,
    },
    /// The bytes are not a valid snapshot: bad magic, a checksum mismatch, a truncated chunk, a
    /// count that does not add up.
    #[error("{}corrupted snapshot at byte {offset}: {kind}", path_prefix(path))]
    Corrupted {
        /// The file, when known.
        path: Option<PathBuf>,
        /// Where the problem was found.
        offset: u64,
        /// What is wrong.
        kind: DamageKind,
    },
    /// A table definition or row could not be encoded or decoded.
    #[error("{}at byte {offset}: {error}", path_prefix(path))]
    Codec {
        /// The file, when known.
        path: Option<PathBuf>,
        /// The start of the chunk holding it.
        offset: u64,
        /// The codec's error.
        error: tabula_codec::Error,
    },
    /// The content breaks the data model: a row against its table's schema, a duplicate key or
    /// table, an invalid table definition.
    #[error("{}table {table:?}: {error}", path_prefix(path))]
    Invalid {
        /// The file, when known.
        path: Option<PathBuf>,
        /// The table.
        table: String,
        /// Core's error (boxed: it is large, and this error travels every `?`).
        error: Box<tabula_core::Error>,
    },
    /// A JSON document (DictDB layout or an export) does not have the expected shape.
    #[error("{}{reason}", path_prefix(path))]
    Document {
        /// The file, when known.
        path: Option<PathBuf>,
        /// What is wrong, and where (serde_json's line and column).
        reason: String,
    },
    /// No snapshot with that LSN.
    #[error("no snapshot at LSN {lsn}")]
    NotFound {
        /// The LSN asked for.
        lsn: Lsn,
    },
    /// Every snapshot in the directory failed to load.
    #[error("no valid snapshot: {}", describe(.failures))]
    NoValidSnapshot {
        /// Each file tried, and why it failed.
        failures: Vec<(PathBuf, String)>,
    },
    /// An option is out of range.
    #[error("invalid option: {0}")]
    InvalidOption(String),
}

fn path_prefix(path: &Option<PathBuf>) -> String {
    path.as_ref()
        .map_or_else(String::new, |p| format!("{}: ", p.display()))
}

fn describe(failures: &[(PathBuf, String)]) -> String {
    if failures.is_empty() {
        return "the directory holds none".to_owned();
    }
    failures
        .iter()
        .map(|(path, why)| format!("{}: {why}", path.display()))
        .collect::<Vec<_>>()
        .join("; ")
}

impl Error {
    /// The same error, naming `file` where it has no file yet.
    #[must_use]
    pub fn in_file(mut self, file: &std::path::Path) -> Error {
        match &mut self {
            Error::Corrupted { path, .. }
            | Error::Codec { path, .. }
            | Error::Invalid { path, .. }
            | Error::Document { path, .. }
                if path.is_none() =>
            {
                *path = Some(file.to_path_buf());
            }
            Error::Io { path, .. } if path.as_os_str().is_empty() => *path = file.to_path_buf(),
            _ => {}
        }
        self
    }

    pub(crate) fn corrupted(offset: u64, kind: DamageKind) -> Error {
        Error::Corrupted {
            path: None,
            offset,
            kind,
        }
    }

    pub(crate) fn io(op: &'static str, source: io::Error) -> Error {
        Error::Io {
            op,
            path: PathBuf::new(),
            error: source,
        }
    }
}

/// The snapshot crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
