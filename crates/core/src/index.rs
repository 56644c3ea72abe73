//! [`Index`]: the state of one secondary index, an ordered set of `(value, primary key)` pairs.
//!
//! One persistent ordered set per index, rather than a map of value → set of keys, keeps the
//! memory per entry small and the structure cheap to clone for readers. Every row has exactly one
//! entry per index; a missing field is indexed as `null` so that `is_null` can use the index.
//! Uniqueness ignores `null`, as SQL does.

use std::ops::Bound;

use imbl::OrdSet;

use crate::row::RowRef;
use crate::schema::IndexDef;
use crate::value::Value;

/// One secondary index and its entries.
#[derive(Debug, Clone)]
pub struct Index {
    def: IndexDef,
    entries: OrdSet<(Value, Value)>,
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

    /// The value this index keeps for `row`.
    /// Bytes its entries hold: each `(value, key)` pair and what its values own on the heap.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.entries
            .iter()
            .map(|(v, k)| size_of::<(Value, Value)>() + v.heap_bytes() + k.heap_bytes())
            .sum()
    }

    pub(crate) fn value_of(&self, row: &RowRef) -> Value {
        self.def.path.lookup_or_null(row).into_owned()
    }

    /// For a unique index: the key of another row (not `key`) that already holds `row`'s value.
    pub(crate) fn conflict(&self, key: &Value, row: &RowRef) -> Option<(Value, Value)> {
        if !self.def.unique {
            return None;
        }
        let value = self.value_of(row);
        if value.is_null() {
            return None;
        }
        let other = self.keys_eq(&value).find(|other| *other != key)?.clone();
        Some((value, other))
    }

    pub(crate) fn insert(&mut self, key: &Value, row: &RowRef) {
        self.entries.insert((self.value_of(row), key.clone()));
    }

    pub(crate) fn remove(&mut self, key: &Value, row: &RowRef) {
        // Entries are compared by value, so looking up needs an owned pair; the clone of the key is
        // the price of the tuple layout.
        self.entries.remove(&(self.value_of(row), key.clone()));
    }

    /// Primary keys of rows whose indexed value equals `value`, in key order.
    pub(crate) fn keys_eq<'a>(&'a self, value: &'a Value) -> impl Iterator<Item = &'a Value> + 'a {
        // `Null` is the smallest value, so (value, Null) is the first possible entry for `value`.
        self.entries
            .range((
                Bound::Included((value.clone(), Value::Null)),
                Bound::Unbounded,
            ))
            .take_while(move |(v, _)| v == value)
            .map(|(_, k)| k)
    }

    /// Entries with `low <= value <= high` (per the bounds), in value order.
    pub(crate) fn range<'a>(
        &'a self,
        low: Bound<&'a Value>,
        high: Bound<&'a Value>,
    ) -> impl Iterator<Item = &'a (Value, Value)> + 'a {
        let start = match low {
            Bound::Included(v) | Bound::Excluded(v) => Bound::Included((v.clone(), Value::Null)),
            Bound::Unbounded => Bound::Unbounded,
        };
        self.entries
            .range((start, Bound::Unbounded))
            .skip_while(move |(v, _)| matches!(low, Bound::Excluded(lo) if v == lo))
            .take_while(move |(v, _)| match high {
                Bound::Included(hi) => v <= hi,
                Bound::Excluded(hi) => v < hi,
                Bound::Unbounded => true,
            })
    }
}
