//! `Engine::transaction`: interactive write transactions are serialized with every writer, read
//! their own writes, commit once or not at all, agree with time to live, and refuse nesting
//! instead of deadlocking.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use std::time::Duration;

use tabula_core::{Op, Query, Row, TableDef, Timestamp, Value};
use tabula_engine::{Engine, Error, LogFilter, Options, Ttl};

fn counter(engine: &Engine) -> i64 {
    let db = engine.read();
    match db
        .get("t", &Value::Int(1))
        .unwrap()
        .unwrap()
        .get("n")
        .unwrap()
    {
        Value::Int(n) => n,
        ref other => panic!("{other:?}"),
    }
}

fn set_n(n: i64) -> Row {
    Row::from([("n".to_owned(), Value::Int(n))])
}

fn engine_with_counter() -> Engine {
    let engine = Engine::in_memory(Options::default());
    engine
        .commit(vec![
            Op::CreateTable(TableDef::new("t", "id")),
            Op::Insert {
                table: "t".into(),
                row: Row::from([
                    ("id".to_owned(), Value::Int(1)),
                    ("n".to_owned(), Value::Int(0)),
                ]),
            },
        ])
        .unwrap();
    engine
}

#[test]
fn read_modify_write_from_many_threads_loses_nothing() {
    let engine = engine_with_counter();
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                for _ in 0..500 {
                    engine
                        .transaction(|tx| {
                            let row = tx.get("t", &Value::Int(1))?.unwrap();
                            let Value::Int(n) = row.get("n").unwrap() else {
                                panic!()
                            };
                            tx.push(Op::Update {
                                table: "t".into(),
                                key: Value::Int(1),
                                set: set_n(n + 1),
                            })?;
                            Ok::<_, Error>(())
                        })
                        .unwrap();
                }
            });
        }
    });
    assert_eq!(counter(&engine), 4_000);
}

#[test]
fn one_lsn_per_transaction_and_nothing_for_one_that_writes_nothing() {
    let engine = engine_with_counter();
    let lsn = engine.read().lsn();
    let (seen, committed) = engine
        .transaction(|tx| Ok::<_, Error>(tx.get("t", &Value::Int(1))?.is_some()))
        .unwrap();
    assert!(seen);
    assert!(committed.is_none());
    assert_eq!(engine.read().lsn(), lsn);

    let (_, committed) = engine
        .transaction(|tx| {
            for n in 1..=3 {
                tx.push(Op::Update {
                    table: "t".into(),
                    key: Value::Int(1),
                    set: set_n(n),
                })?;
            }
            assert_eq!(tx.changes().len(), 3);
            Ok::<_, Error>(())
        })
        .unwrap();
    let committed = committed.unwrap();
    assert_eq!(committed.lsn, lsn.next());
    assert_eq!(committed.changes.len(), 3);
    assert_eq!(engine.read().lsn(), lsn.next());
    assert_eq!(counter(&engine), 3);
}

#[test]
fn push_all_is_all_or_nothing_inside_the_transaction() {
    let engine = engine_with_counter();
    engine
        .transaction(|tx| {
            let insert = |id: i64| Op::Insert {
                table: "t".into(),
                row: Row::from([("id".to_owned(), Value::Int(id))]),
            };
            // The third op repeats a key: none of the three stay.
            assert!(tx.push_all([insert(2), insert(3), insert(2)]).is_err());
            assert!(tx.get("t", &Value::Int(2))?.is_none());
            assert!(tx.changes().is_empty());
            tx.push_all([insert(4)])?;
            // A reserved table is refused, and the transaction goes on.
            let reserved = tx.push(Op::Delete {
                table: "_tabula_tags".into(),
                key: Value::from("x"),
            });
            assert!(matches!(reserved, Err(Error::ReservedTable { .. })));
            Ok::<_, Error>(())
        })
        .unwrap();
    let db = engine.read();
    assert_eq!(db.table("t").unwrap().len(), 2);
}

