//! [`Engine`]: open (or create) and recover a database directory, commit transactions from many
//! threads, read consistent views, take checkpoints, close.
//!
//! The commit path, and what readers see:
//! 1. Under the writer lock: the transaction gets the next LSN and is applied to an O(1) copy of
//!    the current state (a refused transaction changes nothing), then appended to the log's buffer
//!    and the copy becomes the writers' state and joins the *pending* states.
//! 2. Without any engine lock: the committer waits for the sync policy (`Always`: the fsync, which
//!    concurrent committers share through the log's group commit).
//! 3. The pending states whose LSN the log has made durable (written, under `EverySecond` and
//!    `Never`) become visible, in LSN order.
//!
//! So readers see only what is durable under `Always` (nothing a reader saw can be lost, whether
//! or not its writer was told yet), and a committer's own write is visible when `commit`
//! returns. A log failure after step 1 poisons the engine: no further write is accepted until it
//! is reopened, which recovers exactly the durable commits.

use std::collections::VecDeque;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use tabula_core::{Cause, Database, Lsn, Op, RowChange, Timestamp, Transaction};
use tabula_snapshot::{LoadOptions, SnapshotStore};
use tabula_storage::{FsStorage, Storage};
use tabula_wal::{SyncPolicy, TransactionLog, Wal, WalOptions};

use crate::checkpoint::CheckpointInfo;
use crate::options::Options;
use crate::recovery::RecoveryReport;
use crate::worker::Worker;
use crate::{Error, Result};

/// Takes the lock of the database directory `dir` (held until the returned guard drops).
pub(crate) fn lock_dir(
    storage: &dyn Storage,
    dir: &Path,
) -> Result<Box<dyn fmt::Debug + Send + Sync>> {
    let lock_path = dir.join(LOCK_FILE);
    storage.lock(&lock_path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::WouldBlock {
            Error::AlreadyOpen {
                dir: dir.to_path_buf(),
                holder: source.to_string(),
            }
        } else {
            Error::Io {
                op: "lock",
                path: lock_path,
                error: source,
            }
        }
    })
}

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
/// assert_eq!(engine.read().get("users", &Value::Int(1))?.unwrap()["name"], Value::from("Ada"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Engine {
    pub(crate) inner: Arc<Inner>,
    worker: Option<Worker>,
}

