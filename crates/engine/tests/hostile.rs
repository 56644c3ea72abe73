//! Bad input anywhere is a typed error and changes nothing: refused transactions (bad names,
//! oversize rows, schema violations), damaged snapshots (the previous one is used, and said so),
//! damaged logs (corruption named, or salvaged when asked).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use tabula_core::{Column, ColumnType, Limits, Lsn, Op, Row, TableDef, Value};
use tabula_engine::{CheckpointPolicy, Engine, Error, Options};
use tabula_wal::RecoveryMode;

fn options() -> Options {
    Options::new().checkpoint(CheckpointPolicy::manual())
}

fn row(id: i64, text: &str) -> Row {
    Row::from([
        ("id".to_owned(), Value::Int(id)),
        ("text".to_owned(), Value::from(text)),
    ])
}

#[test]
fn refused_transactions_change_nothing() {
    let limits = Limits {
        max_record_size: 1_000,
        ..Limits::default()
    };
    let engine = Engine::in_memory(options().limits(limits));
    engine
        .commit(vec![Op::CreateTable(
            TableDef::new("t", "id")
                .column(Column::new("id", ColumnType::Int))
                .column(Column::new("text", ColumnType::Text)),
        )])
        .unwrap();
    let before = engine.read();
    for ops in [
        vec![Op::CreateTable(TableDef::new("../escape", "id"))],
        vec![Op::Insert {
            table: "t".into(),
            row: row(1, &"x".repeat(5_000)),
        }],
        vec![Op::Insert {
            table: "t".into(),
            row: Row::from([("id".to_owned(), Value::from("not an int"))]),
        }],
        vec![
            Op::Insert {
                table: "t".into(),
                row: row(1, "a"),
            },
            Op::Insert {
                table: "t".into(),
                row: row(1, "b"),
            },
        ],
        vec![Op::Insert {
            table: "missing".into(),
            row: row(2, "a"),
        }],
    ] {
        let error = engine.commit(ops).unwrap_err();
        assert!(matches!(error, Error::Rejected(_)), "{error}");
        assert!(
            engine.read() == before,
            "a refused transaction changed the database"
        );
    }
}

#[test]
fn a_damaged_newest_snapshot_falls_back_and_a_damaged_log_is_named() {
    let temp = tempfile::tempdir().unwrap();
    let (engine, _) = Engine::open(temp.path(), options()).unwrap();
    engine
        .commit(vec![Op::CreateTable(TableDef::new("t", "id"))])
        .unwrap();
    engine
        .commit(vec![Op::Insert {
            table: "t".into(),
            row: row(1, "one"),
        }])
        .unwrap();
    let first = engine.checkpoint().unwrap().unwrap();
    engine
        .commit(vec![Op::Insert {
            table: "t".into(),
            row: row(2, "two"),
        }])
        .unwrap();
    let second = engine.checkpoint().unwrap().unwrap();
    engine
        .commit(vec![Op::Insert {
            table: "t".into(),
            row: row(3, "three"),
        }])
        .unwrap();
    let expected = engine.read();
    engine.close().unwrap();

    // The newest snapshot is garbage: the previous one loads, the log after it replays.
    std::fs::write(&second.path, b"tabulaSN garbage").unwrap();
    let (engine, report) = Engine::open(temp.path(), options()).unwrap();
    assert_eq!(
        report.snapshot.as_ref().map(|(lsn, _)| *lsn),
        Some(first.lsn)
    );
    assert_eq!(report.skipped_snapshots.len(), 1);
    assert_eq!(report.skipped_snapshots[0].0, second.path);
    // The log still holds everything after the first snapshot (its only segment is the active
    // one, which truncation never removes), so the database is whole.
    assert!(engine.read() == expected);
    assert_eq!(report.replayed, 2);
    drop(engine);

    // Issue 25, finding 9: with every snapshot damaged but the log whole from LSN 1 (its only
    // segment is the active one), open refused though `check` promised it would skip them. It
    // replays the log from the start instead, naming the snapshots it skipped.
    std::fs::write(&first.path, b"not a snapshot at all").unwrap();
    let (engine, report) = Engine::open(temp.path(), options()).unwrap();
    assert!(engine.read() == expected);
    assert_eq!(report.snapshot, None);
    assert_eq!(report.skipped_snapshots.len(), 2);
    assert_eq!(report.replayed, 4);
}

/// Every snapshot damaged and the log no longer reaching LSN 1 (checkpoints let its older
/// segments go, and none were archived): there is no base to replay onto, so open refuses,
/// naming each snapshot. (With the archive, the log still reaches LSN 1 and open replays it.)
#[test]
fn damaged_snapshots_and_a_log_without_its_start_refuse_to_open() {
    let temp = tempfile::tempdir().unwrap();
    let small = || {
        options()
            .segment_size(4096)
            .wal_retention(tabula_wal::Retention::remove())
    };
    let (engine, _) = Engine::open(temp.path(), small()).unwrap();
    engine
        .commit(vec![Op::CreateTable(TableDef::new("t", "id"))])
        .unwrap();
    for i in 0..200 {
        engine
            .commit(vec![Op::Insert {
                table: "t".into(),
                row: row(i, "a row long enough to fill a few small segments"),
            }])
            .unwrap();
    }
    let snapshot = engine.checkpoint().unwrap().unwrap();
    engine.close().unwrap();
    std::fs::write(&snapshot.path, b"not a snapshot at all").unwrap();
    let error = Engine::open(temp.path(), small()).unwrap_err();
    assert!(
        matches!(&error, Error::Snapshot(tabula_snapshot::Error::NoValidSnapshot { failures }) if failures.len() == 1),
        "{error}"
    );
}

#[test]
fn a_flipped_byte_in_the_log_is_named_or_salvaged() {
    let temp = tempfile::tempdir().unwrap();
    let (engine, _) = Engine::open(temp.path(), options()).unwrap();
    engine
        .commit(vec![Op::CreateTable(TableDef::new("t", "id"))])
        .unwrap();
    for i in 0..10 {
        engine
            .commit(vec![Op::Insert {
                table: "t".into(),
                row: row(i, "some text here"),
            }])
            .unwrap();
    }
    engine.close().unwrap();
    let segment = std::fs::read_dir(temp.path().join("wal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "log"))
        .unwrap();
    let mut bytes = std::fs::read(&segment).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x08;
    std::fs::write(&segment, &bytes).unwrap();

    let error = Engine::open(temp.path(), options()).unwrap_err();
    assert!(
        matches!(&error, Error::Wal(tabula_wal::Error::Corrupted { segment: s, .. }) if *s == segment),
        "{error}"
    );
    let (engine, report) =
        Engine::open(temp.path(), options().recovery(RecoveryMode::Salvage)).unwrap();
    assert_eq!(report.wal.lost.len(), 1, "{report:?}");
    let table_rows = engine.read().table("t").unwrap().len();
    assert_eq!(table_rows, 9, "one insert lost, the rest kept");
    assert!(engine.read().lsn() > Lsn(9));
}
