//! The engine's commit path, reads, checkpoints and recovery, measured in one run (reported, not
//! asserted; the aims are printed with each figure).
//!
//! - commits/s under `Always` with 1 and 16 writers, and under `Never` with 1 (one ~150-byte row
//!   per commit);
//! - bulk load: N rows in commits of 1,000 (`Always`), rows/s;
//! - get by key: random keys on a read view, gets/s;
//! - commit latency p50/p99 (1 writer, `Always`) on the N-row database, without and then with
//!   checkpoints running back to back in another thread (aim: p99 with ≤ 2x p99 without);
//! - recovery: reopening a log of M single-row transactions, records replayed per second (aim:
//!   ≥ 1M/s).
//!
//! Sizes: N = 1M rows, M = 500k; `--quick` 100k and 100k; a run without `--bench` 2k and 2k.

// Bench code: a failed setup must stop the run loudly, and printing the figures is the point.
#![allow(
    clippy::expect_used,
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tabula_benches::{RatioArgs, is_test_run};
use tabula_core::{Op, Row, TableDef, Timestamp, Value};
use tabula_engine::{CheckpointPolicy, Engine, Options};
use tabula_wal::SyncPolicy;

fn base_dir() -> PathBuf {
    std::env::var_os("TABULA_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from)
}

fn row(i: i64) -> Row {
    Row::from([
        ("id".to_owned(), Value::Int(i)),
        ("name".to_owned(), Value::Text(format!("user-{i:08}-name"))),
        (
            "email".to_owned(),
            Value::Text(format!("user{i}@example.com")),
        ),
        ("score".to_owned(), Value::Float(i as f64 * 0.37 % 100.0)),
        ("active".to_owned(), Value::Bool(i % 3 == 0)),
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

fn insert(i: i64) -> Op {
    Op::Insert {
        table: "items".into(),
        row: row(i),
    }
}

fn options(sync: SyncPolicy) -> Options {
    Options::new()
        .sync(sync)
        .checkpoint(CheckpointPolicy::manual())
}

fn open(sync: SyncPolicy) -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir_in(base_dir()).unwrap();
    let (engine, _) = Engine::open(dir.path(), options(sync)).unwrap();
    engine
        .commit(vec![Op::CreateTable(TableDef::new("items", "id"))])
        .unwrap();
    (dir, engine)
}

/// Commits one row per commit from `threads` threads for `time`; commits per second.
fn commit_rate(sync: SyncPolicy, threads: i64, time: Duration) -> f64 {
    let (_dir, engine) = open(sync);
    let next = AtomicU64::new(0);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while start.elapsed() < time {
                    let i = next.fetch_add(1, Ordering::Relaxed) as i64;
                    engine.commit(vec![insert(i)]).unwrap();
                }
            });
        }
    });
    next.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p) as usize]
}

fn latencies(engine: &Engine, first: i64, count: i64) -> Vec<Duration> {
    let mut out: Vec<Duration> = (first..first + count)
        .map(|i| {
            let start = Instant::now();
            engine.commit(vec![insert(i)]).unwrap();
            start.elapsed()
        })
        .collect();
    out.sort();
    out
}

fn main() {
    let args = RatioArgs::parse();
    let id = "ratio/engine";
    if args.list {
        println!("{id}: benchmark");
        return;
    }
    if !args.wants(id) {
        return;
    }
    let (rows, log_records, time, samples) = if is_test_run() {
        (2_000i64, 2_000i64, Duration::from_millis(50), 50i64)
    } else if args.quick {
        (100_000, 100_000, Duration::from_millis(700), 500)
    } else {
        (1_000_000, 500_000, Duration::from_secs(3), 2_000)
    };
    println!("engine: ~150-byte rows, in {}", base_dir().display());
    for (label, sync, threads) in [
        ("Always, 1 writer", SyncPolicy::Always, 1),
        ("Always, 16 writers", SyncPolicy::Always, 16),
        ("Never, 1 writer", SyncPolicy::Never, 1),
    ] {
        println!(
            "commits, {label}: {:.0}/s",
            commit_rate(sync, threads, time)
        );
    }

    let (dir, engine) = open(SyncPolicy::Always);
    let start = Instant::now();
    for batch in (0..rows).step_by(1_000) {
        engine
            .commit((batch..(batch + 1_000).min(rows)).map(insert).collect())
            .unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "bulk load of {rows} rows in commits of 1,000: {:.0} rows/s",
        rows as f64 / secs
    );

    let view = engine.read();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let gets = rows.min(1_000_000);
    let start = Instant::now();
    for _ in 0..gets {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let key = Value::Int((seed % rows as u64) as i64);
        assert!(view.get("items", &key).unwrap().is_some());
    }
    println!(
        "get by key: {:.0}/s",
        gets as f64 / start.elapsed().as_secs_f64()
    );
    drop(view);

    let quiet = latencies(&engine, rows, samples);
    // Commits are timed from the moment a checkpoint starts until two whole checkpoints have
    // finished, so the samples cover every phase of one (encoding, writing, its fsyncs, the log
    // truncation).
    let running = AtomicBool::new(true);
    let checkpoints = AtomicU64::new(0);
    let busy = std::thread::scope(|scope| {
        scope.spawn(|| {
            while running.load(Ordering::Relaxed) {
                engine.checkpoint().unwrap();
                checkpoints.fetch_add(1, Ordering::Relaxed);
            }
        });
        let mut busy = Vec::new();
        let mut next = rows + samples;
        while checkpoints.load(Ordering::Relaxed) < 2 || (busy.len() as i64) < samples {
            let start = Instant::now();
            engine.commit(vec![insert(next)]).unwrap();
            busy.push(start.elapsed());
            next += 1;
        }
        running.store(false, Ordering::Relaxed);
        busy.sort();
        busy
    });
    let (p50, p99) = (percentile(&quiet, 0.5), percentile(&quiet, 0.99));
    let (c50, c99) = (percentile(&busy, 0.5), percentile(&busy, 0.99));
    println!("commit latency without a checkpoint: p50 {p50:?}, p99 {p99:?}");
    println!(
        "commit latency with checkpoints of {rows} rows running ({} commits over {} checkpoints): p50 {c50:?}, p99 {c99:?}, p99 ratio {:.2}x (aim <= 2x): {}",
        busy.len(),
        checkpoints.load(Ordering::Relaxed),
        c99.as_secs_f64() / p99.as_secs_f64(),
        if c99.as_secs_f64() <= 2.0 * p99.as_secs_f64() {
            "MET"
        } else {
            "NOT MET"
        }
    );
    drop(engine);
    drop(dir);

    let (dir, engine) = open(SyncPolicy::Never);
    for i in 0..log_records {
        engine.commit(vec![insert(i)]).unwrap();
    }
    engine.close().unwrap();
    // Best of three reopens: the first also pays for reading the files into the page cache.
    let mut best: Option<tabula_engine::RecoveryReport> = None;
    for _ in 0..3 {
        let (engine, report) = Engine::open(dir.path(), options(SyncPolicy::Never)).unwrap();
        engine.close().unwrap();
        if best.as_ref().is_none_or(|b| report.duration < b.duration) {
            best = Some(report);
        }
    }
    let report = best.unwrap();
    let rate = report.replayed as f64 / report.duration.as_secs_f64();
    println!(
        "recovery: {} log records replayed in {:?} (best of 3 opens; the log's own scan {:?}): {rate:.0} records/s (aim >= 1M/s): {}",
        report.replayed,
        report.duration,
        report.wal.duration,
        if rate >= 1e6 { "MET" } else { "NOT MET" }
    );
}
