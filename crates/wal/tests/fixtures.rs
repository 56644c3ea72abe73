//! Checked-in logs of every segment format version keep opening forever, and today's writer still
//! produces them byte for byte.
//!
//! `fixtures/v1/wal/` holds a version-1 log of 20 records over several segments, written by
//! [`write_reference`]. To create the fixtures of a new format version, run with
//! `TABULA_BLESS_FIXTURES=1`; an existing fixture directory is never overwritten.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

mod common;

use std::path::{Path, PathBuf};

use common::payload;
use tabula_wal::{Lsn, SyncPolicy, Wal, WalOptions};

const SEED: u64 = 42;
const RECORDS: u64 = 20;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1/wal")
}

fn write_reference(dir: &Path) {
    let options = WalOptions::new().sync(SyncPolicy::Always).segment_size(400);
    let (wal, _) = Wal::open(dir, options).unwrap();
    for i in 1..=RECORDS {
        assert_eq!(wal.commit(&payload(SEED, i)).unwrap(), Lsn(i));
    }
    wal.close().unwrap();
}

fn segment_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "log"))
        .map(|path| {
            (
                path.file_name().unwrap().to_str().unwrap().to_owned(),
                std::fs::read(&path).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn version_1_logs_open_and_read_back() {
    let fixtures = fixture_dir();
    if std::env::var_os("TABULA_BLESS_FIXTURES").is_some() && !fixtures.exists() {
        std::fs::create_dir_all(&fixtures).unwrap();
        write_reference(&fixtures);
        std::fs::remove_file(fixtures.join("LOCK")).unwrap();
    }
    let checked_in = segment_files(&fixtures);
    assert!(
        checked_in.len() > 2,
        "the v1 fixture is missing: {}",
        fixtures.display()
    );

    // Open a copy: recovery must find nothing to repair, and every record is there.
    let temp = tempfile::tempdir().unwrap();
    for (name, bytes) in &checked_in {
        std::fs::write(temp.path().join(name), bytes).unwrap();
    }
    let (wal, report) = Wal::open(temp.path(), WalOptions::default()).unwrap();
    assert_eq!(report.truncated, []);
    assert_eq!(report.last_lsn, Lsn(RECORDS));
    let records: Vec<_> = wal
        .read_from(Lsn(1))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(records.len() as u64, RECORDS);
    for record in &records {
        assert_eq!(record.payload, payload(SEED, record.lsn.0));
    }

    // Today's writer produces the same bytes.
    let fresh = tempfile::tempdir().unwrap();
    write_reference(fresh.path());
    assert_eq!(
        segment_files(fresh.path()),
        checked_in,
        "the v1 segment bytes changed"
    );
}
