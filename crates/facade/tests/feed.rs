//! Issue 26: the change feed had no typed form. `Table::subscribe` yields `Change<T>` with the
//! record before and after each change, from now or replaying history after an LSN.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use serde::{Deserialize, Serialize};
use tabula::prelude::*;
use tabula::{Cause, Change};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
struct Item {
    #[tabula(primary_key)]
    id: i64,
    qty: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
struct Other {
    #[tabula(primary_key)]
    id: i64,
}

fn item(id: i64, qty: i64) -> Item {
    Item { id, qty }
}

fn summary(change: &Change<Item>) -> (Value, Option<Item>, Option<Item>) {
    (
        change.key.clone(),
        change.before.clone(),
        change.after.clone(),
    )
}

#[test]
fn a_typed_feed_gives_each_row_change_with_its_before_and_after() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path()).unwrap();
    let items = db.table::<Item>().unwrap();
    let others = db.table::<Other>().unwrap();
    items.insert(&item(1, 1)).unwrap();
    let from = db.engine().read().lsn();
    let feed = items.subscribe(Start::Now).unwrap();
    let reader = std::thread::spawn(move || feed.take(4).collect::<Result<Vec<_>, _>>());

    others.insert(&Other { id: 9 }).unwrap();
    items
        .with_cause(Cause::new().who("clerk"))
        .insert(&item(2, 2))
        .unwrap();
    items.update(1, |i| i.qty = 10).unwrap();
    // Two rows in one transaction: two changes, in order.
    items.delete_where(Filter::ge("id", 1)).unwrap();
    let changes = reader.join().unwrap().unwrap();
    assert_eq!(
        changes.iter().map(summary).collect::<Vec<_>>(),
        [
            (Value::Int(2), None, Some(item(2, 2))),
            (Value::Int(1), Some(item(1, 1)), Some(item(1, 10))),
            (Value::Int(1), Some(item(1, 10)), None),
            (Value::Int(2), Some(item(2, 2)), None),
        ]
    );
    assert_eq!(
        changes[0].cause.as_ref().and_then(|c| c.who.as_deref()),
        Some("clerk")
    );
    assert!(changes.windows(2).all(|w| w[0].lsn <= w[1].lsn));

    // Replaying the history after an LSN gives the same changes.
    let replayed: Vec<_> = items
        .subscribe(Start::After(from))
        .unwrap()
        .take(4)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        replayed.iter().map(summary).collect::<Vec<_>>(),
        changes.iter().take(4).map(summary).collect::<Vec<_>>()
    );
}

/// Issue 26: a thread blocked in `for change in feed` must not keep `close()` from finishing,
/// and its feed ends when the database closes.
#[test]
fn closing_the_database_ends_a_feed_blocked_in_another_thread() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path()).unwrap();
    let items = db.table::<Item>().unwrap();
    let feed = items.subscribe(Start::Now).unwrap();
    let (done, ended) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let seen = feed.count();
        let _ = done.send(seen);
    });
    items.insert(&item(1, 1)).unwrap();
    drop(items);
    db.close().unwrap();
    // A deadline, not a sleep: the feed ends as soon as the engine is gone.
    let seen = ended
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the feed did not end after close");
    assert_eq!(seen, 1);
    reader.join().unwrap();
}

/// Issue 26: a feed blocked in another thread on a quiet database ends when its stopper is
/// used, with the database still open; the database-wide feed and the typed one alike.
#[test]
fn a_stopper_ends_a_feed_blocked_in_another_thread() {
    let db = Database::open_in_memory();
    let items = db.table::<Item>().unwrap();
    let typed = items.subscribe(Start::Now).unwrap();
    let whole = db.subscribe(Start::Now, FeedOptions::new()).unwrap();
    let stops = [typed.stopper(), whole.stopper()];
    let (done, ended) = std::sync::mpsc::channel();
    let typed_done = done.clone();
    let readers = [
        std::thread::spawn(move || {
            let _ = typed_done.send(("typed", typed.count()));
        }),
        std::thread::spawn(move || {
            let _ = done.send(("whole", whole.count()));
        }),
    ];
    items.insert(&item(1, 1)).unwrap();
    for stop in &stops {
        stop.stop();
    }
    let mut seen: Vec<_> = (0..2)
        .map(|_| {
            ended
                .recv_timeout(std::time::Duration::from_secs(60))
                .expect("a stopped feed did not end")
        })
        .collect();
    seen.sort_unstable();
    // The insert may or may not have been read before the stop; nothing after it is.
    assert!(seen[0].0 == "typed" && seen[0].1 <= 1, "{seen:?}");
    assert!(seen[1].0 == "whole" && seen[1].1 <= 1, "{seen:?}");
    for reader in readers {
        reader.join().unwrap();
    }
    // The database goes on; a new feed works.
    let mut again = items.subscribe(Start::Now).unwrap();
    items.insert(&item(2, 1)).unwrap();
    assert_eq!(again.next().unwrap().unwrap().key, Value::Int(2));
}
