//! Fuzzing through cargo-fuzz: the short smoke run that `cargo xtask test` ends with, and the
//! longer runs of `cargo xtask fuzz`.
//!
//! Everything runs on the stable toolchain with `--sanitizer none` (the sanitizers need nightly;
//! tabula forbids `unsafe`, so the coverage-guided search and the targets' own assertions are what
//! find bugs). The targets are whatever `cargo fuzz list` reports in `fuzz/`, so a new target is
//! picked up without touching this file. Targets are built once, then each is run; corpora grow in
//! `fuzz/corpus/<target>` and crashes land in `fuzz/artifacts/<target>`.

use std::path::Path;
use std::process::Command;

use crate::args::{FuzzOptions, UsageError};
use crate::step::{Error, Output, Steps, cargo, display, succeeds};

/// Seconds each target runs in the smoke run of `cargo xtask test`.
const SMOKE_SECONDS: u64 = 20;

/// Longest a single input may take before libFuzzer reports it as a hang. Its default is
/// 20 minutes, which would stall CI instead of failing it.
const INPUT_TIMEOUT_SECONDS: u64 = 10;

/// The environment variable that skips the smoke run.
const SKIP_ENV: &str = "TABULA_SKIP_FUZZ";

pub(crate) fn cargo_fuzz(args: &[&str]) -> Command {
    let mut cmd = cargo();
    cmd.arg("fuzz").args(args);
    cmd
}

pub(crate) fn installed() -> bool {
    succeeds(cargo_fuzz(&["--version"]))
}

/// The fuzz targets, as cargo-fuzz lists them.
pub(crate) fn targets(fuzz_dir: &Path) -> crate::Result<Vec<String>> {
    let mut cmd = cargo_fuzz(&["list"]);
    cmd.current_dir(fuzz_dir);
    let command = display(&cmd);
    let out = cmd.output().map_err(|source| Error::Io {
        step: "fuzz list".into(),
        command: command.clone(),
        error: source,
    })?;
    if !out.status.success() {
        return Err(Error::StepFailed {
            step: "fuzz list".into(),
            command,
            status: out.status,
            elapsed: std::time::Duration::ZERO,
            log: None,
        });
    }
    let targets: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if targets.is_empty() {
        return Err(Error::Usage(UsageError(format!(
            "`{command}` in {} lists no fuzz targets",
            fuzz_dir.display()
        ))));
    }
    Ok(targets)
}

/// `cargo fuzz run TARGET --sanitizer none -- -max_total_time=SECONDS ...`.
pub(crate) fn run_command(target: &str, seconds: u64, extra: &[String]) -> Command {
    let mut cmd = cargo_fuzz(&["run", target, "--sanitizer", "none", "--"]);
    cmd.arg(format!("-max_total_time={seconds}"))
        .arg(format!("-timeout={INPUT_TIMEOUT_SECONDS}"))
        .args(extra);
    cmd
}

/// Lints the fuzz crate, builds every target, then runs each for [`SMOKE_SECONDS`], its output in
/// `target/xtask/fuzz-<target>.log`. Skipped, with a note, when `TABULA_SKIP_FUZZ` is set or
/// cargo-fuzz is not installed.
pub(crate) fn smoke(root: &Path, steps: &mut Steps) -> crate::Result {
    if crate::env_flag(SKIP_ENV) {
        eprintln!("\nxtask: fuzz smoke skipped: {SKIP_ENV} is set");
        return Ok(());
    }
    if !installed() {
        eprintln!(
            "\nxtask: fuzz smoke skipped: cargo-fuzz is missing (cargo install cargo-fuzz --locked)"
        );
        return Ok(());
    }
    let fuzz_dir = root.join("fuzz");
    let targets = targets(&fuzz_dir)?;
    // The fuzz crate is its own workspace, so the workspace clippy step does not see it.
    let mut clippy = cargo();
    clippy.args(["clippy", "--all-targets", "--", "-D", "warnings"]);
    steps.run("fuzz clippy", &fuzz_dir, clippy, Output::Inherit)?;
    let build = cargo_fuzz(&["build", "--sanitizer", "none"]);
    steps.run("fuzz build", &fuzz_dir, build, Output::Inherit)?;
    let logs = root.join("target").join("xtask");
    for target in &targets {
        let log = logs.join(format!("fuzz-{target}.log"));
        steps.run(
            &format!("fuzz {target} ({SMOKE_SECONDS}s)"),
            &fuzz_dir,
            run_command(target, SMOKE_SECONDS, &[]),
            Output::Log(&log),
        )?;
    }
    Ok(())
}

/// `cargo xtask fuzz`: builds, then runs the chosen targets one after another.
pub(crate) fn long_run(options: &FuzzOptions) -> crate::Result {
    if !installed() {
        return Err(Error::MissingTool {
            tool: "cargo-fuzz".into(),
            install: "cargo install cargo-fuzz --locked".into(),
        });
    }
    let root = crate::project_root();
    let fuzz_dir = root.join("fuzz");
    let all = targets(&fuzz_dir)?;
    let chosen = match &options.target {
        None => all,
        Some(target) if all.contains(target) => vec![target.clone()],
        Some(target) => {
            return Err(Error::Usage(UsageError(format!(
                "no fuzz target {target:?}; the targets are: {}",
                all.join(", ")
            ))));
        }
    };
    let mut steps = Steps::new();
    let build = cargo_fuzz(&["build", "--sanitizer", "none"]);
    steps.run("fuzz build", &fuzz_dir, build, Output::Inherit)?;
    for target in &chosen {
        steps.run(
            &format!("fuzz {target} ({}s)", options.seconds),
            &fuzz_dir,
            run_command(target, options.seconds, &options.libfuzzer_args),
            Output::Inherit,
        )?;
    }
    steps.summary();
    Ok(())
}
