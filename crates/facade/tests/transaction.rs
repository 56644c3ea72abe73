//! Write transactions and atomic read-modify-write, as an inventory app uses them.
//!
//! Regression for the lost-updates bug: four threads each running
//! `products.update(id, |p| p.stock -= 1)` 500 times from 4,000 ended at 3,286, because
//! `Table::update` read the row, changed it and wrote it back without holding anything in
//! between. Every read-modify-write path (`update`, `db.transaction`, `update_where`,
//! `upsert_with`, untyped rows; the async API in `async.rs`) must now end at exactly start − threads × updates, and a
//! two-table transfer must keep its invariant in every view, in the feed and after reopen.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tabula::prelude::*;
use tabula::{FeedOptions, Start, SyncPolicy};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[tabula(table = "products")]
struct Product {
    #[tabula(primary_key)]
    id: i64,
    #[tabula(unique)]
    sku: String,
    stock: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[tabula(table = "orders")]
struct Order {
    #[tabula(primary_key, auto_increment)]
    id: Option<i64>,
    from: i64,
    to: i64,
    quantity: i64,
    placed: Timestamp,
}

const THREADS: i64 = 8;
const UPDATES: i64 = 1_000;
const START: i64 = 100_000;

fn product(id: i64, stock: i64) -> Product {
    Product {
        id,
        sku: format!("sku-{id}"),
        stock,
    }
}

/// A durable database whose commits do not each wait for an fsync (the updates are what is
/// tested, not the disk), with one product at `START`.
fn stocked(dir: &std::path::Path) -> Database {
    let db = Database::with_options(dir, Options::default().sync(SyncPolicy::Never)).unwrap();
    db.table::<Product>()
        .unwrap()
        .insert(&product(1, START))
        .unwrap();
    db
}

fn stock(db: &Database, id: i64) -> i64 {
    db.table::<Product>()
        .unwrap()
        .get(id)
        .unwrap()
        .unwrap()
        .stock
}

/// Runs `each` THREADS × UPDATES times over THREADS threads.
fn hammer(db: &Database, each: impl Fn(&Database) + Sync) {
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                for _ in 0..UPDATES {
                    each(db);
                }
            });
        }
    });
}

/// Checks the count, then reopens and checks it again.
fn ends_at_exactly(db: Database, dir: &std::path::Path, want: i64) {
    assert_eq!(stock(&db, 1), want);
    db.close().unwrap();
    let db = Database::open(dir).unwrap();
    assert_eq!(stock(&db, 1), want);
}

#[test]
fn concurrent_table_updates_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = stocked(dir.path());
    let products = db.table::<Product>().unwrap();
    hammer(&db, |_| {
        products.update(1, |p| p.stock -= 1).unwrap().unwrap();
    });
    drop(products);
    ends_at_exactly(db, dir.path(), START - THREADS * UPDATES);
}

#[test]
fn concurrent_transactions_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = stocked(dir.path());
    hammer(&db, |db| {
        db.transaction(|tx| {
            let products = tx.table::<Product>()?;
            let mut p = products.get(1)?.unwrap();
            p.stock -= 1;
            assert!(products.replace(&p)?);
            Ok(())
        })
        .unwrap();
    });
    ends_at_exactly(db, dir.path(), START - THREADS * UPDATES);
}

#[test]
fn concurrent_update_where_and_upsert_with_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = stocked(dir.path());
    let products = db.table::<Product>().unwrap();
    hammer(&db, |_| {
        let n = products
            .update_where(Filter::eq("sku", "sku-1"), |p| p.stock -= 1)
            .unwrap();
        assert_eq!(n, 1);
        products
            .upsert_with(1, |p| {
                let mut p = p.unwrap();
                p.stock -= 1;
                p
            })
            .unwrap();
    });
    drop(products);
    ends_at_exactly(db, dir.path(), START - 2 * THREADS * UPDATES);
}

