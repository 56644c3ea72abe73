//! [`SimStorage`]: an in-memory [`Storage`] that injects faults and simulates power loss, for
//! tests of this crate and of the layers above it.
//!
//! Every file keeps a *live* image (what reads see) and a *durable* image (what survives a power
//! loss): `sync_data` copies live to durable. Names work the same way: a create, rename or remove
//! changes the live directory, and `sync_dir` makes the directory's live names durable.
//!
//! Faults it injects, each at a chosen mutating operation (create, append, sync, truncate, rename,
//! remove, directory sync or create; reads are not counted):
//! - [`Fault::Crash`]: the operation and every later one fail, as if the process died there; then
//!   [`SimStorage::crash`] gives the image a restarted machine would see.
//! - [`Fault::Io`]: an I/O error (EIO), once or from then on.
//! - [`Fault::NoSpace`]: ENOSPC, once or from then on; an append writes what fits first.
//! - [`SimStorage::fail_next_sync`]: the next `sync_data` or `sync_dir` fails.
//! - [`SimStorage::set_capacity`]: a disk of that many bytes; appends beyond it fail with ENOSPC.
//!
//! What a crash keeps ([`Tear`]): only what was synced; everything (the OS survived, the process
//! did not); or a torn image, where each file keeps a random prefix of its unsynced bytes whose end
//! may be garbage or zeros, and the unsynced name changes all happened or none did.
//! Unsynced writes are never reordered within a file: the model is a prefix of the unsynced bytes.
//! Across files they are, since each file keeps its own prefix; and [`Tear::Reordered`] also lets
//! each unsynced name change survive on its own.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;

use super::{SplitMix64, Storage, StorageFile, parent};

/// An injected failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// The process dies at this operation: it and every later operation fail.
    Crash,
    /// An I/O error (EIO).
    Io,
    /// The disk is full (ENOSPC).
    NoSpace,
}

/// What a simulated crash keeps of bytes and names that were not synced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Tear {
    /// Power loss: only what was synced survives.
    DropUnsynced,
    /// A process crash: the operating system survives and keeps everything written.
    KeepAll,
    /// Power loss in the middle of writeback, drawn from `seed`: each file keeps a random prefix of
    /// its unsynced bytes, the end of which may be garbage or zeros, and the unsynced name changes
    /// all survive or none do.
    Torn {
        /// The random seed.
        seed: u64,
    },
    /// As [`Tear::Torn`], but each name change (create, rename, remove) not yet made durable by
    /// a directory sync independently survives or not, as POSIX allows: a later change may
    /// reach the disk while an earlier one does not. A rename stays atomic.
    Reordered {
        /// The random seed.
        seed: u64,
    },
}

/// An in-memory storage with fault injection. Clones share the same files.
#[derive(Debug, Clone, Default)]
pub struct SimStorage {
    inner: Arc<Mutex<Sim>>,
}

#[derive(Debug, Default, Clone)]
struct Sim {
    files: Vec<Data>,
    live: BTreeMap<PathBuf, usize>,
    durable: BTreeMap<PathBuf, usize>,
    dirs: BTreeSet<PathBuf>,
    ops: u64,
    planned: Vec<(u64, Fault, bool)>,
    hit: Vec<(u64, Fault, &'static str)>,
    /// Name changes since their directories were last synced, in order.
    unsynced: Vec<NameChange>,
    failing: Option<Fault>,
    fail_next_sync: bool,
    capacity: Option<u64>,
    locks: BTreeSet<PathBuf>,
}

/// A change of the live names, kept until a directory sync makes it durable.
#[derive(Debug, Clone)]
enum NameChange {
    Create(PathBuf, usize),
    Remove(PathBuf),
    /// From, to, the file, and which of the two directories are still to be synced.
    Rename(PathBuf, PathBuf, usize, [bool; 2]),
}

impl NameChange {
    /// Notes that `dir` was synced; whether the change is still not wholly durable.
    fn synced(&mut self, dir: &Path) -> bool {
        let in_dir = |path: &PathBuf| path.parent() == Some(dir);
        match self {
            NameChange::Create(path, _) | NameChange::Remove(path) => !in_dir(path),
            NameChange::Rename(from, to, _, pending) => {
                pending[0] &= !in_dir(from);
                pending[1] &= !in_dir(to);
                pending[0] || pending[1]
            }
        }
    }
}

#[derive(Debug, Default, Clone)]
struct Data {
    live: Vec<u8>,
    durable: Vec<u8>,
}

impl SimStorage {
    /// An empty storage.
    #[must_use]
    pub fn new() -> SimStorage {
        SimStorage::default()
    }

