//! Whole-database files beside the engine's own directory, as DictDB's `save`/`load`: a database
//! saved to one file in any codec (JSON as DictDB's document, MessagePack and bincode as a
//! compressed snapshot), read back, or imported into an open engine through one logged
//! transaction; and table exports through the snapshot crate's formats.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read};
use std::path::Path;

use tabula_codec::Format;
use tabula_core::{Database, Limits, Op};
use tabula_snapshot::{LoadOptions, SnapshotOptions, format::MAGIC};

use crate::engine::{Committed, Engine};
use crate::{Error, Result};

fn io(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_path_buf();
    move |source| Error::Io { op, path, source }
}

/// Reads a file written by [`Engine::save`], a snapshot file, or a DictDB JSON file: the format is
/// told by the first bytes (the snapshot magic, else JSON).
pub fn load_file(path: impl AsRef<Path>, limits: &Limits) -> Result<Database> {
    let path = path.as_ref();
    let mut file = BufReader::with_capacity(1 << 20, File::open(path).map_err(io("open", path))?);
    let mut magic = [0u8; MAGIC.len()];
    let mut got = 0;
    while got < magic.len() {
        let n = file
            .read(magic.get_mut(got..).unwrap_or_default())
            .map_err(io("read", path))?;
        if n == 0 {
            break;
        }
        got += n;
    }
    let rest = std::io::Cursor::new(magic.get(..got).unwrap_or_default().to_vec()).chain(file);
    let loaded = if magic.get(..got) == Some(&MAGIC[..]) {
        tabula_snapshot::read_snapshot(rest, &LoadOptions::with_limits(*limits)).map(|l| l.database)
    } else {
        tabula_snapshot::read_json_document(rest, limits)
    };
    loaded.map_err(|e| Error::Snapshot(e.in_file(path)))
}

impl Engine {
    /// Saves the visible state to `path` in `format`, atomically (a temporary file beside it,
    /// fsync, rename, directory fsync): JSON as DictDB's document, the others as a zstd snapshot.
    pub fn save(&self, path: impl AsRef<Path>, format: Format) -> Result<()> {
        let path = path.as_ref();
        let db = self.read();
        // Beside the target, named after all of it, so saves of `db.json` and `db.bin` in one
        // directory never share a temporary file.
        let mut temp_name = path.file_name().unwrap_or_default().to_os_string();
        temp_name.push(".tmp");
        let temp = path.with_file_name(temp_name);
        let file = File::create(&temp).map_err(io("create", &temp))?;
        let out = BufWriter::with_capacity(1 << 20, file);
        let out = if format == Format::Json {
            tabula_snapshot::write_json_document(&db, out)
        } else {
            tabula_snapshot::write_snapshot(&db, out, &SnapshotOptions::new().format(format))
                .map(|(_, out)| out)
        }
        .map_err(|e| Error::Snapshot(e.in_file(&temp)))?;
        let file = out
            .into_inner()
            .map_err(|e| io("write", &temp)(e.into_error()))?;
        file.sync_all().map_err(io("fsync", &temp))?;
        std::fs::rename(&temp, path).map_err(io("rename", &temp))?;
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            #[cfg(unix)]
            File::open(parent)
                .and_then(|d| d.sync_all())
                .map_err(io("fsync", parent))?;
        }
        Ok(())
    }

    /// Adds every table of `db` (definitions and rows) in one logged transaction. A table that
    /// already exists refuses the whole import. The engine's own tables (`_tabula_*`: tags and
    /// schema version, which name another database's history) are not imported.
    pub fn import(&self, db: &Database) -> Result<Committed> {
        let mut ops = Vec::new();
        for table in db
            .tables()
            .filter(|t| !crate::system::is_reserved(t.name()))
        {
            ops.push(Op::CreateTable(table.def().clone()));
            for (_, row) in table.iter() {
                ops.push(Op::Insert {
                    table: table.name().to_owned(),
                    row: (**row).clone(),
                });
            }
        }
        self.commit(ops)
    }

    /// Writes one table as a JSON document (`{"table", "records", "count", "exported_at"}`).
    pub fn export_table(&self, table: &str, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let db = self.read();
        let table = db.table(table).ok_or_else(|| {
            Error::Rejected(Box::new(tabula_core::Error::UnknownTable {
                table: table.to_owned(),
            }))
        })?;
        let file = File::create(path).map_err(io("create", path))?;
        let file = tabula_snapshot::export_table_json(table, file)
            .map_err(|e| Error::Snapshot(e.in_file(path)))?;
        file.sync_all().map_err(io("fsync", path))
    }

    /// Writes the whole database as the per-table directory layout under `dir`.
    pub fn export_directory(&self, dir: impl AsRef<Path>) -> Result<()> {
        tabula_snapshot::export_directory(&self.read(), dir).map_err(Error::Snapshot)
    }
}
