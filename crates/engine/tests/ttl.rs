//! Time to live: expired rows vanish from reads and writes at once, leave by logged deletes (so
//! reopen and replay agree), and time travel before the expiry still shows them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use std::time::Duration;

use tabula_core::{Column, ColumnType, Lsn, Op, Row, TableDef, Timestamp, Value};
use tabula_engine::{
    At, Engine, Error, LogFilter, ManualClock, Options, TTL_INDEX, Ttl, VersionKind,
};

fn now() -> Timestamp {
    Timestamp::now()
}

fn plus(t: Timestamp, d: Duration) -> Timestamp {
    Timestamp::from_micros(t.as_micros() + i64::try_from(d.as_micros()).unwrap())
}

fn row(id: i64, field: &str, at: Timestamp) -> Row {
    Row::from([
        ("id".to_owned(), Value::Int(id)),
        (field.to_owned(), Value::Timestamp(at)),
    ])
}

fn insert(table: &str, row: Row) -> Op {
    Op::Insert {
        table: table.into(),
        row,
    }
}

fn keys(db: &tabula_engine::ReadView, table: &str) -> Vec<Value> {
    db.table(table)
        .unwrap()
        .iter()
        .map(|(k, _)| k.clone())
        .collect()
}

#[test]
fn expired_rows_are_hidden_then_deleted_by_logged_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _) = Engine::open(dir.path(), Options::default()).unwrap();
    engine
        .commit(vec![Op::CreateTable(TableDef::new("sessions", "id"))])
        .unwrap();
    engine
        .set_ttl("sessions", Ttl::after("seen", Duration::from_secs(3600)))
        .unwrap();
    assert_eq!(
        engine.ttl("sessions"),
        Some(Ttl::after("seen", Duration::from_secs(3600)))
    );
    let t = engine.read();
    let index = t.table("sessions").unwrap().indexes();
    assert!(index.iter().any(|i| i.def().name == TTL_INDEX));

    let old = Timestamp::from_micros(1_000_000);
    let fresh = now();
    engine
        .commit(vec![
            insert("sessions", row(1, "seen", old)),
            insert("sessions", row(2, "seen", fresh)),
            // Not a timestamp, or no field at all: never expires.
            insert(
                "sessions",
                Row::from([
                    ("id".to_owned(), Value::Int(3)),
                    ("seen".into(), Value::Int(0)),
                ]),
            ),
            insert("sessions", Row::from([("id".to_owned(), Value::Int(4))])),
        ])
        .unwrap();
    let db = engine.read();
    assert_eq!(
        keys(&db, "sessions"),
        [Value::Int(2), Value::Int(3), Value::Int(4)]
    );
    assert!(db.get("sessions", &Value::Int(1)).unwrap().is_none());

    // The background thread or this call deletes it, with a logged delete that names its cause.
    engine.reap_expired().unwrap();
    assert_eq!(engine.reap_expired().unwrap(), 0);
    let versions = engine.history("sessions", &Value::Int(1)).unwrap();
    let last = versions.last().unwrap();
    assert_eq!(last.kind, VersionKind::Deleted);
    let cause = last.cause.as_ref().unwrap();
    assert_eq!(
        (cause.who.as_deref(), cause.why.as_deref()),
        (Some("tabula"), Some("ttl"))
    );
    // Removing the rule keeps the rest for good.
    assert!(engine.remove_ttl("sessions").unwrap());
    assert!(!engine.remove_ttl("sessions").unwrap());
    assert_eq!(engine.ttl("sessions"), None);
    let db = engine.read();
    assert_eq!(keys(&db, "sessions").len(), 3);
    let indexes = db.table("sessions").unwrap().indexes();
    assert!(indexes.iter().all(|i| i.def().name != TTL_INDEX));
}

