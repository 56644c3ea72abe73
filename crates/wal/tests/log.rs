//! The log's API: reopening, rotation, reading from an LSN, checkpoint truncation and archive
//! retention, the lock, limits, group commit, and the typed transaction log.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

mod common;

use std::fmt;
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, SystemTime};

use common::{DIR, dir, open, payload, quiet, read_all};
use tabula_codec::{Codec, Format};
use tabula_core::{Cause, Op, Timestamp, Transaction, Value};
use tabula_wal::{
    Error, Lsn, Retention, SimStorage, Storage, StorageFile, SyncPolicy, TransactionLog, Wal,
    WalOptions,
};

#[test]
fn a_reopened_log_continues_its_lsns_and_keeps_its_records() {
    let storage = SimStorage::new();
    let (wal, report) = open(&storage, quiet()).unwrap();
    assert_eq!((report.records, report.last_lsn), (0, Lsn::ZERO));
    for i in 1..=10 {
        assert_eq!(wal.commit(&payload(1, i)).unwrap(), Lsn(i));
    }
    drop(wal);
    let (wal, report) = open(&storage, quiet()).unwrap();
    assert_eq!(
        (report.records, report.last_lsn, report.segments),
        (10, Lsn(10), 1)
    );
    assert_eq!(wal.commit(b"eleven").unwrap(), Lsn(11));
    let records = wal
        .read_from(Lsn(4))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    assert_eq!(records.len(), 8);
    assert_eq!(records[0].payload, payload(1, 4));
    assert_eq!(records[7].payload, b"eleven");
    assert_eq!(wal.read_from(Lsn(12)).unwrap().count(), 0);
}

#[test]
fn an_empty_log_can_start_after_a_snapshot() {
    let storage = SimStorage::new();
    let (wal, _) = open(&storage, quiet().first_lsn(Lsn(1001))).unwrap();
    assert_eq!(wal.last_lsn(), Lsn(1000));
    assert_eq!(wal.commit(b"a").unwrap(), Lsn(1001));
    drop(wal);
    // Once the log has segments, the option no longer matters.
    let (wal, _) = open(&storage, quiet().first_lsn(Lsn(5))).unwrap();
    assert_eq!(wal.commit(b"b").unwrap(), Lsn(1002));
    assert!(matches!(
        wal.read_from(Lsn(3)),
        Err(Error::Pruned {
            requested: Lsn(3),
            oldest_available: Lsn(1001)
        })
    ));
}

#[test]
fn segments_rotate_by_size_and_reads_cross_them() {
    let storage = SimStorage::new();
    let (wal, _) = open(&storage, quiet().segment_size(200)).unwrap();
    for i in 1..=40 {
        wal.commit(&payload(2, i)).unwrap();
    }
    let segments = wal.segments().unwrap();
    assert!(segments.len() > 5, "{segments:?}");
    for pair in segments.windows(2) {
        assert!(pair[0].first_lsn < pair[1].first_lsn);
    }
    let records = wal
        .read_from(Lsn(17))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let lsns: Vec<u64> = records.iter().map(|r| r.lsn.0).collect();
    assert_eq!(lsns, (17..=40).collect::<Vec<_>>());
    for record in records {
        assert_eq!(record.payload, payload(2, record.lsn.0));
    }
}

#[test]
fn truncate_before_removes_covered_segments_but_never_the_active_one() {
    let storage = SimStorage::new();
    let (wal, _) = open(&storage, quiet().segment_size(200)).unwrap();
    for i in 1..=40 {
        wal.commit(&payload(3, i)).unwrap();
    }
    let before = wal.segments().unwrap();
    let report = wal.truncate_before(Lsn(20)).unwrap();
    assert!(!report.removed.is_empty() && report.archived.is_empty());
    let after = wal.segments().unwrap();
    assert_eq!(after.len(), before.len() - report.removed.len());
    let oldest = after[0].first_lsn;
    assert!(oldest <= Lsn(20), "the segment holding LSN 20 stays");
    assert!(
        matches!(wal.read_from(Lsn(1)), Err(Error::Pruned { oldest_available, .. }) if oldest_available == oldest)
    );
    assert_eq!(wal.read_from(Lsn(20)).unwrap().count(), 21);

    // Everything covered: only the active segment stays, and the log still knows its last LSN.
    wal.truncate_before(Lsn(1_000)).unwrap();
    assert_eq!(wal.segments().unwrap().len(), 1);
    drop(wal);
    let (wal, report) = open(&storage, quiet()).unwrap();
    assert_eq!(report.last_lsn, Lsn(40));
    assert_eq!(wal.commit(b"next").unwrap(), Lsn(41));
}

