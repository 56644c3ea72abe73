//! [`Hashed`]: a table's rows by hashed primary key, for point lookups in constant expected time,
//! in a persistent structure a reader copies in O(1).
//!
//! Linear hashing (Litwin, 1980) over a persistent vector of buckets: each bucket is one shared
//! block of `(hash, row)` entries, and the table grows one bucket at a time: when the entries pass
//! [`LOAD`] per bucket, the bucket at the split pointer is divided between itself and a new one at
//! the end, by one more bit of the hash. No insert ever rehashes the whole table (no latency
//! spike, unlike a doubling hash map), and a write copies one bucket and the vector's path to it.
//!
//! It replaced an `imbl::HashMap`, whose trie nodes hold 32 fixed slots whatever their fill: at
//! 1M rows its bottom levels are nodes of two or three entries in 2 KiB, ~370 resident bytes per
//! row, more than the row itself. Here an entry is 32 bytes and a bucket adds ~5 bytes per row.
//!
//! The key is not stored: rows keep their key in front of their packed bytes, so a lookup
//! compares the hash, then the key in the row ([`RowRef::key_view`](crate::row::RowRef)). Order
//! never leaves this structure: only lookups use it.

use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

use imbl::Vector;

use crate::row::RowRef;

/// The entries per bucket at which a bucket splits.
const LOAD: usize = 8;

#[derive(Clone)]
struct Entry {
    hash: u64,
    row: RowRef,
}

type Bucket = Arc<[Entry]>;

/// The rows of a table by hashed key (see the module docs).
#[derive(Clone)]
pub(crate) struct Hashed {
    buckets: Vector<Bucket>,
    /// The buckets at the start of this round of splits (a power of two).
    round: usize,
    /// The next bucket to split.
    split: usize,
    len: usize,
    hasher: RandomState,
}

impl Hashed {
    pub(crate) fn new() -> Hashed {
        Hashed {
            buckets: Vector::unit(Arc::from(Vec::new())),
            round: 1,
            split: 0,
            len: 0,
            hasher: RandomState::new(),
        }
    }

    /// The hash of `key` in this table (keys that are equal hash alike).
    pub(crate) fn hash_of(&self, key: &impl std::hash::Hash) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The bucket of `hash`.
    fn bucket_of(&self, hash: u64) -> usize {
        // The low bits pick the bucket; `round` is a power of two and fits a u64.
        let mask = self.round as u64 - 1;
        let index = usize::try_from(hash & mask).unwrap_or(0);
        if index < self.split {
            usize::try_from(hash & (mask << 1 | 1)).unwrap_or(index)
        } else {
            index
        }
    }

    /// The row with `hash` that `is_key` accepts.
    pub(crate) fn get(&self, hash: u64, is_key: impl Fn(&RowRef) -> bool) -> Option<&RowRef> {
        let bucket = self.buckets.get(self.bucket_of(hash))?;
        bucket
            .iter()
            .find(|e| e.hash == hash && is_key(&e.row))
            .map(|e| &e.row)
    }

    /// Puts `row` under `hash`, replacing the row `is_key` accepts; returns the row replaced.
    pub(crate) fn insert(
        &mut self,
        hash: u64,
        row: RowRef,
        is_key: impl Fn(&RowRef) -> bool,
    ) -> Option<RowRef> {
        let index = self.bucket_of(hash);
        let bucket = self.buckets.get_mut(index)?;
        let at = bucket.iter().position(|e| e.hash == hash && is_key(&e.row));
        // A new bucket is allocated once, at its size (the iterators have exact lengths): a
        // profile of 1,000-row inserts showed the copy through a `Vec` and back, two allocations
        // and a second copy of every entry, as a share of the write path.
        let old = match at {
            Some(at) => {
                // Replaced in place, in a copy of the bucket if another copy of the table
                // shares it.
                if Arc::get_mut(bucket).is_none() {
                    *bucket = bucket.iter().cloned().collect();
                }
                let entry = Arc::get_mut(bucket).and_then(|entries| entries.get_mut(at));
                entry.map(|entry| std::mem::replace(&mut entry.row, row))
            }
            None => {
                *bucket = bucket
                    .iter()
                    .cloned()
                    .chain(std::iter::once(Entry { hash, row }))
                    .collect();
                None
            }
        };
        if old.is_none() {
            self.len += 1;
            if self.len > LOAD * self.buckets.len() {
                self.split_one();
            }
        }
        old
    }

