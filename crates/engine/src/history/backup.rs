//! Online backups and restores, as Kajson's `BackupManager` and Litestream do them, while
//! writers go on:
//!
//! - [`Engine::backup`] writes the visible state, one consistent compressed snapshot file
//!   (`snap-<lsn>.tsnap`, tabula-snapshot's format: its header carries the LSN and the time), into
//!   a backup directory; taken from an O(1) copy, so commits do not wait for it;
//! - [`list_backups`] and [`remove_old_backups`] (keep the newest N, or drop those older than an
//!   age; the newest always stays) manage that directory;
//! - [`restore`] makes a new database directory from a backup file (or any file
//!   [`crate::load_file`] reads), and [`Engine::restore_to`] one from a past point of a live
//!   database (Redis's `--truncate-to-timestamp`, Litestream's `restore -timestamp`).
//!
//! A restored directory holds only the snapshot; [`Engine::open`] on it recovers that state and
//! starts a new log after its LSN. Restoring never writes into a directory that holds anything.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tabula_core::{Lsn, State, Timestamp};
use tabula_snapshot::{SnapshotRetention, SnapshotStore};
use tabula_storage::{FsStorage, Storage};

use crate::db::{Engine, SNAPSHOT_DIR};
use crate::error::io;
use crate::history::At;
use crate::{Error, Result};

/// A backup file, from [`Engine::backup`] or [`list_backups`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BackupInfo {
    /// The LSN of the state it holds.
    pub lsn: Lsn,
    /// The file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// When it was taken (from its header), if the header reads.
    pub created: Option<Timestamp>,
}

fn store(dir: &Path) -> Result<SnapshotStore> {
    store_on(Arc::new(FsStorage), dir)
}

fn store_on(storage: Arc<dyn Storage>, dir: &Path) -> Result<SnapshotStore> {
    storage.create_dir_all(dir).map_err(|source| Error::Io {
        op: "create directory",
        path: dir.to_path_buf(),
        error: source,
    })?;
    // Backups are removed only when asked (`remove_old_backups`).
    Ok(SnapshotStore::open_on(storage, dir)?.with_retention(SnapshotRetention::keep(usize::MAX)))
}

impl Engine {
    /// Writes a backup of the visible state into the directory `dir` (created if missing):
    /// one consistent, compressed, checksummed file named after its LSN. Writers go on
    /// meanwhile. A backup at the same LSN is replaced.
    ///
    /// ```
    /// use tabula_core::{Op, TableDef};
    /// use tabula_engine::{Engine, Options};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let (engine, _) = Engine::open(dir.path().join("db"), Options::new())?;
    /// engine.commit(vec![Op::CreateTable(TableDef::new("t", "id"))])?;
    /// let backup = engine.backup(dir.path().join("backups"))?;
    /// tabula_engine::restore(&backup.path, dir.path().join("restored"))?;
    /// let (restored, _) = Engine::open(dir.path().join("restored"), Options::new())?;
    /// assert!(restored.read().table("t").is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// I/O errors writing the file.
    pub fn backup(&self, dir: impl AsRef<Path>) -> Result<BackupInfo> {
        // On the engine's own storage, so that a database opened on a simulated disk backs up
        // onto it too.
        let store = store_on(Arc::clone(self.inner.storage()), dir.as_ref())?;
        // The state at its LSN, rows past their time to live included: the restored database's
        // reads hide them, and its writes delete them.
        let db = self.inner.visible();
        let (file, _) = store.write(&db, &self.inner.options().snapshot)?;
        let created = store.created_at(&file.path).map(Timestamp::from_micros);
        Ok(BackupInfo {
            lsn: file.lsn,
            path: file.path,
            bytes: file.bytes,
            created,
        })
    }

    /// Makes a new database directory `new_dir` holding the state at `at`; returns its LSN.
    ///
    /// # Errors
    /// As [`Engine::as_of`]; `new_dir` holding anything; I/O errors.
    pub fn restore_to(&self, at: impl Into<At>, new_dir: impl AsRef<Path>) -> Result<Lsn> {
        let db = self.as_of(at)?;
        create_database_dir(
            &db.to_database()?,
            new_dir.as_ref(),
            &self.inner.options().snapshot,
        )
    }
}