#[test]
fn concurrent_untyped_updates_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = stocked(dir.path());
    let rows = db.rows("products");
    hammer(&db, |_| {
        rows.update_with(1, |row| {
            let Some(Value::Int(n)) = row.get("stock").cloned() else {
                panic!("stock {row:?}")
            };
            row.insert("stock".into(), Value::Int(n - 1));
        })
        .unwrap()
        .unwrap();
    });
    drop(rows);
    ends_at_exactly(db, dir.path(), START - THREADS * UPDATES);
}

/// Stock moves between two products and every move records an order, from 8 threads, while a
/// reader, an as-of reader and a feed subscriber check that the total never changes and that
/// each order matches a move.
#[test]
fn transfers_keep_the_total_in_every_view_and_after_reopen() {
    const TRANSFERS: i64 = 250;
    let dir = tempfile::tempdir().unwrap();
    let db = Database::with_options(dir.path(), Options::default()).unwrap();
    let products = db.table::<Product>().unwrap();
    products
        .insert_all(&[product(1, 5_000), product(2, 5_000)])
        .unwrap();
    let total = |view: &tabula::View| -> (i64, usize) {
        let sum = [1, 2]
            .iter()
            .map(|id| {
                let row = view.get("products", &Value::Int(*id)).unwrap().unwrap();
                let Value::Int(n) = row.get("stock").unwrap() else {
                    panic!("{row:?}")
                };
                n
            })
            .sum();
        let orders = view.table("orders").map_or(0, |t| t.len());
        (sum, orders)
    };
    // A buffer for every transfer: the check is what the feed delivers, not how a slow
    // subscriber on a loaded machine is told it lagged.
    let mut options = FeedOptions::default();
    options.buffer = (THREADS * TRANSFERS) as usize + 16;
    let mut feed = db.subscribe(Start::Now, options).unwrap();
    let done = AtomicBool::new(false);
    let first = db.read().lsn();
    thread::scope(|s| {
        let writers: Vec<_> = (0..THREADS)
            .map(|t| {
                let db = &db;
                s.spawn(move || {
                    for i in 0..TRANSFERS {
                        let (from, to) = if (t + i) % 2 == 0 { (1, 2) } else { (2, 1) };
                        let quantity = 1 + (t * 7 + i) % 5;
                        db.transaction(|tx| {
                            let products = tx.table::<Product>()?;
                            products.update(from, |p| p.stock -= quantity)?;
                            products.update(to, |p| p.stock += quantity)?;
                            tx.table::<Order>()?.insert(&Order {
                                id: None,
                                from,
                                to,
                                quantity,
                                placed: Timestamp::from_micros(i),
                            })?;
                            tx.cause(Cause::new().who(format!("clerk-{t}")).why("transfer"));
                            Ok(())
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        // The feed: one transaction per transfer, each moving stock both ways and adding its
        // order, with one cause.
        let subscriber = s.spawn(move || {
            let mut seen = 0;
            let mut created = false;
            while seen < THREADS * TRANSFERS {
                let tx = feed.next_timeout(Duration::from_secs(30)).unwrap().unwrap();
                if tx
                    .ops
                    .iter()
                    .any(|op| matches!(op, Op::CreateTable(def) if def.name == "orders"))
                {
                    created = true;
                }
                let count = |f: fn(&Op) -> bool| tx.ops.iter().filter(|op| f(op)).count();
                let updates = count(|op| matches!(op, Op::Update { .. }));
                let inserts = count(|op| matches!(op, Op::Insert { .. }));
                assert_eq!((updates, inserts), (2, 1), "{tx:?}");
                let why = tx.cause.as_ref().and_then(|c| c.why.as_deref());
                assert_eq!(why, Some("transfer"), "one cause per transaction");
                seen += 1;
            }
            (seen, created)
        });
        let readers = [
            s.spawn(|| {
                let mut views = 0;
                while !done.load(Ordering::Relaxed) {
                    assert_eq!(total(&db.read()).0, 10_000);
                    views += 1;
                }
                views
            }),
            s.spawn(|| {
                let mut views = 0;
                while !done.load(Ordering::Relaxed) {
                    let now = db.read().lsn();
                    let past = Lsn(first.0 + (now.0 - first.0) / 2);
                    let (sum, _) = total(&db.as_of(past).unwrap());
                    assert_eq!(sum, 10_000, "as of {past}");
                    views += 1;
                }
                views
            }),
        ];
        for writer in writers {
            writer.join().unwrap();
        }
        done.store(true, Ordering::Relaxed);
        for reader in readers {
            assert!(reader.join().unwrap() > 0);
        }
        let (seen, created) = subscriber.join().unwrap();
        assert!(created, "the first transfer created the orders table");
        assert_eq!(seen, THREADS * TRANSFERS);
    });
    assert_eq!(total(&db.read()), (10_000, (THREADS * TRANSFERS) as usize));
    drop(products);
    db.close().unwrap();
    let db = Database::open(dir.path()).unwrap();
    assert_eq!(total(&db.read()), (10_000, (THREADS * TRANSFERS) as usize));
}

/// What the log, the feed and the table hold, to show a failed transaction added nothing.
struct Witness {
    lsn: Lsn,
    log: usize,
    rows: Vec<Product>,
}

fn witness(db: &Database) -> Witness {
    Witness {
        lsn: db.read().lsn(),
        log: db.log(LogFilter::new()).unwrap().count(),
        rows: db.table::<Product>().unwrap().all().unwrap(),
    }
}

fn unchanged(db: &Database, before: &Witness, feed: &mut tabula::Feed) {
    let after = witness(db);
    assert_eq!(after.lsn, before.lsn);
    assert_eq!(after.log, before.log);
    assert_eq!(after.rows, before.rows);
    assert!(feed.next_timeout(Duration::from_millis(50)).is_none());
}

#[test]
fn a_transaction_that_fails_commits_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path()).unwrap();
    let products = db.table::<Product>().unwrap();
    products
        .insert_all(&[product(1, 10), product(2, 20)])
        .unwrap();
    let before = witness(&db);
    let mut feed = db.subscribe(Start::Now, FeedOptions::default()).unwrap();

    // An error returned from the closure, after writes.
    let result: Result<(), Error> = db.transaction(|tx| {
        let products = tx.table::<Product>()?;
        products.update(1, |p| p.stock = 0)?;
        products.insert(&product(3, 30))?;
        assert_eq!(
            products.get(1)?.unwrap().stock,
            0,
            "it reads its own writes"
        );
        Err(Error::abort("changed my mind"))
    });
    let Err(Error::Aborted(reason)) = result else {
        panic!("{result:?}")
    };
    assert_eq!(reason.to_string(), "changed my mind");
    unchanged(&db, &before, &mut feed);

    // A unique index violated after other writes, the error propagated with `?`.
    let result = db.transaction(|tx| {
        let products = tx.table::<Product>()?;
        products.update(1, |p| p.stock = 0)?;
        products.insert(&Product {
            id: 3,
            sku: "sku-2".into(),
            stock: 1,
        })?;
        Ok(())
    });
    let Err(Error::Engine(e)) = &result else {
        panic!("{result:?}")
    };
    assert!(e.to_string().contains("unique"), "{e}");
    unchanged(&db, &before, &mut feed);

    // A panic in the closure: nothing committed, and the writer lock is free again.
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        db.transaction(|tx| {
            tx.table::<Product>()?.update(2, |p| p.stock = 0)?;
            panic!("bug in the caller");
            #[expect(unreachable_code, reason = "the closure's type")]
            Ok(())
        })
    }));
    assert!(panicked.is_err());
    unchanged(&db, &before, &mut feed);
    products.update(2, |p| p.stock += 1).unwrap();
    assert_eq!(products.get(2).unwrap().unwrap().stock, 21);
}

#[test]
fn an_op_error_handled_inside_lets_the_transaction_go_on() {
    let db = Database::open_in_memory();
    let products = db.table::<Product>().unwrap();
    products.insert(&product(1, 10)).unwrap();
    let committed = db
        .transaction_committed(|tx| {
            let products = tx.table::<Product>()?;
            // Insert, or on a duplicate key add to the stock (as SQLite's statement-level
            // rollback lets a transaction go on).
            if products.insert(&product(1, 5)).is_err() {
                products.update(1, |p| p.stock += 5)?;
            }
            products.insert(&product(2, 1))?;
            Ok(())
        })
        .unwrap();
    let (_, committed) = committed;
    let committed = committed.unwrap();
    assert_eq!(committed.changes.len(), 2);
    assert_eq!(products.get(1).unwrap().unwrap().stock, 15);
    assert_eq!(products.count(), 2);
}

#[test]
fn compare_and_set_that_lost_the_race_changes_nothing() {
    let db = Database::open_in_memory();
    let products = db.table::<Product>().unwrap();
    products.insert(&product(1, 10)).unwrap();
    let seen_by_a = products.get(1).unwrap().unwrap();
    let seen_by_b = seen_by_a.clone();
    products
        .update_if(&seen_by_a, &product(1, seen_by_a.stock - 4))
        .unwrap();
    let lsn = db.read().lsn();
    let lost = products.update_if(&seen_by_b, &product(1, seen_by_b.stock - 3));
    let Err(Error::Conflict {
        table,
        key,
        current,
    }) = lost
    else {
        panic!("{lost:?}")
    };
    assert_eq!((table.as_str(), key), ("products", Value::Int(1)));
    assert_eq!(current.unwrap()["stock"], Value::Int(6));
    assert_eq!(db.read().lsn(), lsn, "nothing was committed");
    assert_eq!(products.get(1).unwrap().unwrap().stock, 6);
    // A delete that lost the race, and one on a row that is gone.
    assert!(matches!(
        products.delete_if(&seen_by_b),
        Err(Error::Conflict { .. })
    ));
    let now = products.get(1).unwrap().unwrap();
    products.delete_if(&now).unwrap();
    assert!(matches!(
        products.delete_if(&now),
        Err(Error::Conflict { current: None, .. })
    ));
    // Untyped rows too.
    let rows = db.rows("products");
    rows.insert(Product::to_row(&product(2, 1)).unwrap())
        .unwrap();
    let seen = rows.get(2).unwrap().unwrap();
    let set = Row::from([("stock".to_owned(), Value::Int(0))]);
    rows.update_if(2, &seen, set.clone()).unwrap();
    assert!(matches!(
        rows.update_if(2, &seen, set),
        Err(Error::Conflict { .. })
    ));
}

#[test]
fn concurrent_compare_and_set_applies_each_success_once() {
    let db = Database::open_in_memory();
    let products = db.table::<Product>().unwrap();
    products.insert(&product(1, 0)).unwrap();
    let wins = std::sync::atomic::AtomicI64::new(0);
    thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..200 {
                    let seen = products.get(1).unwrap().unwrap();
                    let next = product(1, seen.stock + 1);
                    match products.update_if(&seen, &next) {
                        Ok(()) => {
                            wins.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(Error::Conflict { .. }) => {}
                        Err(e) => panic!("{e}"),
                    }
                }
            });
        }
    });
    assert_eq!(
        products.get(1).unwrap().unwrap().stock,
        wins.load(Ordering::Relaxed)
    );
}

