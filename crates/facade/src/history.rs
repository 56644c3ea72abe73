//! The history on [`Database`]: reads of the current and past states (`read`, `as_of`), the
//! log (`log`, `history`), tags, diffs, rollbacks, backups, and the database-wide change feed
//! ([`Feed`]). Each is the engine's call with the facade's [`Error`]; [`Database::engine`]
//! reaches the rest.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tabula_core::{Cause, Lsn, Timestamp, Transaction, Value};
use tabula_engine::{
    At, BackupInfo, Committed, Diff, FeedOptions, FeedStop, LogFilter, ReadView, Start,
    Subscription, Version,
};

use crate::{Database, Error, Result};

impl Database {
    /// A consistent view of the whole database as of now: O(1), never blocks writers, and
    /// never changes while held (see [`View`](crate::View)).
    #[must_use]
    pub fn read(&self) -> ReadView {
        self.engine().read()
    }

    /// A view of the database as it was at `at`: an LSN, a time ([`At::Time`]) or a tag.
    ///
    /// ```
    /// use tabula::{At, Database, Row, TableDef, Value};
    /// # let tmp = tempfile::tempdir().unwrap();
    /// let db = Database::open(tmp.path())?;
    /// db.create_table(TableDef::new("t", "id"))?;
    /// db.rows("t").insert(Row::from([("id".to_owned(), Value::Int(1))]))?;
    /// let one = db.tag("one")?;
    /// db.rows("t").delete(1)?;
    /// assert_eq!(db.as_of(At::Tag("one".into()))?.count("t", None)?, 1);
    /// assert_eq!(db.as_of(one)?.lsn(), one);
    /// # Ok::<(), tabula::Error>(())
    /// ```
    ///
    /// # Errors
    /// A point older than the history kept ([`tabula_engine::Error::Pruned`]), an unknown tag,
    /// a point in the future; reading the log.
    pub fn as_of(&self, at: impl Into<At>) -> Result<ReadView> {
        Ok(self.engine().as_of(at)?)
    }

    /// The LSN that `at` names.
    ///
    /// # Errors
    /// As [`Database::as_of`].
    pub fn resolve(&self, at: &At) -> Result<Lsn> {
        Ok(self.engine().resolve(at)?)
    }

    /// The oldest LSN whose state [`Database::as_of`] can still build.
    ///
    /// # Errors
    /// Reading the log or snapshot directories.
    pub fn oldest_available(&self) -> Result<Lsn> {
        Ok(self.engine().oldest_available()?)
    }

    /// The committed transactions that `filter` selects, oldest first, read lazily from the
    /// log.
    ///
    /// # Errors
    /// An in-memory database ([`tabula_engine::Error::NoHistory`]); the start of the range no longer kept.
    /// Each item: reading the log.
    pub fn log(
        &self,
        filter: LogFilter,
    ) -> Result<impl Iterator<Item = Result<Transaction>> + Send + use<>> {
        Ok(self.engine().log(filter)?.map(|tx| tx.map_err(Error::from)))
    }

    /// Every kept version of the row with `key` in `table`, oldest first, with who changed it,
    /// when and why (a key of several columns is the `Value::List` of their values). The typed
    /// form, with keys of the record's key type, is [`Table::history`](crate::Table::history).
    ///
    /// # Errors
    /// An in-memory database ([`tabula_engine::Error::NoHistory`]); a key of the wrong type;
    /// reading the log.
    pub fn history(&self, table: &str, key: impl Into<Value>) -> Result<Vec<Version>> {
        let key = key.into();
        // As the table stores its keys (a key of the wrong type is an error, not an empty
        // history); a table dropped since has no definition to ask, and takes the key as given.
        let key = match self.engine().read().table(table) {
            Some(stored) => stored.def().conform_key(key)?,
            None => key,
        };
        Ok(self.engine().history(table, &key)?)
    }

    /// Names the current state `name` (kept across restarts), and returns its LSN.
    ///
    /// # Errors
    /// A tag of that name exists; writing the tags.
    pub fn tag(&self, name: &str) -> Result<Lsn> {
        Ok(self.engine().tag(name)?)
    }

    /// Deletes the tag `name`.
    ///
    /// # Errors
    /// No such tag; writing the tags.
    pub fn delete_tag(&self, name: &str) -> Result<()> {
        Ok(self.engine().delete_tag(name)?)
    }

