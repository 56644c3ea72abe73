//! Regression tests for the defects an independent review of the log found, each named after its
//! bug and explained in its first lines.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

mod common;

use std::path::PathBuf;

use common::{dir, open, quiet, read_all};
use tabula_wal::format::{FRAME_HEADER_LEN, SEGMENT_HEADER_LEN, SegmentHeader};
use tabula_wal::{Error, Fault, Lsn, SimStorage, Tear};

fn only_segment(storage: &SimStorage) -> PathBuf {
    let names: Vec<_> = storage
        .files_in(dir())
        .into_iter()
        .filter(|n| n.ends_with(".log"))
        .collect();
    assert_eq!(names.len(), 1);
    dir().join(&names[0])
}

/// Records 1..=k appended as one batch (their `synced` is 0), then synced, then record k+1
/// committed (its `synced` is k). Bit rot in record 1 is corruption, proven by record k+1. The
/// search for that proof restarted its LSN bound after each valid frame, so with small payloads
/// it never reached record k+1 and recovery truncated every acknowledged record as a torn tail.
fn synced_batch_then_bit_rot(k: u64, payload_len: usize) {
    let storage = SimStorage::new();
    let (wal, _) = open(&storage, quiet()).unwrap();
    for _ in 0..k {
        wal.append(&vec![7u8; payload_len]).unwrap();
    }
    wal.sync().unwrap();
    wal.commit(&vec![9u8; payload_len]).unwrap();
    wal.close().unwrap();
    let path = only_segment(&storage);
    let mut bytes = storage.read_file(&path).unwrap();
    bytes[SEGMENT_HEADER_LEN + 4] ^= 1;
    storage.write_file(&path, &bytes);
    match open(&storage, quiet()) {
        Err(Error::Corrupted { offset, .. }) => assert_eq!(offset, SEGMENT_HEADER_LEN as u64),
        Err(e) => panic!("k={k} len={payload_len}: unexpected error {e}"),
        Ok((_, report)) => panic!("k={k} len={payload_len}: synced records dropped: {report:?}"),
    }
}

#[test]
fn bit_rot_in_a_synced_batch_is_corruption_whatever_the_payload_size() {
    for len in [0usize, 1, 2, 4, 8, 16, 100] {
        for k in [1u64, 2, 5, 10, 20, 50, 100] {
            synced_batch_then_bit_rot(k, len);
        }
    }
}

/// A committed record larger than a `max_record_size` chosen later was read as damage and
/// truncated as a torn tail. The limit now applies to writes only.
#[test]
fn a_smaller_max_record_size_never_drops_records_already_written() {
    let storage = SimStorage::new();
    let (wal, _) = open(&storage, quiet()).unwrap();
    wal.commit(b"small").unwrap();
    wal.commit(&[1u8; 2000]).unwrap();
    wal.close().unwrap();
    let (wal, report) = open(&storage, quiet().max_record_size(1024)).unwrap();
    assert_eq!(report.truncated, []);
    assert_eq!(read_all(&wal).unwrap().len(), 2);
    assert!(matches!(
        wal.commit(&[1u8; 2000]),
        Err(Error::RecordTooLarge { .. })
    ));
}

/// The directory sync after a segment's rename failed and poisoned the log; reopening (without a
/// reboot) never synced the directory, so commits acknowledged into that segment vanished with
/// its name on power loss. Opening now syncs the log and archive directories.
#[test]
fn reopening_makes_the_names_it_found_durable() {
    let storage = SimStorage::new();
    let options = quiet().segment_size(100);
    let (wal, _) = open(&storage, options.clone()).unwrap();
    wal.commit(&[1u8; 90]).unwrap();
    // The next commit rotates: sync the old segment, create, write and sync the new one, rename
    // it, then sync the directory, which fails.
    storage.inject(storage.ops() + 5, Fault::Io, false);
    assert!(wal.commit(&[2u8; 10]).unwrap_err().is_poisoned());
    drop(wal);
    let (wal, _) = open(&storage, options.clone()).unwrap();
    let mut acknowledged = Lsn::ZERO;
    for i in 0..3u8 {
        acknowledged = wal.commit(&[i; 5]).unwrap();
    }
    std::mem::forget(wal);
    let (wal, _) = open(&storage.crash(Tear::DropUnsynced), options).unwrap();
    assert_eq!(
        read_all(&wal).unwrap().last().map(|r| r.lsn),
        Some(acknowledged)
    );
}

/// A panic inside `append_with`'s encoder left a partial frame in the shared buffer, written
/// ahead of the next commit's frame: the next record was unreadable and truncated on reopen.
#[test]
fn a_panicking_encoder_leaves_nothing_in_the_buffer() {
    let storage = SimStorage::new();
    let (wal, _) = open(&storage, quiet()).unwrap();
    wal.commit(b"one").unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wal.append_with(|_, out| {
            out.extend_from_slice(b"partial");
            panic!("encoder bug")
        })
    }));
    assert!(result.is_err());
    assert_eq!(wal.commit(b"two").unwrap(), Lsn(2));
    assert_eq!(read_all(&wal).unwrap().len(), 2);
    wal.close().unwrap();
    let (wal, report) = open(&storage, quiet()).unwrap();
    assert_eq!(report.truncated, []);
    assert_eq!(read_all(&wal).unwrap()[1].payload, b"two");
}

/// A hostile segment with a plausible frame header (claiming a long payload) every 24 bytes made
/// the search past damage quadratic: a 64 MiB segment would take about half an hour. The bytes a
/// search may checksum are now capped, and past the cap nothing is truncated on a guess.
#[test]
fn a_hostile_segment_is_refused_without_a_quadratic_search() {
    let storage = SimStorage::new();
    let size = 2 << 20;
    let mut bytes = SegmentHeader { first_lsn: Lsn(1) }.encode().to_vec();
    let len = (size / 2) as u32;
    while bytes.len() + FRAME_HEADER_LEN <= size {
        bytes.extend_from_slice(&len.to_le_bytes());
        bytes.extend_from_slice(&0u32.to_le_bytes());
        bytes.extend_from_slice(&1u64.to_le_bytes());
        bytes.extend_from_slice(&0u64.to_le_bytes());
    }
    storage.write_file(&dir().join("00000000000000000001.log"), &bytes);
    let error = open(&storage, quiet()).unwrap_err();
    assert!(
        matches!(
            &error,
            Error::Corrupted { offset, evidence: Some(tabula_wal::Evidence::Unsearchable), .. }
                if *offset == SEGMENT_HEADER_LEN as u64
        ),
        "{error}"
    );
}
