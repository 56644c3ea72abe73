//! The MANIFEST (issue 25, finding 5: nothing recorded where the log ends, so deleting
//! `wal/*.log` or the newest live segment opened an older state and `check` said "ok"; and the
//! log's codec was named nowhere). Also the version-1 directory fixtures, written before the
//! MANIFEST existed: they open, read equal, and upgrade; the one with a JSON log opens without
//! being told its codec.
//!
//! `fixtures/v1-bincode/` and `fixtures/v1-json/` are whole database directories (a snapshot,
//! live segments after it, an archived one) written by [`write_v1`]: segment and snapshot bytes
//! of format version 1, and no MANIFEST. To create a missing one, run with
//! `TABULA_BLESS_FIXTURES=1`; an existing fixture is never overwritten.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use std::path::{Path, PathBuf};

use tabula_core::{Lsn, Op, Row, TableDef, Value};
use tabula_engine::{
    CheckpointPolicy, Engine, Error, Format, MANIFEST_FILE, ManualClock, Options, ProblemKind,
    RecoveryMode, Retention, check, salvage,
};

const ROWS: i64 = 60;

fn options() -> Options {
    Options::new()
        .checkpoint(CheckpointPolicy::manual())
        .segment_size(1 << 10)
        .wal_retention(Retention::archive_all())
        .clock(ManualClock::new("2026-12-07T10:00:00Z".parse().unwrap()))
}

fn insert(i: i64) -> Op {
    Op::Insert {
        table: "t".into(),
        row: Row::from([
            ("id".to_owned(), Value::Int(i)),
            (
                "text".to_owned(),
                Value::from(format!("row {i} with some text")),
            ),
        ]),
    }
}

/// A database of `ROWS` rows: a checkpoint after the first third, the rest in live segments
/// after it, one commit each.
fn write_db(dir: &Path, options: Options) {
    let (engine, _) = Engine::open(dir, options).unwrap();
    engine
        .commit(vec![Op::CreateTable(TableDef::new("t", "id"))])
        .unwrap();
    for i in 0..ROWS {
        engine.commit(vec![insert(i)]).unwrap();
        if i == ROWS / 3 {
            engine.checkpoint().unwrap();
        }
    }
    engine.close().unwrap();
}

fn assert_all_rows(engine: &Engine) {
    let view = engine.read();
    let table = view.table("t").unwrap();
    assert_eq!(table.len() as i64, ROWS);
    for (i, (key, row)) in table.iter().enumerate() {
        assert_eq!(key, Value::Int(i as i64));
        assert_eq!(
            row.get("text"),
            Some(Value::from(format!("row {i} with some text")))
        );
    }
}