pub(crate) struct Inner {
    pub(crate) dir: Option<PathBuf>,
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) options: Options,
    pub(crate) log: Option<TransactionLog>,
    pub(crate) snapshots: Option<SnapshotStore>,
    /// The state after the last accepted transaction; its lock serializes commits.
    writer: Mutex<Database>,
    /// States accepted but not yet visible (durable, under `Always`), each with the transaction
    /// that made it, in LSN order. Locked before `visible`. `publish` moves them to `visible` and
    /// hands their transactions to the change feed.
    pending: Mutex<VecDeque<(Database, Transaction)>>,
    /// The change feed's live subscribers; changed only under `pending`'s lock.
    pub(crate) feed: Mutex<crate::feed::Subscribers>,
    /// The timestamp of the last commit (µs): commit times never go backwards, so that a time
    /// names one point in the log (`At::Time`) even if the wall clock steps back.
    last_timestamp: AtomicI64,
    /// What readers see.
    visible: RwLock<Database>,
    poisoned: Mutex<Option<Arc<tabula_wal::Error>>>,
    pub(crate) commits: AtomicU64,
    pub(crate) last_checkpoint: Mutex<Option<CheckpointInfo>>,
    /// One checkpoint at a time.
    pub(crate) checkpointing: Mutex<()>,
    pub(crate) recovery: RecoveryReport,
    _lock: Option<Box<dyn fmt::Debug + Send + Sync>>,
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
    /// Opens (creating if needed) the database in `dir` on the real file system and recovers it.
    pub fn open(dir: impl AsRef<Path>, options: Options) -> Result<(Engine, RecoveryReport)> {
        Engine::open_on(Arc::new(FsStorage), dir, options)
    }

    /// Opens the database in `dir` on `storage` (such as a `SimStorage` in crash tests).
    pub fn open_on(
        storage: Arc<dyn Storage>,
        dir: impl AsRef<Path>,
        options: Options,
    ) -> Result<(Engine, RecoveryReport)> {
        let started = Instant::now();
        let dir = dir.as_ref().to_path_buf();
        storage.create_dir_all(&dir).map_err(|source| Error::Io {
            op: "create directory",
            path: dir.clone(),
            error: source,
        })?;
        let lock = lock_dir(&*storage, &dir)?;
        let snapshots = SnapshotStore::open_on(Arc::clone(&storage), dir.join(SNAPSHOT_DIR))?
            .with_retention(options.snapshot_retention.clone());
        snapshots.remove_temp_files()?;
        let load = LoadOptions::with_limits(options.limits);
        let (mut db, snapshot, skipped) = match snapshots.load_newest(&load)? {
            Some(newest) => (
                newest.loaded.database,
                Some((newest.file.lsn, newest.file.path)),
                newest.skipped,
            ),
            None => (Database::with_limits(options.limits), None, Vec::new()),
        };
        let wal_options = WalOptions::new()
            .sync(options.sync)
            .sync_interval(options.sync_interval)
            .segment_size(options.segment_size)
            .recovery(options.recovery)
            .retention(options.wal_retention.clone())
            .first_lsn(db.lsn().next());
        let (wal, wal_report) = Wal::open_on(Arc::clone(&storage), dir.join(WAL_DIR), wal_options)?;
        // Finish a checkpoint a crash interrupted: segments the snapshot covers may be left in
        // the log, even with a gap after them (the file system kept a later removal but not an
        // earlier one), which would stop history reads. Usually there are none and this writes
        // nothing.
        if db.lsn() > Lsn::ZERO {
            wal.truncate_before(db.lsn().next())?;
        }
        let log = TransactionLog::new(wal, options.wal_codec());
        let (replayed, last_timestamp) = crate::recovery::replay(&log, &mut db)?;
        let recovery = RecoveryReport {
            snapshot,
            skipped_snapshots: skipped,
            replayed,
            wal: wal_report,
            duration: started.elapsed(),
        };
        let inner = Arc::new(Inner {
            dir: Some(dir),
            storage,
            log: Some(log),
            snapshots: Some(snapshots),
            writer: Mutex::new(db.clone()),
            pending: Mutex::new(VecDeque::new()),
            feed: Mutex::new(crate::feed::Subscribers::default()),
            last_timestamp: AtomicI64::new(last_timestamp.as_micros()),
            visible: RwLock::new(db),
            poisoned: Mutex::new(None),
            commits: AtomicU64::new(0),
            last_checkpoint: Mutex::new(None),
            checkpointing: Mutex::new(()),
            recovery: recovery.clone(),
            _lock: Some(lock),
            options,
        });
        let worker = Worker::start(&inner)?;
        Ok((Engine { inner, worker }, recovery))
    }

    /// A database in memory only, with no directory, log or snapshots (for tests and caches).
    #[must_use]
    pub fn in_memory(options: Options) -> Engine {
        let db = Database::with_limits(options.limits);
        let inner = Arc::new(Inner {
            dir: None,
            storage: Arc::new(FsStorage),
            log: None,
            snapshots: None,
            writer: Mutex::new(db.clone()),
            pending: Mutex::new(VecDeque::new()),
            feed: Mutex::new(crate::feed::Subscribers::default()),
            last_timestamp: AtomicI64::new(i64::MIN),
            visible: RwLock::new(db),
            poisoned: Mutex::new(None),
            commits: AtomicU64::new(0),
            last_checkpoint: Mutex::new(None),
            checkpointing: Mutex::new(()),
            recovery: RecoveryReport::default(),
            _lock: None,
            options,
        });
        // The background thread deletes expired rows. Should it fail to start, reads and writes
        // still leave expired rows out; they are deleted by the next write to their table or by
        // `reap_expired`.
        let worker = Worker::start(&inner).ok().flatten();
        Engine { inner, worker }
    }

    /// The directory, if the database has one.
    #[must_use]
    pub fn dir(&self) -> Option<&Path> {
        self.inner.dir.as_deref()
    }

    /// The options it was opened with.
    #[must_use]
    pub fn options(&self) -> &Options {
        &self.inner.options
    }

    /// What the last open recovered.
    #[must_use]
    pub fn recovery_report(&self) -> &RecoveryReport {
        &self.inner.recovery
    }

    /// A consistent view of the database at one LSN, O(1): it never blocks writers, and writers
    /// never change it.
    ///
    /// Rows past their time to live ([`crate::Ttl`]) are left out, even before the logged
    /// deletes that remove them.
    #[must_use]
    pub fn read(&self) -> Database {
        let db = self.inner.visible.read().clone();
        crate::ttl::hide_expired(db, || self.inner.now())
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
        build: impl FnOnce(&mut Tx) -> Result<T, E>,
    ) -> Result<(T, Committed), E> {
        let mut tx = Tx::default();
        let value = build(&mut tx)?;
        let committed = self.inner.commit(tx.ops, tx.cause)?;
        Ok((value, committed))
    }

    /// Takes a checkpoint now: a snapshot of the durable state, then the log before it is
    /// removed or archived. Writers go on meanwhile. `None` in memory, or when nothing changed
    /// since the last one.
    pub fn checkpoint(&self) -> Result<Option<CheckpointInfo>> {
        crate::checkpoint::run(&self.inner)
    }

    /// The last checkpoint taken since open.
    #[must_use]
    pub fn last_checkpoint(&self) -> Option<CheckpointInfo> {
        self.inner.last_checkpoint.lock().clone()
    }

    /// The background jobs whose last run failed, with their errors.
    pub(crate) fn background_errors(&self) -> Vec<(crate::worker::Job, String)> {
        self.worker
            .as_ref()
            .map(Worker::last_errors)
            .unwrap_or_default()
    }

    /// The write-ahead log underneath, if any (for statistics and tools).
    #[must_use]
    pub fn transaction_log(&self) -> Option<&TransactionLog> {
        self.inner.log.as_ref()
    }

    /// Closes the database: stops the background checkpoints, syncs the log, releases the lock.
    /// Dropping without closing is safe too (the next open recovers); `close` reports failures.
    pub fn close(mut self) -> Result<()> {
        if let Some(worker) = self.worker.take() {
            worker.stop();
        }
        if let Some(log) = &self.inner.log {
            log.wal().sync()?;
        }
        Ok(())
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Some(worker) = self.worker.take() {
            worker.stop();
        }
    }
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("dir", &self.inner.dir)
            .field("lsn", &self.inner.visible.read().lsn())
            .finish_non_exhaustive()
    }
}

