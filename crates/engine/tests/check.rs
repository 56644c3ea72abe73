//! `check` and `repair`: every snapshot and log record is read (archived segments included), damage
//! is classified as opening would classify it and located by file and offset, nothing is changed
//! by a check, and a repair removes a torn tail only.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use tabula_core::{Lsn, Op, Row, TableDef, Value};
use tabula_engine::{
    CheckpointPolicy, DamageKind, Engine, Error, Evidence, Options, ProblemKind, Retention, check,
    repair, salvage,
};

fn options() -> Options {
    Options::new()
        .segment_size(2048)
        .checkpoint(CheckpointPolicy::manual())
        .wal_retention(Retention::archive_all())
}

/// A database of 200 commits with two checkpoints, so it has archived segments, live segments
/// and two snapshots.
fn build(dir: &Path) {
    let (engine, _) = Engine::open(dir, options()).unwrap();
    engine
        .commit(vec![Op::CreateTable(TableDef::new("t", "id"))])
        .unwrap();
    for i in 0..200 {
        let row = Row::from([
            ("id".to_owned(), Value::Int(i % 50)),
            ("pad".to_owned(), Value::from("x".repeat(40))),
        ]);
        engine
            .commit(vec![Op::Upsert {
                table: "t".into(),
                row,
            }])
            .unwrap();
        if i == 80 || i == 150 {
            engine.checkpoint().unwrap();
        }
    }
    engine.close().unwrap();
}

fn files(dir: &Path, sub: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join(sub))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "log" || e == "tsnap"))
        .collect();
    files.sort();
    files
}

fn contents(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut all = BTreeMap::new();
    for lock in [dir.join("LOCK"), dir.join("wal/LOCK")] {
        all.insert(lock.clone(), std::fs::read(&lock).unwrap());
    }
    for sub in ["wal", "wal/archive", "snapshots"] {
        for f in files(dir, sub) {
            all.insert(f.clone(), std::fs::read(&f).unwrap());
        }
    }
    all
}

#[test]
fn a_healthy_database_is_read_whole_archive_included() {
    let tmp = tempfile::tempdir().unwrap();
    build(tmp.path());
    let report = check(tmp.path(), &options()).unwrap();
    assert!(report.is_healthy(), "{:?}", report.problems);
    assert!(report.wal.archived_segments > 0, "{:?}", report.wal);
    assert!(report.wal.segments > 0);
    assert_eq!(report.snapshots.len(), 2);
    // Every record from the first: the archive keeps the whole log.
    assert_eq!(report.wal.first_lsn, Lsn(1));
    assert_eq!(report.wal.records, 201);
    assert_eq!(report.last_lsn, Lsn(201));
    let (engine, _) = Engine::open(tmp.path(), options()).unwrap();
    assert_eq!(engine.read().lsn(), report.last_lsn);
}

#[test]
fn a_torn_tail_is_reported_without_change_and_repaired_on_request() {
    let tmp = tempfile::tempdir().unwrap();
    build(tmp.path());
    let last = files(tmp.path(), "wal").pop().unwrap();
    let good = std::fs::metadata(&last).unwrap().len();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&last)
        .unwrap();
    f.write_all(&[9, 0, 0, 0, 1, 2, 3]).unwrap();
    drop(f);
    let before = contents(tmp.path());
    let report = check(tmp.path(), &options()).unwrap();
    assert_eq!(contents(tmp.path()), before, "a check changes nothing");
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    let torn = &report.problems[0];
    assert_eq!(torn.kind, ProblemKind::TornTail);
    assert_eq!(torn.file, last);
    assert_eq!(torn.offset, Some(good));
    assert_eq!(torn.bytes, 7);
    assert!(
        matches!(
            torn.damage,
            Some(DamageKind::Truncated {
                what: "frame header",
                available: 7,
                ..
            })
        ),
        "{torn:?}"
    );
    assert!(report.is_repairable());
    assert_eq!(report.last_lsn, Lsn(201), "the tail held no record");

    let recovery = repair(tmp.path(), options(), &report).unwrap();
    assert_eq!(recovery.wal.bytes_truncated(), 7);
    assert_eq!(std::fs::metadata(&last).unwrap().len(), good);
    assert!(check(tmp.path(), &options()).unwrap().is_healthy());
}

