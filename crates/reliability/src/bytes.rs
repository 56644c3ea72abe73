//! Every byte: a small database is built on the simulated disk, then each of its log segments
//! and snapshots is cut at every offset and, separately, has every single byte changed, and the
//! database reopened each time. What opening may do:
//! - give the exact committed state;
//! - give an earlier committed state, saying so in its recovery report (a torn tail removed,
//!   damage skipped, a snapshot passed over), or silently only when a log file was cut exactly
//!   where a record ends (the cut file is indistinguishable from a shorter log);
//! - refuse with a typed error.
//!
//! Anything else is a failure: a state that was never committed, a silent loss after a changed
//! byte, or a panic.

use std::path::Path;
use std::time::Instant;

use tabula_engine::{Engine, LOCK_FILE};
use tabula_storage::{DamageKind, SimStorage};

use crate::rng::Rng;
use crate::tally::{Tally, catch};
use crate::workload::{DIR, Model, Runner, Workload};

/// The command that replays one damaged file.
#[must_use]
pub fn replay_command(seed: u64, steps: usize, file: &Path, damage: &str) -> String {
    format!(
        "cargo run --release -p tabula-reliability -- byte --seed {seed} --steps {steps} --file {} --damage {damage}",
        file.display()
    )
}

/// A damage to one file.
#[derive(Debug, Clone, Copy)]
pub enum Damage {
    /// The file cut to this length.
    Cut(usize),
    /// The byte at this offset XORed with this (non-zero) mask.
    Flip(usize, u8),
}

impl Damage {
    /// Parses `cut:N` or `flip:N:MASK`.
    #[must_use]
    pub fn parse(text: &str) -> Option<Damage> {
        let mut parts = text.split(':');
        match (parts.next()?, parts.next()?.parse().ok()?, parts.next()) {
            ("cut", n, None) => Some(Damage::Cut(n)),
            ("flip", n, Some(mask)) => Some(Damage::Flip(n, mask.parse().ok()?)),
            _ => None,
        }
    }

    fn name(self) -> String {
        match self {
            Damage::Cut(n) => format!("cut:{n}"),
            Damage::Flip(n, mask) => format!("flip:{n}:{mask}"),
        }
    }
}

/// The database every-byte damages: the workload of `seed` run to its end, and its model.
///
/// # Errors
/// When the undamaged run itself fails.
pub fn build(workload: &Workload) -> Result<(SimStorage, Model), String> {
    let storage = SimStorage::new();
    let mut runner = Runner::new(workload, storage.clone());
    match catch(|| runner.run(true)) {
        Ok(Ok(true)) => {
            runner.kill();
            Ok((storage, runner.model))
        }
        Ok(Ok(false)) => Err("a step failed without any fault".to_owned()),
        Ok(Err(finding)) => Err(finding.0),
        Err(panic) => Err(format!("panic: {panic}")),
    }
}

/// Opens `storage` with `file` damaged and judges the result; adds to `tally`.
pub fn try_damage(
    workload: &Workload,
    steps: usize,
    storage: &SimStorage,
    model: &Model,
    file: &Path,
    damage: Damage,
    tally: &mut Tally,
) {
    let Some(bytes) = storage.read_file(file) else {
        return;
    };
    let mut damaged = bytes;
    match damage {
        Damage::Cut(len) => damaged.truncate(len),
        Damage::Flip(offset, mask) => {
            if let Some(byte) = damaged.get_mut(offset) {
                *byte ^= mask;
            }
        }
    }
    let image = storage.fork();
    image.write_file(file, &damaged);
    let replay = || replay_command(workload.seed, steps, file, &damage.name());
    match catch(|| {
        workload
            .open(&image)
            .map(|engine| judge(&engine, model, damage))
    }) {
        Err(panic) => {
            tally.panics += 1;
            tally.fail(format!("{}: panic: {panic}", damage.name()), replay());
        }
        Ok(Err(error)) => tally.add(refusal(&error), 1),
        Ok(Ok(Ok(outcome))) => tally.add(outcome, 1),
        Ok(Ok(Err(what))) => tally.fail(
            format!("{} of {}: {what}", damage.name(), file.display()),
            replay(),
        ),
    }
}

