//! [`Engine::open_read_only`]: a database read without writing a byte, beside a live writer or
//! on read-only storage (a read-only mount, a file-system snapshot, a copy being inspected).
//!
//! It takes no lock (a writer's lock would refuse it, and read-only storage may not allow one),
//! loads the newest snapshot that reads and replays the live log after it, as `check` reads it:
//! a torn or damaged end of the log (a writer's record in flight, or a crash's) is left out in
//! memory and left alone on disk. Corruption opening would refuse is refused here too. A
//! writer's checkpoint can remove log segments between the snapshot read and the log read; the
//! open then sees a gap and starts again from the newer snapshot (a few times at most).
//! [`Engine::refresh`] reads what was committed since.
//!
//! Writes are refused with [`Error::ReadOnly`]. History, `as_of`, `log` and tags read the
//! archived and live segments through a [`tabula_wal::LogReader`] (no lock, nothing written) up
//! to the LSN this open verified, and the snapshots as they are; [`Engine::refresh`] moves that
//! LSN on. The change feed needs a writer's commits: subscribe on the writer.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use tabula_codec::{Codec, Format};
use tabula_core::{Lsn, State};
use tabula_snapshot::{LoadOptions, SnapshotStore};
use tabula_storage::{FsStorage, Storage};
use tabula_wal::{LogReader, TransactionReader, WalOptions};

use crate::db::{Engine, Inner, Parts, RecoveryReport, SNAPSHOT_DIR, WAL_DIR};
use crate::error::io;
use crate::maintenance::check::Replay;
use crate::manifest::Manifest;
use crate::open::hooks;
use crate::{Error, Options, Result};

/// How many times an open starts again after a writer's checkpoint moved the log under it.
const ATTEMPTS: usize = 8;

impl Engine {
    /// Opens the database in `dir` for reading only; see the module docs.
    ///
    /// # Errors
    /// `dir` missing or not a database; damage opening would refuse; a log that no snapshot
    /// and no log start reach.
    pub fn open_read_only(
        dir: impl AsRef<Path>,
        options: Options,
    ) -> Result<(Engine, RecoveryReport)> {
        let dir = dir.as_ref();
        let (state, report, format) = read_state(dir, &options)?;
        let storage: Arc<dyn Storage> = Arc::new(FsStorage);
        // History reads the same segments without a lock, up to what this open verified.
        let reader = TransactionReader::new(
            LogReader::new(Arc::clone(&storage), dir.join(WAL_DIR), state.lsn()),
            Codec::new(format),
        );
        let snapshot_dir = dir.join(SNAPSHOT_DIR);
        let snapshots = if snapshot_dir.is_dir() {
            Some(SnapshotStore::open_on(Arc::clone(&storage), &snapshot_dir)?)
        } else {
            None
        };
        let inner = Arc::new(Inner::new(Parts {
            dir: Some(dir.to_path_buf()),
            storage,
            options,
            log: None,
            reader: Some(reader),
            snapshots,
            recovery: report.clone(),
            state,
            read_only: true,
            last_timestamp: None,
            lock: None,
            hooks: hooks(),
        }));
        Ok((Engine::from_parts(inner, None), report))
    }

    /// For a database opened read-only, reads it again: the view then includes what the writer
    /// committed since. Returns the LSN now visible.
    ///
    /// # Errors
    /// As [`Engine::open_read_only`]; [`Error::ReadOnly`]'s opposite, [`Error::InvalidOption`],
    /// on an engine that was not opened read-only.
    pub fn refresh(&self) -> Result<Lsn> {
        let Some(dir) = self.inner.dir().filter(|_| self.inner.is_read_only()) else {
            return Err(Error::InvalidOption(
                "refresh is for databases opened read-only".to_owned(),
            ));
        };
        let (state, _, _) = read_state(dir, self.inner.options())?;
        let lsn = state.lsn();
        self.inner.replace_read_only_state(state);
        Ok(lsn)
    }
}

/// The state of the database in `dir` as a read-only open sees it, what it read, and the log's
/// codec.
fn read_state(dir: &Path, options: &Options) -> Result<(State, RecoveryReport, Format)> {
    let meta = std::fs::metadata(dir).map_err(io("open", dir))?;
    if !meta.is_dir() || !(dir.join(WAL_DIR).is_dir() || dir.join(SNAPSHOT_DIR).is_dir()) {
        return Err(Error::NotADirectory {
            path: dir.to_path_buf(),
        });
    }
    let mut attempt = 0;
    loop {
        attempt += 1;
        match read_once(dir, options) {
            Err(e) if attempt < ATTEMPTS && moved_under_us(&e) => {}
            other => return other,
        }
    }
}

