//! The `async` feature: commits from many tasks on a current-thread runtime never block it.

#![cfg(feature = "async")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tabula::prelude::*;

#[test]
fn commits_from_many_tasks_leave_the_runtime_free() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let db = Database::open_async(dir.path(), Options::new())
            .await
            .unwrap();
        db.commit_async(vec![Op::CreateTable(TableDef::new("t", "id"))])
            .await
            .unwrap();

        // The ticker counts the turns it gets while some commit is waiting (for its fsync).
        // Were the commits blocking the one runtime thread, it would never see one waiting.
        let in_flight = Arc::new(AtomicUsize::new(0));
        let ticks_while_waiting = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let ticker = {
            let (in_flight, ticks, done) =
                (in_flight.clone(), ticks_while_waiting.clone(), done.clone());
            tokio::spawn(async move {
                while !done.load(Ordering::SeqCst) {
                    if in_flight.load(Ordering::SeqCst) > 0 {
                        ticks.fetch_add(1, Ordering::SeqCst);
                    }
                    tokio::task::yield_now().await;
                }
            })
        };
        let tasks: Vec<_> = (0..64)
            .map(|i| {
                let (db, in_flight) = (db.clone(), in_flight.clone());
                tokio::spawn(async move {
                    in_flight.fetch_add(1, Ordering::SeqCst);
                    let row = Row::from([("id".to_owned(), Value::Int(i))]);
                    let committed = db
                        .commit_async(vec![Op::Insert {
                            table: "t".into(),
                            row,
                        }])
                        .await;
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    committed.unwrap().lsn
                })
            })
            .collect();
        let mut lsns = Vec::new();
        for task in tasks {
            lsns.push(task.await.unwrap());
        }
        done.store(true, Ordering::SeqCst);
        ticker.await.unwrap();

        lsns.sort();
        lsns.dedup();
        assert_eq!(lsns.len(), 64, "every commit got its own LSN");
        assert_eq!(db.read().table("t").unwrap().len(), 64);
        assert!(
            ticks_while_waiting.load(Ordering::SeqCst) > 0,
            "the runtime never ran another task while commits waited"
        );

        let backups = dir.path().join("backups");
        let backup = db.backup_async(&backups).await.unwrap();
        assert_eq!(backup.lsn, db.read().lsn());
        let saved = dir.path().join("saved.json");
        db.save_async(&saved, Format::Json).await.unwrap();
        let loaded = Database::load_async(&saved).await.unwrap();
        assert_eq!(loaded.table("t").unwrap().len(), 64);
    });
}

/// The lost-updates regression through the async API: 8 tasks × 1,000 atomic updates of one
/// row (half through `Table::update_async`, half through `Database::transaction_async`) end at
/// exactly start − 8,000, also after reopen.
#[test]
fn async_updates_of_one_row_lose_nothing() {
    #[derive(Debug, serde::Serialize, serde::Deserialize, Record)]
    struct Product {
        #[tabula(primary_key)]
        id: i64,
        stock: i64,
    }
    const TASKS: i64 = 8;
    const UPDATES: i64 = 1_000;
    let dir = tempfile::tempdir().unwrap();
    let options = Options::default().sync(SyncPolicy::Never);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let db = Database::open_async(dir.path(), options).await.unwrap();
        db.table::<Product>()
            .unwrap()
            .insert(&Product {
                id: 1,
                stock: 10_000,
            })
            .unwrap();
        let mut tasks = Vec::new();
        for _ in 0..TASKS {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                let products = db.table::<Product>().unwrap();
                for i in 0..UPDATES {
                    if i % 2 == 0 {
                        products
                            .update_async(1, |p| p.stock -= 1)
                            .await
                            .unwrap()
                            .unwrap();
                    } else {
                        db.transaction_async(|tx| {
                            tx.table::<Product>()?.update(1, |p| p.stock -= 1)?;
                            Ok(())
                        })
                        .await
                        .unwrap();
                    }
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let stock = db
            .table::<Product>()
            .unwrap()
            .get(1)
            .unwrap()
            .unwrap()
            .stock;
        assert_eq!(stock, 10_000 - TASKS * UPDATES);
        db.close().unwrap();
    });
    let db = Database::open(dir.path()).unwrap();
    let stock = db
        .table::<Product>()
        .unwrap()
        .get(1)
        .unwrap()
        .unwrap()
        .stock;
    assert_eq!(stock, 10_000 - TASKS * UPDATES);
}

