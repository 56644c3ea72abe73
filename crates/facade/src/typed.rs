//! Typed tables: [`Table`] reads and writes a table as the caller's [`Record`] struct;
//! [`TableView`] reads it at one point (now, or [`Table::as_of`] a past one).

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use tabula_core::{Cause, Filter, Lsn, Query, TableDef, Timestamp, Value};
use tabula_engine::{At, Engine, VersionKind};

use crate::Result;
use serde::Serialize;

use crate::record::{Record, from_old_row as from_row, key_value};
use crate::transaction::{TxTable, run};

/// A table read and written as `T`, from [`crate::Database::table`]. Cheap to clone; share it
/// between threads. Each write is one transaction, and those that read first (`update`,
/// `upsert_with`, `update_if`, `update_where`, ...) read and write atomically; to group writes
/// across calls or tables, use [`crate::Database::transaction`].
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use tabula::prelude::*;
///
/// #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
/// struct Item {
///     #[tabula(primary_key)]
///     sku: String,
///     #[tabula(index)]
///     stock: i64,
/// }
///
/// let dir = tempfile::tempdir()?;
/// let db = Database::open(dir.path())?;
/// let items = db.table::<Item>()?.with_cause(Cause::new().who("warehouse"));
/// let item = |sku: &str, stock| Item { sku: sku.into(), stock };
/// items.insert(&item("bolt", 10))?;
/// items.insert_all(&[item("nut", 0), item("gear", 3)])?;
/// items.upsert(&item("nut", 5))?;
/// let first = db.read().lsn();
/// items.update("bolt", |i| i.stock -= 4)?;
/// assert!(items.delete("gear")?);
///
/// assert_eq!(items.get("bolt")?, Some(item("bolt", 6)));
/// assert_eq!(items.count(), 2);
/// assert_eq!(items.filter(Filter::lt("stock", 6))?, [item("nut", 5)]);
/// assert_eq!(items.query(&Query::new().order_by("stock", true).limit(1))?, [item("bolt", 6)]);
/// assert_eq!(items.all()?.len(), 2);
/// assert_eq!(items.iter().filter_map(Result::ok).map(|i| i.stock).sum::<i64>(), 11);
/// assert_eq!(items.as_of(first)?.get("bolt")?.map(|i| i.stock), Some(10));
/// let versions = items.history("bolt")?;
/// assert_eq!(versions.len(), 2);
/// assert_eq!(versions[1].cause.as_ref().and_then(|c| c.who.as_deref()), Some("warehouse"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Table<T> {
    engine: Arc<Engine>,
    def: Arc<TableDef>,
    cause: Option<Cause>,
    _record: PhantomData<fn() -> T>,
}

impl<T> Table<T> {
    /// The engine underneath, for the feature modules of this crate.
    pub(crate) fn engine_ref(&self) -> &Engine {
        &self.engine
    }

    /// The table's definition, as the struct gives it.
    #[cfg(feature = "async")]
    pub(crate) fn def_ref(&self) -> &TableDef {
        &self.def
    }
}

impl<T> Clone for Table<T> {
    fn clone(&self) -> Self {
        Table {
            engine: Arc::clone(&self.engine),
            def: Arc::clone(&self.def),
            cause: self.cause.clone(),
            _record: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Table<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Table")
            .field("name", &self.def.name)
            .finish_non_exhaustive()
    }
}

/// One version of a record, from [`Table::history`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RecordVersion<T> {
    /// The transaction that made it.
    pub lsn: Lsn,
    /// When.
    pub timestamp: Timestamp,
    /// Inserted, updated or deleted.
    pub kind: VersionKind,
    /// The record before (`None` for an insert).
    pub before: Option<T>,
    /// The record after (`None` for a delete).
    pub after: Option<T>,
    /// Who, what, where and why, if the transaction said.
    pub cause: Option<Cause>,
}

impl<T: Record> Table<T> {
    pub(crate) fn new(engine: Arc<Engine>, def: TableDef) -> Self {
        Table {
            engine,
            def: Arc::new(def),
            cause: None,
            _record: PhantomData,
        }
    }

