//! The commands that move data in and out: `dump`, `export`, `load`, `backup`, `restore`.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use tabula::{Compression, Format, Options, SourceFormat};

use crate::args::{Compress, DumpArgs, DumpFormat, From, LoadArgs};
use crate::common::{Usage, open_reading, point, table_def};
use crate::progress;

/// Rows and tables, the engine's own left out, of the written state `db`.
fn rows_and_tables(db: &tabula::core::State) -> (usize, usize) {
    count_user_tables(db.tables().map(|t| (t.name(), t.len())))
}

/// Rows and tables of `tables` (names and row counts), the engine's own left out.
fn count_user_tables<'a>(tables: impl Iterator<Item = (&'a str, usize)>) -> (usize, usize) {
    let tables = tables.filter(|(name, _)| !name.starts_with("_tabula"));
    tables.fold((0, 0), |(rows, n), (_, len)| (rows + len, n + 1))
}

/// `tabula dump DIR FILE [--format F] [--compress C] [--table T] [--as-of POINT]`.
pub fn dump(args: &DumpArgs, quiet: bool, out: &mut dyn Write) -> Result<()> {
    let db = open_reading(&args.dir)?;
    let view = match &args.as_of {
        Some(at) => db.as_of(point(at))?,
        None => db.read(),
    };
    if let Some(table) = &args.table {
        table_def(&view, table)?;
    }
    // What is written: the rows the view shows (not those past their time to live).
    let mut view = view.to_database()?;
    if let Some(table) = &args.table {
        let only = view.table(table).cloned();
        view = tabula::core::State::from_tables(view.lsn(), only, *view.limits())?;
    }
    let format = match args.format {
        DumpFormat::Json => Format::Json,
        DumpFormat::Msgpack => Format::MessagePack,
        DumpFormat::Bincode => Format::Bincode,
    };
    let compression = match args.compress {
        Some(Compress::Zstd) => Compression::Zstd,
        Some(Compress::Lz4) => Compression::Lz4,
        Some(Compress::None) => Compression::None,
        None if format == Format::Json => Compression::None,
        None => Compression::Zstd,
    };
    let bar = progress::bytes("dumping", None, quiet);
    tabula::save_file(&view, &args.file, format, compression, &mut |n| {
        bar.set_position(n);
    })
    .with_context(|| format!("cannot dump to {}", args.file.display()))?;
    bar.finish_and_clear();
    let (rows, tables) = rows_and_tables(&view);
    writeln!(
        out,
        "dumped {rows} row(s) in {tables} table(s) at LSN {} to {} ({}, {})",
        view.lsn(),
        args.file.display(),
        format.name(),
        compression.name()
    )?;
    Ok(())
}

/// `tabula export DIR OUTDIR` (a new or empty OUTDIR: an export never merges with other files).
pub fn export(dir: &Path, out_dir: &Path, out: &mut dyn Write) -> Result<()> {
    if std::fs::read_dir(out_dir).is_ok_and(|mut entries| entries.next().is_some()) {
        bail!(
            "{} is not empty: an export makes a new directory",
            out_dir.display()
        );
    }
    let db = open_reading(dir)?;
    db.export_directory(out_dir)
        .with_context(|| format!("cannot export to {}", out_dir.display()))?;
    let view = db.read();
    let (rows, tables) = count_user_tables(view.tables().map(|t| (t.name(), t.len())));
    writeln!(
        out,
        "exported {rows} row(s) in {tables} table(s) to {}",
        out_dir.display()
    )?;
    Ok(())
}

/// A new database directory must be missing or empty (as `restore`).
fn refuse_occupied(dir: &Path) -> Result<()> {
    if std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some()) {
        bail!(
            "{} is not empty: load and restore make a new database directory",
            dir.display()
        );
    }
    Ok(())
}

