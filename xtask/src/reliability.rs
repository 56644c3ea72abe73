//! `cargo xtask reliability`: the whole reliability suite, and RELIABILITY.md from its run.
//!
//! 1. every fuzz target for `--fuzz-seconds` (default 60) on stable with `--sanitizer none`,
//!    counting libFuzzer's executions (`-print_final_stats=1`), when cargo-fuzz is installed;
//! 2. `cargo +nightly miri test` of the pure crates' unit tests, when miri is installed;
//! 3. `tabula-reliability all --scale full` in release, which runs the simulated crashes, I/O
//!    faults, every-byte damage, process kills and the concurrency run, and writes RELIABILITY.md
//!    with the fuzz and miri results.
//!
//! The figures are whatever the run measured; a failure anywhere fails the command, after the
//! report is written so that it shows the failure.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use crate::args::ReliabilityOptions;
use crate::step::{Error, Output, Steps, cargo, display, succeeds};

/// The crates miri checks: pure code, or in-memory (the simulated disk); the codec's tests are
/// all integration suites, too slow under the interpreter. Their unit tests only,
/// with 4 cases per property test: the integration suites would take hours under the
/// interpreter.
const MIRI_CRATES: [&str; 2] = ["tabula-core", "tabula-storage"];

fn output(cmd: &mut Command) -> String {
    cmd.output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// The machine, date and toolchain, for the report.
fn machine() -> String {
    let date = output(Command::new("date").args(["-u", "+%Y-%m-%d"]));
    let uname = output(Command::new("uname").args(["-srm"]));
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let rustc = output(Command::new("rustc").arg("-V"));
    format!("Run on {date}, {uname}, {cores} cores, {rustc}.")
}

/// The number libFuzzer's final stats give as executed units.
fn executions(log: &str) -> Option<u64> {
    log.lines()
        .find_map(|line| line.strip_prefix("stat::number_of_executed_units:"))
        .and_then(|n| n.trim().parse().ok())
}

/// Runs every fuzz target; returns the `target\truns\tseconds\tstatus` lines.
fn fuzz(root: &Path, seconds: u64, steps: &mut Steps) -> crate::Result<String> {
    let fuzz_dir = root.join("fuzz");
    let mut table = String::new();
    if !crate::fuzz::installed() {
        eprintln!("\nxtask: cargo-fuzz is missing: the report will say fuzzing did not run");
        return Ok(table);
    }
    let build = crate::fuzz::cargo_fuzz(&["build", "--sanitizer", "none"]);
    steps.run("fuzz build", &fuzz_dir, build, Output::Inherit)?;
    for target in crate::fuzz::targets(&fuzz_dir)? {
        let log = root
            .join("target")
            .join("xtask")
            .join(format!("reliability-fuzz-{target}.log"));
        let cmd = crate::fuzz::run_command(&target, seconds, &["-print_final_stats=1".to_owned()]);
        let status = match steps.run(
            &format!("fuzz {target} ({seconds}s)"),
            &fuzz_dir,
            cmd,
            Output::Log(&log),
        ) {
            Ok(()) => "ok".to_owned(),
            Err(e) => format!("FAILED: {e}"),
        };
        let runs = std::fs::read_to_string(&log)
            .ok()
            .and_then(|text| executions(&text))
            .unwrap_or(0);
        let _ = writeln!(table, "{target}\t{runs}\t{seconds}\t{status}");
    }
    Ok(table)
}

/// Runs miri on [`MIRI_CRATES`]; returns what to say in the report.
fn miri(root: &Path, steps: &mut Steps) -> String {
    let mut probe = Command::new("cargo");
    probe.args(["+nightly", "miri", "--version"]);
    if !succeeds(probe) {
        return "Not run: `cargo +nightly miri` is not installed \
                (`rustup component add --toolchain nightly miri rust-src`)."
            .to_owned();
    }
    let mut lines = Vec::new();
    for krate in MIRI_CRATES {
        let mut cmd = Command::new("cargo");
        cmd.args(["+nightly", "miri", "test", "-p", krate, "--lib"])
            .env("CARGO_TARGET_DIR", root.join("target").join("miri"))
            // proptest looks for its regression files (getcwd); few cases, as each is slow
            // under the interpreter.
            .env("MIRIFLAGS", "-Zmiri-disable-isolation")
            .env("PROPTEST_CASES", "4");
        let command = display(&cmd);
        let log = root
            .join("target")
            .join("xtask")
            .join(format!("miri-{krate}.log"));
        let result = steps.run(&format!("miri {krate}"), root, cmd, Output::Log(&log));
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let summary = text
            .lines()
            .rfind(|line| line.starts_with("test result:"))
            .unwrap_or("no test result line")
            .to_owned();
        lines.push(match result {
            Ok(()) => format!("- `{command}`: {summary}"),
            Err(e) => format!("- `{command}`: FAILED ({summary}): {e}"),
        });
    }
    format!(
        "Undefined-behaviour check of the pure crates' unit tests (tabula forbids `unsafe`, so \
         this checks the dependencies' unsafe code as tabula uses it):\n\n{}",
        lines.join("\n")
    )
}

/// `cargo xtask reliability`.
pub(crate) fn run(options: &ReliabilityOptions) -> crate::Result {
    let root = crate::project_root();
    let work = root.join("target").join("reliability");
    std::fs::create_dir_all(&work).map_err(|source| Error::Io {
        step: "reliability".into(),
        command: format!("mkdir {}", work.display()),
        error: source,
    })?;
    let mut steps = Steps::new();
    let mut build = cargo();
    build.args(["build", "--release", "--locked", "-p", "tabula-reliability"]);
    steps.run("build", &root, build, Output::Inherit)?;

    let fuzz_table = if options.fuzz_seconds > 0 {
        fuzz(&root, options.fuzz_seconds, &mut steps)?
    } else {
        String::new()
    };
    let miri = miri(&root, &mut steps);
    let write = |name: &str, text: &str| {
        let path = work.join(name);
        std::fs::write(&path, text).map_err(|source| Error::Io {
            step: "reliability".into(),
            command: format!("write {}", path.display()),
            error: source,
        })?;
        Ok::<_, Error>(path)
    };
    let fuzz_path = write("fuzz.tsv", &fuzz_table)?;
    let miri_path = write("miri.md", &miri)?;

    let mut command = format!("cargo xtask reliability --scale {}", options.scale);
    if options.fuzz_seconds == 0 {
        command.push_str(" --no-fuzz");
    } else if options.fuzz_seconds != crate::args::DEFAULT_RELIABILITY_FUZZ_SECONDS {
        let _ = write!(command, " --fuzz-seconds {}", options.fuzz_seconds);
    }
    let mut suite = Command::new(
        root.join("target")
            .join("release")
            .join("tabula-reliability"),
    );
    suite
        .args(["all", "--scale", &options.scale, "--out", "RELIABILITY.md"])
        .arg("--json")
        .arg(work.join("report.json"))
        .arg("--fuzz")
        .arg(&fuzz_path)
        .arg("--miri")
        .arg(&miri_path)
        .args(["--command", &command, "--machine", &machine()]);
    let suite_result = steps.run("reliability suite", &root, suite, Output::Inherit);
    steps.summary();
    suite_result?;
    let failed_fuzz = fuzz_table
        .lines()
        .filter(|line| line.contains("FAILED"))
        .count();
    let failed_miri = miri.contains("FAILED");
    if failed_fuzz > 0 || failed_miri {
        return Err(Error::Usage(crate::args::UsageError(format!(
            "{failed_fuzz} fuzz target(s) failed{}; see RELIABILITY.md",
            if failed_miri { " and miri failed" } else { "" }
        ))));
    }
    eprintln!("\nxtask: RELIABILITY.md written");
    Ok(())
}
