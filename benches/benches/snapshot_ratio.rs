//! Snapshots of a large database against the disk's own bandwidth, measured in one run.
//!
//! - `raw sequential write`: writing a file as large as the uncompressed bincode snapshot, then
//!   `fsync`: the most bytes per second this disk takes from anyone.
//! - For each codec and compression: writing the snapshot to a file (including its `fsync`), in
//!   MB/s of file and rows/s, and loading it back (rows/s). Aims: bincode write (uncompressed) at
//!   least 50% of the raw bandwidth; load at least 1M rows/s for the binary codecs.
//! - `memory`: the peak resident set size while writing a snapshot, above what the process held
//!   before, as a share of the database's own resident size (aim: under 10%). Read from
//!   `/proc/self/status` (`VmHWM`, reset through `/proc/self/clear_refs`), so Linux only.
//!
//! Sizes: 1M rows of about 150 bytes; `--quick` 200k; a run without `--bench` (`cargo test
//! --benches`) 2k. Files go to a temporary directory under `TABULA_BENCH_DIR` (default: the
//! system's temporary directory).

// Bench code: a failed setup must stop the run loudly, and printing the figures is the point.
#![allow(clippy::expect_used, clippy::print_stdout, clippy::unwrap_used)]

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use tabula_benches::{RatioArgs, is_test_run};
use tabula_codec::Format;
use tabula_core::{Lsn, Op, Row, State, TableDef, Timestamp, Transaction, Value};
use tabula_snapshot::{Compression, LoadOptions, SnapshotOptions, read_snapshot, write_snapshot};

fn base_dir() -> PathBuf {
    std::env::var_os("TABULA_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from)
}

/// A row of about 150 bytes encoded: the same shape as the other benchmarks' rows.
fn row(i: i64) -> Row {
    let mut row = Row::new();
    row.insert("id".to_owned(), Value::Int(i));
    row.insert("name".to_owned(), Value::Text(format!("user-{i:08}-name")));
    row.insert(
        "email".to_owned(),
        Value::Text(format!("user{i}@example.com")),
    );
    row.insert("score".to_owned(), Value::Float(i as f64 * 0.37 % 100.0));
    row.insert("active".to_owned(), Value::Bool(i % 3 == 0));
    row.insert(
        "created".to_owned(),
        Value::Timestamp(Timestamp::from_micros(1_700_000_000_000_000 + i)),
    );
    row.insert(
        "tags".to_owned(),
        Value::List(vec![
            Value::Text("alpha".to_owned()),
            Value::Text("beta".to_owned()),
        ]),
    );
    row
}

fn database(rows: i64) -> State {
    let mut db = State::new();
    let mut tx = Transaction::new(Lsn(1), Timestamp::from_micros(0));
    tx.ops.push(Op::CreateTable(TableDef::new("items", "id")));
    db.apply_owned(tx).unwrap();
    let batch = 10_000;
    for (n, start) in (0..rows).step_by(batch).enumerate() {
        let mut tx = Transaction::new(Lsn(n as u64 + 2), Timestamp::from_micros(0));
        for i in start..(start + batch as i64).min(rows) {
            tx.ops.push(Op::Insert {
                table: "items".to_owned(),
                row: row(i),
            });
        }
        db.apply_owned(tx).unwrap();
    }
    db
}

/// (current RSS, peak RSS) in bytes, from /proc/self/status.
fn rss() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))?
            .split_whitespace()
            .nth(1)?
            .parse::<u64>()
            .ok()
            .map(|kb| kb * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn write_file(db: &State, path: &Path, options: &SnapshotOptions) -> (f64, u64) {
    let start = Instant::now();
    let file = File::create(path).unwrap();
    let (summary, out) =
        write_snapshot(db, BufWriter::with_capacity(1 << 20, file), options).unwrap();
    let file = out.into_inner().unwrap();
    file.sync_all().unwrap();
    (start.elapsed().as_secs_f64(), summary.bytes)
}

fn raw_write(path: &Path, bytes: u64) -> f64 {
    let block = vec![0x5au8; 1 << 20];
    let start = Instant::now();
    let mut file = BufWriter::new(File::create(path).unwrap());
    let mut left = bytes;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        file.write_all(block.get(..n).unwrap()).unwrap();
        left -= n as u64;
    }
    file.into_inner().unwrap().sync_all().unwrap();
    start.elapsed().as_secs_f64()
}

