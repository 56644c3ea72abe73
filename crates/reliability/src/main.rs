//! `tabula-reliability`: runs the suite, or one part, or replays one failure. See the crate docs;
//! every failure it prints comes with the command line that replays it. `--help` lists the
//! commands and their flags; an unknown flag is a usage error (exit 2), as a typo'd replay
//! command must not run something else silently.
//!
//! ```text
//! tabula-reliability all --scale ci|full [--json FILE] [--out RELIABILITY.md]
//!                        [--fuzz FILE] [--miri FILE] [--command TEXT] [--machine TEXT]
//! tabula-reliability crash --seed S --steps N [--at OP]
//! tabula-reliability fault --seed S --steps N [--mode MODE --at N] [--sizes N]
//! tabula-reliability byte --seed S --steps N [--file PATH --damage cut:N|flip:N:MASK]
//! tabula-reliability kill --seed S --count N
//! tabula-reliability concurrency --writers W --commits C
//! tabula-reliability operator --seed S --commits C
//! tabula-reliability builds --seed S --count N
//! ```

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use tabula_reliability::bytes::{self, Damage};
use tabula_reliability::suite::{self, Scale};
use tabula_reliability::workload::Workload;
use tabula_reliability::{Tally, builds, concurrency, faults, kill, operator, sim};

/// tabula's reliability suite: simulated crashes, I/O faults, every-byte damage, process kills
/// and concurrency, measured. Exit code 0 when clean, 1 on a failure, 2 on a usage error.
#[derive(Debug, Parser)]
#[command(name = "tabula-reliability")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Every part at a scale; writes the report.
    All(AllArgs),
    /// The child process the kill part SIGKILLs (run by `kill`, not by hand).
    #[command(hide = true)]
    Child {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        seed: u64,
    },
    /// Simulated power loss at every storage operation of a workload, or at one (`--at`).
    Crash {
        #[arg(long)]
        seed: u64,
        #[arg(long, default_value_t = 40)]
        steps: usize,
        /// Crash at this operation only.
        #[arg(long)]
        at: Option<u64>,
    },
    /// I/O errors at every operation, or one mode at one operation (`--mode` and `--at`).
    Fault {
        #[arg(long)]
        seed: u64,
        #[arg(long, default_value_t = 30)]
        steps: usize,
        /// One fault mode (with `--at`).
        #[arg(long, requires = "at")]
        mode: Option<String>,
        #[arg(long, requires = "mode")]
        at: Option<u64>,
        /// How many disk sizes the full-disk sweep tries.
        #[arg(long, default_value_t = 20)]
        sizes: u64,
    },
    /// Every cut and changed byte of every file, or one (`--file` and `--damage`).
    Byte {
        #[arg(long)]
        seed: u64,
        #[arg(long, default_value_t = 16)]
        steps: usize,
        #[arg(long, requires = "damage")]
        file: Option<PathBuf>,
        /// `cut:N` or `flip:N:MASK`.
        #[arg(long, requires = "file")]
        damage: Option<String>,
    },
    /// SIGKILLs of a committing child process.
    Kill {
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 50)]
        count: u64,
    },
    /// Writers, readers, checkpoints, backups and subscribers at once.
    Concurrency {
        #[arg(long, default_value_t = 4)]
        writers: u64,
        #[arg(long, default_value_t = 150)]
        commits: u64,
    },
    Operator {
        #[arg(long)]
        seed: u64,
        #[arg(long, default_value_t = 120)]
        commits: u64,
    },
    Builds {
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 30)]
        count: u64,
    },
    #[command(hide = true)]
    BuildChild {
        #[arg(long)]
        build: String,
        #[arg(long)]
        from: PathBuf,
        #[arg(long)]
        to: PathBuf,
    },
}

