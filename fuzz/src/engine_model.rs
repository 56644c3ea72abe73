//! `engine_model`: the engine on a simulated disk against a model, across checkpoints, closes and
//! crashes (the fuzzed form of `crates/engine/tests/model.rs`).
//!
//! The input decodes into up to [`MAX_STEPS`] steps on an engine opened on a
//! [`SimStorage`] (manual checkpoints, small log segments, every segment archived, no background
//! thread). The database starts with the schemaless tables `a` and `b`. A step is:
//! - a transaction of 1 to 3 ops on the tables `a`, `b` and `typed` over the keys 0 to 7: create
//!   (schemaless, or typed with a not-null `n`, a unique `tag` and perhaps auto-increment, or
//!   keyed by the two columns `id` and `n`) or drop a table, insert, upsert, update, delete,
//!   create or drop an index, add, drop, rename or alter a column; with now and then a wrong
//!   type, a null, a missing key or an unknown column, so that many are refused;
//! - an interactive transaction ([`Engine::transaction`]) pushing 1 to 6 such ops one by one,
//!   perhaps aborted at the end: each op must succeed or be refused as the model applying it
//!   alone to the transaction's state so far says, the transaction's reads must show that
//!   state, and the commit must be the ops that succeeded, as one transaction, or (aborted, or
//!   with none) nothing;
//! - a checkpoint;
//! - a clean close, or a drop without close, then a reopen;
//! - a reboot: the disk crashes between operations keeping what a [`Tear`] chosen by the input
//!   says (only what was synced, everything, or a torn image), then the engine reopens on it;
//! - a crash at one of the next few storage operations, in the middle of a commit or a
//!   checkpoint, then a reboot as above.
//!
//! The model is a [`State`] to which every acknowledged commit is applied. Checks:
//! - the engine refuses (`Error::Rejected`) exactly the transactions the model refuses, and a
//!   commit with no fault injected never fails otherwise, nor does a checkpoint or a close;
//! - after every commit and every reopen the engine's `read()` equals the model, LSN included;
//!   after a crash in the middle of a commit that was not acknowledged, the commit may have
//!   landed (then whole, as the next LSN), or not at all;
//! - every reopen succeeds, whatever the crash left.

use std::fmt::Write as _;
use std::sync::Arc;

use arbitrary::{Result, Unstructured};
use tabula_core::{
    Column, ColumnType, IndexDef, Op, Path, Row, SchemaChange, State, TableDef, Timestamp,
    Transaction, Value,
};
use tabula_engine::{CheckpointPolicy, Engine, Error, Options, Retention};
use tabula_storage::{Fault, SimStorage, Tear};

/// The database directory on the simulated disk.
const DIR: &str = "/db";

/// Most steps decoded from one input, to keep each run fast.
const MAX_STEPS: usize = 64;

/// The tables ops name.
const TABLES: [&str; 3] = ["a", "b", "typed"];

/// Keys are `0..KEYS`, so that inserts collide and updates and deletes find rows.
const KEYS: i64 = 8;

/// A crash is injected at one of the next `CRASH_WINDOW` storage operations: a commit takes two
/// (append, sync), six when it seals a segment; a checkpoint five.
const CRASH_WINDOW: u64 = 8;

fn options() -> Options {
    Options::new()
        .checkpoint(CheckpointPolicy::manual())
        .segment_size(512)
        .wal_retention(Retention::archive_all())
        .background(false)
}

fn open(storage: &SimStorage) -> std::result::Result<Engine, Error> {
    Engine::open_on(Arc::new(storage.clone()), DIR, options()).map(|(engine, _)| engine)
}

/// Applies `ops` to the model as the engine would: the next LSN, all or nothing.
fn model_apply(model: &mut State, ops: &[Op]) -> bool {
    let mut tx = Transaction::new(model.lsn().next(), Timestamp::from_micros(0));
    tx.ops = ops.to_vec();
    let mut staged = model.clone();
    if staged.apply(&tx).is_ok() {
        *model = staged;
        true
    } else {
        false
    }
}

