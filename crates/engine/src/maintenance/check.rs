//! [`check`] and [`repair`]: what `redis-check-aof` is to an AOF, for a database directory.
//!
//! `check` reads every byte of every snapshot and every log segment (archived ones included),
//! decodes every logged transaction, and replays the log onto the newest readable snapshot, as
//! opening would, without changing anything. It holds a shared lock on the directory's lock file
//! while it reads (writing nothing), so an engine cannot open and change the files under it, and
//! a database an engine has open is refused, naming the holder. The log's codec is told from its
//! first record when it is not the options' (no file names it). Damage is classified as the log's recovery classifies it (see `tabula_wal::verify`):
//!
//! - a **torn tail** (the unfinished end of the last segment after a crash) holds no acknowledged
//!   commit; opening removes it, and so does [`repair`], after the caller has said what it removes;
//! - **corruption** (damage anywhere else, a gap in the log, a record that does not decode or
//!   apply) makes opening refuse; [`repair`] refuses it too, because fixing it loses acknowledged
//!   data: restore a backup, or open with `RecoveryMode::Salvage` knowing what it skips;
//! - a **damaged snapshot** is skipped by opening when an older snapshot and the log cover it.

use std::path::{Path, PathBuf};

use std::fs::File;

use tabula_codec::{Codec, Format};
use tabula_core::{Lsn, State, Transaction};
use tabula_snapshot::{LoadOptions, SnapshotStore};
use tabula_wal::{Damage, DamageKind, VerifyReport, WalOptions};

use crate::db::{Engine, LOCK_FILE, SNAPSHOT_DIR, WAL_DIR};
use crate::error::io;
use crate::manifest::{Manifest, ManifestKeeper};
use crate::{Error, Options, RecoveryReport, Result};
use tabula_storage::FsStorage;

/// What [`check`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckReport {
    /// The directory checked.
    pub dir: PathBuf,
    /// Each snapshot file, oldest first, with its LSN and size.
    pub snapshots: Vec<(PathBuf, Lsn, u64)>,
    /// What the log check found (segments, records, LSN range).
    pub wal: VerifyReport,
    /// The LSN the log replays onto (the newest readable snapshot's, or zero).
    pub base_lsn: Lsn,
    /// The LSN the database would open at.
    pub last_lsn: Lsn,
    /// Everything wrong, in file order.
    pub problems: Vec<Problem>,
    /// The log's codec: the MANIFEST's, or for a directory without one, told from the first
    /// record.
    pub log_codec: Format,
    /// Whether the directory has a MANIFEST that reads (directories written before it existed
    /// have none until their next open for writing).
    pub has_manifest: bool,
}

impl CheckReport {
    /// True when nothing is wrong.
    #[must_use]
    pub fn is_healthy(&self) -> bool {
        self.problems.is_empty()
    }

    /// True when every problem is at the end of the log, which [`repair`] cuts: a torn tail
    /// (no acknowledged commit in it), or a damaged tail, whose bytes it first keeps under
    /// `wal/quarantine/`.
    #[must_use]
    pub fn is_repairable(&self) -> bool {
        !self.problems.is_empty()
            && self
                .problems
                .iter()
                .all(|p| matches!(p.kind, ProblemKind::TornTail | ProblemKind::DamagedTail))
    }
}

/// One thing [`check`] found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Problem {
    /// What kind of damage.
    pub kind: ProblemKind,
    /// The damaged file.
    pub file: PathBuf,
    /// Where in the file the damage starts, when known.
    pub offset: Option<u64>,
    /// How many bytes are affected (0 when not a byte range).
    pub bytes: u64,
    /// What is wrong.
    pub reason: String,
    /// What is wrong with the bytes, when the problem is damage a reader classified (match
    /// this, not `reason`'s wording).
    pub damage: Option<DamageKind>,
    /// What opening or repairing does about it, and what would be lost.
    pub consequence: String,
}

