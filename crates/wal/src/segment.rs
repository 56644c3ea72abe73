//! Segment files by name: `wal/<first LSN, 20 digits>.log` for live segments,
//! `wal/<first LSN>.log.tmp` while one is being created, and
//! `wal/archive/<first LSN>.<archived at, Unix ms>.log` once a checkpoint covers it.
//! Twenty digits keep names in LSN order when sorted as text.

use std::io;
use std::path::{Path, PathBuf};

use tabula_core::Lsn;

use tabula_storage::Storage;

/// The subdirectory of archived segments.
pub const ARCHIVE_DIR: &str = "archive";
/// The lock file in the log directory.
pub const LOCK_FILE: &str = "LOCK";

/// A segment file found in the log directory or its archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentFile {
    /// The LSN its name gives for its first record.
    pub first_lsn: Lsn,
    /// Its path.
    pub path: PathBuf,
    /// When it was archived (Unix milliseconds), for archived segments.
    pub archived_at: Option<u64>,
}

/// The file name of the live segment whose first record is `first`: `<20-digit LSN>.log`.
#[must_use]
pub fn segment_name(first: Lsn) -> String {
    format!("{:020}.log", first.0)
}

/// The first LSN a live segment's file name gives, or `None` for any other name.
#[must_use]
pub fn parse_segment_name(name: &str) -> Option<Lsn> {
    name.strip_suffix(".log").and_then(parse_lsn)
}

pub(crate) fn temp_name(first: Lsn) -> String {
    format!("{:020}.log.tmp", first.0)
}

/// The file name of the archived segment whose first record is `first`, archived at `at_ms`
/// (Unix milliseconds): `<20-digit LSN>.<at_ms>.log`, in the log directory's `archive/`.
#[must_use]
pub fn archived_name(first: Lsn, at_ms: u64) -> String {
    format!("{:020}.{at_ms}.log", first.0)
}

fn parse_lsn(digits: &str) -> Option<Lsn> {
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().map(Lsn)
}

/// The live segments in `dir`, in LSN order, and the names of leftover temporary files.
pub(crate) fn list_live(
    storage: &dyn Storage,
    dir: &Path,
) -> io::Result<(Vec<SegmentFile>, Vec<String>)> {
    let mut segments = Vec::new();
    let mut temps = Vec::new();
    for name in storage.list(dir)? {
        if let Some(first) = parse_segment_name(&name) {
            segments.push(SegmentFile {
                first_lsn: first,
                path: dir.join(&name),
                archived_at: None,
            });
        } else if name.strip_suffix(".log.tmp").and_then(parse_lsn).is_some() {
            temps.push(name);
        }
    }
    segments.sort_by_key(|s| s.first_lsn);
    Ok((segments, temps))
}

