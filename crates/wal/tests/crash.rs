//! Power-loss simulation: seeded workloads over the fault-injecting storage, crashed at every
//! mutating operation in turn, then recovered from what a restarted machine would see (only the
//! synced bytes; everything; or a torn image). With `SyncPolicy::Always`, every acknowledged record
//! must be there, the records must be an exact prefix of what was appended, and recovery must not
//! fail on any crash-only image.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

mod common;

use common::{Rng, assert_prefix, open, payload, quiet, read_all};
use tabula_wal::{Fault, Lsn, Retention, SimStorage, SyncPolicy, Tear, Wal, WalOptions};

fn options() -> WalOptions {
    // Tiny segments so that runs rotate, seal and archive often.
    quiet()
        .sync(SyncPolicy::Always)
        .segment_size(300)
        .retention(Retention::archive_all())
}

/// Runs the workload drawn from `seed` until it ends or the storage fails; returns the highest LSN
/// acknowledged as durable.
fn workload(wal: &Wal, seed: u64, steps: u64) -> Lsn {
    let mut rng = Rng::new(seed);
    let mut acknowledged = Lsn::ZERO;
    let mut next = wal.last_lsn().0 + 1;
    for _ in 0..steps {
        let result = match rng.below(10) {
            // A record appended but not waited for: it rides with the next commit's batch.
            0 | 1 => wal.append(&payload(seed, next)).map(|lsn| {
                assert_eq!(lsn, Lsn(next));
                next += 1;
            }),
            2 => wal.truncate_before(Lsn(rng.below(next + 1))).map(drop),
            _ => wal.commit(&payload(seed, next)).map(|lsn| {
                assert_eq!(lsn, Lsn(next));
                next += 1;
                acknowledged = lsn;
            }),
        };
        if result.is_err() {
            break;
        }
    }
    acknowledged
}

fn check_image(image: &SimStorage, seed: u64, acknowledged: Lsn, context: &str) {
    let (wal, report) =
        open(image, options()).unwrap_or_else(|e| panic!("{context}: recovery failed: {e}"));
    let records = read_all(&wal).unwrap_or_else(|e| panic!("{context}: read failed: {e}"));
    assert_prefix(&records, seed, acknowledged, context);
    assert_eq!(
        report.last_lsn.0,
        records.len() as u64,
        "{context}: report disagrees with the reader"
    );
    // The recovered log takes new records where the old ones end, and a second recovery finds
    // nothing to repair.
    let lsn = wal
        .commit(&payload(seed, records.len() as u64 + 1))
        .unwrap();
    assert_eq!(lsn.0, records.len() as u64 + 1, "{context}");
    drop(wal);
    let (wal, report) = open(image, options()).unwrap();
    assert_eq!(report.truncated, [], "{context}: second recovery truncated");
    assert_eq!(read_all(&wal).unwrap().len() as u64, lsn.0, "{context}");
}

#[test]
fn every_crash_point_of_seeded_workloads_recovers_an_exact_prefix_with_every_acknowledged_record() {
    let mut crash_points = 0;
    for seed in 1..=12u64 {
        let steps = 40;
        let clean = SimStorage::new();
        let (wal, _) = open(&clean, options()).unwrap();
        let acknowledged = workload(&wal, seed, steps);
        drop(wal);
        let total_ops = clean.ops();
        check_image(
            &clean,
            seed,
            acknowledged,
            &format!("seed {seed} without a crash"),
        );
        for crash_at in 0..total_ops {
            let storage = SimStorage::new();
            storage.inject(crash_at, Fault::Crash, true);
            let acknowledged = match open(&storage, options()) {
                Ok((wal, _)) => workload(&wal, seed, steps),
                Err(_) => Lsn::ZERO,
            };
            assert!(
                storage.crashed(),
                "seed {seed}: crash at op {crash_at} of {total_ops} never happened"
            );
            for tear in [
                Tear::DropUnsynced,
                Tear::KeepAll,
                Tear::Torn { seed: crash_at },
                Tear::Torn {
                    seed: crash_at + 1000,
                },
            ] {
                let context = format!("seed {seed}, crash at op {crash_at}, {tear:?}");
                check_image(&storage.crash(tear), seed, acknowledged, &context);
                crash_points += 1;
            }
        }
    }
    assert!(crash_points > 2000, "only {crash_points} crash points ran");
}

#[test]
fn concurrent_committers_crashed_at_random_points_keep_every_acknowledged_record() {
    use std::sync::Mutex;
    for seed in 0..30u64 {
        let storage = SimStorage::new();
        storage.inject(5 + seed * 3, Fault::Crash, true);
        let (wal, _) = open(&storage, options()).unwrap();
        let acknowledged = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for _ in 0..30 {
                        // Every payload says its own LSN, which a thread cannot know in advance.
                        let Ok(lsn) = wal.append_with(|lsn, out| {
                            out.extend_from_slice(&lsn.0.to_le_bytes());
                            Ok(())
                        }) else {
                            return;
                        };
                        if wal.commit_appended(lsn).is_err() {
                            return;
                        }
                        acknowledged.lock().unwrap().push(lsn);
                    }
                });
            }
        });
        drop(wal);
        let acknowledged = acknowledged.into_inner().unwrap();
        for tear in [Tear::DropUnsynced, Tear::Torn { seed }] {
            let (wal, _) = open(&storage.crash(tear), options()).unwrap();
            let records = read_all(&wal).unwrap();
            for (i, record) in records.iter().enumerate() {
                assert_eq!(record.lsn, Lsn(i as u64 + 1), "seed {seed}");
                assert_eq!(record.payload, record.lsn.0.to_le_bytes(), "seed {seed}");
            }
            for lsn in &acknowledged {
                assert!(
                    lsn.0 <= records.len() as u64,
                    "seed {seed}: acknowledged {lsn} lost"
                );
            }
        }
    }
}
