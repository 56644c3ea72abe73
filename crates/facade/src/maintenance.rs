//! The rest of the engine on [`Database`], with the facade's [`Error`](crate::Error): raw
//! commits of ops, migrations, TTLs, checkpoints, archiving, statistics, saving, importing and
//! exporting, and a read-only handle's refresh. [`Database::engine`] reaches what is not here
//! (the transaction log itself, the clock, the options' internals).

use std::path::Path;

use tabula_core::{Cause, Lsn, Op, State};
use tabula_engine::{
    ArchiveReport, CheckpointInfo, Committed, Format, Migration, Options, Stats, Ttl,
};

use crate::{Database, Result};

impl Database {
    /// The directory, if the database has one (`None` in memory).
    #[must_use]
    pub fn dir(&self) -> Option<&Path> {
        self.engine().dir()
    }

    /// The options it was opened with.
    #[must_use]
    pub fn options(&self) -> &Options {
        self.engine().options()
    }

    /// Commits `ops` as one transaction: all of them or, on the first refused op, none.
    /// [`Database::transaction`] and the tables are the usual way; this is for ops built by
    /// hand or read from elsewhere (a diff, another database's log).
    ///
    /// # Errors
    /// A refused op ([`crate::ErrorKind`] says which kind); I/O, and then the database refuses
    /// further writes until reopened.
    pub fn commit(&self, ops: Vec<Op>) -> Result<Committed> {
        Ok(self.engine().commit(ops)?)
    }

    /// As [`Database::commit`], recording who made the change and why.
    ///
    /// # Errors
    /// As [`Database::commit`].
    pub fn commit_with_cause(&self, ops: Vec<Op>, cause: Cause) -> Result<Committed> {
        Ok(self.engine().commit_with_cause(ops, cause)?)
    }

    /// The schema version: the number of the last migration applied (0: none).
    #[must_use]
    pub fn schema_version(&self) -> u64 {
        self.engine().schema_version()
    }

    /// Applies the migrations not applied yet, in order, each in one transaction; returns the
    /// schema version reached.
    ///
    /// # Errors
    /// A migration that fails (it and those after it change nothing); versions out of order.
    pub fn migrate(&self, migrations: &[Migration]) -> Result<u64> {
        Ok(self.engine().migrate(migrations)?)
    }

    /// Gives the rows of `table` a time to live by a timestamp column (replacing its rule),
    /// in a logged transaction: expired rows are no longer read and are deleted in the
    /// background.
    ///
    /// # Errors
    /// No such table; a column that is not a timestamp
    /// ([`tabula_engine::Error::InvalidTtl`]).
    pub fn set_ttl(&self, table: &str, ttl: Ttl) -> Result<Committed> {
        Ok(self.engine().set_ttl(table, ttl)?)
    }

    /// Removes `table`'s TTL; `false` if it had none.
    ///
    /// # Errors
    /// The commit's errors.
    pub fn remove_ttl(&self, table: &str) -> Result<bool> {
        Ok(self.engine().remove_ttl(table)?)
    }

    /// `table`'s TTL, if it has one.
    #[must_use]
    pub fn ttl(&self, table: &str) -> Option<Ttl> {
        self.engine().ttl(table)
    }

    /// Deletes the expired rows now (the background does it on its own); returns how many.
    ///
    /// # Errors
    /// The commit's errors.
    pub fn reap_expired(&self) -> Result<usize> {
        Ok(self.engine().reap_expired()?)
    }

    /// Takes a checkpoint now: a snapshot of the durable state, then the log before it is
    /// removed or archived; writers go on meanwhile. `None` in memory, or when nothing changed
    /// since the last one.
    ///
    /// # Errors
    /// The snapshot's or the log's I/O; the log is left as it was.
    pub fn checkpoint(&self) -> Result<Option<CheckpointInfo>> {
        Ok(self.engine().checkpoint()?)
    }

    /// Copies to the archive directory ([`Options::archive_to`]) the sealed segments and
    /// snapshots it lacks, now (the background does it at every tick); nothing without one.
    ///
    /// # Errors
    /// I/O.
    pub fn archive_now(&self) -> Result<ArchiveReport> {
        Ok(self.engine().archive_now()?)
    }

    /// Rows, measured memory and disk use, per table and in total.
    ///
    /// # Errors
    /// Reading the directory.
    pub fn stats(&self) -> Result<Stats> {
        Ok(self.engine().stats()?)
    }

    /// Saves the visible state to one file in `format`, atomically (the whole file or none):
    /// JSON as DictDB's document, the others as a zstd snapshot.
    ///
    /// # Errors
    /// I/O.
    pub fn save(&self, path: impl AsRef<Path>, format: Format) -> Result<()> {
        Ok(self.engine().save(path, format)?)
    }

    /// Adds every table of `state` (loaded with [`crate::load_file`] or built by hand) in one
    /// logged transaction; the engine's own tables (`_tabula_*`) are left out.
    ///
    /// # Errors
    /// A table that exists already (then none is added); the commit's errors.
    pub fn import(&self, state: &State) -> Result<Committed> {
        Ok(self.engine().import(state)?)
    }

    /// Writes `table` to `path` as one JSON document (`{"table", "records", "count",
    /// "exported_at"}`).
    ///
    /// # Errors
    /// No such table; I/O.
    pub fn export_table(&self, table: &str, path: impl AsRef<Path>) -> Result<()> {
        Ok(self.engine().export_table(table, path)?)
    }

    /// Writes the whole database as the per-table directory layout under `dir`.
    ///
    /// # Errors
    /// I/O.
    pub fn export_directory(&self, dir: impl AsRef<Path>) -> Result<()> {
        Ok(self.engine().export_directory(dir)?)
    }

    /// For a database opened with [`Database::open_read_only`]: reads what the writer
    /// committed since, and returns the LSN now visible.
    ///
    /// # Errors
    /// Not opened read-only ([`tabula_engine::Error::InvalidOption`]); as
    /// [`Database::open_read_only`].
    pub fn refresh(&self) -> Result<Lsn> {
        Ok(self.engine().refresh()?)
    }
}
