//! Tarantool as a peer: Debian's `tarantool` (2.6), the system closest to tabula (tables in
//! memory, a write-ahead log, snapshots without fork). It runs `tarantool/bench.lua` in its own
//! process, in-process for Tarantool as tabula is for its caller: the workload is Lua calling
//! memtx directly, with no network and no client between them. Each phase is one process,
//! because `wal_mode` is fixed per process (`fsync`: durable; `write`: written to the OS).
//!
//! The rows are the benchmark's own, handed over as JSON Lines ([`write_data`]) and stored as
//! tuples in a memtx space with a TREE primary key on the key; the figures come back as one
//! JSON object per phase.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Serialize;
use tabula_peers::data::{Fields, fields, key};

use crate::Result;

/// `tarantool`'s version, or `None` when it is not installed.
pub fn version() -> Option<String> {
    let out = Command::new("tarantool").arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    // "Tarantool 2.6.0-0-g47aa4e01e"
    text.lines()
        .next()?
        .split_whitespace()
        .nth(1)
        .map(str::to_owned)
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tarantool/bench.lua")
}

#[derive(Serialize)]
struct Line {
    k: String,
    #[serde(flatten)]
    fields: Fields,
}

/// Writes rows `0..n` to `path` as JSON Lines: the key as `k`, then the fields.
pub fn write_data(path: &Path, n: usize) -> Result<()> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    for i in 0..n {
        serde_json::to_writer(
            &mut out,
            &Line {
                k: key(i),
                fields: fields(i),
            },
        )?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

/// One phase's figures, by name.
pub struct Figures(serde_json::Map<String, serde_json::Value>);

impl Figures {
    /// The figure `name`.
    pub fn get(&self, name: &str) -> Result<f64> {
        self.0
            .get(name)
            .and_then(serde_json::Value::as_f64)
            .ok_or_else(|| format!("tarantool reported no `{name}`").into())
    }
}

/// How one phase runs.
pub struct Phase<'a> {
    /// `commits`, `load` or `recover` (see `bench.lua`).
    pub name: &'a str,
    /// Tarantool's `work_dir`.
    pub dir: &'a Path,
    /// `fsync` or `write`.
    pub wal_mode: &'a str,
    /// The rows ([`write_data`]); an absolute path, as Tarantool changes into `dir`.
    pub data: &'a Path,
    /// Rows or commits.
    pub n: usize,
    /// Fibers (`commits`) or reads (`load`).
    pub extra: usize,
}

impl Phase<'_> {
    fn command(&self) -> Command {
        let mut command = Command::new("tarantool");
        command
            .arg(script())
            .arg(self.name)
            .arg(self.dir)
            .arg(self.wal_mode)
            .arg(self.data)
            .arg(self.n.to_string())
            .arg(self.extra.to_string())
            .stdin(Stdio::null());
        command
    }

    /// Runs the phase to its end; its figures.
    pub fn run(&self) -> Result<Figures> {
        std::fs::create_dir_all(self.dir)?;
        let out = self.command().stderr(Stdio::null()).output()?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            return Err(self.failed(&out.status.to_string()));
        }
        let last = stdout.lines().last().unwrap_or_default();
        match serde_json::from_str(last)? {
            serde_json::Value::Object(map) => Ok(Figures(map)),
            other => Err(format!("tarantool {}: not figures: {other}", self.name).into()),
        }
    }

    /// Runs a `commits` phase until it prints `ready` (every commit made), then SIGKILLs it.
    pub fn run_and_kill(&self) -> Result<()> {
        std::fs::create_dir_all(self.dir)?;
        let mut child = self
            .command()
            .env("TARANTOOL_BENCH_READY", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("tarantool: no stdout")?;
        let ready = BufReader::new(stdout)
            .lines()
            .any(|line| line.is_ok_and(|l| l == "ready"));
        child.kill()?;
        child.wait()?;
        if ready {
            Ok(())
        } else {
            Err(self.failed("it ended before `ready`"))
        }
    }

    /// The error of a failed phase, with the end of Tarantool's log (where its errors go).
    fn failed(&self, how: &str) -> Box<dyn std::error::Error + Send + Sync> {
        let log = std::fs::read_to_string(self.dir.join("tarantool.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(3).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        format!("tarantool {}: {how}: {}", self.name, tail.join(" | ")).into()
    }
}
