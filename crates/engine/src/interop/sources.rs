//! [`load_source`]: reads another database's saved state into a [`State`], whatever made it:
//! tabula itself (a saved file, a dump, a backup or a snapshot), DictDB's JSON document, a
//! DeltaTraceDB saved database (its `to_dict` JSON), or the per-table exported directory. The
//! format is told from the bytes when asked to (`SourceFormat::Auto`); [`create_database`] then
//! makes a new database directory of the result.

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::str::FromStr;

use tabula_core::{Limits, Lsn, State};
use tabula_snapshot::LoadOptions;
use tabula_snapshot::format::MAGIC;

use crate::error::io;
use crate::{Error, Result};

/// What [`load_source`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SourceFormat {
    /// Tell from the bytes: a directory is an export; the snapshot magic is tabula; JSON is
    /// DeltaTraceDB's when it carries its markers, else DictDB's document.
    Auto,
    /// A file tabula wrote: a save, a dump, a backup or a snapshot (any codec, compression).
    Tabula,
    /// DictDB's JSON document `{"tables": {name: {"primary_key", "schema", "records"}}}`.
    DictDb,
    /// A DeltaTraceDB database saved as JSON (its `to_dict` output).
    DeltaTrace,
    /// A directory written by `export_directory` (`schema/*.schema.json`, `data/*.records`).
    TablesDir,
}

impl SourceFormat {
    /// The name used on the command line: `auto`, `tabula`, `dictdb`, `deltatrace`, `tables-dir`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            SourceFormat::Auto => "auto",
            SourceFormat::Tabula => "tabula",
            SourceFormat::DictDb => "dictdb",
            SourceFormat::DeltaTrace => "deltatrace",
            SourceFormat::TablesDir => "tables-dir",
        }
    }
}

impl fmt::Display for SourceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SourceFormat {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "auto" => SourceFormat::Auto,
            "tabula" => SourceFormat::Tabula,
            "dictdb" => SourceFormat::DictDb,
            "deltatrace" | "delta-trace" | "deltatracedb" => SourceFormat::DeltaTrace,
            "tables-dir" | "dir" | "export" => SourceFormat::TablesDir,
            other => {
                return Err(format!(
                    "unknown source format {other:?}: use auto, tabula, dictdb, deltatrace or tables-dir"
                ));
            }
        })
    }
}

/// Counts the bytes read through it, for progress reports.
struct Counting<'p, R> {
    inner: R,
    read: u64,
    progress: &'p mut dyn FnMut(u64),
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        (self.progress)(self.read);
        Ok(n)
    }
}

/// How much of a JSON file the format sniff looks at.
const SNIFF: usize = 64 << 10;

/// Reads `path` as `format` (told from the bytes under [`SourceFormat::Auto`]) and returns the
/// database and the format it was read as. `progress` gets the bytes read so far (files only).
///
/// # Errors
/// A missing or unreadable source; bytes that are not the format (with where they fail, as the
/// snapshot crate's errors say); a source over `limits`.
pub fn load_source(
    path: impl AsRef<Path>,
    format: SourceFormat,
    limits: &Limits,
    progress: &mut dyn FnMut(u64),
) -> Result<(State, SourceFormat)> {
    let path = path.as_ref();
    let meta = std::fs::metadata(path).map_err(io("open", path))?;
    if meta.is_dir() || format == SourceFormat::TablesDir {
        if !meta.is_dir() {
            return Err(Error::NotADirectory {
                path: path.to_path_buf(),
            });
        }
        let db = tabula_snapshot::import_directory(path, limits)
            .map_err(|e| Error::Snapshot(e.in_file(path)))?;
        return Ok((db, SourceFormat::TablesDir));
    }
    let file = File::open(path).map_err(io("open", path))?;
    let mut input = BufReader::with_capacity(
        1 << 20,
        Counting {
            inner: file,
            read: 0,
            progress,
        },
    );
    let format = match format {
        SourceFormat::Auto => {
            // `fill_buf` returns at least the first bytes of the file without consuming them.
            let head = input.fill_buf().map_err(io("read", path))?;
            if head.starts_with(&MAGIC) {
                SourceFormat::Tabula
            } else if tabula_snapshot::looks_like_deltatrace(head.get(..SNIFF).unwrap_or(head)) {
                SourceFormat::DeltaTrace
            } else {
                SourceFormat::DictDb
            }
        }
        other => other,
    };
    let loaded = match format {
        SourceFormat::Tabula => {
            tabula_snapshot::read_snapshot(input, &LoadOptions::with_limits(*limits))
                .map(|l| l.database)
        }
        SourceFormat::DeltaTrace => tabula_snapshot::read_deltatrace_document(input, limits),
        _ => tabula_snapshot::read_json_document(input, limits),
    };
    let db = loaded.map_err(|e| Error::Snapshot(e.in_file(path)))?;
    Ok((db, format))
}

/// Makes a new database directory `dir` holding `db` (one snapshot file, written atomically);
/// returns its LSN. [`crate::Engine::open`] on `dir` then recovers that state and starts a new
/// log after it.
///
/// # Errors
/// `dir` holding anything (a new database only); I/O errors.
pub fn create_database(db: &State, dir: impl AsRef<Path>) -> Result<Lsn> {
    crate::history::backup::create_database_dir(
        db,
        dir.as_ref(),
        &crate::Options::default().snapshot,
    )
}
