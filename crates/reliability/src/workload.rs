//! The workload the simulated parts of the suite run, the model it is checked against, and the
//! runner that drives an [`Engine`] on a [`SimStorage`] through it.
//!
//! One seed makes a [`Workload`]: transactions (inserts, upserts, updates, deletes, schema and
//! index changes, a share the model refuses), checkpoints, backups, tags and clean reopens, with
//! engine options drawn from the seed too (segment size, log retention). The [`Model`] holds every
//! acknowledged commit's state, by LSN, so that a reopened engine can be compared with it, and its
//! `as_of` reads and backups with the state at their LSN.
//!
//! The one thing the model cannot know is whether a commit that failed (a crash or an I/O error
//! after its record was written) reached the disk: the runner keeps the steps that failed since
//! the last acknowledged one as *in flight*, and a reopened database may hold one of them as the
//! next LSN, whole, or none at all.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use tabula_core::{
    Cause, Column, ColumnType, IndexDef, Lsn, Op, Path as FieldPath, Row, SchemaChange, State,
    TableDef, Timestamp, Transaction, Value,
};
use tabula_engine::{CheckpointPolicy, Engine, Error, Options, Retention, SyncPolicy};
use tabula_snapshot::{LoadOptions, SnapshotStore};
use tabula_storage::SimStorage;

use crate::rng::Rng;

/// The database directory on the simulated disk.
pub const DIR: &str = "/db";
/// The backup directory on the simulated disk.
pub const BACKUPS: &str = "/backups";

/// What went wrong: a broken guarantee, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding(pub String);

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! finding {
    ($($arg:tt)*) => { Finding(format!($($arg)*)) };
}

/// One step of a workload.
#[derive(Debug, Clone)]
pub enum Step {
    /// A transaction, with a cause or not.
    Commit {
        /// Its operations.
        ops: Vec<Op>,
        /// Whether it carries a cause.
        cause: bool,
    },
    /// A checkpoint.
    Checkpoint,
    /// A backup into [`BACKUPS`].
    Backup,
    /// A tag of this (unique) name.
    Tag(String),
    /// A clean close and open.
    Reopen,
}

/// A seeded workload and the options its engine opens with.
#[derive(Debug, Clone)]
pub struct Workload {
    /// The seed that made it.
    pub seed: u64,
    /// The log's segment size.
    pub segment_size: u64,
    /// Whether the log keeps every segment (else it deletes them after checkpoints).
    pub archive: bool,
    /// The steps.
    pub steps: Vec<Step>,
}

impl Workload {
    /// The workload of `seed`, `len` steps long.
    #[must_use]
    pub fn generate(seed: u64, len: usize) -> Workload {
        let mut rng = Rng::new(seed);
        let segment_size = rng.pick(&[600, 2048, 1 << 20], 2048);
        let archive = rng.one_in(2);
        let mut steps = vec![Step::Commit {
            ops: vec![
                Op::CreateTable(TableDef::new("a", "id")),
                Op::CreateTable(TableDef::new("b", "id")),
            ],
            cause: false,
        }];
        let mut tags = 0;
        while steps.len() < len {
            steps.push(match rng.below(40) {
                0 | 1 => Step::Checkpoint,
                2 => Step::Backup,
                3 => {
                    tags += 1;
                    Step::Tag(format!("t{tags}"))
                }
                4 => Step::Reopen,
                _ => Step::Commit {
                    ops: random_tx(&mut rng),
                    cause: rng.one_in(4),
                },
            });
        }
        Workload {
            seed,
            segment_size,
            archive,
            steps,
        }
    }

    /// The options the engine opens with: every commit durable before it is acknowledged, no
    /// background thread (so a run is deterministic), manual checkpoints.
    #[must_use]
    pub fn options(&self) -> Options {
        let retention = if self.archive {
            Retention::archive_all()
        } else {
            Retention::default()
        };
        Options::new()
            .sync(SyncPolicy::Always)
            .checkpoint(CheckpointPolicy::manual())
            .segment_size(self.segment_size)
            .wal_retention(retention)
            .background(false)
    }

    /// Opens the workload's database on `storage`.
    ///
    /// # Errors
    /// The engine's, when it cannot open.
    pub fn open(&self, storage: &SimStorage) -> Result<Engine, Error> {
        Engine::open_on(Arc::new(storage.clone()), DIR, self.options()).map(|(engine, _)| engine)
    }
}

