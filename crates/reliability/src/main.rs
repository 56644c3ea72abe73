//! `tabula-reliability`: runs the suite, or one part, or replays one failure. See the crate docs;
//! every failure it prints comes with the command line that replays it.
//!
//! ```text
//! tabula-reliability all --scale ci|full [--json FILE] [--out RELIABILITY.md]
//!                        [--fuzz FILE] [--miri FILE] [--command TEXT] [--machine TEXT]
//! tabula-reliability crash --seed S --steps N [--at OP]
//! tabula-reliability fault --seed S --steps N [--mode MODE --at N]
//! tabula-reliability byte --seed S --steps N [--file PATH --damage cut:N|flip:N:MASK]
//! tabula-reliability kill --seed S --count N
//! tabula-reliability concurrency --writers W --commits C
//! ```

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use tabula_reliability::bytes::{self, Damage};
use tabula_reliability::suite::{self, Scale};
use tabula_reliability::workload::Workload;
use tabula_reliability::{Tally, concurrency, faults, kill, sim};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "tabula-reliability: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// `--name value` pairs after the command.
fn flags(args: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut flags = BTreeMap::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let Some(name) = arg.strip_prefix("--") else {
            bail!("unexpected argument {arg:?}");
        };
        let value = args
            .next()
            .with_context(|| format!("--{name} needs a value"))?;
        flags.insert(name.to_owned(), value.clone());
    }
    Ok(flags)
}

fn number<T: std::str::FromStr>(
    flags: &BTreeMap<String, String>,
    name: &str,
    default: Option<T>,
) -> anyhow::Result<T> {
    match flags.get(name) {
        Some(text) => text
            .parse()
            .ok()
            .with_context(|| format!("--{name}: not a number: {text:?}")),
        None => default.with_context(|| format!("--{name} is required")),
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

fn run(args: &[String]) -> anyhow::Result<bool> {
    let Some((command, rest)) = args.split_first() else {
        bail!("no command: all, crash, fault, byte, kill, concurrency");
    };
    let flags = flags(rest)?;
    let tally = match command.as_str() {
        "all" => return all(&flags),
        "child" => {
            let dir = flags.get("dir").context("--dir is required")?;
            kill::child(Path::new(dir), number(&flags, "seed", None)?)?;
            return Ok(true);
        }
        "crash" => {
            let (seed, steps) = (
                number(&flags, "seed", None)?,
                number(&flags, "steps", Some(40))?,
            );
            match flags.get("at") {
                Some(_) => {
                    let mut tally = Tally::default();
                    sim::crash_at(
                        &Workload::generate(seed, steps),
                        steps,
                        number(&flags, "at", None)?,
                        &mut tally,
                    );
                    tally
                }
                None => sim::sweep(seed, sim::CrashSweep { steps, stride: 1 }),
            }
        }
        "fault" => {
            let (seed, steps) = (
                number(&flags, "seed", None)?,
                number(&flags, "steps", Some(30))?,
            );
            match flags.get("mode") {
                Some(mode) => {
                    let mut tally = Tally::default();
                    faults::fault_at(
                        &Workload::generate(seed, steps),
                        steps,
                        mode,
                        number(&flags, "at", None)?,
                        &mut tally,
                    );
                    tally
                }
                None => faults::sweep(seed, steps, number(&flags, "sizes", Some(20))?),
            }
        }
        "byte" => {
            let (seed, steps) = (
                number(&flags, "seed", None)?,
                number(&flags, "steps", Some(16))?,
            );
            match (flags.get("file"), flags.get("damage")) {
                (Some(file), Some(damage)) => {
                    let damage = Damage::parse(damage)
                        .with_context(|| format!("--damage {damage:?}: cut:N or flip:N:MASK"))?;
                    let workload = Workload::generate(seed, steps);
                    let (storage, model) = bytes::build(&workload).map_err(anyhow::Error::msg)?;
                    let mut tally = Tally::default();
                    bytes::try_damage(
                        &workload,
                        steps,
                        &storage,
                        &model,
                        Path::new(file),
                        damage,
                        &mut tally,
                    );
                    tally
                }
                _ => bytes::sweep(seed, steps),
            }
        }
        "kill" => kill::kills(
            &std::env::current_exe()?,
            number(&flags, "count", Some(50))?,
            number(&flags, "seed", Some(1))?,
        ),
        "concurrency" => concurrency::run(
            number(&flags, "writers", Some(4))?,
            number(&flags, "commits", Some(150))?,
        ),
        other => bail!("unknown command {other:?}"),
    };
    print(command, &tally);
    Ok(tally.is_clean())
}

fn all(flags: &BTreeMap<String, String>) -> anyhow::Result<bool> {
    let name = flags.get("scale").map_or("ci", String::as_str);
    let scale = Scale::named(name).with_context(|| format!("--scale {name:?}: ci or full"))?;
    let report = suite::run(&scale, &std::env::current_exe()?, &mut |name, tally| {
        print(name, tally)
    });
    if let Some(path) = flags.get("json") {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {path}"))?;
    }
    if let Some(out) = flags.get("out") {
        let read = |flag: &str| -> anyhow::Result<Option<String>> {
            flags
                .get(flag)
                .map(|path| {
                    std::fs::read_to_string(PathBuf::from(path))
                        .with_context(|| format!("reading {path}"))
                })
                .transpose()
        };
        let context = suite::Context {
            command: flags
                .get("command")
                .cloned()
                .unwrap_or_else(|| format!("tabula-reliability all --scale {name}")),
            machine: flags.get("machine").cloned().unwrap_or_default(),
            fuzz: read("fuzz")?
                .map(|text| suite::parse_fuzz(&text))
                .unwrap_or_default(),
            miri: read("miri")?.map(|text| text.trim().to_owned()),
        };
        std::fs::write(out, suite::render(&report, &context))
            .with_context(|| format!("writing {out}"))?;
    }
    Ok(report.is_clean())
}
