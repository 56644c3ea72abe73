//! [`Error`]: everything the log can report. Damage on disk says which file and which byte; a
//! failed write or fsync poisons the log, and every later call reports the first failure.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use tabula_core::Lsn;
use tabula_storage::DamageKind;

/// A write-ahead log error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file operation failed.
    #[error("{op} {}: {error}", path.display())]
    Io {
        /// What the log was doing, such as "append to" or "rename".
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        error: io::Error,
    },
    /// The disk is full (ENOSPC). The log is poisoned until it is reopened; what was written before
    /// is intact, and reopening once space is freed recovers every acknowledged record.
    #[error("no space left on the device while writing {}", path.display())]
    NoSpace {
        /// The file being written.
        path: PathBuf,
    },
    /// An fsync failed. The log is poisoned and never retries: after a failed fsync the kernel may
    /// have dropped the dirty pages, so a retry that succeeds would acknowledge lost data.
    #[error("fsync of {} failed: {error}", path.display())]
    SyncFailed {
        /// The file or directory being synced.
        path: PathBuf,
        /// The operating system's error.
        error: io::Error,
    },
    /// An earlier write or fsync failed; nothing is acknowledged until the log is reopened.
    #[error("the log is poisoned by an earlier failure: {cause}")]
    Poisoned {
        /// The failure that poisoned the log.
        cause: Arc<Error>,
    },
    /// Damage that is not a torn tail: a bad record followed by valid ones, a bad segment header,
    /// or a segment missing from the sequence.
    #[error("{}: corrupted at byte {offset}: {kind}{}", segment.display(), evidence_suffix(evidence))]
    Corrupted {
        /// The segment file.
        segment: PathBuf,
        /// The byte offset in it of the first damaged byte known.
        offset: u64,
        /// What is wrong.
        kind: DamageKind,
        /// Why recovery knows the damage is not a torn tail, when it judged that.
        evidence: Option<Evidence>,
    },
    /// The recovery mode refuses any damage, and the tail of the last segment is torn.
    #[error("{}: torn tail of {bytes} bytes at byte {offset}", segment.display())]
    TornTail {
        /// The segment file.
        segment: PathBuf,
        /// Where the torn record starts.
        offset: u64,
        /// How many bytes would be removed.
        bytes: u64,
    },
    /// Another process or handle holds the log directory.
    #[error("the log in {} is already open", dir.display())]
    AlreadyOpen {
        /// The log directory.
        dir: PathBuf,
    },
    /// A payload is larger than `max_record_size`.
    #[error("a record of {size} bytes is over the limit of {limit}")]
    RecordTooLarge {
        /// The payload size.
        size: u64,
        /// The configured limit.
        limit: u64,
    },
    /// Waiting for an LSN that was never appended.
    #[error("LSN {lsn} was never appended (the last is {last})")]
    NotAppended {
        /// The LSN waited for.
        lsn: Lsn,
        /// The last LSN appended.
        last: Lsn,
    },
    /// Reading from an LSN that retention already removed.
    #[error("LSN {requested} is no longer retained; the oldest available is {oldest_available}")]
    Pruned {
        /// The LSN asked for.
        requested: Lsn,
        /// The oldest LSN still in the log or its archive.
        oldest_available: Lsn,
    },
    /// An option is out of range.
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// An invariant of tabula itself broke: this is a tabula bug, please report it with the
    /// message. Debug builds assert first.
    #[error("this is a tabula bug, please report it: {what}")]
    Bug {
        /// Which invariant.
        what: String,
    },
    /// A payload could not be encoded or decoded (the typed transaction log).
    #[error("record at LSN {lsn}: {error}")]
    Codec {
        /// The record's LSN.
        lsn: Lsn,
        /// The codec's error.
        error: tabula_codec::Error,
    },
}

impl Error {
    /// Whether this is, or was poisoned by, a full disk.
    #[must_use]
    pub fn is_no_space(&self) -> bool {
        match self {
            Error::NoSpace { .. } => true,
            Error::Poisoned { cause } => cause.is_no_space(),
            _ => false,
        }
    }

    /// Whether the log is poisoned by this failure (or was already).
    #[must_use]
    pub fn is_poisoned(&self) -> bool {
        matches!(
            self,
            Error::Poisoned { .. } | Error::NoSpace { .. } | Error::SyncFailed { .. }
        )
    }

    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Error {
        let path = path.into();
        if is_enospc(&source) {
            Error::NoSpace { path }
        } else {
            Error::Io {
                op,
                path,
                error: source,
            }
        }
    }

    pub(crate) fn sync(path: impl Into<PathBuf>, source: io::Error) -> Error {
        let path = path.into();
        if is_enospc(&source) {
            // Delayed allocation can surface ENOSPC only at fsync. The data did not reach the
            // disk either way, so the log is poisoned just the same.
            Error::NoSpace { path }
        } else {
            Error::SyncFailed {
                path,
                error: source,
            }
        }
    }

    pub(crate) fn corrupted(segment: impl Into<PathBuf>, offset: u64, kind: DamageKind) -> Error {
        Error::Corrupted {
            segment: segment.into(),
            offset,
            kind,
            evidence: None,
        }
    }
}

/// Why recovery judged damage in the log to be corruption rather than a torn tail (the end of a
/// write a crash cut short, which holds no acknowledged commit and may be truncated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Evidence {
    /// A valid record at this byte, after the damage, shows the damaged one had been synced.
    RecordAfter(u64),
    /// The rest of the last segment is too damaged to search, so it is not truncated on a guess.
    Unsearchable,
    /// A later segment shows this one had been sealed, whole.
    LaterSegment,
}

impl std::fmt::Display for Evidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Evidence::RecordAfter(at) => {
                write!(f, "a valid record at byte {at} shows this one had been synced")
            }
            Evidence::Unsearchable => f.write_str(
                "the rest of the segment is too damaged to search, and it is not truncated on a guess",
            ),
            Evidence::LaterSegment => f.write_str("a later segment shows this one was complete"),
        }
    }
}

fn evidence_suffix(evidence: &Option<Evidence>) -> String {
    evidence.map(|e| format!("; {e}")).unwrap_or_default()
}

fn is_enospc(error: &io::Error) -> bool {
    const ENOSPC: i32 = 28;
    error.kind() == io::ErrorKind::StorageFull || error.raw_os_error() == Some(ENOSPC)
}

/// The log's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
