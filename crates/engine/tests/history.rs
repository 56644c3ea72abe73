//! Time travel, history, tags, diffs and rollbacks against a model that remembers every state.
//!
//! Random transactions (upserts, updates, deletes, a table created and dropped) run on a small
//! segment size with checkpoints in between, so the past is spread over several snapshots and
//! archived segments. At the end, for every LSN, `as_of` equals the model's state at that LSN
//! (or, past the retention window, is `Pruned` naming the oldest point that does work), and
//! `history` of every key equals the model's list of versions.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use std::collections::BTreeMap;
use std::sync::Arc;

use tabula_core::{Cause, Lsn, Op, Row, TableDef, Timestamp, Transaction, Value};
use tabula_engine::{
    At, CheckpointPolicy, Diff, Engine, Error, LogFilter, ManualClock, Options, VersionKind,
};
use tabula_snapshot::SnapshotRetention;
use tabula_storage::SimStorage;
use tabula_wal::Retention;

const DIR: &str = "/db";

type Tables = BTreeMap<String, BTreeMap<Value, Row>>;

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

/// The user tables of a read view, as plain maps.
fn state_of(db: &tabula_engine::ReadView) -> Tables {
    tables_of(db.tables().map(|t| (t.name(), t.iter())))
}

/// The user tables among `tables` (names and rows), as plain maps.
fn tables_of<'a, R>(tables: impl Iterator<Item = (&'a str, R)>) -> Tables
where
    R: Iterator<Item = (Value, &'a tabula_core::RowRef)>,
{
    tables
        .filter(|(name, _)| !tabula_engine::system::is_reserved(name))
        .map(|(name, rows)| {
            let rows = rows.map(|(k, r)| (k, r.to_row())).collect();
            (name.to_owned(), rows)
        })
        .collect()
}

fn row(id: i64, n: u64) -> Row {
    Row::from([
        ("id".to_owned(), Value::Int(id)),
        ("n".to_owned(), Value::Int(n as i64)),
    ])
}

/// Ops that succeed on `model`, applied to it as well.
fn random_ops(rng: &mut Rng, model: &mut Tables) -> Vec<Op> {
    let mut ops = Vec::new();
    for _ in 0..1 + rng.below(3) {
        let table = ["a", "b"][rng.below(2) as usize];
        if !model.contains_key(table) {
            ops.push(Op::CreateTable(TableDef::new(table, "id")));
            model.insert(table.to_owned(), BTreeMap::new());
            continue;
        }
        let rows = model.get_mut(table).unwrap();
        let id = rng.below(8) as i64;
        let key = Value::Int(id);
        match rng.below(10) {
            0 if table == "b" => {
                ops.push(Op::DropTable {
                    table: table.to_owned(),
                });
                model.remove(table);
            }
            1..=2 if rows.contains_key(&key) => {
                ops.push(Op::Delete {
                    table: table.to_owned(),
                    key: key.clone(),
                });
                rows.remove(&key);
            }
            3..=4 if rows.contains_key(&key) => {
                let n = rng.below(100);
                let set = Row::from([("n".to_owned(), Value::Int(n as i64))]);
                ops.push(Op::Update {
                    table: table.to_owned(),
                    key: key.clone(),
                    set,
                });
                rows.insert(key, row(id, n));
            }
            _ => {
                let n = rng.below(100);
                ops.push(Op::Upsert {
                    table: table.to_owned(),
                    row: row(id, n),
                });
                rows.insert(key, row(id, n));
            }
        }
    }
    ops
}

fn options(retention: Retention, snapshots: usize) -> Options {
    Options::new()
        .checkpoint(CheckpointPolicy::manual())
        .segment_size(1024)
        .wal_retention(retention)
        .snapshot_retention(SnapshotRetention::keep(snapshots))
}

fn open(storage: &SimStorage, options: Options) -> Engine {
    Engine::open_on(Arc::new(storage.clone()), DIR, options)
        .unwrap()
        .0
}

/// The model's versions of one row: (LSN, before, after) for each transaction that changed it.
type Versions = Vec<(Lsn, Option<Row>, Option<Row>)>;

fn model_versions(states: &[Tables], table: &str, key: &Value) -> Versions {
    let row_at = |s: &Tables| s.get(table).and_then(|t| t.get(key)).cloned();
    states
        .windows(2)
        .enumerate()
        .filter_map(|(i, pair)| {
            let (before, after) = (row_at(&pair[0]), row_at(&pair[1]));
            (before != after).then(|| (Lsn(i as u64 + 1), before, after))
        })
        .collect()
}

/// Runs a random history of `steps` transactions; returns the engine's storage and the model's
/// state at every LSN (index = LSN).
fn run(seed: u64, steps: usize, options: &Options) -> (SimStorage, Vec<Tables>) {
    let storage = SimStorage::new();
    let engine = open(&storage, options.clone());
    let mut rng = Rng(seed);
    let mut model = Tables::new();
    let mut states = vec![model.clone()];
    for step in 0..steps {
        let ops = random_ops(&mut rng, &mut model);
        let cause = Cause::new().who(format!("user{}", step % 3));
        let committed = engine.commit_with_cause(ops, cause).unwrap();
        assert_eq!(committed.lsn, Lsn(states.len() as u64));
        states.push(model.clone());
        if rng.below(12) == 0 {
            engine.checkpoint().unwrap();
        }
        if rng.below(40) == 0 {
            engine.close().unwrap();
            return run_on(storage, rng, model, states, steps - step - 1, options);
        }
    }
    engine.close().unwrap();
    (storage, states)
}

fn run_on(
    storage: SimStorage,
    mut rng: Rng,
    mut model: Tables,
    mut states: Vec<Tables>,
    steps: usize,
    options: &Options,
) -> (SimStorage, Vec<Tables>) {
    let engine = open(&storage, options.clone());
    assert_eq!(state_of(&engine.read()), model, "reopen");
    for step in 0..steps {
        let ops = random_ops(&mut rng, &mut model);
        let cause = Cause::new().who(format!("user{}", step % 3));
        engine.commit_with_cause(ops, cause).unwrap();
        states.push(model.clone());
        if rng.below(12) == 0 {
            engine.checkpoint().unwrap();
        }
    }
    engine.close().unwrap();
    (storage, states)
}

fn check_as_of_and_history(seed: u64, engine: &Engine, states: &[Tables]) {
    let oldest = engine.oldest_available().unwrap();
    for (lsn, expected) in states.iter().enumerate() {
        let lsn = Lsn(lsn as u64);
        match engine.as_of(lsn) {
            // Before the window only a snapshot's own LSN can be read, and exactly.
            Ok(db) => {
                assert_eq!(db.lsn(), lsn, "seed {seed}");
                assert_eq!(&state_of(&db), expected, "seed {seed}: as_of({lsn})");
            }
            Err(Error::Pruned {
                requested,
                oldest_available,
            }) => {
                assert!(
                    lsn < oldest,
                    "seed {seed}: LSN {lsn} pruned, oldest {oldest}"
                );
                assert_eq!((requested, oldest_available), (lsn, oldest), "seed {seed}");
            }
            Err(other) => panic!("seed {seed}: as_of({lsn}): {other}"),
        }
    }
    let last = Lsn(states.len() as u64 - 1);
    assert!(matches!(
        engine.as_of(last.next()),
        Err(Error::NotCommitted { .. })
    ));
    // History covers the retained window: the model's versions after the oldest point.
    let window = &states[oldest.0 as usize..];
    for table in ["a", "b"] {
        for id in 0..8 {
            let key = Value::Int(id);
            let got: Versions = engine
                .history(table, &key)
                .unwrap()
                .into_iter()
                .map(|v| {
                    let kind = match (&v.before, &v.after) {
                        (None, _) => VersionKind::Inserted,
                        (Some(_), None) => VersionKind::Deleted,
                        _ => VersionKind::Updated,
                    };
                    assert_eq!(kind, v.kind);
                    assert!(v.cause.as_ref().unwrap().who.is_some());
                    (
                        v.lsn,
                        v.before.map(|r| r.to_row()),
                        v.after.map(|r| r.to_row()),
                    )
                })
                .collect();
            let expected: Versions = model_versions(window, table, &key)
                .into_iter()
                .map(|(lsn, b, a)| (Lsn(lsn.0 + oldest.0), b, a))
                .collect();
            assert_eq!(got, expected, "seed {seed}: history({table}, {id})");
        }
    }
}

#[test]
fn as_of_and_history_equal_the_model_with_the_whole_log_archived() {
    let options = options(Retention::archive_all(), 2);
    for seed in 0..6 {
        let (storage, states) = run(seed, 150, &options);
        let engine = open(&storage, options.clone());
        assert_eq!(engine.oldest_available().unwrap(), Lsn(0), "seed {seed}");
        check_as_of_and_history(seed, &engine, &states);
    }
}

#[test]
fn past_the_retention_window_as_of_is_pruned_and_within_it_exact() {
    // Two snapshots and three archived segments: the start of history is gone.
    let options = options(Retention::archive_all().max_count(3), 2);
    let mut pruned_somewhere = false;
    for seed in 10..16 {
        let (storage, states) = run(seed, 200, &options);
        let engine = open(&storage, options.clone());
        pruned_somewhere |= engine.oldest_available().unwrap() > Lsn(0);
        check_as_of_and_history(seed, &engine, &states);
    }
    assert!(
        pruned_somewhere,
        "retention never pruned: the test tests nothing"
    );
}

#[test]
fn diff_applied_to_a_gives_b_and_rollback_restores_while_keeping_history() {
    let options = options(Retention::archive_all(), 3);
    let (storage, states) = run(99, 120, &options);
    let engine = open(&storage, options.clone());
    let mut rng = Rng(7);
    for _ in 0..30 {
        let a = Lsn(rng.below(states.len() as u64));
        let b = Lsn(rng.below(states.len() as u64));
        let diff = engine.diff(a, b).unwrap();
        assert_eq!(
            diff.is_empty(),
            states[a.0 as usize] == states[b.0 as usize]
        );
        let mut db = engine.as_of(a).unwrap().to_database().unwrap();
        let tx = Transaction {
            lsn: db.lsn().next(),
            timestamp: Timestamp::EPOCH,
            cause: None,
            ops: diff.ops(),
        };
        db.apply(&tx).unwrap();
        let tables = db.tables().map(|t| (t.name(), t.iter()));
        assert_eq!(tables_of(tables), states[b.0 as usize], "diff({a}, {b})");
    }

    // Roll back to a point where table "a" held rows, and check the result and the history.
    let target = (1..states.len())
        .rev()
        .find(|&i| {
            states[i].get("a").is_some_and(|t| t.len() >= 2) && states[i] != *states.last().unwrap()
        })
        .map(|i| Lsn(i as u64))
        .expect("a state to roll back to");
    let before = engine.read().lsn();
    let rolled = engine.rollback_to(target, None).unwrap();
    assert_eq!(rolled.lsn, before.next());
    assert_eq!(state_of(&engine.read()), states[target.0 as usize]);
    let target_state = engine.as_of(target).unwrap().to_database().unwrap();
    assert!(Diff::between(&target_state, &engine.read().to_database().unwrap()).is_empty());
    // The old states are still there, and the rollback is in the log with its cause.
    assert_eq!(
        state_of(&engine.as_of(before).unwrap()),
        *states.last().unwrap()
    );
    let last = engine.log(LogFilter::new().after(before)).unwrap();
    let last: Vec<Transaction> = last.collect::<Result<_, _>>().unwrap();
    assert_eq!(last.len(), 1);
    assert_eq!(
        last[0].cause.as_ref().unwrap().what.as_deref(),
        Some("rollback")
    );
    // Some row changed by the rollback shows it as its newest version.
    let changed = Diff::between(
        &engine.as_of(before).unwrap().to_database().unwrap(),
        &engine.read().to_database().unwrap(),
    );
    let t = &changed.tables[0];
    let key = t
        .added
        .first()
        .map(|(k, _)| k)
        .or(t.removed.first().map(|(k, _)| k))
        .or(t.changed.first().map(|(k, _, _)| k))
        .unwrap()
        .clone();
    let history = engine.history(&t.table, &key).unwrap();
    let newest = history.last().unwrap();
    assert_eq!(newest.lsn, rolled.lsn);
    assert_eq!(
        newest.cause.as_ref().unwrap().what.as_deref(),
        Some("rollback")
    );
    assert!(
        history.len() >= 2,
        "the versions before the rollback are kept"
    );
}

#[test]
fn tags_name_points_survive_reopen_and_are_never_moved() {
    let storage = SimStorage::new();
    let options = options(Retention::archive_all(), 3);
    let engine = open(&storage, options.clone());
    engine
        .commit(vec![Op::CreateTable(TableDef::new("a", "id"))])
        .unwrap();
    engine
        .commit(vec![Op::Upsert {
            table: "a".into(),
            row: row(1, 1),
        }])
        .unwrap();
    assert_eq!(engine.tag("v1").unwrap(), Lsn(2));
    assert!(matches!(
        engine.tag("v1"),
        Err(Error::TagExists { lsn: Lsn(2), .. })
    ));
    assert!(engine.tag("bad/name").is_err());
    engine
        .commit(vec![Op::Upsert {
            table: "a".into(),
            row: row(1, 2),
        }])
        .unwrap();
    engine.checkpoint().unwrap();
    engine.close().unwrap();

    let engine = open(&storage, options);
    let tags = engine.tags();
    assert_eq!(tags.len(), 1);
    assert_eq!((tags[0].0.as_str(), tags[0].1), ("v1", Lsn(2)));
    let then = engine.as_of("v1").unwrap();
    assert_eq!(
        then.get("a", &Value::Int(1))
            .unwrap()
            .unwrap()
            .get("n")
            .unwrap(),
        Value::Int(1)
    );
    assert!(matches!(
        engine.as_of("nope"),
        Err(Error::UnknownTag { .. })
    ));
    // The engine's tables are its own.
    let refused = engine.commit(vec![Op::Delete {
        table: "_tabula_tags".into(),
        key: Value::from("v1"),
    }]);
    assert!(matches!(refused, Err(Error::ReservedTable { .. })));
    // A saved copy with tags imports into another database without them.
    let saved = tempfile::tempdir().unwrap();
    engine
        .save(saved.path().join("db.bin"), tabula_codec::Format::Bincode)
        .unwrap();
    let copy = Engine::in_memory(Options::new());
    let loaded =
        tabula_engine::load_file(saved.path().join("db.bin"), &Default::default()).unwrap();
    assert!(loaded.table("_tabula_tags").is_some());
    copy.import(&loaded).unwrap();
    assert!(copy.tags().is_empty());
    assert!(copy.read().table("a").is_some());
    engine.delete_tag("v1").unwrap();
    assert!(engine.tags().is_empty());
    assert!(matches!(
        engine.delete_tag("v1"),
        Err(Error::UnknownTag { .. })
    ));
}

#[test]
fn a_time_names_the_last_transaction_committed_by_then() {
    let dir = tempfile::tempdir().unwrap();
    // Each commit a millisecond after the one before, by a clock the test moves.
    let clock = ManualClock::new("2026-12-07T10:00:00Z".parse().unwrap());
    let options = options(Retention::archive_all(), 3).clock(clock.clone());
    let (engine, _) = Engine::open(dir.path(), options.clone()).unwrap();
    let mut times = Vec::new();
    engine
        .commit(vec![Op::CreateTable(TableDef::new("a", "id"))])
        .unwrap();
    clock.advance(std::time::Duration::from_millis(1));
    for n in 0..5 {
        let c = engine
            .commit(vec![Op::Upsert {
                table: "a".into(),
                row: row(1, n),
            }])
            .unwrap();
        times.push((c.lsn, c.timestamp));
        clock.advance(std::time::Duration::from_millis(1));
    }
    engine.checkpoint().unwrap();
    drop(engine);
    let (engine, _) = Engine::open(dir.path(), options).unwrap();
    for (lsn, time) in &times {
        assert_eq!(engine.resolve(&At::Time(*time)).unwrap(), *lsn);
        let db = engine.as_of(*time).unwrap();
        assert_eq!(db.lsn(), *lsn);
    }
    let before_all = Timestamp::from_micros(times[0].1.as_micros() - 1);
    assert_eq!(engine.resolve(&At::Time(before_all)).unwrap(), Lsn(1));
    assert_eq!(
        engine
            .resolve(&At::Time(Timestamp::from_micros(i64::MAX)))
            .unwrap(),
        Lsn(6)
    );
    // The log by actor and table.
    let all: Vec<Transaction> = engine
        .log(LogFilter::new().table("a"))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(all.len(), 6);
    let some: Vec<Transaction> = engine
        .log(LogFilter::new().after(Lsn(2)).until(Lsn(4)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        some.iter().map(|t| t.lsn).collect::<Vec<_>>(),
        [Lsn(3), Lsn(4)]
    );
    assert_eq!(
        engine.log(LogFilter::new().who("nobody")).unwrap().count(),
        0
    );
}

/// Regression: after a checkpoint covered every record, a reopened engine started its commit
/// times from nothing, so a clock that had stepped back across the restart gave a commit an
/// earlier time than the one before it (and `At::Time` assumes times never go back).
#[test]
fn commit_times_go_on_after_a_reopen_whose_clock_stepped_back() {
    let dir = tempfile::tempdir().unwrap();
    let later: Timestamp = "2026-12-07T10:00:00Z".parse().unwrap();
    let clock = ManualClock::new(later);
    let options = options(Retention::archive_all(), 3).clock(clock.clone());
    let (engine, _) = Engine::open(dir.path(), options.clone()).unwrap();
    let first = engine
        .commit(vec![Op::CreateTable(TableDef::new("a", "id"))])
        .unwrap();
    engine.checkpoint().unwrap();
    engine.close().unwrap();

    // Back 5 minutes: within `Options::max_clock_step_back`, an NTP-sized step.
    clock.set("2026-12-07T09:55:00Z".parse().unwrap());
    let (engine, report) = Engine::open(dir.path(), options).unwrap();
    assert_eq!(report.replayed, 0, "the snapshot covers everything");
    let next = engine
        .commit(vec![Op::Upsert {
            table: "a".into(),
            row: row(1, 1),
        }])
        .unwrap();
    assert!(
        next.timestamp >= first.timestamp,
        "{next:?} before {first:?}"
    );
    assert_eq!(
        engine.resolve(&At::Time(first.timestamp)).unwrap(),
        next.lsn
    );
}

/// Issue 25, finding 8: one commit made while the clock was years ahead stamped every later
/// commit with that future time forever, so `as_of` a real time missed them. Now a clock found
/// further behind the last commit than `Options::max_clock_step_back` stamps commits with its
/// own time again, and a time names the state after the last commit stamped at or before it.
#[test]
fn a_commit_from_a_clock_years_ahead_does_not_freeze_later_commit_times() {
    let dir = tempfile::tempdir().unwrap();
    let real: Timestamp = "2026-12-07T10:00:00Z".parse().unwrap();
    let clock = ManualClock::new(real);
    let options = options(Retention::archive_all(), 3).clock(clock.clone());
    let (engine, _) = Engine::open(dir.path(), options.clone()).unwrap();
    let upsert = |n: u64| {
        vec![Op::Upsert {
            table: "a".into(),
            row: row(1, n),
        }]
    };
    let created = engine
        .commit(vec![Op::CreateTable(TableDef::new("a", "id"))])
        .unwrap();
    clock.set("2031-01-01T00:00:00Z".parse().unwrap());
    let ahead = engine.commit(upsert(1)).unwrap();
    // The clock is put right, a minute after the real start.
    clock.set("2026-12-07T10:01:00Z".parse().unwrap());
    let after = engine.commit(upsert(2)).unwrap();
    assert_eq!(
        after.timestamp,
        clock.now(),
        "stamped with the clock's time again"
    );
    clock.advance(std::time::Duration::from_secs(1));
    let later = engine.commit(upsert(3)).unwrap();
    assert!(later.timestamp > after.timestamp);
    assert_eq!(engine.stats().unwrap().clock_steps_back, 1);
    // A small step back still keeps commit times in order.
    clock.set("2026-12-07T10:00:30Z".parse().unwrap());
    let stepped = engine.commit(upsert(4)).unwrap();
    assert_eq!(stepped.timestamp, later.timestamp);

    // `as_of` a real time: the last commit stamped at or before it, everything before included.
    assert_eq!(
        engine.resolve(&At::Time(created.timestamp)).unwrap(),
        created.lsn
    );
    assert_eq!(
        engine.resolve(&At::Time(after.timestamp)).unwrap(),
        after.lsn
    );
    assert_eq!(
        engine.resolve(&At::Time(later.timestamp)).unwrap(),
        stepped.lsn
    );
    // Before the clock was put right, the future-stamped commit alone is not yet visible.
    let between = Timestamp::from_micros(created.timestamp.as_micros() + 1);
    assert_eq!(engine.resolve(&At::Time(between)).unwrap(), created.lsn);
    // Its own (future) time names everything up to now.
    assert_eq!(
        engine.resolve(&At::Time(ahead.timestamp)).unwrap(),
        stepped.lsn
    );
    // The same after a reopen, from the log alone.
    engine.close().unwrap();
    let (engine, _) = Engine::open(dir.path(), options).unwrap();
    assert_eq!(
        engine.resolve(&At::Time(after.timestamp)).unwrap(),
        after.lsn
    );
    let db = engine.as_of(after.timestamp).unwrap();
    assert_eq!(db.lsn(), after.lsn);
}
