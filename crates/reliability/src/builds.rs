//! Killed builds (issue 25, finding 6: a `restore` or `load` killed before the end left a
//! directory that opened as an empty database, and a killed `export` left a directory `load`
//! accepted with tables empty or missing).
//!
//! A child process restores a backup file, loads an exported directory into a new database, or
//! exports a database, and is SIGKILLed after a random delay within the time a whole run takes.
//! Then what it left must be nothing, or the whole result: a restored or loaded directory that
//! exists opens (read-only, then for writing) equal to the source; an exported directory that
//! exists loads equal to the source or is refused with an error. And the same build run again
//! succeeds: a restore or load into the same target (nothing left behind blocks it), an export
//! into a new directory (an export does not replace one).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use tabula_core::{Limits, Op, Row, State, TableDef, Value};
use tabula_engine::{Engine, Options, SourceFormat};

use crate::rng::Rng;
use crate::tally::Tally;

/// What a child builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Build {
    /// `restore BACKUP DIR`.
    Restore,
    /// `load EXPORTED_DIR DIR` (a new database from an exported directory).
    Load,
    /// `export DB DIR`.
    Export,
}

impl Build {
    const ALL: [Build; 3] = [Build::Restore, Build::Load, Build::Export];

    /// Its name on the command line.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Build::Restore => "restore",
            Build::Load => "load",
            Build::Export => "export",
        }
    }

    /// The build called `name`.
    #[must_use]
    pub fn named(name: &str) -> Option<Build> {
        Build::ALL.into_iter().find(|b| b.name() == name)
    }
}

/// The command that replays the part (kill timing is not seeded, so approximately).
#[must_use]
pub fn replay_command(seed: u64, count: u64) -> String {
    format!("cargo run --release -p tabula-reliability -- builds --seed {seed} --count {count}")
}

/// Runs one build from `from` into `to` (the child's work).
///
/// # Errors
/// The build's error.
pub fn run_build(build: Build, from: &Path, to: &Path) -> anyhow::Result<()> {
    match build {
        Build::Restore => {
            tabula_engine::restore(from, to)?;
        }
        Build::Load => {
            let (db, _) = tabula_engine::load_source(
                from,
                SourceFormat::Auto,
                &Limits::default(),
                &mut |_| {},
            )?;
            tabula_engine::create_database(&db, to)?;
        }
        Build::Export => {
            let (engine, _) = Engine::open_read_only(from, Options::new())?;
            engine.export_directory(to)?;
        }
    }
    Ok(())
}

/// The sources: a database of a few thousand rows over three tables, its backup file and its
/// export, under `root`.
struct Sources {
    db: PathBuf,
    backup: PathBuf,
    export: PathBuf,
    state: State,
}

fn sources(root: &Path) -> anyhow::Result<Sources> {
    let db = root.join("db");
    let (engine, _) = Engine::open(&db, Options::new().background(false))?;
    for table in ["a", "b", "c"] {
        engine.commit(vec![Op::CreateTable(TableDef::new(table, "id"))])?;
        let rows: Vec<Op> = (0..3_000)
            .map(|i| Op::Insert {
                table: table.into(),
                row: Row::from([
                    ("id".to_owned(), Value::Int(i)),
                    (
                        "text".to_owned(),
                        Value::from(format!("{table} row {i} {}", "x".repeat(60))),
                    ),
                ]),
            })
            .collect();
        engine.commit(rows)?;
    }
    let backup = engine.backup(root.join("backups"))?.path;
    let export = root.join("export");
    engine.export_directory(&export)?;
    let state = engine.read().to_database()?;
    engine.close()?;
    Ok(Sources {
        db,
        backup,
        export,
        state,
    })
}