#[test]
fn archived_segments_stay_readable_until_retention_removes_the_oldest() {
    let storage = SimStorage::new();
    let retention = Retention::archive_all()
        .max_count(3)
        .max_age(Duration::from_secs(3600));
    let (wal, _) = open(&storage, quiet().segment_size(200).retention(retention)).unwrap();
    for i in 1..=20 {
        wal.commit(&payload(4, i)).unwrap();
    }
    let report = wal.truncate_before(Lsn(10)).unwrap();
    assert!(!report.archived.is_empty());
    // Still readable from the start when retention allowed all of it.
    let archived = storage.files_in(&dir().join("archive"));
    if archived.len() <= 3 {
        assert_eq!(read_all(&wal).unwrap().len(), 20);
    }
    for i in 21..=60 {
        wal.commit(&payload(4, i)).unwrap();
    }
    wal.truncate_before(Lsn(55)).unwrap();
    let archived = storage.files_in(&dir().join("archive"));
    assert_eq!(archived.len(), 3, "max_count keeps three: {archived:?}");
    let records = read_all(&wal).unwrap();
    assert_eq!(records.last().unwrap().lsn, Lsn(60));
    assert!(
        records.windows(2).all(|p| p[1].lsn.0 == p[0].lsn.0 + 1),
        "contiguous history"
    );

    // Two hours later, every archived segment is past max_age.
    let later = SystemTime::now() + Duration::from_secs(7200);
    let report = wal.apply_retention_at(later).unwrap();
    assert_eq!(report.removed.len(), 3);
    assert!(storage.files_in(&dir().join("archive")).is_empty());
}

#[test]
fn retention_by_bytes_keeps_the_newest_archive_under_the_limit() {
    let storage = SimStorage::new();
    let retention = Retention::archive_all().max_bytes(600);
    let (wal, _) = open(&storage, quiet().segment_size(200).retention(retention)).unwrap();
    for i in 1..=60 {
        wal.commit(&payload(5, i)).unwrap();
    }
    wal.truncate_before(Lsn(60)).unwrap();
    let archived: u64 = wal
        .segments()
        .unwrap()
        .iter()
        .filter(|s| s.archived_at.is_some())
        .map(|s| s.bytes)
        .sum();
    assert!(archived <= 600 && archived > 0, "{archived}");
}

#[test]
fn a_second_opener_gets_already_open() {
    let temp = tempfile::tempdir().unwrap();
    let (wal, _) = Wal::open(temp.path(), WalOptions::default()).unwrap();
    assert!(matches!(
        Wal::open(temp.path(), WalOptions::default()),
        Err(Error::AlreadyOpen { .. })
    ));
    drop(wal);
    Wal::open(temp.path(), WalOptions::default()).unwrap();

    let storage = SimStorage::new();
    let (_wal, _) = open(&storage, quiet()).unwrap();
    assert!(matches!(
        open(&storage, quiet()),
        Err(Error::AlreadyOpen { .. })
    ));
}

