//! Data and timed loops of the codec benchmarks: realistic rows, each contender's encode and
//! decode pass over them, and the pre-encoded records a decode pass reads.
//!
//! Both `benches/codec.rs` (criterion) and `benches/codec_ratio.rs` (same-run ratios) time
//! [`Contender::encode_all`] and [`Contender::decode_all`], so the two report on the same code.
//!
//! # The rows
//!
//! [`rows`] draws `n` rows from one fixed-seed [`SplitMix64`] stream ([`ROW_SEED`]); every row
//! has the same seven columns, of every common kind, and is about 150 bytes of JSON:
//!
//! | column    | value                                                             |
//! | --------- | ----------------------------------------------------------------- |
//! | `id`      | `Int`: the row number plus a million                              |
//! | `name`    | `Text`: a first and a last name, `"Mara Okafor"`                  |
//! | `email`   | `Text`: `"mara.okafor17@example.com"`                             |
//! | `score`   | `Float`: hundredths in `0.00..10000.00`; `Null` in one row in ten |
//! | `active`  | `Bool`: true for about three rows in four                         |
//! | `created` | `Timestamp`: a whole second in 2020..2026                         |
//! | `tags`    | `List` of zero to two short `Text` tags                           |

use std::error::Error;
use std::hint::black_box;

use tabula_codec::{Codec, Format};
use tabula_core::{Row, Timestamp, Value};

use crate::{SplitMix64, below};

/// The number of rows the codec benchmarks encode and decode.
pub const ROWS: usize = 100_000;

/// The seed of the row stream.
pub const ROW_SEED: u64 = 0xC0DE_C0DE_5EED_2024;

const FIRST: [&str; 16] = [
    "Ada", "Mara", "Kenji", "Lucia", "Omar", "Ingrid", "Tariq", "Noor", "Pavel", "Zoe", "Amara",
    "Linus", "Priya", "Mateo", "Freya", "Jonas",
];

const LAST: [&str; 16] = [
    "Lovelace", "Okafor", "Tanaka", "Rossi", "Haddad", "Berg", "Khan", "Nasser", "Novak", "Chen",
    "Diallo", "Larsen", "Iyer", "Garcia", "Holm", "Weber",
];

const DOMAINS: [&str; 4] = ["example.com", "mail.test", "corp.example", "inbox.test"];

const TAGS: [&str; 8] = [
    "admin", "beta", "vip", "trial", "staff", "eu", "us", "legacy",
];

/// 2020-01-01T00:00:00Z in seconds since the epoch.
const CREATED_FROM: i64 = 1_577_836_800;

/// Six years of seconds.
const CREATED_SPAN: u64 = 6 * 365 * 86_400;

/// One of `items`, picked by `rng`.
fn pick<'a>(rng: &mut SplitMix64, items: &[&'a str]) -> &'a str {
    let i = usize::try_from(below(rng, items.len() as u64)).unwrap_or(0);
    items.get(i).copied().unwrap_or("")
}

/// A number below `bound` as an `i64` (`bound` is small).
fn below_i64(rng: &mut SplitMix64, bound: u64) -> i64 {
    i64::try_from(below(rng, bound)).unwrap_or(0)
}

/// `n` realistic rows (see the module docs), the same for every call with the same `n`.
#[must_use]
pub fn rows(n: usize) -> Vec<Row> {
    let mut rng = SplitMix64::new(ROW_SEED);
    (0..n)
        .map(|i| {
            let first = pick(&mut rng, &FIRST);
            let last = pick(&mut rng, &LAST);
            let email = format!(
                "{}.{}{}@{}",
                first.to_ascii_lowercase(),
                last.to_ascii_lowercase(),
                below(&mut rng, 100),
                pick(&mut rng, &DOMAINS)
            );
            let tags = (0..below(&mut rng, 3))
                .map(|_| Value::Text(pick(&mut rng, &TAGS).to_owned()))
                .collect();
            #[expect(clippy::cast_precision_loss, reason = "below 10^6, exact in an f64")]
            let score = below(&mut rng, 1_000_000) as f64 / 100.0;
            let score = if below(&mut rng, 10) == 0 {
                Value::Null
            } else {
                Value::Float(score)
            };
            let created = CREATED_FROM + below_i64(&mut rng, CREATED_SPAN);
            let id = 1_000_000 + i64::try_from(i).unwrap_or(i64::MAX - 1_000_000);
            [
                ("id", Value::Int(id)),
                ("name", Value::Text(format!("{first} {last}"))),
                ("email", Value::Text(email)),
                ("score", score),
                ("active", Value::Bool(below(&mut rng, 4) != 0)),
                (
                    "created",
                    Value::Timestamp(Timestamp::from_micros(created * 1_000_000)),
                ),
                ("tags", Value::List(tags)),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect()
        })
        .collect()
}

/// The error of a pass: any contender's.
pub type PassError = Box<dyn Error + Send + Sync>;

/// Records encoded back to back, with where each one ends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Encoded {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Encoded {
    /// The number of records.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are no records.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The bytes of every record together.
    #[must_use]
    pub fn total_bytes(&self) -> usize {
        self.bytes.len()
    }

    /// Each record's bytes, in order.
    pub fn records(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(&self.ends)
            .map(|(start, &end)| self.bytes.get(start..end).unwrap_or_default())
    }
}