/// Makes a new database directory `dir` from a backup (or any file [`crate::load_file`] reads:
/// a saved database, a snapshot, a DictDB JSON file); returns the LSN restored.
/// [`Engine::open`] on `dir` then recovers that state.
///
/// # Errors
/// A damaged or unreadable backup (nothing is written then); `dir` holding anything; I/O errors.
pub fn restore(backup: impl AsRef<Path>, dir: impl AsRef<Path>) -> Result<Lsn> {
    let options = crate::Options::default();
    let db = crate::load_file(backup, &options.limits)?;
    create_database_dir(&db, dir.as_ref(), &options.snapshot)
}

pub(crate) fn create_database_dir(
    db: &State,
    dir: &Path,
    options: &tabula_snapshot::SnapshotOptions,
) -> Result<Lsn> {
    build_new_dir(dir, |building| {
        let store = store(&building.join(SNAPSHOT_DIR))?;
        let (file, _) = store.write(db, options)?;
        Ok(file.lsn)
    })
}

/// Makes the new database directory `dir` (missing or empty) by running `build` on a hidden
/// sibling, `.<name>.partial-<pid>`, renamed into place (and its name synced) only once `build`
/// succeeded. A restore or load killed halfway so leaves no directory that would open as an
/// empty database, and the next run into `dir` is not refused as "not empty"; it removes what a
/// dead run left (told by `/proc`, so on Linux).
pub(crate) fn build_new_dir<T>(dir: &Path, build: impl FnOnce(&Path) -> Result<T>) -> Result<T> {
    refuse_occupied(dir)?;
    let parent = tabula_storage::parent(dir);
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".").to_path_buf()
    } else {
        parent
    };
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    remove_dead_partials(&parent, &name);
    std::fs::create_dir_all(&parent).map_err(io("create directory", &parent))?;
    let building = parent.join(format!(".{name}.partial-{}", std::process::id()));
    if building.exists() {
        std::fs::remove_dir_all(&building).map_err(io("remove", &building))?;
    }
    std::fs::create_dir(&building).map_err(io("create directory", &building))?;
    let built = build(&building).and_then(|value| {
        // `rename` replaces an empty directory; a non-empty one appeared meanwhile is refused.
        std::fs::rename(&building, dir).map_err(io("rename", &building))?;
        tabula_storage::sync_parent(dir).map_err(io("fsync", &parent))?;
        Ok(value)
    });
    if built.is_err() {
        let _ = std::fs::remove_dir_all(&building);
    }
    built
}

/// Removes the partial directories of `name` whose process is gone.
fn remove_dead_partials(parent: &Path, name: &str) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    let prefix = format!(".{name}.partial-");
    for entry in entries.flatten() {
        let file = entry.file_name();
        let Some(pid) = file
            .to_str()
            .and_then(|f| f.strip_prefix(&prefix))
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new("/proc").join(pid.to_string()).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Restores only make new database directories: `dir` must be missing or empty.
pub(crate) fn refuse_occupied(dir: &Path) -> Result<()> {
    let occupied = std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some());
    if occupied {
        return Err(Error::NotEmpty {
            dir: dir.to_path_buf(),
        });
    }
    Ok(())
}

/// The backups in `dir`, oldest first.
///
/// # Errors
/// I/O errors listing the directory.
pub fn list_backups(dir: impl AsRef<Path>) -> Result<Vec<BackupInfo>> {
    let store = store(dir.as_ref())?;
    Ok(store
        .list()?
        .into_iter()
        .map(|file| BackupInfo {
            created: store.created_at(&file.path).map(Timestamp::from_micros),
            lsn: file.lsn,
            path: file.path,
            bytes: file.bytes,
        })
        .collect())
}

/// Removes the backups in `dir` that `retention` does not keep (the newest always stays);
/// returns the files removed.
///
/// # Errors
/// I/O errors.
pub fn remove_old_backups(
    dir: impl AsRef<Path>,
    retention: SnapshotRetention,
) -> Result<Vec<PathBuf>> {
    let store = store(dir.as_ref())?.with_retention(retention);
    Ok(store.apply_retention()?)
}
