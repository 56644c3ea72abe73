//! Checkpoint support: [`Wal::truncate_before`] removes or archives the whole segments a snapshot
//! covers, and the archive is trimmed by the [`crate::Retention`] policy (age, bytes, count).

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use tabula_core::Lsn;

use crate::log::Wal;
use crate::reader::all_segments;
use crate::segment::{ARCHIVE_DIR, SegmentFile, archived_name, list_archive, list_live};
use crate::{Error, Result};

/// What [`Wal::truncate_before`] or [`Wal::apply_retention`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TruncateReport {
    /// Live segments moved to the archive, by their new paths.
    pub archived: Vec<PathBuf>,
    /// Segments deleted (live ones not archived, and archived ones past retention).
    pub removed: Vec<PathBuf>,
    /// Bytes no longer in the live log.
    pub bytes: u64,
}

/// A segment file and its size, from [`Wal::segments`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SegmentInfo {
    /// Its LSN range starts here.
    pub first_lsn: Lsn,
    /// Its path.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// When it was archived (Unix milliseconds), or `None` for a live segment.
    pub archived_at: Option<u64>,
}

impl Wal {
    /// Removes or archives (per [`crate::Retention::archive`]) every live segment whose records
    /// are all before `lsn`, then applies retention to the archive. The segment being appended to
    /// always stays, so the log always knows its last LSN. Call it with the LSN after a durable
    /// snapshot's.
    pub fn truncate_before(&self, lsn: Lsn) -> Result<TruncateReport> {
        let shared = &self.shared;
        let storage = &*shared.storage;
        let dir = &shared.dir;
        shared.check_poison()?;
        // No lock on the writer: commits go on while segments move. Only a segment with a later one
        // can be covered, and the segment being appended to is always the last: a rotation that
        // happens meanwhile only seals it (syncs it whole) and adds a new last one. The active
        // segment is checked too, for a listing that raced with a rename.
        let active = shared.writer.lock().active.as_ref().map(|a| a.first_lsn);
        let (live, _) = list_live(storage, dir).map_err(|e| Error::io("list", dir, e))?;
        let covered: Vec<&SegmentFile> = live
            .windows(2)
            .filter_map(|pair| match pair {
                [segment, next] if next.first_lsn <= lsn && Some(segment.first_lsn) != active => {
                    Some(segment)
                }
                _ => None,
            })
            .collect();
        let mut report = TruncateReport::default();
        if covered.is_empty() {
            return Ok(report);
        }
        let archive_dir = dir.join(ARCHIVE_DIR);
        let archive = shared.options.retention.archive;
        if archive {
            storage
                .create_dir_all(&archive_dir)
                .map_err(|e| Error::io("create directory", &archive_dir, e))?;
        }
        let now = unix_ms(shared.options.clock.now());
        // A crash between the archive's directory sync and the log's can leave a segment in
        // both; archiving it again replaces the archived copy (the same synced bytes) instead of
        // adding a second one that history reads would see as an overlap.
        let archived = if archive {
            list_archive(storage, dir).map_err(|e| Error::io("list", &archive_dir, e))?
        } else {
            Vec::new()
        };
        for segment in covered {
            report.bytes += file_len(self, &segment.path)?;
            if archive {
                let to = archived
                    .iter()
                    .find(|old| old.first_lsn == segment.first_lsn)
                    .map_or_else(
                        || archive_dir.join(archived_name(segment.first_lsn, now)),
                        |old| old.path.clone(),
                    );
                storage
                    .rename(&segment.path, &to)
                    .map_err(|e| Error::io("archive", &segment.path, e))?;
                report.archived.push(to);
            } else {
                storage
                    .remove(&segment.path)
                    .map_err(|e| Error::io("remove", &segment.path, e))?;
                report.removed.push(segment.path.clone());
            }
        }
        // The archive first: once the log directory's entry is durably gone, the archive's must
        // already be durable. A failed directory sync poisons the log like any failed fsync:
        // otherwise the next segment creation would sync the log directory and make the moved
        // segments vanish from both places on power loss.
        if archive {
            storage
                .sync_dir(&archive_dir)
                .map_err(|e| shared.poison(Error::sync(&archive_dir, e)))?;
        }
        storage
            .sync_dir(dir)
            .map_err(|e| shared.poison(Error::sync(dir, e)))?;
        shared
            .options
            .on_segments
            .call()
            .map_err(|e| Error::io("record the segments left in", dir, e))?;
        if archive {
            let trimmed = self.apply_retention_at(shared.options.clock.now())?;
            report.removed.extend(trimmed.removed);
        }
        Ok(report)
    }

