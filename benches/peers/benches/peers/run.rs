//! The order of one run: the physical limits first, then each workload for every contender, then
//! the goals, the report and the charts.
//!
//! Durable commits (1, 4, 16, 64 writers) and non-durable commits each get a fresh database per
//! contender. The bulk load builds one database per durable contender, which the point reads,
//! range scans, dumps and commit latencies then use, as a user's database would be used. Recovery
//! fills a database in a child process and SIGKILLs it. Memory is measured in child processes.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tabula_peers::data::{KEY_LEN, value};
use tabula_peers::report::{Better, Figure, Limit, Meta, Report, TABULA, Workload, count, number};
use tabula_peers::{chart, limits, machine};
use tabula_wal::SyncPolicy;

use crate::store::{Contender, Store};
use crate::tarantool::{self, Figures};
use crate::typed;
use crate::workloads::{self, Latency};
use crate::{Args, Result, child, dtdb, fjall_store, redb_store, redis, sqlite, tabula_store};

/// The sizes of one run.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    durable_commits: usize,
    per_writer: usize,
    fast_commits: usize,
    /// Redis pays a network round trip per request: its request-at-a-time loops are shorter.
    redis_ops: usize,
    rows: usize,
    reads: usize,
    scans: usize,
    scan_len: usize,
    latency_samples: usize,
    recovery_rows: usize,
    memory_rows: usize,
    dtdb_records: usize,
    fsync_loop: usize,
    write_bytes: usize,
}

const FULL: Sizes = Sizes {
    durable_commits: 1_000,
    per_writer: 200,
    fast_commits: 1_000_000,
    redis_ops: 100_000,
    rows: 1_000_000,
    reads: 1_000_000,
    scans: 100_000,
    scan_len: 10,
    latency_samples: 2_000,
    recovery_rows: 1_000_000,
    memory_rows: 1_000_000,
    dtdb_records: 100_000,
    fsync_loop: 2_000,
    write_bytes: 512 << 20,
};

const QUICK: Sizes = Sizes {
    durable_commits: 100,
    per_writer: 8,
    fast_commits: 10_000,
    redis_ops: 2_000,
    rows: 20_000,
    reads: 20_000,
    scans: 2_000,
    scan_len: 10,
    latency_samples: 100,
    recovery_rows: 20_000,
    memory_rows: 20_000,
    dtdb_records: 2_000,
    fsync_loop: 100,
    write_bytes: 16 << 20,
};

/// The writer counts of the scaling workload (1 comes from workload 1).
pub const WRITERS: [usize; 3] = [4, 16, 64];

struct Run<'a> {
    args: &'a Args,
    sizes: Sizes,
    report: Report,
    redis: bool,
    started: Instant,
    /// Bytes per row of tabula's bincode dump: the encoded size the memory goal is judged by.
    encoded_row: Option<f64>,
    /// The `delta-trace-db` package's version, when its speed test ran.
    dtdb_version: Option<String>,
    /// Tarantool's version, when it ran.
    tarantool_version: Option<String>,
}

/// The typed workload's `HashMap` contender.
pub const TYPED_HASHMAP: &str = "std HashMap<String, T>";
/// The typed workload's redb setting.
pub const TYPED_REDB: &str = "Durability::None, bincode";

/// Tarantool's durable setting (`box.cfg{wal_mode = 'fsync'}`).
const FSYNC: &str = "fsync";
/// Tarantool's non-durable setting: written to the OS, not synced.
const WRITE: &str = "write";

fn workload(id: &str, title: &str, what: String, unit: &str, better: Better) -> Workload {
    Workload {
        id: id.to_owned(),
        title: title.to_owned(),
        what,
        unit: unit.to_owned(),
        better,
        figures: Vec::new(),
        limit: None,
        notes: Vec::new(),
    }
}

