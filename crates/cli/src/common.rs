//! What the commands share: opening a database directory the way each kind of command must,
//! reading POINTs and keys from the command line, causes, and the two error kinds that choose
//! an exit code.

use std::fmt;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use tabula::{At, Cause, ColumnType, Database, Lsn, Options, TableDef, Timestamp, Value};

use crate::args::CauseArgs;

/// A usage error (exit code 2): the command line itself is wrong.
#[derive(Debug)]
pub struct Usage(pub String);

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// A failure already reported on stdout/stderr: exit with `code` and print nothing more.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "failed (exit code {})", self.code)
    }
}

impl std::error::Error for Failure {}

/// True when `dir` holds a tabula database (its log or snapshot directory).
pub fn is_database(dir: &Path) -> bool {
    dir.join(tabula::engine::WAL_DIR).is_dir() || dir.join(tabula::engine::SNAPSHOT_DIR).is_dir()
}

/// Opens an existing database for a command that only reads (`tables`, `schema`, `get`,
/// `query`, `dump`, `export`, `backup`, `tags`, `stats`, `log`, `history`, `diff`, `--at`,
/// `restore --to`): read-only, so it works beside the application that has it open and on
/// read-only storage, and writes nothing, a torn end of the log included. History reads the
/// archived and live log without a lock, up to what the open verified.
pub fn open_reading(dir: &Path) -> Result<Database> {
    check_existing(dir)?;
    let db = Database::open_read_only(dir)
        .with_context(|| format!("cannot read the database in {}", dir.display()))?;
    for (path, why) in &db.recovery().skipped_snapshots {
        let _ = writeln!(
            std::io::stderr(),
            "warning: the snapshot {} does not load ({why}); read from an older snapshot or the log instead",
            path.display()
        );
    }
    Ok(db)
}

/// Refuses a path that is not an existing database directory, saying why.
fn check_existing(dir: &Path) -> Result<()> {
    match std::fs::metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "{}: no such directory (only commands that add data create a database)",
            dir.display()
        ),
        Err(e) => return Err(e).with_context(|| format!("cannot open {}", dir.display())),
        Ok(meta) if !meta.is_dir() => {
            bail!("{} is a file, not a database directory", dir.display())
        }
        Ok(_) => {}
    }
    if !is_database(dir) {
        bail!(
            "{} is not a tabula database (it has no wal/ or snapshots/ directory)",
            dir.display()
        );
    }
    Ok(())
}

/// Opens an existing database for a command that must not create one.
pub fn open_existing(dir: &Path) -> Result<Database> {
    check_existing(dir)?;
    // Looking writes nothing of its own: no checkpoints, TTL deletes or archive copies. Recovery
    // still removes a torn tail, as opening always does (`redis-server` and `sqlite3` repair on
    // open too); the user is told, since `tabula check` would have reported it.
    let db = Database::with_options(dir, Options::new().background(false))
        .with_context(|| format!("cannot open the database in {}", dir.display()))?;
    for (path, why) in &db.recovery().skipped_snapshots {
        let _ = writeln!(
            std::io::stderr(),
            "warning: the snapshot {} does not load ({why}); the database opened from an older snapshot or the log instead",
            path.display()
        );
    }
    for (damage, kept) in &db.recovery().wal.quarantined {
        let _ = writeln!(
            std::io::stderr(),
            "warning: the last record of {} (at offset {}, {} bytes) was complete but failed its check: a write cut short, or damage to a commit that may have been acknowledged. Its bytes are kept in {}; the database opened without it",
            damage.segment.display(),
            damage.offset,
            damage.bytes,
            kept.display()
        );
    }
    let wal = &db.recovery().wal;
    for damage in wal
        .truncated
        .iter()
        .filter(|d| !wal.quarantined.iter().any(|(kept, _)| kept == *d))
    {
        let _ = writeln!(
            std::io::stderr(),
            "note: removed a torn tail of {} byte(s) at offset {} of {} (a record cut short by a crash; no acknowledged commit was in it)",
            damage.bytes,
            damage.offset,
            damage.segment.display()
        );
    }
    Ok(db)
}

/// Opens a database, creating the directory if needed (commands that write, as `sqlite3`).
pub fn open(dir: &Path) -> Result<Database> {
    Database::open(dir).with_context(|| format!("cannot open the database in {}", dir.display()))
}