/// Issue 26: typed table calls had no async form, so they blocked a tokio worker on every
/// fsync. Each that commits or reads the log now has one, and so does `close`.
#[test]
fn every_typed_call_that_waits_on_the_disk_has_an_async_form() {
    #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, Record)]
    struct Item {
        #[tabula(primary_key)]
        id: i64,
        qty: i64,
    }
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let db = Database::open_async(dir.path(), Options::new())
            .await
            .unwrap();
        let items = db.table::<Item>().unwrap();
        let item = |id, qty| Item { id, qty };
        assert_eq!(items.insert_async(item(1, 1)).await.unwrap(), 1);
        let keys = items
            .insert_all_async(vec![item(2, 2), item(3, 3)])
            .await
            .unwrap();
        assert_eq!(keys, [2, 3]);
        items.upsert_async(item(1, 10)).await.unwrap();
        assert!(items.replace_async(item(2, 20)).await.unwrap());
        items
            .update_if_async(item(3, 3), item(3, 30))
            .await
            .unwrap();
        let changed = items
            .update_where_async(Filter::ge("qty", 20), |i| i.qty += 1)
            .await
            .unwrap();
        assert_eq!(changed, 2);
        let tagged = db.engine().read().lsn();
        assert!(items.delete_async(1).await.unwrap());
        items.delete_if_async(item(2, 21)).await.unwrap();
        assert_eq!(
            items.delete_where_async(Filter::eq("id", 3)).await.unwrap(),
            1
        );
        assert_eq!(items.count(), 0);
        let versions = items.history_async(1).await.unwrap();
        assert_eq!(versions.len(), 3, "insert, upsert, delete");
        let then = items.as_of_async(tagged).await.unwrap();
        assert_eq!(then.count(), 3);
        drop((items, then));
        db.close_async().await.unwrap();
    });
}

/// Issue 26: the change feed had no async form. `subscribe_async` yields the typed changes to
/// await, on a current-thread runtime too.
#[test]
fn the_typed_feed_can_be_awaited() {
    #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, Record)]
    struct Item {
        #[tabula(primary_key)]
        id: i64,
        qty: i64,
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let db = Database::open_in_memory();
        let items = db.table::<Item>().unwrap();
        let mut feed = items.subscribe_async(Start::Now).unwrap();
        items.insert_async(Item { id: 1, qty: 1 }).await.unwrap();
        items.delete_async(1).await.unwrap();
        let inserted = feed.next().await.unwrap().unwrap();
        assert_eq!(inserted.after, Some(Item { id: 1, qty: 1 }));
        let counted = items
            .upsert_with_async(2, |old| Item {
                id: 2,
                qty: old.map_or(0, |i| i.qty) + 1,
            })
            .await
            .unwrap();
        assert_eq!(counted.qty, 1);
        let deleted = feed.next().await.unwrap().unwrap();
        assert_eq!(
            (deleted.before, deleted.after),
            (Some(Item { id: 1, qty: 1 }), None)
        );
    });
}

/// Issue 26: the feeds are `Stream`s too, the database-wide one included, and dropping one
/// ends it.
#[test]
fn the_feeds_are_streams() {
    use std::pin::Pin;

    use futures_core::Stream;

    async fn next<S: Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
        std::future::poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await
    }

    #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, Record)]
    struct Item {
        #[tabula(primary_key)]
        id: i64,
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let db = Database::open_in_memory();
        let items = db.table::<Item>().unwrap();
        let mut whole = db.subscribe_async(Start::Now, FeedOptions::new()).unwrap();
        let mut typed = items.subscribe_async(Start::Now).unwrap();
        let dropped = items.subscribe_async(Start::Now).unwrap();
        drop(dropped);
        items.insert_async(Item { id: 7 }).await.unwrap();
        let tx = next(&mut whole).await.unwrap().unwrap();
        assert_eq!(tx.ops.len(), 1);
        let change = next(&mut typed).await.unwrap().unwrap();
        assert_eq!(change.after, Some(Item { id: 7 }));
        drop(items);
        db.close_async().await.unwrap();
        assert!(next(&mut whole).await.is_none());
        assert!(next(&mut typed).await.is_none());
    });
}
