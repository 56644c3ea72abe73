//! The operator part: what people and machines do to a database directory outside tabula (issue
//! 25), with the same accounting as the other parts.
//!
//! A database on the real file system takes `commits` single-row commits, with checkpoints and
//! 1 KiB log segments, while its clock jumps years ahead, back to the real time, and back by
//! small steps. Then:
//!
//! - **clock jumps**: every commit's own timestamp names a state that holds it, and no commit is
//!   stamped further ahead of the clock that made it than `Options::max_clock_step_back`
//!   (before the MANIFEST work one commit from a clock years ahead stamped every later one);
//! - **segment and `wal/` removal**: on copies, each live segment in turn, every `*.log`, and the
//!   whole `wal/` are deleted. Opening, a read-only open and `check` must each either refuse or
//!   hold every acknowledged commit, and `check` must not call healthy what opening refuses;
//! - **read-only files**: with every file and directory made read-only, a read-only open and
//!   `check` read every acknowledged commit and change no byte.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tabula_core::{Lsn, Op, Row, TableDef, Timestamp, Value};
use tabula_engine::{At, CheckpointPolicy, Engine, ManualClock, Options, Retention};

use crate::rng::Rng;
use crate::tally::{Tally, catch};

/// The acknowledged contents of table `t`: key to value.
type Model = BTreeMap<i64, i64>;

fn options(clock: &ManualClock) -> Options {
    Options::new()
        .checkpoint(CheckpointPolicy::manual())
        .segment_size(1 << 10)
        .wal_retention(Retention::archive_all())
        .background(false)
        .clock(clock.clone())
}

fn replay(seed: u64, commits: u64) -> String {
    format!(
        "cargo run --release -p tabula-reliability -- operator --seed {seed} --commits {commits}"
    )
}

/// One seed of the part.
#[must_use]
pub fn sweep(seed: u64, commits: u64) -> Tally {
    let mut tally = Tally::default();
    let started = std::time::Instant::now();
    match catch(|| run(seed, commits, &mut tally)) {
        Ok(Ok(())) => {}
        Ok(Err(what)) => tally.fail(what, replay(seed, commits)),
        Err(panic) => {
            tally.panics += 1;
            tally.fail(format!("panic: {panic}"), replay(seed, commits));
        }
    }
    tally.seconds = started.elapsed().as_secs_f64();
    tally
}

fn run(seed: u64, commits: u64, tally: &mut Tally) -> Result<(), String> {
    let temp = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let dir = temp.path().join("db");
    let model = build(seed, commits, &dir, tally)?;
    remove_segments(seed, commits, &dir, &model, tally)?;
    read_only_files(&dir, &model, tally)
}

/// Writes the database, jumping the clock, and checks the commit times.
fn build(seed: u64, commits: u64, dir: &Path, tally: &mut Tally) -> Result<Model, String> {
    let mut rng = Rng::new(seed ^ 0x0b5e_55ed);
    let real: Timestamp = "2026-12-07T10:00:00Z"
        .parse()
        .map_err(|e| format!("{e:?}"))?;
    let clock = ManualClock::new(real);
    let options = options(&clock);
    let (engine, _) = Engine::open(dir, options.clone()).map_err(|e| format!("open: {e}"))?;
    engine
        .commit(vec![Op::CreateTable(TableDef::new("t", "id"))])
        .map_err(|e| format!("create: {e}"))?;
    let mut model = Model::new();
    let mut stamps: Vec<(Lsn, Timestamp)> = Vec::new();
    let mut real_now = real;
    for i in 0..commits {
        real_now = Timestamp::from_micros(real_now.as_micros() + 1_000_000);
        match rng.below(20) {
            0 => {
                // Years ahead.
                let years = 1 + rng.below(5) as i64;
                clock.set(Timestamp::from_micros(
                    real_now.as_micros() + years * 365 * 86_400_000_000,
                ));
                tally.add("clock jumps", 1);
            }
            1 => {
                // A small step back (an NTP correction).
                clock.set(Timestamp::from_micros(
                    real_now.as_micros() - rng.below(60_000_000) as i64,
                ));
                tally.add("clock jumps", 1);
            }
            2..=4 => clock.set(real_now),
            _ => clock.advance(Duration::from_secs(1)),
        }
        let key = rng.below(40) as i64;
        let value = i as i64;
        let committed = engine
            .commit(vec![Op::Upsert {
                table: "t".into(),
                row: Row::from([
                    ("id".to_owned(), Value::Int(key)),
                    ("v".to_owned(), Value::Int(value)),
                ]),
            }])
            .map_err(|e| format!("commit {i}: {e}"))?;
        model.insert(key, value);
        let ahead = committed.timestamp.as_micros() - clock.now().as_micros();
        let allowed = options.max_clock_step_back.as_micros() as i64;
        if ahead > allowed {
            return Err(format!(
                "commit {i} (LSN {}) is stamped {ahead} µs ahead of the clock that made it: a \
                 time from a clock that ran ahead froze the commit times",
                committed.lsn
            ));
        }
        stamps.push((committed.lsn, committed.timestamp));
        // No checkpoint in the last third: the live log then spans several segments.
        if i % 25 == 24 && i < commits * 2 / 3 {
            engine
                .checkpoint()
                .map_err(|e| format!("checkpoint: {e}"))?;
        }
    }
    for (lsn, stamp) in &stamps {
        let named = engine
            .resolve(&At::Time(*stamp))
            .map_err(|e| format!("resolve {stamp:?}: {e}"))?;
        if named < *lsn {
            return Err(format!(
                "the time {stamp:?} of LSN {lsn} names LSN {named}, a state without that commit"
            ));
        }
        tally.add("commit times checked", 1);
    }
    check_state(&engine, &model, "the writer")?;
    engine.close().map_err(|e| format!("close: {e}"))?;
    Ok(model)
}