    /// Applies the retention policy to the archive as of now (by [`crate::WalOptions::clock`]).
    pub fn apply_retention(&self) -> Result<TruncateReport> {
        self.apply_retention_at(self.shared.options.clock.now())
    }

    /// Applies the retention policy to the archive as if the time were `now`. The oldest archived
    /// segments go first, so what stays is always a contiguous stretch of history.
    pub fn apply_retention_at(&self, now: SystemTime) -> Result<TruncateReport> {
        let shared = &self.shared;
        let retention = &shared.options.retention;
        let archived = list_archive(&*shared.storage, &shared.dir)
            .map_err(|e| Error::io("list the archive of", &shared.dir, e))?;
        let mut sizes = Vec::with_capacity(archived.len());
        for segment in &archived {
            sizes.push(file_len(self, &segment.path)?);
        }
        let mut count = archived.len();
        let mut bytes: u64 = sizes.iter().sum();
        let now = unix_ms(now);
        let mut report = TruncateReport::default();
        for (segment, size) in archived.iter().zip(sizes) {
            let age_ms = now.saturating_sub(segment.archived_at.unwrap_or(now));
            let too_old = retention
                .max_age
                .is_some_and(|max| u128::from(age_ms) > max.as_millis());
            let too_many = retention.max_count.is_some_and(|max| count > max);
            let too_big = retention.max_bytes.is_some_and(|max| bytes > max);
            if !(too_old || too_many || too_big) {
                break;
            }
            shared
                .storage
                .remove(&segment.path)
                .map_err(|e| Error::io("remove", &segment.path, e))?;
            report.removed.push(segment.path.clone());
            report.bytes += size;
            count -= 1;
            bytes -= size;
        }
        if !report.removed.is_empty() {
            let archive_dir = shared.dir.join(ARCHIVE_DIR);
            shared
                .storage
                .sync_dir(&archive_dir)
                .map_err(|e| shared.poison(Error::sync(&archive_dir, e)))?;
        }
        Ok(report)
    }

    /// Every segment file, archived then live, in LSN order, with its size.
    pub fn segments(&self) -> Result<Vec<SegmentInfo>> {
        segment_infos(&*self.shared.storage, &self.shared.dir)
    }
}

/// Every segment file of the log in `dir`, archived then live, in LSN order, with its size.
pub(crate) fn segment_infos(
    storage: &dyn tabula_storage::Storage,
    dir: &std::path::Path,
) -> Result<Vec<SegmentInfo>> {
    let segments = all_segments(storage, dir)?;
    let mut out = Vec::with_capacity(segments.len());
    for segment in segments {
        out.push(SegmentInfo {
            bytes: len_of(storage, &segment.path)?,
            first_lsn: segment.first_lsn,
            path: segment.path,
            archived_at: segment.archived_at,
        });
    }
    Ok(out)
}

fn file_len(wal: &Wal, path: &std::path::Path) -> Result<u64> {
    len_of(&*wal.shared.storage, path)
}

fn len_of(storage: &dyn tabula_storage::Storage, path: &std::path::Path) -> Result<u64> {
    let file = storage
        .open(path, false)
        .map_err(|e| Error::io("open", path, e))?;
    file.len()
        .map_err(|e| Error::io("read the length of", path, e))
}

fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
