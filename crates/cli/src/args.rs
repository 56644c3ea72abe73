//! The command line: every command, argument and flag (clap derive). The help text here is the
//! tool's reference.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// tabula: an embedded, in-memory table database with durable persistence.
///
/// A POINT is a log position (an LSN number), an RFC 3339 time (`2026-11-24T10:00:00Z`) or a tag
/// name.
#[derive(Debug, Parser)]
#[command(name = "tabula", version, about, long_about, max_term_width = 100)]
pub struct Cli {
    /// No progress bars.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// How rows are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// A table (the default on a terminal).
    Table,
    /// One JSON array (one object for `get`).
    Json,
    /// One JSON object per line (the default in a pipe).
    Jsonl,
}

/// The codec of a dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DumpFormat {
    /// JSON: without compression, DictDB's document.
    Json,
    /// MessagePack.
    Msgpack,
    /// The bincode-1 wire format.
    Bincode,
}

/// The compression of a dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Compress {
    /// zstd.
    Zstd,
    /// LZ4.
    Lz4,
    /// None.
    None,
}

/// When `stress` makes commits durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Sync {
    /// fsync before acknowledging.
    Always,
    /// Written to the OS before acknowledging, fsync every second.
    Everysec,
    /// Written to the OS before acknowledging, never fsync'd by tabula.
    Never,
}

