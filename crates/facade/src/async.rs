//! The `async` feature: the calls that wait on the disk, run on tokio's blocking pool
//! (`spawn_blocking`) so that they never block the async runtime, as DictDB's `async_save` and
//! `async_load` run in a thread. Works on a current-thread runtime too: the blocking pool is
//! separate from it. Cancelling the returned future does not cancel the call: a commit that
//! started still commits.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use serde::Serialize;
use tabula_codec::Format;
use tabula_core::{Filter, Op, Transaction};
use tabula_engine::{At, BackupInfo, Committed, FeedStop, Options};

use crate::record::key_value;
use crate::{Database, Error, Record, RecordVersion, Result, Table, TableView, WriteTransaction};

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Background(e.to_string()))?
}

impl Database {
    /// [`Database::with_options`] on the blocking pool.
    ///
    /// # Errors
    /// As [`Database::with_options`].
    pub async fn open_async(dir: impl AsRef<Path>, options: Options) -> Result<Database> {
        let dir = dir.as_ref().to_path_buf();
        blocking(move || Database::with_options(dir, options)).await
    }

    /// [`Database::commit`] on the blocking pool: the wait for the fsync (shared
    /// with concurrent commits) does not hold the runtime's thread.
    ///
    /// # Errors
    /// As [`Database::commit`].
    pub async fn commit_async(&self, ops: Vec<Op>) -> Result<Committed> {
        let db = self.clone();
        blocking(move || Ok(db.engine().commit(ops)?)).await
    }

    /// [`Database::transaction`] on the blocking pool: `body` runs there, under the writer
    /// lock, and the wait for the fsync does not hold the runtime's thread. A `body` that
    /// panics commits nothing and gives [`Error::Background`].
    ///
    /// # Errors
    /// As [`Database::transaction`].
    pub async fn transaction_async<R: Send + 'static>(
        &self,
        body: impl for<'t> FnOnce(&'t WriteTransaction<'t>) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let db = self.clone();
        blocking(move || db.transaction(body)).await
    }

    /// [`Database::save`] on the blocking pool.
    ///
    /// # Errors
    /// As [`Database::save`].
    pub async fn save_async(&self, path: impl AsRef<Path>, format: Format) -> Result<()> {
        let (db, path) = (self.clone(), path.as_ref().to_path_buf());
        blocking(move || Ok(db.engine().save(path, format)?)).await
    }

    /// [`tabula_engine::load_file`] on the blocking pool: a saved database, snapshot, backup or
    /// DictDB JSON file, read into a database state (import it with
    /// [`Database::import`]).
    ///
    /// # Errors
    /// As [`tabula_engine::load_file`].
    pub async fn load_async(path: impl AsRef<Path>) -> Result<tabula_core::State> {
        let path: PathBuf = path.as_ref().to_path_buf();
        blocking(move || Ok(tabula_engine::load_file(path, &Options::default().limits)?)).await
    }

    /// [`Database::backup`] on the blocking pool.
    ///
    /// # Errors
    /// As [`Database::backup`].
    pub async fn backup_async(&self, dir: impl AsRef<Path>) -> Result<BackupInfo> {
        let (db, dir) = (self.clone(), dir.as_ref().to_path_buf());
        blocking(move || Ok(db.engine().backup(dir)?)).await
    }
}

impl Database {
    /// [`Database::close`] on the blocking pool (it syncs the log).
    ///
    /// # Errors
    /// As [`Database::close`].
    pub async fn close_async(self) -> Result<()> {
        blocking(move || self.close()).await
    }
}

