//! Read-only opens (issue 25, finding 2: reads wrote, and no second process could read a live
//! database): beside a live writer that checkpoints, every view is a committed prefix; a read
//! writes nothing, a torn tail included; writes are refused.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tabula_core::{Op, Row, TableDef, Value};
use tabula_engine::{CheckpointPolicy, Engine, Error, Options, ReadView};

fn options() -> Options {
    Options::new()
        .checkpoint(CheckpointPolicy::manual())
        .segment_size(16 << 10)
}

fn insert(i: i64) -> Op {
    Op::Insert {
        table: "t".into(),
        row: Row::from([
            ("id".to_owned(), Value::Int(i)),
            (
                "pad".to_owned(),
                Value::from("some bytes to fill the segments"),
            ),
        ]),
    }
}

/// Transaction `lsn` (after the table's creation at LSN 1) inserted row `lsn - 2`: a view at LSN
/// `lsn` is a committed prefix exactly when it holds rows `0..lsn - 1`, no more, no fewer.
fn assert_prefix(view: &ReadView) {
    let lsn = view.lsn().0;
    let Some(table) = view.table("t") else {
        assert!(lsn <= 1, "LSN {lsn} without the table");
        return;
    };
    let rows = lsn.saturating_sub(1);
    assert_eq!(table.len() as u64, rows, "the view at LSN {lsn}");
    for (i, (key, _)) in table.iter().enumerate() {
        assert_eq!(key, Value::Int(i as i64), "the view at LSN {lsn}");
    }
}

#[test]
fn beside_a_live_writer_every_view_is_a_committed_prefix() {
    let temp = tempfile::tempdir().unwrap();
    let (writer, _) = Engine::open(temp.path(), options()).unwrap();
    writer
        .commit(vec![Op::CreateTable(TableDef::new("t", "id"))])
        .unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let writing = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            for i in 0..3_000i64 {
                writer.commit(vec![insert(i)]).unwrap();
                if i % 200 == 199 {
                    // Checkpoints remove the segments they cover under the readers.
                    writer.checkpoint().unwrap();
                }
            }
            done.store(true, Ordering::SeqCst);
            writer.close().unwrap();
        })
    };
    let (follower, _) = Engine::open_read_only(temp.path(), options()).unwrap();
    let mut opens = 0;
    let mut last = 0;
    while !done.load(Ordering::SeqCst) || opens < 20 {
        let (reader, _) = Engine::open_read_only(temp.path(), options()).unwrap();
        assert_prefix(&reader.read());
        opens += 1;
        let lsn = follower.refresh().unwrap().0;
        assert!(lsn >= last, "a refresh went back from {last} to {lsn}");
        last = lsn;
        assert_prefix(&follower.read());
    }
    writing.join().unwrap();
    assert_eq!(follower.refresh().unwrap().0, 3_001);
    assert_prefix(&follower.read());
}

fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in walk(dir) {
        let bytes = std::fs::read(&entry).unwrap();
        out.push((entry.display().to_string(), bytes));
    }
    out.sort();
    out
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn a_read_only_open_writes_nothing_and_refuses_writes() {
    let temp = tempfile::tempdir().unwrap();
    let (engine, _) = Engine::open(temp.path(), options()).unwrap();
    engine
        .commit(vec![Op::CreateTable(TableDef::new("t", "id"))])
        .unwrap();
    for i in 0..10 {
        engine.commit(vec![insert(i)]).unwrap();
    }
    engine.close().unwrap();
    // A torn tail: the unfinished end of a write.
    let mut segments: Vec<_> = std::fs::read_dir(temp.path().join("wal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    segments.sort();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(segments.last().unwrap())
        .unwrap();
    f.write_all(&[9, 0, 0, 0, 1, 2]).unwrap();
    drop(f);
    let before = contents(temp.path());

    let (reader, _) = Engine::open_read_only(temp.path(), options()).unwrap();
    assert_prefix(&reader.read());
    assert_eq!(reader.read().lsn().0, 11);
    let refused = reader.commit(vec![insert(99)]).unwrap_err();
    assert!(matches!(refused, Error::ReadOnly { .. }), "{refused}");
    let refused = reader
        .transaction(|tx| tx.push(insert(98)))
        .map(|_| ())
        .unwrap_err();
    assert!(matches!(refused, Error::ReadOnly { .. }), "{refused}");
    reader.close().unwrap();
    assert_eq!(contents(temp.path()), before, "a read-only open wrote");

    // Beside it, a writer opens as usual (no lock is held by readers).
    let (reader, _) = Engine::open_read_only(temp.path(), options()).unwrap();
    let (writer, _) = Engine::open(temp.path(), options()).unwrap();
    writer.commit(vec![insert(10)]).unwrap();
    assert_eq!(reader.refresh().unwrap().0, 12);
    assert_prefix(&reader.read());
    writer.close().unwrap();
}

/// History on a read-only open (issue 25: `log`, `history`, `--at` took the lock, so they
/// failed beside a writer and on read-only storage): it reads the archived and live log without
/// a lock, up to the LSN the open verified, and `refresh` moves that on.
#[test]
fn a_read_only_open_reads_history_up_to_what_it_verified() {
    let temp = tempfile::tempdir().unwrap();
    let (writer, _) = Engine::open(temp.path(), options()).unwrap();
    writer
        .commit(vec![Op::CreateTable(TableDef::new("t", "id"))])
        .unwrap();
    for i in 0..300 {
        writer.commit(vec![insert(i)]).unwrap();
        if i == 100 {
            writer.checkpoint().unwrap();
        }
    }
    let (reader, _) = Engine::open_read_only(temp.path(), options()).unwrap();
    for lsn in [1, 50, 150, 301] {
        assert_prefix(&reader.as_of(tabula_core::Lsn(lsn)).unwrap());
    }
    let logged = |engine: &Engine| {
        engine
            .log(tabula_engine::LogFilter::new())
            .unwrap()
            .map(|tx| tx.unwrap().lsn.0)
            .collect::<Vec<_>>()
    };
    assert_eq!(logged(&reader), (1..=301).collect::<Vec<_>>());
    assert_eq!(reader.history("t", &Value::Int(7)).unwrap().len(), 1);
    // The writer goes on: the reader's history stops where its view does, until refreshed.
    writer.commit(vec![insert(300)]).unwrap();
    assert_eq!(logged(&reader).last(), Some(&301));
    assert!(matches!(
        reader.as_of(tabula_core::Lsn(302)),
        Err(Error::NotCommitted { .. })
    ));
    assert_eq!(reader.refresh().unwrap().0, 302);
    assert_eq!(logged(&reader).last(), Some(&302));
    assert_prefix(&reader.as_of(tabula_core::Lsn(302)).unwrap());
    writer.close().unwrap();
}
