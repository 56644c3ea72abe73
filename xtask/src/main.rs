//! `cargo xtask`: tabula's project automation, in Rust so that it runs wherever cargo does.
//!
//! ```text
//! cargo xtask test                     fmt, clippy, tests, doctests, a 20 s fuzz smoke per target
//! cargo xtask ci                       what `.ci/run` calls once tools are installed: the same as test
//! cargo xtask fuzz [TARGET] [--seconds N] [-- LIBFUZZER_ARGS...]
//!                                      longer fuzz runs (300 s per target, all targets by default)
//! cargo xtask fuzz --minutes N        the same, N minutes per target
//! cargo xtask bench [--quick]          tabula against its peers and the machine: BENCHMARKS.md
//! cargo xtask bench criterion [ARGS...]
//!                                      cargo bench -p tabula-benches ARGS... (criterion)
//! cargo xtask reliability [--scale ci|full] [--fuzz-seconds N | --no-fuzz]
//!                                      the reliability suite; writes RELIABILITY.md
//! ```
//!
//! `TABULA_SKIP_FUZZ=1` skips the fuzz smoke of `test`/`ci`. The style rules of `STYLE.md` that a
//! machine can check are `#[test]`s in `tidy`, so plain `cargo test` enforces them too.
//!
//! This crate owns the order of the checks and how they report; it does not own the checks
//! themselves (rustfmt, clippy, the test suites, the fuzz targets in `fuzz/`). It uses only std.

#![allow(
    clippy::print_stderr,
    reason = "a command-line tool: progress and errors go to stderr, as cargo's own do"
)]

mod args;
mod fuzz;
mod pipeline;
mod reliability;
mod step;
#[cfg(test)]
mod tidy;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use args::Command;
use step::Error;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test                      fmt, clippy, tests (nextest if installed), doctests, fuzz smoke
  ci                        what .ci/run calls after installing tools: the same as test
  fuzz [TARGET] [--seconds N | --minutes N] [-- LIBFUZZER_ARGS...]
                            fuzz each target (or TARGET) for N seconds (default 300)
  reliability [--scale ci|full] [--fuzz-seconds N | --no-fuzz]
                            simulated crashes, I/O faults, every-byte damage, process kills,
                            concurrency, fuzzing (60 s per target) and miri; writes RELIABILITY.md
  bench [--quick]           tabula against SQLite, redb, fjall, Redis, DeltaTraceDB and the
                            machine's limits; writes BENCHMARKS.md and benches/peers/charts
                            (--quick: small sizes, written under target/bench-quick)
  bench criterion [ARGS...] cargo bench -p tabula-benches ARGS... (the criterion benchmarks)
  help                      this message

environment:
  TABULA_SKIP_FUZZ=1        skip the fuzz smoke of test and ci";

fn main() -> ExitCode {
    let command = match args::parse(std::env::args().skip(1)) {
        Ok(command) => command,
        Err(e) => {
            eprintln!("xtask: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = match command {
        Command::Help => {
            eprintln!("{USAGE}");
            Ok(())
        }
        Command::Test => pipeline::test(),
        Command::Ci => pipeline::ci(),
        Command::Fuzz(options) => fuzz::long_run(&options),
        Command::Bench { quick } => pipeline::bench(quick),
        Command::Criterion(extra) => pipeline::criterion(&extra),
        Command::Reliability(options) => reliability::run(&options),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: the parent of this crate's manifest directory, fixed at build time so that
/// it does not depend on the directory `cargo xtask` is run from.
pub(crate) fn project_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map_or_else(|| manifest_dir.to_path_buf(), Path::to_path_buf)
}

/// Reads an environment flag: set and not `0` or empty means on.
pub(crate) fn env_flag(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0")
}

/// The result of a step or command: nothing on success, or the [`Error`] that stopped it.
pub(crate) type Result<T = (), E = Error> = std::result::Result<T, E>;
