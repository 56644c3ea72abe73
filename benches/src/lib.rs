//! Shared, deterministic data for tabula's benchmarks.
//!
//! This crate owns what every contender is fed: the row keys, the row contents, the probe keys
//! and the probe scores, all drawn from one fixed-seed [`SplitMix64`] stream, so tabula and its
//! `HashMap` floor insert and look up exactly the same data in the same order (the habit of
//! redb's `redb-bench-compare`). It also owns the table definitions the benchmarks use and the
//! helpers that turn a [`Dataset`] into transactions or a built [`State`].
//!
//! It does not time anything: the criterion benchmarks live in `benches/core.rs` and the
//! same-run ratio pass against the floor in `benches/core_ratio.rs`. The [`codec`] module holds
//! the realistic rows of the codec benchmarks and the loops they time (`benches/codec.rs` and
//! `benches/codec_ratio.rs`), and [`RatioArgs`] the command line of both ratio binaries.
//!
//! # The data
//!
//! Row `i` of a dataset of `n` rows has four fields:
//!
//! | field             | value                                                     |
//! | ----------------- | --------------------------------------------------------- |
//! | `id`              | [`Dataset::key`]: a distinct, scattered `i64` (primary key) |
//! | `score`           | an `i64` in `0..n / 10`, so one value matches ~10 rows    |
//! | `score_unindexed` | the same number as `score`, never indexed (full scans)    |
//! | `name`            | the text `item-<i>`                                       |
//!
//! Keys are scattered rather than sequential so that inserts land all over the key space, as
//! they do for hashed or externally assigned ids; a sequential load would only ever append.

use std::collections::HashMap;
use std::sync::Arc;

use tabula_core::{
    Column, ColumnType, Error, Lsn, Op, Row, State, TableDef, TableState, Timestamp, Transaction,
    Value,
};

/// The seed of every stream; change it and every contender sees the new data alike.
pub const SEED: u64 = 0x7AB0_1A00_5EED_2024;

/// The dataset sizes every benchmark runs at.
pub const SIZES: [usize; 2] = [100_000, 1_000_000];

/// The size a bench binary runs at when it is run as a test (`cargo test --benches`, or
/// `cargo bench -- --test`): big enough to exercise every path, small enough to take no time.
pub const SMOKE_SIZE: usize = 1_000;

/// Whether this bench binary was started as a test rather than a benchmark.
///
/// The rule is criterion's: `cargo bench` passes `--bench` and means a benchmark run, unless
/// `--test` is given too; `cargo test --benches` passes no `--bench` and means a test run, in
/// which every benchmark runs once.
#[must_use]
pub fn is_test_run() -> bool {
    let (mut bench, mut test) = (false, false);
    for arg in std::env::args().skip(1) {
        bench |= arg == "--bench";
        test |= arg == "--test";
    }
    test || !bench
}

/// The sizes to run at: [`SIZES`] for a benchmark run, [`SMOKE_SIZE`] for a test run.
#[must_use]
pub fn run_sizes() -> &'static [usize] {
    if is_test_run() { &[SMOKE_SIZE] } else { &SIZES }
}

/// Criterion options that take a value, so that a ratio binary does not take the value for its
/// filter.
const VALUE_OPTIONS: &[&str] = &[
    "--baseline",
    "--baseline-lenient",
    "--color",
    "--confidence-level",
    "--format",
    "--load-baseline",
    "--logfile",
    "--measurement-time",
    "--noise-threshold",
    "--nresamples",
    "--output-format",
    "--plotting-backend",
    "--profile-time",
    "--sample-size",
    "--save-baseline",
    "--significance-level",
    "--warm-up-time",
    "-c",
    "-b",
    "-s",
];

/// The command line of a ratio binary (one without criterion's harness), as `cargo bench`
/// passes it: a positional filter runs only the measurements whose id contains it, `--quick`
/// takes fewer repetitions, `--list` lists the ids. Other criterion options are accepted and
/// ignored.
#[derive(Debug, Clone, Default)]
pub struct RatioArgs {
    /// The positional filter, if any.
    pub filter: Option<String>,
    /// `--quick` was given.
    pub quick: bool,
    /// `--list` was given.
    pub list: bool,
}

impl RatioArgs {
    /// Parses the process's arguments.
    #[must_use]
    pub fn parse() -> Self {
        let mut args = RatioArgs::default();
        let mut it = std::env::args().skip(1);
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--quick" => args.quick = true,
                "--list" => args.list = true,
                a if VALUE_OPTIONS.contains(&a) => {
                    it.next();
                }
                a if a.starts_with('-') => {}
                _ => args.filter = Some(arg),
            }
        }
        args
    }

    /// Whether the measurement `id` passes the filter.
    #[must_use]
    pub fn wants(&self, id: &str) -> bool {
        self.filter.as_deref().is_none_or(|f| id.contains(f))
    }
}

