//! The composition root: [`Engine::open`], [`Engine::open_on`] and [`Engine::in_memory`] build
//! the hub's state ([`Inner::new`], the one constructor), install the features' hooks (time to
//! live, the change feed, the maintenance state) and start the background worker. The only
//! module that knows both the hub and every feature.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use tabula_core::{Lsn, State};
use tabula_snapshot::{LoadOptions, SnapshotStore};
use tabula_storage::{FsStorage, Storage};
use tabula_wal::{TransactionLog, Wal, WalOptions};

use crate::clock::wal_clock;
use crate::db::{
    Background, Engine, Hook, Inner, LOCK_FILE, Parts, RecoveryReport, SNAPSHOT_DIR, WAL_DIR,
    replay,
};
use crate::history::feed::Feed;
use crate::maintenance::Maintenance;
use crate::maintenance::ttl::TtlHook;
use crate::maintenance::worker::Worker;
use crate::manifest::{Manifest, ManifestKeeper, detect_log_codec};
use crate::options::Options;
use crate::{Error, Result};

/// The hooks every engine has, in the order they run.
pub(crate) fn hooks() -> Vec<Arc<dyn Hook>> {
    vec![
        Arc::new(TtlHook),
        Arc::new(Feed::default()),
        Arc::new(Maintenance::default()),
    ]
}

/// Takes the lock of the database directory `dir` (held until the returned guard drops).
pub(crate) fn lock_dir(
    storage: &dyn Storage,
    dir: &Path,
) -> Result<Box<dyn fmt::Debug + Send + Sync>> {
    let lock_path = dir.join(LOCK_FILE);
    storage.lock(&lock_path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::WouldBlock {
            Error::AlreadyOpen {
                dir: dir.to_path_buf(),
                holder: source.to_string(),
            }
        } else {
            Error::Io {
                op: "lock",
                path: lock_path,
                error: source,
            }
        }
    })
}

impl Engine {
    /// Opens (creating if needed) the database in `dir` on the real file system and recovers it.
    pub fn open(dir: impl AsRef<Path>, options: Options) -> Result<(Engine, RecoveryReport)> {
        Engine::open_on(Arc::new(FsStorage), dir, options)
    }

    /// Opens the database in `dir` on `storage` (such as a `SimStorage` in crash tests).
    pub fn open_on(
        storage: Arc<dyn Storage>,
        dir: impl AsRef<Path>,
        options: Options,
    ) -> Result<(Engine, RecoveryReport)> {
        let dir = dir.as_ref().to_path_buf();
        storage.create_dir_all(&dir).map_err(|source| Error::Io {
            op: "create directory",
            path: dir.clone(),
            error: source,
        })?;
        let lock = lock_dir(&*storage, &dir)?;
        Engine::open_locked(storage, dir, options, lock)
    }

