//! Continuous archiving, Litestream's idea to a directory: with [`crate::Options::archive_to`],
//! every sealed log segment and every snapshot is copied to a second directory as it is
//! produced, so that the database can be rebuilt elsewhere ([`restore_archive`]) up to the last
//! sealed segment, even if its own directory is lost.
//!
//! The archive has a database directory's layout, so a restore is a copy:
//!
//! ```text
//! ARCHIVE/
//!   snapshots/snap-<lsn>.tsnap   every checkpoint's snapshot
//!   wal/<first lsn>.log          every sealed segment (synced whole before the next began)
//! ```
//!
//! When: the engine's background thread copies what is new at every tick (at most 500 ms
//! apart), and a checkpoint copies before it removes or archives the segments it covers, so no
//! segment leaves the log unarchived. A file is copied to a temporary name, synced, renamed, and
//! the directory synced: the archive only ever holds whole files. The segment being appended to
//! is not copied; what it holds is lost with the directory (Litestream ships it every second;
//! a smaller `segment_size` seals more often). [`Options::archive_retention`] prunes it after each
//! pass: snapshots by count and age (the newest always stays, default 7 days), and with them the
//! segments before the oldest snapshot left.
//!
//! [`restore_archive`] brings the whole archive: every snapshot, the segments after the newest
//! readable one as the live log, and the ones before it as the new database's archived log, so
//! `as_of` and `restore --to` reach any point the archive holds, not only its end.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tabula_core::Lsn;
use tabula_snapshot::{LoadOptions, SnapshotStore};
use tabula_storage::{FsStorage, Storage};

use super::Maintenance;
use crate::db::{Engine, Inner, RecoveryReport, SNAPSHOT_DIR, WAL_DIR};
use crate::error::io;
use crate::{Error, Options, Result};

/// What one archiving pass copied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ArchiveReport {
    /// Segments copied.
    pub segments: usize,
    /// Snapshots copied.
    pub snapshots: usize,
    /// Bytes copied.
    pub bytes: u64,
    /// The last LSN the archive can restore to (the end of its last segment, or its newest
    /// snapshot), if known.
    pub restorable_to: Option<Lsn>,
    /// Files the archive's retention ([`Options::archive_retention`]) removed.
    pub pruned: usize,
}

/// The names in `dir` (none if it does not exist).
fn names(storage: &dyn Storage, dir: &Path) -> Result<Vec<String>> {
    match storage.list(dir) {
        Ok(names) => Ok(names),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(io("list", dir)(e)),
    }
}

/// Copies the sealed segments and snapshots the archive lacks: the worker's `Archive` job. The
/// caller holds the maintenance lock, so that no checkpoint moves segments meanwhile.
pub(crate) fn copy_new(inner: &Inner) -> Result<ArchiveReport> {
    let (Some(archive), Some(log), Some(snapshots)) =
        (&inner.options().archive, inner.log(), inner.snapshots())
    else {
        return Ok(ArchiveReport::default());
    };
    let storage = &**inner.storage();
    let wal_dir = archive.join(WAL_DIR);
    let snap_dir = archive.join(SNAPSHOT_DIR);
    for dir in [&wal_dir, &snap_dir] {
        storage
            .create_dir_all(dir)
            .map_err(io("create directory", dir))?;
    }
    let mut report = ArchiveReport::default();
    // What the archive's retention removed is not copied again (the local log and snapshots
    // may still hold it): segments before its oldest segment, snapshots before its oldest
    // snapshot. Copies only ever add newer files, so anything older was pruned.
    let have = names(storage, &wal_dir)?;
    let oldest_segment = have
        .iter()
        .filter_map(|name| tabula_wal::parse_segment_name(name))
        .min();
    let oldest_snapshot = archive_snapshots(inner.storage(), &snap_dir)?
        .first()
        .map(|s| s.lsn);

    let segments = log.wal().segments()?;
    // The last live segment is being appended to; every other one is sealed.
    let active = segments
        .iter()
        .rev()
        .find(|s| s.archived_at.is_none())
        .map(|s| s.first_lsn);
    for segment in segments.iter().filter(|s| Some(s.first_lsn) != active) {
        if oldest_segment.is_some_and(|oldest| segment.first_lsn < oldest) {
            continue;
        }
        let name = tabula_wal::segment_name(segment.first_lsn);
        if !have.contains(&name) {
            let to = wal_dir.join(&name);
            report.bytes +=
                tabula_storage::copy_file(storage, &segment.path, &to).map_err(io("copy", &to))?;
            report.segments += 1;
        }
    }
    if report.segments > 0 {
        storage.sync_dir(&wal_dir).map_err(io("sync", &wal_dir))?;
    }
    report.restorable_to = active.and_then(|first| first.0.checked_sub(1)).map(Lsn);

    let have = names(storage, &snap_dir)?;
    let mut newest_snapshot = None;
    for snapshot in snapshots.list()? {
        newest_snapshot = Some(snapshot.lsn);
        if oldest_snapshot.is_some_and(|oldest| snapshot.lsn < oldest) {
            continue;
        }
        let Some(name) = snapshot.path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if !have.iter().any(|h| h == name) {
            let to = snap_dir.join(name);
            report.bytes +=
                tabula_storage::copy_file(storage, &snapshot.path, &to).map_err(io("copy", &to))?;
            report.snapshots += 1;
        }
    }
    if report.snapshots > 0 {
        storage.sync_dir(&snap_dir).map_err(io("sync", &snap_dir))?;
    }
    report.restorable_to = report.restorable_to.max(newest_snapshot);
    let now = crate::clock::wal_clock(&inner.options().clock).now();
    report.pruned = prune(
        inner.storage(),
        archive,
        &inner.options().archive_retention,
        now,
    )?;
    Ok(report)
}

