//! Time travel: the latency of `Engine::as_of` for a point far back in the log, with and without
//! a snapshot near it (reported, not asserted).
//!
//! Two engines are built with the same history: a table, N single-row inserts (~150-byte rows),
//! a checkpoint, then 2K single-row commits (nine upserts of existing rows to one insert of a
//! new one) and a checkpoint at the end. The target is the point K transactions before the last
//! one, so it lies K transactions after the first checkpoint. In the first engine that
//! checkpoint is the nearest snapshot at or before the target, and `as_of` replays K
//! transactions; the second engine also took a checkpoint D transactions before the target, so
//! `as_of` replays D. A third figure, `as_of` that snapshot's own LSN (nothing replayed), is the
//! floor: loading a snapshot.
//!
//! Each figure is the median of 5 calls, after one untimed call. Every call checks that the
//! state it returns is at the target, and the two engines' states at the target are checked to
//! be equal, so an error cannot pass for a fast figure. A last line gives the log's size and how
//! long the log takes to yield the first record of each replay, which `as_of` pays before it
//! applies anything.
//!
//! Sizes: N = 100k rows, K = 100k, D = 1k; `--quick` 10k, 10k and 100; a run without `--bench`
//! 2k, 2k and 100.

// Bench code: a failed setup must stop the run loudly, and printing the figures is the point.
#![allow(
    clippy::expect_used,
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tabula_benches::{RatioArgs, is_test_run, mix};
use tabula_core::{Lsn, Op, Row, State, TableDef, Timestamp, Value};
use tabula_engine::{CheckpointPolicy, Diff, Engine, Options};
use tabula_snapshot::SnapshotRetention;
use tabula_wal::{Retention, SyncPolicy};

/// How many times each `as_of` is timed; the median is reported.
const RUNS: usize = 5;

fn base_dir() -> PathBuf {
    std::env::var_os("TABULA_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from)
}

fn row(i: i64, version: i64) -> Row {
    Row::from([
        ("id".to_owned(), Value::Int(i)),
        ("name".to_owned(), Value::Text(format!("user-{i:08}-name"))),
        (
            "email".to_owned(),
            Value::Text(format!("user{i}@example.com")),
        ),
        (
            "score".to_owned(),
            Value::Float((i + version) as f64 * 0.37 % 100.0),
        ),
        ("active".to_owned(), Value::Bool((i + version) % 3 == 0)),
        (
            "created".to_owned(),
            Value::Timestamp(Timestamp::from_micros(1_700_000_000_000_000 + i)),
        ),
        (
            "tags".to_owned(),
            Value::List(vec![
                Value::Text("alpha".to_owned()),
                Value::Text("beta".to_owned()),
            ]),
        ),
    ])
}

fn options() -> Options {
    Options::new()
        .sync(SyncPolicy::Never)
        .checkpoint(CheckpointPolicy::manual())
        .wal_retention(Retention::archive_all())
        .snapshot_retention(SnapshotRetention::keep(10))
}

/// The sizes of one run.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    /// Rows inserted before the first checkpoint.
    base: i64,
    /// How far back the target is from the last transaction, and from the first checkpoint.
    back: u64,
    /// How far before the target the nearer snapshot is taken.
    near: u64,
}

/// One engine's history, built and checkpointed.
struct Built {
    _dir: tempfile::TempDir,
    engine: Engine,
    /// The last LSN.
    last: Lsn,
    /// The point `as_of` is asked for: `back` transactions before `last`.
    target: Lsn,
    /// The LSN of the nearest snapshot at or before `target`.
    nearest: Lsn,
}

/// The `j`th commit after the first checkpoint: every tenth inserts a new row, the others
/// upsert an existing row picked at random. `rows` counts the rows so far.
fn update(j: u64, rows: &mut i64) -> Op {
    if j % 10 == 9 {
        let op = Op::Insert {
            table: "items".into(),
            row: row(*rows, 0),
        };
        *rows += 1;
        op
    } else {
        let key = (mix(j) % rows.unsigned_abs()) as i64;
        Op::Upsert {
            table: "items".into(),
            row: row(key, j as i64 + 1),
        }
    }
}

/// Builds the history, with the nearer checkpoint `sizes.near` before the target if `nearer`.
fn build(sizes: Sizes, nearer: bool) -> Built {
    let dir = tempfile::tempdir_in(base_dir()).unwrap();
    let (engine, _) = Engine::open(dir.path(), options()).unwrap();
    engine
        .commit(vec![Op::CreateTable(TableDef::new("items", "id"))])
        .unwrap();
    for i in 0..sizes.base {
        engine
            .commit(vec![Op::Insert {
                table: "items".into(),
                row: row(i, 0),
            }])
            .unwrap();
    }
    let first = engine
        .checkpoint()
        .unwrap()
        .expect("a first checkpoint")
        .lsn;
    let target = Lsn(first.0 + sizes.back);
    let mut nearest = first;
    let mut rows = sizes.base;
    for j in 0..2 * sizes.back {
        let lsn = engine.commit(vec![update(j, &mut rows)]).unwrap().lsn;
        if nearer && lsn.0 + sizes.near == target.0 {
            nearest = engine
                .checkpoint()
                .unwrap()
                .expect("a nearer checkpoint")
                .lsn;
            assert_eq!(nearest, lsn);
        }
    }
    let last = engine.checkpoint().unwrap().expect("a last checkpoint").lsn;
    assert_eq!(last.0 - sizes.back, target.0);
    assert_eq!(engine.read().lsn(), last);
    Built {
        _dir: dir,
        engine,
        last,
        target,
        nearest,
    }
}