    /// [`Engine::open_on`] of `dir`, whose lock the caller has taken (`lock`, now the engine's):
    /// for repairs that check and then open without letting another writer in between.
    pub(crate) fn open_locked(
        storage: Arc<dyn Storage>,
        dir: std::path::PathBuf,
        options: Options,
        lock: Box<dyn fmt::Debug + Send + Sync>,
    ) -> Result<(Engine, RecoveryReport)> {
        let started = Instant::now();
        let mut options = options;
        let manifest = Manifest::read(&*storage, &dir)?;
        if let Some(manifest) = &manifest {
            manifest.apply_snapshot_defaults(&mut options);
        }
        let snapshots = SnapshotStore::open_on(Arc::clone(&storage), dir.join(SNAPSHOT_DIR))?
            .with_retention(options.snapshot_retention.clone());
        snapshots.remove_temp_files()?;
        let load = LoadOptions::with_limits(options.limits);
        // When no snapshot loads, the log may still hold every transaction from LSN 1 (as
        // `check` says): then recovery replays it all. If it does not, the snapshots' failure
        // is the error, not the log's gap.
        let mut unusable = None;
        let (mut db, snapshot, skipped) = match snapshots.load_newest(&load) {
            Ok(Some(newest)) => (
                newest.loaded.database,
                Some((newest.file.lsn, newest.file.path)),
                newest.skipped,
            ),
            Ok(None) => (State::with_limits(options.limits), None, Vec::new()),
            Err(tabula_snapshot::Error::NoValidSnapshot { failures }) => {
                unusable = Some(failures.clone());
                (State::with_limits(options.limits), None, failures)
            }
            Err(e) => return Err(e.into()),
        };
        let no_snapshot = |e: Error| match &unusable {
            Some(failures) => Error::from(tabula_snapshot::Error::NoValidSnapshot {
                failures: failures.clone(),
            }),
            None => e,
        };
        let wal_dir = dir.join(WAL_DIR);
        let mut missing_segments = Vec::new();
        let (wal_format, keeper) = match manifest {
            Some(manifest) => {
                let present = tabula_wal::live_lsns(&*storage, &wal_dir)
                    .map_err(crate::error::io("list", &wal_dir))?;
                missing_segments =
                    tabula_wal::missing_segments(&manifest.segments, &present, db.lsn());
                if !missing_segments.is_empty()
                    && options.recovery != tabula_wal::RecoveryMode::Salvage
                {
                    return Err(no_snapshot(Error::MissingSegments {
                        dir: wal_dir,
                        first_lsns: missing_segments,
                    }));
                }
                (manifest.wal_codec, (manifest, false))
            }
            None => {
                let format = detect_log_codec(&storage, &wal_dir, options.wal_format)?;
                (format, (Manifest::new(&options, format), true))
            }
        };
        let (manifest, manifest_created) = keeper;
        options.wal_format = wal_format;
        // A MANIFEST this open makes is written once replay has read the log with its codec.
        let keeper = Arc::new(if manifest_created {
            ManifestKeeper::unconfirmed(Arc::clone(&storage), dir.clone(), manifest)
        } else {
            ManifestKeeper::new(Arc::clone(&storage), dir.clone(), manifest)
        });
        let wal_options = WalOptions::new()
            .sync(options.sync)
            .sync_interval(options.sync_interval)
            .segment_size(options.segment_size)
            .recovery(options.recovery)
            .retention(options.wal_retention.clone())
            .first_lsn(db.lsn().next())
            .clock(wal_clock(&options.clock))
            .on_segments(keeper.hook());
        let (wal, wal_report) = Wal::open_on(Arc::clone(&storage), wal_dir, wal_options)
            .map_err(|e| no_snapshot(e.into()))?;
        // Finish a checkpoint a crash interrupted: segments the snapshot covers may be left in
        // the log, even with a gap after them (the file system kept a later removal but not an
        // earlier one), which would stop history reads. Usually there are none and this writes
        // nothing.
        if db.lsn() > Lsn::ZERO {
            wal.truncate_before(db.lsn().next())?;
        }
        let log = TransactionLog::new(wal, options.wal_codec());
        let (replayed, last_timestamp) = replay(&log, &mut db).map_err(no_snapshot)?;
        // Without a snapshot the log must have held every transaction, from LSN 1 (LSNs in
        // the log are consecutive, so it started at `last - replayed + 1`). An empty log proves
        // nothing: opening empty would lose everything the snapshots held.
        if let Some(failures) = unusable
            && (replayed == 0 || db.lsn().0 != replayed)
        {
            return Err(tabula_snapshot::Error::NoValidSnapshot { failures }.into());
        }
        // The shape recovery left (and, for a directory without one, the first MANIFEST, now
        // that the log decoded with its codec).
        if manifest_created {
            keeper.confirm()?;
        } else {
            keeper.record(!missing_segments.is_empty())?;
        }
        let recovery = RecoveryReport {
            snapshot,
            skipped_snapshots: skipped,
            replayed,
            wal: wal_report,
            missing_segments,
            manifest_created,
            duration: started.elapsed(),
        };
        let inner = Arc::new(Inner::new(Parts {
            dir: Some(dir),
            storage,
            options,
            log: Some(log),
            reader: None,
            snapshots: Some(snapshots),
            recovery: recovery.clone(),
            state: db,
            read_only: false,
            last_timestamp,
            lock: Some(lock),
            hooks: hooks(),
        }));
        let worker = Worker::start(&inner)?;
        Ok((Engine::from_parts(inner, background(worker)), recovery))
    }

    /// A database in memory only, with no directory, log or snapshots (for tests and caches).
    #[must_use]
    pub fn in_memory(options: Options) -> Engine {
        let state = State::with_limits(options.limits);
        let inner = Arc::new(Inner::new(Parts {
            dir: None,
            storage: Arc::new(FsStorage),
            options,
            log: None,
            reader: None,
            snapshots: None,
            recovery: RecoveryReport::default(),
            state,
            read_only: false,
            last_timestamp: None,
            lock: None,
            hooks: hooks(),
        }));
        // The background thread deletes expired rows. Should it fail to start, reads and writes
        // still leave expired rows out; they are deleted by the next write to their table or by
        // `reap_expired`.
        let worker = Worker::start(&inner).ok().flatten();
        Engine::from_parts(inner, background(worker))
    }
}

fn background(worker: Option<Worker>) -> Option<Box<dyn Background>> {
    worker.map(|worker| Box::new(worker) as Box<dyn Background>)
}
