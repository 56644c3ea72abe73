//! Continuous archiving: sealed segments and snapshots reach the archive before the log lets
//! them go, and a database rebuilt from the archive equals the original at the archive's last
//! sealed LSN.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use std::path::Path;

use tabula_core::{Lsn, Op, Row, TableDef, Value};
use tabula_engine::{CheckpointPolicy, Engine, Error, Options, restore_archive};
use tabula_wal::Retention;

fn options(archive: &Path, retention: Retention) -> Options {
    Options::new()
        .segment_size(2048)
        .checkpoint(CheckpointPolicy::manual())
        .wal_retention(retention)
        .archive_to(archive)
}

fn write(engine: &Engine, from: i64, to: i64, checkpoint_every: i64) {
    for i in from..to {
        let row = Row::from([
            ("id".to_owned(), Value::Int(i % 37)),
            ("n".to_owned(), Value::Int(i)),
            ("pad".to_owned(), Value::from("x".repeat(40))),
        ]);
        let op = if i % 11 == 0 {
            Op::Delete {
                table: "t".into(),
                key: Value::Int(i % 37),
            }
        } else {
            Op::Upsert {
                table: "t".into(),
                row,
            }
        };
        // A delete of a missing key is refused; that is part of the history too.
        let _ = engine.commit(vec![op]);
        if checkpoint_every > 0 && i % checkpoint_every == 0 {
            engine.checkpoint().unwrap();
        }
    }
}

fn segments_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn a_restore_from_the_archive_equals_the_database_at_its_last_sealed_lsn() {
    for (retention, checkpoint_every) in [
        (Retention::remove(), 97),
        (Retention::archive_all(), 131),
        (Retention::remove(), 0),
    ] {
        let root = tempfile::tempdir().unwrap();
        let (db_dir, archive) = (root.path().join("db"), root.path().join("archive"));
        let (engine, _) = Engine::open(&db_dir, options(&archive, retention.clone())).unwrap();
        engine
            .commit(vec![Op::CreateTable(TableDef::new("t", "id"))])
            .unwrap();
        write(&engine, 1, 600, checkpoint_every);
        let report = engine.archive_now().unwrap();
        let sealed = report.restorable_to.unwrap();
        assert!(sealed > Lsn(100), "{report:?}");
        if checkpoint_every > 0 {
            // Segments left the log (removed or moved to its own archive), yet every sealed
            // one is in the continuous archive, from the first.
            let live = segments_in(&db_dir.join("wal"));
            let archived = segments_in(&archive.join("wal"));
            assert!(archived.len() > live.len(), "{archived:?} vs {live:?}");
            assert_eq!(archived[0], tabula_wal::segment_name(Lsn(1)));
            assert!(!segments_in(&archive.join("snapshots")).is_empty());
        }

        let restored_dir = root.path().join("restored");
        let (lsn, _) = restore_archive(&archive, &restored_dir, Options::new()).unwrap();
        assert_eq!(lsn, sealed);
        let (restored, _) = Engine::open(&restored_dir, Options::new()).unwrap();
        assert_eq!(restored.read(), engine.as_of(sealed).unwrap());
        // The restored database goes on from there.
        restored
            .commit(vec![Op::DropTable { table: "t".into() }])
            .unwrap();
        drop(restored);

        // Not into a directory that holds anything.
        assert!(matches!(
            restore_archive(&archive, &restored_dir, Options::new()),
            Err(Error::NotEmpty { .. })
        ));
    }
}

#[test]
fn a_restore_refuses_an_archive_with_a_gap_or_nothing() {
    let root = tempfile::tempdir().unwrap();
    let (db_dir, archive) = (root.path().join("db"), root.path().join("archive"));
    let (engine, _) = Engine::open(&db_dir, options(&archive, Retention::remove())).unwrap();
    engine
        .commit(vec![Op::CreateTable(TableDef::new("t", "id"))])
        .unwrap();
    write(&engine, 1, 300, 0);
    engine.archive_now().unwrap();
    drop(engine);

    let empty = root.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert!(matches!(
        restore_archive(&empty, root.path().join("r1"), Options::new()),
        Err(Error::EmptyArchive { .. })
    ));

    // No snapshot, and the log's first segment gone: nothing can rebuild LSN 1.
    let first = archive.join("wal").join(tabula_wal::segment_name(Lsn(1)));
    std::fs::remove_file(first).unwrap();
    assert!(matches!(
        restore_archive(&archive, root.path().join("r2"), Options::new()),
        Err(Error::LogGap { needed: Lsn(1), .. })
    ));
}