/// One step of a run.
#[derive(Debug, Clone)]
enum Step {
    /// Commits a transaction, with no fault injected.
    Commit(Vec<Op>),
    /// Runs an interactive transaction pushing `ops` one by one; `abort`: it returns an error
    /// at the end.
    Interactive {
        /// The ops pushed, in order.
        ops: Vec<Op>,
        /// Whether the closure gives up after pushing them.
        abort: bool,
    },
    /// Takes a checkpoint.
    Checkpoint,
    /// Closes the engine (or only drops it) and reopens it on the same disk.
    Reopen {
        /// Drop without `close`.
        drop: bool,
    },
    /// The disk crashes keeping what `tear` says; the engine reopens on what is left.
    Reboot(Tear),
    /// The disk crashes at storage operation `ops() + at`, in the middle of a commit of `commit`
    /// or, if `None`, of a checkpoint; then the engine reopens on what `tear` keeps.
    CrashDuring {
        /// How many storage operations go through before the crash.
        at: u64,
        /// The transaction being committed; `None` for a checkpoint.
        commit: Option<Vec<Op>>,
        /// What the crash keeps.
        tear: Tear,
    },
}

fn gen_tear(u: &mut Unstructured) -> Result<Tear> {
    Ok(match u.int_in_range(0..=3u8)? {
        0 => Tear::DropUnsynced,
        1 => Tear::KeepAll,
        2 => Tear::Torn {
            seed: u64::from(u.arbitrary::<u16>()?),
        },
        _ => Tear::Reordered {
            seed: u64::from(u.arbitrary::<u16>()?),
        },
    })
}

fn gen_step(u: &mut Unstructured) -> Result<Step> {
    Ok(match u.int_in_range(0..=22u8)? {
        0..=9 => Step::Commit(gen_tx(u)?),
        20..=22 => {
            let mut ops = gen_tx(u)?;
            ops.extend(gen_tx(u)?);
            Step::Interactive {
                ops,
                abort: u.ratio(1, 4)?,
            }
        }
        10 | 11 => Step::Checkpoint,
        12 => Step::Reopen { drop: false },
        13 => Step::Reopen { drop: true },
        14 | 15 => Step::Reboot(gen_tear(u)?),
        kind => {
            let at = u64::from(u.arbitrary::<u8>()?) % CRASH_WINDOW;
            let commit = if kind == 19 { None } else { Some(gen_tx(u)?) };
            Step::CrashDuring {
                at,
                commit,
                tear: gen_tear(u)?,
            }
        }
    })
}

fn gen_tx(u: &mut Unstructured) -> Result<Vec<Op>> {
    let len = u.int_in_range(1..=3u8)?;
    (0..len).map(|_| gen_op(u)).collect()
}

fn gen_key(u: &mut Unstructured) -> Result<Value> {
    Ok(if u.ratio(1, 16)? {
        // The wrong type for a typed table's int key.
        Value::Text("k".to_owned())
    } else {
        Value::Int(u.int_in_range(0..=KEYS - 1)?)
    })
}

/// A value for `n`: an int mostly, now and then the wrong type or a null (`n` is not null in a
/// typed table).
fn gen_n(u: &mut Unstructured) -> Result<Value> {
    Ok(match u.int_in_range(0..=15u8)? {
        0 => Value::Text("five".to_owned()),
        1 => Value::Null,
        n => Value::Int(i64::from(n % 5)),
    })
}

fn gen_row(u: &mut Unstructured) -> Result<Row> {
    let mut row = Row::new();
    // No key now and then: refused, unless the table is auto-increment.
    if !u.ratio(1, 10)? {
        row.insert("id".to_owned(), gen_key(u)?);
    }
    row.insert("n".to_owned(), gen_n(u)?);
    match u.int_in_range(0..=7u8)? {
        0..=2 => {}
        3 => {
            row.insert("zzz".to_owned(), Value::Int(1));
        }
        t => {
            row.insert("tag".to_owned(), Value::Text(format!("t{}", t % 4)));
        }
    }
    Ok(row)
}

