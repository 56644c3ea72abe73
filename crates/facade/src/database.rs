//! [`Database`]: an open tabula database, the handle applications keep: opening and closing,
//! typed tables ([`Database::table`]) and untyped ones ([`Database::rows`]). The engine's
//! features are its methods too, each with the facade's one [`crate::Error`] (`history.rs`:
//! reads, time travel, the log, tags, diffs, backups, the feed; `maintenance.rs`: commits,
//! migrations, TTL, checkpoints, statistics, files); [`Database::engine`] reaches the rest.
//! It does not deref to the engine, so no engine method with the engine's error type shows
//! through as facade API.

use std::path::Path;
use std::sync::Arc;

use tabula_core::{Filter, Op, Query, Row, TableDef, Value};
use tabula_engine::{Engine, Migration, Options, RecoveryReport};

use crate::Result;
use crate::record::{Record, ensure_compatible};
use crate::transaction::{TxRows, run};
use crate::typed::Table;

/// An open database. Clones share it; it closes when the last clone (and the last table
/// handle) is dropped, or at [`Database::close`].
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use tabula::{Database, Record};
///
/// #[derive(Debug, PartialEq, Serialize, Deserialize, Record)]
/// struct Note {
///     #[tabula(primary_key)]
///     id: i64,
///     text: String,
/// }
///
/// let dir = tempfile::tempdir()?;
/// let db = Database::open(dir.path())?;
/// let notes = db.table::<Note>()?;
/// notes.insert(&Note { id: 1, text: "hello".into() })?;
/// drop(notes);
/// db.close()?;
///
/// let db = Database::open(dir.path())?;
/// let notes = db.table::<Note>()?;
/// assert_eq!(notes.get(1)?, Some(Note { id: 1, text: "hello".into() }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Database {
    engine: Arc<Engine>,
}

impl Database {
    /// Opens (creating if needed) the database in `dir` with the default [`Options`]: durable
    /// commits, automatic checkpoints, a week of history.
    ///
    /// # Errors
    /// The directory is locked by another process or handle, unreadable, or damaged beyond
    /// what recovery repairs.
    pub fn open(dir: impl AsRef<Path>) -> Result<Database> {
        Database::with_options(dir, Options::default())
    }

    /// Opens the database in `dir` with `options`.
    ///
    /// # Errors
    /// As [`Database::open`].
    pub fn with_options(dir: impl AsRef<Path>, options: Options) -> Result<Database> {
        Ok(Database::from_engine(Engine::open(dir, options)?.0))
    }

    /// Opens the database in `dir` for reading only, beside a running writer or on read-only
    /// storage: no lock, not a byte written, a torn end of the log left out in memory and left
    /// alone on disk; writes are refused ([`tabula_engine::Error::ReadOnly`]), and
    /// [`Database::refresh`] reads what the writer committed since. As SQLite and redb let
    /// readers open beside a writer.
    ///
    /// ```
    /// use tabula::{Database, Op, TableDef};
    /// # let tmp = tempfile::tempdir()?;
    /// let writer = Database::open(tmp.path())?;
    /// writer.create_table(TableDef::new("t", "id"))?;
    /// let reader = Database::open_read_only(tmp.path())?;
    /// assert!(reader.read().table("t").is_some());
    /// assert!(reader.create_table(TableDef::new("u", "id")).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// `dir` missing or not a database; damage a normal open would refuse.
    pub fn open_read_only(dir: impl AsRef<Path>) -> Result<Database> {
        Ok(Database::from_engine(
            Engine::open_read_only(dir, Options::default())?.0,
        ))
    }

    /// Opens the database in `dir` and applies `migrations` (those not applied yet, in order)
    /// before returning it.
    ///
    /// # Errors
    /// As [`Database::open`] and [`Database::migrate`].
    pub fn open_migrated(
        dir: impl AsRef<Path>,
        options: Options,
        migrations: &[Migration],
    ) -> Result<Database> {
        Ok(Database::from_engine(
            Engine::open_migrated(dir, options, migrations)?.0,
        ))
    }

    /// A database in memory only: nothing is written anywhere (for tests and caches).
    #[must_use]
    pub fn open_in_memory() -> Database {
        Database::from_engine(Engine::in_memory(Options::default()))
    }

