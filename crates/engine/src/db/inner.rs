//! [`Inner`]: the state an [`Engine`](super::Engine) shares with its background worker and its
//! subscriptions, and the commit path.
//!
//! The commit path, and what readers see:
//! 1. Under the writer lock: the transaction gets the next LSN and is applied to an O(1) copy of
//!    the current state (a refused transaction changes nothing), then appended to the log's buffer
//!    and the copy becomes the writers' state and joins the *pending* states.
//! 2. Without any engine lock: the committer waits for the sync policy (`Always`: the fsync, which
//!    concurrent committers share through the log's group commit).
//! 3. The pending states whose LSN the log has made durable (written, under `EverySecond` and
//!    `Never`) become visible, in LSN order, and the hooks that listen receive their
//!    transactions.
//!
//! So readers see only what is durable under `Always` (nothing a reader saw can be lost, whether
//! or not its writer was told yet), and a committer's own write is visible when `commit`
//! returns. A log failure after step 1 poisons the engine: no further write is accepted until it
//! is reopened, which recovers exactly the durable commits.
//!
//! Features take part through [`Hook`]s only; the locks are taken in the order of `locks.rs`.

use std::any::Any;
use std::collections::VecDeque;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use tabula_core::{Cause, Lsn, Op, State, Timestamp, Transaction};
use tabula_snapshot::SnapshotStore;
use tabula_storage::Storage;
use tabula_wal::{SyncPolicy, TransactionLog, TransactionReader};

use super::history_log::HistoryLog;
use super::hook::{Around, Hook};
use super::locks::{Level, OrderedGuard, OrderedMutex, OrderedRwLock};
use super::reclaim::Reclaimer;
use super::recovery::RecoveryReport;
use super::transaction::Writing;
use super::view::ReadView;
use super::{Committed, is_reserved};
use crate::options::Options;
use crate::{Error, Result};

/// Everything [`Inner::new`] needs: what opening (or creating in memory) produced.
pub(crate) struct Parts {
    /// The directory, if any.
    pub(crate) dir: Option<PathBuf>,
    /// The storage the directory is on.
    pub(crate) storage: Arc<dyn Storage>,
    /// The options.
    pub(crate) options: Options,
    /// The log, if any.
    pub(crate) log: Option<TransactionLog>,
    /// For a database opened read-only: its log, read without opening it.
    pub(crate) reader: Option<TransactionReader>,
    /// The snapshots, if any.
    pub(crate) snapshots: Option<SnapshotStore>,
    /// What opening recovered.
    pub(crate) recovery: RecoveryReport,
    /// The recovered state.
    pub(crate) state: State,
    /// Opened read-only: every write is refused with [`Error::ReadOnly`].
    pub(crate) read_only: bool,
    /// The last commit's time, if known.
    pub(crate) last_timestamp: Option<Timestamp>,
    /// The directory lock, held as long as the engine.
    pub(crate) lock: Option<Box<dyn fmt::Debug + Send + Sync>>,
    /// The features' hooks, in the order they run.
    pub(crate) hooks: Vec<Arc<dyn Hook>>,
}

/// The shared state of an open database.
pub(crate) struct Inner {
    dir: Option<PathBuf>,
    storage: Arc<dyn Storage>,
    options: Options,
    log: Option<TransactionLog>,
    reader: Option<TransactionReader>,
    snapshots: Option<SnapshotStore>,
    recovery: RecoveryReport,
    /// The state after the last accepted transaction; its lock serializes commits.
    writer: OrderedMutex<State>,
    /// States accepted but not yet visible (durable, under `Always`), each with the transaction
    /// that made it, in LSN order. `publish` moves them to `visible` and hands their
    /// transactions to the listening hooks.
    pending: OrderedMutex<VecDeque<(State, Transaction)>>,
    /// What readers see.
    visible: OrderedRwLock<State>,
    /// The LSN of `visible`, for committers to see without a lock that another committer has
    /// already published their state (group commit wakes many at once; profiled with 64 writers,
    /// each taking `pending` to find nothing left was a third of a context switch per commit).
    published_lsn: AtomicU64,
    /// The timestamp of the last commit (µs): commit times never go backwards, so that a time
    /// names one point in the log (`At::Time`) even if the wall clock steps back.
    last_timestamp: AtomicI64,
    poisoned: OrderedMutex<Option<Arc<tabula_wal::Error>>>,
    commits: AtomicU64,
    clock_steps_back: AtomicU64,
    hooks: Arc<[Arc<dyn Hook>]>,
    read_only: bool,
    /// Frees what commits replace, off the commit path.
    reclaimer: Reclaimer,
    _lock: Option<Box<dyn fmt::Debug + Send + Sync>>,
}