    /// How many mutating operations were attempted so far.
    #[must_use]
    pub fn ops(&self) -> u64 {
        self.inner.lock().ops
    }

    /// Makes mutating operation number `at` (counting from 0) fail with `fault`; if `persistent`,
    /// every later one fails too. A crash is always persistent.
    pub fn inject(&self, at: u64, fault: Fault, persistent: bool) {
        self.inner.lock().planned.push((at, fault, persistent));
    }

    /// The planned faults that fired: operation number, fault, and what the operation was
    /// (`"append"`, `"sync data"`, `"sync directory"`, `"rename"`...).
    #[must_use]
    pub fn faults_hit(&self) -> Vec<(u64, Fault, &'static str)> {
        self.inner.lock().hit.clone()
    }

    /// Every live file, sorted.
    #[must_use]
    pub fn all_files(&self) -> Vec<PathBuf> {
        self.inner.lock().live.keys().cloned().collect()
    }

    /// Makes the next `sync_data` or `sync_dir` fail with EIO.
    pub fn fail_next_sync(&self) {
        self.inner.lock().fail_next_sync = true;
    }

    /// Limits the total live bytes of all files; `None` for no limit.
    pub fn set_capacity(&self, bytes: Option<u64>) {
        self.inner.lock().capacity = bytes;
    }

    /// Stops injecting faults (a full disk stays full; see [`SimStorage::set_capacity`]).
    pub fn heal(&self) {
        let mut sim = self.inner.lock();
        sim.planned.clear();
        sim.failing = None;
        sim.fail_next_sync = false;
    }

    /// Whether an injected crash happened.
    #[must_use]
    pub fn crashed(&self) -> bool {
        self.inner.lock().failing == Some(Fault::Crash)
    }

    /// The storage a restarted machine would see, keeping what `tear` says of unsynced changes.
    /// Faults, locks and the operation count start afresh; this storage is left as it is.
    #[must_use]
    pub fn crash(&self, tear: Tear) -> SimStorage {
        let sim = self.inner.lock();
        let mut rng = SplitMix64::new(match tear {
            Tear::Torn { seed } | Tear::Reordered { seed } => seed,
            _ => 0,
        });
        let mut after = Sim {
            dirs: sim.dirs.clone(),
            capacity: sim.capacity,
            ..Sim::default()
        };
        let names = match tear {
            Tear::KeepAll => sim.live.clone(),
            Tear::DropUnsynced => sim.durable.clone(),
            // Renames are atomic, so the unsynced name changes all happened or none did.
            Tear::Torn { .. } if rng.below(2) == 0 => sim.live.clone(),
            Tear::Torn { .. } => sim.durable.clone(),
            Tear::Reordered { .. } => {
                // Each name change not yet made durable by a directory sync happens or not, on
                // its own; a rename stays atomic (the file is under one of its names).
                let mut names = sim.durable.clone();
                for change in &sim.unsynced {
                    if rng.below(2) == 0 {
                        continue;
                    }
                    match change {
                        NameChange::Create(path, id) => {
                            names.insert(path.clone(), *id);
                        }
                        NameChange::Remove(path) => {
                            names.remove(path);
                        }
                        NameChange::Rename(from, to, id, _) => {
                            if names.get(from) == Some(id) {
                                names.remove(from);
                            }
                            names.insert(to.clone(), *id);
                        }
                    }
                }
                names
            }
        };
        for (path, id) in names {
            let Some(data) = sim.files.get(id) else {
                continue;
            };
            let bytes = match tear {
                Tear::KeepAll => data.live.clone(),
                Tear::DropUnsynced => data.durable.clone(),
                Tear::Torn { .. } | Tear::Reordered { .. } => torn(data, &mut rng),
            };
            after.live.insert(path.clone(), after.files.len());
            after.durable.insert(path, after.files.len());
            after.files.push(Data {
                live: bytes.clone(),
                durable: bytes,
            });
        }
        SimStorage {
            inner: Arc::new(Mutex::new(after)),
        }
    }

