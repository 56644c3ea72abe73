//! The same-run ratio of tabula to its floor, `std::collections::HashMap`, for insert and get.
//!
//! Criterion reports each benchmark on its own and never divides one by another, and a ratio of
//! numbers from different runs (or machines) means little. So this binary times both contenders
//! in one process, interleaved repetition by repetition so that drift (frequency scaling, a
//! noisy neighbour) hits them alike, takes the median of the repetitions, and prints lines like
//!
//! ```text
//! ratio get    N=100000: tabula 85 ns, HashMap 30 ns, tabula/HashMap = 2.8x (aim <= 3x) met
//! ```
//!
//! What is measured, on the same rows from [`Dataset`]:
//!
//! - insert: building the table of `N` rows from empty, one `Insert` transaction per row through
//!   [`State::apply_owned`] into the plain table, against `HashMap::insert` of the same
//!   `(i64, Row)` pairs into a `HashMap::new()`; reported per row. Making the input and dropping
//!   the result are not timed, for either.
//! - get: [`State::get`] of [`PROBES`] random existing keys against `HashMap::get` of the same
//!   keys; reported per lookup.
//!
//! A `breakdown` line after each ratio line gives every contender, which splits the gap into
//! its causes: `HashMap<i64, Arc<Row>>` pays for the `Arc` tabula stores rows in, `BTreeMap`
//! for keeping keys ordered, `imbl::OrdMap<i64, _>` for persistence (cheap clones), and
//! `imbl::OrdMap<Value, _>` for dynamically typed keys; what tabula adds beyond that is its own
//! work (checks, undo log, change report). The get breakdown also has
//! [`TableState::get`](tabula_core::TableState::get), which skips the table lookup by name.
//!
//! Arguments, as `cargo bench` passes them: a positional filter runs only the measurements whose
//! id (`ratio/insert/100000`, `ratio/get/1000000`) contains it, `--quick` takes fewer
//! repetitions, `--list` lists the ids, and a run without `--bench` (`cargo test --benches`) is a
//! smoke test at a small size. Other criterion options are accepted and ignored.

// Bench code: a failed setup must stop the run loudly, and printing the ratios is the point of
// the binary.
#![allow(clippy::expect_used, clippy::print_stdout)]

use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use imbl::OrdMap;
use tabula_benches::{
    Dataset, RatioArgs, TABLE, apply_all, build_database, empty_database, is_test_run, plain_def,
    run_sizes,
};
use tabula_core::{Row, State, Value};

/// Lookups per timed get pass: enough that a pass takes milliseconds and that, the keys being
/// random, the lookups wander over the whole map as a real random workload does.
const PROBES: usize = 1 << 20;

/// Seed of the probe keys, distinct from the data seed.
const KEY_PROBE_SEED: u64 = 0xA7_10;

/// The aims the brief sets: tabula within this factor of the `HashMap` floor.
const GET_AIM: f64 = 3.0;
const INSERT_AIM: f64 = 5.0;

/// The median of `samples` (the upper one of an even count).
fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples
        .get(samples.len() / 2)
        .copied()
        .unwrap_or(Duration::ZERO)
}

/// Nanoseconds per element.
fn per(d: Duration, count: usize) -> f64 {
    d.as_secs_f64() * 1e9 / count as f64
}

/// `tabula/floor`, with a word on whether it meets the aim.
fn verdict(tabula: f64, floor: f64, aim: f64) -> String {
    let ratio = tabula / floor;
    let word = if ratio <= aim { "met" } else { "MISSED" };
    format!("tabula/HashMap = {ratio:.1}x (aim <= {aim}x) {word}")
}

/// Times `run` on an input made by `setup`, leaving making the input and dropping the output
/// out of the measurement.
fn time_one<I, O>(setup: impl FnOnce() -> I, run: impl FnOnce(I) -> O) -> Duration {
    let input = setup();
    let start = Instant::now();
    let output = run(input);
    let elapsed = start.elapsed();
    drop(black_box(output));
    elapsed
}