    /// The table's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.def.name
    }

    /// This table, with `cause` recorded on every write made through the returned handle.
    #[must_use]
    pub fn with_cause(&self, cause: Cause) -> Table<T> {
        Table {
            cause: Some(cause),
            ..self.clone()
        }
    }

    /// Inserts `record` in its own transaction; returns its key (the one assigned, for an
    /// auto-increment key left `None`).
    ///
    /// # Errors
    /// A duplicate key or unique value, a type or null violation
    /// ([`Error::Engine`](crate::Error::Engine)); a record that does not convert
    /// ([`Error::Convert`](crate::Error::Convert)).
    pub fn insert(&self, record: &T) -> Result<T::Key> {
        self.in_transaction(|t| t.insert(record))
    }

    /// Inserts every record in one transaction: all or none. Returns their keys in order.
    ///
    /// # Errors
    /// As [`Table::insert`], for the first record that fails; nothing is inserted then.
    pub fn insert_all<'r>(&self, records: impl IntoIterator<Item = &'r T>) -> Result<Vec<T::Key>>
    where
        T: 'r,
    {
        self.in_transaction(move |t| t.insert_all(records))
    }

    /// Inserts `record`, or replaces the whole record with its key.
    ///
    /// # Errors
    /// As [`Table::insert`], except a duplicate key.
    pub fn upsert(&self, record: &T) -> Result<T::Key> {
        self.in_transaction(|t| t.upsert(record))
    }

    /// Runs `body` on this table in a write transaction of its own, with this handle's cause.
    fn in_transaction<R>(
        &self,
        body: impl for<'t> FnOnce(TxTable<'t, T>) -> Result<R>,
    ) -> Result<R> {
        let def = Arc::clone(&self.def);
        let (value, _) = run(&self.engine, self.cause.as_ref(), move |tx| {
            body(TxTable::new(tx, def))
        })?;
        Ok(value)
    }

    /// Changes the record with `key` by `change` and writes it back, in one transaction: the
    /// read and the write are atomic, so concurrent updates never overwrite each other (each
    /// sees the one before it). Only the fields `change` changed are written (none: no
    /// commit). Returns the record after, or `None` if there is no such key.
    ///
    /// # Errors
    /// As [`Table::insert`]; changing the key is [`tabula_core::Error::PrimaryKeyChange`].
    pub fn update(&self, key: impl Serialize, change: impl FnOnce(&mut T)) -> Result<Option<T>> {
        self.update_key(key_value(&self.def, &key)?, change)
    }

    /// [`Table::update`] of a key already converted (`key_value`; converting it again would
    /// turn a timestamp into its serde escape).
    pub(crate) fn update_key(&self, key: Value, change: impl FnOnce(&mut T)) -> Result<Option<T>> {
        self.in_transaction(move |t| t.update_key(key, change))
    }

    /// Writes what `make` returns from the record with `key` (`None` if there is none) under
    /// `key`, in one transaction: a counter is
    /// `upsert_with(k, |c| Counter { n: c.map_or(0, |c| c.n) + 1, ..})`. Returns the record
    /// written.
    ///
    /// ```
    /// use serde::{Deserialize, Serialize};
    /// use tabula::prelude::*;
    ///
    /// #[derive(Debug, Serialize, Deserialize, Record)]
    /// struct Hits {
    ///     #[tabula(primary_key)]
    ///     page: String,
    ///     n: i64,
    /// }
    ///
    /// let db = Database::open_in_memory();
    /// let hits = db.table::<Hits>()?;
    /// for _ in 0..3 {
    ///     hits.upsert_with("/", |h| Hits { page: "/".into(), n: h.map_or(0, |h| h.n) + 1 })?;
    /// }
    /// assert_eq!(hits.get("/")?.unwrap().n, 3);
    /// # Ok::<(), tabula::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`TxTable::upsert_with`].
    pub fn upsert_with(&self, key: impl Serialize, make: impl FnOnce(Option<T>) -> T) -> Result<T> {
        self.upsert_with_key(key_value(&self.def, &key)?, make)
    }

    /// [`Table::upsert_with`] of a key already converted.
    pub(crate) fn upsert_with_key(
        &self,
        key: Value,
        make: impl FnOnce(Option<T>) -> T,
    ) -> Result<T> {
        self.in_transaction(move |t| t.upsert_with_key(key, make))
    }

    /// Writes `record` over the record with its key; `false` (and nothing written) if there is
    /// none.
    ///
    /// # Errors
    /// As [`TxTable::replace`].
    pub fn replace(&self, record: &T) -> Result<bool> {
        self.in_transaction(|t| t.replace(record))
    }

    /// Compare-and-set, for callers who read without a transaction: writes `new` only if the
    /// stored record is still `expected`; otherwise [`Error::Conflict`](crate::Error::Conflict)
    /// (with the record as it is now) and nothing is written.
    ///
    /// ```
    /// use serde::{Deserialize, Serialize};
    /// use tabula::prelude::*;
    ///
    /// #[derive(Debug, Clone, Serialize, Deserialize, Record)]
    /// struct Seat {
    ///     #[tabula(primary_key)]
    ///     id: i64,
    ///     holder: Option<String>,
    /// }
    ///
    /// let db = Database::open_in_memory();
    /// let seats = db.table::<Seat>()?;
    /// seats.insert(&Seat { id: 7, holder: None })?;
    /// let seen = seats.get(7)?.unwrap();
    /// let mine = Seat { holder: Some("ada".into()), ..seen.clone() };
    /// let theirs = Seat { holder: Some("bob".into()), ..seen.clone() };
    /// seats.update_if(&seen, &mine)?;
    /// // Bob read the same free seat, but Ada took it first.
    /// assert!(matches!(seats.update_if(&seen, &theirs), Err(Error::Conflict { .. })));
    /// assert_eq!(seats.get(7)?.unwrap().holder.as_deref(), Some("ada"));
    /// # Ok::<(), tabula::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`TxTable::update_if`].
    pub fn update_if(&self, expected: &T, new: &T) -> Result<()> {
        self.in_transaction(|t| t.update_if(expected, new))
    }

    /// Compare-and-delete: deletes the record only if it is still `expected`; otherwise
    /// [`Error::Conflict`](crate::Error::Conflict) and nothing is deleted.
    ///
    /// # Errors
    /// As [`TxTable::delete_if`].
    pub fn delete_if(&self, expected: &T) -> Result<()> {
        self.in_transaction(|t| t.delete_if(expected))
    }

    /// Changes every record `filter` matches by `change`, in one transaction (all or none);
    /// returns how many were written.
    ///
    /// # Errors
    /// As [`TxTable::update_where`].
    pub fn update_where(&self, filter: Filter, change: impl FnMut(&mut T)) -> Result<usize> {
        self.in_transaction(move |t| t.update_where(filter, change))
    }

    /// Deletes every record `filter` matches, in one transaction; returns how many.
    ///
    /// # Errors
    /// As [`TxTable::delete_where`].
    pub fn delete_where(&self, filter: Filter) -> Result<usize> {
        self.in_transaction(move |t| t.delete_where(filter))
    }

    /// How many records `filter` matches now.
    ///
    /// # Errors
    /// The filter's errors.
    pub fn count_where(&self, filter: Filter) -> Result<usize> {
        self.read().count_where(filter)
    }

    /// Deletes the record with `key`; `false` if there was none.
    ///
    /// # Errors
    /// Commit errors.
    pub fn delete(&self, key: impl Serialize) -> Result<bool> {
        self.delete_key(key_value(&self.def, &key)?)
    }

    /// [`Table::delete`] of a key already converted.
    pub(crate) fn delete_key(&self, key: Value) -> Result<bool> {
        self.in_transaction(move |t| t.delete_key(key))
    }

    /// The table now, for several reads at one consistent point.
    #[must_use]
    pub fn read(&self) -> TableView<T> {
        TableView::new(self.engine.read(), &self.def)
    }

    /// The table as it was at `at` (an LSN, a time or a tag).
    ///
    /// # Errors
    /// As [`Database::as_of`](crate::Database::as_of).
    pub fn as_of(&self, at: impl Into<At>) -> Result<TableView<T>> {
        Ok(TableView::new(self.engine.as_of(at)?, &self.def))
    }

    /// The record with `key`, now.
    ///
    /// # Errors
    /// A row that does not convert to `T`.
    pub fn get(&self, key: impl Serialize) -> Result<Option<T>> {
        // What `read().get(key)` does, without making a `TableView` for one read (this call is
        // measured against redb's: workload 11a).
        get_in(&self.engine.read(), &self.def.name, &key)
    }

    /// The record whose unique field `field` holds `value` (an index lookup), now: SQLite's
    /// `SELECT … WHERE sku = ?` on a `UNIQUE` column.
    ///
    /// ```
    /// use serde::{Deserialize, Serialize};
    /// use tabula::{Database, Record};
    ///
    /// #[derive(Debug, PartialEq, Serialize, Deserialize, Record)]
    /// struct Product {
    ///     #[tabula(primary_key)]
    ///     id: i64,
    ///     #[tabula(unique)]
    ///     sku: String,
    /// }
    ///
    /// let db = Database::open_in_memory();
    /// let products = db.table::<Product>()?;
    /// products.insert(&Product { id: 1, sku: "MS-01".into() })?;
    /// let mouse = products.get_by(Product::FIELDS.sku, "MS-01")?;
    /// assert_eq!(mouse.map(|p| p.id), Some(1));
    /// # Ok::<(), tabula::Error>(())
    /// ```
    ///
    /// # Errors
    /// A field that is neither unique nor the key (use [`Table::filter`], which may find
    /// several); a row that does not convert.
    pub fn get_by<V: Serialize>(
        &self,
        field: crate::Field<V>,
        value: impl Into<V>,
    ) -> Result<Option<T>> {
        let unique = field.name() == self.def.primary_key
            || self
                .def
                .schema
                .as_ref()
                .and_then(|schema| schema.column(field.name()))
                .is_some_and(|column| column.unique);
        if !unique {
            return Err(tabula_core::Error::InvalidFilter {
                reason: format!(
                    "get_by needs a unique field, and {:?} of table {:?} is not unique: use \
                     filter, which may find several",
                    field.name(),
                    self.def.name
                ),
            }
            .into());
        }
        let found = self.query(&Query::new().filter(field.eq(value)).limit(1))?;
        Ok(found.into_iter().next())
    }

    /// The records `query` selects, now.
    ///
    /// # Errors
    /// The query's own errors; a row that does not convert.
    pub fn query(&self, query: &Query) -> Result<Vec<T>> {
        self.read().query(query)
    }

    /// The records `filter` matches, in key order, now.
    ///
    /// # Errors
    /// As [`Table::query`].
    pub fn filter(&self, filter: Filter) -> Result<Vec<T>> {
        self.read().query(&Query::new().filter(filter))
    }

    /// Every record, in key order, as of now: later commits do not change what it yields.
    /// Records are converted one at a time, as the iterator is driven.
    pub fn iter(&self) -> impl Iterator<Item = Result<T>> + use<T> {
        let view = self.read();
        let rows: Vec<tabula_core::RowRef> = view
            .table()
            .map(|t| t.iter().map(|(_, row)| row.clone()).collect())
            .unwrap_or_default();
        let name = self.def.name.clone();
        rows.into_iter().map(move |row| from_row(&row, &name))
    }

    /// Every record, in key order, now.
    ///
    /// # Errors
    /// A row that does not convert.
    pub fn all(&self) -> Result<Vec<T>> {
        self.read().iter().collect()
    }

    /// How many records there are now.
    #[must_use]
    pub fn count(&self) -> usize {
        self.read().count()
    }

    /// Every retained version of the record with `key`, oldest first.
    ///
    /// # Errors
    /// As [`Database::history`](crate::Database::history); a row that does not convert.
    pub fn history(&self, key: impl Serialize) -> Result<Vec<RecordVersion<T>>> {
        self.history_key(&key_value(&self.def, &key)?)
    }

    /// [`Table::history`] of a key already converted.
    pub(crate) fn history_key(&self, key: &Value) -> Result<Vec<RecordVersion<T>>> {
        let name = &self.def.name;
        let record =
            |row: Option<tabula_core::RowRef>| row.map(|r| from_row::<T>(&r, name)).transpose();
        self.engine
            .history(name, key)?
            .into_iter()
            .map(|v| {
                Ok(RecordVersion {
                    lsn: v.lsn,
                    timestamp: v.timestamp,
                    kind: v.kind,
                    before: record(v.before)?,
                    after: record(v.after)?,
                    cause: v.cause,
                })
            })
            .collect()
    }
}

