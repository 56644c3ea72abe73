//! [`Options`]: how an engine is opened and run, with the defaults a database user expects
//! (durable commits, zstd bincode checkpoints, three snapshots kept).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tabula_codec::{Codec, Format};
use tabula_core::Limits;
use tabula_snapshot::{SnapshotOptions, SnapshotRetention};
use tabula_wal::{RecoveryMode, Retention, SyncPolicy};

use crate::clock::{Clock, SystemClock};

/// When checkpoints are taken automatically, as Redis's `save` rules: after so many bytes of log,
/// or so much time with changes, whichever comes first. Both `None` turns them off.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckpointPolicy {
    /// Checkpoint once the log since the last checkpoint holds this many bytes. Default 64 MiB.
    pub wal_bytes: Option<u64>,
    /// Checkpoint this long after the last one if anything changed. Default 5 minutes.
    pub interval: Option<Duration>,
}

impl Default for CheckpointPolicy {
    fn default() -> Self {
        CheckpointPolicy {
            wal_bytes: Some(64 << 20),
            interval: Some(Duration::from_secs(300)),
        }
    }
}

impl CheckpointPolicy {
    /// No automatic checkpoints.
    #[must_use]
    pub fn manual() -> CheckpointPolicy {
        CheckpointPolicy {
            wal_bytes: None,
            interval: None,
        }
    }
}

/// How an engine is opened.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// When commits are durable. Default `Always`.
    pub sync: SyncPolicy,
    /// The log's background interval (the `EverySecond` period). Default 1 s.
    pub sync_interval: Duration,
    /// What recovery does with damaged log records. Default: truncate a torn tail only.
    pub recovery: RecoveryMode,
    /// The codec of logged transactions. Default bincode.
    pub wal_format: Format,
    /// Log segment size. Default 64 MiB.
    pub segment_size: u64,
    /// What happens to log segments a checkpoint covers. Default: archived (in `wal/archive/`)
    /// for time travel, history and the change feed, and removed after 7 days or beyond 1 GiB of
    /// archive, whichever comes first. `Retention::remove()` keeps no history beyond the
    /// snapshots.
    pub wal_retention: Retention,
    /// How checkpoints are written. Default bincode, zstd.
    pub snapshot: SnapshotOptions,
    /// How many snapshots are kept. Default 3.
    pub snapshot_retention: SnapshotRetention,
    /// Automatic checkpoints.
    pub checkpoint: CheckpointPolicy,
    /// The data model's limits.
    pub limits: Limits,
    /// A second directory that sealed log segments and snapshots are copied to as they are
    /// produced (see [`crate::restore_archive`]). Default none.
    pub archive: Option<PathBuf>,
    /// What the archive keeps: snapshots by count and age (the newest always stays), and the
    /// log segments that reach past the oldest snapshot kept. Default: every snapshot of the
    /// last 7 days, as `wal_retention` keeps the local history (Litestream's `retention` is
    /// 24 h).
    pub archive_retention: SnapshotRetention,
    /// Whether the background thread runs (checkpoints by policy, TTL deletes, archive copies).
    /// Default true; tools that only look at a database turn it off so that looking writes
    /// nothing.
    pub background: bool,
    /// Where the time comes from: commit timestamps, expiry, tag and checkpoint times. Default
    /// the system's ([`SystemClock`]); tests use a [`crate::ManualClock`].
    pub clock: Arc<dyn Clock>,
    /// How far the clock may be behind the last commit's time and commit times still stay in
    /// order (the next commit is stamped with the last one's time). Further behind, the last
    /// commit was stamped by a clock that ran ahead, and commits are stamped with the clock's
    /// time again instead of that future time forever. Default 10 minutes.
    pub max_clock_step_back: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            sync: SyncPolicy::Always,
            sync_interval: Duration::from_secs(1),
            recovery: RecoveryMode::TolerateTornTail,
            wal_format: Format::Bincode,
            segment_size: 64 << 20,
            wal_retention: Retention::archive_all()
                .max_age(Duration::from_secs(7 * 24 * 3600))
                .max_bytes(1 << 30),
            snapshot: SnapshotOptions::default(),
            snapshot_retention: SnapshotRetention::default(),
            checkpoint: CheckpointPolicy::default(),
            limits: Limits::default(),
            archive: None,
            archive_retention: SnapshotRetention::keep(usize::MAX)
                .max_age(Duration::from_secs(7 * 24 * 3600)),
            background: true,
            clock: Arc::new(SystemClock),
            max_clock_step_back: Duration::from_secs(600),
        }
    }
}

impl Options {
    /// The defaults.
    #[must_use]
    pub fn new() -> Options {
        Options::default()
    }

    /// Sets the sync policy.
    #[must_use]
    pub fn sync(mut self, sync: SyncPolicy) -> Options {
        self.sync = sync;
        self
    }

    /// Sets the log's background interval.
    #[must_use]
    pub fn sync_interval(mut self, interval: Duration) -> Options {
        self.sync_interval = interval;
        self
    }

    /// Sets the recovery mode.
    #[must_use]
    pub fn recovery(mut self, mode: RecoveryMode) -> Options {
        self.recovery = mode;
        self
    }

    /// Sets the log segment size.
    #[must_use]
    pub fn segment_size(mut self, bytes: u64) -> Options {
        self.segment_size = bytes;
        self
    }

    /// Sets the checkpoint policy.
    #[must_use]
    pub fn checkpoint(mut self, policy: CheckpointPolicy) -> Options {
        self.checkpoint = policy;
        self
    }

    /// Sets the log retention.
    #[must_use]
    pub fn wal_retention(mut self, retention: Retention) -> Options {
        self.wal_retention = retention;
        self
    }

    /// Sets the snapshot options.
    #[must_use]
    pub fn snapshot(mut self, options: SnapshotOptions) -> Options {
        self.snapshot = options;
        self
    }

    /// Sets the snapshot retention.
    #[must_use]
    pub fn snapshot_retention(mut self, retention: SnapshotRetention) -> Options {
        self.snapshot_retention = retention;
        self
    }

    /// Sets the limits.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Options {
        self.limits = limits;
        self
    }

    /// Copies sealed log segments and snapshots to `dir` as they are produced.
    #[must_use]
    pub fn archive_to(mut self, dir: impl Into<PathBuf>) -> Options {
        self.archive = Some(dir.into());
        self
    }

    /// Runs the background thread or not (see [`Options::background`]).
    #[must_use]
    pub fn background(mut self, on: bool) -> Options {
        self.background = on;
        self
    }
    /// Sets the clock (see [`Options::clock`](Options#structfield.clock)).
    #[must_use]
    pub fn clock(mut self, clock: impl Clock + 'static) -> Options {
        self.clock = Arc::new(clock);
        self
    }

    /// Sets [`Options::archive_retention`].
    #[must_use]
    pub fn archive_retention(mut self, retention: SnapshotRetention) -> Options {
        self.archive_retention = retention;
        self
    }

    /// Sets [`Options::max_clock_step_back`].
    #[must_use]
    pub fn max_clock_step_back(mut self, step: Duration) -> Options {
        self.max_clock_step_back = step;
        self
    }

    pub(crate) fn wal_codec(&self) -> Codec {
        Codec::new(self.wal_format)
    }
}
