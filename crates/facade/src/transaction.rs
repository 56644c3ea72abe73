//! Typed write transactions: [`Database::transaction`] runs a closure with a
//! [`WriteTransaction`], whose [`TxTable`]s (typed) and [`TxRows`] (untyped) read and write any
//! tables. Everything the closure does commits as one logged transaction with one LSN and one
//! cause, or (on an error or a panic) not at all; it is serialized with every other writer and
//! reads its own writes, so a read-modify-write inside it is atomic.
//!
//! The engine's [`Engine::transaction`] does the work (see its docs for why the API is a
//! closure, what a failed op inside does, and time to live); this module adds typed records
//! and the helpers users expect: `update` with a closure, `upsert_with`, compare-and-set
//! (`update_if`, `delete_if`), and bulk writes by filter (`update_where`, `delete_where`,
//! `count_where`). [`crate::Table`] and [`crate::Rows`] run the same helpers, each in a
//! transaction of its own.

use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use tabula_core::{Cause, Filter, Op, Query, Row, RowChange, RowRef, TableDef, Value};
use tabula_engine::{Committed, Engine, WriteTx};

use serde::Serialize;

use crate::record::{Record, ensure_compatible, from_row, key_from, key_value, to_row};
use crate::{Database, Error, Result};

/// A write transaction in progress, inside [`Database::transaction`]. Get tables from it
/// ([`WriteTransaction::table`], [`WriteTransaction::rows`]); they can be used side by side.
pub struct WriteTransaction<'t> {
    tx: RefCell<&'t mut WriteTx>,
}

impl fmt::Debug for WriteTransaction<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteTransaction").finish_non_exhaustive()
    }
}

/// Runs `body` in a write transaction on `engine`, with `cause`.
pub(crate) fn run<R>(
    engine: &Engine,
    cause: Option<&Cause>,
    body: impl for<'t> FnOnce(&'t WriteTransaction<'t>) -> Result<R>,
) -> Result<(R, Option<Committed>)> {
    engine.transaction(|raw| {
        if let Some(cause) = cause {
            raw.cause(cause.clone());
        }
        let tx = WriteTransaction {
            tx: RefCell::new(&mut *raw),
        };
        body(&tx)
    })
}

impl Database {
    /// Runs `body` as one write transaction and returns its value: everything it does commits
    /// together, as one logged transaction (one LSN, one cause), or nothing does.
    ///
    /// - It is serialized with every other writer, and its reads see its own writes: a
    ///   read-modify-write inside it is atomic, and no update is ever lost.
    /// - An `Err` from `body` (return [`Error::abort`] for your own reasons) or a panic commits
    ///   nothing. An op that fails inside (a duplicate key, a unique value) changes nothing and
    ///   returns its error; propagating it with `?` aborts the transaction, handling it lets
    ///   the transaction go on, as in SQLite.
    /// - Readers are never blocked, and see all of it or none of it. The writer lock is held
    ///   while `body` runs, so keep it short. A write on the same database from inside it, on
    ///   the same thread (another transaction, a `Table` write), gets
    ///   [`tabula_engine::Error::NestedTransaction`]: use the transaction's tables instead. A
    ///   write from another thread that `body` waits for would wait for the lock `body` holds:
    ///   a deadlock, as with any lock.
    ///
    /// ```
    /// use serde::{Deserialize, Serialize};
    /// use tabula::prelude::*;
    ///
    /// #[derive(Debug, Clone, Serialize, Deserialize, Record)]
    /// struct Product {
    ///     #[tabula(primary_key)]
    ///     id: i64,
    ///     stock: i64,
    /// }
    /// #[derive(Debug, Clone, Serialize, Deserialize, Record)]
    /// struct Order {
    ///     #[tabula(primary_key, auto_increment)]
    ///     id: Option<i64>,
    ///     product: i64,
    ///     quantity: i64,
    /// }
    ///
    /// let db = Database::open_in_memory();
    /// db.table::<Product>()?.insert(&Product { id: 1, stock: 10 })?;
    ///
    /// // Take 3 from stock and record the order: both or neither.
    /// let order = db.transaction(|tx| {
    ///     let products = tx.table::<Product>()?;
    ///     let mut product = products.get(1)?.ok_or_else(|| Error::abort("no product 1"))?;
    ///     if product.stock < 3 {
    ///         return Err(Error::abort("out of stock"));
    ///     }
    ///     product.stock -= 3;
    ///     products.replace(&product)?;
    ///     tx.cause(Cause::new().who("shop").why("order"));
    ///     tx.table::<Order>()?.insert(&Order { id: None, product: 1, quantity: 3 })
    /// })?;
    /// assert_eq!(order, 1);
    /// assert_eq!(db.table::<Product>()?.get(1)?.unwrap().stock, 7);
    ///
    /// // Four more orders of 3 would need 12 of the 7 left: the third already finds too little,
    /// // and so nothing is taken.
    /// let all = db.transaction(|tx| {
    ///     for _ in 0..4 {
    ///         tx.table::<Product>()?.update(1, |p| p.stock -= 3)?;
    ///         if tx.table::<Product>()?.get(1)?.unwrap().stock < 0 {
    ///             return Err(Error::abort("out of stock"));
    ///         }
    ///     }
    ///     Ok(())
    /// });
    /// assert!(matches!(all, Err(Error::Aborted(_))));
    /// assert_eq!(db.table::<Product>()?.get(1)?.unwrap().stock, 7);
    /// # Ok::<(), Error>(())
    /// ```
    ///
    /// # Errors
    /// `body`'s error, or the commit's (as [`Database::commit`]).
    pub fn transaction<R>(
        &self,
        body: impl for<'t> FnOnce(&'t WriteTransaction<'t>) -> Result<R>,
    ) -> Result<R> {
        Ok(run(self.engine(), None, body)?.0)
    }

