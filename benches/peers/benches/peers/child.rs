//! The work that must happen in a process of its own: filling a database that is then
//! SIGKILLed (the recovery workload), and measuring resident memory without the benchmark's own
//! allocations in the figure.
//!
//! The bench binary starts itself again with `child fill ENGINE DIR N` or
//! `child memory ENGINE N`; the child prints one line the parent reads.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use tabula_core::{Op, TableDef};
use tabula_engine::{CheckpointPolicy, Engine};
use tabula_peers::data::{KEY_COLUMN, TABLE, row};
use tabula_wal::SyncPolicy;

use crate::Result;
use crate::store::Store;

/// Runs a child command (`args` after `child`) and answers with what it prints.
pub fn run(args: &[String]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match args {
        [cmd, engine, dir, n] if cmd == "fill" => {
            let n: usize = n.parse()?;
            let store = open_for_fill(engine, Path::new(dir))?;
            let mut handle = store.handle()?;
            for i in 0..n {
                handle.put(i)?;
            }
            drop(handle);
            store.flush()?;
            writeln!(out, "ready")?;
            out.flush()?;
            // Wait to be killed: the parent SIGKILLs this process now.
            std::thread::sleep(std::time::Duration::from_secs(3_600));
            Ok(())
        }
        [cmd, engine, n] if cmd == "memory" => {
            let n: usize = n.parse()?;
            let bytes = memory(engine, n)?;
            writeln!(out, "{bytes}")?;
            Ok(())
        }
        _ => Err(format!("unknown child command {args:?}").into()),
    }
}

/// The store a `fill` child writes into: each engine's non-durable setting, with one flush at the
/// end that hands every commit to the OS (all a SIGKILL test needs), and with everything that
/// would move rows out of the log turned off where the engine allows, so that reopening
/// replays all of them.
fn open_for_fill(engine: &str, dir: &Path) -> Result<Box<dyn Store>> {
    Ok(match engine {
        "tabula" => {
            let options = crate::tabula_store::options(SyncPolicy::Never)
                .checkpoint(CheckpointPolicy::manual())
                .segment_size(1 << 30);
            Box::new(crate::tabula_store::TabulaStore(crate::tabula_store::open(
                dir, options,
            )?))
        }
        "SQLite" => {
            let store = crate::sqlite::SqliteStore::open(dir, false)?;
            // Automatic checkpoints are a setting of the connection that commits.
            store.setup_writer(|conn| {
                conn.pragma_update(None, "wal_autocheckpoint", 0)?;
                Ok(())
            })?;
            Box::new(store)
        }
        "redb" => Box::new(crate::redb_store::RedbStore::open(dir, false)?),
        "fjall" => Box::new(crate::fjall_store::FjallStore::open(dir, false)?),
        other => return Err(format!("no fill for {other}").into()),
    })
}

/// Starts this binary as `child fill ENGINE DIR N`, waits for its `ready`, and SIGKILLs it.
pub fn fill_and_kill(engine: &str, dir: &Path, n: usize) -> Result<()> {
    let mut child = Command::new(std::env::current_exe()?)
        .args(["child", "fill", engine])
        .arg(dir)
        .arg(n.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("child has no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    child.kill()?;
    child.wait()?;
    if line.trim() != "ready" {
        return Err(format!("{engine} fill child failed (said {line:?})").into());
    }
    Ok(())
}

/// Starts this binary as `child memory ENGINE N`; resident bytes per row it reports.
pub fn memory_per_row(engine: &str, n: usize) -> Result<f64> {
    let out = Command::new(std::env::current_exe()?)
        .args(["child", "memory", engine, &n.to_string()])
        .stderr(Stdio::inherit())
        .output()?;
    if !out.status.success() {
        return Err(format!("{engine} memory child failed ({})", out.status).into());
    }
    let bytes: f64 = String::from_utf8_lossy(&out.stdout).trim().parse()?;
    Ok(bytes / n as f64)
}

/// Resident set size of this process, from `/proc/self/status`, in bytes.
fn rss() -> Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .ok_or("no VmRSS in /proc/self/status")?
        .parse()?;
    Ok(kib * 1024)
}

/// Loads `n` rows into `engine` in memory (tabula: an in-memory engine, commits of 1,000; the
/// floor: a `HashMap` of key and value bytes) and returns how much the resident set grew.
fn memory(engine: &str, n: usize) -> Result<u64> {
    match engine {
        "tabula" => {
            let db = Engine::in_memory(crate::tabula_store::options(SyncPolicy::Never));
            db.commit(vec![Op::CreateTable(TableDef::new(TABLE, KEY_COLUMN))])?;
            let before = rss()?;
            for start in (0..n).step_by(1_000) {
                let ops = (start..(start + 1_000).min(n))
                    .map(|i| Op::Insert {
                        table: TABLE.into(),
                        row: row(i),
                    })
                    .collect();
                db.commit(ops)?;
            }
            let after = rss()?;
            std::hint::black_box(&db);
            Ok(after.saturating_sub(before))
        }
        "HashMap" => {
            let before = rss()?;
            let mut map = std::collections::HashMap::new();
            for i in 0..n {
                map.insert(tabula_peers::data::key(i), tabula_peers::data::value(i));
            }
            let after = rss()?;
            std::hint::black_box(&map);
            Ok(after.saturating_sub(before))
        }
        other => Err(format!("no memory measure for {other}").into()),
    }
}