fn random_op(rng: &mut Rng) -> Op {
    let table = rng.pick(&["a", "b", "typed"], "a").to_owned();
    let key = Value::Int(rng.below(12) as i64);
    let mut row = Row::new();
    row.insert("id".to_owned(), key.clone());
    row.insert("n".to_owned(), Value::Int(rng.below(5) as i64));
    if rng.one_in(3) {
        row.insert("tag".to_owned(), Value::Text(format!("t{}", rng.below(4))));
    }
    if rng.one_in(4) {
        row.insert(
            "text".to_owned(),
            Value::Text("x".repeat(rng.below(200) as usize)),
        );
    }
    match rng.below(30) {
        0 => Op::CreateTable(TableDef::new(&table, "id")),
        1 => Op::CreateTable(
            TableDef::new("typed", "id")
                .column(Column::new("id", ColumnType::Int))
                .column(Column::new("n", ColumnType::Int).not_null())
                .column(Column::new("tag", ColumnType::Text).unique()),
        ),
        2 => Op::DropTable { table },
        3 => Op::CreateIndex {
            table,
            index: IndexDef::new("by_n", FieldPath::column("n")),
        },
        4 => Op::DropIndex {
            table,
            index: "by_n".to_owned(),
        },
        5 => Op::AlterTable {
            table,
            change: SchemaChange::AddColumn(Column::new("extra", ColumnType::Any)),
        },
        6..=12 => Op::Upsert { table, row },
        13..=15 => Op::Update {
            table,
            key,
            set: Row::from([("n".to_owned(), Value::Int(rng.below(5) as i64))]),
        },
        16..=18 => Op::Delete { table, key },
        _ => Op::Insert { table, row },
    }
}

fn random_tx(rng: &mut Rng) -> Vec<Op> {
    (0..=rng.below(3)).map(|_| random_op(rng)).collect()
}

/// Every acknowledged commit's state, by LSN, and the acknowledged backups.
#[derive(Debug, Clone, Default)]
pub struct Model {
    current: State,
    /// The state after each LSN before the current one (index = LSN).
    history: Vec<State>,
    backups: Vec<Lsn>,
}

impl Model {
    /// The newest acknowledged state.
    #[must_use]
    pub fn db(&self) -> &State {
        &self.current
    }

    /// The newest acknowledged LSN.
    #[must_use]
    pub fn lsn(&self) -> Lsn {
        self.current.lsn()
    }

    /// The acknowledged state at `lsn`.
    #[must_use]
    pub fn at(&self, lsn: Lsn) -> Option<&State> {
        if lsn == self.lsn() {
            return Some(&self.current);
        }
        self.history.get(usize::try_from(lsn.0).ok()?)
    }

    /// The state `ops` would make as the next LSN, or `None` if it refuses them.
    #[must_use]
    pub fn accepts(&self, ops: &[Op]) -> Option<State> {
        let mut tx = Transaction::new(self.lsn().next(), Timestamp::from_micros(0));
        tx.ops = ops.to_vec();
        let mut staged = self.current.clone();
        staged.apply(&tx).ok()?;
        Some(staged)
    }

    fn push(&mut self, db: State) {
        let previous = std::mem::replace(&mut self.current, db);
        self.history.push(previous);
    }
}

/// A step that did not acknowledge, perhaps written anyway.
#[derive(Debug, Clone)]
pub enum InFlight {
    /// A transaction the model accepts.
    Commit(Vec<Op>),
    /// A tag.
    Tag(String),
}

/// Drives an engine through a workload, keeping the model of what was acknowledged.
#[derive(Debug)]
pub struct Runner<'w> {
    workload: &'w Workload,
    /// The storage the engine runs on.
    pub storage: SimStorage,
    engine: Option<Engine>,
    /// What was acknowledged.
    pub model: Model,
    /// Steps that failed since the last acknowledged one: any one of them may have landed.
    in_flight: Vec<InFlight>,
    /// Steps that failed with an I/O error (or a crash).
    pub failed_steps: u64,
    /// Steps done.
    pub steps_done: usize,
    rng: Rng,
}

impl<'w> Runner<'w> {
    /// A runner on `storage`, with the engine not yet open.
    #[must_use]
    pub fn new(workload: &'w Workload, storage: SimStorage) -> Runner<'w> {
        Runner {
            workload,
            storage,
            engine: None,
            model: Model::default(),
            in_flight: Vec::new(),
            failed_steps: 0,
            steps_done: 0,
            rng: Rng::new(workload.seed ^ 0x5eed),
        }
    }

    /// Runs the steps in order. With `stop_at_failure`, stops at the first step that fails (a
    /// crash); else goes on, as an application that logs the error and carries on would (the
    /// engine stays poisoned until a [`Step::Reopen`]). Returns whether every step succeeded.
    ///
    /// # Errors
    /// A [`Finding`] when the engine breaks a guarantee.
    pub fn run(&mut self, stop_at_failure: bool) -> Result<bool, Finding> {
        let mut clean = true;
        if !self.reopen()? {
            return Ok(false);
        }
        let workload = self.workload;
        for step in &workload.steps {
            let ok = self.step(step)?;
            self.steps_done += 1;
            if !ok {
                clean = false;
                self.failed_steps += 1;
                if stop_at_failure {
                    return Ok(false);
                }
            }
        }
        Ok(clean)
    }

    /// Drops the engine without closing it (the process dies).
    pub fn kill(&mut self) {
        self.engine = None;
    }

    /// A runner for `image`, a crash image of this runner's storage, with the same model and
    /// step in flight, and no engine (see [`Runner::verify_image`]).
    #[must_use]
    pub fn after_crash(&self, image: SimStorage) -> Runner<'w> {
        Runner {
            workload: self.workload,
            storage: image,
            engine: None,
            model: self.model.clone(),
            in_flight: self.in_flight.clone(),
            failed_steps: self.failed_steps,
            steps_done: self.steps_done,
            rng: self.rng.clone(),
        }
    }