#[test]
fn bulk_writes_by_filter_are_one_transaction_each() {
    let db = Database::open_in_memory();
    let products = db.table::<Product>().unwrap();
    let all: Vec<Product> = (1..=10).map(|i| product(i, i * 10)).collect();
    products.insert_all(&all).unwrap();
    assert_eq!(products.count_where(Filter::lt("stock", 50)).unwrap(), 4);

    let lsn = db.read().lsn();
    let written = products
        .update_where(Filter::lt("stock", 50), |p| p.stock += 1000)
        .unwrap();
    assert_eq!(written, 4);
    assert_eq!(db.read().lsn(), lsn.next(), "one transaction");
    assert_eq!(products.count_where(Filter::ge("stock", 1000)).unwrap(), 4);

    // A change that breaks the unique index on one row writes none of them.
    let refused = products.update_where(Filter::ge("stock", 1000), |p| p.sku = "same".into());
    assert!(refused.is_err());
    assert_eq!(products.count_where(Filter::eq("sku", "same")).unwrap(), 0);
    assert_eq!(db.read().lsn(), lsn.next());

    // Rows the closure leaves alone are not written.
    assert_eq!(
        products
            .update_where(Filter::ge("stock", 0), |_| {})
            .unwrap(),
        0
    );
    assert_eq!(db.read().lsn(), lsn.next());

    assert_eq!(products.delete_where(Filter::ge("stock", 1000)).unwrap(), 4);
    assert_eq!(db.read().lsn(), lsn.next().next());
    assert_eq!(products.count(), 6);

    // The same through untyped rows and inside a transaction.
    let rows = db.rows("products");
    assert_eq!(rows.count_where(Filter::gt("stock", 80)).unwrap(), 2);
    let written = rows
        .update_where(Filter::gt("stock", 80), |row| {
            row.insert("stock".into(), Value::Int(0));
        })
        .unwrap();
    assert_eq!(written, 2);
    assert_eq!(rows.delete_where(Filter::eq("stock", 0)).unwrap(), 2);
    let counted = db
        .transaction(|tx| {
            let t = tx.table::<Product>()?;
            t.delete_where(Filter::eq("id", 5))?;
            let raw = tx.rows("products");
            Ok((
                t.count_where(Filter::ge("id", 0))?,
                raw.count_where(Filter::ge("id", 0))?,
            ))
        })
        .unwrap();
    assert_eq!(counted, (3, 3));
}