/// What `load` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum From {
    /// Tell from the bytes.
    Auto,
    /// A tabula dump, backup, saved file or snapshot.
    Tabula,
    /// A DictDB JSON file.
    Dictdb,
    /// A DeltaTraceDB saved database (`to_dict` JSON).
    Deltatrace,
    /// A directory written by `tabula export`.
    TablesDir,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Builds the seed's university database (students, courses, enrollments) through ordinary
    /// commits with causes, checkpoints it, tags it, changes it, and says what to try next.
    Demo {
        /// Where to build it (replaced if it holds an earlier demo).
        #[arg(default_value = "tabula-demo")]
        dir: PathBuf,
    },
    /// Lists the tables with their row counts and keys.
    Tables {
        dir: PathBuf,
        #[arg(long, value_enum)]
        format: Option<OutputFormat>,
    },
    /// Shows a table's definition: columns, key, indexes.
    Schema {
        dir: PathBuf,
        table: String,
        #[arg(long, value_enum)]
        format: Option<OutputFormat>,
    },
    /// Creates a table.
    CreateTable(CreateTableArgs),
    /// Inserts rows: one JSON object, an array of objects, or JSON Lines; prints the keys.
    Put(PutArgs),
    /// Prints one row by its primary key.
    Get(GetArgs),
    /// Deletes one row by its primary key, or every row `--where` matches, in one transaction.
    Delete(DeleteArgs),
    /// Sets columns (`--set COL=VALUE`) of one row by its key, or of every row `--where`
    /// matches, in one transaction; prints how many rows changed.
    Update(UpdateArgs),
    /// Selects rows with a filter, an order and a limit.
    Query(QueryArgs),
    /// Prints the database's statistics.
    Stats {
        dir: PathBuf,
        /// As one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Verifies every byte of every snapshot and log segment (archived ones included). Exit code
    /// 0 when healthy, 1 when damage is found, 2 on usage errors.
    Check {
        dir: PathBuf,
        /// Cut a torn tail (the unfinished end of the log after a crash) after saying what it
        /// cuts; a complete last record that fails its check is kept under `wal/quarantine/`.
        /// Corruption is never removed.
        #[arg(long)]
        fix: bool,
        /// The last resort for a corrupted log without a backup: open skipping every damaged
        /// record (their transactions are lost; each range is listed), keep every valid one
        /// after them, and write a checkpoint so that the database opens normally again.
        #[arg(long)]
        salvage: bool,
        /// As one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Writes a snapshot now, so the next open replays less.
    Checkpoint { dir: PathBuf },
    /// Lists logged transactions with their causes.
    Log(LogArgs),
    /// Every version of one row, oldest first, with who changed it and why.
    History(HistoryArgs),
    /// Names the current state (`tabula tag DIR v1`), or deletes a tag with `--delete`.
    Tag {
        dir: PathBuf,
        name: String,
        #[arg(long)]
        delete: bool,
    },
    /// Lists the tags.
    Tags {
        dir: PathBuf,
        #[arg(long, value_enum)]
        format: Option<OutputFormat>,
    },
    /// What changed between two points.
    Diff(DiffArgs),
    /// Makes the current state equal to a past point, as one new logged transaction.
    Rollback(RollbackArgs),
    /// Writes the database (or one table) to one file.
    Dump(DumpArgs),
    /// Writes every table as `schema/<table>.schema.json` and `data/<table>.records` (JSON Lines).
    Export {
        dir: PathBuf,
        #[arg(value_name = "OUTDIR")]
        out_dir: PathBuf,
    },
    /// Makes a new database from a dump, a DictDB file, a DeltaTraceDB file or an exported
    /// directory.
    Load(LoadArgs),
    /// Writes a consistent backup file while the database stays usable.
    Backup { dir: PathBuf, file: PathBuf },
    /// Makes a new database directory from a backup file; with `--to`, from a database or archive
    /// directory at a past point.
    Restore {
        /// A backup file, a database directory or an archive directory.
        file: PathBuf,
        dir: PathBuf,
        /// The point to restore (needs a database or archive directory as the source).
        #[arg(long, value_name = "POINT")]
        to: Option<String>,
    },
    /// Concurrent writers commit small transactions; each acknowledged commit prints
    /// `ack <table> <key>`. Kill it at any moment, then check that every ack survived.
    Stress(StressArgs),
}

#[derive(Debug, Args)]
pub struct CreateTableArgs {
    pub dir: PathBuf,
    pub table: String,
    /// The primary key column, or several separated by commas for a key made of them
    /// (`order_id,line`, as SQL's `PRIMARY KEY (order_id, line)`: the table keeps their list
    /// in a column `key`; `get` and `history` then take `7,1`).
    #[arg(long, value_name = "COL[,COL..]")]
    pub primary_key: String,
    /// Columns, as JSON or a file holding it: `{"name": "text", "email": {"type": "text",
    /// "unique": true, "nullable": false}}`, or an array of column objects, or the definition
    /// `tabula schema --format json` prints. Without it the table is schemaless.
    #[arg(long, value_name = "JSON|FILE")]
    pub schema: Option<String>,
    /// Missing integer keys get the next number.
    #[arg(long)]
    pub auto_increment: bool,
    /// An ordered index, as NAME=PATH (`by_city=address.city`); repeatable.
    #[arg(long, value_name = "NAME=PATH")]
    pub index: Vec<String>,
    /// A unique index, as NAME=PATH; repeatable.
    #[arg(long, value_name = "NAME=PATH")]
    pub unique: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CauseArgs {
    /// Who makes the change (kept in the log and the history).
    #[arg(long)]
    pub who: Option<String>,
    /// Why.
    #[arg(long)]
    pub why: Option<String>,
}

#[derive(Debug, Args)]
pub struct PutArgs {
    pub dir: PathBuf,
    pub table: String,
    /// The rows as JSON; `-` or nothing reads standard input.
    pub json: Option<String>,
    /// Read the rows from a file.
    #[arg(long, short, conflicts_with = "json")]
    pub file: Option<PathBuf>,
    /// Replace rows whose key exists instead of failing.
    #[arg(long)]
    pub upsert: bool,
    #[command(flatten)]
    pub cause: CauseArgs,
}

#[derive(Debug, Args)]
pub struct GetArgs {
    pub dir: PathBuf,
    pub table: String,
    /// The key: a number for integer keys, else text (JSON such as `"42"` for text that looks
    /// like a number in a schemaless table).
    #[arg(allow_negative_numbers = true)]
    pub key: String,
    #[arg(long, value_name = "POINT")]
    pub as_of: Option<String>,
    #[arg(long, value_enum)]
    pub format: Option<OutputFormat>,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    pub dir: PathBuf,
    pub table: String,
    /// The key of the row to delete.
    #[arg(allow_negative_numbers = true, required_unless_present = "filter")]
    pub key: Option<String>,
    /// Delete every row this filter matches instead (the `query --where` language).
    #[arg(
        long = "where",
        short = 'w',
        value_name = "EXPR",
        conflicts_with = "key"
    )]
    pub filter: Option<String>,
    #[command(flatten)]
    pub cause: CauseArgs,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    pub dir: PathBuf,
    pub table: String,
    /// The key of the row to change.
    #[arg(allow_negative_numbers = true, required_unless_present = "filter")]
    pub key: Option<String>,
    /// Change every row this filter matches instead (the `query --where` language).
    #[arg(
        long = "where",
        short = 'w',
        value_name = "EXPR",
        conflicts_with = "key"
    )]
    pub filter: Option<String>,
    /// A column and its new value, `COL=VALUE`; repeatable. VALUE is read by the column's type
    /// where the table declares one (text as written, an RFC 3339 time for a timestamp, `null`
    /// for null in any column), else as JSON (`42`, `true`, `null`, `"text"`, `[1,2]`), else as
    /// text.
    #[arg(long, value_name = "COL=VALUE", required = true)]
    pub set: Vec<String>,
    #[command(flatten)]
    pub cause: CauseArgs,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    pub dir: PathBuf,
    pub table: String,
    /// A filter: `gpa > 3.5 and (city = 'Paris' or address.city in ('Lyon', 'Nice'))`;
    /// also `!=`, `<=`, `>=`, `is null`, `is not null`, `starts with 'x'`, `not`.
    #[arg(long = "where", short = 'w', value_name = "EXPR")]
    pub filter: Option<String>,
    /// Sort by a column, `COL` or `COL:desc`; repeatable.
    #[arg(long, value_name = "COL[:desc]")]
    pub order_by: Vec<String>,
    #[arg(long)]
    pub limit: Option<usize>,
    #[arg(long)]
    pub offset: Option<usize>,
    #[arg(long, value_name = "POINT")]
    pub as_of: Option<String>,
    #[arg(long, value_enum)]
    pub format: Option<OutputFormat>,
}

