//! Recovery: verify every live segment, tell a torn tail from corruption, and repair what the
//! [`RecoveryMode`] allows. [`RecoveryReport`] says what was found and done.
//!
//! How damage is classified. A crash can only damage bytes that were not yet synced, and the log
//! never writes into a segment after a later one exists (a segment is synced before the next is
//! created). So damage is a *torn tail* only if it is in the last segment and no valid frame after
//! it proves the damaged record had been synced: every frame records in `synced` the highest LSN
//! known durable when it was framed. Damage in an earlier segment, a bad segment header (segments
//! are created under a temporary name and renamed once their header is synced), a segment missing
//! from the LSN sequence, or damage followed by a frame whose `synced` covers it, is corruption.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tabula_core::Lsn;

use crate::error::Evidence;
use crate::format::SEGMENT_HEADER_LEN;
use crate::options::{RecoveryMode, WalOptions};
use crate::scan::{Found, Proof, Scanner, Step};
use crate::segment::{SegmentFile, list_live};
use crate::{Error, Result};
use tabula_storage::{DamageKind, Storage};

/// What recovery found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecoveryReport {
    /// Live segments read.
    pub segments: usize,
    /// Valid records found.
    pub records: u64,
    /// The last valid record's LSN (`Lsn::ZERO` if none).
    pub last_lsn: Lsn,
    /// The torn tail removed: the end of the last segment, and any segments after it too short
    /// to hold a header (cut files).
    pub truncated: Vec<Damage>,
    /// What [`RecoveryMode::Salvage`] skipped (empty in other modes).
    pub lost: Vec<Damage>,
    /// Torn-tail bytes that held a *complete* record failing its check: a write cut short
    /// can leave one (the file grew, the data did not all land), but so can damage to a synced,
    /// acknowledged record, and nothing after it tells which. So its bytes are not deleted but
    /// moved to a file under `quarantine/` (named here) before the tail is cut.
    pub quarantined: Vec<(Damage, PathBuf)>,
    /// Leftover temporary files of an interrupted segment creation, removed.
    pub removed_temp_files: usize,
    /// How long recovery took.
    pub duration: Duration,
}

impl RecoveryReport {
    /// Bytes removed as a torn tail.
    #[must_use]
    pub fn bytes_truncated(&self) -> u64 {
        self.truncated.iter().map(|d| d.bytes).sum()
    }
}

/// A damaged range of a segment.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Damage {
    /// The segment file.
    pub segment: PathBuf,
    /// Where the damage starts.
    pub offset: u64,
    /// How many bytes are affected.
    pub bytes: u64,
    /// What was wrong.
    pub kind: DamageKind,
}

/// The state recovery leaves the log in.
#[derive(Debug)]
pub(crate) struct Recovered {
    pub(crate) report: RecoveryReport,
    /// The last live segment kept: its file and valid length.
    pub(crate) tail: Option<(SegmentFile, u64)>,
    /// The LSN the next record gets.
    pub(crate) next: Lsn,
}

/// Verifies the live segments in `dir`; if `repair`, truncates a torn tail and removes leftover
/// temporary files (both durably).
pub(crate) fn recover(
    storage: &dyn Storage,
    dir: &Path,
    options: &WalOptions,
    repair: bool,
) -> Result<Recovered> {
    let started = Instant::now();
    let (segments, temps) = list_live(storage, dir).map_err(|e| Error::io("list", dir, e))?;
    let mut walk = Walk {
        mode: options.recovery,
        report: RecoveryReport {
            segments: segments.len(),
            ..RecoveryReport::default()
        },
        cut_segments: Vec::new(),
    };
    let mut expected: Option<Lsn> = None;
    let mut tail = None;
    let last_whole = last_whole_segment(storage, &segments)?;
    for (index, segment) in segments.iter().enumerate() {
        let is_last = last_whole.is_none_or(|last| index >= last);
        let mut scan = Scanner::open(storage, &segment.path)?;
        let Some(first) = walk.segment_start(&mut scan, segment, expected, options, is_last)?
        else {
            continue;
        };
        let (next, valid_len) = walk.frames(&mut scan, segment, first, is_last)?;
        expected = Some(next);
        tail = Some((segment.clone(), valid_len));
    }
    let Walk {
        mode,
        mut report,
        cut_segments,
    } = walk;
    if repair {
        let temps = if mode == RecoveryMode::AbsoluteConsistency {
            // Leftover temporary files are not part of the log; strict mode still changes
            // nothing.
            &[][..]
        } else {
            &temps[..]
        };
        report.quarantined = quarantine(storage, dir, &report.truncated)?;
        apply_repair(storage, dir, &cut_segments, tail.as_ref(), &report, temps)?;
        report.removed_temp_files = temps.len();
    }
    report.duration = started.elapsed();
    Ok(Recovered {
        report,
        tail,
        next: expected.unwrap_or(options.first_lsn),
    })
}

