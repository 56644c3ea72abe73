//! The MANIFEST: the one file that says what a database directory is. It records the format
//! versions the directory was written in, the log's codec (so nothing has to guess it), the
//! snapshot defaults, and the log's shape: the first LSN of every live segment, recorded each
//! time a segment is created (before a record goes into it) and each time a checkpoint moves
//! segments away. So a missing segment, a deleted `wal/` or a `*.log` cleanup is detected at
//! open and by `check` instead of opening an older state.
//!
//! # On disk, version 1
//!
//! `DIR/MANIFEST` is ASCII text, one `key value` line each, in this order, each line ending in
//! `\n`:
//!
//! ```text
//! tabula-manifest 1                      this format's version
//! wal-segment-version 1                  tabula-wal's segment format version
//! snapshot-version 1                     tabula-snapshot's file format version
//! wal-codec bincode                      the codec of logged transactions: json|msgpack|bincode
//! snapshot-codec bincode                 the default codec of checkpoints
//! snapshot-compression zstd              the default compression of checkpoints: none|zstd|lz4
//! live-segments 1 4097 8193              first LSN of each live segment, ascending (may be empty)
//! crc32 1a2b3c4d                         CRC-32 (IEEE) of every byte before this line, 8 hex digits
//! ```
//!
//! It is replaced whole: written to `MANIFEST.tmp`, synced, renamed over `MANIFEST`, and the
//! directory synced. A directory without one (written by tabula before the MANIFEST existed) is
//! version 1 too: opening it for writing writes its MANIFEST, telling the log's codec from the
//! first record; read-only opens and `check` read it as it is.
//!
//! # What opening does with it
//!
//! - A version newer than this build reads is refused ([`Error::Manifest`]).
//! - The log is read and written with the recorded codec, whatever `Options::wal_format` says:
//!   that option chooses the codec of a new database only (as SQLite's `page_size` does).
//! - Checkpoints use the recorded snapshot codec and compression unless the options set
//!   something other than the library's defaults.
//! - A recorded live segment that is absent, and not covered by the snapshot opening starts
//!   from, is refused as [`Error::MissingSegments`] (or, with `RecoveryMode::Salvage`, listed in
//!   the recovery report and skipped).
//! - A MANIFEST that fails its check is refused: delete it to open the directory as one written
//!   before the MANIFEST existed (losing only this check).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;
use tabula_codec::{Codec, Format};
use tabula_core::{Lsn, Transaction};
use tabula_snapshot::Compression;
use tabula_storage::Storage;
use tabula_wal::SegmentsHook;

use crate::db::WAL_DIR;
use crate::error::io;
use crate::{Error, Options, Result};

/// The MANIFEST's file name in a database directory.
pub const MANIFEST_FILE: &str = "MANIFEST";
/// The MANIFEST format version this build writes and reads.
pub const MANIFEST_VERSION: u32 = 1;
const TEMP_FILE: &str = "MANIFEST.tmp";

/// What a MANIFEST records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Manifest {
    pub(crate) wal_segment_version: u32,
    pub(crate) snapshot_version: u32,
    pub(crate) wal_codec: Format,
    pub(crate) snapshot_codec: Format,
    pub(crate) snapshot_compression: Compression,
    /// The first LSN of every live segment, ascending.
    pub(crate) segments: Vec<Lsn>,
}

impl Manifest {
    /// A MANIFEST for a directory opened with `options` and whose log uses `wal_codec`.
    pub(crate) fn new(options: &Options, wal_codec: Format) -> Manifest {
        Manifest {
            wal_segment_version: tabula_wal::format::SEGMENT_VERSION,
            snapshot_version: tabula_snapshot::format::VERSION,
            wal_codec,
            snapshot_codec: options.snapshot.codec.format(),
            snapshot_compression: options.snapshot.compression,
            segments: Vec::new(),
        }
    }

    /// The bytes of this MANIFEST (see the module docs).
    pub(crate) fn encode(&self) -> Vec<u8> {
        let segments: Vec<String> = self.segments.iter().map(|l| l.0.to_string()).collect();
        let body = format!(
            "tabula-manifest {MANIFEST_VERSION}\nwal-segment-version {}\nsnapshot-version {}\n\
             wal-codec {}\nsnapshot-codec {}\nsnapshot-compression {}\nlive-segments {}\n",
            self.wal_segment_version,
            self.snapshot_version,
            self.wal_codec.name(),
            self.snapshot_codec.name(),
            self.snapshot_compression.name(),
            segments.join(" "),
        );
        let crc = crc32fast::hash(body.as_bytes());
        format!("{body}crc32 {crc:08x}\n").into_bytes()
    }

