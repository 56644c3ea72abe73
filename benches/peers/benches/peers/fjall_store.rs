//! fjall as a [`Store`]: one keyspace of key and value (the row's JSON), each commit a write
//! batch persisted with `PersistMode::SyncAll` for durable, and left to fjall's journal buffer
//! for not.

use std::ops::Range;
use std::path::Path;

use fjall::{Database, Keyspace, KeyspaceCreateOptions, PersistMode, Readable};
use tabula_peers::data::{key, value};

use crate::Result;
use crate::store::{Contender, Handle, Store};

/// fjall with every commit synced (`durable`) or not.
pub fn contender(durable: bool) -> Contender {
    Contender {
        engine: "fjall",
        setting: if durable {
            "PersistMode::SyncAll per commit"
        } else {
            "no sync"
        }
        .to_owned(),
        open: Box::new(move |dir| Ok(Box::new(FjallStore::open(dir, durable)?) as Box<dyn Store>)),
    }
}

/// An open fjall database and its keyspace.
pub struct FjallStore {
    db: Database,
    rows: Keyspace,
    durable: bool,
}

impl FjallStore {
    /// Opens (or creates, or recovers) the database in `dir`.
    pub fn open(dir: &Path, durable: bool) -> Result<FjallStore> {
        let db = Database::builder(dir.join("fjall")).open()?;
        let rows = db.keyspace("rows", KeyspaceCreateOptions::default)?;
        Ok(FjallStore { db, rows, durable })
    }

    fn write(&self, rows: Range<usize>) -> Result<()> {
        let mut batch = self
            .db
            .batch()
            .durability(self.durable.then_some(PersistMode::SyncAll));
        for i in rows {
            batch.insert(&self.rows, key(i), value(i));
        }
        batch.commit()?;
        Ok(())
    }
}

impl Store for FjallStore {
    fn handle(&self) -> Result<Box<dyn Handle + '_>> {
        Ok(Box::new(FjallHandle {
            store: self,
            snapshot: None,
        }))
    }

    fn close(self: Box<Self>) -> Result<()> {
        self.flush()
    }

    fn flush(&self) -> Result<()> {
        self.db.persist(PersistMode::SyncAll)?;
        Ok(())
    }
}

struct FjallHandle<'a> {
    store: &'a FjallStore,
    /// The snapshot reads see, taken at the first read (like tabula's view).
    snapshot: Option<fjall::Snapshot>,
}

impl FjallHandle<'_> {
    fn snapshot(&mut self) -> &fjall::Snapshot {
        self.snapshot
            .get_or_insert_with(|| self.store.db.snapshot())
    }
}

impl Handle for FjallHandle<'_> {
    fn put(&mut self, i: usize) -> Result<()> {
        self.store.write(i..i + 1)
    }

    fn put_batch(&mut self, rows: Range<usize>) -> Result<()> {
        self.store.write(rows)
    }

    fn get(&mut self, i: usize) -> Result<bool> {
        let rows = self.store.rows.clone();
        Ok(self
            .snapshot()
            .get(&rows, key(i))?
            .is_some_and(|v| !v.is_empty()))
    }

    fn scan(&mut self, i: usize, n: usize) -> Result<usize> {
        let rows = self.store.rows.clone();
        let mut read = 0;
        for guard in self.snapshot().range(&rows, key(i)..).take(n) {
            let (_, v) = guard.into_inner()?;
            read += usize::from(!v.is_empty());
        }
        Ok(read)
    }

    fn count(&mut self) -> Result<usize> {
        Ok(self.store.rows.len()?)
    }
}
