//! Criterion benchmarks of `tabula-codec`'s three formats next to raw `serde_json`, on
//! [`codec::ROWS`] realistic rows (seven mixed columns, about 150 bytes of JSON each; see
//! [`tabula_benches::codec`]). One iteration is a pass over every row:
//!
//! - `encode_mb/*` and `encode_rows/*`: `serde_json::to_vec` of each row (the baseline,
//!   `serde_json`), and `Codec::encode_into` one reused buffer, cleared between rows, for
//!   `json`, `msgpack` and `bincode`.
//! - `decode_mb/*` and `decode_rows/*`: `serde_json::from_slice::<Row>` of each row's JSON, and
//!   `Codec::decode::<Row>` of each row's bytes in the codec's own format, pre-encoded.
//!
//! The `_mb` groups report throughput in MB/s (10^6 bytes) of each contender's own encoding;
//! the `_rows` groups time the same passes again and report rows per second. A criterion
//! throughput is one unit per benchmark, hence two groups.
//!
//! This file does not compute ratios: `benches/codec_ratio.rs` times every contender in one
//! run and prints each codec's ratio to `serde_json`. Setup prints the bytes per row of every
//! format, and checks that every contender's records read back as the rows.

// Bench code: a failed setup must stop the run loudly, and the bytes per row are printed.
#![allow(clippy::expect_used, clippy::print_stdout)]

use std::time::Duration;

use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group,
    criterion_main, measurement::WallTime,
};
use tabula_benches::codec::{self, Contender, Encoded};
use tabula_benches::{SMOKE_SIZE, is_test_run};
use tabula_core::Row;

/// Rows per pass: [`codec::ROWS`], or a few for a test run.
fn size() -> usize {
    if is_test_run() {
        SMOKE_SIZE
    } else {
        codec::ROWS
    }
}

/// A pass takes tens of milliseconds: ten flat samples in three seconds keep the whole binary
/// (sixteen benchmarks) around a minute.
fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
}

/// The rows and every contender's pre-encoded records, checked.
struct Data {
    rows: Vec<Row>,
    encoded: Vec<(Contender, Encoded)>,
}

impl Data {
    fn new(n: usize) -> Self {
        let rows = codec::rows(n);
        let encoded: Vec<(Contender, Encoded)> = Contender::ALL
            .into_iter()
            .map(|c| {
                let data = c.encode_records(&rows).expect("every row encodes");
                c.check_round_trip(&rows, &data)
                    .expect("every record reads back as its row");
                (c, data)
            })
            .collect();
        let per_row: Vec<String> = encoded
            .iter()
            .map(|(c, data)| format!("{} {:.1}", c.name(), per_row(data)))
            .collect();
        println!(
            "codec rows N={n}: average bytes/row: {}",
            per_row.join(" | ")
        );
        Data { rows, encoded }
    }
}

fn per_row(data: &Encoded) -> f64 {
    data.total_bytes() as f64 / data.len().max(1) as f64
}

fn wide(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

fn encode(c: &mut Criterion, data: &Data) {
    let n = data.rows.len();
    for (group_name, rows_unit) in [("encode_mb", false), ("encode_rows", true)] {
        let mut group = c.benchmark_group(group_name);
        configure(&mut group);
        for (contender, encoded) in &data.encoded {
            group.throughput(if rows_unit {
                Throughput::Elements(wide(n))
            } else {
                Throughput::BytesDecimal(wide(encoded.total_bytes()))
            });
            let mut buf = Vec::new();
            group.bench_function(BenchmarkId::new(contender.name(), n), |b| {
                b.iter(|| {
                    contender
                        .encode_all(&data.rows, &mut buf)
                        .expect("every row encodes")
                });
            });
        }
        group.finish();
    }
}

fn decode(c: &mut Criterion, data: &Data) {
    let n = data.rows.len();
    for (group_name, rows_unit) in [("decode_mb", false), ("decode_rows", true)] {
        let mut group = c.benchmark_group(group_name);
        configure(&mut group);
        for (contender, encoded) in &data.encoded {
            group.throughput(if rows_unit {
                Throughput::Elements(wide(n))
            } else {
                Throughput::BytesDecimal(wide(encoded.total_bytes()))
            });
            group.bench_function(BenchmarkId::new(contender.name(), n), |b| {
                b.iter(|| contender.decode_all(encoded).expect("every record decodes"));
            });
        }
        group.finish();
    }
}

fn codecs(c: &mut Criterion) {
    let data = Data::new(size());
    encode(c, &data);
    decode(c, &data);
}

criterion_group!(benches, codecs);
criterion_main!(benches);