/// The index of the last segment at least a header long: segments shorter than that at the end
/// of the log are cut files that hold no record, and the one before them is the last that
/// counts.
fn last_whole_segment(storage: &dyn Storage, segments: &[SegmentFile]) -> Result<Option<usize>> {
    let mut lens = Vec::with_capacity(segments.len());
    for segment in segments {
        let file = storage
            .open(&segment.path, false)
            .map_err(|e| Error::io("open", &segment.path, e))?;
        lens.push(
            file.len()
                .map_err(|e| Error::io("read the length of", &segment.path, e))?,
        );
    }
    Ok(lens
        .iter()
        .rposition(|&len| len >= SEGMENT_HEADER_LEN as u64))
}

/// Recovery's walk over the live segments: what it found so far.
struct Walk {
    mode: RecoveryMode,
    report: RecoveryReport,
    /// Segments shorter than a header that repair removes.
    cut_segments: Vec<PathBuf>,
}

impl Walk {
    /// The first LSN of `segment` (whose records should start at `expected`), or `None` if the
    /// walk passes it over (a cut last segment, or salvage of a damaged header).
    fn segment_start(
        &mut self,
        scan: &mut Scanner,
        segment: &SegmentFile,
        expected: Option<Lsn>,
        options: &WalOptions,
        is_last: bool,
    ) -> Result<Option<Lsn>> {
        let (mode, report, cut_segments) = (self.mode, &mut self.report, &mut self.cut_segments);
        let checked = check_header(scan, segment)?.and_then(|first| {
            match sequence_gap(first, expected, options.first_lsn) {
                // Salvage keeps a segment that follows lost records; an overlap is still refused.
                Some(kind)
                    if mode == RecoveryMode::Salvage && expected.is_some_and(|e| first > e) =>
                {
                    report.lost.push(Damage {
                        segment: segment.path.clone(),
                        offset: 0,
                        bytes: 0,
                        kind,
                    });
                    Ok(first)
                }
                Some(kind) => Err(kind),
                None => Ok(first),
            }
        });
        let first = match checked {
            Ok(first) => first,
            // Shorter than a header: only a cut file looks like this (a segment is renamed into
            // place once its header is synced), so at the end of the log it is a torn tail.
            Err(kind)
                if is_last
                    && scan.len() < SEGMENT_HEADER_LEN as u64
                    && mode != RecoveryMode::AbsoluteConsistency =>
            {
                report.truncated.push(Damage {
                    segment: segment.path.clone(),
                    offset: 0,
                    bytes: scan.len(),
                    kind,
                });
                cut_segments.push(segment.path.clone());
                return Ok(None);
            }
            Err(kind) if mode == RecoveryMode::Salvage => {
                if scan.len() < SEGMENT_HEADER_LEN as u64 {
                    // It holds no record; removing it loses nothing and keeps salvage idempotent.
                    cut_segments.push(segment.path.clone());
                }
                report.lost.push(Damage {
                    segment: segment.path.clone(),
                    offset: 0,
                    bytes: scan.len(),
                    kind,
                });
                return Ok(None);
            }
            Err(kind) => return Err(Error::corrupted(&segment.path, 0, kind)),
        };
        Ok(Some(first))
    }

