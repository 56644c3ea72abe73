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

pub(crate) fn archived_name(first: Lsn, at_ms: u64) -> String {
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
}
