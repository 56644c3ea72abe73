//! The suite at a size ([`Scale::CI`] for every CI run, [`Scale::FULL`] for RELIABILITY.md), and
//! the report it writes.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::sim::{self, CrashSweep};
use crate::tally::Tally;
use crate::workload::Workload;
use crate::{bytes, concurrency, faults, kill};

/// How big a run is.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    /// Its name.
    pub name: &'static str,
    /// Crash points to reach (whole workloads are swept, so a few more are run).
    pub crash_points: u64,
    /// Steps of each crash workload.
    pub crash_steps: usize,
    /// Workloads of the I/O fault sweep.
    pub fault_workloads: u64,
    /// Steps of each fault workload.
    pub fault_steps: usize,
    /// Disk sizes tried per fault workload.
    pub disk_sizes: u64,
    /// Databases damaged byte by byte.
    pub byte_databases: u64,
    /// Steps of the workload that builds each.
    pub byte_steps: usize,
    /// Process kills.
    pub kills: u64,
    /// Writer threads of the concurrency part.
    pub writers: u64,
    /// Commits per writer.
    pub commits: u64,
    /// Kills of the killed-builds part.
    pub build_kills: u64,
    /// Databases of the operator part.
    pub operator_databases: u64,
    /// Commits of each.
    pub operator_commits: u64,
}

impl Scale {
    /// What every CI run does (a few minutes in a debug build on two cores).
    pub const CI: Scale = Scale {
        name: "ci",
        crash_points: 10_000,
        crash_steps: 40,
        fault_workloads: 2,
        fault_steps: 30,
        disk_sizes: 20,
        byte_databases: 1,
        byte_steps: 16,
        kills: 50,
        writers: 4,
        commits: 150,
        build_kills: 24,
        operator_databases: 2,
        operator_commits: 120,
    };

    /// What RELIABILITY.md reports (a release build).
    pub const FULL: Scale = Scale {
        name: "full",
        crash_points: 100_000,
        crash_steps: 80,
        fault_workloads: 8,
        fault_steps: 60,
        disk_sizes: 50,
        byte_databases: 4,
        byte_steps: 40,
        kills: 1_000,
        writers: 8,
        commits: 2_000,
        build_kills: 300,
        operator_databases: 16,
        operator_commits: 400,
    };

    /// The scale called `name`.
    #[must_use]
    pub fn named(name: &str) -> Option<Scale> {
        [Scale::CI, Scale::FULL]
            .into_iter()
            .find(|scale| scale.name == name)
    }
}

/// One run of the suite.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Report {
    /// The scale's name.
    pub scale: String,
    /// Each part's tally, in order.
    pub parts: Vec<(String, Tally)>,
}

impl Report {
    /// Whether every part is clean.
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.parts.iter().all(|(_, tally)| tally.is_clean())
    }
}

fn workers() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

/// Runs `job` for each item on every core, merging the tallies.
fn parallel<T: Sync>(items: &[T], job: impl Fn(&T) -> Tally + Sync) -> Tally {
    let next = AtomicUsize::new(0);
    let total = Mutex::new(Tally::default());
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..workers() {
            scope.spawn(|| {
                while let Some(item) = items.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let tally = job(item);
                    if let Ok(mut total) = total.lock() {
                        total.merge(tally);
                    }
                }
            });
        }
    });
    let mut total = total.into_inner().unwrap_or_default();
    total.seconds = started.elapsed().as_secs_f64();
    total
}

/// The crash part: workloads from seed 0 up until their operations reach the scale's count.
#[must_use]
pub fn crashes(scale: &Scale) -> Tally {
    let mut seeds = Vec::new();
    let mut points = 0;
    let mut seed = 0;
    while points < scale.crash_points {
        points += sim::operations(&Workload::generate(seed, scale.crash_steps)).unwrap_or(1);
        seeds.push(seed);
        seed += 1;
    }
    let sweep = CrashSweep {
        steps: scale.crash_steps,
        stride: 1,
    };
    parallel(&seeds, |&seed| sim::sweep(seed, sweep))
}

