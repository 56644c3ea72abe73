//! Real process kills: a child process (this binary's `child` command) commits under
//! `SyncPolicy::Always` and prints an `ack` line for each row once its commit returns; between
//! commits it takes checkpoints (snapshot writes), backups and tags, and its 16 KiB segments
//! rotate every few dozen commits. The parent SIGKILLs it at a random moment, reopens the
//! database, and checks that every acknowledged row is there with its value, that the database
//! reached the last acknowledged LSN, and that every backup file reads whole. The child prints
//! `phase` lines, so the tally says where the kills landed.
//!
//! Once the child acknowledged a commit, the parent also opens the database read-only beside it
//! (its view must hold every row acknowledged before) and deletes `LOCK` and tries a second
//! writer, which must be refused.
//!
//! A directory takes 100 kills in a row (each recovery starts from what the previous kill left)
//! and is then replaced, so that recovery stays short.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use tabula_core::{Op, Row, TableDef, Value};
use tabula_engine::{CheckpointPolicy, Engine, Options, Retention, SyncPolicy, list_backups};
use tabula_snapshot::{LoadOptions, SnapshotStore};

use crate::rng::Rng;
use crate::tally::Tally;

const TABLE: &str = "k";
const KILLS_PER_DIR: u64 = 100;

/// The command that replays one kill (the delay makes it approximate: timing is not seeded).
#[must_use]
pub fn replay_command(seed: u64, count: u64) -> String {
    format!("cargo run --release -p tabula-reliability -- kill --seed {seed} --count {count}")
}

fn child_options() -> Options {
    Options::new()
        .sync(SyncPolicy::Always)
        .segment_size(16 * 1024)
        .checkpoint(CheckpointPolicy::manual())
        .wal_retention(Retention::archive_all())
}

/// The child: commits until killed, printing `ack LSN KEY I` for each acknowledged row and
/// `phase NAME` before each checkpoint, backup, tag and return to commits.
///
/// # Errors
/// Any engine or output error (the parent reports it as a failure).
pub fn child(dir: &Path, seed: u64) -> anyhow::Result<()> {
    let (engine, _) = Engine::open(dir.join("db"), child_options()).context("open")?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if engine.read().table(TABLE).is_none() {
        engine.commit(vec![Op::CreateTable(TableDef::new(TABLE, "id"))])?;
    }
    let mut rng = Rng::new(seed);
    let phase = |out: &mut dyn Write, name: &str| -> anyhow::Result<()> {
        writeln!(out, "phase {name}")?;
        out.flush()?;
        Ok(())
    };
    phase(&mut out, "commit")?;
    for i in 0u64.. {
        if i % 40 == 39 {
            phase(&mut out, "checkpoint")?;
            engine.checkpoint()?;
            phase(&mut out, "commit")?;
        }
        if i % 97 == 96 {
            phase(&mut out, "backup")?;
            engine.backup(dir.join("backups"))?;
            phase(&mut out, "commit")?;
        }
        if i % 61 == 60 {
            phase(&mut out, "tag")?;
            engine.tag(&format!("s{seed}-{i}"))?;
            phase(&mut out, "commit")?;
        }
        let keys: Vec<String> = (0..=rng.below(3))
            .map(|j| format!("{seed}-{i}-{j}"))
            .collect();
        let ops = keys
            .iter()
            .map(|key| {
                let row: Row = [
                    ("id".to_owned(), Value::from(key.as_str())),
                    ("i".to_owned(), Value::Int(i as i64)),
                    (
                        "pad".to_owned(),
                        Value::from("x".repeat(rng.below(300) as usize)),
                    ),
                ]
                .into_iter()
                .collect();
                Op::Insert {
                    table: TABLE.to_owned(),
                    row,
                }
            })
            .collect();
        let committed = engine.commit(ops)?;
        let mut lines = String::new();
        for key in &keys {
            lines.push_str(&format!("ack {} {key} {i}\n", committed.lsn.0));
        }
        out.write_all(lines.as_bytes())?;
        out.flush()?;
    }
    Ok(())
}

/// What one child printed before it died.
#[derive(Debug, Default)]
struct Acks {
    rows: Vec<(String, i64)>,
    last_lsn: u64,
    phase: String,
}