#[test]
fn writes_agree_with_reads_about_expired_rows() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _) = Engine::open(dir.path(), Options::default()).unwrap();
    let def = TableDef::new("cache", "id")
        .column(Column::new("id", ColumnType::Int))
        .column(Column::new("email", ColumnType::Text).unique())
        .column(Column::new("expires", ColumnType::Timestamp));
    engine.commit(vec![Op::CreateTable(def)]).unwrap();
    engine.set_ttl("cache", Ttl::at("expires")).unwrap();
    let past = Timestamp::from_micros(5);
    let mut expired = row(1, "expires", past);
    expired.insert("email".into(), Value::from("a@x"));
    engine
        .commit(vec![
            insert("cache", expired.clone()),
            insert("cache", row(2, "expires", past)),
        ])
        .unwrap();

    // An update or delete of an expired key finds nothing, and changes nothing.
    let update = Op::Update {
        table: "cache".into(),
        key: Value::Int(2),
        set: Row::from([("expires".to_owned(), Value::Null)]),
    };
    assert!(matches!(
        engine.commit(vec![update]),
        Err(Error::Rejected(_))
    ));
    let delete = Op::Delete {
        table: "cache".into(),
        key: Value::Int(2),
    };
    assert!(matches!(
        engine.commit(vec![delete]),
        Err(Error::Rejected(_))
    ));

    // An insert of an expired key succeeds, and so does one of a unique value only an expired
    // row held; the caller sees only the changes of its own ops.
    let mut again = row(1, "expires", plus(now(), Duration::from_secs(3600)));
    again.insert("email".into(), Value::from("a@x"));
    let mut other = row(5, "expires", plus(now(), Duration::from_secs(3600)));
    other.insert("email".into(), Value::from("b@x"));
    let committed = engine
        .commit(vec![insert("cache", again.clone()), insert("cache", other)])
        .unwrap();
    assert_eq!(committed.changes.len(), 2);
    assert!(committed.changes.iter().all(|c| c.before.is_none()));
    assert_eq!(
        committed.changes[0].key,
        Value::Int(1),
        "the reaped deletes are not reported"
    );
    let db = engine.read();
    assert_eq!(keys(&db, "cache"), [Value::Int(1), Value::Int(5)]);
    // That transaction logged the delete of the other expired row before the inserts, unless
    // the background thread had been quicker.
    let versions = engine.history("cache", &Value::Int(2)).unwrap();
    assert_eq!(versions.last().unwrap().kind, VersionKind::Deleted);
    assert!(versions.last().unwrap().lsn <= committed.lsn);
}

#[test]
fn rules_are_checked_and_dropped_with_their_table() {
    let engine = Engine::in_memory(Options::default());
    let def = TableDef::new("t", "id")
        .column(Column::new("id", ColumnType::Int))
        .column(Column::new("name", ColumnType::Text))
        .column(Column::new("when", ColumnType::Any))
        .column(Column::new("at", ColumnType::Timestamp));
    engine.commit(vec![Op::CreateTable(def)]).unwrap();
    let wrong_type = engine.set_ttl("t", Ttl::at("name")).unwrap_err();
    assert!(matches!(wrong_type, Error::InvalidTtl { ref table, .. } if table == "t"));
    // Issue 26: an `any` column (a chrono field, stored as text) took the rule and no row ever
    // expired.
    let any = engine.set_ttl("t", Ttl::at("when")).unwrap_err();
    assert!(any.to_string().contains("not a timestamp"), "{any}");
    assert!(matches!(
        engine.set_ttl("t", Ttl::at("nope")),
        Err(Error::InvalidTtl { .. })
    ));
    assert!(matches!(
        engine.set_ttl("missing", Ttl::at("at")),
        Err(Error::Rejected(_))
    ));
    assert!(matches!(
        engine.set_ttl("_tabula_ttl", Ttl::at("at")),
        Err(Error::ReservedTable { .. })
    ));
    assert!(engine.ttls().is_empty());

    engine.set_ttl("t", Ttl::at("at")).unwrap();
    // A second rule on another column moves the index with it.
    engine
        .commit(vec![Op::AlterTable {
            table: "t".into(),
            change: tabula_core::SchemaChange::AddColumn(Column::new(
                "other",
                ColumnType::Timestamp,
            )),
        }])
        .unwrap();
    engine.set_ttl("t", Ttl::at("other")).unwrap();
    let db = engine.read();
    let ttl_indexes: Vec<_> = db
        .table("t")
        .unwrap()
        .indexes()
        .iter()
        .filter(|i| i.def().name == TTL_INDEX)
        .map(|i| i.def().path.to_string())
        .collect();
    assert_eq!(ttl_indexes, ["other"]);

    engine
        .commit(vec![Op::DropTable { table: "t".into() }])
        .unwrap();
    assert!(engine.ttls().is_empty());
    // A new table of the same name starts without a rule.
    engine
        .commit(vec![
            Op::CreateTable(TableDef::new("t", "id")),
            insert("t", row(1, "other", Timestamp::from_micros(0))),
        ])
        .unwrap();
    assert_eq!(keys(&engine.read(), "t"), [Value::Int(1)]);
}

