//! Criterion benchmarks of `tabula-core` next to a `std::collections::HashMap` floor.
//!
//! Every group runs at each size in [`tabula_benches::SIZES`] (at one small size when run as a
//! test) on the same rows from [`Dataset`]:
//!
//! - `insert/*`: builds the whole table of `n` rows from empty; the throughput is rows per
//!   second, so the per-row cost is the reported time divided by `n`. tabula inserts through
//!   [`State::apply_owned`] (one `Insert` per transaction) into a plain table, into a typed
//!   table with an index, and through [`TableState::rebuild`], its only public table-level path;
//!   the floors insert the same rows into `HashMap<i64, Row>` and `HashMap<i64, Arc<Row>>`.
//! - `get/*`: one lookup of a random existing key per iteration, through [`State::get`],
//!   [`TableState::get`] and the two floors.
//! - `filter/*`: one `eq` query on `score` per iteration (about ten matching rows), answered
//!   from the ordered index, and the same query on `score_unindexed`, which is a full scan; its
//!   floor is the same predicate over the values of the `HashMap<i64, Row>`.
//!
//! This file does not compute ratios: `benches/core_ratio.rs` measures tabula against the floor
//! in one run and prints them. Data for the read groups is built only if one of their
//! benchmarks passes the command-line filter, so `cargo bench -p tabula-benches -- get/` and
//! `-- --quick` stay short.

// Bench code: a failed setup must stop the run loudly, and probe arrays are indexed by a
// masked counter that is always in range.
#![allow(clippy::expect_used, clippy::indexing_slicing)]

use std::cell::LazyCell;
use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{
    BatchSize, BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group,
    criterion_main, measurement::WallTime,
};
use tabula_benches::{
    Dataset, SCORE, SCORE_UNINDEXED, TABLE, apply_all, build_database, empty_database, indexed_def,
    plain_def, run_sizes, typed_indexed_def,
};
use tabula_core::{Filter, Limits, Plan, Query, Row, RowRef, State, TableState, Value};

/// Probe keys per size; a power of two so the cycling counter is a mask. A million random keys
/// make the lookups wander over the whole map, paying the cache misses a real random workload
/// pays.
const PROBES: usize = 1 << 20;

/// Query probes: fewer, because each query is much slower than a lookup.
const QUERY_PROBES: usize = 1 << 10;

/// Seeds of the probe streams, distinct from the data seed.
const KEY_PROBE_SEED: u64 = 0x6E7;
const SCORE_PROBE_SEED: u64 = 0x5C0;

/// Settings for groups whose one iteration builds a whole table: ten flat samples, a short
/// warm-up, and a measurement time that lets the 1M case run one build per sample.
fn configure_build_group(group: &mut BenchmarkGroup<'_, WallTime>, n: usize) {
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(if n >= 1_000_000 {
            Duration::from_secs(15)
        } else {
            Duration::from_secs(5)
        });
}

fn insert(c: &mut Criterion) {
    for &n in run_sizes() {
        let data = Dataset::new(n);
        let mut group = c.benchmark_group("insert");
        configure_build_group(&mut group, n);
        group.throughput(Throughput::Elements(n as u64));

        for (name, def) in [
            ("tabula_db", plain_def as fn() -> _),
            ("tabula_db_typed_indexed", typed_indexed_def),
        ] {
            group.bench_function(BenchmarkId::new(name, n), |b| {
                b.iter_batched(
                    || {
                        let db = empty_database(def()).expect("valid definition");
                        (db, data.insert_transactions(2))
                    },
                    |(mut db, txs)| {
                        apply_all(&mut db, txs).expect("every insert succeeds");
                        db
                    },
                    BatchSize::PerIteration,
                );
            });
        }

        group.bench_function(BenchmarkId::new("tabula_table_rebuild", n), |b| {
            b.iter_batched(
                || data.rows().map(|(_, row)| row).collect::<Vec<_>>(),
                |rows| {
                    TableState::rebuild(plain_def(), rows, Some(1), &Limits::default())
                        .expect("every insert succeeds")
                },
                BatchSize::PerIteration,
            );
        });

        group.bench_function(BenchmarkId::new("hashmap_row", n), |b| {
            b.iter_batched(
                || data.rows().collect::<Vec<_>>(),
                |rows| {
                    let mut map = HashMap::new();
                    for (key, row) in rows {
                        map.insert(key, row);
                    }
                    map
                },
                BatchSize::PerIteration,
            );
        });

        group.bench_function(BenchmarkId::new("hashmap_arc_row", n), |b| {
            b.iter_batched(
                || data.rows().collect::<Vec<_>>(),
                |rows| {
                    let mut map = HashMap::new();
                    for (key, row) in rows {
                        map.insert(key, Arc::new(row));
                    }
                    map
                },
                BatchSize::PerIteration,
            );
        });

        group.finish();
    }
}

/// Everything the read groups of one size need, built once.
struct ReadData {
    db: State,
    map: HashMap<i64, Row>,
    map_arc: HashMap<i64, Arc<Row>>,
    keys: Vec<i64>,
    scores: Vec<i64>,
    indexed: Vec<Query>,
    unindexed: Vec<Query>,
}

