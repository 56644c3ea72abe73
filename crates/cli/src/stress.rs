//! `tabula stress`: a load and torture tool in the spirit of RocksDB's `db_stress`. Writers
//! commit small transactions concurrently and print `ack <table> <key>` (flushed at once) for each
//! row of each acknowledged commit; anyone can kill the process at any moment and then check that
//! every acknowledged row survived (`tabula get`). The summary goes to stderr, so stdout holds
//! only acks.
//!
//! Each writer's transaction inserts one to three new rows, and about three in ten also update
//! one of its earlier rows, so the log holds inserts and updates across two tables.
//! `--segment-size` and `--checkpoint-bytes` make segment rotations and checkpoints frequent, so
//! that kills land in them too. Keys start with a
//! run id (the start time), so runs against one directory never collide.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use tabula::{CheckpointPolicy, Op, Options, Row, SyncPolicy, TableDef, Value};

use crate::args::{StressArgs, Sync};

const TABLES: [&str; 2] = ["stress_a", "stress_b"];

fn row(key: &str, writer: usize, seq: u64) -> Row {
    [
        ("id".to_owned(), Value::from(key)),
        ("writer".to_owned(), Value::Int(writer as i64)),
        ("seq".to_owned(), Value::Int(seq as i64)),
        (
            "payload".to_owned(),
            Value::from("x".repeat(64 + (seq % 64) as usize)),
        ),
        ("updates".to_owned(), Value::Int(0)),
    ]
    .into_iter()
    .collect()
}

/// `tabula stress DIR --writers N --seconds S [--sync P]`.
pub fn run(args: &StressArgs, out: &mut dyn Write) -> Result<()> {
    let sync = match args.sync {
        Sync::Always => SyncPolicy::Always,
        Sync::Everysec => SyncPolicy::EverySecond,
        Sync::Never => SyncPolicy::Never,
    };
    let mut options = Options::new().sync(sync);
    if let Some(bytes) = args.segment_size {
        options = options.segment_size(bytes);
    }
    if let Some(bytes) = args.checkpoint_bytes {
        let mut policy = CheckpointPolicy::default();
        policy.wal_bytes = Some(bytes);
        options = options.checkpoint(policy);
    }
    let db = tabula::Database::with_options(&args.dir, options)
        .with_context(|| format!("cannot open the database in {}", args.dir.display()))?;
    for table in TABLES {
        if db.read().table(table).is_none() {
            db.create_table(TableDef::new(table, "id"))?;
        }
    }
    let run_id = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros());
    let writers = usize::from(args.writers.max(1));
    let deadline = Instant::now() + Duration::from_secs_f64(args.seconds.clamp(0.0, 86_400.0));
    let commits = AtomicU64::new(0);
    let failed = AtomicBool::new(false);
    // Writers send their ack lines here; this thread prints and flushes them, so lines never
    // interleave and stdout stays one stream.
    let (acks, printed) = std::sync::mpsc::channel::<String>();
    let started = Instant::now();
    let result: Result<()> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..writers)
            .map(|writer| {
                let (db, commits, failed) = (&db, &commits, &failed);
                let acks = acks.clone();
                std::thread::Builder::new()
                    .name(format!("stress-writer-{writer}"))
                    .spawn_scoped(scope, move || -> Result<()> {
                        let mut seq = 0u64;
                        let mut mine: Vec<(usize, String)> = Vec::new();
                        while Instant::now() < deadline && !failed.load(Ordering::Relaxed) {
                            let mut ops = Vec::new();
                            let mut keys = Vec::new();
                            for _ in 0..1 + seq % 3 {
                                let key = format!("{run_id:x}-{writer}-{seq}");
                                let table = (seq % 2) as usize;
                                let name = TABLES.get(table).copied().unwrap_or("stress_a");
                                ops.push(Op::Insert {
                                    table: name.to_owned(),
                                    row: row(&key, writer, seq),
                                });
                                keys.push((table, key));
                                seq += 1;
                            }
                            if seq % 10 < 3
                                && let Some((table, key)) =
                                    mine.get(seq as usize % mine.len().max(1))
                            {
                                ops.push(Op::Update {
                                    table: TABLES
                                        .get(*table)
                                        .copied()
                                        .unwrap_or("stress_a")
                                        .to_owned(),
                                    key: Value::from(key.as_str()),
                                    set: [("updates".to_owned(), Value::Int(seq as i64))]
                                        .into_iter()
                                        .collect(),
                                });
                            }
                            if let Err(e) = db.commit(ops) {
                                failed.store(true, Ordering::Relaxed);
                                return Err(e.into());
                            }
                            commits.fetch_add(1, Ordering::Relaxed);
                            let mut text = String::new();
                            for (table, key) in &keys {
                                let name = TABLES.get(*table).copied().unwrap_or("stress_a");
                                text.push_str(&format!("ack {name} {key}\n"));
                            }
                            if acks.send(text).is_err() {
                                // The printer stopped (stdout closed): stop writing.
                                return Ok(());
                            }
                            mine.extend(keys);
                        }
                        Ok(())
                    })
            })
            .collect::<std::io::Result<Vec<_>>>()
            .inspect_err(|_| {
                // The writers already started stop at once.
                failed.store(true, Ordering::Relaxed);
            })
            .context("cannot start the writer threads")?;
        drop(acks);
        let mut printing = Ok(());
        for text in printed {
            printing = out.write_all(text.as_bytes()).and_then(|()| out.flush());
            if printing.is_err() {
                failed.store(true, Ordering::Relaxed);
                break;
            }
        }
        for handle in handles {
            handle
                .join()
                .map_err(|_| anyhow::anyhow!("a writer thread panicked"))??;
        }
        Ok(printing?)
    });
    result?;
    let elapsed = started.elapsed().as_secs_f64();
    let total = commits.load(Ordering::Relaxed);
    writeln!(
        std::io::stderr(),
        "stress: {total} commits in {elapsed:.1} s ({:.0} commits/s), {writers} writers, sync {}",
        total as f64 / elapsed.max(1e-9),
        match args.sync {
            Sync::Always => "always",
            Sync::Everysec => "everysec",
            Sync::Never => "never",
        }
    )?;
    db.close()?;
    Ok(())
}
