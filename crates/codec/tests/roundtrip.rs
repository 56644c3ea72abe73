//! Every core record round-trips losslessly through each codec, one at a time and as a stream,
//! and JSON → MessagePack → bincode → JSON is the identity.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

mod common;

use common::*;
use proptest::prelude::*;
use tabula_codec::{Codable, Codec, Format};
use tabula_core::{Map, Transaction, Value};

fn check<T: Codable + std::fmt::Debug>(record: &T) -> Result<(), TestCaseError> {
    for codec in codecs() {
        let back = round_trip(codec, record);
        prop_assert!(
            same(&back, record),
            "{}: {back:?} != {record:?}",
            codec.format()
        );
    }
    // JSON → MessagePack → bincode → JSON, through decoded records, ends where it began.
    let [json, msgpack, bincode] = codecs();
    let start = json.encode(record).unwrap();
    let a: T = json.decode(&start).unwrap();
    let b: T = msgpack.decode(&msgpack.encode(&a).unwrap()).unwrap();
    let c: T = bincode.decode(&bincode.encode(&b).unwrap()).unwrap();
    prop_assert_eq!(json.encode(&c).unwrap(), start);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn values_round_trip(v in value()) {
        check(&v)?;
    }

    #[test]
    fn rows_round_trip(r in row()) {
        check(&r)?;
    }

    #[test]
    fn definitions_round_trip(c in column(), s in schema(), i in index_def(), d in table_def(), ch in schema_change()) {
        check(&c)?;
        check(&s)?;
        check(&i)?;
        check(&d)?;
        check(&ch)?;
    }

    #[test]
    fn ops_round_trip(o in op()) {
        check(&o)?;
    }

    #[test]
    fn causes_round_trip(c in cause()) {
        check(&c)?;
    }

}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn transactions_round_trip(t in transaction()) {
        check(&t)?;
    }

    #[test]
    fn streams_round_trip_through_readers_and_slices(txs in prop::collection::vec(transaction(), 0..5)) {
        for codec in codecs() {
            let mut w = codec.writer(Vec::new());
            for tx in &txs {
                w.write(tx).unwrap();
            }
            prop_assert_eq!(w.count(), txs.len() as u64);
            let bytes = w.finish().unwrap();
            let from_slice: Vec<Transaction> =
                codec.slice_reader(&bytes).iter().collect::<Result<_, _>>().unwrap();
            let from_reader: Vec<Transaction> =
                codec.reader(bytes.as_slice()).iter().collect::<Result<_, _>>().unwrap();
            prop_assert!(same(&from_slice, &txs), "{}", codec.format());
            prop_assert!(same(&from_reader, &txs), "{}", codec.format());
        }
    }
}

#[test]
fn json_is_natural_with_escapes() {
    let json = Codec::new(Format::Json);
    let row: Map = [
        ("b".to_owned(), Value::Bytes(b"hi".to_vec())),
        ("big".to_owned(), Value::Int(1 << 60)),
        ("f".to_owned(), Value::Float(2.0)),
        ("i".to_owned(), Value::Int(2)),
        (
            "m".to_owned(),
            Value::Map([("$ts".to_owned(), Value::Null)].into()),
        ),
        ("n".to_owned(), Value::Float(f64::NEG_INFINITY)),
        (
            "t".to_owned(),
            Value::Timestamp("2026-11-23T10:00:00.5Z".parse().unwrap()),
        ),
    ]
    .into();
    let text = String::from_utf8(json.encode(&row).unwrap()).unwrap();
    assert_eq!(
        text,
        r#"{"b":{"$bytes":"aGk="},"big":{"$int":"1152921504606846976"},"f":2.0,"i":2,"m":{"$map":{"$ts":null}},"n":{"$float":"-inf"},"t":{"$ts":"2026-11-23T10:00:00.500000Z"}}"#
    );
}

#[test]
fn foreign_json_reads_naturally() {
    let json = Codec::new(Format::Json);
    // A multi-member map with `$` keys is a plain map; both number spellings of an escape's
    // payload are accepted.
    let v: Value = json
        .decode(br#"[{"$a": 1, "b": 2}, {"$ts": 0}, {"$int": 5}, 1e2]"#)
        .unwrap();
    let expected = Value::List(vec![
        Value::Map(
            [
                ("$a".to_owned(), Value::Int(1)),
                ("b".to_owned(), Value::Int(2)),
            ]
            .into(),
        ),
        Value::Timestamp(tabula_core::Timestamp::from_micros(0)),
        Value::Int(5),
        Value::Float(100.0),
    ]);
    assert!(same(&v, &expected), "{v:?}");
}

#[test]
fn bad_escapes_are_typed_errors() {
    let json = Codec::new(Format::Json);
    for (input, says) in [
        (r#"{"$bytes": "!!"}"#, "base64"),
        (r#"{"$ts": "yesterday"}"#, "timestamp"),
        (r#"{"$float": "big"}"#, "$float"),
        (r#"{"$int": "1.5"}"#, "$int"),
        (r#"{"$ts": 1, "b": 2}"#, "only member"),
        (r#"{"$map": 1}"#, "expected a map"),
        // Not kept exactly, so refused (issue 25, finding 7): an integer beyond i64 (it was
        // rounded to a float, making distinct keys one) and a member named twice.
        ("[18446744073709551615]", "outside the 64-bit signed range"),
        (r#"{"a": 1, "a": 2}"#, "appears twice"),
    ] {
        let err = json.decode::<Value>(input.as_bytes()).unwrap_err();
        assert!(err.to_string().contains(says), "{input}: {err}");
    }
}

#[test]
fn dictdb_type_names_load() {
    let json = Codec::new(Format::Json);
    let column: tabula_core::Column = json.decode(br#"{"name": "tags", "type": "dict"}"#).unwrap();
    assert_eq!(column.ty, tabula_core::ColumnType::Map);
    assert!(column.nullable);
    // A default that is present and null stays present.
    let column: tabula_core::Column = json
        .decode(br#"{"name": "x", "type": "str", "default": null}"#)
        .unwrap();
    assert_eq!(column.default, Some(Value::Null));
}
