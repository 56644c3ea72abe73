//! The engine against a model: random transactions (inserts, upserts, updates, deletes, schema
//! and index changes, failing ones) interleaved with checkpoints, clean closes, drops without
//! close, power losses and crashes in the middle of a commit or a checkpoint. After every reopen
//! the database equals the model: every acknowledged commit, in order, and nothing half applied.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use std::sync::Arc;

use tabula_core::{
    Column, ColumnType, IndexDef, Lsn, Op, Path, Row, SchemaChange, State, TableDef, Timestamp,
    Transaction, Value,
};
use tabula_engine::{CheckpointPolicy, Engine, Error, Options};
use tabula_storage::{Fault, SimStorage, Tear};
use tabula_wal::Retention;

const DIR: &str = "/db";

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn options() -> Options {
    Options::new()
        .checkpoint(CheckpointPolicy::manual())
        .segment_size(2048)
        .wal_retention(Retention::archive_all())
}

fn open(storage: &SimStorage) -> Result<Engine, Error> {
    Engine::open_on(Arc::new(storage.clone()), DIR, options()).map(|(engine, _)| engine)
}

fn random_op(rng: &mut Rng) -> Op {
    let table = ["a", "b", "typed"][rng.below(3) as usize].to_owned();
    let key = Value::Int(rng.below(12) as i64);
    let mut row = Row::new();
    row.insert("id".to_owned(), key.clone());
    row.insert("n".to_owned(), Value::Int(rng.below(5) as i64));
    if rng.below(3) == 0 {
        row.insert("tag".to_owned(), Value::Text(format!("t{}", rng.below(4))));
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
            index: IndexDef::new("by_n", Path::column("n")),
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

fn assert_equal(engine: &Engine, model: &State, context: &str) {
    let db = engine.read();
    assert_eq!(db.lsn(), model.lsn(), "{context}: LSN");
    assert!(
        db == *model,
        "{context}: the database differs from the model"
    );
}

#[test]
fn random_histories_with_checkpoints_closes_and_crashes_match_the_model() {
    for seed in 0..24u64 {
        let mut rng = Rng(seed);
        let mut storage = SimStorage::new();
        let mut engine = open(&storage).unwrap();
        let mut model = State::new();
        let setup = vec![
            Op::CreateTable(TableDef::new("a", "id")),
            Op::CreateTable(TableDef::new("b", "id")),
        ];
        engine.commit(setup.clone()).unwrap();
        assert!(model_apply(&mut model, &setup));
        for step in 0..120 {
            let context = format!("seed {seed}, step {step}");
            match rng.below(40) {
                0 | 1 => {
                    engine.checkpoint().unwrap();
                }
                2 => {
                    engine.close().unwrap();
                    engine = open(&storage).unwrap();
                    assert_equal(&engine, &model, &context);
                }
                3 => {
                    // A process crash: the OS keeps what was written.
                    let image = storage.crash(Tear::KeepAll);
                    drop(engine);
                    storage = image;
                    engine = open(&storage).unwrap();
                    assert_equal(&engine, &model, &context);
                }
                4 | 5 => {
                    // Power loss: only what was synced survives; under `Always` that is every
                    // acknowledged commit.
                    let tear = if rng.below(2) == 0 {
                        Tear::DropUnsynced
                    } else {
                        Tear::Torn { seed: rng.next() }
                    };
                    let image = storage.crash(tear);
                    drop(engine);
                    storage = image;
                    engine = open(&storage).unwrap_or_else(|e| panic!("{context}: reopen: {e}"));
                    assert_equal(&engine, &model, &context);
                }
                6 => {
                    // A crash at one of the next few storage operations, in the middle of a
                    // commit or a checkpoint.
                    storage.inject(storage.ops() + rng.below(12), Fault::Crash, true);
                    let ops = random_tx(&mut rng);
                    let mut in_flight = None;
                    let result = if rng.below(3) == 0 {
                        engine.checkpoint().map(drop)
                    } else {
                        let result = engine.commit(ops.clone()).map(drop);
                        in_flight = Some(ops);
                        result
                    };
                    match (&result, &in_flight) {
                        (Ok(()), Some(ops)) => assert!(model_apply(&mut model, ops), "{context}"),
                        (Err(Error::Rejected(_)), _) | (Ok(()), None) => {}
                        (Err(_), _) => {}
                    }
                    let acknowledged = result.is_ok();
                    let image = storage.crash(Tear::Torn { seed: rng.next() });
                    drop(engine);
                    storage = image;
                    engine = open(&storage)
                        .unwrap_or_else(|e| panic!("{context}: reopen after a crash: {e}"));
                    let db = engine.read();
                    // An unacknowledged commit may have reached the disk before the crash.
                    if !acknowledged
                        && db.lsn() == model.lsn().next()
                        && let Some(ops) = &in_flight
                    {
                        assert!(
                            model_apply(&mut model, ops),
                            "{context}: a half-applied commit"
                        );
                    }
                    assert_equal(&engine, &model, &context);
                }
                _ => {
                    let ops = random_tx(&mut rng);
                    let accepted = model_apply(&mut model.clone(), &ops);
                    match engine.commit(ops.clone()) {
                        Ok(committed) => {
                            assert!(
                                accepted,
                                "{context}: the engine accepted what the model refuses"
                            );
                            model_apply(&mut model, &ops);
                            assert_eq!(committed.lsn, model.lsn());
                        }
                        Err(Error::Rejected(_)) => {
                            assert!(!accepted, "{context}: refused a valid transaction")
                        }
                        Err(other) => panic!("{context}: {other}"),
                    }
                    assert_equal(&engine, &model, &context);
                }
            }
        }
        engine.close().unwrap();
        let engine = open(&storage).unwrap();
        assert_equal(&engine, &model, &format!("seed {seed}, the end"));
        assert!(
            model.lsn() > Lsn(10),
            "seed {seed}: too few commits to mean anything"
        );
    }
}
