//! Everything at once: writers commit balanced ledger transactions (a debit and its credit)
//! through the interactive transaction API ([`Engine::transaction`]), each also incrementing a
//! shared tally by read-modify-write, while readers, a checkpointer, a backup taker and
//! change-feed subscribers run, each checking an invariant on everything it sees:
//! - every read view sums to zero and its tally counts its entries (a lost update breaks it),
//!   and a reader's LSNs never go back;
//! - every backup reads back whole and sums to zero;
//! - each subscriber gets every transaction once, in LSN order without gaps, each balanced;
//! - after a clean reopen, every acknowledged transaction is there.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tabula_core::{Lsn, Op, Row, State, TableDef, Value};
use tabula_engine::{CheckpointPolicy, Engine, FeedOptions, Options, Start, SyncPolicy, WriteTx};
use tabula_snapshot::{LoadOptions, SnapshotStore};

use crate::tally::{Tally, catch};

const TABLE: &str = "ledger";
/// One row (key 0) whose `n` counts the transactions, incremented by every writer.
const TALLY: &str = "tally";

/// The replay command.
#[must_use]
pub fn replay_command(writers: u64, commits: u64) -> String {
    format!(
        "cargo run --release -p tabula-reliability -- concurrency --writers {writers} --commits {commits}"
    )
}

fn entry(id: i64, amount: i64) -> Op {
    Op::Insert {
        table: TABLE.into(),
        row: Row::from([
            ("id".to_owned(), Value::Int(id)),
            ("amount".to_owned(), Value::Int(amount)),
        ]),
    }
}

/// The tally's count.
fn tally(db: &State) -> Result<i64, String> {
    match db.get(TALLY, &Value::Int(0)).map_err(|e| e.to_string())? {
        Some(row) => match row.get("n") {
            Some(Value::Int(n)) => Ok(n),
            other => Err(format!("tally {other:?}")),
        },
        None => Err("no tally row".to_owned()),
    }
}

/// The ledger's sum and row count, or why it cannot be summed (or why its tally disagrees).
fn total(db: &State) -> Result<(i64, usize), String> {
    let counted = tally(db)?;
    let table = db.table(TABLE).ok_or("no ledger table")?;
    if usize::try_from(counted).ok().and_then(|n| n.checked_mul(2)) != Some(table.len()) {
        return Err(format!(
            "the tally at LSN {} counts {counted} transactions for {} entries: an update was lost",
            db.lsn(),
            table.len()
        ));
    }
    let mut sum = 0;
    for (_, row) in table.iter() {
        match row.get("amount") {
            Some(Value::Int(amount)) => sum += amount,
            other => return Err(format!("amount {other:?}")),
        }
    }
    Ok((sum, table.len()))
}

/// `writers` threads commit `commits` transactions each, with two readers, a checkpointer, a
/// backup taker and two subscribers running until they finish.
#[must_use]
pub fn run(writers: u64, commits: u64) -> Tally {
    let started = Instant::now();
    let mut tally = Tally::default();
    let replay = replay_command(writers, commits);
    match catch(|| ledger(writers, commits)) {
        Ok(Ok(counts)) => {
            for (name, n) in counts {
                tally.add(name, n);
            }
        }
        Ok(Err(what)) => tally.fail(what, replay),
        Err(panic) => {
            tally.panics += 1;
            tally.fail(format!("panic: {panic}"), replay);
        }
    }
    tally.seconds = started.elapsed().as_secs_f64();
    tally
}