    /// Reads a MANIFEST's bytes; `path` names the file in errors.
    pub(crate) fn decode(bytes: &[u8], path: &Path) -> Result<Manifest> {
        let bad = |reason: String| Error::Manifest {
            path: path.to_path_buf(),
            reason,
        };
        let text = std::str::from_utf8(bytes)
            .map_err(|e| bad(format!("not text: byte {} is not UTF-8", e.valid_up_to())))?;
        let crc_at = text
            .rfind("crc32 ")
            .filter(|at| *at == 0 || text.get(at - 1..*at) == Some("\n"))
            .ok_or_else(|| bad("no crc32 line: the file is cut short or not a MANIFEST".into()))?;
        let (body, crc_line) = text.split_at(crc_at);
        let stored = crc_line
            .strip_prefix("crc32 ")
            .and_then(|rest| rest.strip_suffix('\n'))
            .filter(|hex| {
                hex.len() == 8 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            })
            .and_then(|hex| u32::from_str_radix(hex, 16).ok())
            .ok_or_else(|| bad(format!("a bad crc32 line {:?}", crc_line.trim_end())))?;
        let computed = crc32fast::hash(body.as_bytes());
        if stored != computed {
            return Err(bad(format!(
                "the checksum does not match (stored {stored:08x}, computed {computed:08x})"
            )));
        }
        let mut lines = body.lines();
        let mut field = |key: &str| -> Result<&str> {
            let line = lines.next().ok_or_else(|| bad(format!("no {key} line")))?;
            line.strip_prefix(key)
                .and_then(|rest| rest.strip_prefix(' ').or((rest.is_empty()).then_some("")))
                .ok_or_else(|| bad(format!("expected a {key} line, found {line:?}")))
        };
        let number = |key: &str, value: &str| -> Result<u32> {
            value
                .parse()
                .map_err(|_| bad(format!("{key} {value:?} is not a number")))
        };
        let version = number("tabula-manifest", field("tabula-manifest")?)?;
        if version != MANIFEST_VERSION {
            let by = if version > MANIFEST_VERSION {
                " (a newer tabula wrote it)"
            } else {
                ""
            };
            return Err(bad(format!(
                "MANIFEST version {version}: this build reads version {MANIFEST_VERSION}{by}"
            )));
        }
        let wal_segment_version = number("wal-segment-version", field("wal-segment-version")?)?;
        let snapshot_version = number("snapshot-version", field("snapshot-version")?)?;
        let newer = |what: &str, found: u32, known: u32| {
            (found > known).then(|| {
                bad(format!(
                    "{what} version {found}: this build reads up to {known} (a newer tabula \
                     wrote it)"
                ))
            })
        };
        if let Some(e) = newer(
            "log segment",
            wal_segment_version,
            tabula_wal::format::SEGMENT_VERSION,
        )
        .or_else(|| {
            newer(
                "snapshot",
                snapshot_version,
                tabula_snapshot::format::VERSION,
            )
        }) {
            return Err(e);
        }
        let codec = |key: &str, value: &str| -> Result<Format> {
            value
                .parse()
                .map_err(|e: String| bad(format!("{key}: {e}")))
        };
        let wal_codec = codec("wal-codec", field("wal-codec")?)?;
        let snapshot_codec = codec("snapshot-codec", field("snapshot-codec")?)?;
        let compression = field("snapshot-compression")?;
        let snapshot_compression = Compression::ALL
            .into_iter()
            .find(|c| c.name() == compression)
            .ok_or_else(|| bad(format!("snapshot-compression {compression:?} is unknown")))?;
        let mut segments = Vec::new();
        for lsn in field("live-segments")?.split(' ').filter(|s| !s.is_empty()) {
            let lsn = lsn
                .parse::<u64>()
                .ok()
                .filter(|l| *l > 0)
                .ok_or_else(|| bad(format!("live-segments: {lsn:?} is not an LSN")))?;
            if segments.last().is_some_and(|last: &Lsn| last.0 >= lsn) {
                return Err(bad("live-segments are not in ascending order".into()));
            }
            segments.push(Lsn(lsn));
        }
        if let Some(extra) = lines.next() {
            return Err(bad(format!("an unexpected line {extra:?}")));
        }
        Ok(Manifest {
            wal_segment_version,
            snapshot_version,
            wal_codec,
            snapshot_codec,
            snapshot_compression,
            segments,
        })
    }

