//! Fuzz target `json_sources`: the readers `tabula load` uses on JSON files it did not write,
//! DictDB's document and DeltaTraceDB's saved database, and the sniff that chooses between them.
//!
//! Checks: none of them panics on any bytes; the sniff is a pure function of its prefix; a
//! document either fails with a typed error or yields a database whose tables all hold rows that
//! their own definitions accept (so a load never makes a database that cannot be reopened), and
//! that writes and reads back to itself as DictDB's document.

use tabula_core::{Limits, State};
use tabula_snapshot::{
    looks_like_deltatrace, read_deltatrace_document, read_json_document, write_json_document,
};

fn round_trips(db: &State) {
    let bytes = write_json_document(db, Vec::new()).expect("a loaded database writes");
    let again = read_json_document(&bytes[..], &Limits::default()).expect("and reads back");
    for table in db.tables() {
        let other = again.table(table.name()).expect("every table survives");
        assert_eq!(other.len(), table.len(), "table {}", table.name());
        for (key, row) in table.iter() {
            assert_eq!(
                other.get(&key).map(tabula_core::RowRef::to_row),
                Some(row.to_row())
            );
        }
    }
}

/// One input through every JSON reader.
pub fn check(data: &[u8]) {
    let sniff = looks_like_deltatrace(data);
    assert_eq!(sniff, looks_like_deltatrace(data));
    let limits = Limits::default();
    if let Ok(db) = read_deltatrace_document(data, &limits) {
        round_trips(&db);
    }
    if let Ok(db) = read_json_document(data, &limits) {
        round_trips(&db);
    }
}