/// A table at one point, read as `T`: from [`Table::read`] or [`Table::as_of`]. Several reads
/// of one view agree with each other, whatever commits meanwhile.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use tabula::prelude::*;
///
/// #[derive(Debug, Serialize, Deserialize, Record)]
/// struct Counter {
///     #[tabula(primary_key)]
///     name: String,
///     n: i64,
/// }
///
/// let db = Database::open_in_memory();
/// let counters = db.table::<Counter>()?;
/// counters.insert(&Counter { name: "hits".into(), n: 1 })?;
/// let view = counters.read();
/// counters.update("hits", |c| c.n += 1)?;
/// assert_eq!(view.get("hits")?.map(|c| c.n), Some(1)); // the view does not move
/// assert_eq!(counters.read().get("hits")?.map(|c| c.n), Some(2));
/// assert_eq!(view.count(), 1);
/// assert_eq!(view.iter().count(), 1);
/// assert_eq!(view.query(&Query::new().filter(Filter::gt("n", 0)))?.len(), 1);
/// # Ok::<(), tabula::Error>(())
/// ```
pub struct TableView<T> {
    db: tabula_engine::ReadView,
    /// The table's definition as the handle knows it: for its name, shared rather than copied.
    def: Arc<TableDef>,
    _record: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for TableView<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TableView")
            .field("name", &self.def.name)
            .field("lsn", &self.db.lsn())
            .finish_non_exhaustive()
    }
}