    /// Removes the row with `hash` that `is_key` accepts; returns it.
    pub(crate) fn remove(&mut self, hash: u64, is_key: impl Fn(&RowRef) -> bool) -> Option<RowRef> {
        let index = self.bucket_of(hash);
        let bucket = self.buckets.get_mut(index)?;
        let at = bucket
            .iter()
            .position(|e| e.hash == hash && is_key(&e.row))?;
        let mut entries = bucket.to_vec();
        let old = entries.swap_remove(at);
        *bucket = Arc::from(entries);
        self.len -= 1;
        Some(old.row)
    }

    /// Divides the bucket at the split pointer by the next bit of the hash, the upper half going
    /// to a new bucket at the end.
    fn split_one(&mut self) {
        let Some(bucket) = self.buckets.get_mut(self.split) else {
            return;
        };
        let bit = self.round as u64;
        let (high, low): (Vec<Entry>, Vec<Entry>) =
            bucket.iter().cloned().partition(|e| e.hash & bit != 0);
        *bucket = Arc::from(low);
        self.buckets.push_back(Arc::from(high));
        self.split += 1;
        if self.split == self.round {
            self.round *= 2;
            self.split = 0;
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Bytes its blocks hold: the bucket pointers and each bucket's counts and entries.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.buckets
            .iter()
            .map(|b| size_of::<Bucket>() + 2 * size_of::<usize>() + size_of_val(&**b))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::value::{Row, Value};

    fn row(key: i64, version: i64) -> RowRef {
        RowRef::from(Row::from([
            ("k".to_owned(), Value::Int(key)),
            ("v".to_owned(), Value::Int(version)),
        ]))
    }

    fn key_of(row: &RowRef) -> Option<Value> {
        row.get("k")
    }

    #[derive(Debug, Clone)]
    enum Step {
        Put(i64, i64),
        Remove(i64),
    }

    proptest! {
        /// The hashed rows agree with a model map through any inserts, replacements and removes,
        /// and an earlier copy keeps what it held.
        #[test]
        fn hashed_rows_agree_with_a_map(
            steps in proptest::collection::vec(
                prop_oneof![
                    (0i64..300, any::<i64>()).prop_map(|(k, v)| Step::Put(k, v)),
                    (0i64..300).prop_map(Step::Remove),
                ],
                0..600,
            )
        ) {
            let mut hashed = Hashed::new();
            let mut model = std::collections::BTreeMap::new();
            let mut copies = Vec::new();
            for (i, step) in steps.iter().enumerate() {
                match *step {
                    Step::Put(k, v) => {
                        let hash = hashed.hash_of(&k);
                        let is_key = |r: &RowRef| key_of(r) == Some(Value::Int(k));
                        let old = hashed.insert(hash, row(k, v), is_key);
                        let model_old = model.insert(k, v);
                        prop_assert_eq!(old.and_then(|r| r.get("v")), model_old.map(Value::Int));
                    }
                    Step::Remove(k) => {
                        let hash = hashed.hash_of(&k);
                        let old = hashed.remove(hash, |r| key_of(r) == Some(Value::Int(k)));
                        prop_assert_eq!(old.and_then(|r| r.get("v")), model.remove(&k).map(Value::Int));
                    }
                }
                if i % 97 == 0 {
                    copies.push((hashed.clone(), model.clone()));
                }
            }
            copies.push((hashed, model));
            for (hashed, model) in &copies {
                prop_assert_eq!(hashed.len(), model.len());
                for k in 0i64..300 {
                    let found = hashed
                        .get(hashed.hash_of(&k), |r| key_of(r) == Some(Value::Int(k)))
                        .and_then(|r| r.get("v"));
                    prop_assert_eq!(found, model.get(&k).copied().map(Value::Int));
                }
            }
        }
    }
}