impl ReadData {
    fn new(data: &Dataset) -> Self {
        let db = build_database(indexed_def(), data).expect("every insert succeeds");
        let scores = data.probe_scores(QUERY_PROBES, SCORE_PROBE_SEED);
        let queries = |column: &str| -> Vec<Query> {
            scores
                .iter()
                .map(|&s| Query::new().filter(Filter::eq(column, s)))
                .collect()
        };
        let reads = ReadData {
            map: data.hash_map(),
            map_arc: data.hash_map_arc(),
            keys: data.probe_keys(PROBES, KEY_PROBE_SEED),
            indexed: queries(SCORE),
            unindexed: queries(SCORE_UNINDEXED),
            scores,
            db,
        };
        reads.check();
        reads
    }

    fn table(&self) -> &TableState {
        self.db.table(TABLE).expect("the table exists")
    }

    /// Checks that the contenders agree and that each query takes the intended plan, so the
    /// benchmark measures what its name says.
    fn check(&self) {
        let limits = self.db.limits();
        for (indexed, unindexed) in self.indexed.iter().zip(&self.unindexed).take(8) {
            let a = self.table().query(indexed, limits).expect("valid query");
            let b = self.table().query(unindexed, limits).expect("valid query");
            assert!(matches!(a.plan, Plan::IndexLookup { .. }), "{:?}", a.plan);
            assert_eq!(b.plan, Plan::FullScan);
            assert_eq!(a.rows, b.rows);
        }
        for key in self.keys.iter().take(64) {
            let row = self.db.get(TABLE, &Value::Int(*key)).expect("table exists");
            assert_eq!(row.map(RowRef::to_row).as_ref(), self.map.get(key));
        }
    }
}

fn reads(c: &mut Criterion) {
    for &n in run_sizes() {
        let data = Dataset::new(n);
        let reads = LazyCell::new(|| ReadData::new(&data));
        let reads = &reads;
        let mask = PROBES - 1;

        let mut group = c.benchmark_group("get");
        group
            .throughput(Throughput::Elements(1))
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3));
        group.bench_function(BenchmarkId::new("tabula_db", n), |b| {
            let r = LazyCell::force(reads);
            let mut i = 0;
            b.iter(|| {
                let key = Value::Int(r.keys[i & mask]);
                i += 1;
                black_box(r.db.get(TABLE, &key).expect("table exists"));
            });
        });
        group.bench_function(BenchmarkId::new("tabula_table", n), |b| {
            let r = LazyCell::force(reads);
            let table = r.table();
            let mut i = 0;
            b.iter(|| {
                let key = Value::Int(r.keys[i & mask]);
                i += 1;
                black_box(table.get(&key));
            });
        });
        group.bench_function(BenchmarkId::new("hashmap_row", n), |b| {
            let r = LazyCell::force(reads);
            let mut i = 0;
            b.iter(|| {
                let key = r.keys[i & mask];
                i += 1;
                black_box(r.map.get(&key));
            });
        });
        group.bench_function(BenchmarkId::new("hashmap_arc_row", n), |b| {
            let r = LazyCell::force(reads);
            let mut i = 0;
            b.iter(|| {
                let key = r.keys[i & mask];
                i += 1;
                black_box(r.map_arc.get(&key));
            });
        });
        group.finish();

        let qmask = QUERY_PROBES - 1;
        let mut group = c.benchmark_group("filter");
        group
            .throughput(Throughput::Elements(1))
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3));
        group.bench_function(BenchmarkId::new("indexed_eq", n), |b| {
            let r = LazyCell::force(reads);
            let (table, limits) = (r.table(), r.db.limits());
            let mut i = 0;
            b.iter(|| {
                let query = &r.indexed[i & qmask];
                i += 1;
                black_box(table.query(query, limits).expect("valid query"));
            });
        });
        // A full scan of 1M rows takes tens of milliseconds: ten flat samples keep it short.
        group.sample_size(10).sampling_mode(SamplingMode::Flat);
        group.bench_function(BenchmarkId::new("unindexed_eq_full_scan", n), |b| {
            let r = LazyCell::force(reads);
            let (table, limits) = (r.table(), r.db.limits());
            let mut i = 0;
            b.iter(|| {
                let query = &r.unindexed[i & qmask];
                i += 1;
                black_box(table.query(query, limits).expect("valid query"));
            });
        });
        // The floor of a full scan: the same predicate over the same rows in a `HashMap`, so
        // what tabula adds to a scan shows apart from what the row layout costs.
        group.bench_function(BenchmarkId::new("hashmap_scan_eq", n), |b| {
            let r = LazyCell::force(reads);
            let mut i = 0;
            b.iter(|| {
                let wanted = Value::Int(r.scores[i & qmask]);
                i += 1;
                let hits: Vec<&Row> = r
                    .map
                    .values()
                    .filter(|row| row.get(SCORE_UNINDEXED) == Some(&wanted))
                    .collect();
                black_box(hits);
            });
        });
        group.finish();
    }
}

criterion_group!(benches, insert, reads);
criterion_main!(benches);
