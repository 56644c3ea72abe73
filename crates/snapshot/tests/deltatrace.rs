//! DeltaTraceDB's saved database (`DeltaTraceDatabase.to_dict()` as JSON): the file the real
//! package wrote loads with the documented key rule and every value's type kept, the sniff tells
//! it from DictDB's document, and malformed documents are typed errors, never panics.
//!
//! The fixture is `tests/fixtures/deltatrace/university.json`, written by `make_fixture.py` beside
//! it with delta-trace-db 0.0.34.post1.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests"
)]

use std::path::Path;

use proptest::prelude::*;
use serde_json::json;
use tabula_core::{Limits, Lsn, NameKind, State, TableState, Value};
use tabula_snapshot::{
    DELTATRACE_SYNTHETIC_KEY, Error, looks_like_deltatrace, read_deltatrace_document,
    read_json_document, write_json_document,
};

fn fixture_at(dir: &str, name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(dir)
            .join(name),
    )
    .unwrap()
}

fn fixture() -> Vec<u8> {
    fixture_at("deltatrace", "university.json")
}

fn load(bytes: &[u8]) -> Result<State, Error> {
    read_deltatrace_document(bytes, &Limits::default())
}

fn load_json(document: &serde_json::Value) -> Result<State, Error> {
    load(document.to_string().as_bytes())
}

/// A row as JSON, so that comparisons see types: `Int(1)` and `Float(1.0)` are equal `Value`s
/// but `1` and `1.0` are different JSON numbers.
fn row_json(table: &TableState, key: i64) -> serde_json::Value {
    let row = table
        .get(&Value::Int(key))
        .unwrap_or_else(|| panic!("table {:?} has no key {key}", table.name()));
    serde_json::to_value(row).unwrap()
}

fn keys(table: &TableState) -> Vec<Value> {
    table.iter().map(|(key, _)| key.clone()).collect()
}

/// A one-collection document in the package's layout.
fn one_collection(name: &str, data: serde_json::Value, serial_num: i64) -> serde_json::Value {
    json!({
        "className": "DeltaTraceDatabase",
        "version": "12",
        "collections": {
            name: {"className": "Collection", "version": "15", "data": data, "serialNum": serial_num}
        }
    })
}

fn primary_key(db: &State, table: &str) -> String {
    db.table(table).unwrap().def().primary_key.clone()
}

#[test]
fn the_fixture_loads_with_every_collection_as_a_table() {
    let db = load(&fixture()).unwrap();
    assert_eq!(db.lsn(), Lsn::ZERO);
    let names: Vec<&str> = db.tables().map(TableState::name).collect();
    assert_eq!(
        names,
        ["archive", "enrollments", "events", "products", "users"]
    );
    for table in db.tables() {
        assert!(
            table.def().schema.is_none(),
            "{} is schemaless",
            table.name()
        );
        assert!(
            table.def().auto_increment,
            "{} auto-increments",
            table.name()
        );
        assert!(table.def().indexes.is_empty());
    }
}

