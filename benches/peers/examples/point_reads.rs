//! Workloads 5a and 5b on their own, for profiling: `N` bench rows (24-byte text keys, ~150-byte
//! rows) built straight into a core [`State`] (no log), then `N` point reads of random existing
//! keys and `N / 10` scans of 10 rows from random keys (as the bench's query: `k >= key`, limit
//! 10), each timed.
//!
//! ```text
//! cargo build --release -p tabula-peers --example point_reads
//! perf record -g target/release/examples/point_reads 1000000
//! ```

#![allow(
    clippy::print_stdout,
    clippy::expect_used,
    reason = "a profiling harness: its output is the figure, and a failed setup should stop it"
)]

use std::hint::black_box;
use std::time::Instant;

use tabula_core::{Filter, Lsn, Op, Query, State, TableDef, Timestamp, Transaction, Value};
use tabula_peers::data::{KEY_COLUMN, Probes, TABLE, key, row};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
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
    apply(
        &mut state,
        vec![Op::CreateTable(TableDef::new(TABLE, KEY_COLUMN))],
    );
    let loading = Instant::now();
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
    let keys: Vec<Value> = (0..n).map(|i| Value::Text(key(i))).collect();
    // An optional second argument repeats the probes, so a profile of the run is mostly reads.
    let repeat: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1);
    let probes: Vec<usize> = Probes::new(n).take(n * repeat).collect();
    let view = state.clone();
    let reading = Instant::now();
    let mut found = 0usize;
    for &i in &probes {
        let key = keys.get(i).expect("a probe below n");
        if black_box(view.get(TABLE, key).expect("the table exists")).is_some() {
            found += 1;
        }
    }
    let read = reading.elapsed().as_secs_f64();
    assert_eq!(found, probes.len(), "every probe finds its row");
    let scans = n / 10 * repeat;
    let scanning = Instant::now();
    let mut scanned = 0usize;
    for &i in probes.iter().cycle().take(scans) {
        let key = keys.get(i).expect("a probe below n").clone();
        let query = Query::new().filter(Filter::ge(KEY_COLUMN, key)).limit(10);
        scanned += black_box(view.query(TABLE, &query).expect("the query runs"))
            .rows
            .len();
    }
    let scan = scanning.elapsed().as_secs_f64();
    assert!(scanned > 0, "scans find rows");
    println!(
        "{n} rows: load {:.0} rows/s, point reads {:.0} reads/s, scans of 10 {:.0} scans/s",
        n as f64 / load,
        probes.len() as f64 / read,
        scans as f64 / scan
    );
}

/// The benches' allocator (see the bench harness).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
