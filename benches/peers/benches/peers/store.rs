//! The one interface every contender is driven through, so each workload is written once.
//!
//! A [`Store`] is an open database; each thread takes its own [`Handle`] (a connection, for
//! SQLite and Redis; a borrowed reference, for the embedded engines). Rows are named by number:
//! the handle builds row `i`'s key and content from `tabula_peers::data`, so every contender
//! writes and reads the same bytes.

use std::ops::Range;

use crate::Result;

/// An open database.
pub trait Store: Sync {
    /// A handle for one thread.
    fn handle(&self) -> Result<Box<dyn Handle + '_>>;

    /// Makes everything written so far durable and stops, as a clean shutdown does.
    fn close(self: Box<Self>) -> Result<()> {
        Ok(())
    }

    /// Hands every commit so far to the OS (or the disk), so that a SIGKILL now loses none of
    /// them: for engines whose non-durable commits wait in the process (redb's
    /// `Durability::None`, fjall's journal buffer).
    fn flush(&self) -> Result<()> {
        Ok(())
    }

    /// The engine's checkpoint (or its equivalent: SQLite's WAL checkpoint, Redis's AOF
    /// rewrite), run once to completion; `None` for an engine without one.
    fn checkpoint(&self) -> Option<Result<()>> {
        None
    }

    /// Writes the whole database to files under `dir` in each dump format the engine has; for
    /// each, its name, its bytes and the seconds it took. Empty for an engine without dumps.
    fn dump(&self, _dir: &std::path::Path) -> Result<Vec<Dump>> {
        Ok(Vec::new())
    }

    /// Bytes the engine's data takes in memory, as the engine reports it; `None` for an engine
    /// that does not hold its data in memory.
    fn used_memory(&self) -> Option<Result<u64>> {
        None
    }
}

/// One dump written by [`Store::dump`], and how it loads back.
#[derive(Debug, Clone)]
pub struct Dump {
    /// The format (`JSON`, `VACUUM INTO`, ...).
    pub format: String,
    /// Its size on disk.
    pub bytes: u64,
    /// Seconds to write it, its fsync included.
    pub write_seconds: f64,
    /// Seconds to load it back into memory, when the engine can.
    pub load_seconds: Option<f64>,
}

/// One thread's way into a [`Store`].
pub trait Handle: Send {
    /// Commits row `i` alone.
    fn put(&mut self, i: usize) -> Result<()>;
    /// Commits the rows `rows` in one transaction.
    fn put_batch(&mut self, rows: Range<usize>) -> Result<()>;
    /// Reads row `i`; whether it was there.
    fn get(&mut self, i: usize) -> Result<bool>;
    /// Reads up to `n` rows in key order from row `i`'s key on; how many it read.
    fn scan(&mut self, i: usize, n: usize) -> Result<usize>;
    /// Number of rows stored.
    fn count(&mut self) -> Result<usize>;
}

/// Opens a store in a directory.
pub type Open = Box<dyn Fn(&std::path::Path) -> Result<Box<dyn Store>>>;

/// How one contender is opened for a workload: its engine name, its setting, and a function that
/// opens it on a fresh directory.
pub struct Contender {
    /// `tabula`, `SQLite`, `redb`, `fjall`, `Redis`.
    pub engine: &'static str,
    /// How it is set up (`synchronous=FULL`, `Always`, ...).
    pub setting: String,
    /// Opens it in a directory (new or holding an earlier run's files).
    pub open: Open,
}

impl std::fmt::Debug for Contender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.engine, self.setting)
    }
}
