//! Crash points: a seeded [`Workload`] run on the simulated disk, crashed at every storage
//! operation in turn (or a sample of them), each crash seen through several images of what a
//! restarted machine finds (see [`tabula_storage::Tear`]): only the synced bytes, everything
//! written, a torn writeback, and a torn writeback with name changes reordered. Each image is
//! reopened and checked against the model (see [`crate::workload::Runner::verify_image`]).

use std::time::Instant;

use tabula_storage::{Fault, SimStorage, Tear};

use crate::rng::Rng;
use crate::tally::{Tally, catch};
use crate::workload::{Runner, Workload};

/// How a crash sweep runs.
#[derive(Debug, Clone, Copy)]
pub struct CrashSweep {
    /// Steps in each workload.
    pub steps: usize,
    /// Crash at every `stride`-th operation (1: every one), starting at a seeded offset.
    pub stride: u64,
}

/// The command that replays one crash point.
#[must_use]
pub fn replay_command(seed: u64, steps: usize, at: u64) -> String {
    format!(
        "cargo run --release -p tabula-reliability -- crash --seed {seed} --steps {steps} --at {at}"
    )
}

/// The storage operations the workload of `seed` performs when nothing fails.
///
/// # Errors
/// A description of the failure when the fault-free run itself breaks a guarantee.
pub fn operations(workload: &Workload) -> Result<u64, String> {
    let storage = SimStorage::new();
    let mut runner = Runner::new(workload, storage.clone());
    match catch(|| runner.run(true)) {
        Ok(Ok(true)) => Ok(storage.ops()),
        Ok(Ok(false)) => Err("a step failed without any fault injected".to_owned()),
        Ok(Err(finding)) => Err(finding.0),
        Err(panic) => Err(format!("panic: {panic}")),
    }
}

/// Crashes the workload at storage operation `at` and checks every image; adds to `tally`.
pub fn crash_at(workload: &Workload, steps: usize, at: u64, tally: &mut Tally) {
    let replay = replay_command(workload.seed, steps, at);
    let storage = SimStorage::new();
    storage.inject(at, Fault::Crash, true);
    let mut runner = Runner::new(workload, storage.clone());
    match catch(|| runner.run(true)) {
        Ok(Ok(_)) => {}
        Ok(Err(finding)) => return tally.fail(finding.0, replay),
        Err(panic) => {
            tally.panics += 1;
            return tally.fail(format!("panic: {panic}"), replay);
        }
    }
    if !storage.crashed() {
        return;
    }
    runner.kill();
    tally.add("crash points", 1);
    let mut rng = Rng::new(workload.seed.rotate_left(17) ^ at);
    for tear in [
        Tear::DropUnsynced,
        Tear::KeepAll,
        Tear::Torn {
            seed: rng.next_u64(),
        },
        Tear::Reordered {
            seed: rng.next_u64(),
        },
    ] {
        let mut after = runner.after_crash(storage.crash(tear));
        tally.add("images checked", 1);
        match catch(|| after.verify_image()) {
            Ok(Ok(())) => {}
            Ok(Err(finding)) => tally.fail(format!("{tear:?}: {}", finding.0), replay.clone()),
            Err(panic) => {
                tally.panics += 1;
                tally.fail(format!("{tear:?}: panic: {panic}"), replay.clone());
            }
        }
    }
}

/// Runs the sweep over the workload of `seed`.
#[must_use]
pub fn sweep(seed: u64, sweep: CrashSweep) -> Tally {
    let started = Instant::now();
    let mut tally = Tally::default();
    let workload = Workload::generate(seed, sweep.steps);
    match operations(&workload) {
        Ok(total) => {
            tally.add("workloads", 1);
            tally.add("storage operations", total);
            let stride = sweep.stride.max(1);
            let mut at = Rng::new(seed).below(stride);
            while at < total {
                crash_at(&workload, sweep.steps, at, &mut tally);
                at += stride;
            }
        }
        Err(what) => tally.fail(what, replay_command(seed, sweep.steps, u64::MAX)),
    }
    tally.seconds = started.elapsed().as_secs_f64();
    tally
}
