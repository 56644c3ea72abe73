//! The reliability suite at the CI scale (see `tabula_reliability::suite::Scale::CI`): at least
//! 10,000 simulated crash points, every I/O fault point of two workloads, every byte of a small
//! database, 50 process kills and the concurrency run. Each part must be clean; its counts are
//! printed, and must reach the scale's sizes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::print_stderr,
    reason = "test code: a panic is a test failure, and the counts are worth seeing"
)]

use std::path::Path;

use tabula_reliability::Tally;
use tabula_reliability::suite::{self, Scale};

fn check(name: &str, tally: &Tally) {
    eprintln!("{name}: {:?} in {:.1} s", tally.counts, tally.seconds);
    assert!(tally.is_clean(), "{name}: {:#?}", tally.failures);
}

#[test]
fn simulated_crashes() {
    let tally = suite::crashes(&Scale::CI);
    check("crashes", &tally);
    assert!(tally.count("crash points") >= Scale::CI.crash_points);
    assert_eq!(
        tally.count("images checked"),
        4 * tally.count("crash points")
    );
}

#[test]
fn io_faults() {
    let tally = suite::faults(&Scale::CI);
    check("faults", &tally);
    assert!(tally.count("fault points") > 200);
    assert!(tally.count("fsync failures") > 0);
    assert!(tally.count("ENOSPC points") > 0);
}

#[test]
fn every_byte() {
    let tally = suite::bytes(&Scale::CI);
    check("bytes", &tally);
    assert!(tally.count("files damaged") >= 2);
    assert_eq!(tally.count("cuts"), tally.count("changed bytes"));
}

#[test]
fn process_kills() {
    let exe = Path::new(env!("CARGO_BIN_EXE_tabula-reliability"));
    let tally = tabula_reliability::kill::kills(exe, Scale::CI.kills, 7);
    check("kills", &tally);
    assert_eq!(tally.count("process kills"), Scale::CI.kills);
    assert!(tally.count("acknowledged rows") > 0);
}

#[test]
fn concurrency() {
    let tally = tabula_reliability::concurrency::run(Scale::CI.writers, Scale::CI.commits);
    check("concurrency", &tally);
    assert_eq!(
        tally.count("transactions"),
        Scale::CI.writers * Scale::CI.commits
    );
}

#[test]
fn operator_faults() {
    let tally = suite::operator(&Scale::CI);
    check("operator", &tally);
    assert!(tally.count("clock jumps") > 0);
    assert!(tally.count("commit times checked") >= Scale::CI.operator_commits);
    assert!(tally.count("log removals") > 2 * Scale::CI.operator_databases);
    assert!(
        tally.count("refused") > 0,
        "deleting the log is refused at least once"
    );
    assert_eq!(tally.count("read-only opens"), Scale::CI.operator_databases);
}

#[test]
fn killed_builds() {
    let exe = Path::new(env!("CARGO_BIN_EXE_tabula-reliability"));
    let tally = tabula_reliability::builds::builds(exe, Scale::CI.build_kills, 3);
    check("builds", &tally);
    for build in ["restores", "loads", "exports"] {
        assert_eq!(
            tally.count(&format!("killed {build}")),
            Scale::CI.build_kills / 3
        );
    }
}