impl Run<'_> {
    fn log(&self, what: &str) {
        eprintln!("[{:>6.1}s] {what}", self.started.elapsed().as_secs_f64());
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "the index was just found or pushed"
    )]
    fn workload(&mut self, id: &str) -> &mut Workload {
        let at = self.report.workloads.iter().position(|w| w.id == id);
        let at = at.unwrap_or_else(|| {
            self.report
                .workloads
                .push(workload(id, id, String::new(), "", Better::Higher));
            self.report.workloads.len() - 1
        });
        &mut self.report.workloads[at]
    }

    /// Files a figure (or the error in its place) under workload `id`.
    fn file(
        &mut self,
        id: &str,
        (engine, setting): (&str, &str),
        group: &str,
        result: Result<(f64, String)>,
    ) {
        let (value, detail) = match result {
            Ok((v, d)) => (Some(v), d),
            Err(e) => {
                let message = format!("{id}: {engine} ({setting}): {e}");
                self.log(&format!("ERROR {message}"));
                self.report.errors.push(message);
                (None, format!("error: {e}"))
            }
        };
        if let Some(v) = value {
            self.log(&format!("{id} {engine} ({setting}) {group}: {}", number(v)));
        }
        self.workload(id).figures.push(Figure {
            engine: engine.to_owned(),
            setting: setting.to_owned(),
            group: group.to_owned(),
            value,
            detail,
        });
    }

    fn dir(&self, name: &str) -> Result<PathBuf> {
        let dir = self.args.data.join(name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        Ok(dir)
    }

    fn durable(&self) -> Vec<Contender> {
        let mut c = vec![
            tabula_store::contender("SyncPolicy::Always", SyncPolicy::Always),
            sqlite::contender(true),
            redb_store::contender(true),
            fjall_store::contender(true),
        ];
        if self.redis {
            c.push(redis::contender(true));
        }
        c
    }

    fn fast(&self) -> Vec<Contender> {
        let mut c = vec![
            tabula_store::contender("SyncPolicy::EverySecond", SyncPolicy::EverySecond),
            tabula_store::contender("SyncPolicy::Never", SyncPolicy::Never),
            sqlite::contender(false),
            redb_store::contender(false),
            fjall_store::contender(false),
        ];
        if self.redis {
            c.push(redis::contender(false));
        }
        c
    }

    /// Opens `c` in a fresh directory, runs `work` on it, closes it, and removes the directory.
    fn with_store<T>(
        &self,
        name: &str,
        c: &Contender,
        work: impl FnOnce(&dyn Store, &Path) -> Result<T>,
    ) -> Result<T> {
        let dir = self.dir(name)?;
        let store = (c.open)(&dir)?;
        let out = work(store.as_ref(), &dir);
        let closed = store.close();
        let out = out?;
        closed?;
        std::fs::remove_dir_all(&dir)?;
        Ok(out)
    }
}

/// Runs everything and writes the report and charts; the report, errors included.
pub fn run(args: &Args) -> Result<Report> {
    let sizes = if args.quick { QUICK } else { FULL };
    std::fs::create_dir_all(&args.data)?;
    let mut run = Run {
        args,
        sizes,
        report: Report::default(),
        redis: redis::version().is_some(),
        started: Instant::now(),
        encoded_row: None,
        dtdb_version: None,
        tarantool_version: None,
    };
    if !run.redis {
        run.report.skipped.push(
            "Redis: `redis-server` is not installed (Debian: `apt-get install redis-server`)."
                .to_owned(),
        );
    }
    declare_workloads(&mut run);
    physical_limits(&mut run)?;
    durable_commits(&mut run);
    fast_commits(&mut run);
    loaded_database(&mut run)?;
    recovery(&mut run);
    memory(&mut run);
    tarantool_peer(&mut run);
    typed_api(&mut run);
    deltatrace(&mut run);

    run.report.goals = crate::goals::judge(&run.report, run.redis, run.encoded_row);
    run.report.meta = meta(&run);
    write(&run)?;
    std::fs::remove_dir_all(&args.data).ok();
    run.log("done");
    Ok(run.report)
}