#[test]
fn limits_and_failed_encodings_use_no_lsn() {
    let storage = SimStorage::new();
    let (wal, _) = open(&storage, quiet().max_record_size(16)).unwrap();
    assert!(matches!(
        wal.commit(&[0; 17]),
        Err(Error::RecordTooLarge {
            size: 17,
            limit: 16
        })
    ));
    let failed = wal.append_with(|_, out| {
        out.extend_from_slice(b"half written");
        Err(Error::InvalidOption("the encoder failed".to_owned()))
    });
    assert!(failed.is_err());
    assert!(
        wal.append_with(|_, out| {
            out.extend_from_slice(&[1; 17]);
            Ok(())
        })
        .is_err()
    );
    assert_eq!(wal.commit(&[0; 16]).unwrap(), Lsn(1));
    assert!(matches!(
        wal.wait_durable(Lsn(2)),
        Err(Error::NotAppended {
            lsn: Lsn(2),
            last: Lsn(1)
        })
    ));
    assert_eq!(read_all(&wal).unwrap().len(), 1);
    assert!(
        WalOptions::new()
            .max_record_size(0)
            .sync_interval(Duration::ZERO)
            .first_lsn(Lsn::ZERO)
            != WalOptions::new()
    );
    assert!(matches!(
        open(&SimStorage::new(), quiet().max_record_size(0)),
        Err(Error::InvalidOption(_))
    ));
}

/// A storage whose `sync_data` blocks while the gate is closed and counts the syncs, to show
/// committers that arrive during one fsync sharing the next.
#[derive(Debug)]
struct Gated {
    inner: SimStorage,
    gate: Arc<(Mutex<bool>, Condvar)>,
    syncs: Arc<AtomicUsize>,
}

struct GatedFile {
    inner: Box<dyn StorageFile>,
    gate: Arc<(Mutex<bool>, Condvar)>,
    syncs: Arc<AtomicUsize>,
}

impl fmt::Debug for GatedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("GatedFile")
    }
}

impl Gated {
    fn wrap(&self, inner: Box<dyn StorageFile>) -> Box<dyn StorageFile> {
        Box::new(GatedFile {
            inner,
            gate: Arc::clone(&self.gate),
            syncs: Arc::clone(&self.syncs),
        })
    }
}

impl Storage for Gated {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        self.inner.create_dir_all(dir)
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        self.inner.list(dir)
    }
    fn create(&self, path: &Path) -> io::Result<Box<dyn StorageFile>> {
        Ok(self.wrap(self.inner.create(path)?))
    }
    fn open(&self, path: &Path, writable: bool) -> io::Result<Box<dyn StorageFile>> {
        Ok(self.wrap(self.inner.open(path, writable)?))
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.inner.rename(from, to)
    }
    fn remove(&self, path: &Path) -> io::Result<()> {
        self.inner.remove(path)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.inner.sync_dir(dir)
    }
    fn lock(&self, path: &Path) -> io::Result<Box<dyn fmt::Debug + Send + Sync>> {
        self.inner.lock(path)
    }
}

impl StorageFile for GatedFile {
    fn len(&self) -> io::Result<u64> {
        self.inner.len()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read_at(offset, buf)
    }
    fn append(&mut self, data: &[u8]) -> io::Result<()> {
        self.inner.append(data)
    }
    fn sync_data(&mut self) -> io::Result<()> {
        let (open, cond) = &*self.gate;
        let mut open = open.lock().unwrap();
        while !*open {
            open = cond.wait(open).unwrap();
        }
        self.syncs.fetch_add(1, Ordering::SeqCst);
        self.inner.sync_data()
    }
    fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.inner.truncate(len)
    }
}

#[test]
fn committers_that_arrive_during_one_fsync_share_the_next() {
    let gated = Arc::new(Gated {
        inner: SimStorage::new(),
        gate: Arc::new((Mutex::new(true), Condvar::new())),
        syncs: Arc::new(AtomicUsize::new(0)),
    });
    let (wal, _) = Wal::open_on(Arc::clone(&gated) as Arc<dyn Storage>, DIR, quiet()).unwrap();
    wal.commit(b"creates the segment").unwrap();
    let syncs_before = gated.syncs.load(Ordering::SeqCst);
    *gated.gate.0.lock().unwrap() = false;
    std::thread::scope(|scope| {
        // The first committer leads and blocks in fsync...
        let leader = scope.spawn(|| wal.commit(b"leader").unwrap());
        while wal.last_lsn() < Lsn(2) {
            std::thread::yield_now();
        }
        // ...while fifteen more append and wait.
        let followers: Vec<_> = (0..15)
            .map(|_| scope.spawn(|| wal.commit(b"follower").unwrap()))
            .collect();
        while wal.last_lsn() < Lsn(17) {
            std::thread::yield_now();
        }
        let (open, cond) = &*gated.gate;
        *open.lock().unwrap() = true;
        cond.notify_all();
        leader.join().unwrap();
        for follower in followers {
            follower.join().unwrap();
        }
    });
    assert_eq!(wal.durable_lsn(), Lsn(17));
    assert_eq!(
        gated.syncs.load(Ordering::SeqCst) - syncs_before,
        2,
        "16 commits, two fsyncs"
    );
}