/// The typed table definition: `id` int, `n` int not null, `tag` unique text.
fn typed_def(name: &str, auto_increment: bool) -> TableDef {
    let def = TableDef::new(name, "id")
        .column(Column::new("id", ColumnType::Int))
        .column(Column::new("n", ColumnType::Int).not_null())
        .column(Column::new("tag", ColumnType::Text).unique());
    if auto_increment {
        def.auto_increment()
    } else {
        def
    }
}

fn gen_op(u: &mut Unstructured) -> Result<Op> {
    let table = (*u.choose(&TABLES)?).to_owned();
    Ok(match u.int_in_range(0..=15u8)? {
        0 => Op::CreateTable(TableDef::new(&table, "id")),
        1 => Op::CreateTable(match u.int_in_range(0..=3u8)? {
            // Keyed by several columns: `key` computed from `id` and `n`.
            0 => TableDef::new(&table, "key")
                .column(Column::new("key", ColumnType::List))
                .column(Column::new("id", ColumnType::Int).not_null())
                .column(Column::new("n", ColumnType::Int).not_null())
                .column(Column::new("tag", ColumnType::Text).unique())
                .key_parts(["id", "n"]),
            _ => typed_def(&table, u.arbitrary()?),
        }),
        2 => Op::DropTable { table },
        3 => Op::CreateIndex {
            table,
            index: match u.int_in_range(0..=2u8)? {
                0 => IndexDef::new("by_n", Path::column("n")),
                1 => IndexDef::unique("by_n", Path::column("n")),
                _ => IndexDef::unique("by_tag", Path::column("tag")),
            },
        },
        4 => Op::DropIndex {
            table,
            index: (*u.choose(&["by_n", "by_tag"])?).to_owned(),
        },
        5 => Op::AlterTable {
            table,
            change: match u.int_in_range(0..=8u8)? {
                // Refused while a row holds a value the new column cannot.
                6 => SchemaChange::AlterColumn(Column::new("n", ColumnType::Float).not_null()),
                7 => SchemaChange::AlterColumn(Column::new("tag", ColumnType::Text).not_null()),
                8 => SchemaChange::AlterColumn(Column::new("n", ColumnType::Text)),
                0 => SchemaChange::AddColumn(Column::new("extra", ColumnType::Any)),
                // Refused if the table has rows: they would hold a null.
                1 => SchemaChange::AddColumn(Column::new("req", ColumnType::Int).not_null()),
                2 => SchemaChange::DropColumn("tag".to_owned()),
                3 => SchemaChange::RenameColumn {
                    from: "tag".to_owned(),
                    to: "label".to_owned(),
                },
                4 => SchemaChange::RenameColumn {
                    from: "label".to_owned(),
                    to: "tag".to_owned(),
                },
                // The primary key: refused.
                _ => SchemaChange::DropColumn("id".to_owned()),
            },
        },
        6..=8 => Op::Upsert {
            table,
            row: gen_row(u)?,
        },
        9 | 10 => {
            let key = gen_key(u)?;
            let set = match u.int_in_range(0..=7u8)? {
                0 => Row::from([("tag".to_owned(), Value::Text("t0".to_owned()))]),
                // Changes the primary key.
                1 => Row::from([("id".to_owned(), gen_key(u)?)]),
                2 => Row::from([("zzz".to_owned(), Value::Int(1))]),
                _ => Row::from([("n".to_owned(), gen_n(u)?)]),
            };
            Op::Update { table, key, set }
        }
        11 | 12 => Op::Delete {
            table,
            key: gen_key(u)?,
        },
        _ => Op::Insert {
            table,
            row: gen_row(u)?,
        },
    })
}

/// The engine under test, its disk, the model and the steps so far (for failure messages).
struct Run {
    storage: SimStorage,
    engine: Option<Engine>,
    model: State,
    steps: Vec<Step>,
}