#[test]
fn users_are_keyed_by_their_serial_id_with_nested_values_and_types_kept() {
    let db = load(&fixture()).unwrap();
    let users = db.table("users").unwrap();
    assert_eq!(users.def().primary_key, "id");
    // Serial numbers 0..4 were handed out and user 2 deleted.
    assert_eq!(keys(users), [Value::Int(0), Value::Int(1), Value::Int(3)]);
    // The package's next serial number is 4: tabula's counter goes on from there.
    assert_eq!(users.next_auto_increment(), Some(4));

    assert_eq!(
        row_json(users, 0),
        json!({
            "id": 0,
            "name": "Alice",
            "age": 30,
            "score": 88.5,
            "active": true,
            "createdAt": "2025-01-15T09:30:00+00:00",
            "address": {"city": "Paris", "zip": "75001", "geo": {"lat": 48.8566, "lon": 2.3522}},
            "tags": ["admin", "staff"]
        })
    );
    // Updated after the add: the whole `address` was replaced; `age` is null, `tags` empty.
    assert_eq!(
        row_json(users, 1),
        json!({
            "id": 1,
            "name": "Bob",
            "age": null,
            "score": 91.25,
            "active": false,
            "createdAt": "2025-02-01T12:00:00+00:00",
            "address": {"city": "Lyon", "zip": "69001"},
            "tags": []
        })
    );
    let tanaka = users.get(&Value::Int(3)).unwrap();
    assert!(matches!(&tanaka.get("id").unwrap(), Value::Int(3)));
    assert!(matches!(&tanaka.get("age").unwrap(), Value::Int(45)));
    assert!(matches!(&tanaka.get("score").unwrap(), Value::Float(f) if *f == -3.75));
    assert!(matches!(&tanaka.get("active").unwrap(), Value::Bool(false)));
    assert!(matches!(&tanaka.get("name").unwrap(), Value::Text(t) if t == "田中 太郎"));
    // Timestamps stay the text the item's class wrote.
    assert!(
        matches!(&tanaka.get("createdAt").unwrap(), Value::Text(t) if t == "2025-04-01T00:00:00+09:00")
    );
    assert_eq!(
        tanaka.get("address").unwrap(),
        Value::Map(
            [
                ("city".to_owned(), Value::Text("東京".to_owned())),
                ("geo".to_owned(), Value::Map(Default::default())),
            ]
            .into()
        )
    );
    // Integers past 2^53 stay exact integers.
    match &tanaka.get("tags").unwrap() {
        Value::List(tags) => {
            assert!(matches!(tags.as_slice(), [Value::Int(a), Value::Int(b)]
                if *a == 1 << 60 && *b == -(1 << 53) - 1));
        }
        other => panic!("tags: {other:?}"),
    }
    assert!(!tanaka.contains_key("tags2"));
}

#[test]
fn products_without_an_integer_key_get_a_synthesized_one_in_item_order() {
    let db = load(&fixture()).unwrap();
    let products = db.table("products").unwrap();
    assert_eq!(products.def().primary_key, DELTATRACE_SYNTHETIC_KEY);
    assert_eq!(DELTATRACE_SYNTHETIC_KEY, "_key");
    assert_eq!(
        keys(products),
        [Value::Int(1), Value::Int(2), Value::Int(3)]
    );
    assert_eq!(products.next_auto_increment(), Some(4));
    let skus: Vec<Value> = products
        .iter()
        .map(|(_, row)| row.get("sku").unwrap())
        .collect();
    assert_eq!(
        skus,
        [
            Value::Text("P-001".to_owned()),
            Value::Text("P-002".to_owned()),
            Value::Text("P-003".to_owned())
        ]
    );
    assert_eq!(
        row_json(products, 1),
        json!({
            "_key": 1,
            "sku": "P-001",
            "title": "Notebook",
            "price": 3.5,
            "stock": 120,
            "dims": {"w": 21.0, "h": 29.7},
            "discontinued": false
        })
    );
    // `1.0` stays a float, `120` an integer.
    let pen = products.get(&Value::Int(2)).unwrap();
    assert!(matches!(&pen.get("price").unwrap(), Value::Float(f) if *f == 1.0));
    assert!(matches!(&pen.get("stock").unwrap(), Value::Int(120)));
    let lamp = products.get(&Value::Int(3)).unwrap();
    assert!(matches!(&lamp.get("price").unwrap(), Value::Float(f) if *f == 1e300));
    assert!(matches!(&lamp.get("dims").unwrap(), Value::Null));
    assert!(matches!(&lamp.get("stock").unwrap(), Value::Int(0)));
}

#[test]
fn a_serial_key_of_another_name_is_found_through_serial_num() {
    let db = load(&fixture()).unwrap();
    let enrollments = db.table("enrollments").unwrap();
    assert_eq!(enrollments.def().primary_key, "serial");
    assert_eq!(
        keys(enrollments),
        [Value::Int(0), Value::Int(1), Value::Int(2)]
    );
    assert_eq!(enrollments.next_auto_increment(), Some(3));
    assert_eq!(
        row_json(enrollments, 1),
        json!({"serial": 1, "studentId": 0, "course": "physics", "grade": null})
    );
    assert_eq!(
        row_json(enrollments, 2),
        json!({"serial": 2, "studentId": 3, "course": "math", "grade": 12.0})
    );
}