/// The typed calls that commit (and so wait for the sync policy) or read the log, on the
/// blocking pool. Records are taken by value, since the call outlives the caller's borrow.
impl<T: Record + Send + Sync + 'static> Table<T> {
    /// [`Table::insert`] on the blocking pool.
    ///
    /// # Errors
    /// As [`Table::insert`].
    pub async fn insert_async(&self, record: T) -> Result<T::Key> {
        let table = self.clone();
        blocking(move || table.insert(&record)).await
    }

    /// [`Table::insert_all`] on the blocking pool: one transaction.
    ///
    /// # Errors
    /// As [`Table::insert_all`].
    pub async fn insert_all_async(&self, records: Vec<T>) -> Result<Vec<T::Key>> {
        let table = self.clone();
        blocking(move || table.insert_all(&records)).await
    }

    /// [`Table::upsert`] on the blocking pool.
    ///
    /// # Errors
    /// As [`Table::upsert`].
    pub async fn upsert_async(&self, record: T) -> Result<T::Key> {
        let table = self.clone();
        blocking(move || table.upsert(&record)).await
    }

    /// [`Table::replace`] on the blocking pool.
    ///
    /// # Errors
    /// As [`Table::replace`].
    pub async fn replace_async(&self, record: T) -> Result<bool> {
        let table = self.clone();
        blocking(move || table.replace(&record)).await
    }

    /// [`Table::update_if`] on the blocking pool.
    ///
    /// # Errors
    /// As [`Table::update_if`].
    pub async fn update_if_async(&self, expected: T, new: T) -> Result<()> {
        let table = self.clone();
        blocking(move || table.update_if(&expected, &new)).await
    }

    /// [`Table::delete_if`] on the blocking pool.
    ///
    /// # Errors
    /// As [`Table::delete_if`].
    pub async fn delete_if_async(&self, expected: T) -> Result<()> {
        let table = self.clone();
        blocking(move || table.delete_if(&expected)).await
    }

    /// [`Table::delete`] on the blocking pool.
    ///
    /// # Errors
    /// As [`Table::delete`].
    pub async fn delete_async(&self, key: impl Serialize) -> Result<bool> {
        let (table, key) = (self.clone(), key_value(self.def_ref(), &key)?);
        blocking(move || table.delete_key(key)).await
    }

    /// [`Table::update_where`] on the blocking pool: one transaction.
    ///
    /// # Errors
    /// As [`Table::update_where`].
    pub async fn update_where_async(
        &self,
        filter: Filter,
        change: impl FnMut(&mut T) + Send + 'static,
    ) -> Result<usize> {
        let table = self.clone();
        blocking(move || table.update_where(filter, change)).await
    }

    /// [`Table::delete_where`] on the blocking pool: one transaction.
    ///
    /// # Errors
    /// As [`Table::delete_where`].
    pub async fn delete_where_async(&self, filter: Filter) -> Result<usize> {
        let table = self.clone();
        blocking(move || table.delete_where(filter)).await
    }

    /// [`Table::history`] on the blocking pool (it reads the log).
    ///
    /// # Errors
    /// As [`Table::history`].
    pub async fn history_async(&self, key: impl Serialize) -> Result<Vec<RecordVersion<T>>> {
        let (table, key) = (self.clone(), key_value(self.def_ref(), &key)?);
        blocking(move || table.history_key(&key)).await
    }

    /// [`Table::as_of`] on the blocking pool (it reads snapshots and the log); the view's
    /// reads are in memory.
    ///
    /// # Errors
    /// As [`Table::as_of`].
    pub async fn as_of_async(&self, at: impl Into<At>) -> Result<TableView<T>> {
        let (table, at) = (self.clone(), at.into());
        blocking(move || table.as_of(at)).await
    }
}

impl<T: Record + Send + 'static> Table<T> {
    /// [`Table::update`] on the blocking pool: atomic, as it is.
    ///
    /// # Errors
    /// As [`Table::update`].
    pub async fn update_async(
        &self,
        key: impl Serialize,
        change: impl FnOnce(&mut T) + Send + 'static,
    ) -> Result<Option<T>> {
        let (table, key) = (self.clone(), key_value(self.def_ref(), &key)?);
        blocking(move || table.update_key(key, change)).await
    }

    /// [`Table::upsert_with`] on the blocking pool: atomic, as it is.
    ///
    /// # Errors
    /// As [`Table::upsert_with`].
    pub async fn upsert_with_async(
        &self,
        key: impl Serialize,
        make: impl FnOnce(Option<T>) -> T + Send + 'static,
    ) -> Result<T> {
        let (table, key) = (self.clone(), key_value(self.def_ref(), &key)?);
        blocking(move || table.upsert_with_key(key, make)).await
    }
}

