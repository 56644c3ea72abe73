//! The peer benchmark: tabula, SQLite, redb, fjall, Redis, Tarantool and DeltaTraceDB on the
//! same data, in the same run, beside the machine's physical limits; writes BENCHMARKS.md and its
//! SVG charts.
//!
//! ```text
//! cargo bench -p tabula-peers --bench peers -- [--quick] [--report FILE] [--charts DIR]
//!                                              [--data DIR] [--command TEXT]
//! ```
//!
//! `cargo xtask bench` runs it with the report at the workspace root; `--quick` runs every
//! workload at small sizes (CI). Redis, Tarantool and DeltaTraceDB are skipped, with a note in
//! the report, when `redis-server`, `tarantool` or the Python package is not installed. Any engine error is filed in the
//! report and makes the run exit 1.
//!
//! The modules: [`store`] (the one interface every contender is driven through) and its
//! implementations ([`tabula_store`], [`sqlite`], [`redb_store`], [`fjall_store`], [`redis`]);
//! Tarantool, driven through its own Lua script rather than a [`store::Store`] ([`tarantool`]);
//! [`workloads`] (the measurement loops); [`child`] (the processes that are killed or measured on
//! their own); [`dtdb`] (DeltaTraceDB's own speed test, both sides); [`run`] (the order of the
//! run and the report's workloads) and [`goals`] (the issue's goals, judged).

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark's progress and figures are its output"
)]

mod child;
mod dtdb;
mod fjall_store;
mod goals;
mod redb_store;
mod redis;
mod run;
mod sqlite;
mod store;
mod tabula_store;
mod tarantool;
mod typed;
mod workloads;

use std::path::PathBuf;
use std::process::ExitCode;

/// mimalloc rather than glibc's malloc: profiles of the write path (inserts of 1,000 rows)
/// spent 20-30% in `malloc`/`free`, and the engine frees replaced states on its reclaimer thread,
/// which glibc serves poorly (cross-thread frees take the arena lock). Measured on workload 11b:
/// 1.7x the rows per second.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Every fallible step's result: the benchmark reports errors, it does not classify them.
pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The command line.
#[derive(Debug)]
pub struct Args {
    /// Small sizes (CI).
    pub quick: bool,
    /// Where BENCHMARKS.md goes.
    pub report: PathBuf,
    /// Where the charts go.
    pub charts: PathBuf,
    /// Where the databases are made (removed afterwards).
    pub data: PathBuf,
    /// The command line to print in the report.
    pub command: String,
}

fn parse(args: &[String]) -> Result<Args> {
    // cargo runs a bench binary in its package's directory: the defaults are under the
    // workspace's target directory.
    let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target");
    let mut parsed = Args {
        quick: false,
        report: target.join("bench-report/BENCHMARKS.md"),
        charts: target.join("bench-report/charts"),
        data: target.join("bench-data"),
        command: "cargo bench -p tabula-peers --bench peers".to_owned(),
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().cloned().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--quick" => parsed.quick = true,
            "--report" => parsed.report = value()?.into(),
            "--charts" => parsed.charts = value()?.into(),
            "--data" => parsed.data = value()?.into(),
            "--command" => parsed.command = value()?,
            // What cargo bench passes to every bench binary.
            "--bench" => {}
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    Ok(parsed)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(("child", rest)) = args.split_first().map(|(a, r)| (a.as_str(), r)) {
        return match child::run(rest) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("child {rest:?}: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let args = match parse(&args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("peers: {e}");
            return ExitCode::from(2);
        }
    };
    match run::run(&args) {
        Ok(report) if report.errors.is_empty() => ExitCode::SUCCESS,
        Ok(report) => {
            eprintln!("peers: {} engine error(s):", report.errors.len());
            for e in &report.errors {
                eprintln!("  {e}");
            }
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("peers: {e}");
            ExitCode::FAILURE
        }
    }
}
