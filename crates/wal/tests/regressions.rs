//! Regressions the reliability suite (`crates/reliability`) found, each reduced to the log.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

mod common;

use common::{dir, open, payload, quiet};
use tabula_wal::{Lsn, Retention, SimStorage, Storage, segment_name};

/// Found by the crash sweep's reordered images: a crash in the middle of a checkpoint's removal
/// of covered segments, where the file system kept a later removal but not an earlier one, left
/// a gap between live segments that recovery refused, though the snapshot covers it.
#[test]
fn a_gap_below_the_first_needed_lsn_is_no_damage() {
    let storage = SimStorage::new();
    let options = || quiet().segment_size(200);
    let (wal, _) = open(&storage, options()).unwrap();
    for i in 1..=30 {
        wal.commit(&payload(3, i)).unwrap();
    }
    drop(wal);
    let mut segments = storage.files_in(dir());
    segments.retain(|name| name.ends_with(".log"));
    assert!(segments.len() >= 4, "{segments:?}");
    // Remove the second segment only, as a reordered crash can leave it.
    let second = dir().join(&segments[1]);
    let third_first = tabula_wal::parse_segment_name(&segments[2]).unwrap();
    storage.remove(&second).unwrap();
    storage.sync_dir(dir()).unwrap();

    // A caller whose snapshot covers the gap opens the log.
    let (wal, _) = open(&storage, options().first_lsn(third_first)).unwrap();
    assert_eq!(wal.last_lsn(), Lsn(30));
    drop(wal);
    // A caller that needs the missing records is refused, naming the segment.
    let error = open(&storage, options().first_lsn(Lsn(2))).unwrap_err();
    assert!(
        matches!(
            &error,
            tabula_wal::Error::Corrupted { kind: tabula_wal::DamageKind::Lsn { expected, found }, .. }
                if found > expected && *found == third_first.0
        ),
        "records are missing: {error}"
    );
    assert!(
        error.to_string().contains(&segment_name(third_first)),
        "{error}"
    );
}

/// Found by the crash sweep: a crash after the archive's directory sync but before the log's left
/// a segment both archived and live; archiving it again added a second archived copy, which
/// history reads refused as an overlap.
#[test]
fn archiving_a_segment_twice_keeps_one_copy() {
    let storage = SimStorage::new();
    let options = || {
        quiet()
            .segment_size(200)
            .retention(Retention::archive_all())
    };
    let (wal, _) = open(&storage, options()).unwrap();
    for i in 1..=30 {
        wal.commit(&payload(4, i)).unwrap();
    }
    let live = storage.files_in(dir());
    wal.truncate_before(Lsn(20)).unwrap();
    drop(wal);
    // Put the archived segments back, as the unsynced log directory would after a power loss.
    let archive = dir().join("archive");
    for name in storage.files_in(&archive) {
        let first = name.split('.').next().unwrap();
        let original = live.iter().find(|live| live.starts_with(first)).unwrap();
        let bytes = storage.read_file(&archive.join(&name)).unwrap();
        storage.write_file(&dir().join(original), &bytes);
    }
    let archived = storage.files_in(&archive).len();
    // Archived names carry the time in milliseconds: the second archiving's differs, so a
    // second copy would show as more files.
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(1);
    let clock = tabula_wal::WalClock::new(move || later);
    let (wal, _) = open(&storage, options().clock(clock)).unwrap();
    wal.truncate_before(Lsn(20)).unwrap();
    assert_eq!(storage.files_in(&archive).len(), archived);
    let records: Vec<_> = wal
        .read_from(Lsn(1))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(records.len(), 30);
}