impl Run {
    fn new() -> Run {
        let storage = SimStorage::new();
        let engine = open(&storage).unwrap_or_else(|e| panic!("opening an empty disk: {e}"));
        let mut model = State::new();
        let setup = vec![
            Op::CreateTable(TableDef::new("a", "id")),
            Op::CreateTable(TableDef::new("b", "id")),
        ];
        engine
            .commit(setup.clone())
            .unwrap_or_else(|e| panic!("the setup commit: {e}"));
        assert!(
            model_apply(&mut model, &setup),
            "the model refuses the setup"
        );
        Run {
            storage,
            engine: Some(engine),
            model,
            steps: Vec::new(),
        }
    }

    fn engine(&self) -> &Engine {
        self.engine
            .as_ref()
            .unwrap_or_else(|| self.fail("no engine open"))
    }

    /// Panics with `message` and every step so far.
    fn fail(&self, message: &str) -> ! {
        let mut steps = String::new();
        for (i, step) in self.steps.iter().enumerate() {
            let _ = writeln!(steps, "  {i}: {step:?}");
        }
        panic!(
            "{message}\nsteps (after the setup commit creating a and b):\n{steps}\
             model: {:#?}",
            self.model
        );
    }

    fn step(&mut self, step: Step) {
        self.steps.push(step.clone());
        match step {
            Step::Commit(ops) => self.commit(ops),
            Step::Interactive { ops, abort } => self.interactive(&ops, abort),
            Step::Checkpoint => {
                if let Err(e) = self.engine().checkpoint() {
                    self.fail(&format!("a checkpoint failed: {e}"));
                }
            }
            Step::Reopen { drop: true } => {
                drop(self.engine.take());
                self.reopen(None);
            }
            Step::Reopen { drop: false } => {
                if let Some(engine) = self.engine.take()
                    && let Err(e) = engine.close()
                {
                    self.fail(&format!("a close failed: {e}"));
                }
                self.reopen(None);
            }
            Step::Reboot(tear) => self.reboot(tear, None),
            Step::CrashDuring { at, commit, tear } => self.crash_during(at, commit, tear),
        }
    }

    /// Whether the engine's answer to a commit of `ops` agrees with the model's; returns whether
    /// the engine acknowledged it. `faulty`: a crash was injected, so a failure other than a
    /// refusal is allowed (and leaves the model as it is).
    fn check_commit(
        &mut self,
        ops: &[Op],
        result: std::result::Result<tabula_engine::Committed, Error>,
        faulty: bool,
    ) -> bool {
        let accepted = model_apply(&mut self.model.clone(), ops);
        match result {
            Ok(committed) => {
                if !accepted {
                    self.fail("the engine accepted a transaction the model refuses");
                }
                model_apply(&mut self.model, ops);
                if committed.lsn != self.model.lsn() {
                    self.fail(&format!(
                        "committed at LSN {}, the model is at LSN {}",
                        committed.lsn,
                        self.model.lsn()
                    ));
                }
                true
            }
            Err(Error::Rejected(e)) => {
                if accepted {
                    self.fail(&format!(
                        "the engine refused a transaction the model accepts: {e}"
                    ));
                }
                false
            }
            Err(e) if faulty => {
                if !accepted {
                    self.fail(&format!(
                        "a transaction the model refuses failed with {e}, not as refused"
                    ));
                }
                false
            }
            Err(e) => self.fail(&format!("a commit failed with no fault injected: {e}")),
        }
    }

    fn commit(&mut self, ops: Vec<Op>) {
        let result = self.engine().commit(ops.clone());
        self.check_commit(&ops, result, false);
        self.check_equal("after a commit");
    }