    /// As [`Database::transaction`], also returning what was committed (its LSN, time and row
    /// changes; `None` if `body` wrote nothing).
    ///
    /// # Errors
    /// As [`Database::transaction`].
    pub fn transaction_committed<R>(
        &self,
        body: impl for<'t> FnOnce(&'t WriteTransaction<'t>) -> Result<R>,
    ) -> Result<(R, Option<Committed>)> {
        run(self.engine(), None, body)
    }
}

impl<'t> WriteTransaction<'t> {
    fn with<R>(&self, f: impl FnOnce(&mut WriteTx) -> tabula_engine::Result<R>) -> Result<R> {
        // Never held while the caller's code runs, so it cannot be borrowed twice.
        let mut tx = self.tx.borrow_mut();
        Ok(f(&mut tx)?)
    }

    /// The table of `T`, created in this transaction if it does not exist yet.
    ///
    /// # Errors
    /// [`Error::SchemaMismatch`] if the stored table differs from `T`'s definition.
    pub fn table<T: Record>(&'t self) -> Result<TxTable<'t, T>> {
        let wanted = T::definition();
        let exists = {
            let tx = self.tx.borrow();
            match tx.state().table(&wanted.name) {
                Some(stored) => {
                    ensure_compatible(stored.def(), &wanted)?;
                    true
                }
                None => false,
            }
        };
        if !exists {
            self.push(Op::CreateTable(wanted.clone()))?;
        }
        Ok(TxTable::new(self, Arc::new(wanted)))
    }

    /// The table `name` with untyped rows.
    #[must_use]
    pub fn rows(&'t self, name: impl Into<String>) -> TxRows<'t> {
        TxRows {
            tx: self,
            name: name.into(),
        }
    }

    /// Applies `op` now (any op: a record as a row is [`Record::to_row`]); returns the row it
    /// changed.
    ///
    /// # Errors
    /// The op's error; the transaction is unchanged and can go on.
    pub fn push(&self, op: Op) -> Result<Option<RowChange>> {
        self.with(|tx| tx.push(op))
    }

    /// Sets the cause (who, what, where, why) recorded with the transaction.
    pub fn cause(&self, cause: Cause) {
        self.tx.borrow_mut().cause(cause);
    }

    /// The whole database as the transaction sees it so far (an O(1) copy: later writes of
    /// the transaction do not change it).
    #[must_use]
    pub fn read(&self) -> crate::View {
        // A copy, not a borrow, so that the caller can go on writing while it holds the view.
        self.tx.borrow().view()
    }
}

/// The table of `T` inside a [`WriteTransaction`]: reads see the transaction's own writes.
/// The same methods as [`crate::Table`], each a step of the one transaction.
pub struct TxTable<'t, T> {
    tx: &'t WriteTransaction<'t>,
    def: Arc<TableDef>,
    _record: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for TxTable<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TxTable")
            .field("name", &self.def.name)
            .finish_non_exhaustive()
    }
}

