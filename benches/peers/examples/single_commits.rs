//! Workload 3's core on its own, for profiling: `N` single-row insert transactions applied as a
//! commit applies them (to an O(1) copy of the state, which then replaces it, so every commit
//! copies the tree paths it changes), on `N` bench rows; no log.
//!
//! ```text
//! cargo build --release -p tabula-peers --example single_commits
//! perf record -g target/release/examples/single_commits 200000
//! ```

#![allow(
    clippy::print_stdout,
    clippy::expect_used,
    reason = "a profiling harness: its output is the figure, and a failed setup should stop it"
)]

use std::time::Instant;

use tabula_core::{Lsn, Op, State, TableDef, Timestamp, Transaction};
use tabula_peers::data::{KEY_COLUMN, TABLE, row};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200_000);
    let mut state = State::new();
    let tx = |lsn: u64, ops: Vec<Op>| Transaction {
        lsn: Lsn(lsn),
        timestamp: Timestamp::EPOCH,
        cause: None,
        ops,
    };
    state
        .apply_owned(tx(
            1,
            vec![Op::CreateTable(TableDef::new(TABLE, KEY_COLUMN))],
        ))
        .expect("the table");
    let rows: Vec<_> = (0..n).map(row).collect();
    let start = Instant::now();
    for (i, row) in rows.into_iter().enumerate() {
        let mut staged = state.clone();
        let op = Op::Insert {
            table: TABLE.to_owned(),
            row,
        };
        staged
            .apply_owned(tx(i as u64 + 2, vec![op]))
            .expect("the row inserts");
        state = staged;
    }
    let secs = start.elapsed().as_secs_f64();
    println!("{n} single-row commits: {:.0} commits/s", n as f64 / secs);
}

/// The benches' allocator (see the bench harness).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
