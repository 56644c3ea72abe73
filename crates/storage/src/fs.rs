//! [`FsStorage`]: [`Storage`] over `std::fs`, with `fdatasync` for data and an fsync of the
//! directory for names.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;

#[cfg(unix)]
use std::os::unix::fs::{FileExt, OpenOptionsExt};

use super::{Storage, StorageFile};

/// The real file system. New files are created with mode 0600 and directories with 0700 on Unix:
/// a log holds user data.
#[derive(Debug, Clone, Copy, Default)]
pub struct FsStorage;

impl Storage for FsStorage {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        if dir.is_dir() {
            return Ok(());
        }
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir)?;
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            self.sync_dir(parent)?;
        }
        Ok(())
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            if entry.file_type()?.is_file()
                && let Some(name) = entry.file_name().to_str()
            {
                names.push(name.to_owned());
            }
        }
        Ok(names)
    }

    fn create(&self, path: &Path) -> io::Result<Box<dyn StorageFile>> {
        let mut options = OpenOptions::new();
        // `append` and `truncate` cannot be combined in one open; `set_len` empties the file.
        options.read(true).append(true).create(true);
        #[cfg(unix)]
        options.mode(0o600);
        let file = options.open(path)?;
        file.set_len(0)?;
        Ok(Box::new(FsFile { file }))
    }

    fn open(&self, path: &Path, writable: bool) -> io::Result<Box<dyn StorageFile>> {
        let file = OpenOptions::new().read(true).append(writable).open(path)?;
        Ok(Box::new(FsFile { file }))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        // On Unix a directory's entries are made durable by fsync of the directory itself.
        #[cfg(unix)]
        File::open(dir)?.sync_all()?;
        #[cfg(not(unix))]
        let _ = dir;
        Ok(())
    }

    /// Locks the directory `path` is in as well as `path` itself. The lock file's name can be
    /// unlinked under a running writer (the usual reflex with a "stale" lock); a second opener
    /// would then create a new file and lock that. The directory cannot be replaced while it
    /// holds the database's files, so its lock is the one that excludes; the file keeps the
    /// holder's process id for the message.
    fn lock(&self, path: &Path) -> io::Result<Box<dyn std::fmt::Debug + Send + Sync>> {
        #[cfg(unix)]
        let dir = {
            let dir = File::open(crate::parent(path))?;
            match dir.try_lock() {
                Ok(()) => Some(dir),
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(io::Error::new(io::ErrorKind::WouldBlock, holder_of(path)));
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(e),
            }
        };
        #[cfg(not(unix))]
        let dir: Option<File> = None;
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        options.mode(0o600);
        let mut file = options.open(path)?;
        match file.try_lock() {
            Ok(()) => {
                // The holder's process id, so a refused opener can say who holds the database.
                // Only informative: the lock itself is the OS lock, which dies with the process.
                file.set_len(0)?;
                file.write_all(format!("{}\n", std::process::id()).as_bytes())?;
                Ok(Box::new(Held { dir, file }))
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                Err(io::Error::new(io::ErrorKind::WouldBlock, holder_of(path)))
            }
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        }
    }
}

#[derive(Debug)]
struct FsFile {
    file: File,
}

impl StorageFile for FsFile {
    fn len(&self) -> io::Result<u64> {
        Ok(self.file.metadata()?.len())
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        #[cfg(unix)]
        {
            self.file.read_at(buf, offset)
        }
        #[cfg(not(unix))]
        {
            std::os::windows::fs::FileExt::seek_read(&self.file, buf, offset)
        }
    }

    fn append(&mut self, data: &[u8]) -> io::Result<()> {
        self.file.write_all(data)
    }

    fn sync_data(&mut self) -> io::Result<()> {
        self.file.sync_data()
    }

    fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.file.set_len(len)
    }
}

/// The locks of a database held open: the directory's and the lock file's, released on drop.
#[derive(Debug)]
struct Held {
    #[expect(dead_code, reason = "held for its lock, released when dropped")]
    dir: Option<File>,
    #[expect(dead_code, reason = "held for its lock, released when dropped")]
    file: File,
}

/// Who holds the lock at `path`, from the process id its file records.
fn holder_of(path: &Path) -> String {
    let mut holder = String::new();
    // Windows refuses reads of a locked range; then the holder stays unknown. A lock file
    // deleted under its holder reads as missing.
    let read = File::open(path).and_then(|f| f.take(32).read_to_string(&mut holder));
    match (read, holder.trim().parse::<u32>()) {
        (Ok(_), Ok(pid)) if pid == std::process::id() => {
            format!("held by this process ({pid}) through another handle")
        }
        (Ok(_), Ok(pid)) => format!("held by process {pid}"),
        (Err(e), _) if e.kind() == io::ErrorKind::NotFound => {
            "held by another process (its LOCK file was deleted; the directory's lock still holds)"
                .to_owned()
        }
        _ => "held by another handle".to_owned(),
    }
}