fn check_state(engine: &Engine, model: &Model, who: &str) -> Result<(), String> {
    let view = engine.read();
    let found: Model = view
        .table("t")
        .map(|table| {
            table
                .iter()
                .filter_map(|(key, row)| match (key, row.get("v")) {
                    (Value::Int(key), Some(Value::Int(v))) => Some((key, v)),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    if &found != model {
        let lost = model
            .iter()
            .filter(|(k, v)| found.get(k) != Some(v))
            .count();
        return Err(format!(
            "{who}: {lost} acknowledged commits lost (rows differ from the acknowledged ones)"
        ));
    }
    Ok(())
}

/// The live segments of `dir`, oldest first.
fn live_segments(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let wal = dir.join("wal");
    let mut segments: Vec<PathBuf> = std::fs::read_dir(&wal)
        .map_err(|e| format!("list {}: {e}", wal.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    segments.sort();
    Ok(segments)
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("create {}: {e}", to.display()))?;
    let entries = std::fs::read_dir(from).map_err(|e| format!("list {}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("list {}: {e}", from.display()))?;
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .map_err(|e| format!("copy {}: {e}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Each way of deleting log files, on a copy: every opener refuses or holds everything.
fn remove_segments(
    seed: u64,
    commits: u64,
    dir: &Path,
    model: &Model,
    tally: &mut Tally,
) -> Result<(), String> {
    let segments = live_segments(dir)?;
    let mut removals: Vec<(String, Vec<PathBuf>)> = segments
        .iter()
        .map(|s| (format!("removed {}", s.display()), vec![s.clone()]))
        .collect();
    removals.push(("removed every *.log".to_owned(), segments.clone()));
    removals.push(("removed wal/".to_owned(), vec![dir.join("wal")]));
    let options = options(&ManualClock::new(Timestamp::from_micros(0)));
    for (what, paths) in removals {
        let temp = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        let copy = temp.path().join("db");
        copy_dir(dir, &copy)?;
        for path in &paths {
            let target = copy.join(path.strip_prefix(dir).map_err(|e| e.to_string())?);
            let removed = if target.is_dir() {
                std::fs::remove_dir_all(&target)
            } else {
                std::fs::remove_file(&target)
            };
            removed.map_err(|e| format!("remove {}: {e}", target.display()))?;
        }
        let context = |who: &str| format!("{what} (seed {seed}, {commits} commits), {who}");
        let healthy = tabula_engine::check(&copy, &options)
            .map_err(|e| format!("{}: check failed: {e}", context("check")))?
            .is_healthy();
        match Engine::open_read_only(&copy, options.clone()) {
            Ok((engine, _)) => check_state(&engine, model, &context("read-only open"))?,
            Err(_) => tally.add("refused", 1),
        }
        match Engine::open(&copy, options.clone()) {
            Ok((engine, _)) => {
                check_state(&engine, model, &context("open"))?;
                engine.close().map_err(|e| format!("close: {e}"))?;
            }
            Err(error) => {
                if healthy {
                    return Err(format!(
                        "{}: check said healthy but opening refuses: {error}",
                        context("check")
                    ));
                }
                tally.add("refused", 1);
            }
        }
        tally.add("log removals", 1);
    }
    Ok(())
}

/// Every file and directory read-only: reading works and changes nothing.
fn read_only_files(dir: &Path, model: &Model, tally: &mut Tally) -> Result<(), String> {
    let before = contents(dir)?;
    set_read_only(dir, true)?;
    let options = options(&ManualClock::new(Timestamp::from_micros(0)));
    let read = (|| {
        let (engine, _) = Engine::open_read_only(dir, options.clone())
            .map_err(|e| format!("read-only open of read-only files: {e}"))?;
        check_state(&engine, model, "read-only open of read-only files")?;
        let report = tabula_engine::check(dir, &options)
            .map_err(|e| format!("check of read-only files: {e}"))?;
        if !report.is_healthy() {
            return Err(format!("check of read-only files: {:?}", report.problems));
        }
        Ok(())
    })();
    set_read_only(dir, false)?;
    read?;
    if contents(dir)? != before {
        return Err("a read-only open or check changed the directory".to_owned());
    }
    tally.add("read-only opens", 1);
    Ok(())
}

fn set_read_only(path: &Path, on: bool) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let is_dir = path.is_dir();
    let mode = match (is_dir, on) {
        (true, true) => 0o555,
        (true, false) => 0o755,
        (false, true) => 0o444,
        (false, false) => 0o644,
    };
    if is_dir && !on {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(|e| format!("chmod {}: {e}", path.display()))?;
    }
    if is_dir {
        let entries =
            std::fs::read_dir(path).map_err(|e| format!("list {}: {e}", path.display()))?;
        for entry in entries.flatten() {
            set_read_only(&entry.path(), on)?;
        }
    }
    if !is_dir || on {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(|e| format!("chmod {}: {e}", path.display()))?;
    }
    Ok(())
}

/// Every file under `dir` with its bytes, sorted.
fn contents(dir: &Path) -> Result<Vec<(PathBuf, Vec<u8>)>, String> {
    let mut files = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| format!("list {}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(contents(&path)?);
        } else {
            let bytes =
                std::fs::read(&path).map_err(|e| format!("read {}: {e}", path.display()))?;
            files.push((path, bytes));
        }
    }
    files.sort();
    Ok(files)
}