/// The tally line of an open that refused a damaged database with a typed error: by the kind
/// of damage the reader named ([`DamageKind`]), so the report shows what each refusal caught.
fn refusal(error: &tabula_engine::Error) -> &'static str {
    use tabula_engine::Error as E;
    let kind = match error {
        E::Wal(tabula_wal::Error::Corrupted { kind, .. })
        | E::Snapshot(tabula_snapshot::Error::Corrupted { kind, .. }) => kind,
        E::Wal(tabula_wal::Error::Codec { .. }) => return "typed errors: undecodable record",
        E::Snapshot(tabula_snapshot::Error::Codec { .. }) => {
            return "typed errors: undecodable snapshot";
        }
        E::LogEndsEarly { .. } => return "typed errors: log ends before the snapshot",
        E::LogGap { .. } => return "typed errors: log gap after the snapshot",
        E::Replay { .. } => return "typed errors: record does not replay",
        _ => return "typed errors: other",
    };
    match kind {
        DamageKind::Checksum { .. } => "typed errors: checksum mismatch",
        DamageKind::BadMagic { .. } => "typed errors: bad magic",
        DamageKind::Version { .. } => "typed errors: format version",
        DamageKind::Lsn { .. } => "typed errors: LSN out of sequence",
        DamageKind::Truncated { .. } => "typed errors: truncated",
        DamageKind::Payload { .. } => "typed errors: undecodable record",
        _ => "typed errors: invalid structure",
    }
}

/// What an open of a damaged database gave.
fn judge(engine: &Engine, model: &Model, damage: Damage) -> Result<&'static str, String> {
    let db = engine.read().state().clone();
    let Some(expected) = model.at(db.lsn()) else {
        return Err(format!("opened at LSN {}, never committed", db.lsn()));
    };
    if *expected != db {
        return Err(format!(
            "silent divergence: the state at LSN {} is not the committed one",
            db.lsn()
        ));
    }
    if db.lsn() == model.lsn() {
        return Ok("exact state");
    }
    let report = engine.recovery_report();
    let said = !report.skipped_snapshots.is_empty()
        || !report.wal.truncated.is_empty()
        || !report.wal.lost.is_empty();
    match (said, damage) {
        (true, _) => Ok("earlier state, reported"),
        (false, Damage::Cut(_)) => Ok("earlier state, log cut at a record end"),
        (false, Damage::Flip(..)) => Err(format!(
            "silent loss: opened at LSN {} of {} without a word",
            db.lsn(),
            model.lsn()
        )),
    }
}

/// Every cut and every changed byte of every log segment and snapshot of the database the
/// workload of `seed` builds.
#[must_use]
pub fn sweep(seed: u64, steps: usize) -> Tally {
    let started = Instant::now();
    let mut tally = Tally::default();
    let workload = Workload::generate(seed, steps);
    let (storage, model) = match build(&workload) {
        Ok(built) => built,
        Err(what) => {
            // The build itself failed: the sweep replays it (a `--file - --damage -` did not
            // parse).
            tally.fail(
                what,
                format!("cargo run --release -p tabula-reliability -- byte --seed {seed} --steps {steps}"),
            );
            return tally;
        }
    };
    tally.add("databases", 1);
    let mut rng = Rng::new(seed);
    for file in storage.all_files() {
        // The database's own files; the lock holds nothing, and backups are not read on open.
        if !file.starts_with(DIR) || file.file_name().is_some_and(|name| name == LOCK_FILE) {
            continue;
        }
        let Some(len) = storage.read_file(&file).map(|bytes| bytes.len()) else {
            continue;
        };
        tally.add("files damaged", 1);
        for cut in 0..len {
            tally.add("cuts", 1);
            try_damage(
                &workload,
                steps,
                &storage,
                &model,
                &file,
                Damage::Cut(cut),
                &mut tally,
            );
        }
        for offset in 0..len {
            let mask = rng.below(255) as u8 + 1;
            tally.add("changed bytes", 1);
            try_damage(
                &workload,
                steps,
                &storage,
                &model,
                &file,
                Damage::Flip(offset, mask),
                &mut tally,
            );
        }
    }
    tally.seconds = started.elapsed().as_secs_f64();
    tally
}
