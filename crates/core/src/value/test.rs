//! Unit tests of value ordering, hashing, timestamps and measuring.

use std::cmp::Ordering;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use proptest::prelude::*;

use super::*;

fn hash_of(v: &Value) -> u64 {
    let mut h = DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

#[test]
fn classes_order_as_documented() {
    let ladder = [
        Value::Null,
        Value::Bool(true),
        Value::Float(f64::NAN),
        Value::Timestamp(Timestamp::from_micros(i64::MIN)),
        Value::from(""),
        Value::Bytes(vec![]),
        Value::List(vec![]),
        Value::Map(Map::new()),
    ];
    for pair in ladder.windows(2) {
        let [a, b] = pair else { unreachable!() };
        assert!(a < b, "{a} should sort before {b}");
    }
}

#[test]
fn int_and_float_compare_exactly() {
    assert_eq!(Value::Int(1), Value::Float(1.0));
    assert_eq!(hash_of(&Value::Int(1)), hash_of(&Value::Float(1.0)));
    assert_eq!(Value::Float(-0.0), Value::Float(0.0));
    assert_eq!(hash_of(&Value::Float(-0.0)), hash_of(&Value::Int(0)));
    // i64::MAX rounds to 2^63 as a float; an exact comparison must still see it as smaller.
    assert!(Value::Int(i64::MAX) < Value::Float(9_223_372_036_854_775_808.0));
    assert!(Value::Int(i64::MIN) == Value::Float(-9_223_372_036_854_775_808.0));
    assert!(Value::Int(2) > Value::Float(1.5));
    assert!(Value::Int(-2) < Value::Float(-1.5));
    assert!(Value::Int(1) < Value::Float(1.000_000_000_000_2));
    assert!(Value::Float(f64::NEG_INFINITY) < Value::Int(i64::MIN));
    assert!(Value::Float(f64::INFINITY) < Value::Float(f64::NAN));
    assert_eq!(Value::Float(f64::NAN), Value::Float(-f64::NAN));
    assert_eq!(
        hash_of(&Value::Float(f64::NAN)),
        hash_of(&Value::Float(-f64::NAN))
    );
}

#[test]
fn class_min_values_bound_their_class() {
    let samples = [
        Value::Bool(false),
        Value::Int(i64::MIN),
        Value::Float(f64::NEG_INFINITY),
        Value::Timestamp(Timestamp::from_micros(i64::MIN)),
        Value::from(""),
        Value::Bytes(vec![]),
        Value::List(vec![]),
        Value::Map(Map::new()),
    ];
    for v in samples {
        let class = v.class();
        assert!(class.min_value() <= v);
        if let Some(next) = class.next() {
            assert!(v < next.min_value());
        }
    }
}

#[test]
fn timestamps_round_trip_through_rfc3339() {
    for (text, micros) in [
        ("1970-01-01T00:00:00Z", 0),
        ("1969-12-31T23:59:59.999999Z", -1),
        ("2000-02-29T12:00:00Z", 951_825_600_000_000),
        ("0000-01-01T00:00:00Z", -62_167_219_200_000_000),
        ("9999-12-31T23:59:59.999999Z", 253_402_300_799_999_999),
    ] {
        let t: Timestamp = text.parse().unwrap();
        assert_eq!(t.as_micros(), micros, "{text}");
        assert_eq!(t.to_string(), text);
    }
    let with_offset: Timestamp = "2026-01-22T22:31:17.5+02:00".parse().unwrap();
    assert_eq!(with_offset.to_string(), "2026-01-22T20:31:17.500000Z");
    assert_eq!(
        Timestamp::from_micros(i64::MAX).to_string(),
        format!("@{}", i64::MAX)
    );
    assert_eq!(
        format!("@{}", i64::MIN)
            .parse::<Timestamp>()
            .unwrap()
            .as_micros(),
        i64::MIN
    );
}

#[test]
fn bad_timestamps_are_errors() {
    for text in [
        "",
        "2026",
        "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2026-01-01T24:00:00Z",
        "2026-01-01T00:00:00",
        "2026-01-01T00:00:00.Z",
        "2026-01-01T00:00:00.1234567890Z",
        "2026-01-01T00:00:00+2:00",
        "2026-01-01T00:00:00Z trailing",
        "@x",
        "２０２６-01-01T00:00:00Z",
    ] {
        assert!(
            text.parse::<Timestamp>().is_err(),
            "{text:?} should not parse"
        );
    }
}

#[test]
fn measure_stops_at_the_depth_limit() {
    let mut v = Value::Int(1);
    for _ in 0..10_000 {
        v = Value::List(vec![v]);
    }
    let m = Measure::of(&v, 32);
    assert_eq!(m.depth, 33);
    // Dropping a 10,000-deep value recurses in std's Drop; unwrap it iteratively instead.
    while let Value::List(mut items) = v {
        v = items.pop().unwrap_or(Value::Null);
    }
    assert_eq!(
        Measure::of(&Value::from("abc"), 32),
        Measure { depth: 1, size: 5 }
    );
}

pub(crate) fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        (-5i64..5).prop_map(Value::Int),
        any::<f64>().prop_map(Value::Float),
        (-5i64..5).prop_map(|i| Value::Float(i as f64 / 2.0)),
        Just(Value::Float(f64::NAN)),
        Just(Value::Float(9_223_372_036_854_775_808.0)),
        any::<i64>().prop_map(|t| Value::Timestamp(Timestamp::from_micros(t))),
        "[a-c]{0,3}".prop_map(Value::Text),
        proptest::collection::vec(any::<u8>(), 0..3).prop_map(Value::Bytes),
    ];
    leaf.prop_recursive(3, 16, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::List),
            proptest::collection::btree_map("[a-c]", inner, 0..3).prop_map(Value::Map),
        ]
    })
}