#[test]
fn a_keyless_collection_whose_items_use_key_gets_the_next_free_name() {
    let db = load(&fixture()).unwrap();
    let events = db.table("events").unwrap();
    assert_eq!(events.def().primary_key, "_key_1");
    assert_eq!(keys(events), [Value::Int(1), Value::Int(2), Value::Int(3)]);
    assert_eq!(
        row_json(events, 1),
        json!({"_key_1": 1, "kind": "login", "who": "Alice", "at": "2025-05-01T10:00:00Z"})
    );
    assert_eq!(
        row_json(events, 2),
        json!({
            "_key_1": 2,
            "kind": "upload",
            "who": "Bob",
            "at": "2025-05-01T10:05:00Z",
            "detail": {"files": ["a.txt", "b.txt"], "sizes": [10, 20], "ok": true}
        })
    );
    assert_eq!(
        row_json(events, 3),
        json!({"_key_1": 3, "kind": "logout", "who": "Alice", "_key": "imported-7", "detail": null})
    );
}

#[test]
fn an_emptied_collection_is_an_empty_table() {
    let db = load(&fixture()).unwrap();
    let archive = db.table("archive").unwrap();
    assert!(archive.is_empty());
    assert_eq!(archive.def().primary_key, DELTATRACE_SYNTHETIC_KEY);
    assert_eq!(archive.next_auto_increment(), Some(1));
}

#[test]
fn the_loaded_database_round_trips_through_tabulas_document() {
    let db = load(&fixture()).unwrap();
    let mut out = Vec::new();
    write_json_document(&db, &mut out).unwrap();
    let again = read_json_document(out.as_slice(), &Limits::default()).unwrap();
    for table in db.tables() {
        assert_eq!(again.table(table.name()), Some(table));
    }
    assert_eq!(again.tables().count(), db.tables().count());
}

#[test]
fn the_key_rule() {
    // `id` wins over any other candidate, whatever serialNum says (negative ids too).
    let db = load_json(&one_collection(
        "t",
        json!([{"id": -1, "n": 0}, {"id": -2, "n": 1}]),
        2,
    ))
    .unwrap();
    assert_eq!(primary_key(&db, "t"), "id");
    assert_eq!(db.table("t").unwrap().next_auto_increment(), Some(2));

    // An `id` that is a float somewhere, missing somewhere, or repeated is no key.
    for data in [
        json!([{"id": 1}, {"id": 2.0}]),
        json!([{"id": 1}, {"name": "x"}]),
        json!([{"id": 1}, {"id": 1}]),
        json!([{"id": 1}, {"id": "2"}]),
        json!([{"id": 1}, {"id": null}]),
    ] {
        let db = load_json(&one_collection("t", data.clone(), 0)).unwrap();
        assert_eq!(primary_key(&db, "t"), "_key", "{data}");
        assert_eq!(db.table("t").unwrap().len(), 2);
    }

    // Without `id`, a unique integer field is the key only as the serial key: serialNum > 0
    // and every value in 0..serialNum.
    let data = json!([{"k": 0, "other": 10}, {"k": 1, "other": 20}]);
    assert_eq!(
        primary_key(
            &load_json(&one_collection("t", data.clone(), 2)).unwrap(),
            "t"
        ),
        "k"
    );
    assert_eq!(
        primary_key(
            &load_json(&one_collection("t", data.clone(), 0)).unwrap(),
            "t"
        ),
        "_key"
    );
    assert_eq!(
        primary_key(&load_json(&one_collection("t", data, 1)).unwrap(), "t"),
        "_key"
    );
    // Two fields that could both be the serial key: neither is chosen.
    let data = json!([{"a": 0, "b": 1}, {"a": 1, "b": 0}]);
    assert_eq!(
        primary_key(&load_json(&one_collection("t", data, 2)).unwrap(), "t"),
        "_key"
    );
    // Negative values cannot be serial numbers.
    let data = json!([{"a": -1}, {"a": 1}]);
    assert_eq!(
        primary_key(&load_json(&one_collection("t", data, 5)).unwrap(), "t"),
        "_key"
    );

    // Names already used are skipped.
    let data = json!([{"_key": 1}, {"_key_1": 2}, {"_key_2": null}]);
    let db = load_json(&one_collection("t", data, 0)).unwrap();
    assert_eq!(primary_key(&db, "t"), "_key_3");
    assert_eq!(
        keys(db.table("t").unwrap()),
        [Value::Int(1), Value::Int(2), Value::Int(3)]
    );
}