    /// The MANIFEST of the database in `dir`, or `None` when it has none.
    pub(crate) fn read(storage: &dyn Storage, dir: &Path) -> Result<Option<Manifest>> {
        let path = dir.join(MANIFEST_FILE);
        let file = match storage.open(&path, false) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("open", &path)(e)),
        };
        let len = file.len().map_err(io("read", &path))?;
        // A MANIFEST is a few hundred bytes plus 21 per live segment; anything huge is not one.
        if len > 1 << 20 {
            return Err(Error::Manifest {
                path,
                reason: format!("{len} bytes is too large for a MANIFEST"),
            });
        }
        let mut bytes = vec![0; usize::try_from(len).unwrap_or(0)];
        let n = tabula_storage::read_full(&*file, 0, &mut bytes).map_err(io("read", &path))?;
        bytes.truncate(n);
        Manifest::decode(&bytes, &path).map(Some)
    }

    fn write_io(&self, storage: &dyn Storage, dir: &Path) -> std::io::Result<()> {
        let temp = dir.join(TEMP_FILE);
        let mut file = storage.create(&temp)?;
        file.append(&self.encode())?;
        file.sync_data()?;
        drop(file);
        storage.rename(&temp, &dir.join(MANIFEST_FILE))?;
        storage.sync_dir(dir)
    }

    /// `options` with the recorded snapshot defaults where the options hold the library's.
    pub(crate) fn apply_snapshot_defaults(&self, options: &mut Options) {
        let defaults = tabula_snapshot::SnapshotOptions::default();
        if options.snapshot.codec.format() == defaults.codec.format() {
            options.snapshot.codec =
                Codec::new(self.snapshot_codec).with_limits(*options.snapshot.codec.limits());
        }
        if options.snapshot.compression == defaults.compression {
            options.snapshot.compression = self.snapshot_compression;
        }
    }
}

/// Keeps `DIR/MANIFEST` in step with the log's live segments: the log's [`SegmentsHook`] calls
/// [`ManifestKeeper::record`] at each rotation and checkpoint. One mutex orders the writes, and
/// each lists the segments itself, so the last write always has the newest shape.
///
/// A keeper of a MANIFEST not yet on disk (a directory written before it existed) writes
/// nothing until [`ManifestKeeper::confirm`]: opening confirms once replay has decoded the log
/// with the codec it records, so a wrong guess is never made permanent.
#[derive(Debug)]
pub(crate) struct ManifestKeeper {
    storage: Arc<dyn Storage>,
    dir: PathBuf,
    manifest: Mutex<Manifest>,
    confirmed: AtomicBool,
}

impl ManifestKeeper {
    /// A keeper of `manifest`, the one on disk in `dir`.
    pub(crate) fn new(
        storage: Arc<dyn Storage>,
        dir: PathBuf,
        manifest: Manifest,
    ) -> ManifestKeeper {
        ManifestKeeper {
            storage,
            dir,
            manifest: Mutex::new(manifest),
            confirmed: AtomicBool::new(true),
        }
    }

    /// A keeper of a new `manifest` for `dir`, written at [`ManifestKeeper::confirm`].
    pub(crate) fn unconfirmed(
        storage: Arc<dyn Storage>,
        dir: PathBuf,
        manifest: Manifest,
    ) -> ManifestKeeper {
        let keeper = ManifestKeeper::new(storage, dir, manifest);
        keeper.confirmed.store(false, Ordering::SeqCst);
        keeper
    }

    /// Writes the MANIFEST with the live segments now, and from now on at every change.
    pub(crate) fn confirm(&self) -> Result<()> {
        self.confirmed.store(true, Ordering::SeqCst);
        self.record(true)
    }

    /// Writes the MANIFEST with `segments` as the live ones (for a caller about to move the
    /// others away).
    pub(crate) fn record_segments(&self, segments: Vec<Lsn>) -> Result<()> {
        let mut manifest = self.manifest.lock();
        let mut next = manifest.clone();
        next.segments = segments;
        next.write_io(&*self.storage, &self.dir)
            .map_err(io("write", &self.dir.join(MANIFEST_FILE)))?;
        *manifest = next;
        Ok(())
    }

    /// The hook to give the log.
    pub(crate) fn hook(self: &Arc<ManifestKeeper>) -> SegmentsHook {
        let keeper = Arc::clone(self);
        SegmentsHook::new(move || keeper.record_io(false))
    }

    /// Lists the live segments and writes the MANIFEST if they (or anything else) changed since
    /// it was last written, or always when `force` (a directory that had none, or a repair).
    pub(crate) fn record(&self, force: bool) -> Result<()> {
        self.record_io(force)
            .map_err(io("write", &self.dir.join(MANIFEST_FILE)))
    }

