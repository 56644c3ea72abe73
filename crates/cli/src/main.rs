//! The `tabula` command-line tool: what `sqlite3`, `redis-cli` and `redis-check-aof` are to their
//! databases. It looks into a database directory, queries and changes it, checks and repairs it,
//! moves data in and out, travels in its history, and runs the README's demo. Built only on the
//! `tabula` crate.
//!
//! Conventions, as the users of those tools expect:
//! - commands that add data (`create-table`, `put`, `load`, `restore`, `stress`, `demo`) create
//!   the database directory if it is missing; the others (`delete` and `update` among them, which
//!   change rows that must exist) never create anything and fail on a missing directory;
//! - output is a table on a terminal and JSON Lines in a pipe, unless `--format` says otherwise;
//!   progress bars go to stderr, only on a terminal (not a `dumb` one), and `--quiet` silences
//!   them;
//! - every error is one line on stderr (what, where, what to do) and exit code 1; usage errors
//!   (bad arguments, a `--where` syntax error) exit with 2; `check` exits 1 when it finds damage.

mod args;
mod cmd_admin;
mod cmd_data;
mod cmd_files;
mod cmd_history;
mod common;
mod demo;
mod output;
mod progress;
mod stress;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};
use crate::common::{Failure, Usage};

/// mimalloc rather than glibc's malloc: profiles of the write path (inserts of 1,000 rows)
/// spent 20-30% in `malloc`/`free`, and the engine frees replaced states on its reclaimer thread,
/// which glibc serves poorly (cross-thread frees take the arena lock). Measured on workload 11b:
/// 1.7x the rows per second.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let result = run(cli, &mut out).and_then(|code| {
        out.flush()?;
        Ok(code)
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            // A closed pipe (`tabula query ... | head`) is not an error worth a message.
            if e.chain().any(|cause| {
                cause
                    .downcast_ref::<io::Error>()
                    .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            let _ = out.flush();
            if let Some(failure) = e.downcast_ref::<Failure>() {
                return ExitCode::from(failure.code);
            }
            // Each error in the chain says its own part once (the workspace's rule: an error's
            // `Display` carries its inner error, and then `source()` does not).
            let _ = writeln!(io::stderr(), "error: {e:#}");
            if e.downcast_ref::<Usage>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn run(cli: Cli, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let quiet = cli.quiet;
    match cli.command {
        Command::Demo { dir } => demo::run(&dir, out)?,
        Command::Tables { dir, format } => cmd_data::tables(&dir, format, out)?,
        Command::Schema { dir, table, format } => cmd_data::schema(&dir, &table, format, out)?,
        Command::CreateTable(args) => cmd_data::create_table(&args, out)?,
        Command::Put(args) => cmd_data::put(&args, out)?,
        Command::Get(args) => cmd_data::get(&args, out)?,
        Command::Delete(args) => cmd_data::delete(&args, out)?,
        Command::Update(args) => cmd_data::update(&args, out)?,
        Command::Query(args) => cmd_data::query(&args, out)?,
        Command::Stats { dir, json } => cmd_admin::stats(&dir, json, out)?,
        Command::Check {
            dir,
            fix,
            salvage,
            json,
        } => return cmd_admin::check(&dir, cmd_admin::Fix::from_flags(fix, salvage), json, out),
        Command::Checkpoint { dir } => cmd_admin::checkpoint(&dir, out)?,
        Command::Log(args) => cmd_history::log(&args, out)?,
        Command::History(args) => cmd_history::history(&args, out)?,
        Command::Tag { dir, name, delete } => cmd_history::tag(&dir, &name, delete, out)?,
        Command::Tags { dir, format } => cmd_history::tags(&dir, format, out)?,
        Command::Diff(args) => cmd_history::diff(&args, out)?,
        Command::Rollback(args) => cmd_history::rollback(&args, out)?,
        Command::Dump(args) => cmd_files::dump(&args, quiet, out)?,
        Command::Export { dir, out_dir } => cmd_files::export(&dir, &out_dir, out)?,
        Command::Load(args) => cmd_files::load(&args, quiet, out)?,
        Command::Backup { dir, file } => cmd_files::backup(&dir, &file, quiet, out)?,
        Command::Restore { file, dir, to } => cmd_files::restore(&file, &dir, to.as_deref(), out)?,
        Command::Stress(args) => stress::run(&args, out)?,
    }
    Ok(ExitCode::SUCCESS)
}
