//! Many threads at once: writers commit balanced ledger entries while readers check that every
//! view balances and checkpoints run; after reopen every acknowledged commit is there. Also the
//! directory lock, from another thread and from another process.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use tabula_core::{Lsn, Op, Row, TableDef, Value};
use tabula_engine::{CheckpointPolicy, Engine, Error, Options};

/// The ledger's total: every transaction inserts a debit and its credit, so any consistent view
/// sums to zero; a view holding half a transaction does not.
fn ledger_total(db: &tabula_engine::ReadView) -> (i64, usize) {
    let table = db.table("ledger").unwrap();
    let sum = table
        .iter()
        .map(|(_, row)| match row.get("amount").unwrap() {
            Value::Int(amount) => amount,
            ref other => panic!("amount {other:?}"),
        })
        .sum();
    (sum, table.len())
}

fn entry(id: i64, amount: i64) -> Op {
    Op::Insert {
        table: "ledger".into(),
        row: Row::from([
            ("id".to_owned(), Value::Int(id)),
            ("amount".to_owned(), Value::Int(amount)),
        ]),
    }
}

#[test]
fn readers_always_see_a_consistent_total_while_writers_and_checkpoints_run() {
    let temp = tempfile::tempdir().unwrap();
    let options = Options::new()
        .checkpoint(CheckpointPolicy::manual())
        .segment_size(64 << 10);
    let (engine, _) = Engine::open(temp.path(), options.clone()).unwrap();
    engine
        .commit(vec![Op::CreateTable(TableDef::new("ledger", "id"))])
        .unwrap();

    let done = AtomicBool::new(false);
    let acknowledged = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        let writers: Vec<_> = (0..8i64)
            .map(|w| {
                let (engine, acknowledged) = (&engine, &acknowledged);
                scope.spawn(move || {
                    for i in 0..60i64 {
                        let id = (w * 1_000 + i) * 2;
                        let amount = (id % 97) + 1;
                        let committed = engine
                            .commit(vec![entry(id, -amount), entry(id + 1, amount)])
                            .unwrap();
                        // The committer's own write is visible once commit returns.
                        assert!(
                            engine
                                .read()
                                .get("ledger", &Value::Int(id + 1))
                                .unwrap()
                                .is_some()
                        );
                        acknowledged.lock().unwrap().push((committed.lsn, id));
                    }
                })
            })
            .collect();
        for _ in 0..8 {
            let (engine, done) = (&engine, &done);
            scope.spawn(move || {
                let mut reads = 0u64;
                while !done.load(Ordering::Relaxed) || reads == 0 {
                    let db = engine.read();
                    let (sum, rows) = ledger_total(&db);
                    assert_eq!(
                        (sum, rows % 2),
                        (0, 0),
                        "a read at LSN {} saw half a transaction",
                        db.lsn()
                    );
                    reads += 1;
                }
            });
        }
        scope.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                engine.checkpoint().unwrap();
                std::thread::yield_now();
            }
        });
        for writer in writers {
            writer.join().unwrap();
        }
        done.store(true, Ordering::Relaxed);
    });
    let acknowledged = acknowledged.into_inner().unwrap();
    assert_eq!(acknowledged.len(), 480);
    drop(engine);
    let (engine, report) = Engine::open(temp.path(), options).unwrap();
    let db = engine.read();
    for (lsn, id) in &acknowledged {
        assert!(
            db.get("ledger", &Value::Int(*id)).unwrap().is_some(),
            "acknowledged LSN {lsn} lost"
        );
    }
    assert_eq!(ledger_total(&db), (0, 960));
    assert_eq!(db.lsn(), Lsn(481));
    assert!(report.snapshot.is_some(), "the checkpoints left a snapshot");
}

#[test]
fn a_second_open_fails_with_already_open_from_a_thread_and_from_a_process() {
    let temp = tempfile::tempdir().unwrap();
    let (engine, _) = Engine::open(temp.path(), Options::default()).unwrap();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let error = Engine::open(temp.path(), Options::default()).unwrap_err();
            assert!(matches!(error, Error::AlreadyOpen { .. }), "{error}");
        });
    });
    // Another process: this test binary again, running the helper below.
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "open_from_a_child_process", "--nocapture"])
        .env("TABULA_CHILD_OPEN", temp.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("child: AlreadyOpen"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    drop(engine);
    Engine::open(temp.path(), Options::default()).unwrap();
}

/// Not a test on its own: the child process of the test above (does nothing without its
/// environment variable).
#[test]
fn open_from_a_child_process() {
    let Some(dir) = std::env::var_os("TABULA_CHILD_OPEN") else {
        return;
    };
    match Engine::open(&dir, Options::default()) {
        Err(Error::AlreadyOpen { .. }) => println!("child: AlreadyOpen"),
        Err(other) => println!("child: {other}"),
        Ok(_) => println!("child: opened"),
    }
}
