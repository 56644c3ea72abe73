//! Whole-database files beside the engine's own directory, as DictDB's `save`/`load`: a database
//! saved to one file in any codec (JSON as DictDB's document, MessagePack and bincode as a
//! compressed snapshot), read back, or imported into an open engine through one logged
//! transaction; and table exports through the snapshot crate's formats.

use std::io::{BufWriter, Write};
use std::path::Path;

use tabula_codec::Format;
use tabula_core::{Limits, Op, State};
use tabula_snapshot::{Compression, SnapshotOptions};
use tabula_storage::OutputFile;

use crate::interop::sources::SourceFormat;

use crate::db::{Committed, Engine};
use crate::error::io;
use crate::{Error, Result};

/// Reads a file written by [`Engine::save`] or [`save_file`], a snapshot file, a DictDB JSON
/// file, a DeltaTraceDB saved database, or an exported directory: what it is, is told from the
/// first bytes (see [`crate::load_source`], which also reports progress).
pub fn load_file(path: impl AsRef<Path>, limits: &Limits) -> Result<State> {
    crate::interop::sources::load_source(path, SourceFormat::Auto, limits, &mut |_| {})
        .map(|(db, _)| db)
}

/// Counts the bytes written through it, for progress reports.
struct Counting<'p, W> {
    inner: W,
    written: u64,
    progress: &'p mut dyn FnMut(u64),
}

impl<W: Write> Write for Counting<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        (self.progress)(self.written);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Writes `db` to `path` so that it is whole or absent (a temporary file beside it, fsync,
/// rename, directory fsync; a symbolic link is followed and kept, a FIFO or device written
/// through: [`tabula_storage::OutputFile`]), calling `progress` with the bytes written so far.
///
/// JSON without compression is DictDB's document (what DictDB and `jq` read); every other
/// combination is a snapshot file in that codec and compression. [`load_file`] reads them all.
pub fn save_file(
    db: &State,
    path: impl AsRef<Path>,
    format: Format,
    compression: Compression,
    progress: &mut dyn FnMut(u64),
) -> Result<()> {
    let path = path.as_ref();
    let file = OutputFile::create(path).map_err(io("create", path))?;
    let out = Counting {
        inner: BufWriter::with_capacity(1 << 20, file),
        written: 0,
        progress,
    };
    let written = if format == Format::Json && compression == Compression::None {
        tabula_snapshot::write_json_document(db, out)
    } else {
        let options = SnapshotOptions::new()
            .format(format)
            .compression(compression);
        tabula_snapshot::write_snapshot(db, out, &options).map(|(_, out)| out)
    };
    let out = written.map_err(|e| Error::Snapshot(e.in_file(path)))?;
    let file = out
        .inner
        .into_inner()
        .map_err(|e| io("write", path)(e.into_error()))?;
    file.commit().map_err(io("sync and rename", path))
}

impl Engine {
    /// Saves the visible state to `path` in `format`, atomically (a temporary file beside it,
    /// fsync, rename, directory fsync): JSON as DictDB's document, the others as a zstd snapshot.
    /// [`save_file`] chooses the compression and reports progress.
    pub fn save(&self, path: impl AsRef<Path>, format: Format) -> Result<()> {
        let compression = if format == Format::Json {
            Compression::None
        } else {
            Compression::Zstd
        };
        let db = self.read().to_database()?;
        save_file(&db, path, format, compression, &mut |_| {})
    }

    /// Adds every table of `db` (definitions and rows) in one logged transaction. A table that
    /// already exists refuses the whole import. The engine's own tables (`_tabula_*`: tags and
    /// schema version, which name another database's history) are not imported.
    pub fn import(&self, db: &State) -> Result<Committed> {
        let mut ops = Vec::new();
        for table in db
            .tables()
            .filter(|t| !crate::system::is_reserved(t.name()))
        {
            ops.push(Op::CreateTable(table.def().clone()));
            for (_, row) in table.iter() {
                ops.push(Op::Insert {
                    table: table.name().to_owned(),
                    row: row.to_row(),
                });
            }
        }
        self.commit(ops)
    }

    /// Writes one table as a JSON document (`{"table", "records", "count", "exported_at"}`).
    pub fn export_table(&self, table: &str, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let db = self.read().to_database()?;
        let table = db.table(table).ok_or_else(|| {
            Error::Rejected(Box::new(tabula_core::Error::UnknownTable {
                table: table.to_owned(),
            }))
        })?;
        let file = OutputFile::create(path).map_err(io("create", path))?;
        let file = tabula_snapshot::export_table_json(table, file)
            .map_err(|e| Error::Snapshot(e.in_file(path)))?;
        file.commit().map_err(io("sync and rename", path))
    }

    /// Writes the whole database as the per-table directory layout under `dir`.
    pub fn export_directory(&self, dir: impl AsRef<Path>) -> Result<()> {
        let db = self.read().to_database()?;
        tabula_snapshot::export_directory(&db, dir).map_err(Error::Snapshot)
    }
}