/// One contender of a timed pass: its name and a function that runs one repetition.
type Contender<'a> = (&'static str, Box<dyn Fn() -> Duration + 'a>);

/// The name tabula is reported under, and the name of the floor the ratio is taken against.
const TABULA: &str = "tabula";
const FLOOR: &str = "HashMap<i64, Row>";

/// Runs every contender `reps` times, interleaved, and returns each one's median.
fn run(contenders: &[Contender<'_>], reps: usize) -> Vec<(&'static str, Duration)> {
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); contenders.len()];
    for _ in 0..reps {
        for ((_, once), samples) in contenders.iter().zip(&mut samples) {
            samples.push(once());
        }
    }
    contenders
        .iter()
        .zip(samples)
        .map(|((name, _), samples)| (*name, median(samples)))
        .collect()
}

/// The median time of contender `name`.
fn of(results: &[(&'static str, Duration)], name: &str) -> Duration {
    results
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, d)| *d)
        .expect("every reported contender ran")
}

/// Prints the ratio line and a breakdown line of every contender, in ns per `unit`.
fn report(kind: &str, n: usize, results: &[(&'static str, Duration)], count: usize, aim: f64) {
    let unit = if kind == "insert" { " ns/row" } else { " ns" };
    let tabula = per(of(results, TABULA), count);
    let floor = per(of(results, FLOOR), count);
    println!(
        "ratio {kind:<6} N={n}: tabula {tabula:.0}{unit}, HashMap {floor:.0}{unit}, {}",
        verdict(tabula, floor, aim)
    );
    let all: Vec<String> = results
        .iter()
        .map(|(name, d)| format!("{name} {:.0}", per(*d, count)))
        .collect();
    println!(
        "      {kind:<6} N={n} breakdown ({}): {}",
        unit.trim(),
        all.join(" | ")
    );
}

/// Fills an empty `M` with `rows` through `put`, timing only the filling.
fn fill<M: Default>(data: &Dataset, put: fn(&mut M, i64, Row)) -> Duration {
    time_one(
        || data.rows().collect::<Vec<_>>(),
        |rows| {
            let mut map = M::default();
            for (key, row) in rows {
                put(&mut map, key, row);
            }
            map
        },
    )
}

fn insert(n: usize, reps: usize) {
    let data = &Dataset::new(n);
    let contenders: Vec<Contender<'_>> = vec![
        (
            TABULA,
            Box::new(|| {
                time_one(
                    || {
                        let db = empty_database(plain_def()).expect("valid definition");
                        (db, data.insert_transactions(2))
                    },
                    |(mut db, txs)| {
                        apply_all(&mut db, txs).expect("every insert succeeds");
                        db
                    },
                )
            }),
        ),
        (
            FLOOR,
            Box::new(|| {
                fill::<HashMap<i64, Row>>(data, |m, k, r| {
                    m.insert(k, r);
                })
            }),
        ),
        (
            "HashMap<i64, Arc<Row>>",
            Box::new(|| {
                fill::<HashMap<i64, Arc<Row>>>(data, |m, k, r| {
                    m.insert(k, Arc::new(r));
                })
            }),
        ),
        (
            "BTreeMap<i64, Arc<Row>>",
            Box::new(|| {
                fill::<BTreeMap<i64, Arc<Row>>>(data, |m, k, r| {
                    m.insert(k, Arc::new(r));
                })
            }),
        ),
        (
            "imbl::OrdMap<i64, Arc<Row>>",
            Box::new(|| {
                fill::<OrdMap<i64, Arc<Row>>>(data, |m, k, r| {
                    m.insert(k, Arc::new(r));
                })
            }),
        ),
        (
            "imbl::OrdMap<Value, Arc<Row>>",
            Box::new(|| {
                fill::<OrdMap<Value, Arc<Row>>>(data, |m, k, r| {
                    m.insert(Value::Int(k), Arc::new(r));
                })
            }),
        ),
    ];
    report("insert", n, &run(&contenders, reps), n, INSERT_AIM);
}

/// Looks every probe key up with `get` and returns the time of the pass.
fn time_gets<R>(probes: &[i64], get: impl Fn(i64) -> Option<R>) -> Duration {
    let start = Instant::now();
    let mut found = 0usize;
    for &key in probes {
        found += usize::from(black_box(get(key)).is_some());
    }
    let elapsed = start.elapsed();
    assert_eq!(found, probes.len(), "every probe key exists");
    elapsed
}

fn get(n: usize, reps: usize) {
    let data = Dataset::new(n);
    let db: State = build_database(plain_def(), &data).expect("every insert succeeds");
    let table = db.table(TABLE).expect("the table exists");
    let map: HashMap<i64, Row> = data.hash_map();
    // The other floors share tabula's rows (a lookup never reads them) and are filled in the
    // same order as tabula's table was.
    let shared: Vec<(i64, Arc<Row>)> = (0..n)
        .map(|i| {
            let key = data.key(i);
            let row = table.get(&Value::Int(key)).expect("every row was inserted");
            (key, Arc::new(row.to_row()))
        })
        .collect();
    let map_arc: HashMap<i64, Arc<Row>> = shared.iter().cloned().collect();
    let btree: BTreeMap<i64, Arc<Row>> = shared.iter().cloned().collect();
    let imbl_int: OrdMap<i64, Arc<Row>> = shared.iter().cloned().collect();
    let imbl_value: OrdMap<Value, Arc<Row>> = shared
        .iter()
        .map(|(k, r)| (Value::Int(*k), Arc::clone(r)))
        .collect();
    drop(shared);
    let probes = &data.probe_keys(PROBES, KEY_PROBE_SEED);

    let contenders: Vec<Contender<'_>> = vec![
        (
            TABULA,
            Box::new(|| {
                time_gets(probes, |k| {
                    db.get(TABLE, &Value::Int(k)).expect("the table exists")
                })
            }),
        ),
        (
            "Table::get",
            Box::new(|| time_gets(probes, |k| table.get(&Value::Int(k)))),
        ),
        (FLOOR, Box::new(|| time_gets(probes, |k| map.get(&k)))),
        (
            "HashMap<i64, Arc<Row>>",
            Box::new(|| time_gets(probes, |k| map_arc.get(&k))),
        ),
        (
            "BTreeMap<i64, Arc<Row>>",
            Box::new(|| time_gets(probes, |k| btree.get(&k))),
        ),
        (
            "imbl::OrdMap<i64, Arc<Row>>",
            Box::new(|| time_gets(probes, |k| imbl_int.get(&k))),
        ),
        (
            "imbl::OrdMap<Value, Arc<Row>>",
            Box::new(|| time_gets(probes, |k| imbl_value.get(&Value::Int(k)))),
        ),
    ];
    // One untimed pass first, so that no contender pays alone for faulting its pages in.
    run(&contenders, 1);
    report("get", n, &run(&contenders, reps), PROBES, GET_AIM);
}

/// The measurement ids of one kind, with their sizes.
fn ids(kind: &'static str) -> impl Iterator<Item = (String, usize)> {
    run_sizes()
        .iter()
        .map(move |n| (format!("ratio/{kind}/{n}"), *n))
}

fn main() {
    let args = RatioArgs::parse();
    let test_run = is_test_run();
    if args.list {
        for (id, _) in ids("insert").chain(ids("get")) {
            println!("{id}: benchmark");
        }
        return;
    }
    // Fewer repetitions at 1M rows, where one insert repetition takes seconds.
    let reps = |n: usize| match (test_run, args.quick, n >= 1_000_000) {
        (true, _, _) => 1,
        (false, true, _) => 3,
        (false, false, true) => 5,
        (false, false, false) => 9,
    };
    for (id, n) in ids("insert") {
        if args.wants(&id) {
            insert(n, reps(n));
        }
    }
    for (id, n) in ids("get") {
        if args.wants(&id) {
            get(n, reps(n));
        }
    }
}