/// The kinds of [`Problem`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The unfinished end of the log: a record cut short, so no acknowledged commit is in it.
    TornTail,
    /// The end of the log is a *complete* record that fails its check: a write cut short can
    /// leave one, but so can damage to an acknowledged commit, and nothing after it tells which.
    /// Opening keeps its bytes under `wal/quarantine/` and goes on without it.
    DamagedTail,
    /// Damage opening refuses.
    Corruption,
    /// A snapshot that does not read.
    DamagedSnapshot,
    /// Damage in an archived log segment: opening does not need it, but time travel, history
    /// and the change feed cannot reach through it.
    DamagedArchive,
    /// The MANIFEST does not read (damaged, cut short, or from a newer tabula).
    DamagedManifest,
    /// Live log segments the MANIFEST records, holding commits no snapshot covers, are gone.
    MissingSegments,
}

impl ProblemKind {
    /// A short name: `torn tail`, `corruption`, `damaged snapshot`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            ProblemKind::TornTail => "torn tail",
            ProblemKind::DamagedTail => "damaged tail",
            ProblemKind::Corruption => "corruption",
            ProblemKind::DamagedSnapshot => "damaged snapshot",
            ProblemKind::DamagedArchive => "damaged archive",
            ProblemKind::DamagedManifest => "damaged manifest",
            ProblemKind::MissingSegments => "missing segments",
        }
    }
}

/// Checks the database in `dir` without changing it. `options` gives the limits and the log's
/// codec. A missing directory, a database open elsewhere, and I/O failures are errors; damage
/// is reported in the [`CheckReport`].
pub fn check(dir: impl AsRef<Path>, options: &Options) -> Result<CheckReport> {
    let dir = dir.as_ref();
    let meta = std::fs::metadata(dir).map_err(io("open", dir))?;
    if !meta.is_dir() {
        return Err(Error::Io {
            op: "open",
            path: dir.to_path_buf(),
            error: std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a directory"),
        });
    }
    let _lock = shared_lock(dir)?;
    check_unlocked(dir, options)
}

/// [`check`] for a caller that holds the directory's lock.
fn check_unlocked(dir: &Path, options: &Options) -> Result<CheckReport> {
    let mut problems = Vec::new();
    let manifest = match Manifest::read(&FsStorage, dir) {
        Ok(manifest) => manifest,
        Err(Error::Manifest { path, reason }) => {
            problems.push(Problem {
                kind: ProblemKind::DamagedManifest,
                file: path,
                offset: None,
                bytes: 0,
                reason,
                damage: None,
                consequence: "opening refuses this directory; deleting MANIFEST opens it as one \
                              written before the MANIFEST existed, without its check for \
                              missing log segments"
                    .to_owned(),
            });
            None
        }
        Err(e) => return Err(e),
    };
    let (snapshots, base) = check_snapshots(dir, options, &mut problems)?;
    let base = base.unwrap_or_else(|| State::with_limits(options.limits));
    let base_lsn = base.lsn();
    let wal_dir = dir.join(WAL_DIR);
    if let Some(manifest) = &manifest {
        let present = tabula_wal::live_lsns(&FsStorage, &wal_dir).map_err(io("list", &wal_dir))?;
        let missing = tabula_wal::missing_segments(&manifest.segments, &present, base_lsn);
        if !missing.is_empty() {
            let names: Vec<String> = missing
                .iter()
                .map(|l| tabula_wal::segment_name(*l))
                .collect();
            problems.push(Problem {
                kind: ProblemKind::MissingSegments,
                file: wal_dir.clone(),
                offset: None,
                bytes: 0,
                reason: format!(
                    "the MANIFEST records live segments that are gone: {}",
                    names.join(", ")
                ),
                damage: None,
                consequence: if salvage_reaches(&wal_dir, base_lsn)? {
                    "opening refuses this database: the commits in those segments would be lost \
                     (put them back, restore a backup, or `tabula check --salvage` to go on \
                     without them)"
                        .to_owned()
                } else {
                    format!(
                        "opening refuses this database: the log after LSN {base_lsn} starts in a \
                         missing segment, so nothing can be replayed (put it back or restore a \
                         backup)"
                    )
                },
            });
        }
    }

    // The log: every frame, every payload decoded, the ones after the snapshot replayed.
    let mut replay = match &manifest {
        Some(manifest) => Replay::new(Codec::new(manifest.wal_codec), false, base),
        None => Replay::new(options.wal_codec(), true, base),
    };
    let wal = tabula_wal::verify(&wal_dir, &WalOptions::new(), &mut |lsn, payload| {
        replay.record(lsn, payload)
    })?;
    log_problems(&wal, &mut problems);
    if let Some(reason) = replay.failure.filter(|r| !r.is_empty()) {
        problems.push(Problem {
            kind: ProblemKind::Corruption,
            file: wal_dir.clone(),
            offset: None,
            bytes: 0,
            reason,
            damage: None,
            consequence: "opening refuses this log".to_owned(),
        });
    }
    if wal.records > 0 && wal.first_lsn > base_lsn.next() {
        problems.push(Problem {
            kind: ProblemKind::Corruption,
            file: wal_dir.clone(),
            offset: None,
            bytes: 0,
            reason: format!(
                "the log starts at LSN {} but the newest readable snapshot is at LSN {base_lsn}: \
                 records between are missing",
                wal.first_lsn
            ),
            damage: Some(DamageKind::Lsn {
                expected: base_lsn.next().0,
                found: wal.first_lsn.0,
            }),
            consequence: "opening refuses this database".to_owned(),
        });
    }
    Ok(CheckReport {
        dir: dir.to_path_buf(),
        snapshots,
        base_lsn,
        last_lsn: replay.db.lsn(),
        wal,
        problems,
        log_codec: replay.codec.format(),
        has_manifest: manifest.is_some(),
    })
}

