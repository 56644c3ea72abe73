//! The machine's physical limits, measured in the same run as the engines: what no engine on this
//! disk and this CPU can beat, so that each figure can be read as a fraction of the possible.
//!
//! - [`fdatasync_rate`]: append 100 bytes and `fdatasync`, in a loop: the most durable commits a
//!   single writer can make per second without group commit;
//! - [`write_bandwidth`]: write N bytes in 1 MiB pieces, then `fsync`: the ceiling of a snapshot
//!   write;
//! - [`hashmap_rates`]: insert and look up the same keys and values in a `std` `HashMap`: the
//!   ceiling of in-memory work.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::time::Instant;

use crate::data::{Probes, key, value};

/// Appends 100 bytes and calls `fdatasync`, `count` times, in a new file under `dir`; appends per
/// second.
///
/// # Errors
/// Any I/O error.
pub fn fdatasync_rate(dir: &Path, count: usize) -> io::Result<f64> {
    let path = dir.join("fdatasync-loop");
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&path)?;
    let record = [0x5Au8; 100];
    let start = Instant::now();
    for _ in 0..count {
        file.write_all(&record)?;
        file.sync_data()?;
    }
    let rate = count as f64 / start.elapsed().as_secs_f64();
    drop(file);
    std::fs::remove_file(&path)?;
    Ok(rate)
}

/// Writes `bytes` bytes in 1 MiB pieces to a new file under `dir`, then `fsync`s it; bytes per
/// second, the fsync included.
///
/// # Errors
/// Any I/O error.
pub fn write_bandwidth(dir: &Path, bytes: usize) -> io::Result<f64> {
    let path = dir.join("sequential-write");
    let piece: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();
    let start = Instant::now();
    let mut file = File::create(&path)?;
    let mut left = bytes;
    while left > 0 {
        let n = left.min(piece.len());
        file.write_all(piece.get(..n).unwrap_or_default())?;
        left -= n;
    }
    file.sync_all()?;
    let rate = bytes as f64 / start.elapsed().as_secs_f64();
    drop(file);
    std::fs::remove_file(&path)?;
    Ok(rate)
}

/// Inserts rows `0..n` (key and [`value`] bytes, built before the clock starts) into a `HashMap`,
/// then looks up `n` probe keys; (inserts per second, lookups per second).
#[must_use]
pub fn hashmap_rates(n: usize) -> (f64, f64) {
    let rows: Vec<(Vec<u8>, Vec<u8>)> = (0..n).map(|i| (key(i).into_bytes(), value(i))).collect();
    let probes: Vec<Vec<u8>> = Probes::new(n)
        .take(n)
        .map(|i| key(i).into_bytes())
        .collect();
    let start = Instant::now();
    let mut map = HashMap::with_capacity(0);
    for (k, v) in rows {
        map.insert(k, v);
    }
    let inserts = n as f64 / start.elapsed().as_secs_f64();
    let start = Instant::now();
    let mut found = 0usize;
    for k in &probes {
        found += map.get(k).map_or(0, Vec::len);
    }
    let gets = n as f64 / start.elapsed().as_secs_f64();
    // Keep the loop from being optimized away: every probe reads its stored value.
    std::hint::black_box(found);
    (inserts, gets)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::*;

    #[test]
    fn every_limit_measures_something() {
        let dir = tempfile::tempdir().unwrap();
        assert!(fdatasync_rate(dir.path(), 3).unwrap() > 0.0);
        assert!(write_bandwidth(dir.path(), 3 << 20).unwrap() > 0.0);
        let (inserts, gets) = hashmap_rates(1_000);
        assert!(inserts > 0.0 && gets > 0.0);
    }
}