fn declare_workloads(run: &mut Run<'_>) {
    let s = run.sizes;
    let w = &mut run.report.workloads;
    w.push(workload(
        "w1",
        "1. Durable commits, 1 writer",
        format!(
            "{} commits of one new row each, each durable before it returns.",
            count(s.durable_commits)
        ),
        "commits/s",
        Better::Higher,
    ));
    w.push(workload(
        "w2",
        "2. Durable commits, 4, 16 and 64 writers",
        format!(
            "Each writer (a thread with its own connection or handle) makes {} durable single-row commits; the figure is all commits over the wall time.",
            s.per_writer
        ),
        "commits/s",
        Better::Higher,
    ));
    w.push(workload(
        "w3",
        "3. Non-durable commits, 1 writer",
        format!("{} commits of one new row each, not synced (written to the OS, or buffered, as each engine's setting says).", count(s.fast_commits)),
        "commits/s",
        Better::Higher,
    ));
    w.push(workload(
        "w4",
        "4. Bulk load",
        format!(
            "{} rows in durable commits of 1,000 into a new database.",
            count(s.rows)
        ),
        "rows/s",
        Better::Higher,
    ));
    w.push(workload(
        "w5a",
        "5a. Random point reads",
        format!("{} reads of random keys of the bulk-loaded database, one thread, in one read transaction or view.", count(s.reads)),
        "reads/s",
        Better::Higher,
    ));
    w.push(workload(
        "w5b",
        "5b. Range scans",
        format!(
            "{} scans of {} rows in key order from random keys, one thread.",
            count(s.scans),
            s.scan_len
        ),
        "scans/s",
        Better::Higher,
    ));
    w.push(workload(
        "w6a",
        "6a. Snapshot and dump write",
        "The bulk-loaded database written whole to a file, fsync included: tabula in each codec (uncompressed), SQLite `VACUUM INTO`, Redis `SAVE`.".to_owned(),
        "MB/s",
        Better::Higher,
    ));
    w.push(workload(
        "w6b",
        "6b. Snapshot load",
        "The files of 6a read back into memory and checked.".to_owned(),
        "rows/s",
        Better::Higher,
    ));
    w.push(workload(
        "w7",
        "7. Recovery after SIGKILL",
        format!(
            "A child process commits {} single-row transactions without syncing (checkpoints and log compaction off where the engine has them, so the rows are in the log), prints `ready` and is SIGKILLed; the figure is rows over the time from open until the first read answers.",
            count(s.recovery_rows)
        ),
        "rows/s",
        Better::Higher,
    ));
    w.push(workload(
        "w8",
        "8. Commit latency with a checkpoint running",
        format!(
            "Durable single-row commits on the bulk-loaded database while another thread runs the engine's checkpoint (SQLite: `wal_checkpoint(TRUNCATE)`; Redis: `BGREWRITEAOF`) back to back, until at least {} commits and two whole checkpoints; the figure is the p99.",
            count(s.latency_samples)
        ),
        "µs p99",
        Better::Lower,
    ));
    w.push(workload(
        "w9",
        "9. Resident memory per row",
        format!("Growth of the resident set (Redis: `used_memory`) per row, loading {} rows in commits of 1,000.", count(s.memory_rows)),
        "bytes/row",
        Better::Lower,
    ));
    w.push(workload(
        "w11a",
        "11a. Typed point reads",
        format!(
            "{} reads of random keys returning the bench row as a struct: tabula through `tabula::Table<BenchRow>` with a derived record (from a held `TableView`, and `Table::get` called each time), std `HashMap<String, BenchRow>` returning a clone, redb (`Durability::None`) storing the struct with bincode and decoding it on read.",
            count(s.reads)
        ),
        "reads/s",
        Better::Higher,
    ));
    w.push(workload(
        "w11b",
        "11b. Typed in-memory load",
        format!(
            "{} bench rows as structs, in inserts (redb: unsynced transactions) of 1,000.",
            count(s.rows)
        ),
        "rows/s",
        Better::Higher,
    ));
    w.push(workload(
        "w10",
        "10. DeltaTraceDB's speed test",
        format!(
            "The steps of the `delta-trace-db` package's own `tests/test_speed.py` on {} records, both in memory: DeltaTraceDB through `python/deltatrace_speed.py`, tabula through the `tabula` crate with a derived record type.",
            count(s.dtdb_records)
        ),
        "ms",
        Better::Lower,
    ));
}

/// The row as a key-value peer stores it: key plus value bytes.
fn row_bytes() -> f64 {
    (KEY_LEN + value(0).len()) as f64
}

fn physical_limits(run: &mut Run<'_>) -> Result<()> {
    run.log("physical limits");
    let dir = run.dir("limits")?;
    let s = run.sizes;
    let fsync = limits::fdatasync_rate(&dir, s.fsync_loop)?;
    let bandwidth = limits::write_bandwidth(&dir, s.write_bytes)?;
    let (inserts, gets) = limits::hashmap_rates(s.rows);
    std::fs::remove_dir_all(&dir)?;
    let row = row_bytes();
    run.report.limits = vec![
        (
            "100-byte append + fdatasync loop".to_owned(),
            fsync,
            "appends/s".to_owned(),
        ),
        (
            format!("sequential write of {} MiB + fsync", s.write_bytes >> 20),
            bandwidth / 1e6,
            "MB/s".to_owned(),
        ),
        (
            format!("std HashMap insert of {} key+value rows", count(s.rows)),
            inserts,
            "inserts/s".to_owned(),
        ),
        ("std HashMap get".to_owned(), gets, "gets/s".to_owned()),
    ];
    let limit = |name: &str, value: f64| {
        Some(Limit {
            name: name.to_owned(),
            value,
        })
    };
    run.workload("w1").limit = limit("100-byte append + fdatasync loop", fsync);
    run.workload("w3").limit = limit("std HashMap insert", inserts);
    run.workload("w4").limit = limit(
        &format!("sequential write bandwidth / {row:.0}-byte rows"),
        bandwidth / row,
    );
    run.workload("w5a").limit = limit("std HashMap get", gets);
    run.workload("w6a").limit = limit("sequential write bandwidth", bandwidth / 1e6);
    Ok(())
}

