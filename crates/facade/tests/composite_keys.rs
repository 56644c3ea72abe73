//! Issue 26: a key of several fields (several `#[tabula(primary_key)]`), as SQL's
//! `PRIMARY KEY (order_id, line)`: the key is the tuple of the fields, typed as `Record::Key`,
//! kept across reopen in every codec, in saved files and exports, and through history and
//! the typed feed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use serde::{Deserialize, Serialize};
use tabula::prelude::*;
use tabula::{Limits, SnapshotOptions, codec::Codec};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[tabula(table = "order_lines")]
struct OrderLine {
    #[tabula(primary_key)]
    order_id: u64,
    #[tabula(primary_key)]
    line: u32,
    sku: String,
    qty: i64,
}

fn line(order_id: u64, line: u32, qty: i64) -> OrderLine {
    OrderLine {
        order_id,
        line,
        sku: format!("SKU-{order_id}-{line}"),
        qty,
    }
}

fn fill(lines: &Table<OrderLine>) {
    let keys = lines
        .insert_all(&[line(7, 2, 1), line(7, 1, 3), line(10, 1, 5), line(8, 1, 2)])
        .unwrap();
    assert_eq!(keys, [(7, 2), (7, 1), (10, 1), (8, 1)]);
}

#[test]
fn a_key_of_several_fields_is_a_typed_tuple() {
    let db = Database::open_in_memory();
    let lines = db.table::<OrderLine>().unwrap();
    let def = OrderLine::definition();
    assert_eq!(def.key_parts, ["order_id", "line"]);
    fill(&lines);

    let key: (u64, u32) = lines.insert(&line(9, 1, 4)).unwrap();
    assert_eq!(key, (9, 1));
    assert_eq!(lines.get(key).unwrap().unwrap().qty, 4);
    assert_eq!(lines.get((7u64, 1u32)).unwrap().unwrap().qty, 3);
    assert_eq!(lines.get((7, 1)).unwrap().unwrap().qty, 3);
    assert_eq!(lines.get((7, 3)).unwrap(), None);
    // A key of the wrong shape is an error, not a row silently not found.
    let wrong = lines.get(7).unwrap_err();
    assert_eq!(wrong.kind(), ErrorKind::Invalid, "{wrong}");
    let wrong = lines.get(("seven", 1)).unwrap_err();
    assert_eq!(wrong.kind(), ErrorKind::Invalid, "{wrong}");

    // The same parts twice: a duplicate key.
    assert!(matches!(
        lines.insert(&line(7, 1, 9)).unwrap_err().kind(),
        ErrorKind::DuplicateKey
    ));
    // Update keeps the key; changing a part of it is refused.
    assert_eq!(lines.update((7, 1), |l| l.qty = 6).unwrap().unwrap().qty, 6);
    assert!(lines.update((7, 1), |l| l.line = 5).is_err());
    assert!(lines.replace(&line(8, 1, 1)).unwrap());
    assert!(lines.delete((10, 1)).unwrap());

    // Rows come in key order: the first part, then the next.
    let keys: Vec<(u64, u32)> = lines
        .all()
        .unwrap()
        .iter()
        .map(|l| (l.order_id, l.line))
        .collect();
    assert_eq!(keys, [(7, 1), (7, 2), (8, 1), (9, 1)]);
    // Filters on a part use the part's field.
    let seven = lines.filter(OrderLine::FIELDS.order_id.eq(7u64)).unwrap();
    assert_eq!(seven.len(), 2);
}

#[test]
fn the_key_survives_reopen_in_every_codec_saved_files_and_exports() {
    for format in [Format::Bincode, Format::MessagePack, Format::Json] {
        let dir = tempfile::tempdir().unwrap();
        let mut options = Options::default();
        options.wal_format = format;
        let mut snapshot = SnapshotOptions::default();
        snapshot.codec = Codec::new(format);
        let options = options.snapshot(snapshot);
        let db = Database::with_options(dir.path(), options.clone()).unwrap();
        fill(&db.table::<OrderLine>().unwrap());
        db.checkpoint().unwrap().expect("a checkpoint");
        db.table::<OrderLine>()
            .unwrap()
            .insert(&line(11, 1, 1))
            .unwrap();
        let saved = dir.path().join(format!("saved.{format:?}"));
        db.save(&saved, format).unwrap();
        let exported = dir.path().join("exported");
        db.export_directory(&exported).unwrap();
        db.close().unwrap();

        // From the snapshot and the log.
        let db = Database::with_options(dir.path(), options).unwrap();
        let lines = db.table::<OrderLine>().unwrap();
        assert_eq!(lines.get((11, 1)).unwrap().unwrap().qty, 1, "{format:?}");
        assert_eq!(lines.get((7, 1)).unwrap().unwrap().qty, 3, "{format:?}");
        // The key is still the table's: a duplicate is still refused.
        assert!(lines.insert(&line(7, 1, 0)).is_err(), "{format:?}");
        drop(lines);
        db.close().unwrap();

        // From the saved file and the exported directory.
        for source in [saved, exported] {
            let state = tabula::load_file(&source, &Limits::default())
                .unwrap_or_else(|e| panic!("{format:?} {}: {e}", source.display()));
            let db = Database::open_in_memory();
            db.import(&state).unwrap();
            let lines = db.table::<OrderLine>().unwrap();
            assert_eq!(lines.count(), 5, "{format:?} {}", source.display());
            assert_eq!(lines.get((8, 1)).unwrap().unwrap().qty, 2);
            assert!(lines.insert(&line(8, 1, 0)).is_err());
        }
    }
}

#[test]
fn history_and_the_feed_name_the_tuple() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path()).unwrap();
    let lines = db.table::<OrderLine>().unwrap();
    let mut feed = lines.subscribe(Start::Now).unwrap();
    lines.insert(&line(7, 1, 3)).unwrap();
    lines.update((7, 1), |l| l.qty = 4).unwrap();
    let versions = lines.history((7, 1)).unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[1].after.as_ref().unwrap().qty, 4);
    let inserted = feed.next().unwrap().unwrap();
    assert_eq!(
        inserted.key,
        Value::List(vec![Value::Int(7), Value::Int(1)])
    );
    assert_eq!(inserted.after.unwrap().qty, 3);
}