#[test]
fn nested_writes_are_refused_not_deadlocked() {
    let engine = engine_with_counter();
    let (inner, _) = engine
        .transaction(|_| {
            let commit = engine.commit(vec![Op::CreateTable(TableDef::new("u", "id"))]);
            let nested = engine.transaction(|_| Ok::<_, Error>(()));
            let tag = engine.tag("t1");
            Ok::<_, Error>((commit.err(), nested.err(), tag.err()))
        })
        .unwrap();
    assert!(matches!(inner.0, Some(Error::NestedTransaction)));
    assert!(matches!(inner.1, Some(Error::NestedTransaction)));
    assert!(matches!(inner.2, Some(Error::NestedTransaction)));
    // The lock was released: writes work again.
    engine.tag("t1").unwrap();
}

#[test]
fn a_panic_inside_commits_nothing_and_frees_the_lock() {
    let engine = engine_with_counter();
    let lsn = engine.read().lsn();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        engine.transaction(|tx| {
            tx.push(Op::Update {
                table: "t".into(),
                key: Value::Int(1),
                set: set_n(99),
            })?;
            panic!("caller bug");
            #[expect(unreachable_code, reason = "the closure's type")]
            Ok::<_, Error>(())
        })
    }));
    assert!(result.is_err());
    assert_eq!(engine.read().lsn(), lsn);
    assert_eq!(counter(&engine), 0);
    engine
        .commit(vec![Op::Update {
            table: "t".into(),
            key: Value::Int(1),
            set: set_n(1),
        }])
        .unwrap();
    assert_eq!(counter(&engine), 1);
}

/// A transaction sees what reads show: rows expired at its start are gone from the tables it
/// touches, by deletes logged in its own transaction, and dropping a table drops its rule.
#[test]
fn transactions_agree_with_time_to_live() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _) = Engine::open(dir.path(), Options::default()).unwrap();
    engine
        .commit(vec![Op::CreateTable(TableDef::new("sessions", "id"))])
        .unwrap();
    engine
        .set_ttl("sessions", Ttl::after("seen", Duration::from_secs(60)))
        .unwrap();
    let session = |id: i64, seen: Timestamp| Op::Insert {
        table: "sessions".into(),
        row: Row::from([
            ("id".to_owned(), Value::Int(id)),
            ("seen".to_owned(), Value::Timestamp(seen)),
        ]),
    };
    // Written without a reaper in between: one expired, one fresh.
    let fresh = Timestamp::from_micros(i64::MAX / 2);
    engine
        .commit(vec![session(1, Timestamp::EPOCH), session(2, fresh)])
        .unwrap();
    let (_, committed) = engine
        .transaction(|tx| {
            assert!(tx.get("sessions", &Value::Int(1))?.is_none());
            let all = tx.query("sessions", &Query::new())?;
            assert_eq!(all.rows.len(), 1);
            // The expired key is free.
            tx.push(session(1, fresh))?;
            Ok::<_, Error>(())
        })
        .unwrap();
    // The caller sees its own change only; the log has the expiry delete before it.
    assert_eq!(committed.unwrap().changes.len(), 1);
    let last = engine
        .log(LogFilter::new())
        .unwrap()
        .last()
        .unwrap()
        .unwrap();
    assert!(
        matches!(&last.ops[..], [Op::Delete { .. }, Op::Insert { .. }]),
        "{:?}",
        last.ops
    );

    engine
        .transaction(|tx| {
            tx.push(Op::DropTable {
                table: "sessions".into(),
            })?;
            Ok::<_, Error>(())
        })
        .unwrap();
    // The rule's row is gone (`ttl()` would hide it anyway, the table being gone).
    let rule = engine
        .read()
        .get(tabula_engine::system::TTL_TABLE, &Value::from("sessions"))
        .unwrap()
        .cloned();
    assert!(rule.is_none(), "{rule:?}");
    engine.close().unwrap();
    let (engine, _) = Engine::open(dir.path(), Options::default()).unwrap();
    assert!(engine.read().table("sessions").is_none());
    assert!(engine.ttls().is_empty());
}

