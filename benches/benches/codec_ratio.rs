//! The same-run ratio of each `tabula-codec` format to raw `serde_json`, for encode and decode.
//!
//! Criterion reports each benchmark on its own and never divides one by another, and a ratio of
//! numbers from different runs means little. So this binary times every contender of
//! `benches/codec.rs` in one process, on the same [`codec::ROWS`] rows, interleaved repetition by
//! repetition so that drift hits them alike, keeps the best repetition of each (the one least
//! disturbed), and prints lines like
//!
//! ```text
//! encode bincode: 1234 MB/s, 9876543 rows/s, 6.10x serde_json (aim >= 5x): MET
//! ```
//!
//! MB/s counts each contender's own bytes (10^6 bytes per MB); the ratio is of rows per second,
//! that is of the time of a pass over the same rows. The aims are the brief's: bincode encode
//! at least 5x and MessagePack encode at least 2x faster than `serde_json`; the other lines
//! carry no aim.
//!
//! A `breakdown` line after each pass names floors that split a codec's time into its causes:
//! for encode, `serde_json::to_writer` into a reused buffer (the baseline without its per-row
//! allocation), `rmp_serde::encode::write_named` alone (MessagePack without the codec's depth
//! check), `Measure::of_row` alone (that depth check) and a pass that only reads every row (the
//! memory floor: 100k rows do not fit in the caches, and every contender pays for bringing each
//! row in); for decode, `rmp_serde::from_slice` alone (MessagePack without the codec's structural
//! pre-pass and depth check).
//!
//! Arguments, as `cargo bench` passes them (see [`RatioArgs`]): a positional filter runs only the
//! passes whose id (`ratio/codec_encode/100000`, `ratio/codec_decode/100000`) contains it,
//! `--quick` takes fewer repetitions, `--list` lists the ids, and a run without `--bench`
//! (`cargo test --benches`) is a smoke test at a small size.

// Bench code: a failed setup must stop the run loudly, and printing the ratios is the point of
// the binary.
#![allow(clippy::expect_used, clippy::print_stdout)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use tabula_benches::codec::{self, Contender, Encoded};
use tabula_benches::{RatioArgs, SMOKE_SIZE, is_test_run};
use tabula_codec::{CodecLimits, Format};
use tabula_core::{Measure, Row, Value};

/// The aims the brief sets, as `(format, at least this many times serde_json's rows/s)`.
const ENCODE_AIMS: [(Format, f64); 2] = [(Format::Bincode, 5.0), (Format::MessagePack, 2.0)];

/// One contender of a timed pass: its name, its output bytes per pass, and a function that
/// runs one repetition and returns its time.
struct Timed<'a> {
    name: &'static str,
    bytes: usize,
    once: Box<dyn FnMut() -> Duration + 'a>,
}

/// Times one call of `f`.
fn time<T>(f: impl FnOnce() -> T) -> Duration {
    let start = Instant::now();
    black_box(f());
    start.elapsed()
}