/// Every snapshot of `dir`, read whole (each chunk's checksum and the file's): their files,
/// LSNs and sizes in LSN order, and the newest readable one's state, the base the log is
/// replayed onto. A snapshot that does not read is a problem.
///
/// They are read oldest first and only one state is held at a time, so a check needs the
/// memory of one open, not of two: the state read last is dropped before the next is read, and
/// read again at the end only when a newer one failed.
fn check_snapshots(
    dir: &Path,
    options: &Options,
    problems: &mut Vec<Problem>,
) -> Result<(Vec<SnapshotFile>, Option<State>)> {
    let load = LoadOptions::with_limits(options.limits);
    let snapshot_dir = dir.join(SNAPSHOT_DIR);
    let mut snapshots = Vec::new();
    if !snapshot_dir.is_dir() {
        return Ok((snapshots, None));
    }
    let store = SnapshotStore::open(&snapshot_dir)?;
    let files = store.list()?;
    let newest = files.last().map(|f| f.lsn);
    let mut base: Option<State> = None;
    let mut base_lsn: Option<Lsn> = None;
    for file in &files {
        snapshots.push((file.path.clone(), file.lsn, file.bytes));
        base = None;
        match store.load(file.lsn, &load) {
            Ok(loaded) => {
                base = Some(loaded.database);
                base_lsn = Some(file.lsn);
            }
            Err(error) => problems.push(Problem {
                kind: ProblemKind::DamagedSnapshot,
                file: file.path.clone(),
                offset: None,
                bytes: file.bytes,
                damage: match &error {
                    tabula_snapshot::Error::Corrupted { kind, .. } => Some(kind.clone()),
                    _ => None,
                },
                reason: error.to_string(),
                consequence: if Some(file.lsn) == newest {
                    "opening skips it and starts from an older snapshot and the log, if they \
                     reach this far; the file is kept for inspection"
                        .to_owned()
                } else {
                    "an older snapshot: opening does not need it, but time travel to before \
                     the next one may"
                        .to_owned()
                },
            }),
        }
    }
    if base.is_none()
        && let Some(lsn) = base_lsn
    {
        base = Some(store.load(lsn, &load)?.database);
    }
    Ok((snapshots, base))
}

