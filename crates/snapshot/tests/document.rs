//! The whole-database JSON document: DictDB's own files load as they are, random databases round
//! trip, DictDB loads what tabula writes, and bad documents are typed errors.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

mod common;

use std::path::Path;

use proptest::prelude::*;
use tabula_core::{ColumnType, Limits, Lsn, State, Value};
use tabula_snapshot::{Error, read_json_document, write_json_document};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/dictdb")
            .join(name),
    )
    .unwrap()
}

#[test]
fn a_file_saved_by_dictdb_loads_as_it_is() {
    // Written by dctdb 1.11.0's `db.save(path, "json")`: a schemaless table, a typed one with
    // every DictDB type name, an empty one.
    let db =
        read_json_document(fixture("dictdb-1.11.json").as_slice(), &Limits::default()).unwrap();
    assert_eq!(db.lsn(), Lsn::ZERO);
    let users = db.table("users").unwrap();
    assert_eq!(users.len(), 2);
    assert!(users.def().schema.is_none());
    let alice = users.get(&Value::Int(1)).unwrap();
    assert_eq!(alice.get("name").unwrap(), Value::Text("Alice".to_owned()));
    assert_eq!(
        alice.get("address").unwrap(),
        Value::Map([("city".to_owned(), Value::Text("Paris".to_owned()))].into())
    );
    assert_eq!(
        users.get(&Value::Int(2)).unwrap().get("note").unwrap(),
        Value::Null
    );

    let players = db.table("players").unwrap();
    let schema = players.def().schema.as_ref().unwrap();
    let types: Vec<(&str, ColumnType)> = schema
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.ty))
        .collect();
    assert_eq!(
        types,
        [
            ("id", ColumnType::Int),
            ("name", ColumnType::Text),
            ("score", ColumnType::Float),
            ("active", ColumnType::Bool),
            ("items", ColumnType::List),
            ("meta", ColumnType::Map),
        ]
    );
    assert_eq!(
        players.get(&Value::Int(10)).unwrap().get("name").unwrap(),
        Value::Text("Zoé 🦀".to_owned())
    );
    assert_eq!(
        players.get(&Value::Int(11)).unwrap().get("score").unwrap(),
        Value::Float(0.0)
    );
    assert!(db.table("empty").unwrap().is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_databases_round_trip_through_the_document(db in common::database()) {
        let bytes = write_json_document(&db, Vec::new()).unwrap();
        let back = read_json_document(bytes.as_slice(), &Limits::default()).unwrap();
        prop_assert!(back == db, "{}", String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn dictdb_loads_what_tabula_writes() {
    // Runs DictDB itself when it is installed (CI installs it: `pip install dctdb`); set
    // TABULA_REQUIRE_DICTDB=1 to make its absence a failure.
    let probe = std::process::Command::new("python3")
        .args(["-c", "import dictdb"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        assert!(
            std::env::var_os("TABULA_REQUIRE_DICTDB").is_none(),
            "dictdb is not installed"
        );
        eprintln!("dictdb is not installed; skipping the check against DictDB itself");
        return;
    }
    let db =
        read_json_document(fixture("dictdb-1.11.json").as_slice(), &Limits::default()).unwrap();
    let temp = tempfile::tempdir().unwrap();
    let path = temp.path().join("from-tabula.json");
    std::fs::write(&path, write_json_document(&db, Vec::new()).unwrap()).unwrap();
    let script = r#"
import sys, logging
from dictdb import DictDB
db = DictDB.load(sys.argv[1], "json")
users = db.get_table("users").records
players = db.get_table("players").records
assert users[1]["address"] == {"city": "Paris"}, users
assert players[10]["name"] == "Zoé 🦀", players
assert db.get_table("players").schema["score"] is float
print("ok", len(users), len(players))
"#;
    let output = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("ok 2 2"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn bad_documents_are_typed_errors_that_say_where() {
    let limits = Limits::default();
    let error = read_json_document(&b"{\"tables\": {\"t\": {\"primary_key\": \"id\", \"schema\": null, \"records\": [{\"id\": 1}, {\"id\": 1}]}}}"[..], &limits)
        .unwrap_err();
    assert!(
        matches!(&error, Error::Invalid { table, .. } if table == "t"),
        "{error}"
    );
    let error =
        read_json_document(&b"{\"tables\": {\"t\": {\"records\": []}}}"[..], &limits).unwrap_err();
    assert!(error.to_string().contains("must come before"), "{error}");
    let error = read_json_document(
        &b"{\"tables\": {\"t\": {\"primary_key\": \"id\",\n \"records\": [{\"id\": 1,]}}}"[..],
        &limits,
    )
    .unwrap_err();
    assert!(
        matches!(&error, Error::Document { .. }) && error.to_string().contains("line 2"),
        "{error}"
    );
    let error = read_json_document(&b"{\"tables\": {\"t\": {\"primary_key\": \"id\", \"schema\": {\"id\": \"complex\"}, \"records\": []}}}"[..], &limits)
        .unwrap_err();
    assert!(error.to_string().contains("complex"), "{error}");
    assert!(read_json_document(&b"{}"[..], &limits).is_err());
    assert!(read_json_document(&b"{\"tables\": {}} trailing"[..], &limits).is_err());
    let deep = format!(
        "{{\"tables\": {{\"t\": {{\"primary_key\": \"id\", \"records\": [{{\"id\": 1, \"x\": {}1{}}}]}}}}}}",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    assert!(read_json_document(deep.as_bytes(), &limits).is_err());
    assert!(State::new() == read_json_document(&b"{\"tables\": {}}"[..], &limits).unwrap());
}