#[test]
fn optional_members_may_be_missing_and_unknown_ones_are_ignored() {
    let db = load_json(&json!({
        "collections": {
            "bare": {},
            "extra": {"data": [{"x": 1}], "note": [1, {"deep": null}]}
        },
        "exportedBy": "someone"
    }))
    .unwrap();
    assert!(db.table("bare").unwrap().is_empty());
    assert_eq!(db.table("extra").unwrap().len(), 1);
    // `version` may be a number.
    let mut doc = one_collection("t", json!([]), 0);
    doc["version"] = json!(12);
    doc["collections"]["t"]["version"] = json!(15);
    assert!(load_json(&doc).is_ok());
    // No collections at all.
    let db = load_json(&json!({"className": "DeltaTraceDatabase", "collections": {}})).unwrap();
    assert_eq!(db.tables().count(), 0);
}

#[test]
fn values_are_plain_json_without_tabulas_escapes() {
    let data = json!([{
        "ts": {"$ts": "2025-01-01T00:00:00Z"},
        "bytes": {"$bytes": "AQI="},
        "neg": -9_223_372_036_854_775_808i64,
        "zero": -0.0,
        "deep": [[[{"a": [null]}]]]
    }]);
    let db = load_json(&one_collection("t", data, 0)).unwrap();
    let row = db.table("t").unwrap().get(&Value::Int(1)).unwrap();
    assert_eq!(
        row.get("ts").unwrap(),
        Value::Map(
            [(
                "$ts".to_owned(),
                Value::Text("2025-01-01T00:00:00Z".to_owned())
            )]
            .into()
        )
    );
    assert!(matches!(&row.get("bytes").unwrap(), Value::Map(m) if m.contains_key("$bytes")));
    // An integer beyond i64 is refused, not rounded (issue 25, finding 7).
    let big = json!([{"big": 18_446_744_073_709_551_615u64}]);
    let err = load_json(&one_collection("t", big, 0))
        .unwrap_err()
        .to_string();
    assert!(err.contains("outside the 64-bit signed range"), "{err}");
    assert!(matches!(&row.get("neg").unwrap(), Value::Int(i64::MIN)));
    assert!(
        matches!(&row.get("zero").unwrap(), Value::Float(f) if f.is_sign_negative() && *f == 0.0)
    );
    assert_eq!(
        serde_json::to_value(row.get("deep").unwrap()).unwrap(),
        json!([[[{"a": [null]}]]])
    );
}

#[test]
fn the_sniff_knows_the_fixture_from_dictdb_and_garbage() {
    let bytes = fixture();
    assert!(looks_like_deltatrace(&bytes));
    assert!(looks_like_deltatrace(&bytes[..bytes.len().min(4096)]));
    // It decides as soon as `"className": "DeltaTraceDatabase"` has been read whole.
    let marker = b"\"DeltaTraceDatabase\"";
    let decided = bytes
        .windows(marker.len())
        .position(|w| w == marker)
        .unwrap()
        + marker.len();
    for n in 0..=bytes.len() {
        assert_eq!(
            looks_like_deltatrace(&bytes[..n]),
            n >= decided,
            "prefix of {n} bytes"
        );
    }

    assert!(!looks_like_deltatrace(&fixture_at(
        "dictdb",
        "dictdb-1.11.json"
    )));
    let mut tabula_document = Vec::new();
    write_json_document(&load(&bytes).unwrap(), &mut tabula_document).unwrap();
    assert!(!looks_like_deltatrace(&tabula_document));

    for garbage in [
        &b""[..],
        b"   ",
        b"{",
        b"{}",
        b"[]",
        b"null",
        b"\"DeltaTraceDatabase\"",
        b"{\"className\": \"Collection\", \"data\": []}",
        b"{\"className\": 12}",
        b"{\"className\": \"DeltaTraceDatabas",
        b"{\"tables\": {}, \"className\": \"DeltaTraceDatabase\"}",
        b"{\"classname\": \"DeltaTraceDatabase\"}",
        b"\xff\xfe{\"className\": \"DeltaTraceDatabase\"}",
        b"{\"className\": \"Delta\xffTraceDatabase\"}",
        b"PK\x03\x04\x00\x00",
    ] {
        assert!(
            !looks_like_deltatrace(garbage),
            "{:?}",
            String::from_utf8_lossy(garbage)
        );
    }

    // The marker found after other members, compact or escaped, still counts.
    for yes in [
        &br#"{"version":"16","className":"DeltaTraceDatabase","collections":{}}"#[..],
        br#"  {"collections": {"a": {"data": [1, [2], {"x": "}"}]}}, "className": "DeltaTraceDatabase""#,
        br#"{"className": "Delta\u0054raceDatabase"}"#,
    ] {
        assert!(looks_like_deltatrace(yes), "{}", String::from_utf8_lossy(yes));
    }
}

