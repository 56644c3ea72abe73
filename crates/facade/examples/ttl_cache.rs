//! A cache with a time to live (Kajson's CacheBackend, Redis's EXPIRE): entries vanish from
//! reads once expired and are removed by logged deletes, so history and replay agree.
//!
//! `cargo run -p tabula --example ttl_cache`

#![allow(
    clippy::print_stdout,
    clippy::indexing_slicing,
    reason = "an example prints its results and indexes lists whose length it asserts"
)]

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tabula::prelude::*;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[tabula(table = "cache")]
struct Entry {
    #[tabula(primary_key)]
    key: String,
    value: String,
    stored: Timestamp,
}

fn now() -> Timestamp {
    Timestamp::now()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let db = Database::open_in_memory();
    let cache = db.table::<Entry>()?;
    // Entries live 300 ms after they were stored.
    db.set_ttl("cache", Ttl::after("stored", Duration::from_millis(300)))?;

    let long_ago = Timestamp::from_micros(now().as_micros() - 3_600_000_000);
    cache.upsert(&Entry {
        key: "stale".into(),
        value: "old".into(),
        stored: long_ago,
    })?;
    cache.upsert(&Entry {
        key: "fresh".into(),
        value: "new".into(),
        stored: now(),
    })?;
    println!(
        "right away: stale={:?} fresh={:?}",
        cache.get("stale")?.map(|e| e.value),
        cache.get("fresh")?.map(|e| e.value)
    );
    assert!(
        cache.get("stale")?.is_none(),
        "an expired entry is never read"
    );
    assert!(cache.get("fresh")?.is_some());

    std::thread::sleep(Duration::from_millis(400));
    assert!(cache.get("fresh")?.is_none());
    assert_eq!(cache.count(), 0);
    // The key can be stored again at once.
    cache.insert(&Entry {
        key: "fresh".into(),
        value: "again".into(),
        stored: now(),
    })?;
    assert_eq!(
        cache.get("fresh")?.map(|e| e.value).as_deref(),
        Some("again")
    );
    println!(
        "after 400 ms: fresh is {:?}",
        cache.get("fresh")?.map(|e| e.value)
    );
    Ok(())
}

#[test]
fn runs() {
    assert!(main().is_ok());
}