    fn record_io(&self, force: bool) -> std::io::Result<()> {
        if !self.confirmed.load(Ordering::SeqCst) {
            return Ok(());
        }
        let mut manifest = self.manifest.lock();
        let segments = tabula_wal::live_lsns(&*self.storage, &self.dir.join(WAL_DIR))?;
        if !force && segments == manifest.segments {
            return Ok(());
        }
        let mut next = manifest.clone();
        next.segments = segments;
        next.write_io(&*self.storage, &self.dir)?;
        *manifest = next;
        Ok(())
    }
}

/// The codec of the log in `wal_dir` of a directory without a MANIFEST, told from the first
/// segment (live, then archived) whose first record some codec decodes: `preferred` if it does,
/// else the first that does. With no such record, `preferred`: replay then checks it, and
/// opening confirms the MANIFEST only after that.
pub(crate) fn detect_log_codec(
    storage: &Arc<dyn Storage>,
    wal_dir: &Path,
    preferred: Format,
) -> Result<Format> {
    let mut candidates: Vec<PathBuf> = tabula_wal::live_lsns(&**storage, wal_dir)
        .map_err(io("list", wal_dir))?
        .into_iter()
        .map(|first| wal_dir.join(tabula_wal::segment_name(first)))
        .collect();
    let archive = wal_dir.join(tabula_wal::ARCHIVE_DIR);
    match storage.list(&archive) {
        Ok(names) => {
            let mut archived: Vec<PathBuf> = names
                .into_iter()
                .filter(|name| name.ends_with(".log"))
                .map(|name| archive.join(name))
                .collect();
            archived.sort();
            candidates.extend(archived);
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io("list", &archive)(e)),
    }
    let decodes =
        |format: Format, payload: &[u8]| Codec::new(format).decode::<Transaction>(payload).is_ok();
    for path in candidates {
        // Damage or an empty segment says nothing: try the next.
        let Ok(Some(payload)) = tabula_wal::first_payload_of(&**storage, &path) else {
            continue;
        };
        if decodes(preferred, &payload) {
            return Ok(preferred);
        }
        if let Some(format) = Format::ALL.into_iter().find(|f| decodes(*f, &payload)) {
            return Ok(format);
        }
    }
    Ok(preferred)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        Manifest {
            wal_segment_version: 1,
            snapshot_version: 1,
            wal_codec: Format::Json,
            snapshot_codec: Format::MessagePack,
            snapshot_compression: Compression::Lz4,
            segments: vec![Lsn(1), Lsn(4097)],
        }
    }

    #[test]
    fn a_manifest_reads_back_and_its_bytes_are_as_documented() {
        let bytes = sample().encode();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with(
            "tabula-manifest 1\nwal-segment-version 1\nsnapshot-version 1\nwal-codec json\n\
             snapshot-codec msgpack\nsnapshot-compression lz4\nlive-segments 1 4097\ncrc32 "
        ));
        assert_eq!(Manifest::decode(&bytes, Path::new("M")).unwrap(), sample());
        let empty = Manifest {
            segments: Vec::new(),
            ..sample()
        };
        assert_eq!(
            Manifest::decode(&empty.encode(), Path::new("M")).unwrap(),
            empty
        );
    }

    #[test]
    fn every_damaged_or_cut_manifest_is_a_typed_error() {
        let bytes = sample().encode();
        for len in 0..bytes.len() {
            let cut = bytes.get(..len).unwrap();
            assert!(matches!(
                Manifest::decode(cut, Path::new("M")),
                Err(Error::Manifest { .. })
            ));
        }
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut flipped = bytes.clone();
                flipped[i] ^= 1 << bit;
                assert!(
                    matches!(
                        Manifest::decode(&flipped, Path::new("M")),
                        Err(Error::Manifest { .. })
                    ),
                    "byte {i} bit {bit}"
                );
            }
        }
    }

    #[test]
    fn a_newer_version_is_refused_by_name() {
        let text = String::from_utf8(sample().encode()).unwrap();
        let body = text
            .split("crc32 ")
            .next()
            .unwrap()
            .replace("tabula-manifest 1", "tabula-manifest 2");
        let bytes = format!("{body}crc32 {:08x}\n", crc32fast::hash(body.as_bytes()));
        let error = Manifest::decode(bytes.as_bytes(), Path::new("M")).unwrap_err();
        assert!(error.to_string().contains("newer tabula"), "{error}");
    }
}
