//! Recovery: the newest valid snapshot, then every logged transaction after its LSN, replayed
//! through the same `State::apply` that committed it. [`RecoveryReport`] says what was used.

use std::path::PathBuf;
use std::time::Duration;

use tabula_core::{Lsn, State, Timestamp};
use tabula_wal::TransactionLog;

use crate::{Error, Result};

/// What opening the database recovered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecoveryReport {
    /// The snapshot loaded (LSN and file), if any.
    pub snapshot: Option<(Lsn, PathBuf)>,
    /// Newer snapshots that failed to load, with why (the previous one was used).
    pub skipped_snapshots: Vec<(PathBuf, String)>,
    /// Transactions replayed from the log after the snapshot.
    pub replayed: u64,
    /// What the log's own recovery found (torn tail truncated, damage salvaged).
    pub wal: tabula_wal::RecoveryReport,
    /// Live log segments the MANIFEST recorded that were gone, each by its first LSN: only with
    /// `RecoveryMode::Salvage`, which went on without them (otherwise opening refuses with
    /// [`Error::MissingSegments`]).
    pub missing_segments: Vec<Lsn>,
    /// The directory had no MANIFEST (written before it existed) and opening wrote one.
    pub manifest_created: bool,
    /// How long opening took.
    pub duration: Duration,
}

impl RecoveryReport {
    /// Bytes of torn log tail removed.
    #[must_use]
    pub fn bytes_truncated(&self) -> u64 {
        self.wal.bytes_truncated()
    }
}

/// Replays the log after `db`'s LSN into `db`; returns how many transactions, and the last
/// commit's timestamp: the last one replayed, or with none, the one the snapshot ends at if the
/// log (or its archive) still holds it, so that commit times go on from there after a reopen
/// even if the clock stepped back (`None` when neither is known).
pub(crate) fn replay(log: &TransactionLog, db: &mut State) -> Result<(u64, Option<Timestamp>)> {
    let last = log.wal().last_lsn();
    if last < db.lsn() {
        return Err(Error::LogEndsEarly {
            log_end: last,
            needed: db.lsn(),
        });
    }
    let mut last_timestamp = None;
    if last == db.lsn() {
        // Best effort: a pruned or unreadable record only leaves the time unknown.
        let at_snapshot = (db.lsn() > Lsn::ZERO)
            .then(|| log.read_from(db.lsn()).ok()?.next()?.ok())
            .flatten()
            .filter(|tx| tx.lsn == db.lsn());
        if let Some(tx) = at_snapshot {
            last_timestamp = Some(tx.timestamp);
        }
        return Ok((0, last_timestamp));
    }
    let transactions = log
        .read_from(db.lsn().next())
        .map_err(|error| match error {
            tabula_wal::Error::Pruned {
                oldest_available, ..
            } => Error::LogGap {
                log_start: oldest_available,
                needed: db.lsn().next(),
            },
            other => Error::Wal(other),
        })?;
    let mut replayed = 0;
    for tx in transactions {
        let tx = tx?;
        let lsn = tx.lsn;
        last_timestamp = Some(tx.timestamp);
        db.apply_owned(tx).map_err(|error| Error::Replay {
            lsn,
            error: Box::new(error),
        })?;
        replayed += 1;
    }
    Ok((replayed, last_timestamp))
}