    /// One step; `Ok(false)` when it failed with an error the workload allows (I/O).
    fn step(&mut self, step: &Step) -> Result<bool, Finding> {
        if matches!(step, Step::Reopen) {
            if let Some(engine) = self.engine.take() {
                // A failed close is not a broken guarantee; the reopen below recovers.
                let closed = engine.close().is_ok();
                return Ok(self.reopen()? && closed);
            }
            return self.reopen();
        }
        let Some(engine) = &self.engine else {
            // The last reopen failed (a persistent fault): everything fails until one works.
            return self.reopen().map(|_| false);
        };
        match step {
            Step::Commit { ops, cause } => {
                let staged = self.model.accepts(ops);
                let result = if *cause {
                    let cause = Cause::new()
                        .who("reliability")
                        .why(format!("seed {}", self.workload.seed));
                    engine.commit_with_cause(ops.clone(), cause)
                } else {
                    engine.commit(ops.clone())
                };
                match (result, staged) {
                    (Ok(committed), Some(staged)) => {
                        if committed.lsn != staged.lsn() {
                            return Err(finding!(
                                "a commit was acknowledged as LSN {} where {} was next",
                                committed.lsn,
                                staged.lsn()
                            ));
                        }
                        self.model.push(staged);
                        self.in_flight.clear();
                        Ok(true)
                    }
                    (Ok(committed), None) => Err(finding!(
                        "the engine acknowledged (LSN {}) a transaction the model refuses: {ops:?}",
                        committed.lsn
                    )),
                    (Err(Error::Rejected(_)), None) => Ok(true),
                    (Err(Error::Rejected(error)), Some(_)) => Err(finding!(
                        "the engine refused a valid transaction ({error}): {ops:?}"
                    )),
                    (Err(_), staged) => {
                        if staged.is_some() {
                            self.in_flight.push(InFlight::Commit(ops.clone()));
                        }
                        Ok(false)
                    }
                }
            }
            Step::Checkpoint => Ok(engine.checkpoint().is_ok()),
            Step::Backup => match engine.backup(BACKUPS) {
                Ok(info) if info.lsn == self.model.lsn() => {
                    self.model.backups.push(info.lsn);
                    Ok(true)
                }
                Ok(info) => Err(finding!(
                    "a backup holds LSN {} where {} was the last acknowledged",
                    info.lsn,
                    self.model.lsn()
                )),
                Err(_) => Ok(false),
            },
            Step::Tag(name) => match engine.tag(name) {
                Ok(lsn) if lsn == self.model.lsn() => {
                    let db = engine.read().state().clone();
                    if db.lsn() != lsn.next() {
                        return Err(finding!(
                            "tagging at LSN {lsn} left the database at {}",
                            db.lsn()
                        ));
                    }
                    self.model.push(db);
                    self.in_flight.clear();
                    Ok(true)
                }
                Ok(lsn) => Err(finding!(
                    "tag {name} names LSN {lsn} where {} was the last acknowledged",
                    self.model.lsn()
                )),
                Err(Error::TagExists { .. }) => Err(finding!("tag {name} exists twice")),
                Err(_) => {
                    self.in_flight.push(InFlight::Tag(name.clone()));
                    Ok(false)
                }
            },
            Step::Reopen => Ok(true),
        }
    }

    /// Opens the engine on the current storage and checks it against the model; `Ok(false)`
    /// when it cannot open (an I/O fault).
    fn reopen(&mut self) -> Result<bool, Finding> {
        self.engine = None;
        match self.workload.open(&self.storage) {
            Ok(engine) => {
                self.reconcile(&engine)?;
                self.engine = Some(engine);
                Ok(true)
            }
            Err(_) => Ok(false),
        }
    }