fn parse(output: &str) -> Acks {
    let mut acks = Acks::default();
    // Only whole lines: a line cut by the kill was never wholly acknowledged.
    let whole = output
        .rfind('\n')
        .map_or("", |end| output.get(..end).unwrap_or(""));
    for line in whole.lines() {
        let mut words = line.split(' ');
        match (words.next(), words.next(), words.next(), words.next()) {
            (Some("ack"), Some(lsn), Some(key), Some(i)) => {
                if let (Ok(lsn), Ok(i)) = (lsn.parse(), i.parse()) {
                    acks.last_lsn = acks.last_lsn.max(lsn);
                    acks.rows.push((key.to_owned(), i));
                }
            }
            (Some("phase"), Some(name), None, None) => name.clone_into(&mut acks.phase),
            _ => {}
        }
    }
    acks
}

/// Kills `count` children of `exe` (this binary) and checks each time; the delays come from
/// `seed`.
#[must_use]
pub fn kills(exe: &Path, count: u64, seed: u64) -> Tally {
    let started = Instant::now();
    let mut tally = Tally::default();
    let mut rng = Rng::new(seed);
    let mut dir = None;
    let mut acked: BTreeMap<String, i64> = BTreeMap::new();
    // Backups read whole already: a finished backup file is never written again.
    let mut read_backups = BTreeSet::new();
    let mut last_lsn = 0;
    for kill in 0..count {
        if kill % KILLS_PER_DIR == 0 {
            dir = match tempfile::tempdir() {
                Ok(dir) => Some(dir),
                Err(e) => {
                    tally.fail(
                        format!("no temporary directory: {e}"),
                        replay_command(seed, count),
                    );
                    break;
                }
            };
            acked.clear();
            read_backups.clear();
            last_lsn = 0;
        }
        let Some(root) = dir.as_ref().map(|dir| dir.path().to_path_buf()) else {
            break;
        };
        let delay = Duration::from_millis(10 + rng.below(290));
        let beside = Beside {
            acked: &acked,
            last_lsn,
            tally: &mut tally,
        };
        match kill_once(
            exe,
            &root,
            seed.wrapping_mul(1_000_003) ^ kill,
            delay,
            beside,
        ) {
            Ok(acks) => {
                tally.add("process kills", 1);
                tally.add(
                    &format!(
                        "kills during {}",
                        if acks.phase.is_empty() {
                            "startup"
                        } else {
                            &acks.phase
                        }
                    ),
                    1,
                );
                tally.add("acknowledged rows", acks.rows.len() as u64);
                last_lsn = last_lsn.max(acks.last_lsn);
                acked.extend(acks.rows);
            }
            Err(e) => {
                tally.fail(format!("kill {kill}: {e:#}"), replay_command(seed, count));
                continue;
            }
        }
        if let Err(e) = verify(&root, &acked, last_lsn, &mut read_backups) {
            tally.fail(
                format!("after kill {kill}: {e:#}"),
                replay_command(seed, count),
            );
        }
    }
    tally.seconds = started.elapsed().as_secs_f64();
    tally
}

/// What a kill round checks beside the live child, once it acknowledged a commit: a read-only
/// open sees a committed prefix holding every row acknowledged in earlier rounds, and with its
/// `LOCK` file deleted a second writer is still refused.
struct Beside<'a> {
    acked: &'a BTreeMap<String, i64>,
    last_lsn: u64,
    tally: &'a mut Tally,
}