fn durable_commits(run: &mut Run<'_>) {
    let s = run.sizes;
    for c in run.durable() {
        run.log(&format!("durable commits: {} ({})", c.engine, c.setting));
        let one = run.with_store("w1", &c, |store, _| {
            workloads::commit_rate(store, 1, s.durable_commits, 0)
        });
        let detail = format!("{} commits", count(s.durable_commits));
        run.file(
            "w1",
            (c.engine, &c.setting),
            "1 writer",
            one.map(|v| (v, detail)),
        );
        for writers in WRITERS {
            let rate = run.with_store("w2", &c, |store, _| {
                workloads::commit_rate(store, writers, s.per_writer, 0)
            });
            let detail = format!("{} commits", count(writers * s.per_writer));
            run.file(
                "w2",
                (c.engine, &c.setting),
                &format!("{writers} writers"),
                rate.map(|v| (v, detail)),
            );
        }
    }
    run.workload("w2").notes.push(
        "tabula and Redis make one fsync serve every commit waiting for it (group commit). SQLite, redb and fjall take one writer at a time, each commit syncing on its own; SQLite's writers share one write connection behind a mutex, as SQLite applications with many writer threads do (with a connection each, writers wait in SQLite's busy handler, which sleeps: 64 writers then make about 100 commits/s).".to_owned(),
    );
}

fn fast_commits(run: &mut Run<'_>) {
    let s = run.sizes;
    for c in run.fast() {
        let n = if c.engine == "Redis" {
            s.redis_ops
        } else {
            s.fast_commits
        };
        run.log(&format!(
            "non-durable commits: {} ({})",
            c.engine, c.setting
        ));
        let rate = run.with_store("w3", &c, |store, _| workloads::commit_rate(store, 1, n, 0));
        let detail = format!("{} commits", count(n));
        run.file(
            "w3",
            (c.engine, &c.setting),
            "1 writer",
            rate.map(|v| (v, detail)),
        );
    }
    if run.redis {
        run.workload("w3").notes.push(format!(
            "Redis runs {} commits rather than {}: each is a network round trip on loopback, so its rate is flat and a shorter loop measures it as well.",
            count(s.redis_ops),
            count(s.fast_commits)
        ));
    }
}

/// Bulk load, then reads, scans, dumps and commit latency on the loaded database.
fn loaded_database(run: &mut Run<'_>) -> Result<()> {
    let s = run.sizes;
    for c in run.durable() {
        run.log(&format!(
            "bulk load and reads: {} ({})",
            c.engine, c.setting
        ));
        let dir = run.dir("w4")?;
        let store = match (c.open)(&dir) {
            Ok(store) => store,
            Err(e) => {
                run.file("w4", (c.engine, &c.setting), "", Err(e));
                continue;
            }
        };
        let memory_before = store.used_memory().transpose();
        let load = workloads::bulk_load(store.as_ref(), 0..s.rows, 1_000);
        let loaded = load.is_ok();
        run.file(
            "w4",
            (c.engine, &c.setting),
            "",
            load.map(|v| (v, format!("{} rows", count(s.rows)))),
        );
        if !loaded {
            continue;
        }
        if let (Ok(Some(before)), Some(Ok(after))) = (memory_before, store.used_memory()) {
            let per_row = after.saturating_sub(before) as f64 / s.rows as f64;
            run.file(
                "w9",
                (c.engine, &c.setting),
                "",
                Ok((per_row, "`used_memory` growth".to_owned())),
            );
        }
        let reads = if c.engine == "Redis" {
            s.redis_ops
        } else {
            s.reads
        };
        let r = workloads::point_reads(store.as_ref(), s.rows, reads);
        run.file(
            "w5a",
            (c.engine, &c.setting),
            "",
            r.map(|v| (v, format!("{} reads", count(reads)))),
        );
        if c.engine != "Redis" {
            let r = workloads::range_scans(store.as_ref(), s.rows, s.scans, s.scan_len);
            run.file(
                "w5b",
                (c.engine, &c.setting),
                "",
                r.map(|(v, rows)| (v, format!("{} rows read", count(rows)))),
            );
        }
        match store.dump(&dir) {
            Ok(dumps) => {
                for d in dumps {
                    let setting = (c.engine, d.format.as_str());
                    let mb = d.bytes as f64 / 1e6;
                    run.file(
                        "w6a",
                        setting,
                        "",
                        Ok((
                            mb / d.write_seconds,
                            format!(
                                "{} MB in {} s ({} rows/s)",
                                number(mb),
                                number(d.write_seconds),
                                number(s.rows as f64 / d.write_seconds)
                            ),
                        )),
                    );
                    if let Some(load) = d.load_seconds {
                        run.file(
                            "w6b",
                            setting,
                            "",
                            Ok((s.rows as f64 / load, format!("{} s", number(load)))),
                        );
                    }
                    if c.engine == TABULA && d.format == "bincode" {
                        run.encoded_row = Some(d.bytes as f64 / s.rows as f64);
                    }
                }
            }
            Err(e) => run.file("w6a", (c.engine, &c.setting), "", Err(e)),
        }
        let latency = commit_latency(store.as_ref(), s);
        run.file("w8", (c.engine, &c.setting), "with checkpoint", latency);
        let closed = store.close();
        if let Err(e) = closed {
            run.file("w4", (c.engine, &c.setting), "close", Err(e));
        }
        std::fs::remove_dir_all(&dir)?;
    }
    run.workload("w5a").notes.push(
        "Peers return the stored value bytes without decoding them; tabula returns the row, already decoded. Redis runs fewer reads (a network round trip each).".to_owned(),
    );
    run.workload("w5b")
        .notes
        .push("Redis has no ordered range over plain keys, so it has no figure here.".to_owned());
    run.workload("w8").notes.push(
        "redb and fjall have no checkpoint to run (redb writes its B-tree in place; fjall flushes and compacts in its own background threads, which run here as they always do): their figure is the plain commit latency.".to_owned(),
    );
    Ok(())
}

