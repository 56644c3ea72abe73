//! [`SnapshotStore`]: a directory of snapshot files, `snap-<LSN, 20 digits>.tsnap`, written
//! atomically (a temporary file, fsync, rename, directory fsync), listed, loaded (the newest that
//! is valid, or a given one) and trimmed by a retention policy.
//!
//! A crash at any point leaves the previous set or the new one: the temporary file is never taken
//! for a snapshot, and a snapshot's name appears only once its bytes are durable.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tabula_core::{Lsn, State};
use tabula_storage::{FsStorage, Storage, StorageFile};

use crate::reader::{LoadOptions, Loaded, read_snapshot};
use crate::writer::{SnapshotOptions, SnapshotSummary, write_snapshot};
use crate::{Error, Result};

/// How many snapshots to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SnapshotRetention {
    /// Keep at most this many (at least 1). Default 3.
    pub max_count: usize,
    /// Remove snapshots older than this, except the newest. Default: no age limit.
    pub max_age: Option<Duration>,
}

impl Default for SnapshotRetention {
    fn default() -> Self {
        SnapshotRetention {
            max_count: 3,
            max_age: None,
        }
    }
}

impl SnapshotRetention {
    /// Keep the newest `count` snapshots (at least 1).
    #[must_use]
    pub fn keep(count: usize) -> SnapshotRetention {
        SnapshotRetention {
            max_count: count.max(1),
            max_age: None,
        }
    }

    /// Also remove snapshots older than `age` (the newest always stays).
    #[must_use]
    pub fn max_age(mut self, age: Duration) -> SnapshotRetention {
        self.max_age = Some(age);
        self
    }
}

/// A snapshot file in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SnapshotFile {
    /// The LSN its name gives.
    pub lsn: Lsn,
    /// Its path.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
}

/// What [`SnapshotStore::load_newest`] found.
#[derive(Debug)]
#[non_exhaustive]
pub struct LoadedNewest {
    /// The newest snapshot that loaded.
    pub loaded: Loaded,
    /// Its file.
    pub file: SnapshotFile,
    /// Newer snapshots that failed to load, newest first, with why.
    pub skipped: Vec<(PathBuf, String)>,
}

/// A directory of snapshots.
#[derive(Debug, Clone)]
pub struct SnapshotStore {
    storage: Arc<dyn Storage>,
    dir: PathBuf,
    retention: SnapshotRetention,
}

const EXTENSION: &str = "tsnap";

fn file_name(lsn: Lsn) -> String {
    format!("snap-{:020}.{EXTENSION}", lsn.0)
}

fn parse_name(name: &str) -> Option<Lsn> {
    let digits = name.strip_prefix("snap-")?.strip_suffix(".tsnap")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().map(Lsn)
}

impl SnapshotStore {
    /// A store in `dir` on the real file system, created if missing.
    pub fn open(dir: impl AsRef<Path>) -> Result<SnapshotStore> {
        SnapshotStore::open_on(Arc::new(FsStorage), dir)
    }

    /// A store in `dir` on `storage`.
    pub fn open_on(storage: Arc<dyn Storage>, dir: impl AsRef<Path>) -> Result<SnapshotStore> {
        let dir = dir.as_ref().to_path_buf();
        storage.create_dir_all(&dir).map_err(|e| Error::Io {
            op: "create directory",
            path: dir.clone(),
            error: e,
        })?;
        Ok(SnapshotStore {
            storage,
            dir,
            retention: SnapshotRetention::default(),
        })
    }

    /// Sets the retention policy.
    #[must_use]
    pub fn with_retention(mut self, retention: SnapshotRetention) -> SnapshotStore {
        self.retention = retention;
        self
    }