fn sessions_with_expired_rows(engine: &Engine, ids: std::ops::Range<i64>) {
    engine
        .commit(vec![Op::CreateTable(TableDef::new("sessions", "id"))])
        .unwrap();
    engine
        .set_ttl("sessions", Ttl::after("seen", Duration::from_secs(60)))
        .unwrap();
    let rows = ids
        .map(|id| Op::Insert {
            table: "sessions".into(),
            row: Row::from([
                ("id".to_owned(), Value::Int(id)),
                ("seen".to_owned(), Value::Timestamp(Timestamp::EPOCH)),
            ]),
        })
        .collect();
    engine.commit(rows).unwrap();
}

/// A transaction that only reads (or whose ops all fail) commits nothing, not even the deletes
/// of the expired rows it did not see: the reaper makes those.
#[test]
fn a_transaction_without_writes_commits_no_expiry_deletes() {
    let engine = Engine::in_memory(Options::default().background(false));
    sessions_with_expired_rows(&engine, 0..3);
    let lsn = engine.read().lsn();
    let (rows, committed) = engine
        .transaction(|tx| {
            let rows = tx.query("sessions", &Query::new())?.rows.len();
            let failed = tx.push(Op::Delete {
                table: "sessions".into(),
                key: Value::Int(1),
            });
            assert!(failed.is_err(), "an expired row is not there to delete");
            Ok::<_, Error>(rows)
        })
        .unwrap();
    assert_eq!(rows, 0);
    assert!(committed.is_none());
    assert_eq!(engine.read().lsn(), lsn);
}

/// Dropping a table with a rule takes two ops (the drop and the rule's delete); at the op limit
/// the drop is refused whole rather than committed without its rule's delete.
#[test]
fn a_drop_that_does_not_fit_with_its_rule_is_refused_whole() {
    let limits = tabula_core::Limits {
        // Setting the rule takes three (its table, its index, its row).
        max_ops_per_transaction: 3,
        ..tabula_core::Limits::default()
    };
    let engine = Engine::in_memory(Options::default().background(false).limits(limits));
    sessions_with_expired_rows(&engine, 0..0);
    engine
        .commit(vec![Op::CreateTable(TableDef::new("other", "id"))])
        .unwrap();
    let (dropped, _) = engine
        .transaction(|tx| {
            for id in 1..=2 {
                tx.push(Op::Insert {
                    table: "other".into(),
                    row: Row::from([("id".to_owned(), Value::Int(id))]),
                })?;
            }
            let dropped = tx.push(Op::DropTable {
                table: "sessions".into(),
            });
            assert!(tx.state().table("sessions").is_some(), "unchanged");
            Ok::<_, Error>(dropped.is_ok())
        })
        .unwrap();
    assert!(!dropped);
    assert!(engine.read().table("sessions").is_some());
    assert!(engine.ttl("sessions").is_some());
}

/// Handles of two nested transactions on two engines swapped: neither commits the other's.
#[test]
fn a_transaction_swapped_with_another_engines_is_refused() {
    let a = engine_with_counter();
    let b = engine_with_counter();
    let outer = a.transaction(|tx_a| {
        let inner = b.transaction(|tx_b| {
            tx_b.push(Op::Update {
                table: "t".into(),
                key: Value::Int(1),
                set: set_n(7),
            })?;
            std::mem::swap(tx_a, tx_b);
            Ok::<_, Error>(())
        });
        assert!(matches!(inner, Err(Error::ForeignTransaction)), "{inner:?}");
        Ok::<_, Error>(())
    });
    assert!(matches!(outer, Err(Error::ForeignTransaction)), "{outer:?}");
    assert_eq!((counter(&a), counter(&b)), (0, 0));
}