    fn interactive(&mut self, ops: &[Op], abort: bool) {
        // The model of the transaction's state: each op applied alone, kept if it applies.
        let mut staged = self.model.clone();
        let mut kept = Vec::new();
        let mut disagreement = None;
        let result = self.engine().transaction(|tx| {
            for op in ops {
                let applies = model_apply(&mut staged, std::slice::from_ref(op));
                match (tx.push(op.clone()), applies) {
                    (Ok(_), true) => kept.push(op.clone()),
                    (Err(Error::Rejected(_)), false) => {}
                    (got, _) => {
                        disagreement.get_or_insert(format!(
                            "pushing {op:?}: the engine gave {got:?}, the model says {applies}"
                        ));
                    }
                }
                if let Some(t) = TABLES
                    .iter()
                    .find(|t| tx.state().table(t) != staged.table(t))
                {
                    disagreement.get_or_insert(format!(
                        "after pushing {op:?} the transaction's table {t} differs from the model"
                    ));
                }
            }
            if abort {
                return Err(Error::StepFailed("aborted".to_owned()));
            }
            Ok(())
        });
        if let Some(what) = disagreement {
            self.fail(&what);
        }
        match result {
            Ok((_, Some(committed))) => {
                if kept.is_empty() {
                    self.fail("a transaction whose ops all failed committed");
                }
                if !model_apply(&mut self.model, &kept) {
                    self.fail("the model refuses the ops an interactive transaction committed");
                }
                if committed.lsn != self.model.lsn() {
                    self.fail("an interactive transaction committed at the wrong LSN");
                }
            }
            Ok((_, None)) if kept.is_empty() => {}
            Ok((_, None)) => self.fail("a transaction with ops that succeeded committed nothing"),
            Err(Error::StepFailed(_)) if abort => {}
            Err(e) => self.fail(&format!("an interactive transaction failed: {e}")),
        }
        self.check_equal("after an interactive transaction");
    }

    fn crash_during(&mut self, at: u64, commit: Option<Vec<Op>>, tear: Tear) {
        self.storage
            .inject(self.storage.ops() + at, Fault::Crash, true);
        let in_flight = match commit {
            Some(ops) => {
                let result = self.engine().commit(ops.clone());
                // Only a commit that failed but not as refused may have reached the log.
                let refused = matches!(result, Err(Error::Rejected(_)));
                let acknowledged = self.check_commit(&ops, result, true);
                (!acknowledged && !refused).then_some(ops)
            }
            None => {
                // A failed checkpoint loses nothing: the log still holds every commit.
                let _ = self.engine().checkpoint();
                None
            }
        };
        self.reboot(tear, in_flight);
    }

    /// The disk crashes keeping what `tear` says, then the engine reopens on it. `in_flight`: an
    /// unacknowledged commit that may have landed.
    fn reboot(&mut self, tear: Tear, in_flight: Option<Vec<Op>>) {
        let image = self.storage.crash(tear);
        drop(self.engine.take());
        self.storage = image;
        self.reopen(in_flight);
    }

    fn reopen(&mut self, in_flight: Option<Vec<Op>>) {
        match open(&self.storage) {
            Ok(engine) => self.engine = Some(engine),
            Err(e) => self.fail(&format!("the reopen failed: {e}")),
        }
        if let Some(ops) = in_flight
            && self.engine().read().lsn() == self.model.lsn().next()
            && !model_apply(&mut self.model, &ops)
        {
            self.fail("an unacknowledged commit the model refuses landed");
        }
        self.check_equal("after a reopen");
    }

    fn check_equal(&self, context: &str) {
        let db = self.engine().read();
        if db.lsn() != self.model.lsn() {
            self.fail(&format!(
                "{context}: the engine is at LSN {}, the model at LSN {}\nengine: {db:#?}",
                db.lsn(),
                self.model.lsn()
            ));
        }
        if db != self.model {
            self.fail(&format!(
                "{context}: the database differs from the model\nengine: {db:#?}"
            ));
        }
    }
}

/// The check behind the `engine_model` target.
pub fn check(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let mut run = Run::new();
    for _ in 0..MAX_STEPS {
        if u.is_empty() {
            break;
        }
        let Ok(step) = gen_step(&mut u) else {
            break;
        };
        run.step(step);
    }
    // A last clean close and reopen.
    run.step(Step::Reopen { drop: false });
}