    /// The directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn io(&self, op: &'static str, path: &Path) -> impl FnOnce(io::Error) -> Error {
        let path = path.to_path_buf();
        move |source| Error::Io {
            op,
            path,
            error: source,
        }
    }

    /// Writes a snapshot of `db` atomically, then applies retention. A snapshot at the same LSN
    /// is replaced.
    pub fn write(
        &self,
        db: &State,
        options: &SnapshotOptions,
    ) -> Result<(SnapshotFile, SnapshotSummary)> {
        let path = self.dir.join(file_name(db.lsn()));
        let temp = self.dir.join(format!("{}.tmp", file_name(db.lsn())));
        let file = self
            .storage
            .create(&temp)
            .map_err(self.io("create", &temp))?;
        let out = FileWriter::new(file);
        let (summary, out) = write_snapshot(db, out, options).map_err(|e| e.in_file(&temp))?;
        let mut file = out.finish().map_err(self.io("write", &temp))?;
        file.sync_data().map_err(self.io("fsync", &temp))?;
        drop(file);
        self.storage
            .rename(&temp, &path)
            .map_err(self.io("rename", &temp))?;
        self.storage
            .sync_dir(&self.dir)
            .map_err(self.io("fsync", &self.dir))?;
        let snapshot = SnapshotFile {
            lsn: db.lsn(),
            path,
            bytes: summary.bytes,
        };
        self.apply_retention()?;
        Ok((snapshot, summary))
    }

    /// The snapshots, oldest first. Leftover temporary files are not listed.
    pub fn list(&self) -> Result<Vec<SnapshotFile>> {
        let names = self
            .storage
            .list(&self.dir)
            .map_err(self.io("list", &self.dir))?;
        let mut files = Vec::new();
        for name in names {
            let Some(lsn) = parse_name(&name) else {
                continue;
            };
            let path = self.dir.join(&name);
            let bytes = self
                .storage
                .open(&path, false)
                .and_then(|file| file.len())
                .map_err(self.io("open", &path))?;
            files.push(SnapshotFile { lsn, path, bytes });
        }
        files.sort_by_key(|f| f.lsn);
        Ok(files)
    }

    /// Loads the snapshot at `lsn`.
    pub fn load(&self, lsn: Lsn, options: &LoadOptions) -> Result<Loaded> {
        let file = self
            .list()?
            .into_iter()
            .find(|f| f.lsn == lsn)
            .ok_or(Error::NotFound { lsn })?;
        self.load_file(&file.path, options)
    }

    fn load_file(&self, path: &Path, options: &LoadOptions) -> Result<Loaded> {
        let file = self
            .storage
            .open(path, false)
            .map_err(self.io("open", path))?;
        let loaded = read_snapshot(
            io::BufReader::with_capacity(1 << 20, FileReader { file, at: 0 }),
            options,
        )
        .map_err(|e| e.in_file(path))?;
        Ok(loaded)
    }

    /// Loads the newest snapshot that is valid, reporting the newer ones that were not; `None`
    /// when the store is empty. [`Error::NoValidSnapshot`] when none loads.
    pub fn load_newest(&self, options: &LoadOptions) -> Result<Option<LoadedNewest>> {
        let files = self.list()?;
        if files.is_empty() {
            return Ok(None);
        }
        let mut skipped = Vec::new();
        for file in files.into_iter().rev() {
            match self.load_file(&file.path, options) {
                Ok(loaded) => {
                    return Ok(Some(LoadedNewest {
                        loaded,
                        file,
                        skipped,
                    }));
                }
                Err(error) => skipped.push((file.path, error.to_string())),
            }
        }
        Err(Error::NoValidSnapshot { failures: skipped })
    }

    /// Applies the retention policy as of now; returns the files removed.
    pub fn apply_retention(&self) -> Result<Vec<PathBuf>> {
        self.apply_retention_at(SystemTime::now())
    }

    /// Applies the retention policy as if the time were `now`. The newest snapshot always stays;
    /// age is read from each file's header.
    pub fn apply_retention_at(&self, now: SystemTime) -> Result<Vec<PathBuf>> {
        let files = self.list()?;
        let keep = self.retention.max_count.max(1);
        let mut removed = Vec::new();
        let now_micros = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
        let newest = files.len().saturating_sub(1);
        for (index, file) in files.iter().enumerate() {
            if index == newest {
                break;
            }
            let over_count = files.len() - index > keep;
            let too_old = match self.retention.max_age {
                Some(max) => self.created_at(&file.path).is_some_and(|created| {
                    let age = now_micros.saturating_sub(created);
                    u128::try_from(age).unwrap_or(0) > max.as_micros()
                }),
                None => false,
            };
            if over_count || too_old {
                self.storage
                    .remove(&file.path)
                    .map_err(self.io("remove", &file.path))?;
                removed.push(file.path.clone());
            }
        }
        if !removed.is_empty() {
            self.storage
                .sync_dir(&self.dir)
                .map_err(self.io("fsync", &self.dir))?;
        }
        Ok(removed)
    }

    /// The creation time (µs since the Unix epoch) in a snapshot's header, if it reads.
    #[must_use]
    pub fn created_at(&self, path: &Path) -> Option<i64> {
        let file = self.storage.open(path, false).ok()?;
        let mut header = [0u8; crate::format::HEADER_LEN];
        let n = tabula_storage::read_full(&*file, 0, &mut header).ok()?;
        crate::format::Header::decode(header.get(..n)?)
            .ok()
            .map(|h| h.created_at_micros)
    }

    /// Removes leftover temporary files of interrupted writes; returns how many.
    pub fn remove_temp_files(&self) -> Result<usize> {
        let names = self
            .storage
            .list(&self.dir)
            .map_err(self.io("list", &self.dir))?;
        let mut removed = 0;
        for name in names
            .iter()
            .filter(|n| n.ends_with(".tmp") && n.starts_with("snap-"))
        {
            let path = self.dir.join(name);
            self.storage
                .remove(&path)
                .map_err(self.io("remove", &path))?;
            removed += 1;
        }
        if removed > 0 {
            self.storage
                .sync_dir(&self.dir)
                .map_err(self.io("fsync", &self.dir))?;
        }
        Ok(removed)
    }
}

