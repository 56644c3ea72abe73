//! The write-ahead log against the disk's own limit, measured in one run.
//!
//! - `raw fdatasync`: a loop of a 100-byte append and `fdatasync` on a plain file, the most
//!   durable single commits per second this disk gives anyone. Measured before and after the
//!   log's runs; the better of the two is the reference (which favours the disk, not tabula).
//! - `Always` with 1, 4, 16 and 64 committer threads, each committing 100-byte records in a loop:
//!   commits per second, and the ratio to the raw rate (1 committer, aim >= 0.8x) and to the
//!   1-committer rate (64 committers, aim >= 10x: group commit shares fsyncs).
//! - `EverySecond` and `Never`, one committer: commits per second (`Never` aim >= 1M records/s).
//! - `append`: records buffered without waiting (what a bulk loader pays per record).
//!
//! Every run uses a fresh log in a temporary directory under `TABULA_BENCH_DIR` (default: the
//! system's temporary directory; put it on the disk you care about). `--quick` measures each line
//! for 0.5 s instead of 3 s; a run without `--bench` (`cargo test --benches`) is a smoke test.

// Bench code: a failed setup must stop the run loudly, and printing the figures is the point.
#![allow(clippy::expect_used, clippy::print_stdout, clippy::unwrap_used)]

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tabula_benches::{RatioArgs, is_test_run};
use tabula_wal::{SyncPolicy, Wal, WalOptions};

const RECORD: [u8; 100] = [0x5a; 100];

fn base_dir() -> PathBuf {
    std::env::var_os("TABULA_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from)
}

/// Runs `step` in a loop on `threads` threads for `time`; returns operations per second.
fn rate(threads: usize, time: Duration, step: impl Fn() + Sync) -> f64 {
    let count = AtomicU64::new(0);
    let start = Instant::now();
    let deadline = start + time;
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let mut done = 0;
                while Instant::now() < deadline {
                    step();
                    done += 1;
                }
                count.fetch_add(done, Ordering::Relaxed);
            });
        }
    });
    count.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn raw_fdatasync(time: Duration) -> f64 {
    let dir = tempfile::tempdir_in(base_dir()).expect("temporary directory");
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.path().join("raw.log"))
        .expect("raw file");
    let file = std::sync::Mutex::new(&mut file);
    rate(1, time, || {
        let mut file = file.lock().unwrap();
        file.write_all(&RECORD).unwrap();
        file.sync_data().unwrap();
    })
}

fn log_rate(sync: SyncPolicy, threads: usize, time: Duration, commit: bool) -> f64 {
    let dir = tempfile::tempdir_in(base_dir()).expect("temporary directory");
    let (wal, _) = Wal::open(dir.path(), WalOptions::new().sync(sync)).expect("open the log");
    let rate = rate(threads, time, || {
        if commit {
            wal.commit(&RECORD).unwrap();
        } else {
            wal.append(&RECORD).unwrap();
        }
    });
    wal.close().expect("close the log");
    rate
}

fn verdict(met: bool) -> &'static str {
    if met { "MET" } else { "NOT MET" }
}

fn main() {
    let args = RatioArgs::parse();
    let id = "ratio/wal";
    if args.list {
        println!("{id}: benchmark");
        return;
    }
    if !args.wants(id) {
        return;
    }
    let time = if is_test_run() {
        Duration::from_millis(20)
    } else if args.quick {
        Duration::from_millis(500)
    } else {
        Duration::from_secs(3)
    };
    println!(
        "write-ahead log, 100-byte records, {time:?} per line, in {}",
        base_dir().display()
    );
    let raw_before = raw_fdatasync(time);
    let mut always = Vec::new();
    for threads in [1, 4, 16, 64] {
        always.push((threads, log_rate(SyncPolicy::Always, threads, time, true)));
    }
    let every_second = log_rate(SyncPolicy::EverySecond, 1, time, true);
    let never = log_rate(SyncPolicy::Never, 1, time, true);
    let append = log_rate(SyncPolicy::Never, 1, time, false);
    let raw_after = raw_fdatasync(time);
    let raw = raw_before.max(raw_after);

    println!(
        "raw fdatasync (100-byte append + fdatasync): {raw:.0}/s (before {raw_before:.0}, after {raw_after:.0})"
    );
    let one = always.first().map_or(0.0, |&(_, rate)| rate);
    for &(threads, rate) in &always {
        let line = format!(
            "Always, {threads:>2} committers: {rate:>10.0} commits/s, {:.2}x raw fdatasync, {:.1}x 1 committer",
            rate / raw,
            rate / one
        );
        match threads {
            1 => println!("{line} (aim >= 0.8x raw): {}", verdict(rate / raw >= 0.8)),
            64 => println!(
                "{line} (aim >= 10x 1 committer): {}",
                verdict(rate / one >= 10.0)
            ),
            _ => println!("{line}"),
        }
    }
    println!("EverySecond, 1 committer: {every_second:>10.0} commits/s");
    println!(
        "Never, 1 committer:       {never:>10.0} commits/s (aim >= 1M records/s): {}",
        verdict(never >= 1e6)
    );
    println!("append (buffered), 1 thread: {append:>10.0} records/s");
}