/// Runs `make` to fill the new (missing or empty) directory `dir`; on failure removes what it
/// made, so a retry finds the directory as it was.
fn into_new_dir<T>(dir: &Path, make: impl FnOnce() -> Result<T>) -> Result<T> {
    refuse_occupied(dir)?;
    let existed = dir.exists();
    let result = make();
    if result.is_err() {
        if existed {
            if let Ok(entries) = std::fs::read_dir(dir) {
                for entry in entries.flatten() {
                    let path = entry.path();
                    let _ = if path.is_dir() {
                        std::fs::remove_dir_all(&path)
                    } else {
                        std::fs::remove_file(&path)
                    };
                }
            }
        } else {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
    result
}

/// `tabula load SOURCE NEWDIR [--from FORMAT]`.
pub fn load(args: &LoadArgs, quiet: bool, out: &mut dyn Write) -> Result<()> {
    refuse_occupied(&args.new_dir)?;
    let format = match args.from {
        From::Auto => SourceFormat::Auto,
        From::Tabula => SourceFormat::Tabula,
        From::Dictdb => SourceFormat::DictDb,
        From::Deltatrace => SourceFormat::DeltaTrace,
        From::TablesDir => SourceFormat::TablesDir,
    };
    let total = std::fs::metadata(&args.source)
        .ok()
        .filter(std::fs::Metadata::is_file)
        .map(|m| m.len());
    let bar = progress::bytes("loading", total, quiet);
    let (db, read_as) =
        tabula::load_source(&args.source, format, &Options::new().limits, &mut |n| {
            bar.set_position(n)
        })
        .with_context(|| format!("cannot load {}", args.source.display()))?;
    bar.finish_and_clear();
    let bar = progress::spinner("writing the new database", quiet);
    let lsn = into_new_dir(&args.new_dir, || {
        tabula::create_database(&db, &args.new_dir)
            .with_context(|| format!("cannot create {}", args.new_dir.display()))
    })?;
    bar.finish_and_clear();
    let (rows, tables) = rows_and_tables(&db);
    writeln!(
        out,
        "loaded {rows} row(s) in {tables} table(s) from {} ({read_as}) into {} at LSN {lsn}",
        args.source.display(),
        args.new_dir.display()
    )?;
    Ok(())
}

/// `tabula backup DIR FILE`: one consistent snapshot file (zstd), written atomically while the
/// database stays usable.
pub fn backup(dir: &Path, file: &Path, quiet: bool, out: &mut dyn Write) -> Result<()> {
    let db = open_reading(dir)?;
    let view = db.read().to_database()?;
    let bar = progress::bytes("backing up", None, quiet);
    tabula::save_file(&view, file, Format::Bincode, Compression::Zstd, &mut |n| {
        bar.set_position(n);
    })
    .with_context(|| format!("cannot write the backup {}", file.display()))?;
    bar.finish_and_clear();
    let (rows, tables) = rows_and_tables(&view);
    writeln!(
        out,
        "backed up LSN {} ({rows} row(s) in {tables} table(s)) to {}",
        view.lsn(),
        file.display()
    )?;
    db.close()?;
    Ok(())
}

/// `tabula restore FILE DIR [--to POINT]`.
pub fn restore(source: &Path, dir: &Path, to: Option<&str>, out: &mut dyn Write) -> Result<()> {
    into_new_dir(dir, || restore_into(source, dir, to, out))
}

fn restore_into(source: &Path, dir: &Path, to: Option<&str>, out: &mut dyn Write) -> Result<()> {
    let meta =
        std::fs::metadata(source).with_context(|| format!("cannot open {}", source.display()))?;
    if meta.is_file() {
        if to.is_some() {
            bail!(Usage(format!(
                "--to needs a database or archive directory: the backup file {} holds one state",
                source.display()
            )));
        }
        let lsn = tabula::restore(source, dir)
            .with_context(|| format!("cannot restore {}", source.display()))?;
        writeln!(out, "restored LSN {lsn} into {}", dir.display())?;
        return Ok(());
    }
    // A database directory has a lock file (an archive never does) or was made by `load`.
    if source.join(tabula::engine::LOCK_FILE).exists()
        || (crate::common::is_database(source) && !source.join("wal").is_dir())
    {
        // A database directory: its history gives any point still in its log.
        let db = open_reading(source)?;
        let at = to.map_or_else(|| tabula::At::Lsn(db.read().lsn()), point);
        let lsn = db.restore_to(at, dir)?;
        writeln!(
            out,
            "restored LSN {lsn} of {} into {}",
            source.display(),
            dir.display()
        )?;
        return Ok(());
    }
    // An archive directory (`Options::archive_to`).
    let Some(to) = to else {
        let (lsn, _) = tabula::restore_archive(source, dir, Options::new())
            .with_context(|| format!("cannot restore the archive {}", source.display()))?;
        writeln!(
            out,
            "restored the archive up to LSN {lsn} into {}",
            dir.display()
        )?;
        return Ok(());
    };
    // A point inside the archive: rebuild all of it beside the target, then cut at the point.
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let scratch = parent.join(format!(".tabula-restore-{}", std::process::id()));
    let result = (|| -> Result<tabula::Lsn> {
        tabula::restore_archive(source, &scratch, Options::new())
            .with_context(|| format!("cannot restore the archive {}", source.display()))?;
        let db = tabula::Database::open(&scratch)?;
        let lsn = db.restore_to(point(to), dir)?;
        db.close()?;
        Ok(lsn)
    })();
    let _ = std::fs::remove_dir_all(&scratch);
    let lsn = result?;
    writeln!(
        out,
        "restored LSN {lsn} of the archive into {}",
        dir.display()
    )?;
    Ok(())
}
