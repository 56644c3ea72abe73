//! Single-row write transactions against `Engine::commit` on the same rows (aim: a transaction
//! costs at most 10% more than a commit of the same op).
//!
//! Each iteration commits one ~150-byte row under `SyncPolicy::Never` (the log is written, not
//! fsynced, so the CPU cost of the commit path is what is timed, not the disk):
//!
//! - `commit`: `Engine::commit(vec![Op::Insert { .. }])`, the baseline;
//! - `engine_transaction`: `Engine::transaction` pushing the same op;
//! - `db_transaction_rows`: `tabula::Database::transaction` inserting the same row through
//!   untyped `TxRows`;
//! - `db_transaction_typed`: the same through a typed `TxTable` (includes turning the struct
//!   into a row with serde, which the others do not pay);
//! - `update_rmw`: `Table::update(key, |r| ..)`, the atomic read-modify-write, against
//!   `update_blind`: `Engine::commit` of the same `Op::Update` without the read.
//!
//! `cargo xtask bench criterion -- transaction/` runs it.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use serde::{Deserialize, Serialize};
use tabula::{Database, Op, Options, Record, Row, SyncPolicy, TableDef, Timestamp, Value};

#[derive(Debug, Clone, Serialize, Deserialize, Record)]
#[tabula(table = "typed")]
struct Item {
    #[tabula(primary_key)]
    id: i64,
    name: String,
    email: String,
    score: f64,
    active: bool,
    created: Timestamp,
    tags: Vec<String>,
}

fn item(i: i64) -> Item {
    Item {
        id: i,
        name: format!("user-{i:08}-name"),
        email: format!("user{i}@example.com"),
        score: i as f64 * 0.37 % 100.0,
        active: i % 3 == 0,
        created: Timestamp::from_micros(1_700_000_000_000_000 + i),
        tags: vec!["alpha".into(), "beta".into()],
    }
}

fn row(i: i64) -> Row {
    Item::to_row(&item(i)).expect("a row")
}

fn open() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let options = Options::new().sync(SyncPolicy::Never).background(false);
    let db = Database::with_options(dir.path(), options).unwrap();
    db.create_table(TableDef::new("items", "id")).unwrap();
    db.table::<Item>().unwrap();
    (dir, db)
}

fn insert(i: i64) -> Op {
    Op::Insert {
        table: "items".into(),
        row: row(i),
    }
}

fn benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("transaction");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    // Each benchmark gets a fresh database, dropped after it, so that every one inserts into a
    // table of the same sizes with the same memory in use (a first version kept the earlier
    // databases alive, and each later benchmark ran ~10-30% slower for it, whatever its path).
    let mut next = 0i64;
    let mut key = move || {
        next += 1;
        next
    };

    {
        let (_dir, db) = open();
        group.bench_function("commit", |b| {
            b.iter_batched(
                || insert(key()),
                |op| db.commit(vec![op]).unwrap(),
                BatchSize::SmallInput,
            );
        });
    }
    {
        let (_dir, db) = open();
        group.bench_function("engine_transaction", |b| {
            b.iter_batched(
                || insert(key()),
                |op| {
                    db.engine()
                        .transaction(|tx| tx.push(op).map(|_| ()))
                        .unwrap()
                },
                BatchSize::SmallInput,
            );
        });
    }
    {
        let (_dir, db) = open();
        group.bench_function("db_transaction_rows", |b| {
            b.iter_batched(
                || row(key()),
                |row| db.transaction(|tx| tx.rows("items").insert(row)).unwrap(),
                BatchSize::SmallInput,
            );
        });
    }
    {
        let (_dir, db) = open();
        group.bench_function("commit_typed_baseline", |b| {
            // The same conversion the typed transaction pays, then a plain commit.
            b.iter_batched(
                || item(key()),
                |record| {
                    let row = record.to_row().unwrap();
                    db.commit(vec![Op::Insert {
                        table: "typed".into(),
                        row,
                    }])
                    .unwrap()
                },
                BatchSize::SmallInput,
            );
        });
    }
    {
        let (_dir, db) = open();
        group.bench_function("db_transaction_typed", |b| {
            b.iter_batched(
                || item(key()),
                |record| {
                    db.transaction(|tx| tx.table::<Item>()?.insert(&record))
                        .unwrap()
                },
                BatchSize::SmallInput,
            );
        });
    }
    {
        let (_dir, db) = open();
        let typed = db.table::<Item>().unwrap();
        typed.insert(&item(-1)).unwrap();
        group.bench_function("update_blind", |b| {
            let mut n = 0i64;
            b.iter(|| {
                n += 1;
                db.commit(vec![Op::Update {
                    table: "typed".into(),
                    key: Value::Int(-1),
                    set: Row::from([("score".to_owned(), Value::Float(n as f64))]),
                }])
                .unwrap()
            });
        });
        group.bench_function("update_rmw", |b| {
            let mut n = 0i64;
            b.iter(|| {
                n += 1;
                typed.update(-1, |r| r.score = n as f64).unwrap()
            });
        });
        drop(typed);
    }
    group.finish();
}

criterion_group!(transaction, benches);
criterion_main!(transaction);
