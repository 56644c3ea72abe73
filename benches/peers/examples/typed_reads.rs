//! Workload 11a's tabula side on its own, for profiling: `N` bench rows as a derived record in
//! an in-memory `tabula::Database`, then `N` reads of random keys from a held `TableView` and `N`
//! through `Table::get`.
//!
//! ```text
//! cargo build --release -p tabula-peers --example typed_reads
//! perf record -g target/release/examples/typed_reads 200000
//! ```

#![allow(
    clippy::print_stdout,
    clippy::expect_used,
    reason = "a profiling harness: its output is the figure, and a failed setup should stop it"
)]

use std::hint::black_box;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tabula::{Database, Record};
use tabula_peers::data::{Probes, fields, key};

/// The bench row as an application's struct (as workload 11 has it).
#[derive(Debug, Clone, Serialize, Deserialize, Record)]
#[tabula(table = "rows")]
struct BenchRow {
    #[tabula(primary_key)]
    k: String,
    name: String,
    email: String,
    score: f64,
    active: bool,
    created: i64,
    city: String,
    tags: Vec<String>,
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200_000);
    // Read passes over the keys (the second argument): more than one lets a profile of the
    // reads outweigh the load.
    let passes: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1);
    let rows: Vec<BenchRow> = (0..n)
        .map(|i| {
            let f = fields(i);
            BenchRow {
                k: key(i),
                name: f.name,
                email: f.email,
                score: f.score,
                active: f.active,
                created: f.created,
                city: f.city,
                tags: f.tags.iter().map(|t| (*t).to_owned()).collect(),
            }
        })
        .collect();
    let db = Database::open_in_memory();
    let table = db.table::<BenchRow>().expect("the table");
    let loading = Instant::now();
    for chunk in rows.chunks(1_000) {
        table.insert_all(chunk).expect("the rows insert");
    }
    let load = loading.elapsed().as_secs_f64();
    let keys: Vec<String> = (0..n).map(key).collect();
    let view = table.read();
    let reading = Instant::now();
    let mut found = 0;
    for i in Probes::new(n).take(n * passes) {
        let k = keys.get(i).expect("a probe below n");
        if black_box(view.get(k.as_str()).expect("a read")).is_some() {
            found += 1;
        }
    }
    let read = reading.elapsed().as_secs_f64();
    assert_eq!(found, n * passes, "every read finds its row");
    let getting = Instant::now();
    let mut found = 0;
    for i in Probes::new(n).take(n) {
        let k = keys.get(i).expect("a probe below n");
        if black_box(table.get(k.as_str()).expect("a read")).is_some() {
            found += 1;
        }
    }
    let get = getting.elapsed().as_secs_f64();
    assert_eq!(found, n, "every get finds its row");
    println!(
        "{n} rows: typed load {:.0} rows/s, typed reads {:.0} reads/s, Table::get {:.0} reads/s",
        n as f64 / load,
        (n * passes) as f64 / read,
        n as f64 / get
    );
}

/// The benches' allocator (see the bench harness).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
