//! Exports: the per-table directory and the one-table documents load back to equal data; the
//! seed's own files load; bad files are typed errors.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

mod common;

use proptest::prelude::*;
use tabula_core::{ColumnType, Limits, Value};
use tabula_snapshot::{
    Error, export_directory, export_table_json, export_table_jsonl, import_directory,
    import_table_json, import_table_jsonl,
};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn a_directory_export_loads_back_to_an_equal_database(db in common::database()) {
        let temp = tempfile::tempdir().unwrap();
        export_directory(&db, temp.path()).unwrap();
        let back = import_directory(temp.path(), &Limits::default()).unwrap();
        prop_assert!(back == db);
        for table in db.tables() {
            let records = std::fs::read_to_string(temp.path().join(format!("data/{}.records", table.name()))).unwrap();
            prop_assert_eq!(records.lines().count(), table.len(), "one row per line");
        }
    }

    #[test]
    fn one_table_documents_round_trip(db in common::database()) {
        for table in db.tables() {
            let json = export_table_json(table, Vec::new()).unwrap();
            let back = import_table_json(json.as_slice(), "id", &Limits::default()).unwrap();
            prop_assert!(&back == table);
            let lines = export_table_jsonl(table, Vec::new()).unwrap();
            let back = import_table_jsonl(lines.as_slice(), table.def().clone(), table.next_auto_increment(), &Limits::default()).unwrap();
            prop_assert!(&back == table);
        }
    }
}

#[test]
fn the_seeds_own_files_load() {
    let temp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(temp.path().join("schema")).unwrap();
    std::fs::create_dir_all(temp.path().join("data")).unwrap();
    std::fs::write(
        temp.path().join("schema/student.schema.json"),
        r#"{
  "table_name": "student",
  "schema": {
    "id": {"type": "int", "primary_key": true, "nullable": true, "unique": false},
    "name": {"type": "str", "primary_key": false, "nullable": false, "unique": false},
    "email": {"type": "str", "primary_key": false, "nullable": true, "unique": true},
    "gpa": {"type": "float", "primary_key": false, "nullable": true, "unique": false}
  },
  "created_at": "2026-01-22T20:31:17.592172"
}"#,
    )
    .unwrap();
    std::fs::write(
        temp.path().join("data/student.records"),
        "{\"name\": \"Alice Johnson\", \"email\": \"alice@university.edu\", \"gpa\": 3.8, \"id\": 1}\n\
         {\"name\": \"Bob Smith\", \"email\": \"bob@university.edu\", \"gpa\": 3.5, \"id\": 2}\n",
    )
    .unwrap();
    let db = import_directory(temp.path(), &Limits::default()).unwrap();
    let students = db.table("student").unwrap();
    assert_eq!(students.len(), 2);
    let schema = students.def().schema.as_ref().unwrap();
    assert_eq!(schema.column("name").unwrap().ty, ColumnType::Text);
    assert!(!schema.column("name").unwrap().nullable);
    assert!(schema.column("email").unwrap().unique);
    assert_eq!(
        students.get(&Value::Int(2)).unwrap().get("gpa").unwrap(),
        Value::Float(3.5)
    );

    // A duplicate email breaks the unique column: a typed error naming the table and file.
    std::fs::write(
        temp.path().join("data/student.records"),
        "{\"id\": 1, \"name\": \"A\", \"email\": \"same\"}\n{\"id\": 2, \"name\": \"B\", \"email\": \"same\"}\n",
    )
    .unwrap();
    let error = import_directory(temp.path(), &Limits::default()).unwrap_err();
    assert!(
        matches!(&error, Error::Invalid { table, path: Some(_), .. } if table == "student"),
        "{error}"
    );

    // A broken line is named.
    std::fs::write(
        temp.path().join("data/student.records"),
        "{\"id\": 1, \"name\": \"A\"}\n{oops\n",
    )
    .unwrap();
    let error = import_directory(temp.path(), &Limits::default()).unwrap_err();
    assert!(error.to_string().contains("line 2"), "{error}");
}

#[test]
fn the_seeds_table_export_loads_and_its_count_is_checked() {
    let seed = r#"{
  "table": "student",
  "records": [
    {"id": 1, "name": "Alice"},
    {"id": 2, "name": "Bob"}
  ],
  "count": 2,
  "exported_at": "2026-01-22T20:31:17.594614"
}"#;
    let table = import_table_json(seed.as_bytes(), "id", &Limits::default()).unwrap();
    assert_eq!((table.name(), table.len()), ("student", 2));
    let wrong = seed.replace("\"count\": 2", "\"count\": 3");
    let error = import_table_json(wrong.as_bytes(), "id", &Limits::default()).unwrap_err();
    assert!(error.to_string().contains("count"), "{error}");
}

/// Issue 25, finding 6: an export killed or out of space before the end left a directory that
/// loaded with tables empty or missing. tabula writes the manifest last and lists each table's
/// rows in it: without it, or with a table short, the load refuses.
#[test]
fn an_unfinished_or_short_export_is_refused() {
    use tabula_core::{Lsn, Op, Row, State, TableDef, Timestamp, Transaction};
    let mut db = State::new();
    let mut tx =
        Transaction::new(Lsn(1), Timestamp::EPOCH).with(Op::CreateTable(TableDef::new("t", "id")));
    for i in 0..5 {
        tx = tx.with(Op::Insert {
            table: "t".into(),
            row: Row::from([("id".to_owned(), Value::Int(i))]),
        });
    }
    db.apply(&tx).unwrap();
    let temp = tempfile::tempdir().unwrap();
    export_directory(&db, temp.path()).unwrap();
    assert!(import_directory(temp.path(), &Limits::default()).unwrap() == db);

    // A data file cut short (the export ran out of space while writing it).
    let data = temp.path().join("data/t.records");
    let full = std::fs::read_to_string(&data).unwrap();
    let short: String = full.lines().take(3).map(|l| format!("{l}\n")).collect();
    std::fs::write(&data, short).unwrap();
    let err = import_directory(temp.path(), &Limits::default()).unwrap_err();
    assert!(err.to_string().contains("should have 5 rows"), "{err}");
    std::fs::write(&data, full).unwrap();

    // No manifest: the export was killed before its last step.
    std::fs::remove_file(temp.path().join("manifest.json")).unwrap();
    let err = import_directory(temp.path(), &Limits::default()).unwrap_err();
    assert!(err.to_string().contains("did not finish"), "{err}");

    // Killed before its first table: no schema, no manifest (found by the reliability suite's
    // killed exports; it loaded as an empty database).
    std::fs::remove_file(temp.path().join("schema/t.schema.json")).unwrap();
    std::fs::remove_file(&data).unwrap();
    let err = import_directory(temp.path(), &Limits::default()).unwrap_err();
    assert!(err.to_string().contains("did not finish"), "{err}");
}
