//! [`WalOptions`] and the policies it holds: when to sync ([`SyncPolicy`]), what recovery does with
//! damage ([`RecoveryMode`]), and what happens to segments a checkpoint covers ([`Retention`]).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tabula_core::Lsn;

use crate::{Error, Result};

/// When appended records reach stable storage, as Redis's `appendfsync`.
///
/// | policy | `commit` returns once the record is | lost on a process crash | lost on power loss |
/// |---|---|---|---|
/// | `Always` | synced (`fdatasync`) | nothing | nothing |
/// | `EverySecond` | written to the OS | nothing | up to `sync_interval` of commits (plus the time of one sync) |
/// | `Never` | written to the OS | nothing | whatever the OS had not written back (Linux: up to ~30 s) |
///
/// Under every policy a record passed to [`crate::Wal::append`] but not yet committed, flushed or
/// synced sits in the log's buffer and is lost if the process dies; the background thread writes
/// that buffer to the OS every `sync_interval`. A sealed segment is always synced before the next
/// one starts, and dropping or closing the log syncs it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyncPolicy {
    /// `commit` waits for `fdatasync`. Concurrent committers share one (group commit).
    #[default]
    Always,
    /// `commit` waits for the write to the OS; a background thread syncs every `sync_interval`.
    EverySecond,
    /// `commit` waits for the write to the OS; the log syncs only when a segment is sealed and on
    /// close, and leaves the rest to the OS.
    Never,
}

/// What recovery does with damage, as fjall's `RecoveryMode`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecoveryMode {
    /// Truncate a torn tail (reported in bytes); any other damage is [`Error::Corrupted`].
    #[default]
    TolerateTornTail,
    /// Any damage, even a torn tail, is an error; nothing is changed on disk.
    AbsoluteConsistency,
    /// Skip damaged records and segments, report each lost range, and keep every valid record
    /// after them. LSNs then have gaps where records were lost.
    Salvage,
}

/// What [`crate::Wal::truncate_before`] does with a segment a checkpoint covers, and how long
/// archived segments are kept (for time travel and the change feed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Retention {
    /// Move covered segments to `archive/` instead of removing them.
    pub archive: bool,
    /// Remove archived segments older than this.
    pub max_age: Option<Duration>,
    /// Remove the oldest archived segments while the archive is larger than this many bytes.
    pub max_bytes: Option<u64>,
    /// Remove the oldest archived segments while there are more than this many.
    pub max_count: Option<usize>,
}

impl Retention {
    /// Remove covered segments (the default).
    #[must_use]
    pub fn remove() -> Retention {
        Retention::default()
    }

    /// Archive covered segments and keep them all.
    #[must_use]
    pub fn archive_all() -> Retention {
        Retention {
            archive: true,
            ..Retention::default()
        }
    }

    /// Removes archived segments older than `age`.
    #[must_use]
    pub fn max_age(mut self, age: Duration) -> Retention {
        self.max_age = Some(age);
        self
    }

    /// Keeps at most `bytes` of archived segments.
    #[must_use]
    pub fn max_bytes(mut self, bytes: u64) -> Retention {
        self.max_bytes = Some(bytes);
        self
    }

    /// Keeps at most `count` archived segments.
    #[must_use]
    pub fn max_count(mut self, count: usize) -> Retention {
        self.max_count = Some(count);
        self
    }
}

/// How a log is opened and run. Build it with the methods; the defaults suit a database log.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WalOptions {
    /// When records become durable. Default `Always`.
    pub sync: SyncPolicy,
    /// How often the background thread syncs (`EverySecond`) or writes the buffer (all policies).
    /// Default 1 s.
    pub sync_interval: Duration,
    /// A segment is sealed and a new one started at the first batch boundary at or past this many
    /// bytes. Default 64 MiB.
    pub segment_size: u64,
    /// The largest payload accepted by `append`. Default 64 MiB, at most 4 GiB − 1. Reading and
    /// recovery accept any frame the format can hold, so lowering this never makes records
    /// already written unreadable.
    pub max_record_size: u64,
    /// An appender writes the buffer itself once it holds this many bytes. Default 1 MiB.
    pub buffer_size: usize,
    /// What recovery does with damage. Default `TolerateTornTail`.
    pub recovery: RecoveryMode,
    /// What happens to segments a checkpoint covers. Default: removed.
    pub retention: Retention,
    /// The LSN of the first record of a log that has none yet (a log continuing a snapshot).
    /// When the log has segments, the first LSN the caller needs: recovery accepts a gap
    /// between segments that ends at or before it (the records are in the caller's snapshot).
    /// Default 1.
    pub first_lsn: Lsn,
    /// Where the log reads the time: the names of archived segments and the age retention
    /// judges them by. Default: the system clock.
    pub clock: WalClock,
    /// Called each time the set of live segments changes: after a new segment is created (and
    /// its name synced) and before any record is written to it, and after a checkpoint moved
    /// segments away. The engine records the log's shape in its MANIFEST here. An error at a
    /// rotation poisons the log (no record goes into a segment the caller could not record); at
    /// a checkpoint it is returned. Default: none.
    pub on_segments: SegmentsHook,
}