/// The snapshots of the archive's `snap_dir`, oldest first (none if it does not exist).
fn archive_snapshots(
    storage: &Arc<dyn Storage>,
    snap_dir: &Path,
) -> Result<Vec<tabula_snapshot::SnapshotFile>> {
    if names(&**storage, snap_dir)?.is_empty() {
        return Ok(Vec::new());
    }
    Ok(SnapshotStore::open_on(Arc::clone(storage), snap_dir)?.list()?)
}

/// Applies `retention` to the archive as of `now`: old snapshots go (the newest always stays),
/// and when some did, every segment whose records all come before the oldest snapshot left.
/// Returns the files removed.
fn prune(
    storage: &Arc<dyn Storage>,
    archive: &Path,
    retention: &tabula_snapshot::SnapshotRetention,
    now: std::time::SystemTime,
) -> Result<usize> {
    let snap_dir = archive.join(SNAPSHOT_DIR);
    if archive_snapshots(storage, &snap_dir)?.is_empty() {
        return Ok(0);
    }
    let store =
        SnapshotStore::open_on(Arc::clone(storage), &snap_dir)?.with_retention(retention.clone());
    let mut removed = store.apply_retention_at(now)?.len();
    // Segments go only with the snapshots before them: while every snapshot stays, the log from
    // LSN 1 keeps the points before the first one.
    let Some(oldest) = store.list()?.first().map(|s| s.lsn).filter(|_| removed > 0) else {
        return Ok(removed);
    };
    let wal_dir = archive.join(WAL_DIR);
    let mut segments: Vec<Lsn> = names(&**storage, &wal_dir)?
        .iter()
        .filter_map(|name| tabula_wal::parse_segment_name(name))
        .collect();
    segments.sort();
    let covered: Vec<Lsn> = segments
        .windows(2)
        .filter_map(|pair| match pair {
            [first, next] if *next <= oldest.next() => Some(*first),
            _ => None,
        })
        .collect();
    for first in &covered {
        let path = wal_dir.join(tabula_wal::segment_name(*first));
        storage.remove(&path).map_err(io("remove", &path))?;
        removed += 1;
    }
    if !covered.is_empty() {
        storage.sync_dir(&wal_dir).map_err(io("sync", &wal_dir))?;
    }
    Ok(removed)
}

impl Engine {
    /// Copies to the archive directory ([`Options::archive_to`]) the sealed segments and
    /// snapshots it lacks, now (the background thread does it at every tick). Nothing without
    /// an archive directory.
    ///
    /// # Errors
    /// I/O errors.
    pub fn archive_now(&self) -> Result<ArchiveReport> {
        Maintenance::exclusive(&self.inner, || copy_new(&self.inner))
    }
}

