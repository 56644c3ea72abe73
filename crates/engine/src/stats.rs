//! [`Stats`]: what is in the database and on disk, as the seed's `get_stats` reports it, plus the
//! commit path's counters and the last recovery.

use tabula_core::{Lsn, TableMemory};

use crate::Result;
use crate::db::Engine;
use crate::db::RecoveryReport;
use crate::maintenance::checkpoint::CheckpointInfo;

/// Per-table figures.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TableStats {
    /// The table.
    pub name: String,
    /// Rows.
    pub rows: usize,
    /// The memory its structures hold, measured by walking them: rows, key maps, indexes
    /// (allocator overhead aside; see [`TableMemory`]).
    pub memory: TableMemory,
    /// Indexes (declared and those of unique columns).
    pub indexes: usize,
}

/// Files on disk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DiskStats {
    /// Snapshot files.
    pub snapshots: usize,
    /// Their bytes.
    pub snapshot_bytes: u64,
    /// Live log segments.
    pub wal_segments: usize,
    /// Their bytes.
    pub wal_bytes: u64,
    /// Archived log segments.
    pub archived_segments: usize,
    /// Their bytes.
    pub archived_bytes: u64,
}

/// Everything [`Engine::stats`] reports.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Stats {
    /// The LSN readers see.
    pub lsn: Lsn,
    /// Each table.
    pub tables: Vec<TableStats>,
    /// Files, for a database with a directory.
    pub disk: Option<DiskStats>,
    /// The last checkpoint since open.
    pub last_checkpoint: Option<CheckpointInfo>,
    /// Commits since open.
    pub commits: u64,
    /// Commits since open that found the clock further behind the last commit's time than
    /// [`crate::Options::max_clock_step_back`], and were stamped with the clock's time (the
    /// earlier commit's clock ran ahead).
    pub clock_steps_back: u64,
    /// Log fsyncs since open.
    pub fsyncs: u64,
    /// Commits per fsync: how much group commit shared (0 without fsyncs).
    pub commits_per_fsync: f64,
    /// Live change feed subscribers.
    pub subscribers: usize,
    /// What the last open recovered.
    pub recovery: RecoveryReport,
    /// The background jobs that failed at their last run, with the error (`job: error`); each
    /// is retried at the next tick.
    pub background_errors: Vec<String>,
}

impl Engine {
    /// The statistics. Walks every row to estimate memory, so it costs O(rows).
    pub fn stats(&self) -> Result<Stats> {
        let db = self.read();
        let tables = db
            .tables()
            .map(|table| {
                let memory = table.memory();
                TableStats {
                    name: table.name().to_owned(),
                    rows: table.len(),
                    memory,
                    indexes: table.indexes().len(),
                }
            })
            .collect();
        let disk = match (self.inner.history_log(), self.inner.snapshots()) {
            (Some(log), Some(snapshots)) => {
                let mut disk = DiskStats::default();
                for file in snapshots.list()? {
                    disk.snapshots += 1;
                    disk.snapshot_bytes += file.bytes;
                }
                for segment in log.segments()? {
                    if segment.archived_at.is_some() {
                        disk.archived_segments += 1;
                        disk.archived_bytes += segment.bytes;
                    } else {
                        disk.wal_segments += 1;
                        disk.wal_bytes += segment.bytes;
                    }
                }
                Some(disk)
            }
            _ => None,
        };
        let commits = self.inner.commits();
        let fsyncs = self.inner.log().map_or(0, |log| log.wal().sync_count());
        Ok(Stats {
            lsn: db.lsn(),
            tables,
            disk,
            last_checkpoint: self.last_checkpoint(),
            commits,
            clock_steps_back: self.inner.clock_steps_back(),
            fsyncs,
            commits_per_fsync: if fsyncs == 0 {
                0.0
            } else {
                commits as f64 / fsyncs as f64
            },
            subscribers: crate::history::feed::subscribers(&self.inner),
            recovery: self.inner.recovery().clone(),
            background_errors: self
                .background_errors()
                .into_iter()
                .map(|(job, error)| format!("{job}: {error}"))
                .collect(),
        })
    }
}