/// The background worker's jobs are named, and a job that fails (here: archiving into a path
/// that is a file) is retried at every tick and reported by `stats` until it succeeds.
#[test]
fn a_failing_background_job_is_reported_by_name() {
    let root = tempfile::tempdir().unwrap();
    let blocked = root.path().join("not-a-directory");
    std::fs::write(&blocked, b"a file where the archive should be").unwrap();
    let options = Options::new()
        .checkpoint(CheckpointPolicy::manual())
        .segment_size(4096)
        .archive_to(&blocked);
    let (engine, _) = Engine::open(root.path().join("db"), options).unwrap();
    engine
        .commit(vec![Op::CreateTable(TableDef::new("t", "id"))])
        .unwrap();
    let started = std::time::Instant::now();
    let reported = loop {
        let errors = engine.stats().unwrap().background_errors;
        if let Some(error) = errors.into_iter().find(|e| e.starts_with("Archive: ")) {
            break error;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "the failing archive job was never reported"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(reported.contains("not-a-directory"), "{reported}");
}

/// Issue 25: `restore_archive` brought only the newest snapshot and the log after it, so a
/// point before that snapshot could not be restored from the archive even though the archive
/// held it. Now the whole archive comes along: every point it holds is reachable.
#[test]
fn a_restore_from_the_archive_reaches_every_point_the_archive_holds() {
    let root = tempfile::tempdir().unwrap();
    let (db_dir, archive) = (root.path().join("db"), root.path().join("archive"));
    // The database keeps its own history too, to compare with.
    let (engine, _) = Engine::open(&db_dir, options(&archive, Retention::archive_all())).unwrap();
    engine
        .commit(vec![Op::CreateTable(TableDef::new("t", "id"))])
        .unwrap();
    write(&engine, 1, 600, 97);
    let sealed = engine.archive_now().unwrap().restorable_to.unwrap();
    let restored_dir = root.path().join("restored");
    restore_archive(&archive, &restored_dir, Options::new()).unwrap();
    let (restored, _) = Engine::open(&restored_dir, Options::new()).unwrap();
    // Before the first checkpoint, between checkpoints, at the end.
    for lsn in [1, 50, 150, 420, sealed.0] {
        assert_eq!(
            restored.as_of(Lsn(lsn)).unwrap(),
            engine.as_of(Lsn(lsn)).unwrap(),
            "LSN {lsn}"
        );
    }
}

/// Issue 25: the archive was never pruned. `Options::archive_retention` removes old snapshots
/// (the newest always stays) and the segments before the oldest one left, and they are not
/// copied again; what is left still restores.
#[test]
fn the_archive_keeps_what_its_retention_says_and_still_restores() {
    let root = tempfile::tempdir().unwrap();
    let (db_dir, archive) = (root.path().join("db"), root.path().join("archive"));
    let options = options(&archive, Retention::archive_all())
        .archive_retention(tabula_snapshot::SnapshotRetention::keep(2));
    let (engine, _) = Engine::open(&db_dir, options).unwrap();
    engine
        .commit(vec![Op::CreateTable(TableDef::new("t", "id"))])
        .unwrap();
    write(&engine, 1, 800, 97);
    let report = engine.archive_now().unwrap();
    let sealed = report.restorable_to.unwrap();
    let snapshots = segments_in(&archive.join("snapshots"));
    assert_eq!(snapshots.len(), 2, "{snapshots:?}");
    let archived = segments_in(&archive.join("wal"));
    assert_ne!(
        archived[0],
        tabula_wal::segment_name(Lsn(1)),
        "{archived:?}"
    );
    // Another pass copies nothing back.
    let again = engine.archive_now().unwrap();
    assert_eq!((again.segments, again.snapshots), (0, 0), "{again:?}");
    assert_eq!(segments_in(&archive.join("wal")), archived);

    let restored_dir = root.path().join("restored");
    let (lsn, _) = restore_archive(&archive, &restored_dir, Options::new()).unwrap();
    assert_eq!(lsn, sealed);
    let (restored, _) = Engine::open(&restored_dir, Options::new()).unwrap();
    assert_eq!(restored.read(), engine.as_of(sealed).unwrap());
}
