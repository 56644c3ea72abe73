//! Online backups: taken while writers commit, each restores to exactly the database at its LSN;
//! the backup directory lists and trims like Kajson's `BackupManager`; a past point restores to
//! a new directory; a damaged backup or an occupied target writes nothing.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use tabula_core::{Lsn, Op, Row, TableDef, Value};
use tabula_engine::{
    CheckpointPolicy, Diff, Engine, Options, list_backups, remove_old_backups, restore,
};
use tabula_snapshot::SnapshotRetention;
use tabula_wal::{Retention, SyncPolicy};

fn options() -> Options {
    Options::new()
        .sync(SyncPolicy::Never)
        .checkpoint(CheckpointPolicy::manual())
        .wal_retention(Retention::archive_all())
}

fn rows(db: &tabula_engine::ReadView) -> BTreeMap<Value, Row> {
    db.table("t")
        .map(|t| t.iter().map(|(k, r)| (k, r.to_row())).collect())
        .unwrap_or_default()
}

fn upsert(id: i64, n: i64) -> Op {
    Op::Upsert {
        table: "t".into(),
        row: Row::from([
            ("id".to_owned(), Value::Int(id)),
            ("n".to_owned(), Value::Int(n)),
        ]),
    }
}

#[test]
fn backups_taken_under_concurrent_writes_restore_to_the_state_at_their_lsn() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _) = Engine::open(dir.path().join("db"), options()).unwrap();
    engine
        .commit(vec![Op::CreateTable(TableDef::new("t", "id"))])
        .unwrap();
    let running = AtomicBool::new(true);
    let backups = std::thread::scope(|scope| {
        for w in 0..3i64 {
            let (engine, running) = (&engine, &running);
            scope.spawn(move || {
                let mut n = 0;
                while running.load(Ordering::Relaxed) {
                    engine
                        .commit(vec![upsert(w * 100 + n % 50, n), upsert(w * 100 + 99, n)])
                        .unwrap();
                    n += 1;
                }
            });
        }
        let mut backups: Vec<tabula_engine::BackupInfo> = Vec::new();
        for _ in 0..4 {
            // Each backup after some writes: wait (with a deadline) for the LSN to move on.
            let last = backups.last().map_or(Lsn(1), |b| b.lsn);
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            while engine.read().lsn() <= last.next() {
                assert!(std::time::Instant::now() < deadline, "the writers stalled");
                std::thread::yield_now();
            }
            backups.push(engine.backup(dir.path().join("backups")).unwrap());
        }
        running.store(false, Ordering::Relaxed);
        backups
    });
    assert!(
        backups.windows(2).all(|w| w[0].lsn < w[1].lsn),
        "writes went on"
    );
    let listed = list_backups(dir.path().join("backups")).unwrap();
    assert_eq!(
        listed.iter().map(|b| b.lsn).collect::<Vec<_>>(),
        backups.iter().map(|b| b.lsn).collect::<Vec<_>>()
    );
    assert!(listed.iter().all(|b| b.created.is_some() && b.bytes > 0));
    for (i, backup) in backups.iter().enumerate() {
        let target = dir.path().join(format!("restored{i}"));
        assert_eq!(restore(&backup.path, &target).unwrap(), backup.lsn);
        let (restored, report) = Engine::open(&target, options()).unwrap();
        assert_eq!(report.snapshot.as_ref().map(|s| s.0), Some(backup.lsn));
        let then = engine.as_of(backup.lsn).unwrap();
        assert!(rows(&then).len() > 1);
        assert_eq!(
            rows(&restored.read()),
            rows(&then),
            "backup at LSN {}",
            backup.lsn
        );
        assert!(
            Diff::between(
                &then.to_database().unwrap(),
                &restored.read().to_database().unwrap()
            )
            .is_empty()
        );
        // The restored database takes commits after the backup's LSN.
        let next = restored.commit(vec![upsert(1, -1)]).unwrap();
        assert_eq!(next.lsn, backup.lsn.next());
    }
    // Keep the newest two.
    let removed =
        remove_old_backups(dir.path().join("backups"), SnapshotRetention::keep(2)).unwrap();
    assert_eq!(removed.len(), 2);
    let left = list_backups(dir.path().join("backups")).unwrap();
    assert_eq!(
        left.iter().map(|b| b.lsn).collect::<Vec<_>>(),
        [backups[2].lsn, backups[3].lsn]
    );
}

#[test]
fn a_past_point_restores_to_a_new_directory() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _) = Engine::open(dir.path().join("db"), options()).unwrap();
    engine
        .commit(vec![Op::CreateTable(TableDef::new("t", "id"))])
        .unwrap();
    for n in 0..20 {
        engine.commit(vec![upsert(n % 5, n)]).unwrap();
        if n == 10 {
            engine.checkpoint().unwrap();
        }
    }
    let point = Lsn(7);
    let lsn = engine.restore_to(point, dir.path().join("past")).unwrap();
    assert_eq!(lsn, point);
    let (past, _) = Engine::open(dir.path().join("past"), options()).unwrap();
    assert_eq!(rows(&past.read()), rows(&engine.as_of(point).unwrap()));
    assert_ne!(rows(&past.read()), rows(&engine.read()));
}

#[test]
fn a_damaged_backup_or_an_occupied_target_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _) = Engine::open(dir.path().join("db"), options()).unwrap();
    engine
        .commit(vec![
            Op::CreateTable(TableDef::new("t", "id")),
            upsert(1, 1),
        ])
        .unwrap();
    let backup = engine.backup(dir.path().join("backups")).unwrap();
    // The target already holds something.
    std::fs::create_dir_all(dir.path().join("busy")).unwrap();
    std::fs::write(dir.path().join("busy").join("keep.txt"), b"mine").unwrap();
    assert!(restore(&backup.path, dir.path().join("busy")).is_err());
    assert_eq!(
        std::fs::read_dir(dir.path().join("busy")).unwrap().count(),
        1
    );
    // A flipped byte in the backup.
    let mut bytes = std::fs::read(&backup.path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    let damaged = dir.path().join("damaged.tsnap");
    std::fs::write(&damaged, &bytes).unwrap();
    assert!(restore(&damaged, dir.path().join("fresh")).is_err());
    assert!(!dir.path().join("fresh").exists());
}