#[test]
fn a_write_inside_a_transaction_on_the_same_database_is_refused_not_deadlocked() {
    let db = Database::open_in_memory();
    let products = db.table::<Product>().unwrap();
    products.insert(&product(1, 1)).unwrap();
    let inner = db.transaction(|tx| {
        tx.table::<Product>()?.update(1, |p| p.stock = 2)?;
        // The Table handle would start a second transaction on this thread.
        Ok(products.update(1, |p| p.stock = 3).map(|_| ()))
    });
    let Ok(Err(Error::Engine(e))) = inner else {
        panic!("{inner:?}")
    };
    assert!(matches!(e, tabula::engine::Error::NestedTransaction), "{e}");
    assert_eq!(products.get(1).unwrap().unwrap().stock, 2);
    // And a plain commit inside one.
    let commit = db.transaction(|_| Ok(db.create_table(TableDef::new("other", "id"))));
    assert!(matches!(
        commit,
        Ok(Err(Error::Engine(tabula::engine::Error::NestedTransaction)))
    ));
}

#[test]
fn typed_records_go_into_any_op() {
    let db = Database::open_in_memory();
    db.table::<Order>().unwrap();
    let order = Order {
        id: None,
        from: 1,
        to: 2,
        quantity: 3,
        placed: "2026-12-07T10:00:00Z".parse().unwrap(),
    };
    // The typed layer's fix-up (a timestamp serde gives as an integer) is public now.
    let row = order.to_row().unwrap();
    assert_eq!(row["placed"], Value::Timestamp(order.placed));
    let (_, committed) = db
        .engine()
        .write(|tx| {
            tx.push(Op::Insert {
                table: Order::TABLE.into(),
                row: row.clone(),
            });
            Ok::<_, tabula::engine::Error>(())
        })
        .unwrap();
    let key = committed.changes[0].key.clone();
    let stored = db.read().get(Order::TABLE, &key).unwrap().cloned().unwrap();
    assert_eq!(
        Order::from_row(&stored).unwrap(),
        Order {
            id: Some(1),
            ..order
        }
    );
}

