//! The hub: [`Engine`], the state it shares ([`Inner`], `inner.rs`), read views (`view.rs`),
//! interactive transactions (`transaction.rs`), the lock order (`locks.rs`) and the [`Hook`]s
//! through which features take part (`hook.rs`). Nothing here imports a feature: features
//! (`history/`, `maintenance/`, `interop/`) use the hub, and the composition root (`open.rs`)
//! installs their hooks and starts the background worker.
//!
//! See `inner.rs` for the commit path and what readers see when.

mod history_log;
mod hook;
mod inner;
mod locks;
mod reclaim;
mod recovery;
mod transaction;
mod view;

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use tabula_core::{Cause, Lsn, Op, RowChange, Timestamp};
use tabula_wal::TransactionLog;

pub(crate) use history_log::HistoryLog;
pub(crate) use hook::{Around, Hidden, Hook};
pub(crate) use inner::{Inner, Parts};
pub(crate) use locks::{Level, OrderedMutex};
pub use recovery::RecoveryReport;
pub(crate) use recovery::replay;
pub use transaction::WriteTx;
pub use view::{ReadView, ViewTable};

use crate::options::Options;
use crate::{Error, Result};

pub(crate) use crate::system::is_reserved;

/// The lock file in the database directory.
pub const LOCK_FILE: &str = "LOCK";
/// The subdirectory of snapshots.
pub const SNAPSHOT_DIR: &str = "snapshots";
/// The subdirectory of the write-ahead log.
pub const WAL_DIR: &str = "wal";

/// An open database. Share it between threads (`&Engine` or `Arc<Engine>`).
///
/// ```
/// use tabula_core::{Op, Row, TableDef, Value};
/// use tabula_engine::{Engine, Options};
///
/// let dir = tempfile::tempdir()?;
/// let (engine, _report) = Engine::open(dir.path(), Options::default())?;
/// engine.commit(vec![Op::CreateTable(TableDef::new("users", "id"))])?;
/// let row = Row::from([("id".to_owned(), Value::Int(1)), ("name".to_owned(), Value::from("Ada"))]);
/// engine.commit(vec![Op::Insert { table: "users".into(), row }])?;
/// engine.close()?;
///
/// let (engine, report) = Engine::open(dir.path(), Options::default())?;
/// assert_eq!(report.replayed, 2);
/// assert_eq!(engine.read().get("users", &Value::Int(1))?.unwrap().get("name"), Some(Value::from("Ada")));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Engine {
    pub(crate) inner: Arc<Inner>,
    background: Option<Box<dyn Background>>,
}

/// Work running beside the engine (the maintenance worker), stopped when the engine closes.
pub(crate) trait Background: Send + Sync {
    /// Stops it and waits for it.
    fn stop(self: Box<Self>);

    /// The jobs whose last run failed, by name, with their errors.
    fn errors(&self) -> Vec<(&'static str, String)>;
}

/// What a commit did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Committed {
    /// The transaction's LSN.
    pub lsn: Lsn,
    /// When it was committed.
    pub timestamp: Timestamp,
    /// Every row it changed, in op order (with auto-increment keys filled in).
    pub changes: Vec<RowChange>,
}

impl Engine {
    /// An engine on `inner`, with its background work.
    pub(crate) fn from_parts(inner: Arc<Inner>, background: Option<Box<dyn Background>>) -> Engine {
        Engine { inner, background }
    }

    /// The directory, if the database has one.
    #[must_use]
    pub fn dir(&self) -> Option<&Path> {
        self.inner.dir()
    }

    /// The options it was opened with.
    #[must_use]
    pub fn options(&self) -> &Options {
        self.inner.options()
    }

    /// What the last open recovered.
    #[must_use]
    pub fn recovery_report(&self) -> &RecoveryReport {
        self.inner.recovery()
    }

    /// A consistent view of the database at one LSN, O(1): it never blocks writers, and writers
    /// never change it.
    ///
    /// Rows past their time to live ([`crate::Ttl`]) are left out, even before the logged
    /// deletes that remove them.
    #[must_use]
    pub fn read(&self) -> ReadView {
        self.inner.view(self.inner.visible(), || self.inner.now())
    }

    /// Commits `ops` as one transaction: all or nothing.
    pub fn commit(&self, ops: Vec<Op>) -> Result<Committed> {
        self.inner.commit(ops, None)
    }

    /// Commits `ops` with a cause (who, what, where, why) recorded in the log.
    pub fn commit_with_cause(&self, ops: Vec<Op>, cause: Cause) -> Result<Committed> {
        self.inner.commit(ops, Some(cause))
    }

    /// Runs `build` to gather a transaction, then commits it. An error from `build` commits
    /// nothing.
    ///
    /// ```
    /// use tabula_core::{Op, Row, TableDef, Value};
    /// use tabula_engine::{Engine, Options};
    ///
    /// let engine = Engine::in_memory(Options::default());
    /// let (count, committed) = engine.write(|tx| {
    ///     tx.push(Op::CreateTable(TableDef::new("t", "id")));
    ///     tx.push(Op::Insert { table: "t".into(), row: Row::from([("id".to_owned(), Value::Int(1))]) });
    ///     Ok::<_, tabula_engine::Error>(tx.len())
    /// })?;
    /// assert_eq!((count, committed.changes.len()), (2, 1));
    /// # Ok::<(), tabula_engine::Error>(())
    /// ```
    pub fn write<T, E: From<Error>>(
        &self,
        build: impl FnOnce(&mut Batch) -> Result<T, E>,
    ) -> Result<(T, Committed), E> {
        let mut tx = Batch::default();
        let value = build(&mut tx)?;
        let committed = self.inner.commit(tx.ops, tx.cause)?;
        Ok((value, committed))
    }

    /// The background jobs whose last run failed, with their errors.
    pub(crate) fn background_errors(&self) -> Vec<(&'static str, String)> {
        self.background
            .as_ref()
            .map(|background| background.errors())
            .unwrap_or_default()
    }

    /// The write-ahead log underneath, if any (for statistics and tools).
    #[must_use]
    pub fn transaction_log(&self) -> Option<&TransactionLog> {
        self.inner.log()
    }

    /// Closes the database: stops the background checkpoints, syncs the log, releases the lock.
    /// Dropping without closing is safe too (the next open recovers); `close` reports failures.
    pub fn close(mut self) -> Result<()> {
        if let Some(background) = self.background.take() {
            background.stop();
        }
        if let Some(log) = self.inner.log() {
            log.wal().sync()?;
        }
        Ok(())
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Some(background) = self.background.take() {
            background.stop();
        }
    }
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("dir", &self.inner.dir())
            .field("lsn", &self.inner.visible_lsn())
            .finish_non_exhaustive()
    }
}

/// The ops of one transaction being gathered by [`Engine::write`] (committed together when the
/// closure returns; the interactive transaction, which reads as it goes, is [`WriteTx`]).
#[derive(Debug, Default)]
pub struct Batch {
    ops: Vec<Op>,
    cause: Option<Cause>,
}

impl Batch {
    /// Adds an op.
    pub fn push(&mut self, op: Op) -> &mut Batch {
        self.ops.push(op);
        self
    }

    /// Sets the cause recorded with the transaction.
    pub fn cause(&mut self, cause: Cause) -> &mut Batch {
        self.cause = Some(cause);
        self
    }

    /// How many ops so far.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

/// How long the background worker waits between checks of the checkpoint policy, at most.
pub(crate) const POLICY_TICK: std::time::Duration = std::time::Duration::from_millis(500);
