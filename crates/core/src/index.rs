//! [`Index`]: the state of one secondary index, an ordered set of `(value, primary key)` pairs.
//!
//! One persistent ordered set per index, rather than a map of value → set of keys, keeps the
//! memory per entry small and the structure cheap to clone for readers. Every row has exactly one
//! entry per index; a missing field is indexed as `null` so that `is_null` can use the index.
//! Uniqueness ignores `null`, as SQL does.
//!
//! Both halves of an entry are [`StoredKey`]s, as the table's primary keys are: integers and text
//! of up to 24 bytes inline in the tree node (no heap block per entry, no pointer followed to
//! compare), anything else shared.

use std::ops::Bound;

use imbl::OrdSet;

use crate::key::StoredKey;
use crate::row::RowRef;
use crate::schema::IndexDef;
use crate::value::Value;

/// One secondary index and its entries.
#[derive(Debug, Clone)]
pub struct Index {
    def: IndexDef,
    entries: OrdSet<(StoredKey, StoredKey)>,
}

impl Index {
    /// An empty index.
    pub(crate) fn new(def: IndexDef) -> Self {
        Index {
            def,
            entries: OrdSet::new(),
        }
    }

    /// The definition.
    #[must_use]
    pub fn def(&self) -> &IndexDef {
        &self.def
    }

    /// Number of entries (equal to the number of rows in the table).
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the index has no entries.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes its entries hold: each `(value, key)` pair and what a value or key that is not
    /// inline owns on the heap.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.entries
            .iter()
            .map(|(v, k)| size_of::<(StoredKey, StoredKey)>() + v.heap_bytes() + k.heap_bytes())
            .sum()
    }

    /// The value this index keeps for `row`.
    pub(crate) fn value_of(&self, row: &RowRef) -> Value {
        self.def.path.lookup_or_null(row).into_owned()
    }

    /// For a unique index: the key of another row (not `key`) that already holds `row`'s value.
    pub(crate) fn conflict(&self, key: &StoredKey, row: &RowRef) -> Option<(Value, Value)> {
        if !self.def.unique {
            return None;
        }
        let value = self.value_of(row);
        if value.is_null() {
            return None;
        }
        let other = self.keys_eq(&value).find(|other| *other != key)?.to_value();
        Some((value, other))
    }

    pub(crate) fn insert(&mut self, key: &StoredKey, row: &RowRef) {
        self.entries
            .insert((StoredKey::new(self.value_of(row)), key.clone()));
    }

    pub(crate) fn remove(&mut self, key: &StoredKey, row: &RowRef) {
        self.entries
            .remove(&(StoredKey::new(self.value_of(row)), key.clone()));
    }

    /// Primary keys of rows whose indexed value equals `value`, in key order.
    pub(crate) fn keys_eq(&self, value: &Value) -> impl Iterator<Item = &StoredKey> + '_ {
        let value = StoredKey::probe(value);
        // `Null` is the smallest key, so (value, Null) is the first possible entry for `value`.
        self.entries
            .range((
                Bound::Included((value.clone(), StoredKey::Null)),
                Bound::Unbounded,
            ))
            .take_while(move |(v, _)| *v == value)
            .map(|(_, k)| k)
    }

    /// Entries with `low <= value <= high` (per the bounds), in value order.
    pub(crate) fn range(
        &self,
        low: Bound<&Value>,
        high: Bound<&Value>,
    ) -> impl Iterator<Item = &(StoredKey, StoredKey)> + '_ {
        let low = low.map(StoredKey::probe);
        let high = high.map(StoredKey::probe);
        let start = match &low {
            Bound::Included(v) | Bound::Excluded(v) => {
                Bound::Included((v.clone(), StoredKey::Null))
            }
            Bound::Unbounded => Bound::Unbounded,
        };
        self.entries
            .range((start, Bound::Unbounded))
            .skip_while(move |(v, _)| matches!(&low, Bound::Excluded(lo) if v == lo))
            .take_while(move |(v, _)| match &high {
                Bound::Included(hi) => v <= hi,
                Bound::Excluded(hi) => v < hi,
                Bound::Unbounded => true,
            })
    }
}
