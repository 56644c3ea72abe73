//! Where a stored bench row's memory goes, from the resident set's growth:
//! `N` bench rows loaded into a core [`State`] in commits of 1,000 (as workload 9 loads them),
//! then the resident bytes per row, the packed rows' own share, and what the table's maps take.
//!
//! ```text
//! cargo run --release -p tabula-peers --example row_memory 200000
//! ```

#![allow(
    clippy::print_stdout,
    clippy::expect_used,
    reason = "a measuring harness: its output is the figure, and a failed setup should stop it"
)]

use tabula_core::{Lsn, Op, State, TableDef, Timestamp, Transaction};
use tabula_peers::data::{KEY_COLUMN, TABLE, row};

/// The resident set in bytes, from `/proc/self/statm` (pages of 4 KiB); 0 where unreadable.
fn resident() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<usize>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200_000);
    let mut state = State::new();
    let mut lsn = Lsn(1);
    let mut apply = |state: &mut State, ops: Vec<Op>| {
        let tx = Transaction {
            lsn,
            timestamp: Timestamp::EPOCH,
            cause: None,
            ops,
        };
        state.apply_owned(tx).expect("the bench rows apply");
        lsn = lsn.next();
    };
    // A second argument `indexed` adds a unique index on `email` (text of 22-24 bytes).
    let indexed = std::env::args().nth(2).as_deref() == Some("indexed");
    let mut def = TableDef::new(TABLE, KEY_COLUMN);
    if indexed {
        def = def.unique_index("by_email", "email");
    }
    apply(&mut state, vec![Op::CreateTable(def)]);
    let before = resident();
    let loading = std::time::Instant::now();
    for first in (0..n).step_by(1_000) {
        let ops = (first..(first + 1_000).min(n))
            .map(|i| Op::Insert {
                table: TABLE.to_owned(),
                row: row(i),
            })
            .collect();
        apply(&mut state, ops);
    }
    let load = loading.elapsed().as_secs_f64();
    let live = resident().saturating_sub(before);
    let table = state.table(TABLE).expect("the table exists");
    let memory = table.memory();
    let per = |bytes: usize| bytes as f64 / n as f64;
    println!(
        "{n} rows: loaded at {:.0} rows/s; {:.0} resident bytes a row; measured by stats: {:.0} (rows {:.0}, keys {:.0}, indexes {:.0})",
        n as f64 / load,
        per(live),
        per(memory.total()),
        per(memory.rows),
        per(memory.keys),
        per(memory.indexes),
    );
}

/// The benches' allocator (see the bench harness).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