/// The name of the benchmark table.
pub const TABLE: &str = "items";

/// The primary key column.
pub const KEY: &str = "id";

/// The indexed score column.
pub const SCORE: &str = "score";

/// A copy of the score column that no index covers, for full-scan filters.
pub const SCORE_UNINDEXED: &str = "score_unindexed";

/// The text column.
pub const NAME: &str = "name";

/// The name of the ordered index on [`SCORE`].
pub const SCORE_INDEX: &str = "by_score";

/// How many rows share one score value on average: scores are drawn from `0..n / ROWS_PER_SCORE`.
pub const ROWS_PER_SCORE: usize = 10;

/// The splitmix64 finalizer, a bijection on `u64` (the workspace's one copy, in
/// `tabula-storage`): being a bijection is what makes [`Dataset::key`] distinct for distinct row
/// numbers without any bookkeeping.
pub use tabula_storage::mix64 as mix;

/// The workspace's one seeded generator (splitmix64, in `tabula-storage`).
pub use tabula_storage::SplitMix64;

/// A number in `0..bound` (`bound > 0`) from `rng`, by multiply-shift: unbiased enough for
/// picking benchmark probes, and free of division (the stream the benchmarks have always used).
pub fn below(rng: &mut SplitMix64, bound: u64) -> u64 {
    let wide = u128::from(rng.next_u64()) * u128::from(bound);
    // The high half of a 64x64-bit product always fits in 64 bits.
    (wide >> 64) as u64
}

/// Widens a row count or row number; `usize` is at most 64 bits on every supported target.
fn wide(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Reinterprets 64 random bits as a signed key; every bit pattern is a valid `i64`.
fn signed(bits: u64) -> i64 {
    i64::from_ne_bytes(bits.to_ne_bytes())
}

/// The rows of one benchmark size: keys and scores by row number, generated on demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dataset {
    n: usize,
}

impl Dataset {
    /// The dataset of `n` rows (`n >= ROWS_PER_SCORE`).
    #[must_use]
    pub const fn new(n: usize) -> Self {
        Dataset { n }
    }

    /// The number of rows.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.n
    }

    /// Whether the dataset has no rows.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The number of distinct score values, `n / ROWS_PER_SCORE` (at least one).
    #[must_use]
    pub const fn score_range(&self) -> i64 {
        let range = self.n / ROWS_PER_SCORE;
        if range == 0 {
            1
        } else {
            // At most 2^64 / 10 rows: fits an i64.
            range as i64
        }
    }

    /// The primary key of row `i`: distinct for every `i`, because [`mix`] is a bijection.
    #[must_use]
    pub fn key(&self, i: usize) -> i64 {
        signed(mix(wide(i).wrapping_add(SEED)))
    }

    /// The score of row `i`, in `0..score_range()`, from a stream independent of the key's.
    #[must_use]
    pub fn score(&self, i: usize) -> i64 {
        let range = self.score_range();
        signed(mix(wide(i) ^ SEED.rotate_left(32)) % range.unsigned_abs())
    }

    /// Row `i` as tabula stores it (and as the `HashMap` floor stores it too).
    #[must_use]
    pub fn row(&self, i: usize) -> Row {
        let score = self.score(i);
        [
            (KEY.to_owned(), Value::Int(self.key(i))),
            (SCORE.to_owned(), Value::Int(score)),
            (SCORE_UNINDEXED.to_owned(), Value::Int(score)),
            (NAME.to_owned(), Value::Text(format!("item-{i}"))),
        ]
        .into_iter()
        .collect()
    }

    /// All rows with their keys, in insertion order.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = (i64, Row)> + '_ {
        (0..self.n).map(|i| (self.key(i), self.row(i)))
    }

    /// One `Insert` transaction per row, with LSNs increasing from `first_lsn`.
    #[must_use]
    pub fn insert_transactions(&self, first_lsn: u64) -> Vec<Transaction> {
        self.rows()
            .zip(first_lsn..)
            .map(|((_, row), lsn)| {
                Transaction::new(Lsn(lsn), Timestamp::EPOCH).with(Op::Insert {
                    table: TABLE.to_owned(),
                    row,
                })
            })
            .collect()
    }

    /// `count` keys of existing rows, picked at random (with repeats) by a stream seeded `seed`.
    #[must_use]
    pub fn probe_keys(&self, count: usize, seed: u64) -> Vec<i64> {
        let mut rng = SplitMix64::new(seed);
        let n = wide(self.n);
        (0..count)
            .map(|_| {
                let i = usize::try_from(below(&mut rng, n)).unwrap_or(0);
                self.key(i)
            })
            .collect()
    }

    /// `count` score values, picked at random from the score range by a stream seeded `seed`.
    #[must_use]
    pub fn probe_scores(&self, count: usize, seed: u64) -> Vec<i64> {
        let mut rng = SplitMix64::new(seed);
        let range = self.score_range().unsigned_abs();
        (0..count).map(|_| signed(below(&mut rng, range))).collect()
    }

    /// The rows in a `HashMap<i64, Row>`, the floor tabula is compared with.
    #[must_use]
    pub fn hash_map(&self) -> HashMap<i64, Row> {
        self.rows().collect()
    }

    /// The rows in a `HashMap<i64, Arc<Row>>`, the floor that also pays for tabula's `Arc`.
    #[must_use]
    pub fn hash_map_arc(&self) -> HashMap<i64, Arc<Row>> {
        self.rows().map(|(k, r)| (k, Arc::new(r))).collect()
    }
}