/// The I/O fault part.
#[must_use]
pub fn faults(scale: &Scale) -> Tally {
    let seeds: Vec<u64> = (0..scale.fault_workloads).collect();
    parallel(&seeds, |&seed| {
        faults::sweep(seed, scale.fault_steps, scale.disk_sizes)
    })
}

/// The every-byte part.
#[must_use]
pub fn bytes(scale: &Scale) -> Tally {
    let seeds: Vec<u64> = (0..scale.byte_databases).collect();
    parallel(&seeds, |&seed| bytes::sweep(seed, scale.byte_steps))
}

/// The operator part.
#[must_use]
pub fn operator(scale: &Scale) -> Tally {
    let seeds: Vec<u64> = (0..scale.operator_databases).collect();
    parallel(&seeds, |&seed| {
        crate::operator::sweep(seed, scale.operator_commits)
    })
}

/// Runs every part; `exe` is this crate's binary (the kill part's child).
#[must_use]
pub fn run(scale: &Scale, exe: &Path, progress: &mut dyn FnMut(&str, &Tally)) -> Report {
    let mut report = Report {
        scale: scale.name.to_owned(),
        parts: Vec::new(),
    };
    let parts: [(&str, &dyn Fn() -> Tally); 7] = [
        ("Simulated crashes", &|| crashes(scale)),
        ("I/O error injection", &|| faults(scale)),
        ("Every byte", &|| bytes(scale)),
        ("Process kills", &|| kill::kills(exe, scale.kills, 1)),
        ("Concurrency", &|| {
            concurrency::run(scale.writers, scale.commits)
        }),
        ("Operator faults", &|| operator(scale)),
        ("Killed builds", &|| {
            crate::builds::builds(exe, scale.build_kills, 1)
        }),
    ];
    for (name, part) in parts {
        let tally = part();
        progress(name, &tally);
        report.parts.push((name.to_owned(), tally));
    }
    report
}

/// A fuzz target's run, as `cargo xtask reliability` measured it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuzzRun {
    /// The target.
    pub target: String,
    /// Inputs executed.
    pub runs: u64,
    /// Seconds it ran.
    pub seconds: u64,
    /// `ok`, or what went wrong.
    pub status: String,
}

/// Parses the lines `target<TAB>runs<TAB>seconds<TAB>status` that xtask writes.
#[must_use]
pub fn parse_fuzz(text: &str) -> Vec<FuzzRun> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split('\t');
            Some(FuzzRun {
                target: fields.next()?.to_owned(),
                runs: fields.next()?.parse().ok()?,
                seconds: fields.next()?.parse().ok()?,
                status: fields.next()?.to_owned(),
            })
        })
        .collect()
}

/// The failure kinds the report counts, by what the failure says.
fn kinds(tally: &Tally) -> (usize, usize, usize) {
    let has = |word: &str| {
        tally
            .failures
            .iter()
            .filter(|failure| failure.what.contains(word))
            .count()
    };
    (has("lost"), has("divergence"), tally.failures.len())
}

/// What the report says besides the run: how it was made.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The command that produced it.
    pub command: String,
    /// The machine, the date, the toolchain.
    pub machine: String,
    /// The fuzz runs.
    pub fuzz: Vec<FuzzRun>,
    /// What the miri run said, if one ran.
    pub miri: Option<String>,
}