/// A snapshot file [`check`] read: its path, LSN and size.
type SnapshotFile = (PathBuf, Lsn, u64);

/// The log's records as `check` (and a read-only open) replays them onto the snapshot's state.
pub(crate) struct Replay {
    /// The MANIFEST's codec, or without one, the options' unless the first record says
    /// otherwise.
    codec: Codec,
    /// Whether the first record may say otherwise (a directory without a MANIFEST).
    first_record: bool,
    /// Why replay stopped (empty: a record that does not decode, already reported as such).
    failure: Option<String>,
    db: State,
}

impl Replay {
    /// Replays onto `db`, decoding with `codec`, or when `guess`, with whichever codec decodes
    /// the first record if `codec` does not.
    pub(crate) fn new(codec: Codec, guess: bool, db: State) -> Replay {
        Replay {
            codec,
            first_record: guess,
            failure: None,
            db,
        }
    }

    /// The codec the log is read with (after the first record, the one that decoded it).
    pub(crate) fn codec_format(&self) -> Format {
        self.codec.format()
    }

    /// The LSN of the state replayed so far.
    pub(crate) fn db_lsn(&self) -> Lsn {
        self.db.lsn()
    }

    /// The state replayed so far, or why replay stopped.
    pub(crate) fn finish(self) -> std::result::Result<State, String> {
        match self.failure {
            None => Ok(self.db),
            Some(reason) => Err(reason),
        }
    }

    /// Decodes the record at `lsn` and, past the snapshot, applies it; the error says why the
    /// record is damaged.
    pub(crate) fn record(&mut self, lsn: Lsn, payload: &[u8]) -> std::result::Result<(), String> {
        if std::mem::take(&mut self.first_record)
            && self.codec.decode::<Transaction>(payload).is_err()
            && let Some(format) = Format::ALL
                .into_iter()
                .find(|f| Codec::new(*f).decode::<Transaction>(payload).is_ok())
        {
            self.codec = Codec::new(format);
        }
        let tx = match self.codec.decode::<Transaction>(payload) {
            Ok(tx) => tx,
            Err(e) => {
                // Replaying past a record that cannot be read would only report its absence.
                self.failure.get_or_insert_with(String::new);
                return Err(format!(
                    "the transaction does not decode as {}: {e}",
                    self.codec.format().name()
                ));
            }
        };
        if tx.lsn != lsn {
            self.failure.get_or_insert_with(String::new);
            return Err(format!("the record holds a transaction for LSN {}", tx.lsn));
        }
        let db = &mut self.db;
        if lsn > db.lsn() && self.failure.is_none() {
            if lsn != db.lsn().next() {
                self.failure = Some(format!(
                    "the log jumps from LSN {} to {lsn}: records are missing",
                    db.lsn()
                ));
            } else if let Err(e) = db.apply_owned(tx) {
                self.failure.get_or_insert_with(String::new);
                return Err(format!("the transaction does not apply: {e}"));
            }
        }
        Ok(())
    }
}

/// Whether salvage can go on without missing segments: it skips them as it skips damaged
/// records, but some segment, live or archived, must still start at or before the record after
/// the snapshot (`base`), or nothing can be replayed from there.
fn salvage_reaches(wal_dir: &Path, base: Lsn) -> Result<bool> {
    let present = tabula_wal::all_lsns(&FsStorage, wal_dir).map_err(io("list", wal_dir))?;
    Ok(present.iter().any(|first| *first <= base.next()))
}