/// A callback told that the live segments changed ([`WalOptions::on_segments`]).
#[derive(Clone, Default)]
pub struct SegmentsHook(Option<Arc<dyn Fn() -> std::io::Result<()> + Send + Sync>>);

impl SegmentsHook {
    /// A hook that calls `changed`.
    #[must_use]
    pub fn new(changed: impl Fn() -> std::io::Result<()> + Send + Sync + 'static) -> SegmentsHook {
        SegmentsHook(Some(Arc::new(changed)))
    }

    /// Calls the hook, if any.
    pub(crate) fn call(&self) -> std::io::Result<()> {
        self.0.as_ref().map_or(Ok(()), |changed| changed())
    }
}

impl fmt::Debug for SegmentsHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "SegmentsHook"
        } else {
            "None"
        })
    }
}

impl PartialEq for SegmentsHook {
    /// The same hook (one `SegmentsHook` and its clones), or both none.
    fn eq(&self, other: &SegmentsHook) -> bool {
        match (&self.0, &other.0) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        }
    }
}

impl Eq for SegmentsHook {}

/// The clock a log reads ([`WalOptions::clock`]): the system's, or one a test or the engine
/// (its `Options::clock`) moves.
#[derive(Clone)]
pub struct WalClock(Arc<dyn Fn() -> SystemTime + Send + Sync>);

impl WalClock {
    /// The system clock.
    #[must_use]
    pub fn system() -> WalClock {
        WalClock(Arc::new(SystemTime::now))
    }

    /// A clock that asks `now` for the time.
    #[must_use]
    pub fn new(now: impl Fn() -> SystemTime + Send + Sync + 'static) -> WalClock {
        WalClock(Arc::new(now))
    }

    /// Now, by this clock.
    #[must_use]
    pub fn now(&self) -> SystemTime {
        (self.0)()
    }
}

impl fmt::Debug for WalClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WalClock")
    }
}

impl PartialEq for WalClock {
    /// The same clock (one `WalClock` and its clones).
    fn eq(&self, other: &WalClock) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for WalClock {}

impl Default for WalOptions {
    fn default() -> Self {
        WalOptions {
            sync: SyncPolicy::Always,
            sync_interval: Duration::from_secs(1),
            segment_size: 64 << 20,
            max_record_size: 64 << 20,
            buffer_size: 1 << 20,
            recovery: RecoveryMode::TolerateTornTail,
            retention: Retention::default(),
            first_lsn: Lsn(1),
            clock: WalClock::system(),
            on_segments: SegmentsHook::default(),
        }
    }
}

impl WalOptions {
    /// The defaults.
    #[must_use]
    pub fn new() -> WalOptions {
        WalOptions::default()
    }

    /// Sets the sync policy.
    #[must_use]
    pub fn sync(mut self, sync: SyncPolicy) -> WalOptions {
        self.sync = sync;
        self
    }

    /// Sets the background interval.
    #[must_use]
    pub fn sync_interval(mut self, interval: Duration) -> WalOptions {
        self.sync_interval = interval;
        self
    }

    /// Sets the segment size.
    #[must_use]
    pub fn segment_size(mut self, bytes: u64) -> WalOptions {
        self.segment_size = bytes;
        self
    }

    /// Sets the largest payload.
    #[must_use]
    pub fn max_record_size(mut self, bytes: u64) -> WalOptions {
        self.max_record_size = bytes;
        self
    }

    /// Sets the buffer size at which appenders write.
    #[must_use]
    pub fn buffer_size(mut self, bytes: usize) -> WalOptions {
        self.buffer_size = bytes;
        self
    }

    /// Sets the recovery mode.
    #[must_use]
    pub fn recovery(mut self, mode: RecoveryMode) -> WalOptions {
        self.recovery = mode;
        self
    }

    /// Sets the retention policy.
    #[must_use]
    pub fn retention(mut self, retention: Retention) -> WalOptions {
        self.retention = retention;
        self
    }

    /// Sets the first LSN of an empty log.
    #[must_use]
    pub fn first_lsn(mut self, lsn: Lsn) -> WalOptions {
        self.first_lsn = lsn;
        self
    }

    /// Sets the clock ([`WalOptions::clock`]).
    #[must_use]
    pub fn clock(mut self, clock: WalClock) -> WalOptions {
        self.clock = clock;
        self
    }

    /// Sets the hook told when the live segments change ([`WalOptions::on_segments`]).
    #[must_use]
    pub fn on_segments(mut self, hook: SegmentsHook) -> WalOptions {
        self.on_segments = hook;
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.max_record_size == 0 || self.max_record_size > crate::format::MAX_PAYLOAD_LEN {
            return Err(Error::InvalidOption(format!(
                "max_record_size {} is not in 1..={}",
                self.max_record_size,
                crate::format::MAX_PAYLOAD_LEN
            )));
        }
        if self.sync_interval.is_zero() {
            return Err(Error::InvalidOption("sync_interval is zero".to_owned()));
        }
        if self.first_lsn == Lsn::ZERO {
            return Err(Error::InvalidOption(
                "first_lsn is 0, which means 'before the first record'".to_owned(),
            ));
        }
        Ok(())
    }
}
