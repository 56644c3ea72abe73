//! redb as a [`Store`]: one table of key and value (the row's JSON), commits with
//! `Durability::Immediate` for durable and `Durability::None` for not. redb has one writer at a
//! time; concurrent writers queue on `begin_write`.

use std::ops::Range;
use std::path::Path;

use redb::{Database, Durability, ReadableDatabase, ReadableTableMetadata, TableDefinition};
use tabula_peers::data::{key, value};

use crate::Result;
use crate::store::{Contender, Handle, Store};

const ROWS: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("rows");

/// redb with `Durability::Immediate` (`durable`) or `None`.
pub fn contender(durable: bool) -> Contender {
    Contender {
        engine: "redb",
        setting: if durable {
            "Durability::Immediate"
        } else {
            "Durability::None"
        }
        .to_owned(),
        open: Box::new(move |dir| Ok(Box::new(RedbStore::open(dir, durable)?) as Box<dyn Store>)),
    }
}

/// An open redb database.
pub struct RedbStore {
    db: Database,
    durable: bool,
}

impl RedbStore {
    /// Opens (or creates) the database in `dir`.
    pub fn open(dir: &Path, durable: bool) -> Result<RedbStore> {
        let db = Database::create(dir.join("bench.redb"))?;
        let tx = db.begin_write()?;
        tx.open_table(ROWS)?;
        tx.commit()?;
        Ok(RedbStore { db, durable })
    }

    fn write(&self, rows: Range<usize>) -> Result<()> {
        let mut tx = self.db.begin_write()?;
        tx.set_durability(if self.durable {
            Durability::Immediate
        } else {
            Durability::None
        })?;
        {
            let mut table = tx.open_table(ROWS)?;
            for i in rows {
                table.insert(key(i).as_str(), value(i).as_slice())?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

impl Store for RedbStore {
    fn handle(&self) -> Result<Box<dyn Handle + '_>> {
        Ok(Box::new(RedbHandle {
            store: self,
            read: None,
        }))
    }

    fn close(self: Box<Self>) -> Result<()> {
        self.flush()
    }

    fn flush(&self) -> Result<()> {
        // Non-durable commits reach the disk only with a later durable one.
        let tx = self.db.begin_write()?;
        tx.commit()?;
        Ok(())
    }
}

struct RedbHandle<'a> {
    store: &'a RedbStore,
    /// The read transaction's table, opened at the first read (one consistent state, like
    /// tabula's view).
    read: Option<redb::ReadOnlyTable<&'static str, &'static [u8]>>,
}

impl RedbHandle<'_> {
    fn table(&mut self) -> Result<&redb::ReadOnlyTable<&'static str, &'static [u8]>> {
        if self.read.is_none() {
            self.read = Some(self.store.db.begin_read()?.open_table(ROWS)?);
        }
        self.read
            .as_ref()
            .ok_or_else(|| "redb: no read table".into())
    }
}

impl Handle for RedbHandle<'_> {
    fn put(&mut self, i: usize) -> Result<()> {
        self.store.write(i..i + 1)
    }

    fn put_batch(&mut self, rows: Range<usize>) -> Result<()> {
        self.store.write(rows)
    }

    fn get(&mut self, i: usize) -> Result<bool> {
        let k = key(i);
        Ok(self
            .table()?
            .get(k.as_str())?
            .is_some_and(|v| !v.value().is_empty()))
    }

    fn scan(&mut self, i: usize, n: usize) -> Result<usize> {
        let k = key(i);
        let mut read = 0;
        for entry in self.table()?.range(k.as_str()..)?.take(n) {
            let (_, v) = entry?;
            read += usize::from(!v.value().is_empty());
        }
        Ok(read)
    }

    fn count(&mut self) -> Result<usize> {
        let tx = self.store.db.begin_read()?;
        Ok(usize::try_from(tx.open_table(ROWS)?.len()?)?)
    }
}