impl Inner {
    /// The engine's shared state, from what opening produced: the one constructor, for
    /// directories and in-memory databases alike.
    pub(crate) fn new(parts: Parts) -> Inner {
        let Parts {
            dir,
            storage,
            options,
            log,
            reader,
            snapshots,
            recovery,
            state,
            read_only,
            last_timestamp,
            lock,
            hooks,
        } = parts;
        Inner {
            dir,
            storage,
            options,
            log,
            reader,
            snapshots,
            recovery,
            writer: OrderedMutex::new(Level::Writer, state.clone()),
            pending: OrderedMutex::new(Level::Pending, VecDeque::new()),
            published_lsn: AtomicU64::new(state.lsn().0),
            visible: OrderedRwLock::new(Level::Visible, state),
            last_timestamp: AtomicI64::new(last_timestamp.map_or(i64::MIN, Timestamp::as_micros)),
            poisoned: OrderedMutex::new(Level::Leaf, None),
            commits: AtomicU64::new(0),
            clock_steps_back: AtomicU64::new(0),
            hooks: hooks.into(),
            read_only,
            reclaimer: Reclaimer::new(),
            _lock: lock,
        }
    }

    /// This engine's identity (its address), for the lock-order record and the writing guard.
    pub(crate) fn id(&self) -> usize {
        std::ptr::from_ref(self) as usize
    }

    /// The directory, if the database has one.
    pub(crate) fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The storage the directory is on.
    pub(crate) fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    /// The options it was opened with.
    pub(crate) fn options(&self) -> &Options {
        &self.options
    }

    /// The log, if any.
    pub(crate) fn log(&self) -> Option<&TransactionLog> {
        self.log.as_ref()
    }