/// `as_of(at)` timed `RUNS` times after one untimed call: the durations in run order and the state it returned.
fn time_as_of(engine: &Engine, at: Lsn) -> (Vec<Duration>, State) {
    // One untimed call first, so that every timed one finds the files in the page cache.
    let mut state = Some(engine.as_of(at).unwrap());
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        let db = engine.as_of(at).unwrap();
        times.push(start.elapsed());
        assert_eq!(db.lsn(), at, "as_of returned the state at another LSN");
        // Dropped outside the timing (but for the last, which is kept).
        state = Some(db);
    }
    (times, state.unwrap().state().clone())
}

/// The log's segment files (live and archived) and their total size.
fn segments(engine: &Engine) -> (usize, u64) {
    let wal = engine.dir().unwrap().join(tabula_engine::WAL_DIR);
    let mut files = Vec::new();
    for dir in [wal.clone(), wal.join("archive")] {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let meta = entry.metadata().unwrap();
            if meta.is_file() && entry.file_name().to_string_lossy().ends_with(".log") {
                files.push(meta.len());
            }
        }
    }
    (files.len(), files.iter().sum())
}

/// The time the log takes to yield its record at `from` (median of `RUNS`): what finding the
/// start of a replay costs, before any transaction is applied.
fn time_first_record(engine: &Engine, from: Lsn) -> Duration {
    let log = engine.transaction_log().unwrap();
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            let tx = log.read_from(from).unwrap().next().unwrap().unwrap();
            let elapsed = start.elapsed();
            assert_eq!(tx.lsn, from);
            elapsed
        })
        .collect();
    times.sort();
    times[RUNS / 2]
}

fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn report(what: &str, replayed: u64, times: &[Duration], db: &State) {
    println!(
        "{what}: {replayed} transactions replayed, {} rows in the state: median {:.1} ms ({RUNS} runs, in order: {} ms)",
        db.table("items").unwrap().len(),
        ms(median(times)),
        times
            .iter()
            .map(|&t| format!("{:.1}", ms(t)))
            .collect::<Vec<_>>()
            .join(", "),
    );
}

fn main() {
    let args = RatioArgs::parse();
    let id = "ratio/history";
    if args.list {
        println!("{id}: benchmark");
        return;
    }
    if !args.wants(id) {
        return;
    }
    let sizes = if is_test_run() {
        Sizes {
            base: 2_000,
            back: 2_000,
            near: 100,
        }
    } else if args.quick {
        Sizes {
            base: 10_000,
            back: 10_000,
            near: 100,
        }
    } else {
        Sizes {
            base: 100_000,
            back: 100_000,
            near: 1_000,
        }
    };
    println!(
        "history: ~150-byte rows, in {}; {} single-row inserts, a checkpoint, {} single-row commits (9 upserts to 1 insert), a checkpoint",
        base_dir().display(),
        sizes.base,
        2 * sizes.back,
    );

    let start = Instant::now();
    let far = build(sizes, false);
    let near = build(sizes, true);
    println!(
        "built two engines of LSN {} in {:.1} s; as_of LSN {} ({} transactions back)",
        far.last,
        start.elapsed().as_secs_f64(),
        far.target,
        far.last.0 - far.target.0,
    );
    assert_eq!((far.last, far.target), (near.last, near.target));
    assert_eq!(far.target.0 - far.nearest.0, sizes.back);
    assert_eq!(near.target.0 - near.nearest.0, sizes.near);

    let back = sizes.back;
    let (far_times, far_db) = time_as_of(&far.engine, far.target);
    report(
        &format!(
            "as_of {back} transactions back, nearest snapshot {} before it",
            far.target.0 - far.nearest.0
        ),
        far.target.0 - far.nearest.0,
        &far_times,
        &far_db,
    );
    let (near_times, near_db) = time_as_of(&near.engine, near.target);
    report(
        &format!(
            "as_of {back} transactions back, nearest snapshot {} before it",
            near.target.0 - near.nearest.0
        ),
        near.target.0 - near.nearest.0,
        &near_times,
        &near_db,
    );
    // The same history gives the same state, whichever snapshot it was rebuilt from.
    assert!(
        Diff::between(&far_db, &near_db).is_empty(),
        "the two engines disagree on the state at the target"
    );
    drop((far_db, near_db));

    let (floor_times, floor_db) = time_as_of(&near.engine, near.nearest);
    report(
        &format!(
            "as_of the nearer snapshot's own LSN {} (floor: loading a snapshot)",
            near.nearest
        ),
        0,
        &floor_times,
        &floor_db,
    );
    let (far_ms, near_ms, floor_ms) = (
        ms(median(&far_times)),
        ms(median(&near_times)),
        ms(median(&floor_times)),
    );
    println!(
        "from the far snapshot as_of costs {:.1} ms more than from the nearer one ({:.2}x); beyond loading a snapshot it spends {:.1} ms on {back} transactions ({:.0}/s, finding them in the log included)",
        far_ms - near_ms,
        far_ms / near_ms,
        far_ms - floor_ms,
        back as f64 / ((far_ms - floor_ms) / 1e3),
    );
    let (files, bytes) = segments(&near.engine);
    println!(
        "log: {files} segment file(s), {:.1} MiB; reading it from LSN {} (the nearer snapshot's next) yields its first record after {:.1} ms, from LSN {} (the far snapshot's next) after {:.1} ms (medians)",
        bytes as f64 / f64::from(1 << 20),
        near.nearest.next(),
        ms(time_first_record(&near.engine, near.nearest.next())),
        far.nearest.next(),
        ms(time_first_record(&far.engine, far.nearest.next())),
    );
}