    /// Wraps an engine opened by hand.
    #[must_use]
    pub fn from_engine(engine: Engine) -> Database {
        Database {
            engine: Arc::new(engine),
        }
    }

    /// The engine underneath, for what `Database` does not offer itself (the transaction log,
    /// the clock); its calls return [`tabula_engine::Error`].
    #[must_use]
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// What the open recovered.
    #[must_use]
    pub fn recovery(&self) -> &RecoveryReport {
        self.engine.recovery_report()
    }

    /// The table of `T`, created (in a logged transaction) if it does not exist yet.
    ///
    /// # Errors
    /// [`crate::Error::SchemaMismatch`] if the stored table differs from `T`'s definition,
    /// naming the field and the migration that would fix it; commit errors.
    pub fn table<T: Record>(&self) -> Result<Table<T>> {
        let wanted = T::definition();
        loop {
            if let Some(stored) = self.engine.read().table(&wanted.name) {
                ensure_compatible(stored.def(), &wanted)?;
                return Ok(Table::new(Arc::clone(&self.engine), wanted));
            }
            match self.engine.commit(vec![Op::CreateTable(wanted.clone())]) {
                Ok(_) => return Ok(Table::new(Arc::clone(&self.engine), wanted)),
                // Another thread created it meanwhile: check it against the struct.
                Err(tabula_engine::Error::Rejected(e))
                    if matches!(*e, tabula_core::Error::TableExists { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Creates a table from a definition (typed or schemaless), for the untyped API.
    ///
    /// # Errors
    /// An existing table of that name, an invalid definition, commit errors.
    pub fn create_table(&self, def: TableDef) -> Result<()> {
        self.engine.commit(vec![Op::CreateTable(def)])?;
        Ok(())
    }

    /// The table `name` with untyped rows (maps of [`Value`]), for tools and schemaless tables.
    #[must_use]
    pub fn rows(&self, name: impl Into<String>) -> Rows {
        Rows {
            engine: Arc::clone(&self.engine),
            name: name.into(),
        }
    }

    /// Closes the database: stops the background thread, syncs the log, releases the
    /// directory. Dropping the last handle does the same without reporting failures.
    ///
    /// # Errors
    /// [`crate::Error::InUse`] if other handles (clones, tables) still use it (dropping this
    /// one); a failed final sync.
    pub fn close(self) -> Result<()> {
        match Arc::try_unwrap(self.engine) {
            Ok(engine) => Ok(engine.close()?),
            Err(engine) => Err(crate::Error::InUse {
                handles: Arc::strong_count(&engine) - 1,
            }),
        }
    }
}

/// A table with untyped rows, from [`Database::rows`]. Each write is its own transaction (the
/// read-modify-writes among them atomic); use [`Database::transaction`] to group several.
///
/// ```
/// use tabula::{Database, Query, Row, TableDef, Value};
///
/// let db = Database::open_in_memory();
/// db.create_table(TableDef::new("kv", "k"))?;
/// let kv = db.rows("kv");
/// let row = |k: &str, v: i64| Row::from([("k".to_owned(), Value::from(k)), ("v".to_owned(), Value::Int(v))]);
/// kv.insert(row("a", 1))?;
/// kv.upsert(row("b", 2))?;
/// kv.update("a", Row::from([("v".to_owned(), Value::Int(3))]))?;
/// kv.delete("b")?;
/// assert_eq!(kv.get("a")?.unwrap()["v"], Value::Int(3));
/// assert_eq!(kv.query(&Query::new())?.len(), 1);
/// # Ok::<(), tabula::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Rows {
    engine: Arc<Engine>,
    name: String,
}

impl Rows {
    /// Inserts `row`; returns its key.
    ///
    /// # Errors
    /// The transaction's errors.
    pub fn insert(&self, row: Row) -> Result<Value> {
        let table = self.name.clone();
        let committed = self.engine.commit(vec![Op::Insert { table, row }])?;
        Ok(committed
            .changes
            .into_iter()
            .next()
            .map_or(Value::Null, |c| c.key))
    }

    /// Inserts or replaces `row`.
    ///
    /// # Errors
    /// The transaction's errors.
    pub fn upsert(&self, row: Row) -> Result<()> {
        let table = self.name.clone();
        self.engine.commit(vec![Op::Upsert { table, row }])?;
        Ok(())
    }

    /// Sets the fields of `set` on the row with `key`.
    ///
    /// # Errors
    /// The transaction's errors (`KeyNotFound` among them).
    pub fn update(&self, key: impl Into<Value>, set: Row) -> Result<()> {
        let (table, key) = (self.name.clone(), key.into());
        self.engine.commit(vec![Op::Update { table, key, set }])?;
        Ok(())
    }

    /// Deletes the row with `key`.
    ///
    /// # Errors
    /// The transaction's errors (`KeyNotFound` among them).
    pub fn delete(&self, key: impl Into<Value>) -> Result<()> {
        let (table, key) = (self.name.clone(), key.into());
        self.engine.commit(vec![Op::Delete { table, key }])?;
        Ok(())
    }

    /// Runs `body` on this table in a write transaction of its own.
    fn in_transaction<R>(&self, body: impl for<'t> FnOnce(TxRows<'t>) -> Result<R>) -> Result<R> {
        let (value, _) = run(&self.engine, None, |tx| body(tx.rows(self.name.clone())))?;
        Ok(value)
    }

    /// Changes the row with `key` by `change` and writes it back, in one transaction (the read
    /// and the write are atomic); returns the row after, or `None` if there is none.
    ///
    /// # Errors
    /// The transaction's errors.
    pub fn update_with(
        &self,
        key: impl Into<Value>,
        change: impl FnOnce(&mut Row),
    ) -> Result<Option<Row>> {
        let key = key.into();
        self.in_transaction(move |t| t.update_with(key, change))
    }

    /// Compare-and-set: sets the fields of `set` on the row with `key` only if it is still
    /// `expected`; otherwise [`crate::Error::Conflict`] and nothing is written.
    ///
    /// # Errors
    /// As [`TxRows::update_if`].
    pub fn update_if(&self, key: impl Into<Value>, expected: &Row, set: Row) -> Result<()> {
        let key = key.into();
        self.in_transaction(move |t| t.update_if(key, expected, set))
    }

    /// Compare-and-delete: deletes the row with `key` only if it is still `expected`.
    ///
    /// # Errors
    /// As [`TxRows::delete_if`].
    pub fn delete_if(&self, key: impl Into<Value>, expected: &Row) -> Result<()> {
        let key = key.into();
        self.in_transaction(move |t| t.delete_if(key, expected))
    }

    /// Changes every row `filter` matches by `change`, in one transaction (all or none);
    /// returns how many were written.
    ///
    /// # Errors
    /// As [`TxRows::update_where`].
    pub fn update_where(&self, filter: Filter, change: impl FnMut(&mut Row)) -> Result<usize> {
        self.in_transaction(move |t| t.update_where(filter, change))
    }

    /// Deletes every row `filter` matches, in one transaction; returns how many.
    ///
    /// # Errors
    /// As [`TxRows::delete_where`].
    pub fn delete_where(&self, filter: Filter) -> Result<usize> {
        self.in_transaction(move |t| t.delete_where(filter))
    }

    /// How many rows `filter` matches now.
    ///
    /// # Errors
    /// An unknown table; the filter's errors.
    pub fn count_where(&self, filter: Filter) -> Result<usize> {
        let query = Query::new().filter(filter);
        Ok(self.engine.read().query(&self.name, &query)?.rows.len())
    }

    /// The row with `key`.
    ///
    /// # Errors
    /// An unknown table.
    pub fn get(&self, key: impl Into<Value>) -> Result<Option<Row>> {
        let db = self.engine.read();
        Ok(db.get(&self.name, &key.into())?.map(|row| row.to_row()))
    }

    /// The rows `query` selects.
    ///
    /// # Errors
    /// An unknown table; the query's errors.
    pub fn query(&self, query: &Query) -> Result<Vec<Row>> {
        let result = self.engine.read().query(&self.name, query)?;
        Ok(result.rows.iter().map(|row| row.to_row()).collect())
    }
}
