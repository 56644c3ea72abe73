//! The data every contender is fed: 24-byte keys and ~150-byte rows drawn from one fixed seed, so
//! that tabula, the peers and the physical-limit loops store and read exactly the same bytes in
//! the same order.
//!
//! Row `i` has the key [`key`]`(i)`: `"key:"` and 20 digits of a bijective scramble of `i`, so keys
//! are distinct, exactly 24 bytes, and land all over the key space (as hashed or externally
//! assigned ids do; a sequential load would only ever append). Its fields are [`Fields`]; a
//! key-value peer stores them as their JSON text ([`value`], ~150 bytes), which is what an
//! application reaching for a key-value store would write, and tabula stores them as a row
//! ([`row`]) whose primary key is the `k` column.

use serde::Serialize;
use tabula_core::{Row, Timestamp, Value};

/// The seed of every stream: change it and every contender sees the new data alike.
pub const SEED: u64 = 0x7AB0_1A00_5EED_2025;

/// The table every workload uses, and its primary-key column.
pub const TABLE: &str = "rows";
/// The primary-key column of [`TABLE`].
pub const KEY_COLUMN: &str = "k";

/// Length of every key in bytes.
pub const KEY_LEN: usize = 24;

/// `i` scattered by splitmix64's finalizer (the workspace's one copy, in `tabula-storage`)
/// after the seed and the golden-ratio multiply: a bijection on `u64`, so distinct inputs give
/// distinct keys.
#[must_use]
pub fn mix(i: u64) -> u64 {
    tabula_storage::mix64(
        i.wrapping_add(SEED)
            .wrapping_mul(tabula_storage::GOLDEN_GAMMA),
    )
}

/// The key of row `i`: `key:` and 20 zero-padded digits (24 bytes).
#[must_use]
pub fn key(i: usize) -> String {
    format!("key:{:020}", mix(i as u64))
}

/// The fields of row `i` besides its key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fields {
    /// A short name.
    pub name: String,
    /// An email address.
    pub email: String,
    /// A score in `0..100`.
    pub score: f64,
    /// A flag.
    pub active: bool,
    /// Microseconds since the epoch.
    pub created: i64,
    /// A city.
    pub city: String,
    /// Two tags.
    pub tags: [&'static str; 2],
}

const CITIES: [&str; 8] = [
    "Lisbon", "Nairobi", "Osaka", "Quito", "Tallinn", "Hobart", "Recife", "Windhoek",
];

/// The fields of row `i`.
#[must_use]
pub fn fields(i: usize) -> Fields {
    let r = mix(i as u64 ^ 0x5555);
    Fields {
        name: format!("user-{i:08}-name"),
        email: format!("user{i:08}@example.com"),
        score: (r % 10_000) as f64 / 100.0,
        active: r.is_multiple_of(3),
        created: 1_700_000_000_000_000 + (r % 1_000_000_000) as i64,
        city: CITIES
            .get((r % CITIES.len() as u64) as usize)
            .copied()
            .unwrap_or("Lisbon")
            .to_owned(),
        tags: ["alpha", "beta"],
    }
}

/// Row `i` as a key-value peer stores it: the JSON text of [`fields`] (~150 bytes).
#[must_use]
pub fn value(i: usize) -> Vec<u8> {
    // Serializing a struct of strings, numbers and a bool to a Vec cannot fail.
    serde_json::to_vec(&fields(i)).unwrap_or_default()
}

/// Row `i` as tabula stores it: the key in `k`, then the fields.
#[must_use]
pub fn row(i: usize) -> Row {
    let f = fields(i);
    Row::from([
        (KEY_COLUMN.to_owned(), Value::Text(key(i))),
        ("name".to_owned(), Value::Text(f.name)),
        ("email".to_owned(), Value::Text(f.email)),
        ("score".to_owned(), Value::Float(f.score)),
        ("active".to_owned(), Value::Bool(f.active)),
        (
            "created".to_owned(),
            Value::Timestamp(Timestamp::from_micros(f.created)),
        ),
        ("city".to_owned(), Value::Text(f.city)),
        (
            "tags".to_owned(),
            Value::List(
                f.tags
                    .iter()
                    .map(|t| Value::Text((*t).to_owned()))
                    .collect(),
            ),
        ),
    ])
}

/// A fixed-seed xorshift stream of row numbers below `n`: the probe order of the read workloads.
#[derive(Debug, Clone)]
pub struct Probes {
    state: u64,
    n: u64,
}

impl Probes {
    /// Probes of rows `0..n` (an empty stream when `n` is 0).
    #[must_use]
    pub fn new(n: usize) -> Probes {
        Probes {
            state: SEED | 1,
            n: n as u64,
        }
    }
}

impl Iterator for Probes {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        if self.n == 0 {
            return None;
        }
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        Some((self.state % self.n) as usize)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code")]

    use super::*;

    #[test]
    fn keys_are_24_bytes_and_distinct() {
        let keys: std::collections::HashSet<String> = (0..10_000).map(key).collect();
        assert_eq!(keys.len(), 10_000);
        assert!(keys.iter().all(|k| k.len() == KEY_LEN));
    }

    #[test]
    fn values_are_about_150_bytes() {
        for i in [0, 1, 999, 123_456, 999_999] {
            let len = value(i).len();
            assert!((130..=170).contains(&len), "row {i}: {len} bytes");
        }
    }

    #[test]
    fn rows_carry_the_key_and_every_field() {
        let row = row(7);
        assert_eq!(row[KEY_COLUMN], Value::Text(key(7)));
        assert_eq!(row.len(), 8);
    }

    #[test]
    fn probes_stay_below_n_and_repeat() {
        let a: Vec<usize> = Probes::new(1_000).take(100).collect();
        assert!(a.iter().all(|&i| i < 1_000));
        assert_eq!(a, Probes::new(1_000).take(100).collect::<Vec<_>>());
        assert_eq!(Probes::new(0).next(), None);
    }
}
