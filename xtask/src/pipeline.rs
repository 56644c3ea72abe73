//! `cargo xtask test` and `ci`: every check, in order from cheapest to dearest, stopping at the
//! first failure; and `cargo xtask bench`.
//!
//! 1. `cargo fmt --all -- --check`, and the same for the fuzz crate (its own workspace)
//! 2. `cargo clippy --workspace --all-targets --all-features --locked -- -D warnings`
//! 3. `cargo nextest run --workspace --all-features --locked`, or `cargo test` with the same
//!    arguments without nextest
//! 4. `cargo test --workspace --doc --all-features --locked`, always: nextest does not run
//!    doctests
//! 5. `cargo doc --no-deps --workspace --all-features` with warnings as errors
//! 6. a fuzz smoke (see [`crate::fuzz`]): clippy on the fuzz crate, then 20 s of every target,
//!    if cargo-fuzz is installed and `TABULA_SKIP_FUZZ` is not set

use crate::fuzz;
use crate::step::{Output, Steps, cargo, succeeds};

/// Runs every check.
pub(crate) fn test() -> crate::Result {
    let root = crate::project_root();
    let mut steps = Steps::new();

    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--", "--check"]);
    steps.run("fmt", &root, fmt, Output::Inherit)?;

    // The fuzz crate is its own workspace, so `--all` above does not reach it; rustfmt needs no
    // build, so this costs nothing and does not need cargo-fuzz.
    let mut fmt_fuzz = cargo();
    fmt_fuzz.args([
        "fmt",
        "--manifest-path",
        "fuzz/Cargo.toml",
        "--all",
        "--",
        "--check",
    ]);
    steps.run("fmt fuzz", &root, fmt_fuzz, Output::Inherit)?;

    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--locked",
        "--",
        "-D",
        "warnings",
    ]);
    steps.run("clippy", &root, clippy, Output::Inherit)?;

    let mut probe = cargo();
    probe.args(["nextest", "--version"]);
    let mut tests = cargo();
    if succeeds(probe) {
        tests.args([
            "nextest",
            "run",
            "--workspace",
            "--all-features",
            "--locked",
        ]);
    } else {
        eprintln!("\nxtask: cargo-nextest is not installed; running the tests with cargo test");
        tests.args(["test", "--workspace", "--all-features", "--locked"]);
    }
    steps.run("tests", &root, tests, Output::Inherit)?;

    let mut doctests = cargo();
    doctests.args(["test", "--workspace", "--doc", "--all-features", "--locked"]);
    steps.run("doctests", &root, doctests, Output::Inherit)?;

    let mut docs = cargo();
    docs.args([
        "doc",
        "--no-deps",
        "--workspace",
        "--all-features",
        "--locked",
    ]);
    docs.env("RUSTDOCFLAGS", "-D warnings");
    steps.run("docs", &root, docs, Output::Inherit)?;

    fuzz::smoke(&root, &mut steps)?;

    steps.summary();
    eprintln!("\nxtask: all checks passed");
    Ok(())
}

/// What CI runs once its tools are installed: the toolchain versions, for the log, then `test`.
pub(crate) fn ci() -> crate::Result {
    for args in [
        &["--version"][..],
        &["clippy", "--version"],
        &["fmt", "--version"],
    ] {
        let mut cmd = cargo();
        cmd.args(args);
        // Only informative: a missing tool fails its step below with a clearer message.
        if let Ok(out) = cmd.output() {
            eprintln!("xtask: {}", String::from_utf8_lossy(&out.stdout).trim());
        }
    }
    test()
}

/// The peer benchmark (`benches/peers`): BENCHMARKS.md at the root and its charts in
/// `benches/peers/charts`, or with `quick` small sizes written under `target/bench-quick` (so a
/// CI run never touches the committed report). Fails if any engine errored.
pub(crate) fn bench(quick: bool) -> crate::Result {
    let root = crate::project_root();
    let mut bench = cargo();
    bench.args([
        "bench",
        "--locked",
        "-p",
        "tabula-peers",
        "--bench",
        "peers",
        "--",
    ]);
    // cargo runs a bench binary in its package's directory: every path is given whole.
    let (report, charts, command) = if quick {
        bench.arg("--quick");
        (
            "target/bench-quick/BENCHMARKS.md",
            "target/bench-quick/charts",
            "cargo xtask bench --quick",
        )
    } else {
        ("BENCHMARKS.md", "benches/peers/charts", "cargo xtask bench")
    };
    bench
        .arg("--report")
        .arg(root.join(report))
        .arg("--charts")
        .arg(root.join(charts))
        .arg("--data")
        .arg(root.join("target/bench-data"))
        .args(["--command", command]);
    let mut steps = Steps::new();
    steps.run("bench", &root, bench, Output::Inherit)
}

/// `cargo bench -p tabula-benches` (the criterion benchmarks) with `extra` appended.
pub(crate) fn criterion(extra: &[String]) -> crate::Result {
    let root = crate::project_root();
    let mut bench = cargo();
    bench.args(["bench", "-p", "tabula-benches"]).args(extra);
    let mut steps = Steps::new();
    steps.run("bench", &root, bench, Output::Inherit)
}
