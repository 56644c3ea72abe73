//! [`TableState`]: rows by primary key plus their secondary indexes, kept in step on every write.
//!
//! Each write method checks everything first (schema, key, uniqueness, limits) and only then
//! changes the table, so a failing op leaves the table as it was. Undoing *successful* ops of a
//! failed transaction is `State`'s job, through [`TableState::restore`].
//!
//! All maps are `imbl` persistent maps: cloning a table is O(number of indexes), shares every row,
//! and a writer that owns the only copy mutates in place.

use std::borrow::Cow;
use std::sync::Arc;

use imbl::OrdMap;

use crate::error::Error;
use crate::hashed::Hashed;
use crate::index::Index;
use crate::key::StoredKey;
use crate::limits::Limits;
use crate::row::{Names, RowRef};
use crate::schema::{IndexDef, TableDef};
use crate::value::{Measure, Row, Value};

/// The bytes a table's structures hold in memory, measured by walking them ([`TableState::memory`]):
/// every block's contents are counted; what the allocator adds to each block, and the unused
/// slots of the ordered map's tree nodes, are not (the benchmarks' resident figure per row is
/// about 30% above `total / rows` for that reason, measured at 1M bench rows).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TableMemory {
    /// The packed rows.
    pub rows: usize,
    /// The two key maps: the ordered map's entries and the keys stored out of line, and the
    /// hashed map's buckets.
    pub keys: usize,
    /// The secondary indexes' entries and the values they own.
    pub indexes: usize,
}

impl TableMemory {
    /// All of it.
    #[must_use]
    pub fn total(&self) -> usize {
        self.rows + self.keys + self.indexes
    }
}

/// One row's change, as reported by [`crate::State::apply`]: the key and the row before and
/// after (`None` where the row did not or no longer exists).
#[derive(Debug, Clone, PartialEq)]
pub struct RowChange {
    /// The table (shared, so that reporting a change does not copy its name).
    pub table: Arc<str>,
    /// The primary key.
    pub key: Value,
    /// The row before the change.
    pub before: Option<RowRef>,
    /// The row after the change.
    pub after: Option<RowRef>,
}

/// One row that differs between two tables, from [`TableState::diff`].
#[derive(Debug, Clone, PartialEq)]
pub enum RowDiff<'a> {
    /// The row is only in the second table.
    Added {
        /// Its key.
        key: Value,
        /// The row.
        row: &'a RowRef,
    },
    /// The row is only in the first table.
    Removed {
        /// Its key.
        key: Value,
        /// The row.
        row: &'a RowRef,
    },
    /// The key is in both, with different rows.
    Changed {
        /// Its key.
        key: Value,
        /// The row in the first table.
        before: &'a RowRef,
        /// The row in the second table.
        after: &'a RowRef,
    },
}

/// A table: its definition, its rows by primary key, and its indexes.
#[derive(Clone)]
pub struct TableState {
    def: Arc<TableDef>,
    /// The name again, shared, for change reports and undo entries on the write path.
    name: Arc<str>,
    /// The dictionary of field names its rows are packed against.
    names: Arc<Names>,
    rows: OrdMap<StoredKey, RowRef>,
    /// The same rows by hashed key, for point lookups in (near) constant time: persistent, so
    /// a copy of the table stays O(1). Only looked up, never iterated, so hash order never
    /// reaches a result; std's keyed SipHash, because keys come from users.
    by_key: Hashed,
    indexes: Vec<Index>,
    /// The next auto-increment key: one past the largest integral key ever stored (an `Int`, or
    /// a `Float` equal to one), so keys are never reused after a delete (SQLite's
    /// `AUTOINCREMENT`). `None` once `i64::MAX` has been stored: there is no next key, ever.
    next_auto: Option<i64>,
}

impl TableState {
    /// An empty table for an already validated definition.
    pub(crate) fn new(def: TableDef) -> Self {
        let indexes = def.all_indexes().into_iter().map(Index::new).collect();
        TableState {
            name: Arc::from(def.name.as_str()),
            names: Arc::new(Names::keyed(&def.primary_key)),
            def: Arc::new(def),
            rows: OrdMap::new(),
            by_key: Hashed::new(),
            indexes,
            next_auto: Some(1),
        }
    }

