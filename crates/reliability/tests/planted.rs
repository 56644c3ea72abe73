//! The suite can fail: with each planted bug of `tabula_wal::planted` on, the crash sweep reports
//! acknowledged commits lost; with none on, the same sweep is clean. One test, in its own binary,
//! because the switch is process-wide.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use tabula_reliability::Tally;
use tabula_reliability::sim::{self, CrashSweep};
use tabula_wal::planted::{Bug, plant};

fn sweep() -> Tally {
    let mut tally = Tally::default();
    for seed in 0..6 {
        tally.merge(sim::sweep(
            seed,
            CrashSweep {
                steps: 40,
                stride: 1,
            },
        ));
    }
    tally
}

/// Failures that show a planted bug lost acknowledged commits: found lost after a crash, or the
/// database refusing to open because its MANIFEST shows a log segment that held them is gone
/// (how a segment whose name was never synced is caught since the MANIFEST exists).
fn lost(tally: &Tally) -> usize {
    tally
        .failures
        .iter()
        .filter(|failure| {
            failure.what.contains("acknowledged commits lost")
                || failure.what.contains("log segments missing")
        })
        .count()
}

#[test]
fn each_planted_bug_is_caught_and_none_is_reported_without_one() {
    plant(None);
    let clean = sweep();
    assert!(clean.is_clean(), "{:#?}", clean.failures);
    assert!(clean.count("crash points") > 300);

    for bug in [Bug::AckBeforeFsync, Bug::SkipRotationDirSync] {
        plant(Some(bug));
        let tally = sweep();
        plant(None);
        assert!(
            lost(&tally) > 0,
            "{bug:?} went unnoticed: {:#?}",
            tally.failures
        );
        // The report names a command that replays it.
        assert!(
            tally.failures[0]
                .replay
                .contains("tabula-reliability -- crash --seed")
        );
    }
}