/// Segments of the live log, oldest first.
fn live_segments(dir: &Path) -> Vec<PathBuf> {
    let mut segments: Vec<PathBuf> = std::fs::read_dir(dir.join("wal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    segments.sort();
    segments
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn open_err(dir: &Path) -> Error {
    match Engine::open(dir, options()) {
        Ok(_) => panic!("{} opened", dir.display()),
        Err(e) => e,
    }
}

#[test]
fn deleting_every_log_file_is_refused_not_an_older_state() {
    let temp = tempfile::tempdir().unwrap();
    write_db(temp.path(), options());
    for segment in live_segments(temp.path()) {
        std::fs::remove_file(segment).unwrap();
    }
    let error = open_err(temp.path());
    assert!(matches!(error, Error::MissingSegments { .. }), "{error}");
    let report = check(temp.path(), &options()).unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.kind == ProblemKind::MissingSegments),
        "{:?}",
        report.problems
    );
    let error = Engine::open_read_only(temp.path(), options()).unwrap_err();
    assert!(matches!(error, Error::MissingSegments { .. }), "{error}");
    // Refusing changed nothing: the MANIFEST still lists them.
    let manifest = std::fs::read_to_string(temp.path().join(MANIFEST_FILE)).unwrap();
    assert!(!manifest.contains("live-segments \n"), "{manifest}");
}

#[test]
fn deleting_the_newest_live_segment_or_the_whole_log_is_refused() {
    let temp = tempfile::tempdir().unwrap();
    write_db(temp.path(), options());
    let segments = live_segments(temp.path());
    assert!(segments.len() > 2, "{segments:?}");
    let newest = segments.last().unwrap();
    let saved = std::fs::read(newest).unwrap();
    std::fs::remove_file(newest).unwrap();
    let error = open_err(temp.path());
    let Error::MissingSegments { first_lsns, .. } = &error else {
        panic!("{error}");
    };
    assert_eq!(first_lsns.len(), 1, "{error}");
    assert!(error.to_string().contains("missing"), "{error}");
    // Put back, it opens with every row.
    std::fs::write(newest, saved).unwrap();
    let (engine, _) = Engine::open(temp.path(), options()).unwrap();
    assert_all_rows(&engine);
    engine.close().unwrap();

    std::fs::remove_dir_all(temp.path().join("wal")).unwrap();
    let error = open_err(temp.path());
    assert!(matches!(error, Error::MissingSegments { .. }), "{error}");
}

#[test]
fn salvage_goes_on_without_missing_segments_and_records_the_new_shape() {
    let temp = tempfile::tempdir().unwrap();
    write_db(temp.path(), options());
    let newest = live_segments(temp.path()).pop().unwrap();
    std::fs::remove_file(newest).unwrap();
    let seen = check(temp.path(), &options()).unwrap();
    let report = salvage(temp.path(), options(), &seen).unwrap();
    assert_eq!(report.missing_segments.len(), 1, "{report:?}");
    let (engine, report) = Engine::open(temp.path(), options()).unwrap();
    assert!(report.missing_segments.is_empty());
    let rows = engine.read().table("t").unwrap().len() as i64;
    assert!(rows > ROWS / 3 && rows < ROWS, "{rows}");
    engine.close().unwrap();
}

#[test]
fn a_non_default_log_codec_opens_without_being_told() {
    let temp = tempfile::tempdir().unwrap();
    let mut json = options();
    json.wal_format = Format::Json;
    write_db(temp.path(), json);
    let manifest = std::fs::read_to_string(temp.path().join(MANIFEST_FILE)).unwrap();
    assert!(manifest.contains("wal-codec json\n"), "{manifest}");
    // Default options (bincode): the MANIFEST's codec wins, for every way of reading.
    let (engine, _) = Engine::open(temp.path(), options()).unwrap();
    assert_all_rows(&engine);
    engine.commit(vec![insert(ROWS)]).unwrap();
    engine.close().unwrap();
    let (engine, _) = Engine::open_read_only(temp.path(), options()).unwrap();
    assert_eq!(engine.read().table("t").unwrap().len() as i64, ROWS + 1);
    let report = check(temp.path(), &options()).unwrap();
    assert!(report.is_healthy(), "{:?}", report.problems);
    assert_eq!(report.log_codec, Format::Json);
    assert!(report.has_manifest);
}

#[test]
fn a_damaged_manifest_is_refused_and_deleting_it_opens_the_directory() {
    let temp = tempfile::tempdir().unwrap();
    write_db(temp.path(), options());
    let path = temp.path().join(MANIFEST_FILE);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[20] ^= 0x04;
    std::fs::write(&path, &bytes).unwrap();
    let error = open_err(temp.path());
    assert!(matches!(error, Error::Manifest { .. }), "{error}");
    let report = check(temp.path(), &options()).unwrap();
    assert_eq!(report.problems[0].kind, ProblemKind::DamagedManifest);
    std::fs::remove_file(&path).unwrap();
    let (engine, report) = Engine::open(temp.path(), options()).unwrap();
    assert!(report.manifest_created);
    assert_all_rows(&engine);
    engine.close().unwrap();
}

#[test]
fn recovery_mode_salvage_is_the_only_way_past_a_missing_segment() {
    let temp = tempfile::tempdir().unwrap();
    write_db(temp.path(), options());
    let newest = live_segments(temp.path()).pop().unwrap();
    std::fs::remove_file(newest).unwrap();
    let (engine, report) =
        Engine::open(temp.path(), options().recovery(RecoveryMode::Salvage)).unwrap();
    assert_eq!(report.missing_segments.len(), 1);
    engine.close().unwrap();
    // The new shape is recorded: a normal open now succeeds.
    let (engine, _) = Engine::open(temp.path(), options()).unwrap();
    engine.close().unwrap();
}

// ---- version-1 directories, without a MANIFEST ----

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The fixture directory `name`: the database [`write_db`] makes with `format` as the log's
/// codec, a checkpoint archiving the first segments, and no MANIFEST or lock files.
fn write_v1(dir: &Path, format: Format) {
    let mut options = options();
    options.wal_format = format;
    write_db(dir, options);
    for file in [MANIFEST_FILE, "LOCK", "wal/LOCK"] {
        std::fs::remove_file(dir.join(file)).unwrap();
    }
}

fn v1_fixture(name: &str, format: Format) -> PathBuf {
    let dir = fixture(name);
    if std::env::var_os("TABULA_BLESS_FIXTURES").is_some() && !dir.exists() {
        write_v1(&dir, format);
    }
    assert!(
        dir.join("wal").is_dir() && dir.join("snapshots").is_dir(),
        "the v1 fixture is missing: {}",
        dir.display()
    );
    assert!(!dir.join(MANIFEST_FILE).exists());
    dir
}

#[test]
fn version_1_directories_read_as_they_are_and_upgrade_when_opened_for_writing() {
    for (name, format) in [("v1-bincode", Format::Bincode), ("v1-json", Format::Json)] {
        let fixture = v1_fixture(name, format);
        let temp = tempfile::tempdir().unwrap();
        copy_dir(&fixture, temp.path());

        // Read as it is: nothing written, the codec told from the log.
        let report = check(temp.path(), &options()).unwrap();
        assert!(report.is_healthy(), "{name}: {:?}", report.problems);
        assert!(!report.has_manifest);
        assert_eq!(report.log_codec, format, "{name}");
        assert!(report.wal.archived_segments > 0, "{name}");
        let (engine, _) = Engine::open_read_only(temp.path(), options()).unwrap();
        assert_all_rows(&engine);
        drop(engine);
        assert!(!temp.path().join(MANIFEST_FILE).exists());

        // Opened for writing with default options: upgraded, the codec recorded.
        let (engine, report) = Engine::open(temp.path(), options()).unwrap();
        assert!(report.manifest_created, "{name}");
        assert!(report.snapshot.is_some());
        assert_all_rows(&engine);
        engine.commit(vec![insert(ROWS)]).unwrap();
        engine.close().unwrap();
        let manifest = std::fs::read_to_string(temp.path().join(MANIFEST_FILE)).unwrap();
        assert!(
            manifest.contains(&format!("wal-codec {}\n", format.name())),
            "{name}: {manifest}"
        );
        let (engine, report) = Engine::open(temp.path(), options()).unwrap();
        assert!(!report.manifest_created);
        assert_eq!(engine.read().lsn(), Lsn(ROWS as u64 + 2));
        engine.close().unwrap();
        // And from now on a deleted segment is noticed.
        std::fs::remove_file(live_segments(temp.path()).pop().unwrap()).unwrap();
        assert!(matches!(
            open_err(temp.path()),
            Error::MissingSegments { .. }
        ));
    }
}

/// Salvage skips a missing segment as it skips damaged records (the commits in it are lost,
/// and listed); but when no segment, live or archived, reaches back to the first record after
/// the snapshot, nothing can be replayed: `check` says so instead of suggesting salvage, and a
/// salvage open refuses.
#[test]
fn salvage_goes_past_a_missing_segment_unless_nothing_reaches_the_snapshot() {
    for (index, retention, salvageable) in [
        (1, Retention::archive_all(), true),
        (0, Retention::archive_all(), true),
        (0, Retention::remove(), false),
    ] {
        let temp = tempfile::tempdir().unwrap();
        write_db(temp.path(), options().wal_retention(retention));
        let segments = live_segments(temp.path());
        assert!(segments.len() > 2);
        std::fs::remove_file(&segments[index]).unwrap();
        let report = check(temp.path(), &options()).unwrap();
        let missing = report
            .problems
            .iter()
            .find(|p| p.kind == ProblemKind::MissingSegments)
            .unwrap();
        assert_eq!(
            missing.consequence.contains("--salvage"),
            salvageable,
            "segment {index}: {}",
            missing.consequence
        );
        let opened = Engine::open(temp.path(), options().recovery(RecoveryMode::Salvage));
        match opened {
            Ok((engine, report)) => {
                assert!(salvageable, "segment {index} opened");
                assert_eq!(report.missing_segments.len(), 1);
                engine.close().unwrap();
            }
            Err(e) => assert!(!salvageable, "segment {index}: {e}"),
        }
    }
}