    /// Every tag: its name, LSN and when it was made.
    #[must_use]
    pub fn tags(&self) -> Vec<(String, Lsn, Timestamp)> {
        self.engine().tags()
    }

    /// What changed between the states at `a` and at `b`, row by row.
    ///
    /// # Errors
    /// As [`Database::as_of`] for either point.
    pub fn diff(&self, a: impl Into<At>, b: impl Into<At>) -> Result<Diff> {
        Ok(self.engine().diff(a, b)?)
    }

    /// Commits the changes that bring the database back to its state at `point`, as one new
    /// transaction (the history in between stays readable).
    ///
    /// # Errors
    /// As [`Database::as_of`]; the commit's errors.
    pub fn rollback_to(&self, point: impl Into<At>, cause: Option<Cause>) -> Result<Committed> {
        Ok(self.engine().rollback_to(point, cause)?)
    }

    /// A consistent backup of the database into the new directory `dir`, made while writers go
    /// on; open it as a database, or restore from it with [`tabula_engine::restore`].
    ///
    /// # Errors
    /// `dir` exists and is not empty; I/O.
    pub fn backup(&self, dir: impl AsRef<Path>) -> Result<BackupInfo> {
        Ok(self.engine().backup(dir)?)
    }

    /// Builds a new database in `new_dir` holding the state at `at`, and returns its LSN.
    ///
    /// # Errors
    /// As [`Database::as_of`]; `new_dir` exists and is not empty; I/O.
    pub fn restore_to(&self, at: impl Into<At>, new_dir: impl AsRef<Path>) -> Result<Lsn> {
        Ok(self.engine().restore_to(at, new_dir)?)
    }

    /// The committed transactions from `start` on, in LSN order, without gap or duplicate:
    /// the retained history first, then live commits. The typed form of one table is
    /// [`Table::subscribe`](crate::Table::subscribe).
    ///
    /// ```
    /// use tabula::{Database, FeedOptions, Row, Start, TableDef, Value};
    ///
    /// let db = Database::open_in_memory();
    /// db.create_table(TableDef::new("t", "id"))?;
    /// let mut feed = db.subscribe(Start::Now, FeedOptions::new().table("t"))?;
    /// let stop = feed.stopper();
    /// db.rows("t").insert(Row::from([("id".to_owned(), Value::Int(1))]))?;
    /// assert_eq!(feed.next().unwrap()?.ops.len(), 1);
    /// // From any thread: a `for tx in feed` blocked in another thread ends.
    /// stop.stop();
    /// assert!(feed.next().is_none());
    /// # Ok::<(), tabula::Error>(())
    /// ```
    ///
    /// # Errors
    /// A start older than the history kept.
    pub fn subscribe(&self, start: Start, options: FeedOptions) -> Result<Feed> {
        Ok(Feed {
            subscription: self.engine().subscribe(start, options)?,
        })
    }
}

/// The change feed of the whole database, from [`Database::subscribe`]: an iterator of
/// committed transactions that waits for the next commit. It ends (`None`) when the database
/// closes, when a [`FeedStop`] stops it, and after an error (a reader too slow for the buffer
/// gets [`tabula_engine::Error::Lagged`] rather than slowing commits).
#[derive(Debug)]
pub struct Feed {
    subscription: Subscription,
}

impl Feed {
    /// The next transaction, waiting at most `timeout`; `None` if none came in time or the
    /// feed ended (see [`Feed::is_closed`]).
    pub fn next_timeout(&mut self, timeout: Duration) -> Option<Result<Arc<Transaction>>> {
        self.subscription
            .next_timeout(timeout)
            .map(|item| item.map_err(Error::from))
    }

    /// Whether the feed has ended.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.subscription.is_closed()
    }

    /// A handle that ends this feed from any thread.
    #[must_use]
    pub fn stopper(&self) -> FeedStop {
        self.subscription.stopper()
    }
}

impl Iterator for Feed {
    type Item = Result<Arc<Transaction>>;

    fn next(&mut self) -> Option<Result<Arc<Transaction>>> {
        self.subscription
            .next()
            .map(|item| item.map_err(Error::from))
    }
}
