//! Issue 26: chrono's, time's and jiff's date-times in records are timestamp columns: stored as
//! timestamps (so they order, filter and expire as time), and read back into the same types.
//! A TTL on such a column fires (it used to be accepted and never fire on a chrono column).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tabula::prelude::*;
use tabula::{ManualClock, Value};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
struct ChronoEvent {
    #[tabula(primary_key)]
    id: i64,
    at: chrono::DateTime<chrono::Utc>,
    seen: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
struct TimeEvent {
    #[tabula(primary_key)]
    id: i64,
    at: time::OffsetDateTime,
    local: time::PrimitiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
struct JiffEvent {
    #[tabula(primary_key)]
    id: i64,
    at: jiff::Timestamp,
}

/// The stored value of `column` in the row with key `id`.
fn stored(db: &Database, table: &str, id: i64, column: &str) -> Value {
    db.read()
        .get(table, &Value::Int(id))
        .unwrap()
        .unwrap()
        .get(column)
        .unwrap()
}

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

#[test]
fn chrono_date_times_are_timestamps() {
    let db = Database::open_in_memory();
    let events = db.table::<ChronoEvent>().unwrap();
    let def = ChronoEvent::definition();
    let schema = def.schema.as_ref().unwrap();
    assert_eq!(schema.column("at").unwrap().ty, ColumnType::Timestamp);
    assert!(schema.column("seen").unwrap().nullable);
    let first: chrono::DateTime<chrono::Utc> = "2026-12-07T10:00:00.123456Z".parse().unwrap();
    let later: chrono::DateTime<chrono::Utc> = "2026-12-07T12:30:00+02:00".parse().unwrap();
    events
        .insert(&ChronoEvent {
            id: 1,
            at: first,
            seen: Some(later),
        })
        .unwrap();
    events
        .insert(&ChronoEvent {
            id: 2,
            at: later,
            seen: None,
        })
        .unwrap();
    assert_eq!(
        stored(&db, "chrono_event", 1, "at"),
        Value::Timestamp(at("2026-12-07T10:00:00.123456Z"))
    );
    assert_eq!(
        stored(&db, "chrono_event", 2, "at"),
        Value::Timestamp(at("2026-12-07T10:30:00Z"))
    );
    let back = events.get(1).unwrap().unwrap();
    assert_eq!((back.at, back.seen), (first, Some(later)));
    // Typed filters convert the operand as the column does.
    let f = ChronoEvent::FIELDS;
    assert_eq!(events.filter(f.at.gt(first)).unwrap().len(), 1);
    assert_eq!(events.filter(f.seen.is_null()).unwrap().len(), 1);
    // Ordered as time, not as text.
    let order = events
        .query(&Query::new().order_by_desc("at"))
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect::<Vec<_>>();
    assert_eq!(order, [2, 1]);
}

#[test]
fn time_date_times_are_timestamps() {
    let db = Database::open_in_memory();
    let events = db.table::<TimeEvent>().unwrap();
    let event = TimeEvent {
        id: 1,
        at: time::macros::datetime!(2026-12-07 12:00:00.5 +02:00),
        local: time::macros::datetime!(2026-02-28 23:59:59.000_001),
    };
    events.insert(&event).unwrap();
    assert_eq!(
        stored(&db, "time_event", 1, "at"),
        Value::Timestamp(at("2026-12-07T10:00:00.5Z"))
    );
    assert_eq!(
        stored(&db, "time_event", 1, "local"),
        Value::Timestamp(at("2026-02-28T23:59:59.000001Z"))
    );
    let back = events.get(1).unwrap().unwrap();
    // The same instant, read back in UTC.
    assert_eq!(back.at, event.at);
    assert_eq!(back.at.offset(), time::UtcOffset::UTC);
    assert_eq!(back.local, event.local);
}

#[test]
fn jiff_timestamps_are_timestamps() {
    let db = Database::open_in_memory();
    let events = db.table::<JiffEvent>().unwrap();
    let when: jiff::Timestamp = "2026-12-07T10:00:00.25Z".parse().unwrap();
    events.insert(&JiffEvent { id: 1, at: when }).unwrap();
    assert_eq!(
        stored(&db, "jiff_event", 1, "at"),
        Value::Timestamp(at("2026-12-07T10:00:00.25Z"))
    );
    assert_eq!(events.get(1).unwrap().unwrap().at, when);
    assert_eq!(
        events.filter(JiffEvent::FIELDS.at.le(when)).unwrap().len(),
        1
    );
}

/// Issue 26's report: a TTL on a chrono column was accepted and never fired.
#[test]
fn a_ttl_on_a_chrono_column_fires() {
    let clock = ManualClock::new(at("2026-12-07T10:00:00Z"));
    let db = Database::from_engine(tabula::Engine::in_memory(
        Options::new().clock(clock.clone()),
    ));
    let events = db.table::<ChronoEvent>().unwrap();
    let old: chrono::DateTime<chrono::Utc> = "2026-11-07T10:00:00Z".parse().unwrap();
    let new: chrono::DateTime<chrono::Utc> = "2026-12-07T09:59:59Z".parse().unwrap();
    events
        .insert_all(&[
            ChronoEvent {
                id: 1,
                at: old,
                seen: None,
            },
            ChronoEvent {
                id: 2,
                at: new,
                seen: None,
            },
        ])
        .unwrap();
    db.set_ttl(
        ChronoEvent::TABLE,
        Ttl::after("at", Duration::from_secs(60)),
    )
    .unwrap();
    assert_eq!(
        events.get(1).unwrap(),
        None,
        "a month-old row under a 60 s TTL"
    );
    assert!(events.get(2).unwrap().is_some());
    clock.advance(Duration::from_secs(120));
    assert_eq!(events.get(2).unwrap(), None);
}

#[cfg(all(feature = "chrono", feature = "time", feature = "jiff"))]
#[test]
fn the_features_convert_to_and_from_timestamp() {
    let t = at("2026-12-07T10:00:00.123456Z");
    let c: chrono::DateTime<chrono::Utc> = t.try_into().unwrap();
    assert_eq!(Timestamp::from(c), t);
    let o: time::OffsetDateTime = t.try_into().unwrap();
    assert_eq!(Timestamp::from(o), t);
    let j: jiff::Timestamp = t.try_into().unwrap();
    assert_eq!(Timestamp::from(j), t);
    assert!(jiff::Timestamp::try_from(Timestamp::from_micros(i64::MAX)).is_err());
}

/// A date-time stored by custom serde code (`ts_seconds` writes an integer of seconds) is not
/// read as a timestamp of microseconds: its column is `any`, unless `type` says otherwise.
#[test]
fn a_date_time_with_custom_serde_code_is_stored_as_that_code_says() {
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
    struct Seconds {
        #[tabula(primary_key)]
        id: i64,
        #[serde(with = "chrono::serde::ts_seconds")]
        at: chrono::DateTime<chrono::Utc>,
    }
    let def = Seconds::definition();
    let column = def.schema.as_ref().unwrap().column("at").unwrap();
    assert_eq!(column.ty, ColumnType::Any);
    let db = Database::open_in_memory();
    let table = db.table::<Seconds>().unwrap();
    let at: chrono::DateTime<chrono::Utc> = "2026-12-07T10:00:00Z".parse().unwrap();
    table.insert(&Seconds { id: 1, at }).unwrap();
    assert_eq!(stored(&db, "seconds", 1, "at"), Value::Int(at.timestamp()));
    assert_eq!(table.get(1).unwrap().unwrap().at, at);
}