/// A feed's items handed from its thread to async code: the thread waits on the blocking
/// feed and sends each item over a bounded channel (a slow consumer holds the thread back, and
/// the feed's own buffer then cuts it off with `Lagged`, as the blocking feed does).
#[derive(Debug)]
struct Relay<I> {
    receiver: tokio::sync::mpsc::Receiver<Result<I>>,
    /// Ends the feed's thread when the relay is dropped, at once rather than at its next item.
    stop: FeedStop,
}

impl<I: Send + 'static> Relay<I> {
    fn start(
        name: String,
        feed: impl Iterator<Item = Result<I>> + Send + 'static,
        stop: FeedStop,
    ) -> Result<Relay<I>> {
        let (sender, receiver) = tokio::sync::mpsc::channel(64);
        std::thread::Builder::new()
            .name(name)
            .spawn(move || {
                for item in feed {
                    let failed = item.is_err();
                    if sender.blocking_send(item).is_err() || failed {
                        break;
                    }
                }
            })
            .map_err(|e| Error::Background(e.to_string()))?;
        Ok(Relay { receiver, stop })
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<I>>> {
        self.receiver.poll_recv(cx)
    }
}

impl<I> Drop for Relay<I> {
    fn drop(&mut self) {
        self.stop.stop();
    }
}

/// The typed change feed for async code, from [`Table::subscribe_async`]: a
/// [`Stream`](futures_core::Stream) of changes (or `next().await`) that never blocks the
/// runtime. It ends when the database closes, after an error, or when it is dropped.
#[derive(Debug)]
pub struct AsyncTableFeed<T> {
    relay: Relay<crate::Change<T>>,
}

impl<T: Send + 'static> AsyncTableFeed<T> {
    /// The next change, once one is committed; `None` when the feed ended (the database was
    /// closed, or the feed failed with the error returned just before).
    pub async fn next(&mut self) -> Option<Result<crate::Change<T>>> {
        std::future::poll_fn(|cx| self.relay.poll(cx)).await
    }
}

impl<T: Send + 'static> futures_core::Stream for AsyncTableFeed<T> {
    type Item = Result<crate::Change<T>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().relay.poll(cx)
    }
}

impl<T: Record + Send + 'static> Table<T> {
    /// [`Table::subscribe`] for async code: the same changes, awaited.
    ///
    /// # Errors
    /// As [`Table::subscribe`]; [`Error::Background`] if the feed's thread cannot start.
    pub fn subscribe_async(&self, start: tabula_engine::Start) -> Result<AsyncTableFeed<T>> {
        let feed = self.subscribe(start)?;
        let stop = feed.stopper();
        Ok(AsyncTableFeed {
            relay: Relay::start(format!("tabula-feed-{}", self.name()), feed, stop)?,
        })
    }
}

/// The database's change feed for async code, from [`Database::subscribe_async`]: a
/// [`Stream`](futures_core::Stream) of committed transactions (or `next().await`). It ends when
/// the database closes, after an error, or when it is dropped.
#[derive(Debug)]
pub struct AsyncFeed {
    relay: Relay<Arc<Transaction>>,
}

impl AsyncFeed {
    /// The next transaction, once one is committed; `None` when the feed ended.
    pub async fn next(&mut self) -> Option<Result<Arc<Transaction>>> {
        std::future::poll_fn(|cx| self.relay.poll(cx)).await
    }
}

impl futures_core::Stream for AsyncFeed {
    type Item = Result<Arc<Transaction>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().relay.poll(cx)
    }
}

impl Database {
    /// [`Database::subscribe`] for async code: the same transactions, awaited.
    ///
    /// # Errors
    /// As [`Database::subscribe`]; [`Error::Background`] if the feed's thread cannot start.
    pub fn subscribe_async(
        &self,
        start: tabula_engine::Start,
        options: tabula_engine::FeedOptions,
    ) -> Result<AsyncFeed> {
        let feed = self.subscribe(start, options)?;
        let stop = feed.stopper();
        Ok(AsyncFeed {
            relay: Relay::start("tabula-feed".to_owned(), feed, stop)?,
        })
    }
}
