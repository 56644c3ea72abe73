//! Random databases survive a snapshot in every codec and compression: the loaded database is
//! equal (rows, definitions, auto-increment counters, LSN) and its indexes answer queries with the
//! same rows as before, through the index.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

mod common;

use proptest::prelude::*;
use tabula_codec::Format;
use tabula_core::{Filter, Plan, Query, State};
use tabula_snapshot::{Compression, LoadOptions, SnapshotOptions, read_snapshot, write_snapshot};

fn assert_same_answers(before: &State, after: &State) {
    for table in before.tables() {
        let name = table.name();
        for filter in [
            Filter::eq("score", 3.0),
            Filter::gt("score", 0.0),
            Filter::lt("score", -10.0),
        ] {
            let query = Query::new().filter(filter);
            let a = before.query(name, &query).unwrap();
            let b = after.query(name, &query).unwrap();
            assert_eq!(a.rows, b.rows, "{name}");
            assert!(
                !matches!(b.plan, Plan::FullScan),
                "{name}: the index was not rebuilt: {:?}",
                b.plan
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn every_codec_and_compression_round_trips_a_database(db in common::database(), chunk in 64usize..4096) {
        for format in Format::ALL {
            for compression in Compression::ALL {
                let options = SnapshotOptions::new().format(format).compression(compression).chunk_size(chunk);
                let (summary, bytes) = write_snapshot(&db, Vec::new(), &options).unwrap();
                prop_assert_eq!(summary.bytes, bytes.len() as u64);
                let loaded = read_snapshot(bytes.as_slice(), &LoadOptions::default()).unwrap();
                prop_assert!(loaded.database == db, "{format} {compression:?}: the database differs");
                prop_assert_eq!(loaded.summary, summary);
                assert_same_answers(&db, &loaded.database);
            }
        }
    }
}

#[test]
fn an_empty_database_round_trips() {
    let db = State::new();
    let (_, bytes) = write_snapshot(&db, Vec::new(), &SnapshotOptions::default()).unwrap();
    let loaded = read_snapshot(bytes.as_slice(), &LoadOptions::default()).unwrap();
    assert!(loaded.database == db);
    assert_eq!((loaded.summary.tables, loaded.summary.rows), (0, 0));
}

#[test]
fn the_generator_makes_interesting_databases() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut tables, mut rows, mut typed) = (0, 0, 0);
    for _ in 0..50 {
        let db = common::database().new_tree(&mut runner).unwrap().current();
        for table in db.tables() {
            tables += 1;
            rows += table.len();
            typed += usize::from(table.def().schema.is_some());
        }
    }
    assert!(
        tables > 40 && rows > 400 && typed > 10,
        "{tables} tables, {rows} rows, {typed} typed"
    );
}