fn commit_latency(store: &dyn Store, s: Sizes) -> Result<(f64, String)> {
    // A warm-up checkpoint, which also tells whether the engine has one.
    let has_checkpoint = match store.checkpoint() {
        None => false,
        Some(r) => {
            r?;
            true
        }
    };
    let (quiet, _) = workloads::commit_latency(store, s.rows, s.latency_samples, None)?;
    if !has_checkpoint {
        return Ok((
            micros(quiet.p99),
            format!("no checkpoint: {}", quiet.describe()),
        ));
    }
    let work = || store.checkpoint().unwrap_or(Ok(()));
    let (busy, runs): (Latency, usize) = workloads::commit_latency(
        store,
        s.rows + s.latency_samples,
        s.latency_samples,
        Some(&work),
    )?;
    Ok((
        micros(busy.p99),
        format!(
            "with: {} over {runs} checkpoints; without: {}",
            busy.describe(),
            quiet.describe()
        ),
    ))
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn recovery(run: &mut Run<'_>) {
    let n = run.sizes.recovery_rows;
    for c in run.durable() {
        run.log(&format!("recovery: {}", c.engine));
        let result = (|| -> Result<(f64, String)> {
            let dir = run.dir("w7")?;
            let (seconds, detail) = if c.engine == "Redis" {
                let mut server = redis::RedisServer::start(&dir, "everysec")?;
                workloads::bulk_load(&server, 0..n, 1_000)?;
                let seconds = server.restart()?.as_secs_f64();
                let count = server.handle()?.count()?;
                if count != n {
                    return Err(format!("Redis recovered {count} of {n} rows").into());
                }
                server.kill()?;
                (
                    seconds,
                    "AOF of `MSET`s of 1,000 rows (a request per row would take minutes to fill)"
                        .to_owned(),
                )
            } else {
                child::fill_and_kill(c.engine, &dir, n)?;
                let start = Instant::now();
                let store = (c.open)(&dir)?;
                let mut handle = store.handle()?;
                if !handle.get(n - 1)? {
                    return Err(
                        format!("{}: the last row is missing after recovery", c.engine).into(),
                    );
                }
                let seconds = start.elapsed().as_secs_f64();
                let count = handle.count()?;
                drop(handle);
                store.close()?;
                if count != n {
                    return Err(format!("{} recovered {count} of {n} rows", c.engine).into());
                }
                (seconds, format!("{} s", number(seconds)))
            };
            std::fs::remove_dir_all(&dir)?;
            Ok((n as f64 / seconds, detail))
        })();
        run.file("w7", (c.engine, ""), "", result);
    }
}

fn memory(run: &mut Run<'_>) {
    let n = run.sizes.memory_rows;
    for engine in [TABULA, "HashMap"] {
        run.log(&format!("memory: {engine}"));
        let label = if engine == TABULA {
            (TABULA, "in memory")
        } else {
            ("std HashMap<String, Vec<u8>>", "key and value bytes")
        };
        let r = child::memory_per_row(engine, n).map(|v| (v, "resident set growth".to_owned()));
        run.file("w9", label, "", r);
    }
    let encoded = run.encoded_row;
    let w = run.workload("w9");
    // tabula's figure first, as in every other table.
    w.figures.sort_by_key(|f| f.engine != TABULA);
    if let Some(encoded) = encoded {
        w.notes.push(format!(
            "An encoded row (tabula's bincode dump of the table, per row) is {encoded:.0} bytes; a key-value peer stores {} bytes of key and value.",
            row_bytes()
        ));
    }
}

fn deltatrace(run: &mut Run<'_>) {
    let n = run.sizes.dtdb_records;
    run.log("DeltaTraceDB speed test");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/deltatrace_speed.py");
    let tabula_label = (TABULA, "in memory");
    let python_label = ("DeltaTraceDB", "Python");
    let ours = dtdb::tabula(n);
    let theirs = dtdb::python(&script, n);
    match ours {
        Ok(times) => {
            for (step, t) in dtdb::STEPS.iter().zip(times) {
                run.file("w10", tabula_label, step, Ok((t * 1e3, String::new())));
            }
        }
        Err(e) => run.file("w10", tabula_label, "", Err(e)),
    }
    match theirs {
        Ok(Some((version, times))) => {
            run.dtdb_version = Some(version);
            for (step, t) in dtdb::STEPS.iter().zip(times) {
                run.file("w10", python_label, step, Ok((t * 1e3, String::new())));
            }
        }
        Ok(None) => run.report.skipped.push(
            "DeltaTraceDB: `python3` or the `delta-trace-db` package is not installed (`pip install delta-trace-db`).".to_owned(),
        ),
        Err(e) => run.file("w10", python_label, "", Err(e)),
    }
}

/// Versions of the crates in Cargo.lock, by name.
fn locked_version(name: &str) -> Option<String> {
    let lock =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.lock"))
            .ok()?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == format!("name = \"{name}\"") {
            return lines
                .next()
                .and_then(|l| l.strip_prefix("version = \""))
                .map(|v| v.trim_end_matches('"').to_owned());
        }
    }
    None
}