/// The part: `count` kills, builds taken in turn.
#[must_use]
pub fn builds(exe: &Path, count: u64, seed: u64) -> Tally {
    let started = Instant::now();
    let mut tally = Tally::default();
    let replay = replay_command(seed, count);
    let result = (|| -> anyhow::Result<()> {
        let temp = tempfile::tempdir()?;
        let sources = sources(temp.path())?;
        let mut rng = Rng::new(seed);
        // How long each build takes whole, so the kills land inside it.
        let mut spans = Vec::new();
        for build in Build::ALL {
            let to = temp.path().join(format!("timed-{}", build.name()));
            let began = Instant::now();
            run_child(exe, build, &sources, &to, None)?;
            spans.push(began.elapsed().max(Duration::from_millis(2)));
        }
        for kill in 0..count {
            let index = usize::try_from(kill % 3).unwrap_or(0);
            let (Some(build), Some(span)) = (Build::ALL.get(index), spans.get(index)) else {
                continue;
            };
            let span_us = u64::try_from(span.as_micros()).unwrap_or(u64::MAX);
            // Up to 1.5x the span: the process start takes part of it, and a kill after the end
            // checks the finished result.
            let delay = Duration::from_micros(rng.below(span_us + span_us / 2).max(1));
            let to = temp.path().join(format!("kill-{kill}"));
            run_child(exe, *build, &sources, &to, Some(delay))?;
            tally.add(&format!("killed {}s", build.name()), 1);
            if let Err(e) = judge(*build, &sources, &to, &mut tally) {
                tally.fail(
                    format!("{} killed after {delay:?}: {e:#}", build.name()),
                    &replay,
                );
            }
        }
        Ok(())
    })();
    if let Err(e) = result {
        tally.fail(format!("{e:#}"), &replay);
    }
    tally.seconds = started.elapsed().as_secs_f64();
    tally
}

/// Runs a child building `to`, killing it after `kill_after` (or letting it finish).
fn run_child(
    exe: &Path,
    build: Build,
    sources: &Sources,
    to: &Path,
    kill_after: Option<Duration>,
) -> anyhow::Result<()> {
    let from = match build {
        Build::Restore => &sources.backup,
        Build::Load => &sources.export,
        Build::Export => &sources.db,
    };
    let mut child = Command::new(exe)
        .args(["build-child", "--build", build.name(), "--from"])
        .arg(from)
        .arg("--to")
        .arg(to)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("spawning {}", exe.display()))?;
    match kill_after {
        Some(delay) => {
            std::thread::sleep(delay);
            // SIGKILL: no destructor, no cleanup. A child already done is reaped below.
            let _ = child.kill();
            child.wait()?;
        }
        None => {
            let output = child.wait_with_output()?;
            anyhow::ensure!(
                output.status.success(),
                "{} failed: {}",
                build.name(),
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
    Ok(())
}

/// What a killed build left is nothing or the whole result, and a rerun succeeds.
fn judge(build: Build, sources: &Sources, to: &Path, tally: &mut Tally) -> anyhow::Result<()> {
    let left = to.exists();
    match build {
        Build::Restore | Build::Load => {
            if left {
                let (engine, _) = Engine::open_read_only(to, Options::new())
                    .context("the directory it left does not open")?;
                anyhow::ensure!(
                    contents(&engine.read().to_database()?) == contents(&sources.state),
                    "the directory it left opens with other contents (a half-made database)"
                );
                drop(engine);
                let (engine, _) = Engine::open(to, Options::new().background(false))
                    .context("the directory it left does not open for writing")?;
                anyhow::ensure!(
                    contents(&engine.read().to_database()?) == contents(&sources.state),
                    "the directory it left opens for writing with other contents"
                );
                engine.close()?;
                tally.add("whole results left", 1);
            } else {
                tally.add("nothing left", 1);
            }
        }
        Build::Export => {
            if left {
                match tabula_engine::load_source(
                    to,
                    SourceFormat::Auto,
                    &Limits::default(),
                    &mut |_| {},
                ) {
                    Ok((db, _)) => {
                        anyhow::ensure!(
                            contents(&db) == contents(&sources.state),
                            "the export it left loads with other contents"
                        );
                        tally.add("whole results left", 1);
                    }
                    Err(_) => tally.add("partial exports refused", 1),
                }
            } else {
                tally.add("nothing left", 1);
            }
        }
    }
    // Run again into the same place: a restore or load goes where the killed one did; an
    // export into a fresh directory (an export does not replace one).
    let again = match build {
        Build::Export => to.with_extension("again"),
        Build::Restore | Build::Load => to.to_path_buf(),
    };
    if build == Build::Export || !left {
        let from = match build {
            Build::Restore => &sources.backup,
            Build::Load => &sources.export,
            Build::Export => &sources.db,
        };
        run_build(build, from, &again).context("running it again")?;
    }
    Ok(())
}

/// Every table's name and rows, in order (a restored or loaded database has its own LSN).
fn contents(state: &State) -> Vec<(String, Vec<(Value, Row)>)> {
    state
        .tables()
        .map(|table| {
            (
                table.name().to_owned(),
                table.iter().map(|(key, row)| (key, row.to_row())).collect(),
            )
        })
        .collect()
}