/// Whether `error` is a writer's checkpoint moving files between a listing and a read: a gap
/// after the snapshot, or a segment or snapshot gone once listed. Reading again sees the result.
fn moved_under_us(error: &Error) -> bool {
    let gone = |e: &std::io::Error| e.kind() == std::io::ErrorKind::NotFound;
    match error {
        // A checkpoint since the MANIFEST was read may also have removed segments the
        // snapshot read before it needed.
        Error::LogGap { .. } | Error::MissingSegments { .. } => true,
        Error::Wal(tabula_wal::Error::Io { error, .. })
        | Error::Snapshot(tabula_snapshot::Error::Io { error, .. }) => gone(error),
        _ => false,
    }
}

fn read_once(dir: &Path, options: &Options) -> Result<(State, RecoveryReport, Format)> {
    let started = Instant::now();
    let snapshot_dir = dir.join(SNAPSHOT_DIR);
    let empty = || State::with_limits(options.limits);
    let (base, snapshot, skipped) = if snapshot_dir.is_dir() {
        // The store only lists and reads (its directory exists, so nothing is created).
        let store = SnapshotStore::open(&snapshot_dir)?;
        match store.load_newest(&LoadOptions::with_limits(options.limits)) {
            Ok(Some(newest)) => (
                newest.loaded.database,
                Some((newest.file.lsn, newest.file.path)),
                newest.skipped,
            ),
            Ok(None) => (empty(), None, Vec::new()),
            Err(tabula_snapshot::Error::NoValidSnapshot { failures }) => (empty(), None, failures),
            Err(e) => return Err(e.into()),
        }
    } else {
        (empty(), None, Vec::new())
    };
    let base_lsn = base.lsn();
    let wal_dir = dir.join(WAL_DIR);
    let storage = FsStorage;
    // Read after the snapshot: a checkpoint since then moved segments to the archive, where
    // they count as present; a rotation since then only adds segments the MANIFEST may lack.
    let manifest = Manifest::read(&storage, dir)?;
    if let Some(manifest) = &manifest {
        let present = tabula_wal::all_lsns(&storage, &wal_dir).map_err(io("list", &wal_dir))?;
        let missing = tabula_wal::missing_segments(&manifest.segments, &present, base_lsn);
        if !missing.is_empty() {
            return Err(Error::MissingSegments {
                dir: wal_dir,
                first_lsns: missing,
            });
        }
    }
    let (codec, guess) = match &manifest {
        Some(manifest) => (Codec::new(manifest.wal_codec), false),
        None => (options.wal_codec(), true),
    };
    let read_log = |with_archive: bool| -> Result<(tabula_wal::VerifyReport, Replay)> {
        let mut replay = Replay::new(codec, guess, base.clone());
        let mut record = |lsn: Lsn, payload: &[u8]| replay.record(lsn, payload);
        let wal = if with_archive {
            tabula_wal::verify(&wal_dir, &WalOptions::new(), &mut record)?
        } else {
            tabula_wal::verify_live(&wal_dir, &WalOptions::new(), &mut record)?
        };
        Ok((wal, replay))
    };
    let (mut wal, mut replay) = read_log(false)?;
    if wal.records > 0 && wal.first_lsn > base_lsn.next() {
        // A checkpoint moved the segments after the snapshot to the archive while it was read:
        // read them there (the archive is read only then).
        (wal, replay) = read_log(true)?;
        if replay.db_lsn() < wal.last_lsn {
            if snapshot.is_none() && !skipped.is_empty() {
                // No snapshot loads and the log does not reach LSN 1: nothing to read from.
                return Err(tabula_snapshot::Error::NoValidSnapshot { failures: skipped }.into());
            }
            // Still a gap (the archive does not hold them): read again from the start.
            return Err(Error::LogGap {
                log_start: wal.first_lsn,
                needed: base_lsn.next(),
            });
        }
    }
    if let Some(damage) = wal.corruption.first() {
        return Err(Error::Wal(tabula_wal::Error::Corrupted {
            segment: damage.segment.clone(),
            offset: damage.offset,
            kind: damage.kind.clone(),
            evidence: None,
        }));
    }
    let format = replay.codec_format();
    let replayed = replay.finish();
    if snapshot.is_none()
        && !skipped.is_empty()
        && !matches!(&replayed, Ok(state) if state.lsn() > Lsn::ZERO)
    {
        // No snapshot loads and the log does not hold the database from LSN 1.
        return Err(tabula_snapshot::Error::NoValidSnapshot { failures: skipped }.into());
    }
    let state = replayed.map_err(|reason| {
        Error::Wal(tabula_wal::Error::Corrupted {
            segment: wal_dir.clone(),
            offset: 0,
            kind: tabula_storage::DamageKind::Invalid { what: reason },
            evidence: None,
        })
    })?;
    let report = RecoveryReport {
        snapshot,
        skipped_snapshots: skipped,
        replayed: state.lsn().0.saturating_sub(base_lsn.0),
        wal: tabula_wal::RecoveryReport::default(),
        missing_segments: Vec::new(),
        manifest_created: false,
        duration: started.elapsed(),
    };
    Ok((state, report, format))
}
