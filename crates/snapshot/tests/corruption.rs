//! Every truncation offset and every single-byte flip of a small snapshot, compressed or not, is
//! a typed error: never a silently different database, never a panic.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use tabula_codec::Format;
use tabula_core::{
    Column, ColumnType, Lsn, Op, Row, State, TableDef, Timestamp, Transaction, Value,
};
use tabula_snapshot::{
    Compression, Error, LoadOptions, SnapshotOptions, read_snapshot, write_snapshot,
};

fn small_database() -> State {
    let mut db = State::new();
    let mut tx = Transaction::new(Lsn(7), Timestamp::from_micros(0));
    tx.ops.push(Op::CreateTable(
        TableDef::new("people", "id")
            .column(Column::new("id", ColumnType::Int))
            .column(Column::new("name", ColumnType::Text).unique())
            .index("by_name", "name"),
    ));
    tx.ops.push(Op::CreateTable(TableDef::new("notes", "id")));
    for i in 0..6 {
        let mut row = Row::new();
        row.insert("id".to_owned(), Value::Int(i));
        row.insert("name".to_owned(), Value::Text(format!("person {i}")));
        tx.ops.push(Op::Insert {
            table: "people".to_owned(),
            row: row.clone(),
        });
        row.insert("blob".to_owned(), Value::Bytes(vec![i as u8; 5]));
        tx.ops.push(Op::Insert {
            table: "notes".to_owned(),
            row,
        });
    }
    db.apply_owned(tx).unwrap();
    db
}

fn typed(error: &Error) -> bool {
    matches!(
        error,
        Error::Corrupted { .. } | Error::Codec { .. } | Error::Invalid { .. }
    )
}

#[test]
fn every_truncation_and_every_flip_is_an_error() {
    let db = small_database();
    for format in Format::ALL {
        for compression in Compression::ALL {
            // Small chunks, so the file has several rows chunks per table.
            let options = SnapshotOptions::new()
                .format(format)
                .compression(compression)
                .chunk_size(40);
            let (_, bytes) = write_snapshot(&db, Vec::new(), &options).unwrap();
            let context = format!("{format} {compression:?}");
            assert!(
                read_snapshot(bytes.as_slice(), &LoadOptions::default())
                    .unwrap()
                    .database
                    == db
            );
            for cut in 0..bytes.len() {
                let error = read_snapshot(&bytes[..cut], &LoadOptions::default()).unwrap_err();
                assert!(typed(&error), "{context}: cut at {cut}: {error}");
            }
            for at in 0..bytes.len() {
                for mask in [0x01u8, 0x80, 0xff] {
                    let mut bad = bytes.clone();
                    bad[at] ^= mask;
                    match read_snapshot(bad.as_slice(), &LoadOptions::default()) {
                        Ok(loaded) => panic!(
                            "{context}: byte {at} ^ {mask:#x} loaded {}",
                            if loaded.database == db {
                                "the same database"
                            } else {
                                "a different database"
                            }
                        ),
                        Err(error) => assert!(typed(&error), "{context}: byte {at}: {error}"),
                    }
                }
            }
            let mut longer = bytes.clone();
            longer.push(0);
            assert!(matches!(
                read_snapshot(longer.as_slice(), &LoadOptions::default()),
                Err(Error::Corrupted { .. })
            ));
        }
    }
}

#[test]
fn errors_name_the_offset_of_the_damaged_chunk() {
    let db = small_database();
    let (_, bytes) = write_snapshot(
        &db,
        Vec::new(),
        &SnapshotOptions::new().compression(Compression::None),
    )
    .unwrap();
    // The first chunk starts right after the 40-byte header.
    let mut bad = bytes.clone();
    bad[40 + 16 + 2] ^= 1;
    let error = read_snapshot(bad.as_slice(), &LoadOptions::default()).unwrap_err();
    assert!(
        matches!(error, Error::Corrupted { offset: 40, .. }),
        "{error}"
    );
    let error = read_snapshot(&bytes[..10], &LoadOptions::default()).unwrap_err();
    assert!(
        matches!(error, Error::Corrupted { offset: 0, .. }),
        "{error}"
    );
}