fn meta(run: &Run<'_>) -> Meta {
    let machine = machine::describe(&run.args.data);
    let mut versions = vec![
        (TABULA.to_owned(), env!("CARGO_PKG_VERSION").to_owned()),
        (
            "SQLite".to_owned(),
            format!(
                "{} (rusqlite {}, bundled)",
                sqlite::version(),
                locked_version("rusqlite").unwrap_or_default()
            ),
        ),
        (
            "redb".to_owned(),
            locked_version("redb").unwrap_or_default(),
        ),
        (
            "fjall".to_owned(),
            locked_version("fjall").unwrap_or_default(),
        ),
        (
            "Redis".to_owned(),
            redis::version().unwrap_or_else(|| "not installed".to_owned()),
        ),
    ];
    if let Some(v) = &run.dtdb_version {
        versions.push(("DeltaTraceDB (delta-trace-db)".to_owned(), v.clone()));
    }
    versions.push((
        "Tarantool".to_owned(),
        run.tarantool_version
            .clone()
            .unwrap_or_else(|| "not installed".to_owned()),
    ));
    Meta {
        date: machine::now(),
        command: format!(
            "{}{}",
            run.args.command,
            if run.args.quick && !run.args.command.contains("--quick") {
                " --quick"
            } else {
                ""
            }
        ),
        machine,
        versions,
        quick: run.args.quick,
        seconds: run.started.elapsed().as_secs_f64(),
    }
}

/// The relative path from the report's directory to the charts directory, for the links.
fn charts_link(report: &Path, charts: &Path) -> String {
    let base = report.parent().unwrap_or(Path::new(""));
    charts
        .strip_prefix(base)
        .unwrap_or(charts)
        .to_string_lossy()
        .replace('\\', "/")
}

