//! SQLite (through rusqlite, the bundled library) as a [`Store`]: WAL mode, `synchronous=FULL`
//! for durable commits and `OFF` for not, one `WITHOUT ROWID` table of key and value (the row's
//! JSON), one connection per thread as SQLite wants.
//!
//! Every writer shares one write connection behind a mutex, as SQLite applications with many
//! writer threads do: SQLite takes one writer at a time anyway, and writers with connections of
//! their own wait for its lock in the busy handler, which sleeps (64 such writers make about 100
//! commits/s here). Reads run on each handle's own connection, inside one read transaction per
//! handle, like tabula's read view, so a point read is one B-tree lookup rather than a
//! transaction of its own.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::{Connection, params};
use std::sync::Mutex;
use tabula_peers::data::{key, value};

use crate::Result;
use crate::store::{Contender, Dump, Handle, Store};

/// SQLite's version, as the library reports it.
pub fn version() -> String {
    rusqlite::version().to_owned()
}

/// SQLite with `synchronous=FULL` (`durable`) or `OFF`.
pub fn contender(durable: bool) -> Contender {
    Contender {
        engine: "SQLite",
        setting: if durable {
            "WAL, synchronous=FULL"
        } else {
            "WAL, synchronous=OFF"
        }
        .to_owned(),
        open: Box::new(move |dir| Ok(Box::new(SqliteStore::open(dir, durable)?) as Box<dyn Store>)),
    }
}

/// The database file in `dir`.
pub fn file(dir: &Path) -> PathBuf {
    dir.join("bench.sqlite")
}

/// An open SQLite database: its path, and the write connection every handle shares (held open
/// for the store's life, which also keeps the WAL from being checkpointed away each time a
/// reading connection closes).
pub struct SqliteStore {
    path: PathBuf,
    durable: bool,
    writer: Mutex<Connection>,
}

/// A connection to `path` with the benchmark's settings.
pub fn connect(path: &Path, durable: bool) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(600))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", if durable { "FULL" } else { "OFF" })?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens (or creates) the database in `dir`.
    pub fn open(dir: &Path, durable: bool) -> Result<SqliteStore> {
        let path = file(dir);
        let anchor = connect(&path, durable)?;
        anchor.execute(
            "CREATE TABLE IF NOT EXISTS rows (k TEXT PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID",
            [],
        )?;
        Ok(SqliteStore {
            path,
            durable,
            writer: Mutex::new(anchor),
        })
    }
}

impl SqliteStore {
    /// Adjusts the shared write connection.
    pub fn setup_writer(&self, setup: impl FnOnce(&Connection) -> Result<()>) -> Result<()> {
        setup(
            &*self
                .writer
                .lock()
                .map_err(|_| "SQLite: writer lock poisoned")?,
        )
    }

    /// A connection with the store's settings, for work beside the handles (checkpoints, dumps).
    pub fn connection(&self) -> Result<Connection> {
        connect(&self.path, self.durable)
    }
}

impl Store for SqliteStore {
    fn handle(&self) -> Result<Box<dyn Handle + '_>> {
        Ok(Box::new(SqliteHandle {
            writer: &self.writer,
            conn: connect(&self.path, self.durable)?,
            reading: false,
        }))
    }

    fn checkpoint(&self) -> Option<Result<()>> {
        let run = || -> Result<()> {
            let conn = self.connection()?;
            // TRUNCATE: copy the WAL into the database, fsync, and empty the WAL, waiting for
            // writers as it must: SQLite's nearest thing to a full checkpoint.
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            Ok(())
        };
        Some(run())
    }

    fn dump(&self, dir: &Path) -> Result<Vec<Dump>> {
        let path = dir.join("dump.sqlite");
        let conn = self.connection()?;
        let start = Instant::now();
        conn.execute("VACUUM INTO ?1", params![path.to_string_lossy()])?;
        let write_seconds = start.elapsed().as_secs_f64();
        let bytes = std::fs::metadata(&path)?.len();
        std::fs::remove_file(&path)?;
        Ok(vec![Dump {
            format: "VACUUM INTO".to_owned(),
            bytes,
            write_seconds,
            load_seconds: None,
        }])
    }
}

struct SqliteHandle<'a> {
    /// The shared write connection.
    writer: &'a Mutex<Connection>,
    /// This handle's reading connection.
    conn: Connection,
    /// Whether a read transaction is open (see the module docs).
    reading: bool,
}

impl SqliteHandle<'_> {
    fn end_read(&mut self) -> Result<()> {
        if self.reading {
            self.conn.execute_batch("COMMIT")?;
            self.reading = false;
        }
        Ok(())
    }

    fn begin_read(&mut self) -> Result<()> {
        if !self.reading {
            self.conn.execute_batch("BEGIN")?;
            self.reading = true;
        }
        Ok(())
    }
}

const INSERT: &str = "INSERT INTO rows (k, v) VALUES (?1, ?2)";

impl Handle for SqliteHandle<'_> {
    fn put(&mut self, i: usize) -> Result<()> {
        self.put_batch(i..i + 1)
    }

    fn put_batch(&mut self, rows: Range<usize>) -> Result<()> {
        self.end_read()?;
        let mut conn = self
            .writer
            .lock()
            .map_err(|_| "SQLite: writer lock poisoned")?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        {
            let mut insert = tx.prepare_cached(INSERT)?;
            for i in rows {
                insert.execute(params![key(i), value(i)])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn get(&mut self, i: usize) -> Result<bool> {
        self.begin_read()?;
        let mut get = self
            .conn
            .prepare_cached("SELECT v FROM rows WHERE k = ?1")?;
        let mut rows = get.query(params![key(i)])?;
        Ok(match rows.next()? {
            Some(row) => !row.get_ref(0)?.as_blob()?.is_empty(),
            None => false,
        })
    }

    fn scan(&mut self, i: usize, n: usize) -> Result<usize> {
        self.begin_read()?;
        let mut scan = self
            .conn
            .prepare_cached("SELECT k, v FROM rows WHERE k >= ?1 ORDER BY k LIMIT ?2")?;
        let mut rows = scan.query(params![key(i), n as i64])?;
        let mut read = 0;
        while let Some(row) = rows.next()? {
            read += usize::from(!row.get_ref(1)?.as_blob()?.is_empty());
        }
        Ok(read)
    }

    fn count(&mut self) -> Result<usize> {
        self.end_read()?;
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM rows", [], |r| r.get(0))?;
        Ok(usize::try_from(n)?)
    }
}