proptest! {
    #[test]
    fn the_sniff_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = looks_like_deltatrace(&bytes);
        let mut prefixed = br#"{"className": "#.to_vec();
        prefixed.extend_from_slice(&bytes);
        let _ = looks_like_deltatrace(&prefixed);
    }

    #[test]
    fn the_reader_never_panics_on_mangled_fixtures(at in 0usize..4000, byte in any::<u8>()) {
        let mut bytes = fixture();
        let at = at % bytes.len();
        bytes[at] = byte;
        let _ = load(&bytes);
    }
}

#[test]
fn every_truncation_of_the_fixture_is_an_error() {
    let bytes = fixture();
    let end = bytes.iter().rposition(|&b| b == b'}').unwrap() + 1;
    for n in 0..bytes.len() {
        let result = load(&bytes[..n]);
        if n < end {
            let error = result
                .err()
                .unwrap_or_else(|| panic!("prefix of {n} bytes loaded"));
            assert!(matches!(error, Error::Document { .. }), "{n}: {error}");
        } else {
            assert!(result.is_ok(), "prefix of {n} bytes: {result:?}");
        }
    }
}

fn document_error(document: &serde_json::Value) -> String {
    match load_json(document) {
        Err(Error::Document { path: None, reason }) => reason,
        other => panic!("{document}: expected a document error, got {other:?}"),
    }
}

#[test]
fn malformed_documents_say_what_and_where() {
    let reason = document_error(&one_collection("users", json!([{"id": 0}, "oops"]), 1));
    assert!(reason.contains("collection \"users\", item 1:"), "{reason}");
    assert!(reason.contains("invalid type: string \"oops\""), "{reason}");

    let reason = document_error(&one_collection(
        "users",
        json!([{"id": 0}, {"id": 1}, [1]]),
        1,
    ));
    assert!(reason.contains("collection \"users\", item 2:"), "{reason}");

    let reason = document_error(&one_collection("users", json!({"id": 0}), 1));
    assert!(reason.contains("collection \"users\":"), "{reason}");
    assert!(reason.contains("an array of items"), "{reason}");

    let mut doc = one_collection("users", json!([]), 0);
    doc["collections"]["users"]["serialNum"] = json!("3");
    let reason = document_error(&doc);
    assert!(reason.contains("collection \"users\":"), "{reason}");

    doc["collections"]["users"]["serialNum"] = json!(1.5);
    assert!(document_error(&doc).contains("collection \"users\":"));

    let mut doc = one_collection("users", json!([]), 0);
    doc["collections"]["users"]["className"] = json!("DeltaTraceDatabase");
    let reason = document_error(&doc);
    assert!(
        reason.contains("\"className\" is \"DeltaTraceDatabase\", not \"Collection\""),
        "{reason}"
    );

    let mut doc = one_collection("users", json!([]), 0);
    doc["className"] = json!("Collection");
    let reason = document_error(&doc);
    assert!(reason.starts_with("DeltaTraceDB document:"), "{reason}");
    assert!(reason.contains("not \"DeltaTraceDatabase\""), "{reason}");

    let mut doc = one_collection("users", json!([]), 0);
    doc["version"] = json!({"major": 1});
    document_error(&doc);

    let mut doc = one_collection("users", json!([]), 0);
    doc["collections"]["users"] = json!([]);
    assert!(document_error(&doc).contains("collection \"users\":"));

    // Not this layout at all.
    assert!(document_error(&json!({"className": "DeltaTraceDatabase"})).contains("collections"));
    assert!(document_error(&json!({"collections": []})).contains("collections by name"));
    assert!(document_error(&json!([1, 2])).starts_with("DeltaTraceDB document:"));
    let dictdb = read_deltatrace_document(
        fixture_at("dictdb", "dictdb-1.11.json").as_slice(),
        &Limits::default(),
    )
    .unwrap_err();
    assert!(matches!(&dictdb, Error::Document { reason, .. } if reason.contains("collections")));
}