#[test]
fn concurrent_committers_on_a_real_disk_all_get_distinct_durable_lsns() {
    let temp = tempfile::tempdir().unwrap();
    let (wal, _) = Wal::open(temp.path(), WalOptions::new().segment_size(4096)).unwrap();
    let lsns = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for thread in 0..8u8 {
            let (wal, lsns) = (&wal, &lsns);
            scope.spawn(move || {
                for i in 0..25u8 {
                    let lsn = wal.commit(&[thread, i]).unwrap();
                    assert!(wal.durable_lsn() >= lsn);
                    lsns.lock().unwrap().push((lsn, [thread, i]));
                }
            });
        }
    });
    let mut lsns = lsns.into_inner().unwrap();
    lsns.sort();
    drop(wal);
    let (wal, report) = Wal::open(temp.path(), WalOptions::default()).unwrap();
    assert_eq!(report.records, 200);
    let records: Vec<_> = wal
        .read_from(Lsn(1))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for ((lsn, payload), record) in lsns.iter().zip(&records) {
        assert_eq!((*lsn, &payload[..]), (record.lsn, &record.payload[..]));
    }
    assert_eq!(records.len(), 200);
}

#[test]
fn the_transaction_log_round_trips_transactions_in_every_codec() {
    for format in Format::ALL {
        let temp = tempfile::tempdir().unwrap();
        let codec = Codec::new(format);
        let (log, _) = TransactionLog::open(
            temp.path(),
            WalOptions::new().sync(SyncPolicy::Never),
            codec,
        )
        .unwrap();
        let mut written = Vec::new();
        for i in 0..5 {
            let mut tx =
                Transaction::new(Lsn::ZERO, Timestamp::from_micros(1_700_000_000_000_000 + i))
                    .with_cause(Cause::default().who("test"));
            tx.ops.push(Op::Delete {
                table: "t".to_owned(),
                key: Value::Int(i),
            });
            log.commit(&mut tx).unwrap();
            written.push(tx);
        }
        drop(log);
        let (log, _) = TransactionLog::open(temp.path(), WalOptions::default(), codec).unwrap();
        let read: Vec<Transaction> = log
            .read_from(Lsn(1))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(read, written, "{format}");
        assert_eq!(read[4].lsn, Lsn(5));
    }
}

/// Waiters for a write and waiters for a sync, many at once, in batches that rotate segments:
/// every one returns, and a commit is durable when it returns. (A leader that only writes leaves
/// the sync to a waiter of its batch, which must be woken to lead it.)
#[test]
fn waiters_for_writes_and_for_syncs_all_return_with_what_they_waited_for() {
    let temp = tempfile::tempdir().unwrap();
    let (wal, _) = Wal::open(temp.path(), WalOptions::new().segment_size(2048)).unwrap();
    std::thread::scope(|scope| {
        for thread in 0..16u8 {
            let wal = &wal;
            scope.spawn(move || {
                for i in 0..20u8 {
                    if (thread + i) % 3 == 0 {
                        let lsn = wal.append(&[thread, i]).unwrap();
                        wal.flush().unwrap();
                        assert!(wal.written_lsn() >= lsn);
                    } else {
                        let lsn = wal.commit(&[thread, i]).unwrap();
                        assert!(wal.durable_lsn() >= lsn);
                    }
                }
            });
        }
    });
    wal.sync().unwrap();
    assert_eq!(wal.durable_lsn(), Lsn(320));
}
