//! [`verify`]: a read-only check of every byte of a log directory, live and archived segments,
//! for tools in the spirit of `redis-check-aof`. It changes nothing: damage is reported with its
//! segment, offset and size, and classified exactly as recovery would (a torn tail, which opening
//! removes, versus corruption, which opening refuses), so a checker and the database never
//! disagree about what is wrong.
//!
//! Beyond recovery's checks, every valid record's payload goes through the caller's `check` (the
//! engine decodes the transaction), and archived segments are checked too: their frames, and that
//! their LSNs run on without a gap or overlap into the live log.

use std::path::{Path, PathBuf};

use tabula_core::Lsn;

use crate::options::{RecoveryMode, WalOptions};
use crate::recovery::{Damage, recover};
use crate::scan::{Scanner, Step};
use crate::segment::{SegmentFile, list_archive, list_live};
use crate::{Error, Result};
use tabula_storage::{DamageKind, FsStorage, Storage};

/// What [`verify`] does with each valid record: `Err(reason)` reports it as corruption.
pub type RecordCheck<'a> = &'a mut dyn FnMut(Lsn, &[u8]) -> std::result::Result<(), String>;

/// What [`verify`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifyReport {
    /// Live segments checked.
    pub segments: usize,
    /// Archived segments checked.
    pub archived_segments: usize,
    /// Valid records found (live and archived).
    pub records: u64,
    /// The first record's LSN (`Lsn::ZERO` if none).
    pub first_lsn: Lsn,
    /// The last valid record's LSN (`Lsn::ZERO` if none).
    pub last_lsn: Lsn,
    /// Bytes checked.
    pub bytes: u64,
    /// A torn tail: the end of the last segment (and cut files after it) that a crash left
    /// unfinished. Opening the log removes it; no acknowledged commit is in it.
    pub torn_tail: Vec<Damage>,
    /// Corruption: damage opening the log refuses (in a sealed segment, a header, a gap in the
    /// LSN sequence, a record a later one proves was synced, or a payload `check` rejected).
    pub corruption: Vec<Damage>,
    /// Damage in archived segments (or a gap between the archive and the live log). Opening
    /// does not read the archive, so this loses only history before the live log.
    pub archive_damage: Vec<Damage>,
    /// Archived copies of segments that are still live (a crash between archiving one and
    /// syncing the log directory leaves them; the next checkpoint replaces them). Not damage.
    pub stray_archive: Vec<PathBuf>,
    /// Leftover temporary files of an interrupted segment creation (opening removes them).
    pub temp_files: Vec<PathBuf>,
}

impl VerifyReport {
    /// True when nothing is damaged: no torn tail and no corruption.
    #[must_use]
    pub fn is_healthy(&self) -> bool {
        self.torn_tail.is_empty() && self.corruption.is_empty() && self.archive_damage.is_empty()
    }
}

/// Checks the log in `dir` (as [`crate::Wal`] lays it out) without changing anything, and hands
/// each valid record's payload to `check`, whose `Err(reason)` is reported as corruption at that
/// record. A missing directory is an empty log. I/O errors are errors, not damage.
pub fn verify(
    dir: impl AsRef<Path>,
    options: &WalOptions,
    check: RecordCheck<'_>,
) -> Result<VerifyReport> {
    verify_on(&FsStorage, dir.as_ref(), options, check)
}

/// [`verify`] on a [`Storage`].
pub fn verify_on(
    storage: &dyn Storage,
    dir: &Path,
    options: &WalOptions,
    check: RecordCheck<'_>,
) -> Result<VerifyReport> {
    verify_parts(storage, dir, options, check, true)
}

/// As [`verify`], for the live segments only (what opening reads): a read-only open's view of
/// the log, which changes nothing and leaves the archive unread.
pub fn verify_live(
    dir: impl AsRef<Path>,
    options: &WalOptions,
    check: RecordCheck<'_>,
) -> Result<VerifyReport> {
    verify_parts(&FsStorage, dir.as_ref(), options, check, false)
}