#[test]
fn duplicates_trailing_bytes_and_python_nan_are_refused() {
    let twice = br#"{"collections": {"a": {"data": []}, "a": {"data": []}}}"#;
    let error = load(twice).unwrap_err();
    assert!(
        matches!(&error, Error::Document { reason, .. } if reason.contains("collection \"a\": the collection appears twice")),
        "{error}"
    );
    let twice = br#"{"collections": {"a": {"data": [], "data": []}}}"#;
    assert!(matches!(load(twice), Err(Error::Document { .. })));

    let mut trailing = fixture();
    trailing.extend_from_slice(b"{}");
    assert!(matches!(load(&trailing), Err(Error::Document { .. })));

    // What `json.dumps` writes for float("nan") by default is not JSON.
    let nan = br#"{"collections": {"a": {"data": [{"x": NaN}]}}}"#;
    let error = load(nan).unwrap_err();
    assert!(
        matches!(&error, Error::Document { reason, .. } if reason.contains("collection \"a\", item 0:")),
        "{error}"
    );
}

#[test]
fn names_and_limits_tabula_refuses_are_typed_errors_naming_the_collection() {
    // A collection name DeltaTraceDB allows but tabula does not.
    let error = load_json(&one_collection("my users", json!([{"id": 0}]), 1)).unwrap_err();
    match &error {
        Error::Invalid {
            table,
            error: source,
            ..
        } => {
            assert_eq!(table, "my users");
            assert!(matches!(
                **source,
                tabula_core::Error::InvalidName {
                    kind: NameKind::Table,
                    ..
                }
            ));
        }
        other => panic!("{other:?}"),
    }
    // A field name likewise.
    let error = load_json(&one_collection(
        "users",
        json!([{"id": 0, "first name": "A"}]),
        1,
    ))
    .unwrap_err();
    match &error {
        Error::Invalid {
            table,
            error: source,
            ..
        } => {
            assert_eq!(table, "users");
            assert!(matches!(
                &**source,
                tabula_core::Error::InvalidName { kind: NameKind::Column, name, .. } if name == "first name"
            ));
        }
        other => panic!("{other:?}"),
    }

    let bytes = fixture();
    // users' address.geo.lat is 4 deep.
    let limits = Limits {
        max_depth: 3,
        ..Limits::default()
    };
    let error = read_deltatrace_document(bytes.as_slice(), &limits).unwrap_err();
    assert!(
        matches!(&error, Error::Invalid { table, error: source, .. }
            if table == "users" && matches!(**source, tabula_core::Error::LimitExceeded { .. })),
        "{error}"
    );
    let limits = Limits {
        max_record_size: 64,
        ..Limits::default()
    };
    let error = read_deltatrace_document(bytes.as_slice(), &limits).unwrap_err();
    assert!(
        matches!(&error, Error::Invalid { table, error: source, .. }
            if table == "users" && matches!(**source, tabula_core::Error::LimitExceeded { .. })),
        "{error}"
    );
    let limits = Limits {
        max_name_len: 8,
        ..Limits::default()
    };
    // "createdAt" is 9 bytes.
    let error = read_deltatrace_document(bytes.as_slice(), &limits).unwrap_err();
    assert!(
        matches!(&error, Error::Invalid { table, error: source, .. }
            if table == "users" && matches!(**source, tabula_core::Error::InvalidName { .. })),
        "{error}"
    );
    // serde_json's own nesting bound holds whatever the limits say.
    let limits = Limits {
        max_depth: 10_000,
        ..Limits::default()
    };
    let deep = format!(
        r#"{{"collections": {{"a": {{"data": [{{"x": {}{}}}]}}}}}}"#,
        "[".repeat(5000),
        "]".repeat(5000)
    );
    let error = read_deltatrace_document(deep.as_bytes(), &limits).unwrap_err();
    assert!(
        matches!(&error, Error::Document { reason, .. } if reason.contains("item 0") && reason.contains("recursion limit")),
        "{error}"
    );
}

#[test]
fn a_failing_reader_is_an_io_error() {
    struct Failing(usize);
    impl std::io::Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let bytes = br#"{"collections": {"a": {"data": [{"x": 1},"#;
            if self.0 >= bytes.len() {
                return Err(std::io::Error::other("disk on fire"));
            }
            let n = (bytes.len() - self.0).min(buf.len());
            buf[..n].copy_from_slice(&bytes[self.0..self.0 + n]);
            self.0 += n;
            Ok(n)
        }
    }
    let error = read_deltatrace_document(Failing(0), &Limits::default()).unwrap_err();
    assert!(
        matches!(&error, Error::Io { error: source, .. } if source.to_string().contains("disk on fire")),
        "{error}"
    );
}