/// An `io::Write` over a storage file, appending in large pieces and syncing every
/// [`SYNC_EVERY`] bytes: on ext4 (data=ordered) a journal commit, which the log's every fsync
/// needs, waits for all dirty data of newly allocated blocks, so a snapshot left to one big fsync
/// at its end stalls every commit behind it. Small steady syncs keep that backlog small.
struct FileWriter {
    file: Box<dyn StorageFile>,
    buf: Vec<u8>,
    unsynced: usize,
}

const WRITE_BUFFER: usize = 1 << 20;
const SYNC_EVERY: usize = 4 << 20;

impl FileWriter {
    fn new(file: Box<dyn StorageFile>) -> FileWriter {
        FileWriter {
            file,
            buf: Vec::with_capacity(WRITE_BUFFER),
            unsynced: 0,
        }
    }

    fn sync_if_due(&mut self) -> io::Result<()> {
        if self.unsynced >= SYNC_EVERY {
            self.file.sync_data()?;
            self.unsynced = 0;
        }
        Ok(())
    }

    fn finish(mut self) -> io::Result<Box<dyn StorageFile>> {
        self.flush()?;
        Ok(self.file)
    }
}

impl Write for FileWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.len() + data.len() > WRITE_BUFFER {
            self.flush()?;
        }
        if data.len() >= WRITE_BUFFER {
            self.file.append(data)?;
            self.unsynced += data.len();
            self.sync_if_due()?;
        } else {
            self.buf.extend_from_slice(data);
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.file.append(&self.buf)?;
            self.unsynced += self.buf.len();
            self.buf.clear();
            self.sync_if_due()?;
        }
        Ok(())
    }
}

/// An `io::Read` over a storage file.
struct FileReader {
    file: Box<dyn StorageFile>,
    at: u64,
}

impl Read for FileReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(self.at, buf)?;
        self.at += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back() {
        assert_eq!(parse_name(&file_name(Lsn(42))), Some(Lsn(42)));
        assert_eq!(parse_name("snap-42.tsnap"), None);
        assert_eq!(parse_name(&format!("{}.tmp", file_name(Lsn(1)))), None);
    }
}