#[derive(Debug, Args)]
pub struct LogArgs {
    pub dir: PathBuf,
    /// Only transactions after this point.
    #[arg(long, value_name = "POINT")]
    pub from: Option<String>,
    /// Only transactions up to this point.
    #[arg(long, value_name = "POINT")]
    pub to: Option<String>,
    /// Only transactions that touch this table.
    #[arg(long)]
    pub table: Option<String>,
    /// Only transactions by this `who`.
    #[arg(long)]
    pub who: Option<String>,
    #[arg(long, value_enum)]
    pub format: Option<OutputFormat>,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    pub dir: PathBuf,
    pub table: String,
    #[arg(allow_negative_numbers = true)]
    pub key: String,
    #[arg(long, value_enum)]
    pub format: Option<OutputFormat>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    pub dir: PathBuf,
    /// The earlier point.
    pub a: String,
    /// The later point.
    pub b: String,
    #[arg(long, value_enum)]
    pub format: Option<OutputFormat>,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    pub dir: PathBuf,
    pub point: String,
    #[command(flatten)]
    pub cause: CauseArgs,
}

#[derive(Debug, Args)]
pub struct DumpArgs {
    pub dir: PathBuf,
    pub file: PathBuf,
    #[arg(long, value_enum, default_value = "json")]
    pub format: DumpFormat,
    /// Default: none for JSON (DictDB's document), zstd otherwise.
    #[arg(long, value_enum)]
    pub compress: Option<Compress>,
    /// Only this table.
    #[arg(long)]
    pub table: Option<String>,
    /// The state at a past point.
    #[arg(long, value_name = "POINT")]
    pub as_of: Option<String>,
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// A dump, a DictDB JSON file, a DeltaTraceDB JSON file or an exported directory.
    pub source: PathBuf,
    /// The new database directory (missing or empty).
    pub new_dir: PathBuf,
    #[arg(long, value_enum, default_value = "auto")]
    pub from: From,
}

#[derive(Debug, Args)]
pub struct StressArgs {
    pub dir: PathBuf,
    /// Concurrent writers (1 to 256).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub writers: u16,
    /// How long to run (up to a day).
    #[arg(long, default_value_t = 10.0, value_parser = seconds)]
    pub seconds: f64,
    #[arg(long, value_enum, default_value = "always")]
    pub sync: Sync,
    /// Log segment size in bytes (small values make kills land in segment rotation).
    #[arg(long, value_name = "BYTES")]
    pub segment_size: Option<u64>,
    /// Checkpoint after this many bytes of log (small values make kills land in checkpoints).
    #[arg(long, value_name = "BYTES")]
    pub checkpoint_bytes: Option<u64>,
}

/// A duration in seconds: finite, from 0 to a day.
fn seconds(text: &str) -> Result<f64, String> {
    let value: f64 = text.parse().map_err(|e| format!("{e}"))?;
    if (0.0..=86_400.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!("{text} is not between 0 and 86400 seconds"))
    }
}
