//! `tabula-storage`: the few file operations tabula's log and snapshots need, as a trait
//! ([`Storage`]), so that tests can run them over [`SimStorage`], which injects faults and
//! simulates power loss, and everything else over [`FsStorage`], the real file system.
//!
//! It sits below `tabula-wal` and `tabula-snapshot`, which must not depend on each other, so that
//! one simulated disk can hold a whole database directory in the engine's crash tests. For the
//! same reason it holds what both readers share: [`DamageKind`], the typed description of
//! damaged bytes that the log, the snapshot reader, `check` and the reliability judge use, and
//! the one [`SplitMix64`].
//!
//! Callers rely on these semantics, which both implementations provide:
//! - `append` writes at the end of a file; data is on stable storage only after `sync_data`;
//! - a created, renamed or removed name is on stable storage only after `sync_dir` of its directory;
//! - `rename` replaces the target atomically.

#![deny(missing_docs)]

mod damage;
mod fs;
pub mod le;
mod output;
mod rng;
mod sim;

use std::fmt::Debug;
use std::io;
use std::path::{Path, PathBuf};

pub use damage::DamageKind;
pub use fs::FsStorage;
pub use output::{OutputFile, sync_parent};
pub use rng::{GOLDEN_GAMMA, SplitMix64, mix64};
pub use sim::{Fault, SimStorage, Tear};

/// The file operations tabula uses. Paths are whatever the caller builds from the directory it
/// was opened on.
pub trait Storage: Debug + Send + Sync + 'static {
    /// Creates a directory and its parents, durably.
    fn create_dir_all(&self, dir: &Path) -> io::Result<()>;
    /// The names of the files in `dir` (not directories), in any order.
    fn list(&self, dir: &Path) -> io::Result<Vec<String>>;
    /// Creates `path` empty, replacing any file of that name, open for appending and reading.
    fn create(&self, path: &Path) -> io::Result<Box<dyn StorageFile>>;
    /// Opens an existing file, for appending and reading if `writable`, else read-only.
    fn open(&self, path: &Path, writable: bool) -> io::Result<Box<dyn StorageFile>>;
    /// Renames `from` to `to`, replacing `to`.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Removes a file.
    fn remove(&self, path: &Path) -> io::Result<()>;
    /// Makes the names in `dir` durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// Takes an exclusive lock on `path` (created if missing) for as long as the guard lives; an
    /// error of kind `WouldBlock` when someone else holds it.
    fn lock(&self, path: &Path) -> io::Result<Box<dyn Debug + Send + Sync>>;
}

/// An open file.
pub trait StorageFile: Debug + Send + Sync {
    /// The file's length in bytes.
    fn len(&self) -> io::Result<u64>;
    /// Whether the file is empty.
    fn is_empty(&self) -> io::Result<bool> {
        Ok(self.len()? == 0)
    }
    /// Reads up to `buf.len()` bytes at `offset`; fewer only at the end of the file.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize>;
    /// Writes all of `data` at the end of the file.
    fn append(&mut self, data: &[u8]) -> io::Result<()>;
    /// Makes the file's data (and its length) durable.
    fn sync_data(&mut self) -> io::Result<()>;
    /// Cuts the file to `len` bytes.
    fn truncate(&mut self, len: u64) -> io::Result<()>;
}

/// Reads exactly `buf.len()` bytes at `offset`, or fewer only where the file ends; returns how many.
pub fn read_full(file: &dyn StorageFile, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
    let mut done = 0;
    while let Some(rest) = buf.get_mut(done..) {
        if rest.is_empty() {
            break;
        }
        match file.read_at(offset + done as u64, rest) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// The directory a path is in (the path itself when it has none).
pub fn parent(path: &Path) -> PathBuf {
    path.parent()
        .map_or_else(|| path.to_path_buf(), Path::to_path_buf)
}

/// Copies `from` to `to` so that `to` is either absent or whole: the bytes go to `to` plus
/// `.tmp`, which is synced and then renamed. The caller syncs `to`'s directory to make the name
/// durable. Returns the bytes copied.
pub fn copy_file(storage: &dyn Storage, from: &Path, to: &Path) -> io::Result<u64> {
    let source = storage.open(from, false)?;
    let len = source.len()?;
    let mut temp_name = to.as_os_str().to_owned();
    temp_name.push(".tmp");
    let temp = PathBuf::from(temp_name);
    let mut target = storage.create(&temp)?;
    let mut buf = vec![0; 1 << 20];
    let mut offset = 0;
    while offset < len {
        let n = read_full(&*source, offset, &mut buf)?;
        let chunk = buf.get(..n).unwrap_or_default();
        if chunk.is_empty() {
            break;
        }
        target.append(chunk)?;
        offset += n as u64;
    }
    target.sync_data()?;
    drop(target);
    storage.rename(&temp, to)?;
    Ok(offset)
}
