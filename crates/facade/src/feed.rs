//! The typed change feed: [`Table::subscribe`] gives each change to one table's rows as a
//! [`Change<T>`], with the record before and after, the commit's LSN, time and cause.
//!
//! Underneath it is the engine's feed ([`tabula_engine::Engine::subscribe`]) of the table's
//! transactions, replayed onto a copy of that one table: applying the table's ops reports each
//! row's before and after exactly as the commit changed it (`State::apply`'s `RowChange`s), so a
//! delete carries the record it removed, and a transaction that changes a row twice gives two
//! changes in order.

use std::collections::VecDeque;
use std::marker::PhantomData;

use tabula_core::{Cause, Lsn, Op, State, Timestamp, Transaction, Value};
use tabula_engine::{FeedOptions, FeedStop, Start, Subscription};

use crate::record::from_row;
use crate::{Error, Record, Result, Table};

/// One change to a row of a typed table, from [`Table::subscribe`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Change<T> {
    /// The committing transaction's LSN.
    pub lsn: Lsn,
    /// When it was committed.
    pub timestamp: Timestamp,
    /// Why, if the committer said.
    pub cause: Option<Cause>,
    /// The row's key.
    pub key: Value,
    /// The record before (`None`: inserted).
    pub before: Option<T>,
    /// The record after (`None`: deleted).
    pub after: Option<T>,
}

/// The changes to one typed table, in commit order: an iterator that waits for the next commit
/// (see [`Table::subscribe`]).
#[derive(Debug)]
pub struct TableFeed<T> {
    table: String,
    subscription: Subscription,
    /// The table as of the last change delivered (only this table).
    db: State,
    pending: VecDeque<Change<T>>,
    _record: PhantomData<fn() -> T>,
}

impl<T: Record> Table<T> {
    /// The changes to this table's rows from `start` on, typed: `Start::Now` for commits after
    /// this call, `Start::After(lsn)` to replay the retained history after `lsn` first (a
    /// database on a directory). Each transaction of other tables is skipped; a slow reader is
    /// cut off with the engine's `Lagged` error rather than slowing commits.
    ///
    /// ```
    /// use serde::{Deserialize, Serialize};
    /// use tabula::{Database, Record, Start};
    ///
    /// #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
    /// struct Item {
    ///     #[tabula(primary_key)]
    ///     id: i64,
    ///     qty: i64,
    /// }
    ///
    /// let db = Database::open_in_memory();
    /// let items = db.table::<Item>()?;
    /// let mut feed = items.subscribe(Start::Now)?;
    /// items.insert(&Item { id: 1, qty: 5 })?;
    /// items.update(1, |item| item.qty -= 1)?;
    /// let inserted = feed.next().unwrap()?;
    /// assert_eq!((inserted.before, inserted.after), (None, Some(Item { id: 1, qty: 5 })));
    /// let updated = feed.next().unwrap()?;
    /// assert_eq!(updated.before, Some(Item { id: 1, qty: 5 }));
    /// assert_eq!(updated.after, Some(Item { id: 1, qty: 4 }));
    /// # Ok::<(), tabula::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Database::subscribe`](crate::Database::subscribe) and [`Table::as_of`] (a point no longer kept).
    pub fn subscribe(&self, start: Start) -> Result<TableFeed<T>> {
        let engine = self.engine_ref();
        let name = self.name().to_owned();
        let options = FeedOptions::new().table(name.clone());
        // The feed starts right after the state it replays onto. For `Now`, that is the state
        // read here; a commit between that read and the subscription is caught up from the log
        // (an in-memory database has none: then read again).
        let mut attempts = 0;
        let (base, subscription) = loop {
            let base = match start {
                Start::After(lsn) => engine.as_of(lsn)?.state().clone(),
                _ => engine.read().state().clone(),
            };
            match engine.subscribe(Start::After(base.lsn()), options.clone()) {
                Ok(subscription) => break (base, subscription),
                Err(tabula_engine::Error::Pruned { .. })
                    if attempts < 16 && !matches!(start, Start::After(_)) =>
                {
                    attempts += 1;
                }
                Err(error) => return Err(error.into()),
            }
        };
        let db = State::from_tables(base.lsn(), base.table(&name).cloned(), *base.limits())?;
        Ok(TableFeed {
            table: name,
            subscription,
            db,
            pending: VecDeque::new(),
            _record: PhantomData,
        })
    }
}

impl<T> TableFeed<T> {
    /// A handle that ends this feed from any thread: a `for change in feed` blocked in
    /// another thread waiting for a commit returns at once.
    #[must_use]
    pub fn stopper(&self) -> FeedStop {
        self.subscription.stopper()
    }
}

impl<T: Record> TableFeed<T> {
    /// Applies `tx`'s ops on this table to the copy, queueing a change per row changed.
    fn apply(&mut self, tx: &Transaction) -> Result<()> {
        let ops: Vec<Op> = tx
            .ops
            .iter()
            .filter(|op| op.table() == self.table)
            .cloned()
            .collect();
        if ops.is_empty() {
            return Ok(());
        }
        let filtered = Transaction {
            lsn: tx.lsn,
            timestamp: tx.timestamp,
            cause: None,
            ops,
        };
        let changes = self.db.apply_owned(filtered)?;
        for change in changes {
            let record = |row: Option<&tabula_core::RowRef>| -> Result<Option<T>> {
                row.map(|row| from_row(row, &self.table)).transpose()
            };
            self.pending.push_back(Change {
                lsn: tx.lsn,
                timestamp: tx.timestamp,
                cause: tx.cause.clone(),
                before: record(change.before.as_ref())?,
                after: record(change.after.as_ref())?,
                key: change.key,
            });
        }
        Ok(())
    }
}

impl<T: Record> Iterator for TableFeed<T> {
    type Item = Result<Change<T>>;

    /// The next change, waiting for a commit that makes one.
    fn next(&mut self) -> Option<Result<Change<T>>> {
        loop {
            if let Some(change) = self.pending.pop_front() {
                return Some(Ok(change));
            }
            let tx = match self.subscription.next()? {
                Ok(tx) => tx,
                Err(error) => return Some(Err(Error::from(error))),
            };
            if let Err(error) = self.apply(&tx) {
                return Some(Err(error));
            }
        }
    }
}