/// RELIABILITY.md.
#[must_use]
pub fn render(report: &Report, context: &Context) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Reliability\n");
    let _ = writeln!(
        md,
        "Generated by `{}` (scale `{}`); do not edit by hand. {}\n",
        context.command, report.scale, context.machine
    );
    let _ = writeln!(
        md,
        "Every figure below is from that run. Each part drives the real engine and checks it \
         against what it acknowledged; the code is in `crates/reliability` and every failure \
         prints a one-line command that replays it. `cargo xtask test` runs the same parts at \
         the CI scale (`crates/reliability/tests/suite.rs`).\n"
    );
    let _ = writeln!(md, "## Summary\n");
    let _ = writeln!(
        md,
        "| Part | Tried | Acknowledged commits lost | Panics | Silent divergence | Other failures | Seconds |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|");
    for (name, tally) in &report.parts {
        let (lost, divergence, all) = kinds(tally);
        let tried = headline(name)
            .iter()
            .map(|what| format!("{} {what}", tally.count(what)))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            md,
            "| {name} | {tried} | {lost} | {} | {divergence} | {} | {:.0} |",
            tally.panics,
            all.saturating_sub(lost + divergence),
            tally.seconds
        );
    }
    for run in &context.fuzz {
        let _ = writeln!(
            md,
            "| Fuzz `{}` | {} executions | – | {} | – | – | {} |",
            run.target,
            run.runs,
            if run.status == "ok" { "0" } else { "see below" },
            run.seconds
        );
    }
    let _ = writeln!(md);
    for (name, tally) in &report.parts {
        let _ = writeln!(md, "## {name}\n");
        let _ = writeln!(md, "{}\n", describe(name));
        for (what, n) in &tally.counts {
            let _ = writeln!(md, "- {what}: {n}");
        }
        let (lost, divergence, _) = kinds(tally);
        let _ = writeln!(
            md,
            "\nAcknowledged commits lost: {lost}, panics: {}, silent divergence: {divergence}.\n",
            tally.panics
        );
        for failure in &tally.failures {
            let _ = writeln!(
                md,
                "- FAILED: {} — replay: `{}`",
                failure.what, failure.replay
            );
        }
    }
    let _ = writeln!(md, "## Fuzzing\n");
    if context.fuzz.is_empty() {
        let _ = writeln!(md, "Not run (cargo-fuzz missing or skipped).\n");
    } else {
        let _ = writeln!(
            md,
            "Each target ran on stable with `--sanitizer none` (`cargo xtask fuzz --minutes N` runs them the same way); executions as libFuzzer counted them.\n"
        );
        let _ = writeln!(md, "| Target | Executions | Seconds | Result |");
        let _ = writeln!(md, "|---|---|---|---|");
        for run in &context.fuzz {
            let _ = writeln!(
                md,
                "| `{}` | {} | {} | {} |",
                run.target, run.runs, run.seconds, run.status
            );
        }
        let _ = writeln!(md);
    }
    let _ = writeln!(md, "## Miri\n");
    let _ = writeln!(
        md,
        "{}\n",
        context
            .miri
            .as_deref()
            .unwrap_or("Not run (no nightly toolchain with miri).")
    );
    let _ = writeln!(md, "## Proof that the suite can fail\n");
    let _ = writeln!(
        md,
        "`crates/reliability/tests/planted.rs` turns on each bug of `tabula_wal::planted` (the \
         `planted-bugs` feature, off at run time unless a test turns it on) and runs the crash \
         sweep: acknowledging a commit before its fsync, and skipping the directory fsync after a \
         segment rotation. Each time the sweep reports acknowledged commits lost; with the bug \
         off it reports none. It runs in every CI run.\n"
    );
    let _ = writeln!(md, "## Power loss below the process\n");
    let _ = writeln!(md, "{POWER_LOSS}");
    md
}

const POWER_LOSS: &str = "The simulated disk (`tabula_storage::SimStorage`) is where power loss \
is tested: it keeps what was synced, and its torn and reordered images keep any prefix of each \
file's unsynced bytes, with garbage or zeros at the end, and any subset of unsynced name changes. \
A file-system-level check (LazyFS, which drops unsynced data below a real process) is not part of \
this run: LazyFS is not packaged by Debian and its source is not reachable from the build \
machines. To run it where it is: build LazyFS (github.com/dsrhaslab/lazyfs; Debian packages \
fuse3, libfuse3-dev, libtoml11-dev, libspdlog-dev), mount it over a directory, run \
`tabula stress DIR --writers 4 --seconds 30 --sync always > acks`, then \
`echo lazyfs::clear-cache > FIFO` (its fault FIFO) and kill the stress tool, unmount, remount, \
and check every key in `acks` with `tabula get` and `tabula check DIR`.";