impl<'t, T: Record> TxTable<'t, T> {
    pub(crate) fn new(tx: &'t WriteTransaction<'t>, def: Arc<TableDef>) -> Self {
        TxTable {
            tx,
            def,
            _record: PhantomData,
        }
    }

    fn name(&self) -> &str {
        &self.def.name
    }

    fn row(&self, record: &T) -> Result<Row> {
        to_row(record, &self.def)
    }

    fn record(&self, row: &RowRef) -> Result<T> {
        from_row(row, &self.def.name)
    }

    /// The key of `row`, which must have one.
    fn key_of(&self, row: &impl tabula_core::Fields) -> Result<Value> {
        row.field(&self.def.primary_key)
            .map(std::borrow::Cow::into_owned)
            .ok_or_else(|| Error::Convert {
                table: self.def.name.clone(),
                message: format!(
                    "the record has no key ({:?} is not set)",
                    self.def.primary_key
                ),
            })
    }

    fn push(&self, op: Op) -> Result<Option<RowChange>> {
        self.tx.push(op)
    }

    fn rows_where(&self, filter: Filter) -> Result<Vec<RowRef>> {
        let query = Query::new().filter(filter);
        Ok(self.tx.with(|tx| tx.query(&self.def.name, &query))?.rows)
    }

    /// The record with `key`.
    ///
    /// # Errors
    /// A row that does not convert to `T`.
    pub fn get(&self, key: impl Serialize) -> Result<Option<T>> {
        self.get_key(&key_value(&self.def, &key)?)
    }

    /// [`TxTable::get`] of a key already converted (`key_value`): a converted key is not
    /// converted again, which would turn a timestamp into its serde escape.
    fn get_key(&self, key: &Value) -> Result<Option<T>> {
        let row = self.tx.with(|tx| tx.get(&self.def.name, key))?;
        row.map(|row| self.record(&row)).transpose()
    }

    /// The records `query` selects.
    ///
    /// # Errors
    /// The query's own errors; a row that does not convert.
    pub fn query(&self, query: &Query) -> Result<Vec<T>> {
        let result = self.tx.with(|tx| tx.query(&self.def.name, query))?;
        result.rows.iter().map(|row| self.record(row)).collect()
    }

    /// The records `filter` matches, in key order.
    ///
    /// # Errors
    /// As [`TxTable::query`].
    pub fn filter(&self, filter: Filter) -> Result<Vec<T>> {
        self.query(&Query::new().filter(filter))
    }

    /// How many records `filter` matches.
    ///
    /// # Errors
    /// The filter's errors.
    pub fn count_where(&self, filter: Filter) -> Result<usize> {
        Ok(self.rows_where(filter)?.len())
    }

    /// Inserts `record`; returns its key (the one assigned, for an auto-increment key left
    /// `None`).
    ///
    /// # Errors
    /// A duplicate key or unique value, a type or null violation; a record that does not
    /// convert.
    pub fn insert(&self, record: &T) -> Result<T::Key> {
        let row = self.row(record)?;
        let change = self.push(Op::Insert {
            table: self.def.name.clone(),
            row,
        })?;
        key_from::<T>(change.map_or(Value::Null, |c| c.key))
    }