impl<T: Record> TableView<T> {
    fn new(db: tabula_engine::ReadView, def: &Arc<TableDef>) -> Self {
        TableView {
            db,
            def: Arc::clone(def),
            _record: PhantomData,
        }
    }

    /// The LSN it shows.
    #[must_use]
    pub fn lsn(&self) -> Lsn {
        self.db.lsn()
    }

    fn table(&self) -> Option<tabula_engine::ViewTable<'_>> {
        self.db.table(&self.def.name)
    }

    /// The record with `key` (`None` also if the table did not exist then).
    ///
    /// # Errors
    /// A key that cannot be the table's key type (a text key for an `int` key column); a row
    /// that does not convert to `T`.
    pub fn get(&self, key: impl Serialize) -> Result<Option<T>> {
        get_in(&self.db, &self.def.name, &key)
    }

    /// The records `query` selects.
    ///
    /// # Errors
    /// The query's own errors; a row that does not convert.
    pub fn query(&self, query: &Query) -> Result<Vec<T>> {
        if self.table().is_none() {
            return Ok(Vec::new());
        }
        let result = self.db.query(&self.def.name, query)?;
        result
            .rows
            .iter()
            .map(|row| from_row(row, &self.def.name))
            .collect()
    }

    /// Every record, in key order.
    pub fn iter(&self) -> impl Iterator<Item = Result<T>> + '_ {
        self.table()
            .into_iter()
            .flat_map(|t| t.iter())
            .map(|(_, row)| from_row(row, &self.def.name))
    }

    /// How many records.
    #[must_use]
    pub fn count(&self) -> usize {
        self.table().map_or(0, |table| table.len())
    }

    /// How many records `filter` matches.
    ///
    /// # Errors
    /// The filter's errors.
    pub fn count_where(&self, filter: Filter) -> Result<usize> {
        if self.table().is_none() {
            return Ok(0);
        }
        Ok(self.db.count(&self.def.name, Some(&filter))?)
    }
}

/// The record with `key` in table `name` of `view` (`None` also without the table): what
/// `TableView::get` and `Table::get` both answer.
fn get_in<T: Record>(
    view: &tabula_engine::ReadView,
    name: &str,
    key: &impl Serialize,
) -> Result<Option<T>> {
    let Some(table) = view.table(name) else {
        return Ok(None);
    };
    let key = key_value(table.def(), key)?;
    table.get(&key).map(|row| from_row(row, name)).transpose()
}
