//! [`OutputFile`]: the one way tabula writes a whole file a user names (dumps, backups,
//! exports): whole or absent, never half-written, never replacing what is not a file.
//!
//! - A regular file (or a missing one) is written to a temporary name beside it
//!   (`<name>.<pid>.tmp`, created new, so never someone else's file), synced, renamed over the
//!   target, and the directory synced, so the name survives power loss. A failed or abandoned
//!   write removes its temporary file; one left by a killed process is removed by the next write
//!   to the same name once that process is gone.
//! - A symbolic link is followed: the file it points to is replaced the same way, and the link
//!   stays a link.
//! - A FIFO, a device or a socket (`/dev/stdout`, `/dev/null`, a pipe) is written through: a
//!   rename would replace the special file with a regular one (as root, `tabula dump DIR
//!   /dev/null` replaced the system's `/dev/null`).
//! - A directory is refused.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

#[cfg(unix)]
use std::os::unix::fs::OpenOptionsExt;

/// A file being written for a path a user named; see the module docs. Write to it, then
/// [`OutputFile::commit`]; dropped uncommitted, it leaves the target as it was.
#[derive(Debug)]
pub struct OutputFile {
    file: File,
    how: How,
}

#[derive(Debug)]
enum How {
    /// Written to `temp`, renamed over `target` on commit.
    Replace {
        temp: PathBuf,
        target: PathBuf,
        committed: bool,
    },
    /// Written straight into a special file.
    Through,
}

impl OutputFile {
    /// Starts writing `path`.
    ///
    /// # Errors
    /// `path` is a directory; the temporary file or the special file cannot be opened.
    pub fn create(path: &Path) -> io::Result<OutputFile> {
        let target = match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => {
                return Err(io::Error::new(
                    io::ErrorKind::IsADirectory,
                    format!("{} is a directory", path.display()),
                ));
            }
            Ok(meta) if !meta.is_file() => {
                let file = OpenOptions::new().write(true).open(path)?;
                return Ok(OutputFile {
                    file,
                    how: How::Through,
                });
            }
            // A regular file, perhaps behind links: replace the file, keep the links.
            Ok(_) => std::fs::canonicalize(path)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => dangling_target(path),
            Err(e) => return Err(e),
        };
        remove_stale_temps(&target);
        let temp = temp_name(&target, std::process::id());
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        options.mode(0o600);
        let file = options.open(&temp)?;
        Ok(OutputFile {
            file,
            how: How::Replace {
                temp,
                target,
                committed: false,
            },
        })
    }

    /// Makes the written bytes the target's: synced and renamed into place, the name synced
    /// in its directory (or, for a special file, flushed and synced where it can be).
    ///
    /// # Errors
    /// A failed sync or rename; the target is then as it was.
    pub fn commit(mut self) -> io::Result<()> {
        self.file.flush()?;
        match &mut self.how {
            How::Through => match self.file.sync_all() {
                // Pipes, terminals and `/dev/null` cannot be synced, and need not be.
                Err(e) if e.kind() == io::ErrorKind::InvalidInput => Ok(()),
                other => other,
            },
            How::Replace {
                temp,
                target,
                committed,
            } => {
                self.file.sync_all()?;
                std::fs::rename(&*temp, &*target)?;
                *committed = true;
                sync_parent(target)
            }
        }
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        if let How::Replace {
            temp,
            committed: false,
            ..
        } = &self.how
        {
            // Best effort: a temporary file that stays is removed by the next write.
            let _ = std::fs::remove_file(temp);
        }
    }
}

/// The path a dangling symbolic link points to (to create it there), or `path` itself.
fn dangling_target(path: &Path) -> PathBuf {
    match std::fs::read_link(path) {
        Ok(to) if to.is_absolute() => to,
        Ok(to) => crate::parent(path).join(to),
        Err(_) => path.to_path_buf(),
    }
}

fn temp_name(target: &Path, pid: u32) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{pid}.tmp"));
    target.with_file_name(name)
}

/// Removes the temporary files a killed write to `target` left, where the process that made
/// each is gone (told by `/proc`, so on Linux; elsewhere they stay, named for what they are).
fn remove_stale_temps(target: &Path) {
    let (Some(dir), Some(name)) = (target.parent(), target.file_name()) else {
        return;
    };
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    }) else {
        return;
    };
    let prefix = format!("{}.", name.to_string_lossy());
    for entry in entries.flatten() {
        let file = entry.file_name();
        let Some(pid) = file
            .to_str()
            .and_then(|f| f.strip_prefix(&prefix))
            .and_then(|rest| rest.strip_suffix(".tmp"))
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new("/proc").join(pid.to_string()).exists() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Syncs the directory `path` is in, so a name created or renamed there is durable.
pub fn sync_parent(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        let dir = crate::parent(path);
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &dir
        };
        File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

// They use the real file system, which miri cannot sync.
#[cfg(all(test, not(miri)))]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) -> io::Result<()> {
        let mut out = OutputFile::create(path)?;
        out.write_all(text.as_bytes())?;
        out.commit()
    }

    #[test]
    fn a_regular_file_is_replaced_whole() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("out.json");
        std::fs::write(&path, "old").unwrap();
        write(&path, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        let names: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file is left");
    }

    #[test]
    fn an_abandoned_write_leaves_the_target_as_it_was() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("out.json");
        std::fs::write(&path, "old").unwrap();
        let mut out = OutputFile::create(&path).unwrap();
        out.write_all(b"half").unwrap();
        drop(out);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_stays_a_link_to_the_new_file() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("real.json");
        let link = tmp.path().join("link.json");
        std::fs::write(&real, "old").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write(&link, "new").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
    }

    #[cfg(unix)]
    #[test]
    fn a_device_is_written_through_not_replaced() {
        // `/dev/null` is a character device: written, never renamed over.
        write(Path::new("/dev/null"), "anything").unwrap();
        let meta = std::fs::metadata("/dev/null").unwrap();
        assert!(!meta.is_file());
    }

    #[test]
    fn a_directory_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let err = OutputFile::create(tmp.path()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::IsADirectory);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_dead_writers_temporary_file_is_removed_by_the_next_write() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("out.json");
        // No process has this id (above Linux's pid_max).
        let stale = temp_name(&path, 4_194_305);
        std::fs::write(&stale, "half").unwrap();
        write(&path, "new").unwrap();
        assert!(!stale.exists());
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
    }
}
