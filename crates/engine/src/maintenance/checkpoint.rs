//! Checkpoints: a snapshot of the visible (durable) state, written while writers go on, then the
//! log before it removed or archived. Manual ([`crate::Engine::checkpoint`]) or automatic: the
//! background worker's `Checkpoint` job (`worker.rs`) asks [`due`] at every tick, which applies
//! the [`crate::CheckpointPolicy`] (log bytes, interval).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tabula_core::{Lsn, Timestamp};

use super::Maintenance;
use crate::Result;
use crate::db::{Engine, Inner};

/// A checkpoint taken.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckpointInfo {
    /// The LSN of the snapshot.
    pub lsn: Lsn,
    /// When it finished.
    pub at: Timestamp,
    /// The snapshot file.
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// Rows in it.
    pub rows: u64,
    /// How long it took.
    pub duration: Duration,
}

impl Engine {
    /// Takes a checkpoint now: a snapshot of the durable state, then the log before it is
    /// removed or archived. Writers go on meanwhile. `None` in memory, or when nothing changed
    /// since the last one.
    ///
    /// # Errors
    /// The snapshot's or the log's I/O errors; the log is left as it was.
    pub fn checkpoint(&self) -> Result<Option<CheckpointInfo>> {
        run(&self.inner)
    }

    /// The last checkpoint taken since open.
    #[must_use]
    pub fn last_checkpoint(&self) -> Option<CheckpointInfo> {
        Maintenance::last_checkpoint(&self.inner)
    }
}

/// Takes a checkpoint if there is a log and anything changed since the last one.
pub(crate) fn run(inner: &Inner) -> Result<Option<CheckpointInfo>> {
    let (Some(log), Some(snapshots)) = (inner.log(), inner.snapshots()) else {
        return Ok(None);
    };
    Maintenance::exclusive(inner, || {
        let Some(info) = write(inner, log, snapshots)? else {
            return Ok(None);
        };
        Maintenance::set_last_checkpoint(inner, info.clone())?;
        Ok(Some(info))
    })
}

/// The checkpoint itself, under the maintenance lock.
fn write(
    inner: &Inner,
    log: &tabula_wal::TransactionLog,
    snapshots: &tabula_snapshot::SnapshotStore,
) -> Result<Option<CheckpointInfo>> {
    let started = Instant::now();
    let db = inner.visible();
    if db.lsn() == Lsn::ZERO || covered(inner) == db.lsn() {
        return Ok(None);
    }
    // Under `EverySecond` and `Never` the visible state may be ahead of what the log has synced;
    // a snapshot must never be ahead of a durable log, or recovery would find the log ending
    // before it.
    log.wal().wait_durable(db.lsn())?;
    let (file, summary) = snapshots.write(&db, &inner.options().snapshot)?;
    // The archive gets the segments before they leave the log; if it cannot, they stay.
    super::archive::copy_new(inner)?;
    log.wal().truncate_before(db.lsn().next())?;
    let info = CheckpointInfo {
        lsn: db.lsn(),
        at: inner.now(),
        path: file.path,
        bytes: summary.bytes,
        rows: summary.rows,
        duration: started.elapsed(),
    };
    Ok(Some(info))
}

/// The LSN the newest snapshot covers: the last checkpoint since open, else the one recovered.
fn covered(inner: &Inner) -> Lsn {
    let last = Maintenance::last_checkpoint(inner).map(|c| c.lsn);
    last.or(inner.recovery().snapshot.as_ref().map(|(lsn, _)| *lsn))
        .unwrap_or(Lsn::ZERO)
}

/// Whether the policy asks for a checkpoint now.
pub(crate) fn due(inner: &Inner, since: Instant) -> bool {
    let policy = &inner.options().checkpoint;
    if inner.visible_lsn() <= covered(inner) {
        return false;
    }
    if policy
        .interval
        .is_some_and(|interval| since.elapsed() >= interval)
    {
        return true;
    }
    let Some(limit) = policy.wal_bytes else {
        return false;
    };
    let Some(log) = inner.log() else { return false };
    log.wal()
        .segments()
        .map(|segments| {
            segments
                .iter()
                .filter(|s| s.archived_at.is_none())
                .map(|s| s.bytes)
                .sum::<u64>()
                >= limit
        })
        .unwrap_or(false)
}