    /// An independent copy of this storage as it is now, live and durable images alike, without
    /// its locks and faults (the state a killed process leaves, still to be crashed or reopened).
    #[must_use]
    pub fn fork(&self) -> SimStorage {
        let mut copy = self.inner.lock().clone();
        copy.locks.clear();
        copy.planned.clear();
        copy.hit.clear();
        copy.failing = None;
        copy.fail_next_sync = false;
        copy.ops = 0;
        SimStorage {
            inner: Arc::new(Mutex::new(copy)),
        }
    }

    /// The live bytes of a file.
    #[must_use]
    pub fn read_file(&self, path: &Path) -> Option<Vec<u8>> {
        let sim = self.inner.lock();
        let id = *sim.live.get(path)?;
        sim.files.get(id).map(|data| data.live.clone())
    }

    /// Writes a whole file durably, bypassing faults (to set up damaged files in tests).
    pub fn write_file(&self, path: &Path, bytes: &[u8]) {
        let mut sim = self.inner.lock();
        sim.dirs.insert(parent(path));
        let id = sim.files.len();
        sim.files.push(Data {
            live: bytes.to_vec(),
            durable: bytes.to_vec(),
        });
        sim.live.insert(path.to_path_buf(), id);
        sim.durable.insert(path.to_path_buf(), id);
    }

    /// The live names of the files in `dir`, sorted.
    #[must_use]
    pub fn files_in(&self, dir: &Path) -> Vec<String> {
        let sim = self.inner.lock();
        names_in(&sim.live, dir)
    }
}

fn torn(data: &Data, rng: &mut SplitMix64) -> Vec<u8> {
    let Some(unsynced) = data.live.strip_prefix(data.durable.as_slice()) else {
        // Changed below its durable length and not synced: the durable image survives.
        return data.durable.clone();
    };
    let mut bytes = data.durable.clone();
    let keep = rng.below(unsynced.len() as u64 + 1) as usize;
    bytes.extend_from_slice(unsynced.get(..keep).unwrap_or_default());
    if keep > 0 {
        let damaged = (rng.below(16) as usize + 1).min(keep);
        let start = bytes.len() - damaged;
        match rng.below(3) {
            0 => {}
            1 => bytes
                .get_mut(start..)
                .into_iter()
                .flatten()
                .for_each(|b| *b = 0),
            _ => bytes
                .get_mut(start..)
                .into_iter()
                .flatten()
                .for_each(|b| *b = rng.below(256) as u8),
        }
    }
    bytes
}

fn names_in(names: &BTreeMap<PathBuf, usize>, dir: &Path) -> Vec<String> {
    names
        .keys()
        .filter(|path| path.parent() == Some(dir))
        .filter_map(|path| path.file_name()?.to_str().map(str::to_owned))
        .collect()
}

fn fault_error(fault: Fault) -> io::Error {
    match fault {
        Fault::Crash => io::Error::other("simulated crash"),
        Fault::Io => io::Error::from_raw_os_error(5),
        Fault::NoSpace => io::Error::from_raw_os_error(28),
    }
}

impl Sim {
    /// Counts a mutating operation and says whether a fault hits it.
    fn begin(&mut self, op: &'static str) -> io::Result<()> {
        let at = self.ops;
        self.ops += 1;
        if let Some(fault) = self.failing {
            return Err(fault_error(fault));
        }
        if let Some(index) = self.planned.iter().position(|(op, _, _)| *op == at) {
            let (_, fault, persistent) = self.planned.swap_remove(index);
            self.hit.push((at, fault, op));
            if persistent || fault == Fault::Crash {
                self.failing = Some(fault);
            }
            return Err(fault_error(fault));
        }
        Ok(())
    }

    fn check_dir(&self, path: &Path) -> io::Result<()> {
        if self.dirs.contains(&parent(path)) {
            Ok(())
        } else {
            Err(io::Error::new(io::ErrorKind::NotFound, "no such directory"))
        }
    }

    fn used(&self) -> u64 {
        self.live
            .values()
            .filter_map(|&id| self.files.get(id))
            .map(|data| data.live.len() as u64)
            .sum()
    }

