//! [`Records`]: iterate the log's records in LSN order from a given LSN, through archived and live
//! segments (for replay, time travel, the change feed and `tabula log`).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tabula_core::Lsn;

use crate::log::Wal;
use crate::options::RecoveryMode;
use crate::scan::{Found, Scanner, Step};
use crate::segment::{SegmentFile, list_archive, list_live};
use crate::{Error, Result};
use tabula_storage::{DamageKind, Storage};

/// One record read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    /// Its LSN.
    pub lsn: Lsn,
    /// Its payload, as appended.
    pub payload: Vec<u8>,
}

/// An iterator over records, from [`Wal::read_from`]. It yields each record once, in LSN order,
/// up to the last record written when it was created; damage ends it with an error (or, when the
/// log was opened in `Salvage` mode, is skipped).
#[derive(Debug)]
pub struct Records {
    storage: Arc<dyn Storage>,
    segments: VecDeque<SegmentFile>,
    scan: Option<Scanner>,
    next: Option<Lsn>,
    from: Lsn,
    until: Lsn,
    salvage: bool,
    done: bool,
}

impl Wal {
    /// Reads records from `from` (inclusive) to the last one written to the OS now. `from` before
    /// the oldest retained record is [`Error::Pruned`].
    ///
    /// Written is not durable: under `EverySecond` or `Never` (or for records appended but not yet
    /// committed under `Always`) a power loss can still take back records this yields. A reader
    /// that must only see durable records, such as a replica or a change feed promising no
    /// retractions, stops at [`Wal::durable_lsn`] (`take_while(|r| r.lsn <= durable)`).
    pub fn read_from(&self, from: Lsn) -> Result<Records> {
        let shared = &self.shared;
        records(
            &shared.storage,
            &shared.dir,
            from,
            self.written_lsn(),
            shared.options.recovery == RecoveryMode::Salvage,
        )
    }

    /// The oldest LSN still readable (in the archive or the live log); `None` if the log has no
    /// segments.
    pub fn oldest_lsn(&self) -> Result<Option<Lsn>> {
        let segments = all_segments(&*self.shared.storage, &self.shared.dir)?;
        Ok(segments.first().map(|s| s.first_lsn))
    }
}

/// Records from `from` to `until` of the log in `dir`, through archived and live segments.
fn records(
    storage: &Arc<dyn Storage>,
    dir: &Path,
    from: Lsn,
    until: Lsn,
    salvage: bool,
) -> Result<Records> {
    let segments = all_segments(&**storage, dir)?;
    let from = from.max(Lsn(1));
    let start = segments.iter().rposition(|s| s.first_lsn <= from);
    let segments: VecDeque<SegmentFile> = match (start, segments.first()) {
        (Some(start), _) => segments.into_iter().skip(start).collect(),
        (None, Some(oldest)) if from <= until => {
            return Err(Error::Pruned {
                requested: from,
                oldest_available: oldest.first_lsn,
            });
        }
        _ => VecDeque::new(),
    };
    Ok(Records {
        storage: Arc::clone(storage),
        segments,
        scan: None,
        next: None,
        from,
        until,
        salvage,
        done: false,
    })
}

/// A log read without opening it: no lock, nothing written, the end of the log left as it is.
/// For a database opened read-only (beside its writer, or on read-only storage): it reads the
/// archived and live segments up to an LSN its owner has verified ([`LogReader::set_until`]),
/// so a writer's record in flight after it is never read.
#[derive(Debug)]
pub struct LogReader {
    storage: Arc<dyn Storage>,
    dir: PathBuf,
    until: AtomicU64,
}

impl LogReader {
    /// A reader of the log in `dir`, up to `until`.
    #[must_use]
    pub fn new(storage: Arc<dyn Storage>, dir: impl Into<PathBuf>, until: Lsn) -> LogReader {
        LogReader {
            storage,
            dir: dir.into(),
            until: AtomicU64::new(until.0),
        }
    }

    /// The last LSN it reads.
    #[must_use]
    pub fn until(&self) -> Lsn {
        Lsn(self.until.load(Ordering::Acquire))
    }

    /// Reads up to `until` from now on.
    pub fn set_until(&self, until: Lsn) {
        self.until.store(until.0, Ordering::Release);
    }

    /// Records from `from` to [`LogReader::until`], as [`Wal::read_from`].
    pub fn read_from(&self, from: Lsn) -> Result<Records> {
        records(&self.storage, &self.dir, from, self.until(), false)
    }

    /// The oldest LSN readable, as [`Wal::oldest_lsn`].
    pub fn oldest_lsn(&self) -> Result<Option<Lsn>> {
        let segments = all_segments(&*self.storage, &self.dir)?;
        Ok(segments.first().map(|s| s.first_lsn))
    }