fn write(run: &Run<'_>) -> Result<()> {
    let args = run.args;
    std::fs::create_dir_all(&args.charts)?;
    if let Some(parent) = args.report.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)?;
    }
    let mut series: Vec<chart::Series> = Vec::new();
    let (w1, w2) = (
        run.report.workloads.iter().find(|w| w.id == "w1"),
        run.report.workloads.iter().find(|w| w.id == "w2"),
    );
    for f in w1.iter().chain(w2.iter()).flat_map(|w| w.figures.iter()) {
        let Some(v) = f.value else { continue };
        let writers: f64 = f
            .group
            .split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(1.0);
        let label = format!("{} ({})", f.engine, f.setting);
        match series.iter_mut().find(|(l, _)| *l == label) {
            Some((_, points)) => points.push((writers, v)),
            None => series.push((label, vec![(writers, v)])),
        }
    }
    chart::scaling(&args.charts.join("scaling.svg"), &series)?;
    chart::throughput(&args.charts.join("throughput.svg"), &run.report)?;
    std::fs::write(
        args.charts.join("results.json"),
        serde_json::to_string_pretty(&run.report)?,
    )?;
    std::fs::write(
        &args.report,
        run.report
            .markdown(&charts_link(&args.report, &args.charts)),
    )?;
    run.log(&format!(
        "wrote {} and {}",
        args.report.display(),
        args.charts.display()
    ));
    Ok(())
}

/// Tarantool on every workload it can do, each phase a process of its own (`tarantool.rs`).
fn tarantool_peer(run: &mut Run<'_>) {
    let Some(version) = tarantool::version() else {
        run.report.skipped.push(
            "Tarantool: `tarantool` is not installed (Debian: `apt-get install tarantool`)."
                .to_owned(),
        );
        return;
    };
    run.tarantool_version = Some(version);
    let s = run.sizes;
    run.log("Tarantool");
    let data = match run.dir("tarantool-data").map(|dir| dir.join("rows.jsonl")) {
        Ok(data) => data,
        Err(e) => return run.file("w1", ("Tarantool", FSYNC), "1 writer", Err(e)),
    };
    let most = [s.rows, s.fast_commits, s.recovery_rows, s.durable_commits]
        .into_iter()
        .chain(WRITERS.map(|w| w * s.per_writer))
        .max()
        .unwrap_or(0);
    if let Err(e) = tarantool::write_data(&data, most) {
        return run.file("w1", ("Tarantool", FSYNC), "1 writer", Err(e));
    }
    let phase = |run: &Run<'_>, name: &'static str, wal_mode, n, extra| -> Result<Figures> {
        let dir = run.dir("tarantool")?;
        tarantool::Phase {
            name,
            dir: &dir,
            wal_mode,
            data: &data,
            n,
            extra,
        }
        .run()
    };
    // Durable and non-durable commits, one fiber per writer.
    let one = phase(run, "commits", FSYNC, s.durable_commits, 1)
        .and_then(|f| f.get("commits_per_second"));
    let detail = format!("{} commits", count(s.durable_commits));
    run.file(
        "w1",
        ("Tarantool", FSYNC),
        "1 writer",
        one.map(|v| (v, detail)),
    );
    for writers in WRITERS {
        let n = writers * s.per_writer;
        let rate =
            phase(run, "commits", FSYNC, n, writers).and_then(|f| f.get("commits_per_second"));
        let detail = format!("{} commits, {writers} fibers", count(n));
        run.file(
            "w2",
            ("Tarantool", FSYNC),
            &format!("{writers} writers"),
            rate.map(|v| (v, detail)),
        );
    }
    let fast =
        phase(run, "commits", WRITE, s.fast_commits, 1).and_then(|f| f.get("commits_per_second"));
    let detail = format!("{} commits", count(s.fast_commits));
    run.file(
        "w3",
        ("Tarantool", WRITE),
        "1 writer",
        fast.map(|v| (v, detail)),
    );
    // The bulk load, then reads, scans, memory and the snapshot on the loaded space; then the
    // snapshot loaded back by a new process.
    let loaded = (|| -> Result<(Figures, Figures)> {
        let dir = run.dir("tarantool")?;
        let load = tarantool::Phase {
            name: "load",
            dir: &dir,
            wal_mode: FSYNC,
            data: &data,
            n: s.rows,
            extra: s.reads,
        }
        .run()?;
        let recovered = tarantool::Phase {
            name: "recover",
            dir: &dir,
            wal_mode: FSYNC,
            data: &data,
            n: 0,
            extra: 0,
        }
        .run()?;
        Ok((load, recovered))
    })();
    let (load, recovered) = match loaded {
        Ok(both) => both,
        Err(e) => return run.file("w4", ("Tarantool", FSYNC), "", Err(e)),
    };
    let rows = s.rows as f64;
    let rate = load.get("load_rows_per_second");
    run.file(
        "w4",
        ("Tarantool", FSYNC),
        "",
        rate.map(|v| (v, format!("{} rows", count(s.rows)))),
    );
    let reads = load.get("reads_per_second");
    let detail = format!("{} reads, `space:get` from Lua", count(s.reads));
    run.file("w5a", ("Tarantool", FSYNC), "", reads.map(|v| (v, detail)));
    let scans = load.get("scans_per_second");
    let detail = format!(
        "{} scans, `space:select` with `iterator = 'GE', limit = {}`",
        count(s.reads / 10),
        s.scan_len
    );
    run.file("w5b", ("Tarantool", FSYNC), "", scans.map(|v| (v, detail)));
    let memory = load.get("resident_per_row").and_then(|resident| {
        let bsize = load.get("bsize_per_row")?;
        Ok((
            resident,
            format!(
                "resident set growth; memtx's own count (`bsize` of space and index): {} bytes",
                number(bsize)
            ),
        ))
    });
    run.file("w9", ("Tarantool", "memtx"), "", memory);
    let snapshot = load.get("snapshot_seconds").and_then(|secs| {
        let mb = load.get("snapshot_bytes")? / 1e6;
        Ok((
            mb / secs,
            format!(
                "{} MB in {} s ({} rows/s)",
                number(mb),
                number(secs),
                number(rows / secs)
            ),
        ))
    });
    run.file("w6a", ("Tarantool", "box.snapshot()"), "", snapshot);
    let snapshot_load = recovered.get("recovery_seconds").and_then(|secs| {
        let got = recovered.get("rows")?;
        if got != rows {
            return Err(format!("Tarantool loaded {got} of {rows} rows").into());
        }
        Ok((rows / secs, format!("{} s", number(secs))))
    });
    run.file("w6b", ("Tarantool", ".snap"), "", snapshot_load);
    // Recovery from the log: single-row commits written to the OS (no snapshot), SIGKILL,
    // then the time to open.
    let recovery = (|| -> Result<(f64, String)> {
        let dir = run.dir("tarantool")?;
        let mut phase = tarantool::Phase {
            name: "commits",
            dir: &dir,
            wal_mode: WRITE,
            data: &data,
            n: s.recovery_rows,
            extra: 1,
        };
        phase.run_and_kill()?;
        phase.name = "recover";
        let recovered = phase.run()?;
        let secs = recovered.get("recovery_seconds")?;
        let got = recovered.get("rows")?;
        if got != s.recovery_rows as f64 {
            return Err(format!("Tarantool recovered {got} of {} rows", s.recovery_rows).into());
        }
        Ok((
            s.recovery_rows as f64 / secs,
            format!("{} s, xlog of `wal_mode = 'write'`", number(secs)),
        ))
    })();
    run.file("w7", ("Tarantool", ""), "", recovery);
    std::fs::remove_dir_all(run.args.data.join("tarantool")).ok();
    std::fs::remove_dir_all(run.args.data.join("tarantool-data")).ok();
}

