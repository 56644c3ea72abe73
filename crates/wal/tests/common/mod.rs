//! Helpers shared by the log's integration tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    dead_code,
    reason = "test code: a panic is a test failure"
)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tabula_wal::{LogRecord, Lsn, RecoveryReport, SimStorage, Wal, WalOptions};

/// The directory every simulated log lives in.
pub const DIR: &str = "/db/wal";

pub fn dir() -> &'static Path {
    Path::new(DIR)
}

/// Options with the background thread effectively off, so a run is deterministic.
pub fn quiet() -> WalOptions {
    WalOptions::new().sync_interval(Duration::from_secs(3600))
}

pub fn open(
    storage: &SimStorage,
    options: WalOptions,
) -> tabula_wal::Result<(Wal, RecoveryReport)> {
    Wal::open_on(Arc::new(storage.clone()), DIR, options)
}

pub fn read_all(wal: &Wal) -> tabula_wal::Result<Vec<LogRecord>> {
    match wal.oldest_lsn()? {
        Some(oldest) => wal.read_from(oldest)?.collect(),
        None => Ok(Vec::new()),
    }
}

/// The payload of record `i` in the run drawn from `seed`: its length varies from 0 to 90 bytes.
pub fn payload(seed: u64, i: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed ^ i.wrapping_mul(tabula_storage::GOLDEN_GAMMA));
    let len = rng.below(91) as usize;
    (0..len).map(|_| rng.below(256) as u8).collect()
}

/// Asserts that `records` are exactly the first records of the run: LSNs 1, 2, 3... with the
/// payloads appended, and at least `acknowledged` of them.
pub fn assert_prefix(records: &[LogRecord], seed: u64, acknowledged: Lsn, context: &str) {
    for (i, record) in records.iter().enumerate() {
        let lsn = i as u64 + 1;
        assert_eq!(record.lsn, Lsn(lsn), "{context}: records out of sequence");
        assert_eq!(
            record.payload,
            payload(seed, lsn),
            "{context}: wrong payload at LSN {lsn}"
        );
    }
    assert!(
        records.len() as u64 >= acknowledged.0,
        "{context}: acknowledged LSN {acknowledged} lost: only {} records recovered",
        records.len()
    );
}

/// The workspace's one seeded generator (`tabula-storage`).
pub use tabula_storage::SplitMix64 as Rng;