proptest! {
    #[test]
    fn order_is_total_and_agrees_with_eq_and_hash(a in any_value(), b in any_value(), c in any_value()) {
        prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
        prop_assert_eq!(a.cmp(&a), Ordering::Equal);
        if a <= b && b <= c {
            prop_assert!(a <= c, "{} <= {} <= {} but not {} <= {}", a, b, c, a, c);
        }
        if a == b {
            prop_assert_eq!(hash_of(&a), hash_of(&b));
        }
    }

    #[test]
    fn timestamp_text_round_trips(micros in any::<i64>()) {
        let t = Timestamp::from_micros(micros);
        prop_assert_eq!(t.to_string().parse::<Timestamp>().unwrap(), t);
    }
}

/// A struct of every shape a record field takes, to read rows into.
#[derive(Debug, PartialEq, serde::Deserialize)]
struct Shapes {
    a: Option<Value>,
    b: Option<i64>,
    c: Option<String>,
    #[serde(default)]
    d: Vec<Value>,
}

proptest! {
    /// Reading a row in place gives what reading a copy of it gives, for any row and target
    /// (the same value or the same error).
    #[test]
    fn reading_a_row_in_place_equals_reading_a_copy(
        row in proptest::collection::btree_map("[a-d]", any_value(), 0..5)
    ) {
        let owned: Result<Value, _> = from_value(Value::Map(row.clone()));
        let borrowed: Result<Value, _> = from_map_ref(&row);
        prop_assert_eq!(owned.map_err(|e| e.to_string()), borrowed.map_err(|e| e.to_string()));
        let owned: Result<Shapes, _> = from_value(Value::Map(row.clone()));
        let borrowed: Result<Shapes, _> = from_map_ref(&row);
        prop_assert_eq!(owned.map_err(|e| e.to_string()), borrowed.map_err(|e| e.to_string()));
    }
}

/// Year 0000 to 9999, the range with an RFC 3339 form and a `time` tuple.
const FIRST_MICROS: i64 = -62_167_219_200_000_000;
const LAST_MICROS: i64 = 253_402_300_799_999_999;

proptest! {
    /// The `time` crate's tuples (9 fields with an offset, 6 without) round-trip every instant
    /// in range, and the text form does too (what chrono and jiff ask for).
    #[test]
    fn time_tuples_and_text_round_trip(micros in FIRST_MICROS..=LAST_MICROS) {
        let t = Timestamp::from_micros(micros);
        for len in [6, 9] {
            let fields = t.to_time_tuple(len).unwrap();
            prop_assert_eq!(fields.len(), len);
            prop_assert_eq!(Timestamp::from_time_tuple(&fields), Some(t));
        }
        prop_assert_eq!(t.to_string().parse::<Timestamp>().unwrap(), t);
    }
}

#[test]
fn time_tuples_say_what_they_mean_and_refuse_nonsense() {
    let t: Timestamp = "2024-12-31T23:59:58.000001Z".parse().unwrap();
    // Day 366 of a leap year; nanoseconds; a zero offset.
    assert_eq!(
        t.to_time_tuple(9).unwrap(),
        [2024, 366, 23, 59, 58, 1000, 0, 0, 0]
    );
    // +02:00: two hours later on the clock is the same instant.
    let plus_two = Timestamp::from_time_tuple(&[2025, 1, 1, 59, 58, 1000, 2, 0, 0]);
    assert_eq!(plus_two, Some(t));
    for bad in [
        &[2023, 366, 0, 0, 0, 0][..],
        &[2024, 0, 0, 0, 0, 0],
        &[2024, 1, 24, 0, 0, 0],
        &[2024, 1, 0, 0, 0, 1_000_000_000],
        &[10_000, 1, 0, 0, 0, 0],
        &[2024, 1, 0, 0, 0, 0, 24, 0, 0],
        &[2024, 1, 0, 0, 0, 0, i64::MAX, 0, 0],
        &[2024, 1, 0, 0, 0, 0, i64::MIN, i64::MIN, i64::MIN],
        &[2024, 1, 0, 0, 0, 0, 1, -30, 0],
        &[i64::MAX, i64::MAX, i64::MAX, i64::MAX, i64::MAX, i64::MAX],
        &[2024, 1, 0, 0, 0],
    ] {
        assert_eq!(Timestamp::from_time_tuple(bad), None, "{bad:?}");
    }
    assert_eq!(
        Timestamp::from_micros(LAST_MICROS + 1).to_time_tuple(9),
        None
    );
    assert_eq!(t.to_time_tuple(7), None);
}