/// The archived segments of the log in `dir`, in LSN order (none if there is no archive).
pub(crate) fn list_archive(storage: &dyn Storage, dir: &Path) -> io::Result<Vec<SegmentFile>> {
    let archive = dir.join(ARCHIVE_DIR);
    let names = match storage.list(&archive) {
        Ok(names) => names,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut segments = Vec::new();
    for name in names {
        let Some(stem) = name.strip_suffix(".log") else {
            continue;
        };
        let Some((first, at)) = stem.split_once('.') else {
            continue;
        };
        let (Some(first), Ok(at)) = (parse_lsn(first), at.parse::<u64>()) else {
            continue;
        };
        segments.push(SegmentFile {
            first_lsn: first,
            path: archive.join(&name),
            archived_at: Some(at),
        });
    }
    segments.sort_by_key(|s| s.first_lsn);
    Ok(segments)
}

/// The first LSNs of the live segments in the log directory `dir`, in order (none when `dir`
/// does not exist).
pub fn live_lsns(storage: &dyn Storage, dir: &Path) -> io::Result<Vec<Lsn>> {
    match list_live(storage, dir) {
        Ok((live, _)) => Ok(live.iter().map(|s| s.first_lsn).collect()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// The first LSNs of every segment of the log in `dir`, live and archived, in order: what a
/// reader that also reads the archive has (a segment a checkpoint archived is not missing).
pub fn all_lsns(storage: &dyn Storage, dir: &Path) -> io::Result<Vec<Lsn>> {
    let mut lsns = live_lsns(storage, dir)?;
    lsns.extend(list_archive(storage, dir)?.iter().map(|s| s.first_lsn));
    lsns.sort();
    lsns.dedup();
    Ok(lsns)
}

/// The segments of a recorded log shape that are needed and absent: `listed` is the first LSN
/// of every live segment as last recorded, `present` the first LSNs found, and `covered` the
/// LSN a snapshot holds everything up to. A listed segment is needed unless the next listed
/// one starts at or before `covered + 1` (then a snapshot holds all its records); the last
/// listed one is always needed, since nothing records where it ends. Segments found beyond the
/// last listed are fine: a crash between creating one and recording it leaves that.
#[must_use]
pub fn missing_segments(listed: &[Lsn], present: &[Lsn], covered: Lsn) -> Vec<Lsn> {
    let mut missing = Vec::new();
    for (i, first) in listed.iter().enumerate() {
        let needed = listed
            .get(i + 1)
            .is_none_or(|next| next.0 > covered.0.saturating_add(1));
        if needed && !present.contains(first) {
            missing.push(*first);
        }
    }
    missing
}

/// The payload of the first record of the segment file `path` (live or archived), or `None`
/// when it holds no valid record there.
pub fn first_payload_of(storage: &dyn Storage, path: &Path) -> crate::Result<Option<Vec<u8>>> {
    let mut scanner = crate::scan::Scanner::open(storage, path)?;
    if scanner.header()?.is_err() {
        return Ok(None);
    }
    scanner.seek(crate::format::SEGMENT_HEADER_LEN as u64);
    match scanner.next_frame()? {
        crate::scan::Step::Frame { .. } => Ok(Some(scanner.last_payload().to_vec())),
        crate::scan::Step::End | crate::scan::Step::Damage { .. } => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_sort_in_lsn_order() {
        assert_eq!(segment_name(Lsn(42)), "00000000000000000042.log");
        assert_eq!(parse_lsn("00000000000000000042"), Some(Lsn(42)));
        assert_eq!(parse_lsn("0000000000000000042"), None);
        assert_eq!(parse_lsn("99999999999999999999"), None, "over u64::MAX");
        assert!(segment_name(Lsn(9)) < segment_name(Lsn(10)));
        assert_eq!(archived_name(Lsn(3), 17), "00000000000000000003.17.log");
    }

    #[test]
    fn a_listed_segment_is_missing_unless_a_snapshot_covers_it() {
        let listed = [Lsn(1), Lsn(100), Lsn(200)];
        assert!(missing_segments(&listed, &listed, Lsn::ZERO).is_empty());
        // Extra newer segments: a crash between creating and recording.
        assert!(
            missing_segments(&listed, &[Lsn(1), Lsn(100), Lsn(200), Lsn(300)], Lsn(0)).is_empty()
        );
        // The newest one deleted.
        assert_eq!(
            missing_segments(&listed, &[Lsn(1), Lsn(100)], Lsn(250)),
            [Lsn(200)]
        );
        // An old one moved away by a checkpoint the record does not show yet.
        assert!(missing_segments(&listed, &[Lsn(100), Lsn(200)], Lsn(99)).is_empty());
        assert_eq!(
            missing_segments(&listed, &[Lsn(100), Lsn(200)], Lsn(98)),
            [Lsn(1)]
        );
        // All of them.
        assert_eq!(
            missing_segments(&listed, &[], Lsn(150)),
            [Lsn(100), Lsn(200)]
        );
    }
}