#[derive(Debug, Args)]
struct AllArgs {
    /// `ci` or `full`.
    #[arg(long, default_value = "ci")]
    scale: String,
    /// Also write the results as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the Markdown report here (RELIABILITY.md).
    #[arg(long)]
    out: Option<PathBuf>,
    /// The fuzz runs' output, for the report.
    #[arg(long)]
    fuzz: Option<PathBuf>,
    /// miri's output, for the report.
    #[arg(long)]
    miri: Option<PathBuf>,
    /// The command line the report names.
    #[arg(long)]
    command: Option<String>,
    /// The machine the report names.
    #[arg(long)]
    machine: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "tabula-reliability: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn print(name: &str, tally: &Tally) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{name}: {:.1} s", tally.seconds);
    for (what, n) in &tally.counts {
        let _ = writeln!(err, "  {what}: {n}");
    }
    if tally.panics > 0 {
        let _ = writeln!(err, "  panics: {}", tally.panics);
    }
    for failure in &tally.failures {
        let _ = writeln!(
            err,
            "  FAILED: {}\n    replay: {}",
            failure.what, failure.replay
        );
    }
}

fn run(command: Command) -> anyhow::Result<bool> {
    let (name, tally) = match command {
        Command::All(args) => return all(&args),
        Command::Child { dir, seed } => {
            kill::child(&dir, seed)?;
            return Ok(true);
        }
        Command::Crash { seed, steps, at } => {
            let tally = match at {
                Some(at) => {
                    let mut tally = Tally::default();
                    sim::crash_at(&Workload::generate(seed, steps), steps, at, &mut tally);
                    tally
                }
                None => sim::sweep(seed, sim::CrashSweep { steps, stride: 1 }),
            };
            ("crash", tally)
        }
        Command::Fault {
            seed,
            steps,
            mode,
            at,
            sizes,
        } => {
            let tally = match (mode, at) {
                (Some(mode), Some(at)) => {
                    let mut tally = Tally::default();
                    let workload = Workload::generate(seed, steps);
                    faults::fault_at(&workload, steps, &mode, at, &mut tally);
                    tally
                }
                _ => faults::sweep(seed, steps, sizes),
            };
            ("fault", tally)
        }
        Command::Byte {
            seed,
            steps,
            file,
            damage,
        } => {
            let tally = match (file, damage) {
                (Some(file), Some(damage)) => {
                    let damage = Damage::parse(&damage)
                        .with_context(|| format!("--damage {damage:?}: cut:N or flip:N:MASK"))?;
                    let workload = Workload::generate(seed, steps);
                    let (storage, model) = bytes::build(&workload).map_err(anyhow::Error::msg)?;
                    let mut tally = Tally::default();
                    bytes::try_damage(
                        &workload, steps, &storage, &model, &file, damage, &mut tally,
                    );
                    tally
                }
                _ => bytes::sweep(seed, steps),
            };
            ("byte", tally)
        }
        Command::Kill { seed, count } => {
            ("kill", kill::kills(&std::env::current_exe()?, count, seed))
        }
        Command::Concurrency { writers, commits } => {
            ("concurrency", concurrency::run(writers, commits))
        }
        Command::Operator { seed, commits } => ("operator", operator::sweep(seed, commits)),
        Command::Builds { seed, count } => (
            "builds",
            builds::builds(&std::env::current_exe()?, count, seed),
        ),
        Command::BuildChild { build, from, to } => {
            let build = builds::Build::named(&build)
                .with_context(|| format!("--build {build:?}: restore, load or export"))?;
            builds::run_build(build, &from, &to)?;
            return Ok(true);
        }
    };
    print(name, &tally);
    Ok(tally.is_clean())
}

fn all(args: &AllArgs) -> anyhow::Result<bool> {
    let name = args.scale.as_str();
    let scale = Scale::named(name).with_context(|| format!("--scale {name:?}: ci or full"))?;
    let report = suite::run(&scale, &std::env::current_exe()?, &mut |name, tally| {
        print(name, tally)
    });
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(out) = &args.out {
        let read = |path: &Option<PathBuf>| -> anyhow::Result<Option<String>> {
            path.as_ref()
                .map(|path| {
                    std::fs::read_to_string(path)
                        .with_context(|| format!("reading {}", path.display()))
                })
                .transpose()
        };
        let context = suite::Context {
            command: args
                .command
                .clone()
                .unwrap_or_else(|| format!("tabula-reliability all --scale {name}")),
            machine: args.machine.clone().unwrap_or_default(),
            fuzz: read(&args.fuzz)?
                .map(|text| suite::parse_fuzz(&text))
                .unwrap_or_default(),
            miri: read(&args.miri)?.map(|text| text.trim().to_owned()),
        };
        std::fs::write(out, suite::render(&report, &context))
            .with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(report.is_clean())
}
