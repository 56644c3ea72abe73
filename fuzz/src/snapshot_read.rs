//! Fuzz target `snapshot_read`: the snapshot reader on hostile bytes.
//!
//! The first byte picks the shape. Odd: the rest is read as a snapshot file as it is. Even: a
//! valid snapshot of a small database (in the codec and compression the byte picks) is damaged by
//! the rest of the input, read as (position, xor mask) pairs and an optional cut.
//!
//! Checks: reading never panics; it either fails with a typed error or returns a database whose
//! summary agrees with it; a damaged valid snapshot never loads as a different database, and a
//! database that loads writes and reads back to itself.

use tabula_codec::Format;
use tabula_core::{Lsn, Op, Row, State, TableDef, Timestamp, Transaction, Value};
use tabula_snapshot::{Compression, LoadOptions, SnapshotOptions, read_snapshot, write_snapshot};

fn reference() -> State {
    let mut db = State::new();
    let mut tx = Transaction::new(Lsn(3), Timestamp::from_micros(0));
    tx.ops.push(Op::CreateTable(
        TableDef::new("t", "id").unique_index("by_name", "name"),
    ));
    for i in 0..5 {
        let mut row = Row::new();
        row.insert("id".to_owned(), Value::Int(i));
        row.insert("name".to_owned(), Value::Text(format!("n{i}")));
        row.insert("list".to_owned(), Value::List(vec![Value::Float(0.5); 2]));
        tx.ops.push(Op::Insert {
            table: "t".to_owned(),
            row,
        });
    }
    db.apply_owned(tx).expect("the reference database");
    db
}

fn check_loaded(bytes: &[u8]) -> Option<State> {
    let loaded = read_snapshot(bytes, &LoadOptions::default()).ok()?;
    let db = loaded.database;
    let rows: usize = db.tables().map(|t| t.len()).sum();
    assert_eq!(loaded.summary.rows, rows as u64);
    assert_eq!(loaded.summary.tables, db.tables().count() as u64);
    assert_eq!(loaded.summary.lsn, db.lsn());
    // What loads writes back and reads back to itself.
    let options = SnapshotOptions::new().format(loaded.summary.format);
    let (_, again) = write_snapshot(&db, Vec::new(), &options).expect("a loaded database writes");
    let back = read_snapshot(again.as_slice(), &LoadOptions::default()).expect("and reads back");
    assert!(
        back.database == db,
        "a loaded database does not survive a second round trip"
    );
    Some(db)
}

/// The check behind the `snapshot_read` target.
pub fn check(data: &[u8]) {
    let Some((&shape, rest)) = data.split_first() else {
        return;
    };
    if shape % 2 == 1 {
        check_loaded(rest);
        return;
    }
    let format = Format::ALL[usize::from(shape / 2) % 3];
    let compression = Compression::ALL[usize::from(shape / 6) % 3];
    let db = reference();
    let options = SnapshotOptions::new()
        .format(format)
        .compression(compression)
        .chunk_size(32);
    let (_, mut bytes) = write_snapshot(&db, Vec::new(), &options).expect("the reference snapshot");
    let mut changed = false;
    let mut pairs = rest.chunks_exact(3);
    for pair in &mut pairs {
        let at = usize::from(u16::from_le_bytes([pair[0], pair[1]])) % bytes.len();
        if pair[2] != 0 {
            bytes[at] ^= pair[2];
            changed = true;
        }
    }
    if let [cut, ..] = pairs.remainder() {
        let keep = bytes.len().saturating_sub(usize::from(*cut) + 1);
        bytes.truncate(keep);
        changed = true;
    }
    if let Some(loaded) = check_loaded(&bytes) {
        assert!(
            !changed || loaded == db,
            "a damaged snapshot loaded as a different database"
        );
    } else {
        assert!(changed, "the undamaged reference snapshot did not load");
    }
}