fn verify_parts(
    storage: &dyn Storage,
    dir: &Path,
    options: &WalOptions,
    check: RecordCheck<'_>,
    with_archive: bool,
) -> Result<VerifyReport> {
    let mut report = VerifyReport::default();
    match storage.list(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(report),
        Err(e) => return Err(Error::io("list", dir, e)),
        Ok(_) => {}
    }
    // Salvage goes on past damage, so one pass reports all of it; nothing is repaired.
    let salvage = WalOptions {
        recovery: RecoveryMode::Salvage,
        ..options.clone()
    };
    let recovered = recover(storage, dir, &salvage, false)?.report;
    report.segments = recovered.segments;
    report.torn_tail = recovered.truncated;
    report.corruption = recovered.lost;
    let (live, temps) = list_live(storage, dir).map_err(|e| Error::io("list", dir, e))?;
    report.temp_files = temps.iter().map(|name| dir.join(name)).collect();
    let mut archived = if with_archive {
        list_archive(storage, dir).map_err(|e| Error::io("list", dir, e))?
    } else {
        Vec::new()
    };
    // A crash between archiving a segment and syncing the log directory can leave it in both
    // places: the live one is the log, and the next checkpoint replaces the archived copy. Such
    // a copy is not damage (it used to be reported as a gap, which read as if opening refused).
    if let Some(first_live) = live.first().map(|s| s.first_lsn) {
        let (stray, kept): (Vec<_>, Vec<_>) = archived.into_iter().partition(|a| {
            a.first_lsn >= first_live && live.iter().any(|l| l.first_lsn == a.first_lsn)
        });
        report.stray_archive = stray.into_iter().map(|s| s.path).collect();
        archived = kept;
    }
    report.archived_segments = archived.len();

    let mut expected: Option<Lsn> = None;
    for segment in &archived {
        check_archived(storage, segment, &mut expected, &mut report, check)?;
    }
    if let (Some(expected), Some(first)) = (expected, live.first())
        && first.first_lsn != expected
    {
        report.archive_damage.push(Damage {
            segment: first.path.clone(),
            offset: 0,
            bytes: 0,
            kind: DamageKind::Lsn {
                expected: expected.0,
                found: first.first_lsn.0,
            },
        });
    }
    // Recovery checked the live frames; read them again only for their payloads, up to the
    // first damage recovery found in each segment (what is past it is not part of the log).
    let damaged: Vec<(PathBuf, u64)> = report
        .torn_tail
        .iter()
        .chain(&report.corruption)
        .map(|d| (d.segment.clone(), d.offset))
        .collect();
    let mut next: Option<Lsn> = None;
    for segment in &live {
        let stop = damaged
            .iter()
            .filter(|(path, _)| path == &segment.path)
            .map(|(_, offset)| *offset)
            .min();
        let mut scan = Scanner::open(storage, &segment.path)?;
        report.bytes += scan.len();
        if scan.header()?.is_err() {
            continue;
        }
        while let Step::Frame { offset, header } = scan.next_frame()? {
            if stop.is_some_and(|stop| offset >= stop) || next.is_some_and(|n| header.lsn != n) {
                break;
            }
            next = Some(header.lsn.next());
            count(&mut report, header.lsn);
            if let Err(reason) = check(header.lsn, scan.last_payload()) {
                report.corruption.push(Damage {
                    segment: segment.path.clone(),
                    offset,
                    bytes: 0,
                    kind: DamageKind::Payload {
                        lsn: header.lsn.0,
                        error: reason,
                    },
                });
            }
        }
    }
    Ok(report)
}

fn count(report: &mut VerifyReport, lsn: Lsn) {
    report.records += 1;
    if report.first_lsn == Lsn::ZERO || lsn < report.first_lsn {
        report.first_lsn = lsn;
    }
    report.last_lsn = report.last_lsn.max(lsn);
}

/// An archived segment was sealed before it was archived: any damage in it is corruption.
fn check_archived(
    storage: &dyn Storage,
    segment: &SegmentFile,
    expected: &mut Option<Lsn>,
    report: &mut VerifyReport,
    check: RecordCheck<'_>,
) -> Result<()> {
    let mut scan = Scanner::open(storage, &segment.path)?;
    report.bytes += scan.len();
    let damage = |offset: u64, bytes: u64, kind: DamageKind| Damage {
        segment: segment.path.clone(),
        offset,
        bytes,
        kind,
    };
    let header = match scan.header()? {
        Ok(header) if header.first_lsn == segment.first_lsn => header,
        Ok(header) => {
            report.archive_damage.push(damage(
                0,
                scan.len(),
                DamageKind::Lsn {
                    expected: segment.first_lsn.0,
                    found: header.first_lsn.0,
                },
            ));
            *expected = None;
            return Ok(());
        }
        Err(kind) => {
            report.archive_damage.push(damage(0, scan.len(), kind));
            *expected = None;
            return Ok(());
        }
    };
    if let Some(want) = *expected
        && header.first_lsn != want
    {
        report.archive_damage.push(damage(
            0,
            0,
            DamageKind::Lsn {
                expected: want.0,
                found: header.first_lsn.0,
            },
        ));
    }
    let mut next = header.first_lsn;
    loop {
        match scan.next_frame()? {
            Step::End => break,
            Step::Frame { offset, header } if header.lsn == next => {
                count(report, header.lsn);
                next = next.next();
                if let Err(reason) = check(header.lsn, scan.last_payload()) {
                    report.archive_damage.push(damage(
                        offset,
                        0,
                        DamageKind::Payload {
                            lsn: header.lsn.0,
                            error: reason,
                        },
                    ));
                }
            }
            Step::Frame { offset, header } => {
                report.archive_damage.push(damage(
                    offset,
                    scan.len() - offset,
                    DamageKind::Lsn {
                        expected: next.0,
                        found: header.lsn.0,
                    },
                ));
                // The rest of this segment is unknown: the next one starts a fresh sequence.
                *expected = None;
                return Ok(());
            }
            Step::Damage { offset, kind } => {
                report
                    .archive_damage
                    .push(damage(offset, scan.len() - offset, kind));
                *expected = None;
                return Ok(());
            }
        }
    }
    *expected = Some(next);
    Ok(())
}