/// A transaction being gathered by [`Engine::write`].
#[derive(Debug, Default)]
pub struct Tx {
    ops: Vec<Op>,
    cause: Option<Cause>,
}

impl Tx {
    /// Adds an op.
    pub fn push(&mut self, op: Op) -> &mut Tx {
        self.ops.push(op);
        self
    }

    /// Sets the cause recorded with the transaction.
    pub fn cause(&mut self, cause: Cause) -> &mut Tx {
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

impl Inner {
    pub(crate) fn check_poison(&self) -> Result<()> {
        match &*self.poisoned.lock() {
            Some(cause) => Err(Error::Poisoned {
                cause: Arc::clone(cause),
            }),
            None => Ok(()),
        }
    }

    fn poison(&self, error: tabula_wal::Error) -> Error {
        let cause = Arc::clone(self.poisoned.lock().get_or_insert_with(|| Arc::new(error)));
        Error::Poisoned { cause }
    }

    fn commit(&self, ops: Vec<Op>, cause: Option<Cause>) -> Result<Committed> {
        if let Some(op) = ops.iter().find(|op| crate::system::is_reserved(op.table())) {
            return Err(Error::ReservedTable {
                table: op.table().to_owned(),
            });
        }
        // Expired rows of the tables written go first, so that writes agree with reads.
        let (mut reaped, mut dropped_rules) = (0, 0);
        let committed = self.commit_with(|db, at| {
            let room = self.options.limits.max_ops_per_transaction;
            let (before, after) = crate::ttl::around(db, &ops, at, room.saturating_sub(ops.len()));
            if before.is_empty() && after.is_empty() {
                return Ok(Some((ops, cause)));
            }
            (reaped, dropped_rules) = (before.len(), after.len());
            let mut all = before;
            all.extend(ops);
            all.extend(after);
            Ok(Some((all, cause)))
        })?;
        let mut committed = built(committed)?;
        // Each delete changed one row: the caller sees the changes of its own ops only.
        let own = committed.changes.len().saturating_sub(dropped_rules);
        committed.changes.truncate(own);
        committed.changes.drain(..reaped.min(own));
        Ok(committed)
    }

    /// Commits the ops `build` makes from the writers' current state, under the writer lock: for
    /// changes that depend on the state (tags name its LSN, rollbacks undo its differences).
    pub(crate) fn commit_built(
        &self,
        build: impl FnOnce(&Database) -> Result<(Vec<Op>, Option<Cause>)>,
    ) -> Result<Committed> {
        built(self.commit_with(|db, _| build(db).map(Some))?)
    }

    /// Commits the ops `build` makes from the writers' current state and the commit's
    /// timestamp, under the writer lock; `build` returning `None` commits nothing.
    pub(crate) fn commit_with(
        &self,
        build: impl FnOnce(&Database, Timestamp) -> Result<Option<(Vec<Op>, Option<Cause>)>>,
    ) -> Result<Option<Committed>> {
        self.check_poison()?;
        let _writing = crate::transaction::Writing::enter(self)?;
        let (lsn, timestamp, changes) = {
            let mut state = self.writer.lock();
            // Checked again under the lock: a commit that failed while we waited poisoned it.
            self.check_poison()?;
            let timestamp = self.next_timestamp();
            let Some((ops, cause)) = build(&state, timestamp)? else {
                return Ok(None);
            };
            let lsn = state.lsn().next();
            let tx = Transaction {
                lsn,
                timestamp,
                cause,
                ops,
            };
            let mut staged = state.clone();
            let changes = staged.apply(&tx)?;
            self.stage(&mut state, staged, tx)?;
            (lsn, timestamp, changes)
        };
        self.acknowledge(lsn)?;
        Ok(Some(Committed {
            lsn,
            timestamp,
            changes,
        }))
    }

    /// Step 1's end, under the writer lock (`state` is its guard): appends `tx`, whose ops made
    /// `staged` from `state`, to the log's buffer; `staged` becomes the writers' state and joins
    /// the pending states. Nothing changes if the log refuses the record.
    pub(crate) fn stage(
        &self,
        state: &mut Database,
        staged: Database,
        mut tx: Transaction,
    ) -> Result<()> {
        let lsn = tx.lsn;
        if let Some(log) = &self.log {
            match log.append(&mut tx) {
                Ok(logged) if logged == lsn => {}
                Ok(logged) => {
                    debug_assert_eq!(logged, lsn, "the log and the database disagree on LSNs");
                    return Err(self.poison(tabula_wal::Error::Bug {
                        what: format!(
                            "the log gave LSN {logged} where the database expected {lsn}"
                        ),
                    }));
                }
                // Not appended (the record could not be encoded, or was too large): the
                // transaction is refused and nothing changed.
                Err(error) if !error.is_poisoned() => return Err(Error::Wal(error)),
                Err(error) => return Err(self.poison(error)),
            }
        }
        *state = staged.clone();
        self.pending.lock().push_back((staged, tx));
        Ok(())
    }

    /// Steps 2 and 3, after the writer lock is released: waits for the sync policy to cover
    /// `lsn`, then publishes.
    pub(crate) fn acknowledge(&self, lsn: Lsn) -> Result<()> {
        if let Some(log) = &self.log
            && let Err(error) = log.wal().commit_appended(lsn)
        {
            return Err(self.poison(error));
        }
        self.publish();
        self.commits.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// The writers' state, locked: an interactive transaction holds it while its caller's code
    /// runs.
    pub(crate) fn lock_writer(&self) -> parking_lot::MutexGuard<'_, Database> {
        self.writer.lock()
    }

    /// Makes visible the newest pending state the log has made durable (or written, under the
    /// weaker policies). `visible` is updated while `pending` is held, so that a committer whose
    /// state another thread published finds it visible once its own `publish` returns.
    fn publish(&self) {
        let visible_lsn = match &self.log {
            None => Lsn(u64::MAX),
            Some(log) if self.options.sync == SyncPolicy::Always => log.wal().durable_lsn(),
            Some(log) => log.wal().written_lsn(),
        };
        let mut pending = self.pending.lock();
        let mut newest = None;
        let mut published = Vec::new();
        while pending
            .front()
            .is_some_and(|(db, _)| db.lsn() <= visible_lsn)
        {
            if let Some((db, tx)) = pending.pop_front() {
                newest = Some(db);
                published.push(tx);
            }
        }
        if !published.is_empty() {
            self.feed.lock().publish(published);
        }
        if let Some(db) = newest {
            let mut visible = self.visible.write();
            if db.lsn() > visible.lsn() {
                *visible = db;
            }
        }
    }

    /// The next commit's timestamp: now, or the last one's if the clock stepped back.
    pub(crate) fn next_timestamp(&self) -> Timestamp {
        let now = self.now().as_micros();
        let last = self.last_timestamp.load(Ordering::Relaxed);
        let next = now.max(last);
        self.last_timestamp.store(next, Ordering::Relaxed);
        Timestamp::from_micros(next)
    }

    /// Now, by the engine's clock ([`Options::clock`](crate::Options)).
    pub(crate) fn now(&self) -> Timestamp {
        self.options.clock.now()
    }

    /// The timestamp of the last commit, if one was made or replayed since open.
    pub(crate) fn last_timestamp(&self) -> Option<Timestamp> {
        let last = self.last_timestamp.load(Ordering::Relaxed);
        (last != i64::MIN).then(|| Timestamp::from_micros(last))
    }

    /// Runs `f` with the visible state while no transaction can become visible: the change feed
    /// registers a live subscriber here, so it neither misses nor repeats a transaction.
    pub(crate) fn with_visible_frozen<T>(&self, f: impl FnOnce(&Database) -> T) -> T {
        let _pending = self.pending.lock();
        f(&self.visible.read())
    }

    /// The visible state, for checkpoints and history.
    pub(crate) fn visible(&self) -> Database {
        self.visible.read().clone()
    }

    /// The LSN readers see, for the checkpoint policy.
    pub(crate) fn visible_lsn(&self) -> Lsn {
        self.visible.read().lsn()
    }
}

/// The commit of a `build` that always returns ops: `commit_with` only skips when it does not.
fn built(committed: Option<Committed>) -> Result<Committed> {
    debug_assert!(
        committed.is_some(),
        "a transaction was built but not committed"
    );
    committed.ok_or_else(|| Error::Bug {
        what: "a transaction was built but not committed".to_owned(),
    })
}

/// How long a thread sleeps between checks of the checkpoint policy, at most.
pub(crate) const POLICY_TICK: Duration = Duration::from_millis(500);