/// Workload 11: the typed API against `HashMap` and redb with bincode (`typed.rs`).
fn typed_api(run: &mut Run<'_>) {
    let s = run.sizes;
    run.log("typed API");
    let ours = typed::tabula(s.rows, s.reads);
    let map = typed::hashmap(s.rows, s.reads);
    let theirs = run
        .dir("w11")
        .and_then(|dir| typed::redb(&dir, s.rows, s.reads));
    let reads = format!("{} reads", count(s.reads));
    let rows = format!("{} rows", count(s.rows));
    match ours {
        Ok(f) => {
            run.file(
                "w11a",
                (TABULA, "TableView::get"),
                "",
                Ok((f.reads, reads.clone())),
            );
            if let Some(get) = f.table_get {
                run.file("w11a", (TABULA, "Table::get"), "", Ok((get, reads.clone())));
            }
            run.file(
                "w11b",
                (TABULA, "in memory"),
                "",
                Ok((f.load, rows.clone())),
            );
        }
        Err(e) => run.file("w11a", (TABULA, "TableView::get"), "", Err(e)),
    }
    match map {
        Ok(f) => {
            run.file(
                "w11a",
                (TYPED_HASHMAP, "clone"),
                "",
                Ok((f.reads, reads.clone())),
            );
            run.file(
                "w11b",
                (TYPED_HASHMAP, "insert"),
                "",
                Ok((f.load, rows.clone())),
            );
        }
        Err(e) => run.file("w11a", (TYPED_HASHMAP, "clone"), "", Err(e)),
    }
    match theirs {
        Ok(f) => {
            run.file("w11a", ("redb", TYPED_REDB), "", Ok((f.reads, reads)));
            run.file("w11b", ("redb", TYPED_REDB), "", Ok((f.load, rows)));
        }
        Err(e) => run.file("w11a", ("redb", TYPED_REDB), "", Err(e)),
    }
    std::fs::remove_dir_all(run.args.data.join("w11")).ok();
}