/// Reads a POINT: an LSN number, an RFC 3339 time, or a tag name.
pub fn point(text: &str) -> At {
    if let Ok(n) = text.parse::<u64>() {
        return At::Lsn(Lsn(n));
    }
    if let Ok(time) = text.parse::<Timestamp>() {
        return At::Time(time);
    }
    At::Tag(text.to_owned())
}

/// The definition of `table`, or an error naming the tables there are.
pub fn table_def(db: &tabula::View, table: &str) -> Result<TableDef> {
    match db.table(table) {
        Some(t) => Ok(t.def().clone()),
        None => {
            let names: Vec<&str> = db
                .tables()
                .map(|t| t.name())
                .filter(|n| !n.starts_with("_tabula"))
                .collect();
            if names.is_empty() {
                bail!("no table named {table:?}: the database has no tables")
            }
            bail!(
                "no table named {table:?}; the tables are: {}",
                names.join(", ")
            )
        }
    }
}

/// Reads a primary key typed from the command line: by the key column's type when the table
/// declares it; else a number when it reads as one, JSON when quoted, text otherwise. A key of
/// several columns is their values separated by commas (`7,1`), each read by its column's type,
/// or a JSON array (`["a,b", 1]`).
pub fn key(def: &TableDef, text: &str) -> Result<Value> {
    if !def.key_parts.is_empty() {
        // JSON for parts a comma cannot separate (`["a,b", 1]`).
        if text.trim_start().starts_with('[') {
            let parts: Vec<Value> = serde_json::from_str(text)
                .map_err(|e| Usage(format!("the key {text} is not a JSON array: {e}")))?;
            return def
                .conform_key(Value::List(parts))
                .map_err(|e| Usage(format!("the key {text}: {e}")).into());
        }
        let texts: Vec<&str> = text.split(',').collect();
        if texts.len() != def.key_parts.len() {
            return Err(Usage(format!(
                "the key of {} is made of {} ({} values separated by commas), not {text:?}",
                def.name,
                def.key_parts.join(", "),
                def.key_parts.len()
            ))
            .into());
        }
        let parts = texts
            .iter()
            .zip(&def.key_parts)
            .map(|(text, part)| scalar(def, part, text))
            .collect::<Result<Vec<_>>>()?;
        return def
            .conform_key(Value::List(parts))
            .map_err(|e| Usage(format!("the key {text:?}: {e}")).into());
    }
    scalar(def, &def.primary_key, text)
}

/// One value for `column` of `def` typed from the command line (see [`key`]).
fn scalar(def: &TableDef, column: &str, text: &str) -> Result<Value> {
    let ty = def
        .schema
        .as_ref()
        .and_then(|s| s.column(column))
        .map_or(ColumnType::Any, |c| c.ty);
    match ty {
        ColumnType::Int => text.trim().parse::<i64>().map(Value::Int).map_err(|_| {
            Usage(format!(
                "the key of {} is an integer ({column}), not {text:?}",
                def.name
            ))
            .into()
        }),
        ColumnType::Text => Ok(Value::Text(text.to_owned())),
        ColumnType::Timestamp => text
            .trim()
            .parse::<Timestamp>()
            .map(Value::Timestamp)
            .map_err(|e| Usage(format!("the key of {} ({column}): {e}", def.name)).into()),
        _ => {
            if let Ok(n) = text.trim().parse::<i64>() {
                return Ok(Value::Int(n));
            }
            if text.starts_with('"') {
                return serde_json::from_str(text).map_err(|e| {
                    Usage(format!("the key {text} is not a JSON string: {e}")).into()
                });
            }
            Ok(Value::Text(text.to_owned()))
        }
    }
}

/// The cause given on the command line (`None` when neither `--who` nor `--why`).
pub fn cause(args: &CauseArgs, what: &str) -> Option<Cause> {
    if args.who.is_none() && args.why.is_none() {
        return None;
    }
    let mut cause = Cause::new().what(what);
    if let Some(who) = &args.who {
        cause = cause.who(who.as_str());
    }
    if let Some(why) = &args.why {
        cause = cause.why(why.as_str());
    }
    Some(cause)
}

/// How a value reads in a table cell or a message: text bare, everything else as JSON.
pub fn show(value: &Value) -> String {
    match value {
        Value::Text(s) => s.clone(),
        other => serde_json::to_string(other).unwrap_or_else(|_| other.to_string()),
    }
}