    /// Reads the frames of `segment` from its first LSN `first`: returns the LSN after the last
    /// valid record and the length the segment keeps (shorter than the file after a torn tail).
    fn frames(
        &mut self,
        scan: &mut Scanner,
        segment: &SegmentFile,
        first: Lsn,
        is_last: bool,
    ) -> Result<(Lsn, u64)> {
        let (mode, report) = (self.mode, &mut self.report);
        let mut next = first;
        let mut valid_len = scan.len();
        let mut evidence_end = 0;
        loop {
            let (offset, kind) = match scan.next_frame()? {
                Step::End => break,
                Step::Frame { header, .. } if header.lsn == next => {
                    next = next.next();
                    report.records += 1;
                    report.last_lsn = header.lsn;
                    continue;
                }
                Step::Frame { offset, header, .. } => (
                    offset,
                    DamageKind::Lsn {
                        expected: next.0,
                        found: header.lsn.0,
                    },
                ),
                Step::Damage { offset, kind } => (offset, kind),
            };
            // Only the last segment can have a torn tail; earlier ones were synced whole.
            let proof = if is_last {
                scan.proves_durable(offset, next)?
            } else {
                Proof::Unknown
            };
            if let Proof::At(at) = proof {
                evidence_end = evidence_end.max(at + 1);
            }
            // A frame that proved earlier damage was synced must survive (salvage goes on past
            // that damage): truncating it would make the next recovery judge differently.
            if is_last && proof == Proof::None && offset >= evidence_end {
                let damage = Damage {
                    segment: segment.path.clone(),
                    offset,
                    bytes: scan.len() - offset,
                    kind,
                };
                if mode == RecoveryMode::AbsoluteConsistency {
                    return Err(Error::TornTail {
                        segment: damage.segment,
                        offset,
                        bytes: damage.bytes,
                    });
                }
                report.truncated.push(damage);
                valid_len = offset;
                break;
            }
            if mode != RecoveryMode::Salvage {
                let evidence = match proof {
                    Proof::At(at) => Evidence::RecordAfter(at),
                    _ if is_last => Evidence::Unsearchable,
                    _ => Evidence::LaterSegment,
                };
                return Err(Error::Corrupted {
                    segment: segment.path.clone(),
                    offset,
                    kind,
                    evidence: Some(evidence),
                });
            }
            let resume = match scan.find_valid(offset, offset + 1, next)? {
                Found::Frame(at, header) => Some((at, header)),
                Found::Nothing | Found::Exhausted => None,
            };
            let end = resume.map_or(scan.len(), |(at, _)| at);
            report.lost.push(Damage {
                segment: segment.path.clone(),
                offset,
                bytes: end - offset,
                kind,
            });
            let Some((at, header)) = resume else { break };
            scan.seek(at);
            next = header.lsn;
        }
        Ok((next, valid_len))
    }
}

/// The directory, inside the log's, that keeps the bytes of torn tails that may have held an
/// acknowledged commit.
pub const QUARANTINE_DIR: &str = "quarantine";

/// Whether a torn tail's damage is a complete record that failed its check (rather than a
/// record cut short), so it may have been acknowledged.
pub fn may_be_acknowledged(kind: &DamageKind) -> bool {
    !matches!(kind, DamageKind::Truncated { .. })
}