/// The counts the summary table shows for a part.
fn headline(part: &str) -> &'static [&'static str] {
    match part {
        "Simulated crashes" => &["crash points", "images checked"],
        "I/O error injection" => &["fault points", "fsync failures", "ENOSPC points"],
        "Every byte" => &["cuts", "changed bytes"],
        "Process kills" => &["process kills"],
        "Concurrency" => &["transactions", "consistent reads"],
        "Operator faults" => &["clock jumps", "log removals", "read-only opens"],
        "Killed builds" => &["killed restores", "killed loads", "killed exports"],
        _ => &[],
    }
}

fn describe(part: &str) -> &'static str {
    match part {
        "Simulated crashes" => {
            "Seeded workloads (transactions including refused ones, schema and index changes, \
             checkpoints, backups, tags, reopens) on the simulated disk, crashed at every storage \
             operation in turn. Each crash is seen through four images: only synced bytes, \
             everything written, a torn writeback, a torn writeback with reordered name changes. \
             Each image is reopened and compared with the acknowledged commits (the one in flight \
             may land whole or not at all), an `as_of` read at a random acknowledged LSN, and \
             every acknowledged backup; then it must take a commit and reopen."
        }
        "I/O error injection" => {
            "For each workload, storage operation N fails for N = 0, 1, 2, … until the workload \
             passes its last operation: EIO once, EIO from then on, ENOSPC once, ENOSPC from then \
             on; and a disk that fills up at 0%, 2%, … of the size the workload needs. Fsync \
             failures are the faults that hit a sync. The workload goes on after errors; once \
             the fault is gone the database is reopened as the process left it and after a power \
             loss, and checked as above."
        }
        "Every byte" => {
            "Every log segment and snapshot of a small database cut at every offset, and with \
             every byte changed (XOR with a seeded non-zero mask). Allowed: the exact state, an \
             earlier committed state with the recovery report saying so (or silently, only for a \
             log cut exactly at a record end, which is indistinguishable from a shorter log), or \
             a typed error."
        }
        "Operator faults" => {
            "What people and machines do to a directory outside tabula. A database on the real \
             file system takes single-row commits with checkpoints and 1 KiB log segments while \
             its clock jumps years ahead, back to the real time, and back by up to a minute: \
             every commit's own time must name a state holding it, and no commit may be stamped \
             further ahead of its clock than `Options::max_clock_step_back`. Then, on copies, each \
             live log segment in turn, every `*.log` and the whole `wal/` are deleted: opening, a \
             read-only open and `check` must each refuse or hold every acknowledged commit, and \
             `check` must not call healthy what opening refuses (the MANIFEST records the live \
             segments). Last, with every file and directory read-only, a read-only open and \
             `check` read everything and change no byte."
        }
        "Killed builds" => {
            "A child process restores a backup file into a new directory, loads an exported \
             directory into a new database, or exports a database (three tables of 3,000 rows), \
             and is SIGKILLed after a random delay within 1.5 times what a whole run takes. What \
             it left must be nothing or the whole result: a restored or loaded directory that \
             exists opens equal to the source; an export that exists loads equal to it or is \
             refused. The same build then runs again into the same place and must succeed."
        }
        "Process kills" => {
            "A child process commits under `SyncPolicy::Always` and prints an ack per row after \
             each commit returns, with checkpoints every 40 commits, backups every 97, tags every \
             61, and 16 KiB log segments; it is SIGKILLed after 10–300 ms. The database is \
             reopened and every acknowledged row checked, and every backup read whole. A directory \
             takes 100 kills in a row."
        }
        "Concurrency" => {
            "Writers commit balanced ledger transactions through `Engine::transaction`, each also \
             incrementing a shared tally by read-modify-write, while two readers check that every \
             view sums to zero, that its tally counts its entries (no update lost) and that LSNs \
             never go back, a checkpointer and a backup taker run (each \
             backup read back and summed), and two subscribers check that the change feed \
             delivers every transaction once, in order, without gaps; then a reopen finds every \
             acknowledged transaction."
        }
        _ => "",
    }
}