    /// The definition.
    #[must_use]
    pub fn def(&self) -> &TableDef {
        &self.def
    }

    /// The table name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The table name, shared.
    pub(crate) fn shared_name(&self) -> &Arc<str> {
        &self.name
    }

    /// Number of rows.
    #[must_use]
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table has no rows.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The row with primary key `key`.
    #[must_use]
    pub fn get(&self, key: &Value) -> Option<&RowRef> {
        self.find(&StoredKey::probe(key))
    }

    /// The row stored under `key`, through the hashed rows.
    pub(crate) fn find(&self, key: &StoredKey) -> Option<&RowRef> {
        self.by_key
            .get(self.by_key.hash_of(key), |row| key.is_key_of(row))
    }

    /// All rows in primary key order, with their keys.
    pub fn iter(&self) -> impl Iterator<Item = (Value, &RowRef)> + '_ {
        self.rows.iter().map(|(key, row)| (key.to_value(), row))
    }

    /// All rows in primary key order.
    pub fn rows(&self) -> impl Iterator<Item = &RowRef> + '_ {
        self.rows.values()
    }

    /// The dictionary of field names the rows are packed against.
    #[must_use]
    pub fn names(&self) -> &Names {
        &self.names
    }

    /// The bytes its structures hold, measured by walking every row, bucket and index entry
    /// (so O(rows)); see [`TableMemory`].
    #[must_use]
    pub fn memory(&self) -> TableMemory {
        let rows = self.rows.values().map(RowRef::heap_size).sum();
        let ordered: usize = self
            .rows
            .keys()
            .map(|key| size_of::<(StoredKey, RowRef)>() + key.heap_bytes())
            .sum();
        TableMemory {
            rows,
            keys: ordered + self.by_key.heap_bytes(),
            indexes: self.indexes.iter().map(Index::heap_bytes).sum(),
        }
    }

    /// The indexes, declared ones first, then those of unique columns.
    #[must_use]
    pub fn indexes(&self) -> &[Index] {
        &self.indexes
    }

    /// The key the next auto-increment insert would get; `None` once the key space is used up.
    #[must_use]
    pub fn next_auto_increment(&self) -> Option<i64> {
        self.next_auto
    }

    /// The rows that differ from this table in `other`, in key order: what to add, change and
    /// remove here to get `other`'s rows. Subtrees the two tables share (one is an earlier copy of
    /// the other) are skipped without being visited, so two versions of a large table that differ
    /// in a few rows compare in time proportional to the difference, not the size.
    pub fn diff<'a>(&'a self, other: &'a TableState) -> impl Iterator<Item = RowDiff<'a>> + 'a {
        self.rows.diff(&other.rows).map(|item| match item {
            imbl::ordmap::DiffItem::Add(key, row) => RowDiff::Added {
                key: key.to_value(),
                row,
            },
            imbl::ordmap::DiffItem::Remove(key, row) => RowDiff::Removed {
                key: key.to_value(),
                row,
            },
            imbl::ordmap::DiffItem::Update {
                old: (key, before),
                new: (_, after),
            } => RowDiff::Changed {
                key: key.to_value(),
                before,
                after,
            },
        })
    }

    /// The rows whose keys are in `range`, in key order, for the query planner's range scans.
    pub(crate) fn rows_in(
        &self,
        range: (std::ops::Bound<Value>, std::ops::Bound<Value>),
    ) -> impl Iterator<Item = &RowRef> + '_ {
        let probe = |bound: std::ops::Bound<Value>| bound.map(|key| StoredKey::probe(&key));
        self.rows
            .range((probe(range.0), probe(range.1)))
            .map(|(_, row)| row)
    }

    /// Inserts a new row; fails if its key exists.
    pub(crate) fn insert(
        &mut self,
        row: Cow<'_, Row>,
        limits: &Limits,
    ) -> Result<RowChange, Error> {
        let (key, row) = self.prepare(row, limits)?;
        let table = self.def.name.clone();
        let duplicate = |key: Value| Error::DuplicateKey { table, key };
        if let Err(e) = self.check_unique(&key, &row) {
            // A taken key is the first thing wrong with a row, whatever else is.
            return Err(if self.find(&StoredKey::probe(&key)).is_some() {
                duplicate(key)
            } else {
                e
            });
        }
        let stored = StoredKey::new(key.clone());
        if self.find(&stored).is_some() {
            return Err(duplicate(key));
        }
        let hash = self.by_key.hash_of(&stored);
        self.by_key.insert(hash, row.clone(), |_| false);
        for index in &mut self.indexes {
            index.insert(&stored, &row);
        }
        self.rows.insert(stored, row.clone());
        debug_assert_eq!(
            self.rows.len(),
            self.by_key.len(),
            "the two row maps diverged"
        );
        self.note_key(&key);
        Ok(RowChange {
            table: Arc::clone(&self.name),
            key,
            before: None,
            after: Some(row),
        })
    }

    /// Inserts a row or replaces the row with the same key.
    pub(crate) fn upsert(
        &mut self,
        row: Cow<'_, Row>,
        limits: &Limits,
    ) -> Result<RowChange, Error> {
        let (key, row) = self.prepare(row, limits)?;
        self.check_unique(&key, &row)?;
        Ok(self.commit_write(key, Some(row)))
    }

    /// Sets the fields in `set` on the row with key `key`.
    pub(crate) fn update(
        &mut self,
        key: &Value,
        mut set: Row,
        limits: &Limits,
    ) -> Result<RowChange, Error> {
        let Some(old) = self.find(&StoredKey::probe(key)) else {
            return Err(self.not_found(key));
        };
        if let Some(new_key) = set.remove(&self.def.primary_key) {
            if new_key != *key {
                return Err(Error::PrimaryKeyChange {
                    table: self.def.name.clone(),
                    key: key.clone(),
                    new_key,
                });
            }
            // Equal is not enough: `1.0` for an int key column is still the wrong type.
            if let Some(col) = self
                .def
                .schema
                .as_ref()
                .and_then(|s| s.column(&self.def.primary_key))
            {
                col.ty
                    .coerce(new_key)
                    .map_err(|value| Error::TypeMismatch {
                        table: self.def.name.clone(),
                        column: col.name.clone(),
                        expected: col.ty,
                        found: value.type_name(),
                        value,
                    })?;
            }
        }
        // The key field stays as stored: an equal key written as another type (`7.0` for `7`)
        // must not change the row's representation.
        let mut merged = old.to_row();
        merged.extend(set);
        // A key of several columns: a part that changed would move the row to another key,
        // which an update does not do. One written equal in another form (`1.0` for `1` in an
        // `any` part) keeps the key as stored, as a single key column does.
        if let Some(computed) = self
            .def
            .key_of_parts(&merged)?
            .filter(|computed| StoredKey::probe(computed) != StoredKey::probe(key))
        {
            return Err(Error::PrimaryKeyChange {
                table: self.def.name.clone(),
                key: key.clone(),
                new_key: computed,
            });
        }
        let (new_key, row) = self.prepare(Cow::Owned(merged), limits)?;
        self.check_unique(&new_key, &row)?;
        Ok(self.commit_write(new_key, Some(row)))
    }

    /// Deletes the row with key `key`.
    pub(crate) fn delete(&mut self, key: &Value) -> Result<RowChange, Error> {
        // Report and undo with the key as stored, not as written: `7.0` finds the row of `7`.
        let Some(stored) = self
            .find(&StoredKey::probe(key))
            .and_then(|row| row.get(&self.def.primary_key))
        else {
            return Err(self.not_found(key));
        };
        Ok(self.commit_write(stored, None))
    }

    /// Puts a row (or its absence) back as it was before a change of a failed transaction, and
    /// the auto-increment counter with it. Restoring changes in reverse order returns the table
    /// to a state that satisfied every constraint, so nothing is checked here.
    pub(crate) fn restore(&mut self, key: Value, before: Option<RowRef>, next_auto: Option<i64>) {
        // The row goes back under its own key field, which is how it was stored, even if the
        // change that replaced it was keyed by an equal value of another type.
        let key = before
            .as_ref()
            .and_then(|row| row.get(&self.def.primary_key))
            .unwrap_or(key);
        self.write(key, before);
        self.next_auto = next_auto;
    }

    /// Adds an index, filled from the current rows; fails on a name clash or a unique violation.
    pub(crate) fn create_index(&mut self, def: IndexDef, limits: &Limits) -> Result<(), Error> {
        if self.indexes.iter().any(|i| i.def().name == def.name) {
            return Err(Error::IndexExists {
                table: self.def.name.clone(),
                index: def.name,
            });
        }
        if self.indexes.len() >= limits.max_indexes {
            return Err(Error::LimitExceeded {
                what: format!("index count of table {:?}", self.def.name),
                limit: limits.max_indexes,
                actual: self.indexes.len() + 1,
            });
        }
        self.def.validate_index(&def, limits)?;
        let mut index = Index::new(def.clone());
        for (key, row) in &self.rows {
            if let Some((value, existing_key)) = index.conflict(key, row) {
                return Err(self.unique_violation(&index, value, existing_key));
            }
            index.insert(key, row);
        }
        self.indexes.push(index);
        Arc::make_mut(&mut self.def).indexes.push(def);
        Ok(())
    }

    /// Drops a declared index. Indexes of unique columns go with their column's `unique` flag.
    pub(crate) fn drop_index(&mut self, name: &str) -> Result<(), Error> {
        let Some(pos) = self.def.indexes.iter().position(|i| i.name == name) else {
            return Err(Error::UnknownIndex {
                table: self.def.name.clone(),
                index: name.to_owned(),
            });
        };
        Arc::make_mut(&mut self.def).indexes.remove(pos);
        self.indexes.retain(|i| i.def().name != name);
        Ok(())
    }

    /// A new table with definition `def` holding `rows`, each checked as an insert. Used by
    /// schema changes, which rewrite the table, and by loaders that build a table row by row.
    ///
    /// # Errors
    /// The first row that breaks `def`, as an insert of it would.
    pub fn rebuild(
        def: TableDef,
        rows: impl IntoIterator<Item = Row>,
        next_auto: Option<i64>,
        limits: &Limits,
    ) -> Result<TableState, Error> {
        def.validate(limits)?;
        let mut table = TableState::new(def);
        table.next_auto = next_auto.map(|n| n.max(1));
        for row in rows {
            table.insert(Cow::Owned(row), limits)?;
        }
        Ok(table)
    }

    /// Checks and completes a row: schema, primary key (assigned if auto-increment), limits.
    fn prepare(&mut self, row: Cow<'_, Row>, limits: &Limits) -> Result<(Value, RowRef), Error> {
        let pk = self.def.primary_key.as_str();
        let mut row = match &self.def.schema {
            Some(schema) => schema.conform(&self.def.name, row, Some(pk))?,
            None => {
                for name in row.keys() {
                    limits.check_name(crate::NameKind::Column, name)?;
                }
                row
            }
        };
        if let Some(key) = self.def.key_of_parts(&row)? {
            // A key of several columns is the table's to compute; one written anyway must be
            // the same, or the row would be found under a key its fields contradict.
            if let Some(given) = row.get(pk).filter(|given| {
                !given.is_null() && StoredKey::probe(given) != StoredKey::probe(&key)
            }) {
                return Err(Error::KeyMismatch {
                    table: self.def.name.clone(),
                    parts: self.def.key_parts.clone(),
                    given: given.clone(),
                    computed: key,
                });
            }
            // A key given equal (by value) stays as given: the stored form of a key is the
            // writer's, as for a single key column.
            if row.get(pk).is_none_or(Value::is_null) {
                row.to_mut().insert(pk.to_owned(), key);
            }
        }
        let key = match row.get(pk) {
            Some(Value::Null) | None if self.def.auto_increment => {
                let Some(next) = self.next_auto else {
                    return Err(Error::KeySpaceExhausted {
                        table: self.def.name.clone(),
                    });
                };
                let key = Value::Int(next);
                row.to_mut().insert(pk.to_owned(), key.clone());
                key
            }
            Some(Value::Null) => {
                return Err(Error::InvalidKey {
                    table: self.def.name.clone(),
                    key: Value::Null,
                });
            }
            Some(key) => key.clone(),
            None => {
                return Err(Error::MissingPrimaryKey {
                    table: self.def.name.clone(),
                    column: pk.to_owned(),
                });
            }
        };
        let m = Measure::of_row(&*row, limits.max_depth);
        if m.depth > limits.max_depth {
            return Err(Error::LimitExceeded {
                what: format!(
                    "nesting depth of a row of table {:?} (key {})",
                    self.def.name,
                    key.brief()
                ),
                limit: limits.max_depth,
                actual: m.depth,
            });
        }
        if m.size > limits.max_record_size {
            return Err(Error::LimitExceeded {
                what: format!(
                    "size of a row of table {:?} (key {})",
                    self.def.name,
                    key.brief()
                ),
                limit: limits.max_record_size,
                actual: m.size,
            });
        }
        Ok((key, RowRef::pack(&mut self.names, &row)))
    }

    fn check_unique(&self, key: &Value, row: &RowRef) -> Result<(), Error> {
        if self.indexes.iter().all(|index| !index.def().unique) {
            return Ok(());
        }
        let key = StoredKey::probe(key);
        for index in &self.indexes {
            if let Some((value, existing_key)) = index.conflict(&key, row) {
                return Err(self.unique_violation(index, value, existing_key));
            }
        }
        Ok(())
    }

    fn unique_violation(&self, index: &Index, value: Value, existing_key: Value) -> Error {
        Error::UniqueViolation {
            table: self.def.name.clone(),
            index: index.def().name.clone(),
            column: index.def().path.to_string(),
            value,
            existing_key: Box::new(existing_key),
        }
    }

    fn not_found(&self, key: &Value) -> Error {
        Error::KeyNotFound {
            table: self.def.name.clone(),
            key: key.clone(),
        }
    }

    /// Writes a checked row and reports the change.
    fn commit_write(&mut self, key: Value, after: Option<RowRef>) -> RowChange {
        self.note_key(&key);
        let before = self.write(key.clone(), after.clone());
        RowChange {
            table: Arc::clone(&self.name),
            key,
            before,
            after,
        }
    }

    /// Keeps auto-increment past every integral key stored. `Float(2.0)` counts: it is the same
    /// key as `Int(2)`, which auto-increment must therefore never hand out.
    fn note_key(&mut self, key: &Value) {
        let Some(k) = key.as_integral() else {
            return;
        };
        if let Some(next) = self.next_auto
            && k >= next
        {
            self.next_auto = k.checked_add(1);
        }
    }

    /// Replaces the row at `key` and its index entries, without checks.
    fn write(&mut self, key: Value, row: Option<RowRef>) -> Option<RowRef> {
        let stored = StoredKey::new(key);
        let hash = self.by_key.hash_of(&stored);
        let before = match &row {
            Some(row) => {
                self.by_key
                    .insert(hash, row.clone(), |old| stored.is_key_of(old));
                self.rows.insert(stored.clone(), row.clone())
            }
            None => {
                self.by_key.remove(hash, |old| stored.is_key_of(old));
                self.rows.remove(&stored)
            }
        };
        debug_assert_eq!(
            self.rows.len(),
            self.by_key.len(),
            "the two row maps diverged"
        );
        for index in &mut self.indexes {
            if let Some(old) = &before {
                index.remove(&stored, old);
            }
            if let Some(new) = &row {
                index.insert(&stored, new);
            }
        }
        before
    }
}

/// Shows what defines the table; the hashed copy of the rows is left out, as its order changes
/// from one map to the next.
impl std::fmt::Debug for TableState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableState")
            .field("def", &self.def)
            .field("name", &self.name)
            .field("rows", &self.rows)
            .field("indexes", &self.indexes)
            .field("next_auto", &self.next_auto)
            .finish_non_exhaustive()
    }
}

/// Tables are equal when their definitions, rows and counters are; indexes are derived from those.
impl PartialEq for TableState {
    fn eq(&self, other: &Self) -> bool {
        self.def == other.def && self.next_auto == other.next_auto && self.rows == other.rows
    }
}