#[test]
fn expiry_holds_across_reopen_and_as_of_before_it_shows_the_row() {
    let dir = tempfile::tempdir().unwrap();
    // Time moves when the test says: the row expires two seconds on, at once.
    let clock = ManualClock::new(now());
    let options = Options::default().clock(clock.clone());
    let (engine, _) = Engine::open(dir.path(), options.clone()).unwrap();
    engine
        .commit(vec![Op::CreateTable(TableDef::new("kv", "id"))])
        .unwrap();
    engine.set_ttl("kv", Ttl::at("expires")).unwrap();
    let expires = plus(clock.now(), Duration::from_secs(2));
    let inserted = engine
        .commit(vec![
            insert("kv", row(1, "expires", expires)),
            insert(
                "kv",
                row(2, "expires", plus(expires, Duration::from_secs(3600))),
            ),
        ])
        .unwrap();
    assert!(inserted.timestamp < expires);
    let tag_lsn = engine.tag("before").unwrap();
    assert_eq!(tag_lsn, inserted.lsn);

    assert_eq!(keys(&engine.read(), "kv"), [Value::Int(1), Value::Int(2)]);
    clock.set(expires);
    assert_eq!(keys(&engine.read(), "kv"), [Value::Int(2)]);
    engine.close().unwrap();

    let (engine, _) = Engine::open(dir.path(), options.clone()).unwrap();
    assert_eq!(engine.ttl("kv"), Some(Ttl::at("expires")));
    assert_eq!(keys(&engine.read(), "kv"), [Value::Int(2)]);
    engine.reap_expired().unwrap();
    engine.checkpoint().unwrap();
    engine.close().unwrap();

    let (engine, _) = Engine::open(dir.path(), options.clone()).unwrap();
    // The delete is in the log: the state itself no longer has the row.
    assert!(
        engine
            .as_of(engine.read().lsn())
            .unwrap()
            .get("kv", &Value::Int(1))
            .unwrap()
            .is_none()
    );
    let deleted = engine.history("kv", &Value::Int(1)).unwrap();
    assert_eq!(deleted.last().unwrap().kind, VersionKind::Deleted);
    assert!(deleted.last().unwrap().timestamp >= expires);

    // Before the expiry, time travel shows the row: by LSN, tag and time.
    for at in [
        At::Lsn(inserted.lsn),
        At::Tag("before".into()),
        At::Time(Timestamp::from_micros(expires.as_micros() - 1)),
    ] {
        let then = engine.as_of(at.clone()).unwrap();
        assert_eq!(keys(&then, "kv"), [Value::Int(1), Value::Int(2)], "{at}");
    }
    // At the expiry it is gone, whether or not the delete had been committed yet.
    let at_expiry = engine.as_of(At::Time(expires)).unwrap();
    assert_eq!(keys(&at_expiry, "kv"), [Value::Int(2)]);
    let reaps = engine
        .log(LogFilter::new().who("tabula"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    assert!(!reaps.is_empty());
    assert!(reaps.iter().all(|tx| tx.lsn > Lsn(inserted.lsn.0)));
}

#[test]
fn the_background_thread_deletes_expired_rows() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _) = Engine::open(dir.path(), Options::default()).unwrap();
    engine
        .commit(vec![Op::CreateTable(TableDef::new("t", "id"))])
        .unwrap();
    engine.set_ttl("t", Ttl::at("at")).unwrap();
    let rows = (0..50).map(|i| insert("t", row(i, "at", Timestamp::from_micros(i))));
    engine.commit(rows.collect()).unwrap();
    // No write touches the table again: only the background thread can delete the rows.
    let reaped = |e: &Engine| -> usize {
        e.log(LogFilter::new().who("tabula").table("t"))
            .unwrap()
            .map(|tx| tx.unwrap().ops.len())
            .sum()
    };
    let started = std::time::Instant::now();
    while reaped(&engine) < 50 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the background thread never deleted the expired rows"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(reaped(&engine), 50);
    engine.close().unwrap();
    let (engine, _) = Engine::open(dir.path(), Options::default()).unwrap();
    assert_eq!(
        engine
            .stats()
            .unwrap()
            .tables
            .iter()
            .find(|t| t.name == "t")
            .unwrap()
            .rows,
        0
    );
}

