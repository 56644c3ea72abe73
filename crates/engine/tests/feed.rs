//! The change feed: a subscriber gets exactly the transactions after its start, in order, from
//! the log and then live, while writers and checkpoints go on; a slow one is cut off with a
//! typed error naming where to resume, and commits never wait for it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use std::time::Duration;

use tabula_core::{Lsn, Op, Row, TableDef, Value};
use tabula_engine::{CheckpointPolicy, Engine, Error, FeedOptions, Options, Start};
use tabula_wal::{Retention, SyncPolicy};

fn options() -> Options {
    Options::new()
        .sync(SyncPolicy::Never)
        .checkpoint(CheckpointPolicy::manual())
        .segment_size(4096)
        .wal_retention(Retention::archive_all())
}

fn upsert(table: &str, id: i64) -> Op {
    Op::Upsert {
        table: table.into(),
        row: Row::from([("id".to_owned(), Value::Int(id))]),
    }
}

fn setup(engine: &Engine) {
    engine
        .commit(vec![
            Op::CreateTable(TableDef::new("a", "id")),
            Op::CreateTable(TableDef::new("b", "id")),
        ])
        .unwrap();
}

#[test]
fn a_subscriber_from_lsn_k_gets_exactly_the_later_transactions_while_writers_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _) = Engine::open(dir.path(), options()).unwrap();
    setup(&engine);
    for i in 0..40 {
        engine.commit(vec![upsert("a", i)]).unwrap();
    }
    engine.checkpoint().unwrap();
    let k = Lsn(10);
    let writers = 4;
    let per_writer = 150;
    let last = Lsn(41 + writers * per_writer);
    let mut from_k = engine
        .subscribe(Start::After(k), FeedOptions::new().buffer(100_000))
        .unwrap();
    let received = std::thread::scope(|scope| {
        for w in 0..writers {
            let engine = &engine;
            scope.spawn(move || {
                for i in 0..per_writer {
                    engine
                        .commit(vec![upsert("b", (w * 1000 + i) as i64)])
                        .unwrap();
                    if i == per_writer / 2 && w == 0 {
                        engine.checkpoint().unwrap();
                    }
                }
            });
        }
        let mut received = Vec::new();
        while received.last().is_none_or(|&lsn| lsn < last) {
            let tx = from_k
                .next_timeout(Duration::from_secs(30))
                .expect("the feed stalled")
                .unwrap();
            received.push(tx.lsn);
        }
        received
    });
    let expected: Vec<Lsn> = (k.0 + 1..=last.0).map(Lsn).collect();
    assert_eq!(received, expected, "a gap or a duplicate");
    // Nothing more arrives, and what arrived is what the log holds.
    assert!(from_k.next_timeout(Duration::from_millis(50)).is_none());
    assert!(!from_k.is_closed());
    let logged: Vec<_> = engine
        .log(
            tabula_engine::LogFilter::new()
                .after(Lsn(40))
                .until(Lsn(42)),
        )
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(logged.len(), 2);
}

/// Commits trickle in one at a time while subscribers catch up, so the hand-over from the log to
/// the live channel keeps finding exactly one new transaction (the moment a wrong check would
/// skip or repeat it).
#[test]
fn the_hand_over_from_log_to_live_neither_skips_nor_repeats() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _) = Engine::open(dir.path(), options()).unwrap();
    setup(&engine);
    let total = 400u64;
    std::thread::scope(|scope| {
        let engine = &engine;
        scope.spawn(move || {
            for i in 0..total {
                engine.commit(vec![upsert("a", i as i64)]).unwrap();
                std::thread::sleep(Duration::from_micros(150));
            }
        });
        for round in 0..40 {
            let start = engine.read().lsn();
            let mut sub = engine
                .subscribe(
                    Start::After(Lsn(start.0.saturating_sub(3))),
                    FeedOptions::new(),
                )
                .unwrap();
            for expected in (start.0.saturating_sub(3) + 1..).take(6) {
                let Some(tx) = sub.next_timeout(Duration::from_secs(30)) else {
                    break;
                };
                assert_eq!(tx.unwrap().lsn.0, expected, "round {round}");
            }
        }
    });
}

#[test]
fn a_live_subscriber_and_a_table_filter() {
    let engine = Engine::in_memory(Options::new());
    setup(&engine);
    let mut all = engine.subscribe(Start::Now, FeedOptions::new()).unwrap();
    let mut only_b = engine
        .subscribe(Start::Now, FeedOptions::new().table("b"))
        .unwrap();
    for i in 0..10 {
        let table = if i % 2 == 0 { "a" } else { "b" };
        engine.commit(vec![upsert(table, i)]).unwrap();
    }
    let lsns = |sub: &mut tabula_engine::Subscription| {
        std::iter::from_fn(|| sub.next_timeout(Duration::from_millis(20)))
            .map(|tx| tx.unwrap().lsn.0)
            .collect::<Vec<_>>()
    };
    assert_eq!(lsns(&mut all), (2..=11).collect::<Vec<_>>());
    assert_eq!(lsns(&mut only_b), [3, 5, 7, 9, 11]);
    // An in-memory engine has no log to catch up from.
    let mut behind = engine
        .subscribe(Start::After(Lsn(1)), FeedOptions::new())
        .unwrap();
    assert!(matches!(behind.next(), Some(Err(Error::Pruned { .. }))));
    assert!(behind.is_closed());
    assert!(matches!(
        engine.subscribe(Start::After(Lsn(99)), FeedOptions::new()),
        Err(Error::NotCommitted { .. })
    ));
    // The feed ends with the engine.
    drop(engine);
    assert!(all.next().is_none());
}

#[test]
fn a_slow_subscriber_is_cut_off_with_where_to_resume_and_commits_never_wait() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _) = Engine::open(dir.path(), options()).unwrap();
    setup(&engine);
    let mut slow = engine
        .subscribe(Start::Now, FeedOptions::new().buffer(4))
        .unwrap();
    // Far more commits than the buffer: none of them waits for the subscriber.
    for i in 0..50 {
        engine.commit(vec![upsert("a", i)]).unwrap();
    }
    assert_eq!(
        engine.stats().unwrap().subscribers,
        0,
        "dropped once it lagged"
    );
    let mut got = Vec::new();
    let next = loop {
        match slow.next().unwrap() {
            Ok(tx) => got.push(tx.lsn),
            Err(Error::Lagged { buffer: 4, next }) => break next,
            Err(other) => panic!("{other}"),
        }
    };
    assert_eq!(got, [Lsn(2), Lsn(3), Lsn(4), Lsn(5)]);
    assert_eq!(next, Lsn(6));
    assert!(slow.next().is_none());
    // Resuming from the log misses nothing.
    let mut resumed = engine
        .subscribe(Start::After(Lsn(next.0 - 1)), FeedOptions::new())
        .unwrap();
    let rest: Vec<u64> = std::iter::from_fn(|| resumed.next_timeout(Duration::from_millis(20)))
        .map(|tx| tx.unwrap().lsn.0)
        .collect();
    assert_eq!(rest, (6..=51).collect::<Vec<_>>());
}