    /// Every segment file, as [`Wal::segments`].
    pub fn segments(&self) -> Result<Vec<crate::SegmentInfo>> {
        crate::retention::segment_infos(&*self.storage, &self.dir)
    }
}

/// Archived and live segments in LSN order; a segment found in both (an archive rename the crash
/// image half kept) is read from the live directory.
pub(crate) fn all_segments(storage: &dyn Storage, dir: &Path) -> Result<Vec<SegmentFile>> {
    let (live, _) = list_live(storage, dir).map_err(|e| Error::io("list", dir, e))?;
    let mut all =
        list_archive(storage, dir).map_err(|e| Error::io("list the archive of", dir, e))?;
    all.retain(|archived| !live.iter().any(|l| l.first_lsn == archived.first_lsn));
    all.extend(live);
    all.sort_by_key(|s| s.first_lsn);
    Ok(all)
}

impl Records {
    fn fail<T>(&mut self, error: Error) -> Option<Result<T>> {
        self.done = true;
        Some(Err(error))
    }
}

impl Records {
    /// The next record, handed to `read` as a borrowed payload (no copy): for decoders.
    pub fn next_with<T>(&mut self, read: impl FnOnce(Lsn, &[u8]) -> T) -> Option<Result<T>> {
        match self.advance()? {
            Ok(lsn) => {
                let payload = self.scan.as_ref().map_or(&[][..], Scanner::last_payload);
                Some(Ok(read(lsn, payload)))
            }
            Err(error) => Some(Err(error)),
        }
    }

    /// Moves to the next record to yield; its payload is the scanner's last.
    fn advance(&mut self) -> Option<Result<Lsn>> {
        loop {
            if self.done || self.next.is_some_and(|next| next > self.until) {
                self.done = true;
                return None;
            }
            let Some(scan) = self.scan.as_mut() else {
                let segment = self.segments.pop_front()?;
                let mut scan = match Scanner::open(&*self.storage, &segment.path) {
                    Ok(scan) => scan,
                    Err(error) => return self.fail(error),
                };
                let first = match scan.header() {
                    Ok(Ok(header)) if header.first_lsn == segment.first_lsn => header.first_lsn,
                    Ok(Ok(header)) => {
                        let kind = DamageKind::Lsn {
                            expected: segment.first_lsn.0,
                            found: header.first_lsn.0,
                        };
                        return self.fail(Error::corrupted(&segment.path, 0, kind));
                    }
                    // Salvage skips a segment whose header is damaged (recovery reported it).
                    Ok(Err(_)) if self.salvage => continue,
                    Ok(Err(kind)) => {
                        return self.fail(Error::corrupted(&segment.path, 0, kind));
                    }
                    Err(error) => return self.fail(error),
                };
                match self.next {
                    Some(next) if first != next && !(self.salvage && first > next) => {
                        let kind = DamageKind::Lsn {
                            expected: next.0,
                            found: first.0,
                        };
                        return self.fail(Error::corrupted(&segment.path, 0, kind));
                    }
                    _ => self.next = Some(first),
                }
                self.scan = Some(scan);
                continue;
            };
            let expected = self.next.unwrap_or(Lsn(1));
            let (offset, kind) = match scan.next_frame() {
                Err(error) => return self.fail(error),
                Ok(Step::End) => {
                    self.scan = None;
                    continue;
                }
                Ok(Step::Frame { header, .. }) if header.lsn == expected => {
                    self.next = Some(expected.next());
                    if header.lsn > self.until {
                        self.done = true;
                        return None;
                    }
                    if header.lsn < self.from {
                        continue;
                    }
                    return Some(Ok(header.lsn));
                }
                Ok(Step::Frame { offset, header, .. }) => (
                    offset,
                    DamageKind::Lsn {
                        expected: expected.0,
                        found: header.lsn.0,
                    },
                ),
                Ok(Step::Damage { offset, kind }) => (offset, kind),
            };
            if !self.salvage {
                let error = Error::corrupted(scan.path(), offset, kind);
                return self.fail(error);
            }
            match scan.find_valid(offset, offset + 1, expected) {
                Ok(Found::Frame(at, header)) => {
                    scan.seek(at);
                    self.next = Some(header.lsn);
                }
                Ok(Found::Nothing | Found::Exhausted) => self.scan = None,
                Err(error) => return self.fail(error),
            }
        }
    }
}

impl Iterator for Records {
    type Item = Result<LogRecord>;

    fn next(&mut self) -> Option<Result<LogRecord>> {
        self.next_with(|lsn, payload| LogRecord {
            lsn,
            payload: payload.to_vec(),
        })
    }
}