    fn data(&mut self, id: usize) -> io::Result<&mut Data> {
        self.files
            .get_mut(id)
            .ok_or_else(|| io::Error::other("bad file id"))
    }
}

impl Storage for SimStorage {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        let mut sim = self.inner.lock();
        sim.begin("create directory")?;
        for ancestor in dir.ancestors() {
            sim.dirs.insert(ancestor.to_path_buf());
        }
        Ok(())
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let sim = self.inner.lock();
        if !sim.dirs.contains(dir) {
            return Err(io::Error::new(io::ErrorKind::NotFound, "no such directory"));
        }
        Ok(names_in(&sim.live, dir))
    }

    fn create(&self, path: &Path) -> io::Result<Box<dyn StorageFile>> {
        let mut sim = self.inner.lock();
        sim.begin("create")?;
        sim.check_dir(path)?;
        let id = sim.files.len();
        sim.files.push(Data::default());
        sim.live.insert(path.to_path_buf(), id);
        sim.unsynced
            .push(NameChange::Create(path.to_path_buf(), id));
        Ok(Box::new(SimFile {
            inner: Arc::clone(&self.inner),
            id,
            writable: true,
        }))
    }

    fn open(&self, path: &Path, writable: bool) -> io::Result<Box<dyn StorageFile>> {
        let sim = self.inner.lock();
        let id = *sim
            .live
            .get(path)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))?;
        Ok(Box::new(SimFile {
            inner: Arc::clone(&self.inner),
            id,
            writable,
        }))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut sim = self.inner.lock();
        sim.begin("rename")?;
        sim.check_dir(to)?;
        let id = sim
            .live
            .remove(from)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))?;
        sim.live.insert(to.to_path_buf(), id);
        sim.unsynced.push(NameChange::Rename(
            from.to_path_buf(),
            to.to_path_buf(),
            id,
            [true, true],
        ));
        Ok(())
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        let mut sim = self.inner.lock();
        sim.begin("remove")?;
        sim.live
            .remove(path)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))?;
        sim.unsynced.push(NameChange::Remove(path.to_path_buf()));
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let mut sim = self.inner.lock();
        sim.begin("sync directory")?;
        if std::mem::take(&mut sim.fail_next_sync) {
            return Err(fault_error(Fault::Io));
        }
        let in_dir = |path: &PathBuf| path.parent() == Some(dir);
        sim.durable.retain(|path, _| !in_dir(path));
        let live: Vec<(PathBuf, usize)> = sim
            .live
            .iter()
            .filter(|(path, _)| in_dir(path))
            .map(|(path, id)| (path.clone(), *id))
            .collect();
        sim.durable.extend(live);
        // A rename between two directories stays pending until both are synced; replaying it
        // at a crash then only repeats what one sync made durable.
        let mut synced = std::mem::take(&mut sim.unsynced);
        synced.retain_mut(|change| change.synced(dir));
        sim.unsynced = synced;
        Ok(())
    }

    fn lock(&self, path: &Path) -> io::Result<Box<dyn Debug + Send + Sync>> {
        let mut sim = self.inner.lock();
        if !sim.locks.insert(path.to_path_buf()) {
            return Err(io::Error::new(io::ErrorKind::WouldBlock, "locked"));
        }
        Ok(Box::new(SimLock {
            inner: Arc::clone(&self.inner),
            path: path.to_path_buf(),
        }))
    }
}

#[derive(Debug)]
struct SimLock {
    inner: Arc<Mutex<Sim>>,
    path: PathBuf,
}

impl Drop for SimLock {
    fn drop(&mut self) {
        self.inner.lock().locks.remove(&self.path);
    }
}

#[derive(Debug)]
struct SimFile {
    inner: Arc<Mutex<Sim>>,
    id: usize,
    writable: bool,
}

impl SimFile {
    fn check_writable(&self) -> io::Result<()> {
        if self.writable {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "opened read-only",
            ))
        }
    }
}