#[test]
fn damage_in_an_archived_segment_is_corruption_at_its_offset() {
    let tmp = tempfile::tempdir().unwrap();
    build(tmp.path());
    let archived = files(tmp.path(), "wal/archive");
    let victim = &archived[archived.len() / 2];
    let mut bytes = std::fs::read(victim).unwrap();
    let at = bytes.len() - 10;
    bytes[at] ^= 0x55;
    std::fs::write(victim, &bytes).unwrap();
    let report = check(tmp.path(), &options()).unwrap();
    assert!(!report.is_repairable());
    let problem = report
        .problems
        .iter()
        .find(|p| &p.file == victim)
        .unwrap_or_else(|| panic!("{:?}", report.problems));
    assert_eq!(
        problem.kind,
        ProblemKind::DamagedArchive,
        "{:?}",
        report.problems
    );
    assert_eq!(
        report.problems.len(),
        1,
        "one fault, one problem: {:?}",
        report.problems
    );
    let offset = problem.offset.unwrap();
    assert!(offset < at as u64 && offset > 0, "{offset} vs {at}");
    assert!(
        matches!(problem.damage, Some(DamageKind::Checksum { what: "frame", stored, computed }) if stored != computed),
        "{problem:?}"
    );
    // Opening does not read the archive, so it still opens: only a check finds this damage.
    assert!(Engine::open(tmp.path(), options()).is_ok());
}

#[test]
fn a_damaged_snapshot_and_damaged_live_log_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    build(tmp.path());
    let snapshots = files(tmp.path(), "snapshots");
    let newest = snapshots.last().unwrap();
    let mut bytes = std::fs::read(newest).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(newest, &bytes).unwrap();
    let report = check(tmp.path(), &options()).unwrap();
    let kinds: Vec<ProblemKind> = report.problems.iter().map(|p| p.kind).collect();
    assert_eq!(
        kinds,
        [ProblemKind::DamagedSnapshot],
        "{:?}",
        report.problems
    );
    assert_eq!(&report.problems[0].file, newest);
    assert!(
        matches!(
            report.problems[0].damage,
            Some(DamageKind::Checksum { what: "chunk", .. })
        ),
        "{:?}",
        report.problems
    );
    // The older snapshot and the archived log still reach the end.
    assert_eq!(report.last_lsn, Lsn(201));

    // A flipped byte early in the first live segment: the later segment proves it was sealed.
    let first_live = files(tmp.path(), "wal").into_iter().next().unwrap();
    let mut bytes = std::fs::read(&first_live).unwrap();
    bytes[40] ^= 0x01;
    std::fs::write(&first_live, &bytes).unwrap();
    let report = check(tmp.path(), &options()).unwrap();
    let corruption = report
        .problems
        .iter()
        .find(|p| p.kind == ProblemKind::Corruption)
        .unwrap_or_else(|| panic!("{:?}", report.problems));
    assert_eq!(corruption.file, first_live);
    assert!(
        matches!(
            corruption.damage,
            Some(DamageKind::Checksum { what: "frame", .. })
        ),
        "{corruption:?}"
    );
    assert!(!report.is_repairable());
    match repair(tmp.path(), options(), &report) {
        Err(Error::Wal(tabula_wal::Error::Corrupted {
            kind: DamageKind::Checksum { .. },
            evidence: Some(Evidence::LaterSegment),
            ..
        })) => {}
        other => panic!("repair must refuse corruption, saying why: {other:?}"),
    }
    assert_eq!(std::fs::read(&first_live).unwrap(), bytes);
}

#[test]
fn a_held_database_and_a_missing_one_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let (engine, _) = Engine::open(tmp.path(), options()).unwrap();
    match check(tmp.path(), &options()) {
        Err(Error::AlreadyOpen { holder, .. }) => {
            assert_eq!(holder, format!("held by process {}", std::process::id()));
        }
        other => panic!("{other:?}"),
    }
    engine.close().unwrap();
    assert!(check(tmp.path(), &options()).unwrap().is_healthy());
    assert!(matches!(
        check(tmp.path().join("missing"), &options()),
        Err(Error::Io { .. })
    ));
    assert!(!tmp.path().join("missing").exists());
}

/// Issue 25: `check --fix` let go of the directory between the check it showed and the repair,
/// so a writer that opened in between changed what the repair then did. The repair now checks
/// again under the lock it keeps and does nothing if the database changed.
#[test]
fn a_repair_refuses_a_database_that_changed_since_its_check() {
    let tmp = tempfile::tempdir().unwrap();
    build(tmp.path());
    let last = files(tmp.path(), "wal").pop().unwrap();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&last)
        .unwrap();
    f.write_all(&[9, 0, 0, 0, 1, 2, 3]).unwrap();
    drop(f);
    let seen = check(tmp.path(), &options()).unwrap();
    assert!(seen.is_repairable());
    // Another process opens between the check and the repair, and commits.
    let (engine, _) = Engine::open(tmp.path(), options()).unwrap();
    engine
        .commit(vec![Op::CreateTable(TableDef::new("late", "id"))])
        .unwrap();
    engine.close().unwrap();
    let before = contents(tmp.path());
    for result in [
        repair(tmp.path(), options(), &seen).map(|_| ()),
        salvage(tmp.path(), options(), &seen).map(|_| ()),
    ] {
        assert!(
            matches!(result, Err(Error::ChangedSinceCheck { .. })),
            "{result:?}"
        );
    }
    assert_eq!(
        contents(tmp.path()),
        before,
        "a refused repair changed something"
    );
}