/// History, the log, causes and `as_of` see a transaction as one step, however many times it
/// changed a row.
#[test]
fn history_and_as_of_see_one_step_per_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path()).unwrap();
    let products = db.table::<Product>().unwrap();
    products.insert(&product(1, 10)).unwrap();
    let before = db.read().lsn();
    let (_, committed) = db
        .transaction_committed(|tx| {
            let t = tx.table::<Product>()?;
            for _ in 0..3 {
                t.update(1, |p| p.stock += 1)?;
            }
            t.insert(&product(2, 0))?;
            tx.cause(Cause::new().who("auditor").why("recount"));
            Ok(())
        })
        .unwrap();
    let committed = committed.unwrap();
    assert_eq!(committed.lsn, before.next());
    assert_eq!(committed.changes.len(), 4);
    let versions = products.history(1).unwrap();
    assert_eq!(
        versions.len(),
        2,
        "the insert, then one version for the transaction"
    );
    let last = &versions[1];
    assert_eq!(last.lsn, committed.lsn);
    assert_eq!(last.before.as_ref().unwrap().stock, 10);
    assert_eq!(last.after.as_ref().unwrap().stock, 13);
    assert_eq!(last.cause.as_ref().unwrap().who.as_deref(), Some("auditor"));
    assert_eq!(
        products
            .as_of(before)
            .unwrap()
            .get(1)
            .unwrap()
            .unwrap()
            .stock,
        10
    );
    assert!(products.as_of(before).unwrap().get(2).unwrap().is_none());
    let log: Vec<_> = db
        .log(LogFilter::new().who("auditor"))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].ops.len(), 4);
}