impl StorageFile for SimFile {
    fn len(&self) -> io::Result<u64> {
        let mut sim = self.inner.lock();
        Ok(sim.data(self.id)?.live.len() as u64)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let mut sim = self.inner.lock();
        let live = &sim.data(self.id)?.live;
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(live.len());
        let available = live.get(start..).unwrap_or_default();
        let n = available.len().min(buf.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), available.get(..n)) {
            dst.copy_from_slice(src);
        }
        Ok(n)
    }

    fn append(&mut self, data: &[u8]) -> io::Result<()> {
        self.check_writable()?;
        let mut sim = self.inner.lock();
        sim.begin("append")?;
        let room = sim.capacity.map(|cap| cap.saturating_sub(sim.used()));
        let fits = room.map_or(data.len(), |room| {
            usize::try_from(room).unwrap_or(usize::MAX).min(data.len())
        });
        let file = sim.data(self.id)?;
        file.live
            .extend_from_slice(data.get(..fits).unwrap_or_default());
        if fits < data.len() {
            return Err(fault_error(Fault::NoSpace));
        }
        Ok(())
    }

    fn sync_data(&mut self) -> io::Result<()> {
        let mut sim = self.inner.lock();
        sim.begin("sync data")?;
        if std::mem::take(&mut sim.fail_next_sync) {
            return Err(fault_error(Fault::Io));
        }
        let file = sim.data(self.id)?;
        file.durable.clone_from(&file.live);
        Ok(())
    }

    fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.check_writable()?;
        let mut sim = self.inner.lock();
        sim.begin("truncate")?;
        let file = sim.data(self.id)?;
        file.live
            .resize(usize::try_from(len).unwrap_or(usize::MAX), 0);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_loss_keeps_only_synced_bytes_and_names() {
        let storage = SimStorage::new();
        let dir = Path::new("/d");
        storage.create_dir_all(dir).unwrap();
        let mut file = storage.create(&dir.join("a")).unwrap();
        file.append(b"synced").unwrap();
        file.sync_data().unwrap();
        storage.sync_dir(dir).unwrap();
        file.append(b" unsynced").unwrap();
        let mut other = storage.create(&dir.join("b")).unwrap();
        other.append(b"never named durably").unwrap();
        other.sync_data().unwrap();

        let after = storage.crash(Tear::DropUnsynced);
        assert_eq!(after.read_file(&dir.join("a")).unwrap(), b"synced");
        assert_eq!(after.read_file(&dir.join("b")), None);
        let kept = storage.crash(Tear::KeepAll);
        assert_eq!(kept.read_file(&dir.join("a")).unwrap(), b"synced unsynced");
        for seed in 0..50 {
            let torn = storage.crash(Tear::Torn { seed });
            let bytes = torn.read_file(&dir.join("a")).unwrap();
            assert!(
                bytes.starts_with(b"synced") && bytes.len() <= 15,
                "seed {seed}"
            );
        }
    }

    #[test]
    fn a_reordered_power_loss_keeps_each_unsynced_name_change_or_not() {
        let storage = SimStorage::new();
        let dir = Path::new("/d");
        storage.create_dir_all(dir).unwrap();
        for name in ["a", "b", "c", "d"] {
            let mut file = storage.create(&dir.join(name)).unwrap();
            file.append(name.as_bytes()).unwrap();
            file.sync_data().unwrap();
        }
        let mut seen = BTreeSet::new();
        for seed in 0..64 {
            let names = storage.crash(Tear::Reordered { seed }).files_in(dir);
            seen.insert(names);
        }
        // Not all-or-nothing: some images keep some of the four unsynced creates and not others.
        assert!(seen.len() > 2, "{seen:?}");
        assert!(seen.iter().any(Vec::is_empty));
    }

    #[test]
    fn faults_hit_the_chosen_operation() {
        let storage = SimStorage::new();
        storage.create_dir_all(Path::new("/d")).unwrap();
        storage.inject(2, Fault::NoSpace, false);
        let mut file = storage.create(Path::new("/d/a")).unwrap();
        let error = file.append(b"x").unwrap_err();
        assert_eq!(error.raw_os_error(), Some(28));
        file.append(b"y").unwrap();
        storage.inject(4, Fault::Crash, false);
        assert!(file.sync_data().is_err());
        assert!(file.append(b"z").is_err());
        assert!(storage.crashed());
        assert_eq!(storage.read_file(Path::new("/d/a")).unwrap(), b"y");
    }

    #[test]
    fn a_full_disk_takes_what_fits() {
        let storage = SimStorage::new();
        storage.create_dir_all(Path::new("/d")).unwrap();
        storage.set_capacity(Some(4));
        let mut file = storage.create(Path::new("/d/a")).unwrap();
        assert_eq!(file.append(b"abcdef").unwrap_err().raw_os_error(), Some(28));
        assert_eq!(storage.read_file(Path::new("/d/a")).unwrap(), b"abcd");
    }
}