type Counts = Vec<(&'static str, u64)>;

fn ledger(writers: u64, commits: u64) -> Result<Counts, String> {
    let temp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let dir = temp.path().join("db");
    let backups = temp.path().join("backups");
    let options = Options::new()
        .sync(SyncPolicy::Always)
        .checkpoint(CheckpointPolicy::manual())
        .segment_size(64 << 10);
    let (engine, _) = Engine::open(&dir, options.clone()).map_err(|e| e.to_string())?;
    engine
        .commit(vec![
            Op::CreateTable(TableDef::new(TABLE, "id")),
            Op::CreateTable(TableDef::new(TALLY, "id")),
            Op::Insert {
                table: TALLY.into(),
                row: Row::from([
                    ("id".to_owned(), Value::Int(0)),
                    ("n".to_owned(), Value::Int(0)),
                ]),
            },
        ])
        .map_err(|e| e.to_string())?;
    let first = engine.read().lsn();
    let done = AtomicBool::new(false);
    let failure: Mutex<Option<String>> = Mutex::new(None);
    let fail = |what: String| {
        if let Ok(mut slot) = failure.lock() {
            slot.get_or_insert(what);
        }
    };
    let acknowledged: Mutex<Vec<(Lsn, i64)>> = Mutex::new(Vec::new());
    let (reads, checkpoints, backups_taken, delivered) = (
        AtomicU64::new(0),
        AtomicU64::new(0),
        AtomicU64::new(0),
        AtomicU64::new(0),
    );
    let subscriptions: Vec<_> = (0..2)
        .map(|_| engine.subscribe(Start::After(first), FeedOptions::new()))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let expected_transactions = writers * commits;

    std::thread::scope(|scope| {
        for subscription in subscriptions {
            let (fail, delivered) = (&fail, &delivered);
            scope.spawn(move || {
                let mut next = first.next();
                let mut subscription = subscription;
                let mut seen = 0;
                while seen < expected_transactions {
                    let Some(item) = subscription.next_timeout(Duration::from_secs(60)) else {
                        return fail(format!(
                            "a subscriber got nothing for 60 s after {seen} transactions"
                        ));
                    };
                    let tx = match item {
                        Ok(tx) => tx,
                        Err(e) => return fail(format!("a subscriber failed: {e}")),
                    };
                    if tx.lsn != next {
                        return fail(format!(
                            "a subscriber got LSN {} where {next} was next",
                            tx.lsn
                        ));
                    }
                    if tx.ops.len() != 3 {
                        return fail(format!(
                            "LSN {} reached a subscriber with {} ops",
                            tx.lsn,
                            tx.ops.len()
                        ));
                    }
                    next = next.next();
                    seen += 1;
                    delivered.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        let writer_threads: Vec<_> = (0..writers)
            .map(|w| {
                let (engine, acknowledged, fail) = (&engine, &acknowledged, &fail);
                scope.spawn(move || {
                    for i in 0..commits {
                        let id = ((w * 1_000_000 + i) * 2) as i64;
                        let amount = (id % 97) + 1;
                        match engine.transaction(|tx| write_entry(tx, id, amount)) {
                            Ok((_, Some(committed))) => {
                                if let Ok(mut acked) = acknowledged.lock() {
                                    acked.push((committed.lsn, id));
                                }
                            }
                            Ok((_, None)) => return fail(format!("writer {w}: nothing committed")),
                            Err(e) => return fail(format!("writer {w}: {e}")),
                        }
                    }
                })
            })
            .collect();
        for _ in 0..2 {
            let (engine, done, fail, reads) = (&engine, &done, &fail, &reads);
            scope.spawn(move || {
                let mut last = Lsn::ZERO;
                while !done.load(Ordering::Relaxed) {
                    let db = engine.read().state().clone();
                    if db.lsn() < last {
                        return fail(format!("a reader saw LSN {} after {last}", db.lsn()));
                    }
                    last = db.lsn();
                    match total(&db) {
                        Ok((0, _)) => {}
                        Ok((sum, _)) => return fail(format!("a view at LSN {last} sums to {sum}")),
                        Err(e) => return fail(e),
                    }
                    reads.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        {
            let (engine, done, fail, checkpoints) = (&engine, &done, &fail, &checkpoints);
            scope.spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    match engine.checkpoint() {
                        Ok(_) => checkpoints.fetch_add(1, Ordering::Relaxed),
                        Err(e) => return fail(format!("checkpoint: {e}")),
                    };
                    std::thread::sleep(Duration::from_millis(20));
                }
            });
        }
        {
            let (engine, done, fail, backups_taken, backups) =
                (&engine, &done, &fail, &backups_taken, &backups);
            scope.spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    match take_backup(engine, backups) {
                        Ok(()) => backups_taken.fetch_add(1, Ordering::Relaxed),
                        Err(e) => return fail(e),
                    };
                    std::thread::sleep(Duration::from_millis(30));
                }
            });
        }
        for writer in writer_threads {
            if writer.join().is_err() {
                fail("a writer panicked".to_owned());
            }
        }
        done.store(true, Ordering::Relaxed);
    });
    if let Some(what) = failure.lock().map_err(|e| e.to_string())?.take() {
        return Err(what);
    }
    engine.close().map_err(|e| e.to_string())?;
    let (engine, _) = Engine::open(&dir, options).map_err(|e| format!("reopen: {e}"))?;
    let db = engine.read().state().clone();
    let acked = acknowledged.into_inner().map_err(|e| e.to_string())?;
    for (lsn, id) in &acked {
        if !matches!(db.get(TABLE, &Value::Int(*id + 1)), Ok(Some(_))) {
            return Err(format!("acknowledged transaction {lsn} lost after reopen"));
        }
    }
    if total(&db)? != (0, acked.len() * 2) {
        return Err(format!("after reopen the ledger is {:?}", total(&db)));
    }
    Ok(vec![
        ("transactions", acked.len() as u64),
        ("consistent reads", reads.into_inner()),
        ("checkpoints", checkpoints.into_inner()),
        ("backups checked", backups_taken.into_inner()),
        ("feed transactions checked", delivered.into_inner()),
    ])
}

/// One ledger transaction: the debit, its credit, and the tally read and incremented.
fn write_entry(tx: &mut WriteTx, id: i64, amount: i64) -> Result<(), tabula_engine::Error> {
    let n = match tx.get(TALLY, &Value::Int(0))?.and_then(|r| r.get("n")) {
        Some(Value::Int(n)) => n,
        other => return Err(tabula_engine::Error::StepFailed(format!("tally {other:?}"))),
    };
    tx.push(entry(id, -amount))?;
    tx.push(entry(id + 1, amount))?;
    tx.push(Op::Update {
        table: TALLY.into(),
        key: Value::Int(0),
        set: Row::from([("n".to_owned(), Value::Int(n + 1))]),
    })?;
    Ok(())
}

fn take_backup(engine: &Engine, dir: &Path) -> Result<(), String> {
    let info = engine.backup(dir).map_err(|e| format!("backup: {e}"))?;
    let store = SnapshotStore::open(dir).map_err(|e| e.to_string())?;
    let loaded = store
        .load(info.lsn, &LoadOptions::default())
        .map_err(|e| format!("backup at {} does not read: {e}", info.lsn))?;
    match total(&loaded.database)? {
        (0, _) => Ok(()),
        (sum, _) => Err(format!("the backup at {} sums to {sum}", info.lsn)),
    }
}