/// The plainest table: schemaless, keyed by [`KEY`], no secondary index. Inserts into it pay
/// only for what every tabula write pays for, which is what the `HashMap` floor is compared with.
#[must_use]
pub fn plain_def() -> TableDef {
    TableDef::new(TABLE, KEY)
}

/// A schemaless table with the ordered index [`SCORE_INDEX`] on [`SCORE`].
#[must_use]
pub fn indexed_def() -> TableDef {
    plain_def().index(SCORE_INDEX, SCORE)
}

/// A typed table (every column declared) with the index on [`SCORE`]: the full cost of a write
/// to a table as an application would declare it.
#[must_use]
pub fn typed_indexed_def() -> TableDef {
    TableDef::new(TABLE, KEY)
        .column(Column::new(KEY, ColumnType::Int))
        .column(Column::new(SCORE, ColumnType::Int).not_null())
        .column(Column::new(SCORE_UNINDEXED, ColumnType::Int).not_null())
        .column(Column::new(NAME, ColumnType::Text).not_null())
        .index(SCORE_INDEX, SCORE)
}

/// A database holding only the empty table `def`, created at LSN 1.
///
/// # Errors
/// If `def` is invalid.
pub fn empty_database(def: TableDef) -> Result<State, Error> {
    let mut db = State::new();
    db.apply_owned(Transaction::new(Lsn(1), Timestamp::EPOCH).with(Op::CreateTable(def)))?;
    Ok(db)
}

/// Applies `txs` one by one through [`State::apply_owned`], dropping the reported changes.
///
/// # Errors
/// The first transaction's error.
pub fn apply_all(db: &mut State, txs: Vec<Transaction>) -> Result<(), Error> {
    for tx in txs {
        db.apply_owned(tx)?;
    }
    Ok(())
}

/// A database with table `def` holding every row of `data`, each inserted by its own
/// transaction (LSN 2 onwards) as the benchmarks insert them.
///
/// # Errors
/// If `def` is invalid or rejects a row.
pub fn build_database(def: TableDef, data: &Dataset) -> Result<State, Error> {
    let mut db = empty_database(def)?;
    apply_all(&mut db, data.insert_transactions(2))?;
    Ok(db)
}

/// The table `def` holding every row of `data`, built through the public table-level API,
/// [`TableState::rebuild`] (there is no public per-row `TableState` insert).
///
/// # Errors
/// If `def` is invalid or rejects a row.
pub fn build_table(def: TableDef, data: &Dataset) -> Result<TableState, Error> {
    TableState::rebuild(
        def,
        data.rows().map(|(_, row)| row),
        Some(1),
        &tabula_core::Limits::default(),
    )
}

pub mod codec;

#[cfg(test)]
mod test {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn keys_are_distinct_and_stable() {
        let data = Dataset::new(10_000);
        let keys: HashSet<i64> = (0..data.len()).map(|i| data.key(i)).collect();
        assert_eq!(keys.len(), data.len());
        assert_eq!(data.key(7), Dataset::new(1_000_000).key(7));
    }

    #[test]
    fn scores_hit_about_ten_rows_each() {
        let data = Dataset::new(100_000);
        let mut per_score = HashMap::<i64, usize>::new();
        for i in 0..data.len() {
            let s = data.score(i);
            assert!((0..data.score_range()).contains(&s));
            *per_score.entry(s).or_default() += 1;
        }
        let mean = data.len() / per_score.len();
        assert!((9..=11).contains(&mean), "mean rows per score {mean}");
    }

    #[test]
    fn database_and_floor_hold_the_same_rows() {
        let data = Dataset::new(1_000);
        let db = build_database(indexed_def(), &data).unwrap();
        let floor = data.hash_map();
        assert_eq!(db.table(TABLE).unwrap().len(), floor.len());
        for key in data.probe_keys(100, 1) {
            let row = db.get(TABLE, &Value::Int(key)).unwrap().unwrap();
            assert_eq!(row.to_row(), floor[&key]);
        }
        let typed = build_table(typed_indexed_def(), &data).unwrap();
        assert_eq!(typed.len(), data.len());
    }
}