    /// Inserts every record, or (on the first error) none of them; returns their keys.
    ///
    /// # Errors
    /// As [`TxTable::insert`].
    pub fn insert_all<'r>(&self, records: impl IntoIterator<Item = &'r T>) -> Result<Vec<T::Key>>
    where
        T: 'r,
    {
        let ops = records
            .into_iter()
            .map(|r| {
                Ok(Op::Insert {
                    table: self.def.name.clone(),
                    row: self.row(r)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let changes = self.tx.with(|tx| tx.push_all(ops))?;
        changes.into_iter().map(|c| key_from::<T>(c.key)).collect()
    }

    /// Inserts `record`, or replaces the whole record with its key; returns the key.
    ///
    /// # Errors
    /// As [`TxTable::insert`], except a duplicate key.
    pub fn upsert(&self, record: &T) -> Result<T::Key> {
        let row = self.row(record)?;
        let change = self.push(Op::Upsert {
            table: self.def.name.clone(),
            row,
        })?;
        key_from::<T>(change.map_or(Value::Null, |c| c.key))
    }

    /// Writes `record` over the record with its key; `false` (and nothing written) if there is
    /// none.
    ///
    /// # Errors
    /// A record without a key; as [`TxTable::insert`].
    pub fn replace(&self, record: &T) -> Result<bool> {
        let set = self.row(record)?;
        let key = self.key_of(&set)?;
        if self.tx.with(|tx| tx.get(&self.def.name, &key))?.is_none() {
            return Ok(false);
        }
        self.push(Op::Update {
            table: self.def.name.clone(),
            key,
            set,
        })?;
        Ok(true)
    }

    /// Changes the record with `key` by `change` and writes back the fields it changed,
    /// atomically; returns the record after, or `None` (and nothing written) if there is no
    /// such key. A change that leaves the record as it was writes nothing.
    ///
    /// # Errors
    /// As [`TxTable::insert`]; changing the key is [`tabula_core::Error::PrimaryKeyChange`].
    pub fn update(&self, key: impl Serialize, change: impl FnOnce(&mut T)) -> Result<Option<T>> {
        self.update_key(key_value(&self.def, &key)?, change)
    }

    /// [`TxTable::update`] of a key already converted.
    pub(crate) fn update_key(&self, key: Value, change: impl FnOnce(&mut T)) -> Result<Option<T>> {
        let Some(row) = self.tx.with(|tx| tx.get(&self.def.name, &key))? else {
            return Ok(None);
        };
        let mut record = self.record(&row)?;
        change(&mut record);
        let set = changes(&row.to_row(), self.row(&record)?);
        if !set.is_empty() {
            self.push(Op::Update {
                table: self.def.name.clone(),
                key,
                set,
            })?;
        }
        Ok(Some(record))
    }

    /// Writes what `make` returns from the record with `key` (`None` if there is none) under
    /// `key`, atomically: the entry API of a map (`*map.entry(k).or_default() += 1`). Returns
    /// the record written.
    ///
    /// # Errors
    /// As [`TxTable::insert`]; a record whose key is not `key` is
    /// [`tabula_core::Error::PrimaryKeyChange`].
    pub fn upsert_with(&self, key: impl Serialize, make: impl FnOnce(Option<T>) -> T) -> Result<T> {
        self.upsert_with_key(key_value(&self.def, &key)?, make)
    }

    /// [`TxTable::upsert_with`] of a key already converted.
    pub(crate) fn upsert_with_key(
        &self,
        key: Value,
        make: impl FnOnce(Option<T>) -> T,
    ) -> Result<T> {
        let record = make(self.get_key(&key)?);
        let mut row = self.row(&record)?;
        match row.get(&self.def.primary_key) {
            Some(written) if *written != key => {
                return Err(tabula_core::Error::PrimaryKeyChange {
                    table: self.def.name.clone(),
                    key,
                    new_key: written.clone(),
                }
                .into());
            }
            Some(_) => {}
            // An auto-increment key left `None`: the record goes under `key`.
            None => {
                row.insert(self.def.primary_key.clone(), key);
            }
        }
        self.push(Op::Upsert {
            table: self.def.name.clone(),
            row,
        })?;
        Ok(record)
    }

    /// Deletes the record with `key`; `false` if there was none.
    ///
    /// # Errors
    /// The transaction's errors.
    pub fn delete(&self, key: impl Serialize) -> Result<bool> {
        self.delete_key(key_value(&self.def, &key)?)
    }

    /// [`TxTable::delete`] of a key already converted.
    pub(crate) fn delete_key(&self, key: Value) -> Result<bool> {
        if self.tx.with(|tx| tx.get(&self.def.name, &key))?.is_none() {
            return Ok(false);
        }
        self.push(Op::Delete {
            table: self.def.name.clone(),
            key,
        })?;
        Ok(true)
    }

    /// Compare-and-set: writes `new` over the record with its key only if that record is still
    /// `expected` (as read earlier, perhaps outside any transaction); otherwise
    /// [`Error::Conflict`], and nothing is written. Records are compared as rows of the table,
    /// field by field.
    ///
    /// # Errors
    /// [`Error::Conflict`]; `expected` and `new` with different keys
    /// ([`tabula_core::Error::PrimaryKeyChange`]) or none; as [`TxTable::insert`].
    pub fn update_if(&self, expected: &T, new: &T) -> Result<()> {
        let key = self.expect(expected)?;
        let set = self.row(new)?;
        if let Some(new_key) = set.get(&self.def.primary_key)
            && *new_key != key
        {
            return Err(tabula_core::Error::PrimaryKeyChange {
                table: self.def.name.clone(),
                key,
                new_key: new_key.clone(),
            }
            .into());
        }
        self.push(Op::Update {
            table: self.def.name.clone(),
            key,
            set,
        })?;
        Ok(())
    }

    /// Compare-and-delete: deletes the record with `expected`'s key only if it is still
    /// `expected`; otherwise [`Error::Conflict`], and nothing is deleted.
    ///
    /// # Errors
    /// As [`TxTable::update_if`].
    pub fn delete_if(&self, expected: &T) -> Result<()> {
        let key = self.expect(expected)?;
        self.push(Op::Delete {
            table: self.def.name.clone(),
            key,
        })?;
        Ok(())
    }

    /// The key of `expected`, if the stored record is still `expected`.
    fn expect(&self, expected: &T) -> Result<Value> {
        let want = self.row(expected)?;
        let key = self.key_of(&want)?;
        let current = self.tx.with(|tx| tx.get(&self.def.name, &key))?;
        // The stored row goes through the same conversion as `expected`, so that what the
        // struct cannot tell apart (a default the table filled in) compares equal.
        let current = current
            .map(|row| self.record(&row).and_then(|r| self.row(&r)))
            .transpose()?;
        if current.as_ref() != Some(&want) {
            return Err(Error::Conflict {
                table: self.def.name.clone(),
                key,
                current: current.map(Box::new),
            });
        }
        Ok(key)
    }

    /// Changes every record `filter` matches by `change`, all or none; returns how many were
    /// written (a record `change` left as it was is not written, and has no new version).
    ///
    /// # Errors
    /// As [`TxTable::update`], for the first record that fails; nothing is written then.
    pub fn update_where(&self, filter: Filter, mut change: impl FnMut(&mut T)) -> Result<usize> {
        let mut ops = Vec::new();
        for row in self.rows_where(filter)? {
            let key = self.key_of(&row)?;
            let mut record = self.record(&row)?;
            change(&mut record);
            let set = changes(&row.to_row(), self.row(&record)?);
            if set.is_empty() {
                continue;
            }
            ops.push(Op::Update {
                table: self.def.name.clone(),
                key,
                set,
            });
        }
        let written = ops.len();
        self.tx.with(|tx| tx.push_all(ops))?;
        Ok(written)
    }

    /// Deletes every record `filter` matches, all or none; returns how many.
    ///
    /// # Errors
    /// The filter's errors; a limit.
    pub fn delete_where(&self, filter: Filter) -> Result<usize> {
        delete_where(self.tx, self.name(), &self.def.primary_key, filter)
    }
}

/// The fields an update must set to turn `before` into `after`: those that are not
/// [`identical`], and null for those `after` lacks. Empty when nothing changes, so that no
/// version is written for nothing, and the log holds what changed rather than the whole row.
fn changes(before: &Row, mut after: Row) -> Row {
    let removed: Vec<String> = before
        .iter()
        .filter(|(field, value)| **value != Value::Null && !after.contains_key(*field))
        .map(|(field, _)| field.clone())
        .collect();
    after.retain(|field, value| !before.get(field).is_some_and(|old| identical(old, value)));
    after.extend(removed.into_iter().map(|field| (field, Value::Null)));
    after
}

/// Whether `a` and `b` are the same value in the same representation. `==` is the order's
/// equality, where `Int(1)` equals `Float(1.0)` and `-0.0` equals `0.0`; a change between those
/// is still a change to write. Iterative: a value's depth is the caller's.
fn identical(a: &Value, b: &Value) -> bool {
    let mut pairs = vec![(a, b)];
    while let Some(pair) = pairs.pop() {
        match pair {
            (Value::Float(x), Value::Float(y)) if x.to_bits() == y.to_bits() => {}
            (Value::List(x), Value::List(y)) if x.len() == y.len() => pairs.extend(x.iter().zip(y)),
            (Value::Map(x), Value::Map(y)) if x.len() == y.len() => {
                for ((xk, xv), (yk, yv)) in x.iter().zip(y) {
                    if xk != yk {
                        return false;
                    }
                    pairs.push((xv, yv));
                }
            }
            (Value::Float(_) | Value::List(_) | Value::Map(_), _)
            | (_, Value::Float(_) | Value::List(_) | Value::Map(_)) => return false,
            (a, b) if a == b => {}
            _ => return false,
        }
    }
    true
}

fn delete_where(
    tx: &WriteTransaction<'_>,
    table: &str,
    key: &str,
    filter: Filter,
) -> Result<usize> {
    let query = Query::new().filter(filter);
    let rows = tx.with(|tx| tx.query(table, &query))?.rows;
    let ops: Vec<Op> = rows
        .iter()
        .filter_map(|row| row.get(key))
        .map(|key| Op::Delete {
            table: table.to_owned(),
            key,
        })
        .collect();
    let deleted = ops.len();
    tx.with(|tx| tx.push_all(ops))?;
    Ok(deleted)
}

/// A table with untyped rows inside a [`WriteTransaction`]; the same methods as
/// [`crate::Rows`], each a step of the one transaction.
#[derive(Debug)]
pub struct TxRows<'t> {
    tx: &'t WriteTransaction<'t>,
    name: String,
}

impl TxRows<'_> {
    fn primary_key(&self) -> Result<String> {
        self.tx.with(|tx| {
            let table =
                tx.state()
                    .table(&self.name)
                    .ok_or_else(|| tabula_core::Error::UnknownTable {
                        table: self.name.clone(),
                    })?;
            Ok(table.def().primary_key.clone())
        })
    }

    fn write(&self, op: Op) -> Result<Value> {
        Ok(self.tx.push(op)?.map_or(Value::Null, |c| c.key))
    }

    /// The row with `key`.
    ///
    /// # Errors
    /// An unknown table.
    pub fn get(&self, key: impl Into<Value>) -> Result<Option<Row>> {
        let key = key.into();
        let row = self.tx.with(|tx| tx.get(&self.name, &key))?;
        Ok(row.map(|row| row.to_row()))
    }

    /// The rows `query` selects.
    ///
    /// # Errors
    /// An unknown table; the query's errors.
    pub fn query(&self, query: &Query) -> Result<Vec<Row>> {
        let result = self.tx.with(|tx| tx.query(&self.name, query))?;
        Ok(result.rows.iter().map(|row| row.to_row()).collect())
    }

    /// How many rows `filter` matches.
    ///
    /// # Errors
    /// As [`TxRows::query`].
    pub fn count_where(&self, filter: Filter) -> Result<usize> {
        let query = Query::new().filter(filter);
        Ok(self.tx.with(|tx| tx.query(&self.name, &query))?.rows.len())
    }

    /// Inserts `row`; returns its key.
    ///
    /// # Errors
    /// The op's errors.
    pub fn insert(&self, row: Row) -> Result<Value> {
        let table = self.name.clone();
        self.write(Op::Insert { table, row })
    }

    /// Inserts or replaces `row`; returns its key.
    ///
    /// # Errors
    /// The op's errors.
    pub fn upsert(&self, row: Row) -> Result<Value> {
        let table = self.name.clone();
        self.write(Op::Upsert { table, row })
    }

    /// Sets the fields of `set` on the row with `key`.
    ///
    /// # Errors
    /// The op's errors (`KeyNotFound` among them).
    pub fn update(&self, key: impl Into<Value>, set: Row) -> Result<()> {
        let (table, key) = (self.name.clone(), key.into());
        self.write(Op::Update { table, key, set })?;
        Ok(())
    }

    /// Changes the row with `key` by `change` and writes the fields it changed back (null for a
    /// field it took out), atomically; returns the row as stored after, or `None` if there is
    /// none.
    ///
    /// # Errors
    /// The op's errors.
    pub fn update_with(
        &self,
        key: impl Into<Value>,
        change: impl FnOnce(&mut Row),
    ) -> Result<Option<Row>> {
        let key = key.into();
        let Some(before) = self.get(key.clone())? else {
            return Ok(None);
        };
        let mut row = before.clone();
        change(&mut row);
        let set = changes(&before, row);
        if set.is_empty() {
            return Ok(Some(before));
        }
        self.update(key.clone(), set)?;
        // The row as stored: a field `change` took out is there as null.
        self.get(key)
    }

    /// Deletes the row with `key`; `false` if there was none.
    ///
    /// # Errors
    /// The op's errors.
    pub fn delete(&self, key: impl Into<Value>) -> Result<bool> {
        let key = key.into();
        if self.get(key.clone())?.is_none() {
            return Ok(false);
        }
        let table = self.name.clone();
        self.write(Op::Delete { table, key })?;
        Ok(true)
    }

    /// Compare-and-set: sets the fields of `set` on the row with `key` only if that row is
    /// still `expected`; otherwise [`Error::Conflict`], and nothing is written.
    ///
    /// # Errors
    /// [`Error::Conflict`]; the op's errors.
    pub fn update_if(&self, key: impl Into<Value>, expected: &Row, set: Row) -> Result<()> {
        let key = self.expect(key.into(), expected)?;
        self.update(key, set)
    }

    /// Compare-and-delete: deletes the row with `key` only if it is still `expected`;
    /// otherwise [`Error::Conflict`], and nothing is deleted.
    ///
    /// # Errors
    /// As [`TxRows::update_if`].
    pub fn delete_if(&self, key: impl Into<Value>, expected: &Row) -> Result<()> {
        let key = self.expect(key.into(), expected)?;
        let table = self.name.clone();
        self.write(Op::Delete { table, key })?;
        Ok(())
    }

    fn expect(&self, key: Value, expected: &Row) -> Result<Value> {
        let current = self.get(key.clone())?;
        if current.as_ref() != Some(expected) {
            return Err(Error::Conflict {
                table: self.name.clone(),
                key,
                current: current.map(Box::new),
            });
        }
        Ok(key)
    }

    /// Changes every row `filter` matches by `change`, all or none; returns how many were
    /// written (rows `change` left as they were are not written).
    ///
    /// # Errors
    /// The filter's errors; the ops' errors, for the first that fails (nothing is written).
    pub fn update_where(&self, filter: Filter, mut change: impl FnMut(&mut Row)) -> Result<usize> {
        let primary_key = self.primary_key()?;
        let query = Query::new().filter(filter);
        let rows = self.tx.with(|tx| tx.query(&self.name, &query))?.rows;
        let mut ops = Vec::new();
        for row in rows {
            let Some(key) = row.get(&primary_key) else {
                continue;
            };
            let before = row.to_row();
            let mut after = before.clone();
            change(&mut after);
            let set = changes(&before, after);
            if set.is_empty() {
                continue;
            }
            ops.push(Op::Update {
                table: self.name.clone(),
                key,
                set,
            });
        }
        let written = ops.len();
        self.tx.with(|tx| tx.push_all(ops))?;
        Ok(written)
    }

    /// Deletes every row `filter` matches, all or none; returns how many.
    ///
    /// # Errors
    /// The filter's errors; a limit.
    pub fn delete_where(&self, filter: Filter) -> Result<usize> {
        let primary_key = self.primary_key()?;
        delete_where(self.tx, &self.name, &primary_key, filter)
    }
}