    /// Reopens on the storage (a crash image: see [`Runner::after_crash`]) and checks it all: the state
    /// (every acknowledged commit, at most the one in flight besides), an `as_of` read, every
    /// backup; then that the database takes a new commit and keeps it across a clean reopen.
    ///
    /// # Errors
    /// A [`Finding`] for any broken guarantee, including failing to open.
    pub fn verify_image(&mut self) -> Result<(), Finding> {
        self.engine = None;
        let engine = self
            .workload
            .open(&self.storage)
            .map_err(|e| finding!("the database does not open after the crash: {e}"))?;
        self.reconcile(&engine)?;
        // Only here, on the image: the backup directory's first open writes to the disk, which
        // would shift the operations a crash sweep counts if it ran mid-workload.
        self.check_backups()?;
        let ops = vec![Op::CreateTable(TableDef::new("after_crash", "id"))];
        let staged = self.model.accepts(&ops);
        let committed = engine
            .commit(ops)
            .map_err(|e| finding!("the recovered database refuses a commit: {e}"))?;
        if let Some(staged) = staged {
            self.model.push(staged);
        }
        if committed.lsn != self.model.lsn() {
            return Err(finding!(
                "the first commit after recovery got LSN {} where {} was next",
                committed.lsn,
                self.model.lsn()
            ));
        }
        engine
            .close()
            .map_err(|e| finding!("closing the recovered database: {e}"))?;
        let engine = self
            .workload
            .open(&self.storage)
            .map_err(|e| finding!("the recovered database does not reopen: {e}"))?;
        self.reconcile(&engine)?;
        drop(engine);
        Ok(())
    }

    /// Checks a freshly opened engine against the model, taking in the in-flight step if it
    /// landed.
    fn reconcile(&mut self, engine: &Engine) -> Result<(), Finding> {
        let db = engine.read().state().clone();
        let acked = self.model.lsn();
        let in_flight = std::mem::take(&mut self.in_flight);
        if db.lsn() == acked.next() && !in_flight.is_empty() {
            // Every candidate shares the acknowledged state as its base; the one that landed
            // must give exactly the recovered state.
            let tags = engine.tags();
            let landed = in_flight.iter().any(|candidate| match candidate {
                InFlight::Commit(ops) => self.model.accepts(ops).is_some_and(|staged| staged == db),
                InFlight::Tag(name) => tags
                    .iter()
                    .any(|(tag, lsn, _)| tag == name && *lsn == acked),
            });
            if !landed {
                return Err(finding!(
                    "recovered LSN {} is none of the {} unacknowledged steps in flight: \
                     a half-applied or foreign transaction",
                    db.lsn(),
                    in_flight.len()
                ));
            }
            self.model.push(db.clone());
        }
        if db.lsn() < acked {
            return Err(finding!(
                "acknowledged commits lost: recovered to LSN {} but LSN {acked} was acknowledged",
                db.lsn()
            ));
        }
        if db.lsn() != self.model.lsn() {
            return Err(finding!(
                "recovered to LSN {}, past the last acknowledged ({acked}) and anything in flight",
                db.lsn()
            ));
        }
        if db != *self.model.db() {
            return Err(finding!(
                "silent divergence: the recovered database at LSN {} differs from the acknowledged one",
                db.lsn()
            ));
        }
        self.check_history(engine)
    }

    /// One `as_of` read at a random acknowledged LSN still in the history.
    fn check_history(&mut self, engine: &Engine) -> Result<(), Finding> {
        let oldest = engine
            .oldest_available()
            .map_err(|e| finding!("oldest_available fails after recovery: {e}"))?;
        let newest = self.model.lsn().0;
        if newest < oldest.0 {
            return Ok(());
        }
        let lsn = Lsn(oldest.0 + self.rng.below(newest - oldest.0 + 1));
        let past = engine
            .as_of(lsn)
            .map_err(|e| finding!("as_of({lsn}) fails after recovery: {e}"))?
            .state()
            .clone();
        match self.model.at(lsn) {
            Some(expected) if *expected == past => Ok(()),
            _ => Err(finding!(
                "as_of({lsn}) differs from the state acknowledged at that LSN"
            )),
        }
    }

    /// Every acknowledged backup reads back as the state at its LSN.
    fn check_backups(&self) -> Result<(), Finding> {
        if self.model.backups.is_empty() {
            return Ok(());
        }
        let store = SnapshotStore::open_on(Arc::new(self.storage.clone()), Path::new(BACKUPS))
            .map_err(|e| finding!("the backup directory does not open: {e}"))?;
        for &lsn in &self.model.backups {
            let loaded = store
                .load(lsn, &LoadOptions::default())
                .map_err(|e| finding!("acknowledged backup at LSN {lsn} lost: {e}"))?;
            if self.model.at(lsn) != Some(&loaded.database) {
                return Err(finding!(
                    "the backup at LSN {lsn} differs from the state it was taken of"
                ));
            }
        }
        Ok(())
    }
}
