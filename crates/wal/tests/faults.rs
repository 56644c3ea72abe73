//! I/O faults: a failed fsync poisons the log (nothing more is acknowledged, no retry); a full disk
//! is a typed error that leaves every acknowledged record readable and recoverable once space is
//! freed; and an I/O error injected at every operation in turn, once or for good, never leads to
//! an acknowledged record that reopening does not find.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

mod common;

use common::{assert_prefix, open, payload, quiet, read_all};
use tabula_wal::{Error, Fault, Lsn, Retention, SimStorage, SyncPolicy, Tear, Wal, WalOptions};

fn options() -> WalOptions {
    quiet()
        .sync(SyncPolicy::Always)
        .segment_size(300)
        .retention(Retention::archive_all())
}

#[test]
fn after_a_failed_fsync_nothing_more_is_acknowledged() {
    let storage = SimStorage::new();
    let (wal, _) = open(&storage, options()).unwrap();
    for i in 1..=3 {
        wal.commit(&payload(1, i)).unwrap();
    }
    storage.fail_next_sync();
    let error = wal.commit(&payload(1, 4)).unwrap_err();
    assert!(
        matches!(&error, Error::Poisoned { cause } if matches!(**cause, Error::SyncFailed { .. })),
        "{error}"
    );
    // No retry, even though the storage would now sync fine.
    for i in 5..8 {
        assert!(matches!(
            wal.commit(&payload(1, i)),
            Err(Error::Poisoned { .. })
        ));
        assert!(matches!(
            wal.append(&payload(1, i)),
            Err(Error::Poisoned { .. })
        ));
    }
    assert!(matches!(wal.sync(), Err(Error::Poisoned { .. })));
    assert!(matches!(
        wal.wait_durable(Lsn(3)),
        Err(Error::Poisoned { .. })
    ));
    assert_eq!(wal.durable_lsn(), Lsn(3));
    drop(wal);
    // Reopening recovers: the three acknowledged records, and perhaps the unacknowledged fourth
    // (it was written before the fsync failed).
    let (wal, _) = open(&storage.crash(Tear::DropUnsynced), options()).unwrap();
    let records = read_all(&wal).unwrap();
    assert_prefix(&records, 1, Lsn(3), "after the failed fsync");
    assert!(records.len() <= 4);
}

#[test]
fn waiting_committers_get_the_poison_too() {
    let storage = SimStorage::new();
    let (wal, _) = open(&storage, options()).unwrap();
    let a = wal.append(b"a").unwrap();
    let b = wal.append(b"b").unwrap();
    storage.fail_next_sync();
    assert!(wal.wait_durable(a).is_err());
    let error = wal.wait_durable(b).unwrap_err();
    assert!(error.is_poisoned(), "{error}");
}

#[test]
fn a_full_disk_is_a_typed_error_and_the_log_recovers_once_space_is_freed() {
    let storage = SimStorage::new();
    storage.set_capacity(Some(2_000));
    let (wal, _) = open(&storage, options()).unwrap();
    let mut acknowledged = Lsn::ZERO;
    let error = loop {
        match wal.commit(&payload(2, acknowledged.0 + 1)) {
            Ok(lsn) => acknowledged = lsn,
            Err(error) => break error,
        }
    };
    assert!(error.is_no_space(), "{error}");
    assert!(acknowledged.0 > 5, "the disk filled too early");
    assert!(wal.commit(b"more").unwrap_err().is_no_space());
    // Still readable while poisoned: every acknowledged record is there.
    assert_prefix(
        &read_all(&wal).unwrap(),
        2,
        acknowledged,
        "while the disk is full",
    );
    drop(wal);

    storage.set_capacity(None);
    let (wal, _) = open(&storage, options()).unwrap();
    let records = read_all(&wal).unwrap();
    assert_prefix(&records, 2, acknowledged, "after space was freed");
    let next = wal.commit(&payload(2, records.len() as u64 + 1)).unwrap();
    assert_eq!(next.0, records.len() as u64 + 1);
}

fn workload(wal: &Wal, seed: u64) -> Lsn {
    let mut acknowledged = Lsn::ZERO;
    for i in 1..=40 {
        let result = if i % 4 == 0 {
            wal.append(&payload(seed, i)).map(drop)
        } else if i % 13 == 0 {
            wal.truncate_before(Lsn(i / 2)).map(drop)
        } else {
            wal.commit(&payload(seed, i)).map(|lsn| acknowledged = lsn)
        };
        if result.is_err() {
            // A poisoned log acknowledges nothing more. (A failed rename in `truncate_before`
            // changed nothing and does not poison; the log goes on.)
            if wal.check_poison().is_err() {
                assert!(wal.commit(b"after").is_err());
            }
            break;
        }
    }
    acknowledged
}

#[test]
fn an_io_error_at_every_operation_never_loses_an_acknowledged_record() {
    let clean = SimStorage::new();
    let (wal, _) = open(&clean, options()).unwrap();
    workload(&wal, 3);
    drop(wal);
    let total = clean.ops();
    let mut runs = 0;
    for fault in [Fault::Io, Fault::NoSpace] {
        for persistent in [false, true] {
            for at in 0..total {
                let storage = SimStorage::new();
                storage.inject(at, fault, persistent);
                let acknowledged = match open(&storage, options()) {
                    Ok((wal, _)) => workload(&wal, 3),
                    Err(_) => Lsn::ZERO,
                };
                storage.heal();
                let context = format!("{fault:?} at op {at}, persistent {persistent}");
                for image in [storage.clone(), storage.crash(Tear::DropUnsynced)] {
                    let (wal, _) =
                        open(&image, options()).unwrap_or_else(|e| panic!("{context}: {e}"));
                    let records = read_all(&wal).unwrap_or_else(|e| panic!("{context}: {e}"));
                    // Records written after a failed (transient) fsync may survive unacknowledged;
                    // the prefix property and the acknowledged ones are what must hold.
                    let in_order = records
                        .iter()
                        .enumerate()
                        .all(|(i, r)| r.lsn == Lsn(i as u64 + 1));
                    assert!(in_order, "{context}");
                    assert!(
                        records.len() as u64 >= acknowledged.0,
                        "{context}: lost an acknowledged record"
                    );
                    runs += 1;
                }
            }
        }
    }
    assert!(runs > 400, "{runs}");
}
