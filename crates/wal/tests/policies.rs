//! The loss window of each sync policy, shown by crashing the simulated storage: a power loss
//! keeps only what was synced, a process crash keeps what reached the OS.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

mod common;

use std::time::{Duration, Instant};

use common::{open, quiet, read_all};
use tabula_wal::{Lsn, SimStorage, SyncPolicy, Tear, WalOptions};

fn recovered(storage: &SimStorage, tear: Tear) -> u64 {
    let (wal, _) = open(&storage.crash(tear), quiet()).unwrap();
    read_all(&wal).unwrap().len() as u64
}

/// Runs `work` with a log under `options`, then crashes without closing it (the log is leaked, as
/// a killed process would leave it) and returns the storage.
fn crash_after(options: WalOptions, work: impl FnOnce(&tabula_wal::Wal)) -> SimStorage {
    let storage = SimStorage::new();
    let (wal, _) = open(&storage, options).unwrap();
    work(&wal);
    // A dying process runs no destructors; snapshot the storage before `drop` syncs it.
    let image = storage.fork();
    drop(wal);
    image
}

#[test]
fn always_loses_nothing_acknowledged_even_on_power_loss() {
    let storage = crash_after(quiet().sync(SyncPolicy::Always), |wal| {
        for _ in 0..5 {
            wal.commit(b"x").unwrap();
        }
    });
    assert_eq!(recovered(&storage, Tear::DropUnsynced), 5);
}

#[test]
fn every_second_loses_up_to_an_interval_on_power_loss_and_nothing_on_a_process_crash() {
    // Within the interval: the commits reached the OS but were not synced.
    let storage = crash_after(quiet().sync(SyncPolicy::EverySecond), |wal| {
        for _ in 0..5 {
            wal.commit(b"x").unwrap();
        }
        assert_eq!(wal.written_lsn(), Lsn(5));
        assert_eq!(wal.durable_lsn(), Lsn::ZERO);
    });
    assert_eq!(
        recovered(&storage, Tear::DropUnsynced),
        0,
        "power loss within the interval"
    );
    assert_eq!(recovered(&storage, Tear::KeepAll), 5, "process crash");

    // After the interval the background thread has synced them.
    let options = WalOptions::new()
        .sync(SyncPolicy::EverySecond)
        .sync_interval(Duration::from_millis(20));
    let storage = crash_after(options, |wal| {
        let lsn = wal.commit(b"x").unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while wal.durable_lsn() < lsn {
            assert!(Instant::now() < deadline, "the background sync never came");
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    assert_eq!(recovered(&storage, Tear::DropUnsynced), 1);
}

#[test]
fn never_leaves_syncing_to_the_os_and_close() {
    let storage = crash_after(quiet().sync(SyncPolicy::Never), |wal| {
        for _ in 0..5 {
            wal.commit(b"x").unwrap();
        }
    });
    assert_eq!(recovered(&storage, Tear::DropUnsynced), 0, "power loss");
    assert_eq!(recovered(&storage, Tear::KeepAll), 5, "process crash");

    let storage = SimStorage::new();
    let (wal, _) = open(&storage, quiet().sync(SyncPolicy::Never)).unwrap();
    wal.commit(b"x").unwrap();
    wal.close().unwrap();
    assert_eq!(recovered(&storage, Tear::DropUnsynced), 1, "close syncs");
}

#[test]
fn never_seals_each_segment_durably() {
    let storage = crash_after(quiet().sync(SyncPolicy::Never).segment_size(100), |wal| {
        for _ in 0..20 {
            wal.commit(&[7; 40]).unwrap();
        }
    });
    let survived = recovered(&storage, Tear::DropUnsynced);
    assert!(
        survived >= 15,
        "sealed segments are synced: {survived} of 20 survived"
    );
}

#[test]
fn an_appended_record_is_buffered_until_a_commit_flush_or_the_interval() {
    let storage = crash_after(quiet(), |wal| {
        wal.append(b"buffered").unwrap();
        assert_eq!(wal.written_lsn(), Lsn::ZERO);
    });
    assert_eq!(
        recovered(&storage, Tear::KeepAll),
        0,
        "still in the process"
    );

    let storage = crash_after(quiet(), |wal| {
        wal.append(b"buffered").unwrap();
        wal.flush().unwrap();
    });
    assert_eq!(recovered(&storage, Tear::KeepAll), 1);
    assert_eq!(recovered(&storage, Tear::DropUnsynced), 0);

    let options = WalOptions::new()
        .sync(SyncPolicy::Never)
        .sync_interval(Duration::from_millis(20));
    let storage = crash_after(options, |wal| {
        wal.append(b"buffered").unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while wal.written_lsn() < Lsn(1) {
            assert!(Instant::now() < deadline, "the background write never came");
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    assert_eq!(recovered(&storage, Tear::KeepAll), 1);
}
