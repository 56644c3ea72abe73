//! Time travel and rollback: read any past state by LSN, time or tag; diff two points; roll
//! back with a new transaction, so the history keeps both the mistake and its undoing.
//!
//! `cargo run -p tabula --example time_travel`

#![allow(
    clippy::print_stdout,
    clippy::indexing_slicing,
    reason = "an example prints its results and indexes lists whose length it asserts"
)]

use serde::{Deserialize, Serialize};
use tabula::prelude::*;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
struct Account {
    #[tabula(primary_key)]
    id: String,
    balance: i64,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let db = Database::open(dir.path())?;
    let accounts = db.table::<Account>()?;
    accounts.insert_all(&[
        Account {
            id: "alice".into(),
            balance: 100,
        },
        Account {
            id: "bob".into(),
            balance: 50,
        },
    ])?;
    let good = db.tag("before-batch")?;

    // A faulty batch job.
    for id in ["alice", "bob"] {
        accounts.update(id, |a| a.balance -= 1000)?;
    }
    assert_eq!(accounts.get("alice")?.map(|a| a.balance), Some(-900));

    // What did it change?
    let diff = db.diff(At::Tag("before-batch".into()), At::Lsn(db.read().lsn()))?;
    for table in &diff.tables {
        println!("{}: {} changed", table.table, table.changed.len());
    }
    assert_eq!(
        diff.tables.iter().map(|t| t.changed.len()).sum::<usize>(),
        2
    );

    // The state before it, read in place.
    let then = accounts.as_of("before-batch")?;
    assert_eq!(then.get("alice")?.map(|a| a.balance), Some(100));

    // Roll back: a new transaction that restores the tagged state.
    db.rollback_to(good, Some(Cause::new().who("ops").why("faulty batch job")))?;
    assert_eq!(accounts.get("alice")?.map(|a| a.balance), Some(100));
    assert_eq!(accounts.get("bob")?.map(|a| a.balance), Some(50));
    let history = accounts.history("alice")?;
    let balances: Vec<i64> = history
        .iter()
        .filter_map(|v| v.after.as_ref().map(|a| a.balance))
        .collect();
    println!("alice's balances: {balances:?}");
    assert_eq!(balances, [100, -900, 100]);
    Ok(())
}

#[test]
fn runs() {
    assert!(main().is_ok());
}
