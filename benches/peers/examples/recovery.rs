//! Workload 7's tabula side on its own, for profiling: `N` single-row insert transactions
//! committed without syncing into a new database under `DIR` (checkpoints manual, so the rows are
//! all in the log), the engine left without closing (as SIGKILL leaves it), then the open that
//! replays them, timed until the first read answers.
//!
//! ```text
//! cargo build --release -p tabula-peers --example recovery
//! target/release/examples/recovery 1000000 /tmp/recovery write
//! perf record -g target/release/examples/recovery 1000000 /tmp/recovery
//! ```

#![allow(
    clippy::print_stdout,
    clippy::expect_used,
    reason = "a profiling harness: its output is the figure, and a failed setup should stop it"
)]

use std::path::PathBuf;
use std::time::Instant;

use tabula_core::{Op, TableDef, Value};
use tabula_engine::{CheckpointPolicy, Engine, Options};
use tabula_peers::data::{KEY_COLUMN, TABLE, key, row};
use tabula_wal::SyncPolicy;

fn options() -> Options {
    Options::new()
        .sync(SyncPolicy::Never)
        .checkpoint(CheckpointPolicy::manual())
        .segment_size(1 << 30)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "/tmp/tabula-recovery".into()));
    let step = args.next().unwrap_or_else(|| "open".into());
    if step == "write" {
        let _ = std::fs::remove_dir_all(&dir);
        let (engine, _) = Engine::open(&dir, options()).expect("the database opens");
        engine
            .commit(vec![Op::CreateTable(TableDef::new(TABLE, KEY_COLUMN))])
            .expect("the table");
        for i in 0..n {
            engine
                .commit(vec![Op::Insert {
                    table: TABLE.into(),
                    row: row(i),
                }])
                .expect("a commit");
        }
        // Left as a kill leaves it (`SyncPolicy::Never` has handed every commit to the OS): no
        // close, no checkpoint, no destructor.
        std::process::exit(0);
    }
    {
        let start = Instant::now();
        let (engine, _) = Engine::open(&dir, options()).expect("the database opens");
        let found = engine
            .read()
            .get(TABLE, &Value::Text(key(0)))
            .expect("the table")
            .is_some();
        let seconds = start.elapsed().as_secs_f64();
        assert!(found, "the first row is back");
        println!("{n} rows recovered at {:.0} rows/s", n as f64 / seconds);
    }
}

/// The benches' allocator (see the bench harness).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