fn verdict(met: bool) -> &'static str {
    if met { "MET" } else { "NOT MET" }
}

fn main() {
    let args = RatioArgs::parse();
    let id = "ratio/snapshot";
    if args.list {
        println!("{id}: benchmark");
        return;
    }
    if !args.wants(id) {
        return;
    }
    let rows: i64 = if is_test_run() {
        2_000
    } else if args.quick {
        200_000
    } else {
        1_000_000
    };
    let temp = tempfile::tempdir_in(base_dir()).expect("temporary directory");
    let before = rss();
    let db = database(rows);
    let after = rss();
    let db_bytes = match (before, after) {
        (Some((b, _)), Some((a, _))) => a.saturating_sub(b),
        _ => 0,
    };
    println!(
        "snapshots of {rows} rows (~{} MB resident), in {}",
        db_bytes / 1_000_000,
        temp.path().display()
    );

    // Memory: the peak while writing the largest variant (JSON, uncompressed), above the resident
    // size before it.
    let path = temp.path().join("memory.tsnap");
    let options = SnapshotOptions::new()
        .format(Format::Json)
        .compression(Compression::None);
    let resident = rss().map(|(now, _)| now);
    if reset_peak() && db_bytes > 0 {
        write_file(&db, &path, &options);
        if let (Some(resident), Some((_, peak))) = (resident, rss()) {
            let rise = peak.saturating_sub(resident);
            let share = rise as f64 / db_bytes as f64;
            println!(
                "memory: writing raised the peak RSS by {:.1} MB, {:.1}% of the database's {:.1} MB (aim < 10%): {}",
                rise as f64 / 1e6,
                share * 100.0,
                db_bytes as f64 / 1e6,
                verdict(share < 0.10)
            );
        }
    } else {
        println!("memory: not measured (no /proc/self/clear_refs)");
    }
    std::fs::remove_file(&path).ok();

    // Each variant is timed `reps` times, alternating with a raw write of the same number of
    // bytes so that drift in the disk hits both alike; the best of each is kept.
    let reps = if is_test_run() { 1 } else { 3 };
    for format in Format::ALL {
        for compression in Compression::ALL {
            let path = temp
                .path()
                .join(format!("{format}-{}.tsnap", compression.name()));
            let raw_path = temp.path().join("raw.bin");
            let options = SnapshotOptions::new()
                .format(format)
                .compression(compression);
            let (mut write_secs, mut raw_secs, mut load_secs, mut bytes) =
                (f64::MAX, f64::MAX, f64::MAX, 0);
            for _ in 0..reps {
                let (secs, size) = write_file(&db, &path, &options);
                write_secs = write_secs.min(secs);
                bytes = size;
                raw_secs = raw_secs.min(raw_write(&raw_path, bytes));
                std::fs::remove_file(&raw_path).ok();
                let start = Instant::now();
                let file = BufReader::with_capacity(1 << 20, File::open(&path).unwrap());
                let loaded = read_snapshot(file, &LoadOptions::default()).unwrap();
                load_secs = load_secs.min(start.elapsed().as_secs_f64());
                assert_eq!(loaded.summary.rows, rows as u64);
                drop(loaded);
                std::fs::remove_file(&path).ok();
            }
            let write_mbs = bytes as f64 / write_secs / 1e6;
            let raw_mbs = bytes as f64 / raw_secs / 1e6;
            let load_rows = rows as f64 / load_secs;
            let mut line = format!(
                "{:<16} {:>7.1} MB  write {write_mbs:>5.0} MB/s {:>8.0} rows/s, raw {raw_mbs:>5.0} MB/s ({:.2}x)  load {load_rows:>8.0} rows/s {:>5.0} MB/s",
                format!("{format} {}", compression.name()),
                bytes as f64 / 1e6,
                rows as f64 / write_secs,
                write_mbs / raw_mbs,
                bytes as f64 / load_secs / 1e6,
            );
            if format == Format::Bincode && compression == Compression::None {
                line += &format!(
                    "  (aim write >= 0.5x raw: {})",
                    verdict(write_mbs / raw_mbs >= 0.5)
                );
            }
            if format != Format::Json {
                line += &format!("  (aim load >= 1M rows/s: {})", verdict(load_rows >= 1e6));
            }
            println!("{line}");
        }
    }
}