    /// The log as history reads it: the open log, or a read-only engine's reader.
    pub(crate) fn history_log(&self) -> Option<HistoryLog<'_>> {
        match (&self.log, &self.reader) {
            (Some(log), _) => Some(HistoryLog::Open(log)),
            (None, Some(reader)) => Some(HistoryLog::Reader(reader)),
            (None, None) => None,
        }
    }

    /// The snapshot store, if any.
    pub(crate) fn snapshots(&self) -> Option<&SnapshotStore> {
        self.snapshots.as_ref()
    }

    /// What opening recovered.
    pub(crate) fn recovery(&self) -> &RecoveryReport {
        &self.recovery
    }

    /// Commits made since open.
    pub(crate) fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// The installed hook of type `T` (a feature's own state), if any.
    pub(crate) fn part<T: Hook>(&self) -> Option<&T> {
        self.hooks
            .iter()
            .find_map(|hook| (&**hook as &dyn Any).downcast_ref::<T>())
    }

    /// The hooks, in the order they run.
    pub(crate) fn hooks(&self) -> &Arc<[Arc<dyn Hook>]> {
        &self.hooks
    }

    /// A lock taken as one of this engine's locks (for a feature's own [`OrderedMutex`]).
    pub(crate) fn lock<'a, T>(&self, mutex: &'a OrderedMutex<T>) -> OrderedGuard<'a, T> {
        mutex.lock(self.id())
    }

    /// Whether the engine was opened read-only.
    pub(crate) fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Replaces the state of a read-only engine with a newer reading of its directory.
    pub(crate) fn replace_read_only_state(&self, state: State) {
        let mut writer = self.lock_writer();
        if let Some(reader) = &self.reader {
            reader.reader().set_until(state.lsn());
        }
        *writer = state.clone();
        *self.visible.write(self.id()) = state;
    }

    pub(crate) fn check_poison(&self) -> Result<()> {
        if self.read_only {
            return Err(Error::ReadOnly {
                dir: self.dir.clone().unwrap_or_default(),
            });
        }
        match &*self.poisoned.lock(self.id()) {
            Some(cause) => Err(Error::Poisoned {
                cause: Arc::clone(cause),
            }),
            None => Ok(()),
        }
    }

    fn poison(&self, error: tabula_wal::Error) -> Error {
        let mut poisoned = self.poisoned.lock(self.id());
        let cause = Arc::clone(poisoned.get_or_insert_with(|| Arc::new(error)));
        Error::Poisoned { cause }
    }

    /// Commits the caller's `ops`, with the ops the hooks run around them; returns the changes
    /// of the caller's ops.
    pub(crate) fn commit(&self, ops: Vec<Op>, cause: Option<Cause>) -> Result<Committed> {
        if let Some(op) = ops.iter().find(|op| is_reserved(op.table())) {
            return Err(Error::ReservedTable {
                table: op.table().to_owned(),
            });
        }
        let room = self.options.limits.max_ops_per_transaction;
        let committed = self.commit_parts(|db, at| {
            let mut around = Around::default();
            for hook in self.hooks.iter() {
                let left = room.saturating_sub(ops.len() + around.before.len());
                let more = hook.around(db, &ops, at, left);
                around.before.extend(more.before);
                around.after.extend(more.after);
            }
            let own = around.before.len()..around.before.len() + ops.len();
            let mut all = around.before;
            all.extend(ops);
            all.extend(around.after);
            Ok(Some((all, cause, own)))
        })?;
        built(committed)
    }

    /// Commits the ops `build` makes from the writers' current state, under the writer lock: for
    /// changes that depend on the state (tags name its LSN, rollbacks undo its differences).
    pub(crate) fn commit_built(
        &self,
        build: impl FnOnce(&State) -> Result<(Vec<Op>, Option<Cause>)>,
    ) -> Result<Committed> {
        built(self.commit_with(|db, _| build(db).map(Some))?)
    }

    /// Commits the ops `build` makes from the writers' current state and the commit's
    /// timestamp, under the writer lock; `build` returning `None` commits nothing.
    pub(crate) fn commit_with(
        &self,
        build: impl FnOnce(&State, Timestamp) -> Result<Option<(Vec<Op>, Option<Cause>)>>,
    ) -> Result<Option<Committed>> {
        self.commit_parts(|db, at| {
            Ok(build(db, at)?.map(|(ops, cause)| {
                let all = 0..ops.len();
                (ops, cause, all)
            }))
        })
    }

    /// As [`Inner::commit_with`], where `build` also says which of its ops are the caller's:
    /// the commit reports their changes only.
    fn commit_parts(
        &self,
        build: impl FnOnce(&State, Timestamp) -> Result<Option<(Vec<Op>, Option<Cause>, Range<usize>)>>,
    ) -> Result<Option<Committed>> {
        self.check_poison()?;
        let _writing = Writing::enter(self)?;
        let (lsn, timestamp, changes) = {
            let mut state = self.lock_writer();
            // Checked again under the lock: a commit that failed while we waited poisoned it.
            self.check_poison()?;
            let timestamp = self.next_timestamp();
            let Some((ops, cause, own)) = build(&state, timestamp)? else {
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
            let changes = staged.apply_part(&tx, own)?;
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
        state: &mut State,
        staged: State,
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
        self.pending.lock(self.id()).push_back((staged, tx));
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
        if self.published_lsn.load(Ordering::Acquire) < lsn.0 {
            self.publish();
        }
        self.commits.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// The writers' state, locked: an interactive transaction holds it while its caller's code
    /// runs.
    pub(crate) fn lock_writer(&self) -> OrderedGuard<'_, State> {
        self.writer.lock(self.id())
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
        let mut pending = self.pending.lock(self.id());
        let mut newest = None;
        // States replaced here, freed once the locks are released (see `Reclaimer`).
        let mut replaced = Vec::new();
        let mut published = Vec::new();
        while pending
            .front()
            .is_some_and(|(db, _)| db.lsn() <= visible_lsn)
        {
            if let Some((db, tx)) = pending.pop_front() {
                replaced.extend(newest.replace(db));
                published.push(tx);
            }
        }
        let mut installed = None;
        if let Some(db) = newest {
            let mut visible = self.visible.write(self.id());
            if db.lsn() > visible.lsn() {
                installed = Some(db.lsn());
                replaced.push(std::mem::replace(&mut *visible, db));
            } else {
                replaced.push(db);
            }
        }
        let ops = published.iter().map(|tx| tx.ops.len()).sum();
        // Wrapped for sharing only when some hook listens (the feed has a subscriber). The hooks
        // are called under `pending`, so they receive transactions in order.
        let mut shared: Vec<Arc<Transaction>> = Vec::new();
        if !published.is_empty() && self.hooks.iter().any(|hook| hook.listening()) {
            shared = std::mem::take(&mut published)
                .into_iter()
                .map(Arc::new)
                .collect();
            for hook in self.hooks.iter().filter(|hook| hook.listening()) {
                hook.published(self, &shared);
            }
        }
        // Set once the hooks have it: a committer that finds its LSN here (`acknowledge`)
        // returns with its write visible and handed to the feed.
        if let Some(lsn) = installed {
            self.published_lsn.fetch_max(lsn.0, Ordering::Release);
        }
        drop(pending);
        self.reclaimer.free((replaced, published, shared), ops);
    }

    /// The next commit's timestamp: now, or the last one's if the clock stepped back by at most
    /// [`Options::max_clock_step_back`](crate::Options) (an NTP correction: commit times stay in
    /// order). A clock that is further behind the last commit's time means that commit was
    /// stamped by a clock that ran ahead: keeping its time would stamp every later commit with
    /// that future time forever, so the time is now's again, and the step is counted
    /// ([`crate::Stats::clock_steps_back`]). `At::Time` is defined for such a log (see
    /// `history/mod.rs`).
    pub(crate) fn next_timestamp(&self) -> Timestamp {
        let now = self.now().as_micros();
        let last = self.last_timestamp.load(Ordering::Relaxed);
        let allowed =
            i64::try_from(self.options.max_clock_step_back.as_micros()).unwrap_or(i64::MAX);
        let next = if last != i64::MIN && last.saturating_sub(now) > allowed {
            self.clock_steps_back.fetch_add(1, Ordering::Relaxed);
            now
        } else {
            now.max(last)
        };
        self.last_timestamp.store(next, Ordering::Relaxed);
        Timestamp::from_micros(next)
    }

    /// How often the clock was found further behind the last commit's time than allowed, since
    /// open.
    pub(crate) fn clock_steps_back(&self) -> u64 {
        self.clock_steps_back.load(Ordering::Relaxed)
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
    pub(crate) fn with_visible_frozen<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        let _pending = self.pending.lock(self.id());
        f(&self.visible.read(self.id()))
    }

    /// The visible state, as stored (rows a read view hides included): for checkpoints and
    /// history.
    pub(crate) fn visible(&self) -> State {
        self.visible.read(self.id()).clone()
    }

    /// The LSN readers see, for the checkpoint policy.
    pub(crate) fn visible_lsn(&self) -> Lsn {
        self.visible.read(self.id()).lsn()
    }

    /// A read view of `state` at the time `at` gives (called only if a hook may hide rows).
    pub(crate) fn view(&self, state: State, at: impl Fn() -> Timestamp) -> ReadView {
        let mut hidden = Vec::new();
        let mut time = None;
        for hook in self.hooks.iter() {
            if hook.may_hide(&state) {
                let at = *time.get_or_insert_with(&at);
                hidden.extend(hook.hidden(&state, at));
            }
        }
        ReadView::new(state, hidden)
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
