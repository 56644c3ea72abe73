//! The snapshot directory: a crash at every step of a write leaves the old snapshot set or the
//! new one; a damaged newest snapshot is reported and the previous one loads; retention.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tabula_core::{Lsn, Op, Row, State, TableDef, Timestamp, Transaction, Value};
use tabula_snapshot::{Error, LoadOptions, SnapshotOptions, SnapshotRetention, SnapshotStore};
use tabula_storage::{Fault, SimStorage, Tear};

const DIR: &str = "/db/snapshots";

fn database(lsn: u64, rows: i64) -> State {
    let mut db = State::new();
    let mut tx = Transaction::new(Lsn(lsn), Timestamp::from_micros(0));
    tx.ops.push(Op::CreateTable(TableDef::new("t", "id")));
    for i in 0..rows {
        let mut row = Row::new();
        row.insert("id".to_owned(), Value::Int(i));
        row.insert("v".to_owned(), Value::Text("x".repeat(50)));
        tx.ops.push(Op::Insert {
            table: "t".to_owned(),
            row,
        });
    }
    db.apply_owned(tx).unwrap();
    db
}

fn store(storage: &SimStorage) -> SnapshotStore {
    SnapshotStore::open_on(Arc::new(storage.clone()), DIR).unwrap()
}

fn options() -> SnapshotOptions {
    SnapshotOptions::new().chunk_size(512)
}

#[test]
fn a_crash_at_every_step_of_a_write_leaves_the_old_set_or_the_new_one() {
    let old = database(10, 20);
    let new = database(20, 40);
    let setup = SimStorage::new();
    let snapshots = store(&setup);
    snapshots.write(&old, &options()).unwrap();
    let ops_before = setup.ops();
    snapshots.write(&new, &options()).unwrap();
    let total = setup.ops() - ops_before;
    assert!(total >= 4, "create, append, sync, rename, directory sync");

    for crash_at in 0..=total {
        for tear in [
            Tear::DropUnsynced,
            Tear::KeepAll,
            Tear::Torn { seed: crash_at },
        ] {
            let storage = SimStorage::new();
            let snapshots = store(&storage);
            snapshots.write(&old, &options()).unwrap();
            storage.inject(storage.ops() + crash_at, Fault::Crash, true);
            let result = snapshots.write(&new, &options());
            let image = storage.crash(tear);
            let newest = store(&image)
                .load_newest(&LoadOptions::default())
                .unwrap_or_else(|e| panic!("crash at step {crash_at}, {tear:?}: {e}"))
                .expect("a snapshot");
            let loaded = newest.loaded.database;
            assert!(
                newest.skipped.is_empty(),
                "crash at step {crash_at}, {tear:?}: {:?}",
                newest.skipped
            );
            if result.is_ok() && tear != Tear::KeepAll {
                assert!(
                    loaded == new,
                    "crash at step {crash_at}: a finished write was lost"
                );
            } else {
                assert!(
                    loaded == old || loaded == new,
                    "crash at step {crash_at}, {tear:?}"
                );
            }
            // A leftover temporary file is never listed and is cleaned up.
            let listed = store(&image).list().unwrap();
            assert!(
                listed
                    .iter()
                    .all(|f| f.path.extension().is_some_and(|e| e == "tsnap"))
            );
            store(&image).remove_temp_files().unwrap();
            assert!(
                image
                    .files_in(Path::new(DIR))
                    .iter()
                    .all(|n| n.ends_with(".tsnap"))
            );
        }
    }
}

#[test]
fn a_damaged_newest_snapshot_is_reported_and_the_previous_one_loads() {
    let storage = SimStorage::new();
    let snapshots = store(&storage);
    snapshots.write(&database(1, 5), &options()).unwrap();
    let (newest, _) = snapshots.write(&database(2, 6), &options()).unwrap();
    let mut bytes = storage.read_file(&newest.path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x20;
    storage.write_file(&newest.path, &bytes);

    let loaded = snapshots
        .load_newest(&LoadOptions::default())
        .unwrap()
        .unwrap();
    assert_eq!(loaded.file.lsn, Lsn(1));
    assert!(loaded.loaded.database == database(1, 5));
    assert_eq!(loaded.skipped.len(), 1);
    assert_eq!(loaded.skipped[0].0, newest.path);
    assert!(
        loaded.skipped[0].1.contains("corrupted"),
        "{}",
        loaded.skipped[0].1
    );

    let error = snapshots.load(Lsn(2), &LoadOptions::default()).unwrap_err();
    assert!(
        matches!(&error, Error::Corrupted { path: Some(p), .. } if *p == newest.path),
        "{error}"
    );
    assert!(matches!(
        snapshots.load(Lsn(3), &LoadOptions::default()),
        Err(Error::NotFound { lsn: Lsn(3) })
    ));

    // Only damaged snapshots: a typed error listing each.
    storage.write_file(&loaded.file.path, b"not a snapshot");
    let error = snapshots.load_newest(&LoadOptions::default()).unwrap_err();
    assert!(
        matches!(&error, Error::NoValidSnapshot { failures } if failures.len() == 2),
        "{error}"
    );
    assert!(
        SnapshotStore::open_on(Arc::new(SimStorage::new()), DIR)
            .unwrap()
            .load_newest(&LoadOptions::default())
            .unwrap()
            .is_none()
    );
}

#[test]
fn retention_keeps_the_newest_by_count_and_age() {
    let storage = SimStorage::new();
    let snapshots = store(&storage)
        .with_retention(SnapshotRetention::keep(2).max_age(Duration::from_secs(3600)));
    for lsn in 1..=5 {
        snapshots.write(&database(lsn, 3), &options()).unwrap();
    }
    let lsns: Vec<Lsn> = snapshots.list().unwrap().iter().map(|f| f.lsn).collect();
    assert_eq!(lsns, [Lsn(4), Lsn(5)]);
    // A day later only the newest stays, however old.
    let removed = snapshots
        .apply_retention_at(SystemTime::now() + Duration::from_secs(86_400))
        .unwrap();
    assert_eq!(removed.len(), 1);
    let lsns: Vec<Lsn> = snapshots.list().unwrap().iter().map(|f| f.lsn).collect();
    assert_eq!(lsns, [Lsn(5)]);
}

#[test]
fn real_files_are_private_and_round_trip() {
    let temp = tempfile::tempdir().unwrap();
    let snapshots = SnapshotStore::open(temp.path().join("snapshots")).unwrap();
    let db = database(3, 100);
    let (file, summary) = snapshots.write(&db, &SnapshotOptions::default()).unwrap();
    assert_eq!(summary.rows, 100);
    assert_eq!(std::fs::metadata(&file.path).unwrap().len(), summary.bytes);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&file.path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let loaded = snapshots.load(Lsn(3), &LoadOptions::default()).unwrap();
    assert!(loaded.database == db);
}
