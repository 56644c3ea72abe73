//! I/O error injection as SQLite's test suite does it: for a workload, fail storage operation N
//! for N = 0, 1, 2, … until the workload runs past the last operation, once transiently and once
//! persistently, with EIO and with ENOSPC; and a disk that fills up at a growing size. Fsync
//! failures are among them (every `sync data` and `sync directory` is an operation).
//!
//! The workload goes on after an error, as an application logging it would: the engine must
//! answer every call with a typed error or a correct result (never a panic), acknowledge only
//! what is durable, and, once the fault is gone, reopen to exactly the acknowledged commits
//! (plus at most the one in flight), both as the process left the disk and after a power loss.

use std::time::Instant;

use tabula_storage::{Fault, SimStorage, Tear};

use crate::tally::{Tally, catch};
use crate::workload::{Runner, Workload};

/// The command that replays one fault point.
#[must_use]
pub fn replay_command(seed: u64, steps: usize, mode: &str, at: u64) -> String {
    format!(
        "cargo run --release -p tabula-reliability -- fault --seed {seed} --steps {steps} --mode {mode} --at {at}"
    )
}

/// The ways a fault is injected, by name.
pub const MODES: [&str; 5] = [
    "eio-once",
    "eio-persistent",
    "enospc-once",
    "enospc-persistent",
    "disk-full",
];

/// Prepares `storage` for fault point `at` of `mode`; `false` for an unknown mode.
fn plant(storage: &SimStorage, mode: &str, at: u64) -> bool {
    match mode {
        "eio-once" => storage.inject(at, Fault::Io, false),
        "eio-persistent" => storage.inject(at, Fault::Io, true),
        "enospc-once" => storage.inject(at, Fault::NoSpace, false),
        "enospc-persistent" => storage.inject(at, Fault::NoSpace, true),
        // `at` is the disk's size in bytes.
        "disk-full" => storage.set_capacity(Some(at)),
        _ => return false,
    }
    true
}

/// Runs the workload with one fault and checks what it leaves; returns whether the fault was
/// reached (`false`: the workload ran past it, and the sweep is over).
pub fn fault_at(workload: &Workload, steps: usize, mode: &str, at: u64, tally: &mut Tally) -> bool {
    let replay = replay_command(workload.seed, steps, mode, at);
    let storage = SimStorage::new();
    if !plant(&storage, mode, at) {
        tally.fail(format!("unknown fault mode {mode:?}"), replay);
        return false;
    }
    let mut runner = Runner::new(workload, storage.clone());
    let clean = match catch(|| runner.run(false)) {
        Ok(Ok(clean)) => clean,
        Ok(Err(finding)) => {
            tally.fail(finding.0, replay);
            return true;
        }
        Err(panic) => {
            tally.panics += 1;
            tally.fail(format!("panic: {panic}"), replay);
            return true;
        }
    };
    let hit = storage.faults_hit();
    let reached = if mode == "disk-full" {
        !clean
    } else {
        !hit.is_empty()
    };
    if !reached {
        if !clean {
            tally.fail("a step failed although no fault was injected", replay);
        }
        return false;
    }
    tally.add("fault points", 1);
    tally.add("failed calls answered with an error", runner.failed_steps);
    for (_, _, op) in &hit {
        if op.starts_with("sync") {
            tally.add("fsync failures", 1);
        }
    }
    if mode.starts_with("enospc") || mode == "disk-full" {
        tally.add("ENOSPC points", 1);
    }
    runner.kill();
    storage.heal();
    storage.set_capacity(None);
    for tear in [Tear::KeepAll, Tear::DropUnsynced] {
        let mut after = runner.after_crash(storage.crash(tear));
        tally.add("reopens checked", 1);
        match catch(|| after.verify_image()) {
            Ok(Ok(())) => {}
            Ok(Err(finding)) => tally.fail(format!("{tear:?}: {}", finding.0), replay.clone()),
            Err(panic) => {
                tally.panics += 1;
                tally.fail(format!("{tear:?}: panic: {panic}"), replay.clone());
            }
        }
    }
    true
}

/// The bytes the workload's files hold at its end, with no fault: the disk sizes the
/// `disk-full` mode tries are fractions of it.
fn bytes_used(workload: &Workload) -> u64 {
    let storage = SimStorage::new();
    let mut runner = Runner::new(workload, storage.clone());
    let _ = catch(|| runner.run(true));
    storage
        .all_files()
        .iter()
        .filter_map(|path| storage.read_file(path))
        .map(|bytes| bytes.len() as u64)
        .sum()
}

/// Every fault point of every mode for the workload of `seed` (`disk-full`: `sizes` sizes).
#[must_use]
pub fn sweep(seed: u64, steps: usize, sizes: u64) -> Tally {
    let started = Instant::now();
    let mut tally = Tally::default();
    let workload = Workload::generate(seed, steps);
    tally.add("workloads", 1);
    for mode in MODES {
        if mode == "disk-full" {
            let full = bytes_used(&workload);
            for i in 0..sizes {
                fault_at(&workload, steps, mode, full * i / sizes.max(1), &mut tally);
            }
            continue;
        }
        let mut at = 0;
        while fault_at(&workload, steps, mode, at, &mut tally) {
            at += 1;
        }
    }
    tally.seconds = started.elapsed().as_secs_f64();
    tally
}