/// Makes a new database directory `dir` from the archive `archive`: every snapshot, the segments
/// after the newest readable one as its log and the ones before as its archived log (so history
/// reaches as far back as the archive does); then opens it once with `options`, which recovers and
/// checks it, and returns what that recovery did (`replayed`, and the LSN reached in the
/// database it returns).
///
/// # Errors
/// `dir` holding anything ([`Error::NotEmpty`]); an archive with no snapshot and no log
/// ([`Error::EmptyArchive`]), or with a gap in its log after the snapshot ([`Error::LogGap`]);
/// I/O and recovery errors.
pub fn restore_archive(
    archive: impl AsRef<Path>,
    dir: impl AsRef<Path>,
    options: Options,
) -> Result<(Lsn, RecoveryReport)> {
    let (archive, dir) = (archive.as_ref(), dir.as_ref());
    let storage: Arc<dyn Storage> = Arc::new(FsStorage);
    let snap_dir = archive.join(SNAPSHOT_DIR);
    let snapshot_files = archive_snapshots(&storage, &snap_dir)?;
    let snapshot = if snapshot_files.is_empty() {
        None
    } else {
        let store = SnapshotStore::open_on(Arc::clone(&storage), &snap_dir)?;
        match store.load_newest(&LoadOptions::with_limits(options.limits)) {
            Ok(newest) => newest.map(|newest| newest.file),
            // Every snapshot damaged: the log alone, if it starts at LSN 1 (checked below).
            Err(tabula_snapshot::Error::NoValidSnapshot { .. }) => None,
            Err(e) => return Err(e.into()),
        }
    };
    let base = snapshot.as_ref().map_or(Lsn::ZERO, |s| s.lsn);

    let wal_dir = archive.join(WAL_DIR);
    let mut segments: Vec<(Lsn, PathBuf)> = names(&*storage, &wal_dir)?
        .into_iter()
        .filter_map(|name| {
            tabula_wal::parse_segment_name(&name).map(|lsn| (lsn, wal_dir.join(name)))
        })
        .collect();
    segments.sort();
    // From the segment that holds the first LSN after the snapshot (or, if the snapshot is newer
    // than every segment holds, none).
    let start = segments
        .iter()
        .rposition(|(first, _)| *first <= base.next())
        .unwrap_or(0);
    let (history, needed) = segments.split_at(start.min(segments.len()));
    if snapshot.is_none() && needed.is_empty() {
        return Err(Error::EmptyArchive {
            dir: archive.to_path_buf(),
        });
    }
    if let Some((first, _)) = needed.first()
        && *first > base.next()
    {
        return Err(Error::LogGap {
            log_start: *first,
            needed: base.next(),
        });
    }
    let archived_at = crate::clock::wal_clock(&options.clock)
        .now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));

    crate::history::backup::build_new_dir(dir, |building| {
        let target_wal = building.join(WAL_DIR);
        let target_snap = building.join(SNAPSHOT_DIR);
        let target_history = target_wal.join(tabula_wal::ARCHIVE_DIR);
        for d in [&target_wal, &target_snap, &target_history] {
            storage
                .create_dir_all(d)
                .map_err(io("create directory", d))?;
        }
        // Every snapshot, damaged ones aside (opening would skip them anyway).
        let usable = |file: &tabula_snapshot::SnapshotFile| {
            snapshot
                .as_ref()
                .is_some_and(|newest| file.lsn <= newest.lsn)
        };
        for file in snapshot_files.iter().filter(|f| usable(f)) {
            if let Some(name) = file.path.file_name() {
                let to = target_snap.join(name);
                tabula_storage::copy_file(&*storage, &file.path, &to).map_err(io("copy", &to))?;
            }
        }
        storage
            .sync_dir(&target_snap)
            .map_err(io("sync", &target_snap))?;
        for (first, path) in needed {
            let to = target_wal.join(tabula_wal::segment_name(*first));
            tabula_storage::copy_file(&*storage, path, &to).map_err(io("copy", &to))?;
        }
        // The history before the newest snapshot, as the new database's archived log.
        for (first, path) in history {
            let to = target_history.join(tabula_wal::archived_segment_name(*first, archived_at));
            tabula_storage::copy_file(&*storage, path, &to).map_err(io("copy", &to))?;
        }
        for d in [&target_history, &target_wal] {
            storage.sync_dir(d).map_err(io("sync", d))?;
        }
        let (engine, report) = Engine::open_on(Arc::clone(&storage), building, options)?;
        let lsn = engine.read().lsn();
        engine.close()?;
        Ok((lsn, report))
    })
}