/// Runs every contender `reps` times, interleaved, and returns each one's best time.
fn best_of(contenders: &mut [Timed<'_>], reps: usize) -> Vec<Duration> {
    let mut best = vec![Duration::MAX; contenders.len()];
    for _ in 0..reps {
        for (c, best) in contenders.iter_mut().zip(&mut best) {
            *best = (*best).min((c.once)());
        }
    }
    best
}

/// MB/s (10^6 bytes) and rows/s of a pass of `n` rows over `bytes` bytes.
fn rates(bytes: usize, n: usize, d: Duration) -> (f64, f64) {
    let secs = d.as_secs_f64().max(f64::MIN_POSITIVE);
    (bytes as f64 / secs / 1e6, n as f64 / secs)
}

/// Prints the line of every contender of [`Contender::ALL`] (they come first in `timed`), then a
/// breakdown line of the floors after them.
fn report(kind: &str, n: usize, timed: &[Timed<'_>], times: &[Duration], aims: &[(Format, f64)]) {
    let baseline = times.first().copied().unwrap_or(Duration::MAX);
    for (contender, (t, d)) in Contender::ALL.iter().zip(timed.iter().zip(times)) {
        let (mb, rows) = rates(t.bytes, n, *d);
        let line = format!("{kind} {}: {mb:.0} MB/s, {rows:.0} rows/s", t.name);
        let Contender::Codec(format) = contender else {
            println!("{line} (baseline, N={n})");
            continue;
        };
        let ratio = baseline.as_secs_f64() / d.as_secs_f64().max(f64::MIN_POSITIVE);
        match aims.iter().find(|(f, _)| f == format) {
            Some((_, aim)) => {
                let word = if ratio >= *aim { "MET" } else { "NOT MET" };
                println!("{line}, {ratio:.2}x serde_json (aim >= {aim}x): {word}");
            }
            None => println!("{line}, {ratio:.2}x serde_json (no aim)"),
        }
    }
    let floors: Vec<String> = timed
        .iter()
        .zip(times)
        .skip(Contender::ALL.len())
        .map(|(t, d)| {
            let ns = d.as_secs_f64() * 1e9 / n.max(1) as f64;
            format!("{} {ns:.0}", t.name)
        })
        .collect();
    let all: Vec<String> = timed
        .iter()
        .zip(times)
        .take(Contender::ALL.len())
        .map(|(t, d)| format!("{} {:.0}", t.name, d.as_secs_f64() * 1e9 / n.max(1) as f64))
        .collect();
    println!(
        "       {kind} breakdown (ns/row): {} || {}",
        all.join(" | "),
        floors.join(" | ")
    );
}

/// The contenders of [`Contender::ALL`], timed on `rows`.
fn contenders<'a>(rows: &'a [Row], encoded: &'a [(Contender, Encoded)]) -> Vec<Timed<'a>> {
    encoded
        .iter()
        .map(|(contender, data)| {
            let mut buf = Vec::new();
            Timed {
                name: contender.name(),
                bytes: data.total_bytes(),
                once: Box::new(move || {
                    time(|| {
                        contender
                            .encode_all(rows, &mut buf)
                            .expect("every row encodes")
                    })
                }),
            }
        })
        .collect()
}

/// Reads what every encoder must read of `row` (each field name's and text's length and first
/// byte, each scalar, each list item) and nothing else: the cost of bringing the row in from
/// memory, which at [`codec::ROWS`] rows no longer fits in the caches.
fn touch(row: &Row) -> usize {
    fn text(t: &str) -> usize {
        t.len() + usize::from(t.as_bytes().first().copied().unwrap_or(0))
    }
    fn value(v: &Value) -> usize {
        match v {
            Value::Text(t) => text(t),
            Value::List(items) => items.iter().map(value).sum(),
            Value::Int(n) => usize::from(*n > 0),
            other => usize::from(matches!(other, Value::Null)),
        }
    }
    row.iter().map(|(k, v)| text(k) + value(v)).sum()
}

fn encode(rows: &[Row], encoded: &[(Contender, Encoded)], reps: usize) {
    let n = rows.len();
    let bytes_of = |c: Contender| {
        encoded
            .iter()
            .find(|(e, _)| *e == c)
            .map_or(0, |(_, d)| d.total_bytes())
    };
    let mut timed = contenders(rows, encoded);
    let mut json_buf = Vec::new();
    let mut rmp_buf = Vec::new();
    timed.extend([
        Timed {
            name: "serde_json::to_writer(reused buf)",
            bytes: bytes_of(Contender::SerdeJson),
            once: Box::new(move || {
                time(|| {
                    for row in rows {
                        json_buf.clear();
                        serde_json::to_writer(&mut json_buf, row).expect("every row encodes");
                        black_box(&json_buf);
                    }
                })
            }),
        },
        Timed {
            name: "rmp_serde::write_named(reused buf)",
            bytes: bytes_of(Contender::Codec(Format::MessagePack)),
            once: Box::new(move || {
                time(|| {
                    for row in rows {
                        rmp_buf.clear();
                        rmp_serde::encode::write_named(&mut rmp_buf, row)
                            .expect("every row encodes");
                        black_box(&rmp_buf);
                    }
                })
            }),
        },
        Timed {
            name: "read every row (memory floor)",
            bytes: 0,
            once: Box::new(move || time(|| rows.iter().map(touch).sum::<usize>())),
        },
        Timed {
            name: "Measure::of_row",
            bytes: 0,
            once: Box::new(move || {
                let max_depth = CodecLimits::default().max_depth;
                time(|| {
                    for row in rows {
                        black_box(Measure::of_row(black_box(row), max_depth));
                    }
                })
            }),
        },
    ]);
    // One untimed pass first, so that no contender pays alone for warming the allocator.
    best_of(&mut timed, 1);
    let times = best_of(&mut timed, reps);
    report("encode", n, &timed, &times, &ENCODE_AIMS);
}

fn decode(encoded: &[(Contender, Encoded)], reps: usize) {
    let n = encoded.first().map_or(0, |(_, d)| d.len());
    let mut timed: Vec<Timed<'_>> = encoded
        .iter()
        .map(|(contender, data)| Timed {
            name: contender.name(),
            bytes: data.total_bytes(),
            once: Box::new(move || {
                time(|| contender.decode_all(data).expect("every record decodes"))
            }),
        })
        .collect();
    if let Some((_, msgpack)) = encoded
        .iter()
        .find(|(c, _)| *c == Contender::Codec(Format::MessagePack))
    {
        timed.push(Timed {
            name: "rmp_serde::from_slice",
            bytes: msgpack.total_bytes(),
            once: Box::new(move || {
                time(|| {
                    for record in msgpack.records() {
                        let row: Row = rmp_serde::from_slice(record).expect("every record decodes");
                        black_box(row);
                    }
                })
            }),
        });
    }
    best_of(&mut timed, 1);
    let times = best_of(&mut timed, reps);
    report("decode", n, &timed, &times, &[]);
}

fn main() {
    let args = RatioArgs::parse();
    let test_run = is_test_run();
    let n = if test_run { SMOKE_SIZE } else { codec::ROWS };
    let encode_id = format!("ratio/codec_encode/{n}");
    let decode_id = format!("ratio/codec_decode/{n}");
    if args.list {
        println!("{encode_id}: benchmark");
        println!("{decode_id}: benchmark");
        return;
    }
    let (want_encode, want_decode) = (args.wants(&encode_id), args.wants(&decode_id));
    if !want_encode && !want_decode {
        return;
    }
    let reps = match (test_run, args.quick) {
        (true, _) => 1,
        (false, true) => 3,
        (false, false) => 9,
    };
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
    if let Some((_, json)) = encoded.first() {
        println!(
            "codec rows N={n}: {:.1} JSON bytes/row on average (serde_json::to_vec)",
            json.total_bytes() as f64 / n.max(1) as f64
        );
    }
    if want_encode {
        encode(&rows, &encoded, reps);
    }
    if want_decode {
        decode(&encoded, reps);
    }
}