/// The problems the log's verification found: torn tail, corruption, damaged archive.
fn log_problems(wal: &VerifyReport, problems: &mut Vec<Problem>) {
    for damage in &wal.torn_tail {
        let problem = if tabula_wal::may_be_acknowledged(&damage.kind) {
            log_problem(
                ProblemKind::DamagedTail,
                damage,
                format!(
                    "the last record is complete but fails its check: a write cut short, or \
                     damage to a commit that may have been acknowledged; opening or `--fix` \
                     moves these {} bytes to wal/{}/ and goes on without them",
                    damage.bytes,
                    tabula_wal::QUARANTINE_DIR
                ),
            )
        } else {
            log_problem(
                ProblemKind::TornTail,
                damage,
                format!(
                    "the unfinished end of the last write (a record cut short), no acknowledged \
                     commit in it; opening or `--fix` removes these {} bytes",
                    damage.bytes
                ),
            )
        };
        problems.push(problem);
    }
    for damage in &wal.corruption {
        problems.push(log_problem(
            ProblemKind::Corruption,
            damage,
            "opening refuses this log: the records from here to the end of the segment cannot \
             be read in order (restore a backup, or `tabula check --salvage` to skip them, \
             losing their transactions)"
                .to_owned(),
        ));
    }
    for damage in &wal.archive_damage {
        problems.push(log_problem(
            ProblemKind::DamagedArchive,
            damage,
            "opening does not read the archive, but time travel, history and the change feed \
             cannot reach through this point"
                .to_owned(),
        ));
    }
}

/// A shared lock on the directory's lock file, taken without writing anything: it keeps an
/// engine from opening (and changing the files) while the check reads, and fails if one has it
/// open. No lock file means no engine has ever opened the directory.
fn shared_lock(dir: &Path) -> Result<Option<File>> {
    let path = dir.join(LOCK_FILE);
    let file = match File::open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(Error::Io {
                op: "open",
                path,
                error: source,
            });
        }
    };
    match file.try_lock_shared() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut pid = String::new();
            let _ = std::io::Read::read_to_string(&mut std::io::Read::take(&file, 32), &mut pid);
            let holder = match pid.trim().parse::<u32>() {
                Ok(pid) => format!("held by process {pid}"),
                Err(_) => "held by another process".to_owned(),
            };
            Err(Error::AlreadyOpen {
                dir: dir.to_path_buf(),
                holder,
            })
        }
        Err(std::fs::TryLockError::Error(source)) => Err(Error::Io {
            op: "lock",
            path,
            error: source,
        }),
    }
}

fn log_problem(kind: ProblemKind, damage: &Damage, consequence: String) -> Problem {
    Problem {
        kind,
        file: damage.segment.clone(),
        offset: Some(damage.offset),
        bytes: damage.bytes,
        reason: damage.kind.to_string(),
        damage: Some(damage.kind.clone()),
        consequence,
    }
}

/// Removes a torn tail (and leftover temporary files) by opening the database once and closing
/// it, and returns what recovery did. `seen` is the [`check`] report the caller showed the user:
/// under the directory's lock, held from this check to the end of the repair, the database is
/// checked again, and if the problems differ (another process opened it meanwhile) nothing is
/// done ([`Error::ChangedSinceCheck`]). Corruption is refused ([`Error::Wal`] naming the segment
/// and offset): fixing it would lose acknowledged commits.
pub fn repair(
    dir: impl AsRef<Path>,
    options: Options,
    seen: &CheckReport,
) -> Result<RecoveryReport> {
    let dir = dir.as_ref();
    std::fs::metadata(dir).map_err(io("open", dir))?;
    let (storage, lock) = lock_unchanged(dir, &options, seen)?;
    let (engine, report) = Engine::open_locked(storage, dir.to_path_buf(), options, lock)?;
    engine.close()?;
    Ok(report)
}

/// Takes the directory's lock and checks that what [`check`] finds under it is what `seen` says.
fn lock_unchanged(
    dir: &Path,
    options: &Options,
    seen: &CheckReport,
) -> Result<(
    std::sync::Arc<dyn tabula_storage::Storage>,
    Box<dyn std::fmt::Debug + Send + Sync>,
)> {
    let storage: std::sync::Arc<dyn tabula_storage::Storage> = std::sync::Arc::new(FsStorage);
    let lock = crate::open::lock_dir(&*storage, dir)?;
    let now = check_unlocked(dir, options)?;
    if now.problems != seen.problems || now.last_lsn != seen.last_lsn {
        return Err(Error::ChangedSinceCheck {
            dir: dir.to_path_buf(),
        });
    }
    Ok((storage, lock))
}

