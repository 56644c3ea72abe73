//! Workload 2's tabula side on its own, for profiling: `W` threads each making `C` durable
//! single-row commits (`SyncPolicy::Always`) into a new database under `DIR`; prints commits/s
//! and how many fsyncs served them.
//!
//! ```text
//! cargo build --release -p tabula-peers --example writers
//! perf record -g target/release/examples/writers 64 200 /tmp/writers
//! ```

#![allow(
    clippy::print_stdout,
    clippy::expect_used,
    reason = "a profiling harness: its output is the figure, and a failed setup should stop it"
)]

use std::path::PathBuf;
use std::time::Instant;

use tabula_core::{Op, TableDef};
use tabula_engine::{Engine, Options};
use tabula_peers::data::{KEY_COLUMN, TABLE, row};
use tabula_wal::SyncPolicy;

fn main() {
    let mut args = std::env::args().skip(1);
    let writers: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(64);
    let commits: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "/tmp/tabula-writers".into()));
    let _ = std::fs::remove_dir_all(&dir);
    let (engine, _) =
        Engine::open(&dir, Options::new().sync(SyncPolicy::Always)).expect("the database opens");
    engine
        .commit(vec![Op::CreateTable(TableDef::new(TABLE, KEY_COLUMN))])
        .expect("the table");
    let start = Instant::now();
    std::thread::scope(|scope| {
        for w in 0..writers {
            let engine = &engine;
            scope.spawn(move || {
                for c in 0..commits {
                    engine
                        .commit(vec![Op::Insert {
                            table: TABLE.into(),
                            row: row(w * commits + c),
                        }])
                        .expect("a commit");
                }
            });
        }
    });
    let seconds = start.elapsed().as_secs_f64();
    let total = writers * commits;
    let stats = engine.stats().expect("the stats");
    println!(
        "{writers} writers: {:.0} commits/s ({total} commits, {} fsyncs, {:.1} commits per fsync)",
        total as f64 / seconds,
        stats.fsyncs,
        stats.commits_per_fsync
    );
}

/// The benches' allocator (see the bench harness).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