/// A read view hides expired rows at every access, while the stored state (and its LSN) stays
/// exactly what the log reached: no row is changed without an op.
#[test]
fn a_read_view_hides_expired_rows_at_every_access_and_changes_nothing() {
    let clock = ManualClock::new(Timestamp::from_micros(1_000_000_000));
    let options = Options::default().clock(clock.clone()).background(false);
    let engine = Engine::in_memory(options);
    engine
        .commit(vec![Op::CreateTable(TableDef::new("s", "id"))])
        .unwrap();
    engine
        .set_ttl("s", Ttl::after("seen", Duration::from_secs(10)))
        .unwrap();
    let start = clock.now();
    let ops = (0..6)
        .map(|id| {
            insert(
                "s",
                row(id, "seen", plus(start, Duration::from_secs(id as u64))),
            )
        })
        .collect();
    engine.commit(ops).unwrap();
    let fresh = engine.read();
    assert_eq!(fresh.table("s").unwrap().len(), 6);
    // Rows 0, 1 and 2 expire.
    clock.advance(Duration::from_secs(12));
    let view = engine.read();
    assert_eq!(view.lsn(), fresh.lsn(), "hiding is not a transaction");
    assert!(view.hides_rows());
    let table = view.table("s").unwrap();
    assert_eq!(table.len(), 3);
    assert!(table.get(&Value::Int(1)).is_none());
    assert!(table.get(&Value::Int(4)).is_some());
    assert!(view.get("s", &Value::Int(2)).unwrap().is_none());
    let keys: Vec<Value> = table.iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(keys, [3, 4, 5].map(Value::Int));
    let all = view.query("s", &tabula_core::Query::new()).unwrap();
    assert_eq!(all.rows.len(), 3);
    let limited = view
        .query("s", &tabula_core::Query::new().limit(2))
        .unwrap();
    assert_eq!(limited.rows.len(), 2, "the limit counts shown rows only");
    assert_eq!(view.count("s", None).unwrap(), 3);
    // The stored state holds every row, and materializing drops the hidden ones.
    assert_eq!(view.state().table("s").unwrap().len(), 6);
    let materialized = view.to_database().unwrap();
    assert_eq!(materialized.table("s").unwrap().len(), 3);
    assert_eq!(materialized.lsn(), view.lsn());
    // The earlier view still shows them all: views never move.
    assert_eq!(fresh.table("s").unwrap().len(), 6);
}