/// Copies the bytes of each torn tail in `truncated` that may have been acknowledged to
/// `quarantine/<segment>.<offset>.bin`, synced with its name, before anything is cut.
fn quarantine(
    storage: &dyn Storage,
    dir: &Path,
    truncated: &[Damage],
) -> Result<Vec<(Damage, PathBuf)>> {
    let mut kept = Vec::new();
    let to = dir.join(QUARANTINE_DIR);
    for damage in truncated.iter().filter(|d| may_be_acknowledged(&d.kind)) {
        storage
            .create_dir_all(&to)
            .map_err(|e| Error::io("create directory", &to, e))?;
        let name = damage
            .segment
            .file_name()
            .map_or_else(|| "segment".into(), |n| n.to_string_lossy().into_owned());
        let path = to.join(format!("{name}.{}.bin", damage.offset));
        let source = storage
            .open(&damage.segment, false)
            .map_err(|e| Error::io("open", &damage.segment, e))?;
        let mut bytes = vec![0; usize::try_from(damage.bytes).unwrap_or(0)];
        let n = tabula_storage::read_full(&*source, damage.offset, &mut bytes)
            .map_err(|e| Error::io("read", &damage.segment, e))?;
        bytes.truncate(n);
        let mut file = storage
            .create(&path)
            .map_err(|e| Error::io("create", &path, e))?;
        file.append(&bytes)
            .map_err(|e| Error::io("write", &path, e))?;
        file.sync_data().map_err(|e| Error::sync(&path, e))?;
        storage.sync_dir(&to).map_err(|e| Error::sync(&to, e))?;
        kept.push((damage.clone(), path));
    }
    Ok(kept)
}

/// Repair: removes the cut segments, truncates the torn tail of the last one and removes the
/// leftover temporary files `temps`, each made durable.
fn apply_repair(
    storage: &dyn Storage,
    dir: &Path,
    cut_segments: &[PathBuf],
    tail: Option<&(SegmentFile, u64)>,
    report: &RecoveryReport,
    temps: &[String],
) -> Result<()> {
    for path in cut_segments {
        storage
            .remove(path)
            .map_err(|e| Error::io("remove", path, e))?;
    }
    if !cut_segments.is_empty() {
        storage.sync_dir(dir).map_err(|e| Error::sync(dir, e))?;
    }
    if let Some((segment, valid_len)) = tail
        && report.truncated.iter().any(|d| d.segment == segment.path)
    {
        let mut file = storage
            .open(&segment.path, true)
            .map_err(|e| Error::io("open", &segment.path, e))?;
        file.truncate(*valid_len)
            .map_err(|e| Error::io("truncate", &segment.path, e))?;
        file.sync_data()
            .map_err(|e| Error::sync(&segment.path, e))?;
    }
    for name in temps {
        let path = dir.join(name);
        storage
            .remove(&path)
            .map_err(|e| Error::io("remove", &path, e))?;
    }
    if !temps.is_empty() {
        storage.sync_dir(dir).map_err(|e| Error::sync(dir, e))?;
    }
    Ok(())
}

/// Checks a segment's header against its name.
fn check_header(scan: &mut Scanner, segment: &SegmentFile) -> Result<Result<Lsn, DamageKind>> {
    let header = match scan.header()? {
        Ok(header) => header,
        Err(kind) => return Ok(Err(kind)),
    };
    if header.first_lsn != segment.first_lsn {
        // The file name is the first LSN the header should give.
        return Ok(Err(DamageKind::Lsn {
            expected: segment.first_lsn.0,
            found: header.first_lsn.0,
        }));
    }
    Ok(Ok(header.first_lsn))
}

/// Why a segment starting at `first` does not follow one that ends before `expected`.
///
/// A gap is no damage when the segment starts at or before `floor`, the first LSN the caller
/// needs (the one after its snapshot): the records in the gap are in the snapshot. It happens when
/// a crash interrupts a checkpoint's removal of covered segments and the file system made a later
/// removal durable but not an earlier one, as POSIX allows without a directory fsync.
fn sequence_gap(first: Lsn, expected: Option<Lsn>, floor: Lsn) -> Option<DamageKind> {
    let gap = DamageKind::Lsn {
        expected: expected?.0,
        found: first.0,
    };
    match expected {
        // Records are missing.
        Some(expected) if first > expected && first > floor => Some(gap),
        // The segment overlaps the previous one.
        Some(expected) if first < expected => Some(gap),
        _ => None,
    }
}