/// Opens a database whose log is corrupted by skipping every damaged record
/// ([`RecoveryMode::Salvage`](tabula_wal::RecoveryMode::Salvage)), keeping every valid one
/// after the damage, writes a checkpoint of what it recovered, and moves the live log segments
/// (all covered by that checkpoint, the damaged ones among them) to `wal/quarantine/`, so that
/// later opens start from the checkpoint and need no salvage. The transactions in the damaged
/// ranges are lost: the report's `wal.lost` lists each range. Nothing is deleted. The opt-in
/// last resort `check` mentions; restoring a backup loses nothing that was backed up. `seen` is
/// the [`check`] report the caller showed, as for [`repair`].
pub fn salvage(
    dir: impl AsRef<Path>,
    options: Options,
    seen: &CheckReport,
) -> Result<RecoveryReport> {
    let dir = dir.as_ref();
    std::fs::metadata(dir).map_err(io("open", dir))?;
    let (storage, lock) = lock_unchanged(dir, &options, seen)?;
    let options = options
        .recovery(tabula_wal::RecoveryMode::Salvage)
        .background(false);
    let (engine, report) = Engine::open_locked(storage, dir.to_path_buf(), options, lock)?;
    let covered = match engine.checkpoint()? {
        Some(info) => info.lsn,
        None => engine.read().lsn(),
    };
    engine.close()?;
    // Under the directory's lock again, so no one opens the log while it moves. Closing let go
    // of it: if another process wrote meanwhile, its commits are in the live log past the
    // checkpoint, and moving the log away would lose them.
    let storage = FsStorage;
    let _lock = crate::open::lock_dir(&storage, dir)?;
    let wal = dir.join(WAL_DIR);
    let newest = SnapshotStore::open(dir.join(SNAPSHOT_DIR))?
        .list()?
        .last()
        .map(|s| s.lsn);
    let live = tabula_wal::verify_live(&wal, &WalOptions::new(), &mut |_, _| Ok(()))?;
    if newest != Some(covered) && covered > Lsn::ZERO || live.last_lsn > covered {
        return Err(Error::ChangedSinceCheck {
            dir: dir.to_path_buf(),
        });
    }
    let quarantine = wal.join(tabula_wal::QUARANTINE_DIR);
    let mut segments: Vec<(Lsn, PathBuf)> = std::fs::read_dir(&wal)
        .map_err(io("list", &wal))?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let name = entry.file_name();
            let first = tabula_wal::parse_segment_name(name.to_str()?)?;
            Some((first, entry.path()))
        })
        .collect();
    segments.sort();
    // Every live segment holds records up to the checkpoint at most (salvage kept all the valid
    // ones and the checkpoint is of their end), so all of them go.
    if segments.iter().all(|(first, _)| *first <= covered.next()) {
        // The MANIFEST first lists no live segment: a crash while they move must not leave it
        // listing one that is gone (opening would refuse), and the checkpoint covers them all.
        let keeper = Manifest::read(&storage, dir)?.map(|manifest| {
            ManifestKeeper::new(std::sync::Arc::new(storage), dir.to_path_buf(), manifest)
        });
        if let Some(keeper) = &keeper {
            keeper.record_segments(Vec::new())?;
        }
        std::fs::create_dir_all(&quarantine).map_err(io("create directory", &quarantine))?;
        for (_, path) in &segments {
            let to = quarantine.join(path.file_name().unwrap_or_default());
            std::fs::rename(path, &to).map_err(io("rename", path))?;
        }
        for synced in [&quarantine, &wal] {
            tabula_storage::Storage::sync_dir(&storage, synced).map_err(io("fsync", synced))?;
        }
    }
    Ok(report)
}
