//! [`Clock`]: where the engine's wall-clock time comes from: commit timestamps, what a time to
//! live has expired, the time a tag or a checkpoint records, and "now" for `as_of` a time.
//! [`SystemClock`] reads the system's; [`ManualClock`] is moved by hand, so that tests of
//! expiry and history advance time instead of sleeping.
//!
//! Not covered: the write-ahead log's own times (its `EverySecond` flusher, the names of
//! archived segments and age-based retention), the times snapshot and backup files record
//! (`BackupInfo::created`), and durations measured with `Instant` (how long a recovery took),
//! which are the lower crates' and the machine's.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, UNIX_EPOCH};

use tabula_core::Timestamp;

/// A source of the current time ([`crate::Options::clock`]).
pub trait Clock: Send + Sync + fmt::Debug {
    /// Now.
    fn now(&self) -> Timestamp;
}

/// The system's wall clock (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that stands still until it is moved; clones share one time. For tests: rows expire,
/// and commits get distinct times, when the test says so.
///
/// ```
/// use std::time::Duration;
/// use tabula_core::{Op, Row, TableDef, Timestamp, Value};
/// use tabula_engine::{Engine, ManualClock, Options, Ttl};
///
/// let clock = ManualClock::new(Timestamp::from_micros(1_000_000));
/// let engine = Engine::in_memory(Options::default().clock(clock.clone()));
/// engine.commit(vec![Op::CreateTable(TableDef::new("sessions", "id"))])?;
/// engine.set_ttl("sessions", Ttl::after("seen", Duration::from_secs(60)))?;
/// let row = Row::from([
///     ("id".to_owned(), Value::Int(1)),
///     ("seen".to_owned(), Value::Timestamp(clock.now())),
/// ]);
/// let committed = engine.commit(vec![Op::Insert { table: "sessions".into(), row }])?;
/// assert_eq!(committed.timestamp, clock.now());
///
/// clock.advance(Duration::from_secs(59));
/// assert!(engine.read().get("sessions", &Value::Int(1))?.is_some());
/// clock.advance(Duration::from_secs(1));
/// assert!(engine.read().get("sessions", &Value::Int(1))?.is_none());
/// # Ok::<(), tabula_engine::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    micros: Arc<AtomicI64>,
}

impl ManualClock {
    /// A clock showing `start`.
    #[must_use]
    pub fn new(start: Timestamp) -> ManualClock {
        ManualClock {
            micros: Arc::new(AtomicI64::new(start.as_micros())),
        }
    }

    /// The time it shows.
    #[must_use]
    pub fn now(&self) -> Timestamp {
        Timestamp::from_micros(self.micros.load(Ordering::SeqCst))
    }

    /// Moves it forward by `by` (saturating).
    pub fn advance(&self, by: Duration) {
        let by = i64::try_from(by.as_micros()).unwrap_or(i64::MAX);
        // `fetch_update` cannot fail with a closure that always returns `Some`.
        let _ = self
            .micros
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |now| {
                Some(now.saturating_add(by))
            });
    }

    /// Sets it to `to`, back in time too: while an engine is open its commit times still never
    /// go back (it keeps the last one); across a reopen they go on from the last commit the log
    /// (or its archive) still holds.
    pub fn set(&self, to: Timestamp) {
        self.micros.store(to.as_micros(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        ManualClock::now(self)
    }
}

/// `clock` as the log's clock ([`tabula_wal::WalClock`]): archived segments are named, and aged
/// by retention, by the engine's time.
pub(crate) fn wal_clock(clock: &Arc<dyn Clock>) -> tabula_wal::WalClock {
    let clock = Arc::clone(clock);
    tabula_wal::WalClock::new(move || {
        let micros = u64::try_from(clock.now().as_micros()).unwrap_or(0);
        UNIX_EPOCH + Duration::from_micros(micros)
    })
}