/// One contender of the codec benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contender {
    /// The baseline: `serde_json::to_vec` of each row (a new `Vec` per row) and
    /// `serde_json::from_slice` of each row's JSON, with no codec around them.
    SerdeJson,
    /// `tabula-codec`: `Codec::encode_into` one reused buffer (cleared between rows) and
    /// `Codec::decode::<Row>` of each row's bytes.
    Codec(Format),
}

impl Contender {
    /// The baseline first, then each codec.
    pub const ALL: [Contender; 4] = [
        Contender::SerdeJson,
        Contender::Codec(Format::Json),
        Contender::Codec(Format::MessagePack),
        Contender::Codec(Format::Bincode),
    ];

    /// The name in benchmark ids and reports: `serde_json`, or the codec's format name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Contender::SerdeJson => "serde_json",
            Contender::Codec(format) => format.name(),
        }
    }

    /// Encodes every row as the benchmarks time it and returns the bytes written. `buf` is the
    /// codec's reused buffer (the baseline allocates its own per row, as `to_vec` does).
    ///
    /// # Errors
    /// The first row that fails to encode.
    pub fn encode_all(self, rows: &[Row], buf: &mut Vec<u8>) -> Result<usize, PassError> {
        let mut total = 0;
        match self {
            Contender::SerdeJson => {
                for row in rows {
                    let bytes = serde_json::to_vec(row)?;
                    total += bytes.len();
                    black_box(bytes);
                }
            }
            Contender::Codec(format) => {
                let codec = Codec::new(format);
                for row in rows {
                    buf.clear();
                    codec.encode_into(row, buf)?;
                    total += buf.len();
                    black_box(&*buf);
                }
            }
        }
        Ok(total)
    }

    /// Decodes every record of `data` as the benchmarks time it, dropping each row before the
    /// next (as a streaming consumer does), and returns the number decoded.
    ///
    /// # Errors
    /// The first record that fails to decode.
    pub fn decode_all(self, data: &Encoded) -> Result<usize, PassError> {
        let mut count = 0;
        match self {
            Contender::SerdeJson => {
                for record in data.records() {
                    let row: Row = serde_json::from_slice(record)?;
                    black_box(row);
                    count += 1;
                }
            }
            Contender::Codec(format) => {
                let codec = Codec::new(format);
                for record in data.records() {
                    let row: Row = codec.decode(record)?;
                    black_box(row);
                    count += 1;
                }
            }
        }
        Ok(count)
    }

    /// Every row's encoding in this contender's format, untimed: the input of a decode pass.
    ///
    /// # Errors
    /// The first row that fails to encode.
    pub fn encode_records(self, rows: &[Row]) -> Result<Encoded, PassError> {
        let mut out = Encoded::default();
        for row in rows {
            match self {
                Contender::SerdeJson => serde_json::to_writer(&mut out.bytes, row)?,
                Contender::Codec(format) => Codec::new(format).encode_into(row, &mut out.bytes)?,
            }
            out.ends.push(out.bytes.len());
        }
        Ok(out)
    }

    /// Checks that every record of `data` decodes back to its row, so that a pass measures a
    /// working round trip.
    ///
    /// # Errors
    /// The first record that fails to decode, or differs from its row.
    pub fn check_round_trip(self, rows: &[Row], data: &Encoded) -> Result<(), PassError> {
        if data.len() != rows.len() {
            return Err(format!(
                "{}: {} records for {} rows",
                self.name(),
                data.len(),
                rows.len()
            )
            .into());
        }
        for (i, (record, row)) in data.records().zip(rows).enumerate() {
            let back: Row = match self {
                Contender::SerdeJson => serde_json::from_slice(record)?,
                Contender::Codec(format) => Codec::new(format).decode(record)?,
            };
            if back != *row {
                return Err(format!(
                    "{}: row {i} reads back as {back:?}, not {row:?}",
                    self.name()
                )
                .into());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn rows_are_stable_and_about_150_json_bytes() {
        let rows = rows(2_000);
        assert_eq!(rows, super::rows(2_000));
        let json = Contender::SerdeJson.encode_records(&rows).unwrap();
        let mean = json.total_bytes() / json.len();
        assert!(
            (130..=170).contains(&mean),
            "mean JSON bytes per row {mean}"
        );
    }

    #[test]
    fn every_contender_round_trips_and_json_is_serde_json() {
        let rows = rows(500);
        let baseline = Contender::SerdeJson.encode_records(&rows).unwrap();
        for contender in Contender::ALL {
            let data = contender.encode_records(&rows).unwrap();
            contender.check_round_trip(&rows, &data).unwrap();
            let mut buf = Vec::new();
            let bytes = contender.encode_all(&rows, &mut buf).unwrap();
            assert_eq!(bytes, data.total_bytes());
            assert_eq!(contender.decode_all(&data).unwrap(), rows.len());
            if contender == Contender::Codec(Format::Json) {
                assert_eq!(data, baseline);
            }
        }
    }
}
