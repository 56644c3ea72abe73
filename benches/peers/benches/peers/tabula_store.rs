//! tabula as a [`Store`]: the engine with one table keyed by `k`, rows as `tabula_peers::data`
//! builds them, under the sync policy the workload asks for and the default checkpoint policy
//! (so checkpoints run in the background as they would for a user).

use std::ops::Range;
use std::path::Path;

use std::time::Instant;

use tabula_core::{Filter, Limits, Op, Query, TableDef, Value};
use tabula_engine::{Compression, Engine, Format, Options, load_file, save_file};
use tabula_peers::data::{KEY_COLUMN, TABLE, key, row};
use tabula_wal::SyncPolicy;

use crate::Result;
use crate::store::{Contender, Dump, Handle, Store};

/// The options every tabula contender uses, with `sync`.
pub fn options(sync: SyncPolicy) -> Options {
    Options::new().sync(sync)
}

/// Opens (or creates) the benchmark database in `dir`.
pub fn open(dir: &Path, options: Options) -> Result<Engine> {
    let (engine, _) = Engine::open(dir, options)?;
    if engine.read().table(TABLE).is_none() {
        engine.commit(vec![Op::CreateTable(TableDef::new(TABLE, KEY_COLUMN))])?;
    }
    Ok(engine)
}

/// tabula under `sync`, named by `setting`.
pub fn contender(setting: &str, sync: SyncPolicy) -> Contender {
    Contender {
        engine: tabula_peers::report::TABULA,
        setting: setting.to_owned(),
        open: Box::new(move |dir| {
            Ok(Box::new(TabulaStore(open(dir, options(sync))?)) as Box<dyn Store>)
        }),
    }
}

/// An open tabula engine.
pub struct TabulaStore(pub Engine);

impl Store for TabulaStore {
    fn handle(&self) -> Result<Box<dyn Handle + '_>> {
        Ok(Box::new(TabulaHandle {
            engine: &self.0,
            view: None,
        }))
    }

    fn close(self: Box<Self>) -> Result<()> {
        Ok(self.0.close()?)
    }

    fn checkpoint(&self) -> Option<Result<()>> {
        Some(self.0.checkpoint().map(|_| ()).map_err(Into::into))
    }

    fn dump(&self, dir: &Path) -> Result<Vec<Dump>> {
        let view = self.0.read().to_database()?;
        let mut dumps = Vec::new();
        for format in Format::ALL {
            let path = dir.join(format!("dump.{}", format.name()));
            let start = Instant::now();
            save_file(&view, &path, format, Compression::None, &mut |_| {})?;
            let write_seconds = start.elapsed().as_secs_f64();
            let bytes = std::fs::metadata(&path)?.len();
            let start = Instant::now();
            let loaded = load_file(&path, &Limits::default())?;
            let load_seconds = start.elapsed().as_secs_f64();
            let rows =
                |db: &tabula_core::State| db.table(TABLE).map_or(0, tabula_core::TableState::len);
            if rows(&loaded) != rows(&view) {
                return Err(format!(
                    "{} dump loaded {} rows of {}",
                    format.name(),
                    rows(&loaded),
                    rows(&view)
                )
                .into());
            }
            drop(loaded);
            std::fs::remove_file(&path)?;
            dumps.push(Dump {
                format: format.name().to_owned(),
                bytes,
                write_seconds,
                load_seconds: Some(load_seconds),
            });
        }
        Ok(dumps)
    }
}

struct TabulaHandle<'a> {
    engine: &'a Engine,
    /// The read view, taken at the first read: reads see one consistent state, as a read
    /// transaction of the peers does.
    view: Option<tabula_engine::ReadView>,
}

impl TabulaHandle<'_> {
    fn view(&mut self) -> &tabula_engine::ReadView {
        self.view.get_or_insert_with(|| self.engine.read())
    }
}

fn insert(i: usize) -> Op {
    Op::Insert {
        table: TABLE.into(),
        row: row(i),
    }
}

impl Handle for TabulaHandle<'_> {
    fn put(&mut self, i: usize) -> Result<()> {
        self.engine.commit(vec![insert(i)])?;
        Ok(())
    }

    fn put_batch(&mut self, rows: Range<usize>) -> Result<()> {
        self.engine.commit(rows.map(insert).collect())?;
        Ok(())
    }

    fn get(&mut self, i: usize) -> Result<bool> {
        let key = Value::Text(key(i));
        Ok(self.view().get(TABLE, &key)?.is_some())
    }

    fn scan(&mut self, i: usize, n: usize) -> Result<usize> {
        let query = Query::new()
            .filter(Filter::ge(KEY_COLUMN, Value::Text(key(i))))
            .limit(n);
        Ok(self.view().query(TABLE, &query)?.rows.len())
    }

    fn count(&mut self) -> Result<usize> {
        Ok(self
            .engine
            .read()
            .table(TABLE)
            .map_or(0, |table| table.len()))
    }
}