#[test]
fn a_view_of_the_transaction_can_be_held_while_it_writes() {
    let db = Database::open_in_memory();
    db.table::<Product>()
        .unwrap()
        .insert(&product(1, 1))
        .unwrap();
    db.transaction(|tx| {
        let view = tx.read();
        tx.table::<Product>()?.update(1, |p| p.stock = 5)?;
        assert_eq!(
            view.get("products", &Value::Int(1))?
                .unwrap()
                .get("stock")
                .unwrap(),
            Value::Int(1)
        );
        assert_eq!(
            tx.read()
                .get("products", &Value::Int(1))?
                .unwrap()
                .get("stock")
                .unwrap(),
            Value::Int(5)
        );
        Ok(())
    })
    .unwrap();
}

/// An update writes only the fields it changed (the log holds what changed), a field taken out
/// of an untyped row becomes null, and a change that changes nothing commits nothing.
#[test]
fn updates_write_only_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path()).unwrap();
    let products = db.table::<Product>().unwrap();
    products.insert(&product(1, 5)).unwrap();
    let lsn = db.read().lsn();
    products.update(1, |_| {}).unwrap().unwrap();
    assert_eq!(db.read().lsn(), lsn, "nothing changed, nothing committed");
    products.update(1, |p| p.stock = 6).unwrap().unwrap();
    let logged = db.log(LogFilter::new()).unwrap().last().unwrap().unwrap();
    let [Op::Update { set, .. }] = &logged.ops[..] else {
        panic!("{:?}", logged.ops)
    };
    assert_eq!(set, &Row::from([("stock".to_owned(), Value::Int(6))]));

    db.create_table(TableDef::new("notes", "id")).unwrap();
    let notes = db.rows("notes");
    notes
        .insert(Row::from([
            ("id".to_owned(), Value::Int(1)),
            ("text".to_owned(), Value::from("hi")),
            ("draft".to_owned(), Value::Bool(true)),
        ]))
        .unwrap();
    let after = notes
        .update_with(1, |row| {
            row.remove("draft");
        })
        .unwrap()
        .unwrap();
    assert_eq!(after.get("draft"), Some(&Value::Null), "the row as stored");
    let stored = notes.get(1).unwrap().unwrap();
    assert_eq!(stored, after);
    assert_eq!(stored["text"], Value::from("hi"));
    // A change of representation is a change, though `==` (the order's equality) says equal.
    let lsn = db.read().lsn();
    notes
        .update_with(1, |row| {
            row.insert("n".into(), Value::Int(1));
        })
        .unwrap();
    let written = notes
        .update_where(Filter::eq("id", 1), |row| {
            row.insert("n".into(), Value::Float(1.0));
        })
        .unwrap();
    assert_eq!(written, 1);
    assert!(matches!(
        notes.get(1).unwrap().unwrap().get("n").unwrap(),
        Value::Float(_)
    ));
    assert_eq!(db.read().lsn(), Lsn(lsn.0 + 2));
}
