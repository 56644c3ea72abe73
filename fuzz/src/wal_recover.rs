//! Fuzz target `wal_recover`: the log's recovery and reader on hostile segment files.
//!
//! The first byte picks the shape of the input. Odd: the rest is raw bytes split into up to three
//! segment files (named for LSNs 1, 1 + n, ...), so header checks and framing see anything at all.
//! Even: a valid log is built from the input (payload lengths and bytes), then damaged by the
//! rest of the input, read as (position, xor mask) pairs and an optional cut of the last segment.
//!
//! Checks, in every recovery mode: opening never panics; a recovered log reads back LSNs in
//! increasing order (consecutive unless salvaging) that match the report; a second open finds
//! nothing more to repair and the same records; and for a built log, every record read is the one
//! written at that LSN — damage may lose records, never change them.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tabula_wal::{LogRecord, Lsn, RecoveryMode, SimStorage, Wal, WalOptions};

const DIR: &str = "/wal";

fn options(mode: RecoveryMode) -> WalOptions {
    WalOptions::new()
        .recovery(mode)
        .sync_interval(Duration::from_secs(3600))
        .max_record_size(4096)
        .segment_size(256)
}

fn read_all(wal: &Wal) -> Vec<LogRecord> {
    let oldest = wal.oldest_lsn().expect("segments list").unwrap_or(Lsn(1));
    match wal.read_from(oldest) {
        Ok(records) => records
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("a recovered log fails to read: {e}")),
        Err(e) => panic!("a recovered log fails to read: {e}"),
    }
}

/// Builds a valid log from `data`; returns the storage, the payloads by LSN (from 1) and the
/// bytes of the input not used.
fn build(data: &[u8]) -> (SimStorage, Vec<Vec<u8>>, &[u8]) {
    let storage = SimStorage::new();
    let mut payloads = Vec::new();
    let count = data.first().map_or(0, |&n| usize::from(n % 24));
    let mut rest = data.get(1..).unwrap_or_default();
    if let Ok((wal, _)) = Wal::open_on(
        Arc::new(storage.clone()),
        DIR,
        options(RecoveryMode::TolerateTornTail),
    ) {
        for _ in 0..count {
            // The length byte's high bit appends without waiting, so batches of several frames
            // share one `synced` watermark, as under concurrent group commit.
            let control = rest.first().copied().unwrap_or(0);
            let len = usize::from(control % 40);
            let payload: Vec<u8> = rest.iter().skip(1).take(len).copied().collect();
            rest = rest.get(1 + len..).unwrap_or_default();
            let appended = if control & 0x80 == 0 {
                wal.commit(&payload)
            } else {
                wal.append(&payload)
            };
            if appended.is_err() {
                break;
            }
            payloads.push(payload);
        }
        let _ = wal.sync();
    }
    (storage, payloads, rest)
}

fn damage(storage: &SimStorage, mutations: &[u8]) {
    let mut names = storage.files_in(Path::new(DIR));
    names.retain(|name| name.ends_with(".log"));
    if names.is_empty() {
        return;
    }
    let mut chunks = mutations.chunks_exact(4);
    for chunk in &mut chunks {
        let [file, high, low, mask] = [chunk[0], chunk[1], chunk[2], chunk[3]];
        let Some(name) = names.get(usize::from(file) % names.len()) else {
            continue;
        };
        let path = Path::new(DIR).join(name);
        let Some(mut bytes) = storage.read_file(&path) else {
            continue;
        };
        if bytes.is_empty() {
            continue;
        }
        let at = usize::from(u16::from_be_bytes([high, low])) % bytes.len();
        bytes[at] ^= mask;
        storage.write_file(&path, &bytes);
    }
    if let [cut, ..] = chunks.remainder()
        && let Some(name) = names.last()
    {
        let path = Path::new(DIR).join(name);
        if let Some(bytes) = storage.read_file(&path) {
            let keep = bytes.len().saturating_sub(usize::from(*cut));
            storage.write_file(&path, &bytes[..keep]);
        }
    }
}

fn raw(data: &[u8]) -> SimStorage {
    let storage = SimStorage::new();
    let mut rest = data;
    let mut first = 1u64;
    for _ in 0..3 {
        let Some((&len, tail)) = rest.split_first() else {
            break;
        };
        let len = (usize::from(len) * 4).min(tail.len());
        let (bytes, tail) = tail.split_at(len);
        let path = Path::new(DIR).join(format!("{first:020}.log"));
        storage.write_file(&path, bytes);
        first += 1 + u64::from(bytes.first().copied().unwrap_or(0) % 4);
        rest = tail;
    }
    storage
}

/// Opens the log in `mode` and checks what it recovers; returns the records read.
fn recover(storage: &SimStorage, mode: RecoveryMode) -> Option<Vec<LogRecord>> {
    let image = storage.fork();
    let (wal, report) = Wal::open_on(Arc::new(image.clone()), DIR, options(mode)).ok()?;
    let records = read_all(&wal);
    for pair in records.windows(2) {
        if mode == RecoveryMode::Salvage {
            assert!(pair[0].lsn < pair[1].lsn, "LSNs out of order: {report:?}");
        } else {
            assert_eq!(
                pair[0].lsn.next(),
                pair[1].lsn,
                "LSNs not consecutive: {report:?}"
            );
        }
    }
    if mode != RecoveryMode::Salvage {
        assert_eq!(
            records.len() as u64,
            report.records,
            "the reader disagrees with {report:?}"
        );
    }
    if let Some(last) = records.last() {
        assert_eq!(last.lsn, report.last_lsn);
    }
    drop(wal);
    let (again, second) =
        Wal::open_on(Arc::new(image), DIR, options(mode)).expect("a repaired log reopens");
    assert_eq!(second.truncated, [], "a second recovery found more to cut");
    assert_eq!(
        read_all(&again),
        records,
        "a second recovery reads differently"
    );
    Some(records)
}

/// The check behind the `wal_recover` target.
pub fn check(data: &[u8]) {
    let Some((&shape, data)) = data.split_first() else {
        return;
    };
    let modes = [
        RecoveryMode::TolerateTornTail,
        RecoveryMode::Salvage,
        RecoveryMode::AbsoluteConsistency,
    ];
    if shape % 2 == 1 {
        let storage = raw(data);
        for mode in modes {
            recover(&storage, mode);
        }
        return;
    }
    let (storage, payloads, mutations) = build(data);
    damage(&storage, mutations);
    for mode in modes {
        let Some(records) = recover(&storage, mode) else {
            continue;
        };
        for record in records {
            let written = usize::try_from(record.lsn.0 - 1)
                .ok()
                .and_then(|i| payloads.get(i));
            assert_eq!(
                Some(&record.payload),
                written,
                "a wrong record at LSN {}",
                record.lsn
            );
        }
    }
}