/// Starts a child, kills it after `delay`, and returns what it acknowledged; an error if it
/// ended by itself before the kill.
fn kill_once(
    exe: &Path,
    root: &Path,
    seed: u64,
    delay: Duration,
    beside: Beside<'_>,
) -> anyhow::Result<Acks> {
    let started = Instant::now();
    let mut child = Command::new(exe)
        .arg("child")
        .arg("--dir")
        .arg(root)
        .arg("--seed")
        .arg(seed.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("spawning {}", exe.display()))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let (first_ack, acking) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let mut lines = std::io::BufRead::lines(BufReader::new(stdout));
        let mut signalled = false;
        while let Some(Ok(line)) = lines.next() {
            if !signalled && line.starts_with("ack ") {
                signalled = true;
                let _ = first_ack.send(());
            }
            text.push_str(&line);
            text.push('\n');
        }
        text
    });
    // A failed check still kills the child below: a child left running would hold the lock.
    let beside = match acking.recv_timeout(delay) {
        Ok(()) => check_beside(&root.join("db"), beside),
        Err(_) => Ok(()),
    };
    std::thread::sleep(delay.saturating_sub(started.elapsed()));
    let exited = child.try_wait()?;
    if exited.is_none() {
        // SIGKILL on Unix: no destructor, no flush, no close.
        child.kill()?;
    }
    child.wait()?;
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = BufReader::new(&mut pipe).read_to_string(&mut stderr);
    }
    let output = reader
        .join()
        .map_err(|_| anyhow::anyhow!("the reader thread panicked"))?;
    if let Some(status) = exited {
        anyhow::bail!("the child ended by itself ({status}): {}", stderr.trim());
    }
    beside?;
    Ok(parse(&output))
}

/// The checks beside a live writer (issue 25: reads that wrote, a deleted `LOCK` that let a
/// second writer in).
fn check_beside(db: &Path, beside: Beside<'_>) -> anyhow::Result<()> {
    let (reader, _) = Engine::open_read_only(db, child_options())
        .context("a read-only open beside the writer failed")?;
    let view = reader.read();
    anyhow::ensure!(
        view.lsn().0 >= beside.last_lsn,
        "a read-only open saw LSN {} after LSN {} was acknowledged",
        view.lsn(),
        beside.last_lsn
    );
    if !beside.acked.is_empty() {
        let table = view
            .table(TABLE)
            .context("a read-only open lost the table")?;
        for (key, i) in beside.acked {
            let row = table
                .get(&Value::from(key.as_str()))
                .with_context(|| format!("a read-only open lost acknowledged row {key}"))?;
            anyhow::ensure!(
                row.get("i") == Some(Value::Int(*i)),
                "a read-only open read row {key} as {:?}, not {i}",
                row.get("i")
            );
        }
    }
    beside.tally.add("read-only opens beside the writer", 1);
    // The usual reflex with a "stale" lock; the directory's own lock must still refuse.
    let lock = db.join("LOCK");
    if lock.exists() {
        std::fs::remove_file(&lock).context("deleting LOCK")?;
        match Engine::open(db, child_options().background(false)) {
            Err(tabula_engine::Error::AlreadyOpen { .. }) => {
                beside
                    .tally
                    .add("second writers refused with LOCK deleted", 1);
            }
            Err(e) => anyhow::bail!("a second writer with LOCK deleted failed otherwise: {e}"),
            Ok(_) => anyhow::bail!("a second writer opened the database once LOCK was deleted"),
        }
    }
    Ok(())
}

/// Reopens the database and checks every acknowledged row, and every backup not read before.
fn verify(
    root: &Path,
    acked: &BTreeMap<String, i64>,
    last_lsn: u64,
    read_backups: &mut BTreeSet<PathBuf>,
) -> anyhow::Result<()> {
    let (engine, _) = Engine::open(root.join("db"), child_options().background(false))
        .context("the database does not reopen")?;
    let db = engine.read();
    anyhow::ensure!(
        db.lsn().0 >= last_lsn,
        "recovered to LSN {} but LSN {last_lsn} was acknowledged",
        db.lsn()
    );
    if !acked.is_empty() {
        let table = db.table(TABLE).context("the table is gone")?;
        for (key, i) in acked {
            let row = table
                .get(&Value::from(key.as_str()))
                .with_context(|| format!("acknowledged row {key} lost"))?;
            anyhow::ensure!(
                row.get("i") == Some(Value::Int(*i)),
                "row {key} holds {:?}, not {i}",
                row.get("i")
            );
        }
    }
    let backups = root.join("backups");
    if backups.exists() {
        let store = SnapshotStore::open(&backups).context("the backup directory")?;
        for info in list_backups(&backups)? {
            if !read_backups.insert(info.path.clone()) {
                continue;
            }
            store
                .load(info.lsn, &LoadOptions::default())
                .with_context(|| format!("backup {} does not read", info.path.display()))?;
        }
    }
    engine.close()?;
    Ok(())
}
