//! [`Wal`]: the open log. Appending, group commit, the sync policies and the background thread.
//!
//! Group commit is leader/follower, with no dedicated writer thread, so a lone committer pays no
//! thread hand-off. `append` frames the record into a shared buffer under a short lock. A thread
//! that must wait for an LSN to be written or synced becomes the leader if nobody is: it takes the
//! whole buffer (its own records and everyone's appended since), writes it with one `write`, and
//! syncs it with one `fdatasync`, outside the lock. Meanwhile others append to a fresh buffer and
//! wait; when the leader is done, the next waiter whose LSN is not yet covered leads the next
//! batch. So N committers that arrive during one fsync share the next one.
//!
//! Waiters sleep on one of two condvars, by batch: those whose records the leader took wait on
//! the batch in flight's, those who appended after it took the buffer on the next batch's. The
//! leader, done, wakes all of its batch (each of them is done) and one of the next (to lead it).
//! With one condvar every waiter woke after every batch, and most went back to sleep: profiled
//! with 64 writers of durable single-row commits (writers example, `perf record -e
//! sched:sched_switch` with frame pointers), 2.2 context switches per commit were that wait.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

use parking_lot::{Condvar, Mutex, MutexGuard};
use tabula_core::Lsn;

use crate::format::{
    FRAME_HEADER_LEN, PayloadCrc, SEGMENT_HEADER_LEN, SegmentHeader, seal_frame, write_frame,
};
use crate::options::{SyncPolicy, WalOptions};
use crate::recovery::{RecoveryReport, recover};
use crate::segment::{ARCHIVE_DIR, LOCK_FILE, segment_name, temp_name};
use crate::{Error, Result};
use tabula_storage::{FsStorage, Storage, StorageFile};

/// An open write-ahead log. Share it between threads with `&Wal` or an `Arc<Wal>`.
///
/// ```
/// use tabula_wal::{Wal, WalOptions};
///
/// let dir = tempfile::tempdir()?;
/// let (wal, report) = Wal::open(dir.path(), WalOptions::default())?;
/// assert_eq!(report.records, 0);
/// let lsn = wal.commit(b"first record")?; // durable when this returns (SyncPolicy::Always)
/// drop(wal);
///
/// let (wal, report) = Wal::open(dir.path(), WalOptions::default())?;
/// assert_eq!(report.last_lsn, lsn);
/// let records: Vec<_> = wal.read_from(lsn)?.collect::<Result<_, _>>()?;
/// assert_eq!(records[0].payload, b"first record");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Wal {
    pub(crate) shared: Arc<Shared>,
    background: Option<Background>,
}

pub(crate) struct Shared {
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) dir: PathBuf,
    pub(crate) options: WalOptions,
    state: Mutex<State>,
    /// The waiters of a batch, by the parity of its number ([`State::taken`]).
    batches: [Condvar; 2],
    /// The segment being appended to. Locked by the leader while it writes, and by rotation and
    /// checkpoint truncation; never while `state` is locked.
    pub(crate) writer: Mutex<Writer>,
    /// Successful `fdatasync`s of segments since open (for statistics).
    syncs: std::sync::atomic::AtomicU64,
    _lock: Box<dyn fmt::Debug + Send + Sync>,
}

struct State {
    /// Frames appended and not yet handed to a leader.
    buf: Vec<u8>,
    /// An empty buffer kept for reuse.
    spare: Vec<u8>,
    /// The LSN of the first frame in `buf`.
    buf_first: Lsn,
    /// The LSN the next record gets.
    next: Lsn,
    /// Every record up to here is written to the OS.
    written: Lsn,
    /// Every record up to here is on stable storage.
    durable: Lsn,
    /// A leader is writing.
    leader: bool,
    /// How many batches leaders have taken: the one in flight (if any) is number `taken`.
    taken: u64,
    /// The last LSN of the batch in flight.
    in_flight_last: Lsn,
    /// The failure that poisoned the log.
    poisoned: Option<Arc<Error>>,
}

pub(crate) struct Writer {
    pub(crate) active: Option<Active>,
}

pub(crate) struct Active {
    pub(crate) file: Box<dyn StorageFile>,
    pub(crate) path: PathBuf,
    pub(crate) first_lsn: Lsn,
    pub(crate) len: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Written,
    Durable,
}

/// Cuts a buffer back to `start` when dropped, unless told to keep what was added.
struct Rollback<'a> {
    buf: &'a mut Vec<u8>,
    start: usize,
    keep: bool,
}

impl Drop for Rollback<'_> {
    fn drop(&mut self) {
        if !self.keep {
            self.buf.truncate(self.start);
        }
    }
}

/// The most a buffer may keep of its capacity when it is recycled, so that one huge batch does
/// not pin its memory.
const MAX_SPARE: usize = 4 << 20;

impl Wal {
    /// Opens (creating if needed) the log in `dir` on the real file system and recovers it.
    pub fn open(dir: impl AsRef<Path>, options: WalOptions) -> Result<(Wal, RecoveryReport)> {
        Wal::open_on(Arc::new(FsStorage), dir, options)
    }

    /// Opens the log in `dir` on `storage` (such as a [`crate::SimStorage`] in tests).
    pub fn open_on(
        storage: Arc<dyn Storage>,
        dir: impl AsRef<Path>,
        options: WalOptions,
    ) -> Result<(Wal, RecoveryReport)> {
        options.validate()?;
        let dir = dir.as_ref().to_path_buf();
        storage
            .create_dir_all(&dir)
            .map_err(|e| Error::io("create directory", &dir, e))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock = storage.lock(&lock_path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::WouldBlock {
                Error::AlreadyOpen { dir: dir.clone() }
            } else {
                Error::io("lock", &lock_path, e)
            }
        })?;
        let recovered = recover(&*storage, &dir, &options, true)?;
        // A previous process may have died (or been poisoned) between a rename and the directory
        // sync after it: make every name recovery saw durable before acknowledging anything that
        // depends on it. Otherwise a segment created then, or a segment moved to the archive,
        // could vanish on power loss after records in it were acknowledged.
        storage.sync_dir(&dir).map_err(|e| Error::sync(&dir, e))?;
        let archive = dir.join(ARCHIVE_DIR);
        match storage.sync_dir(&archive) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Error::sync(&archive, e));
            }
            _ => {}
        }
        let active = match recovered.tail {
            Some((segment, len)) => {
                let mut file = storage
                    .open(&segment.path, true)
                    .map_err(|e| Error::io("open", &segment.path, e))?;
                // What survived a process crash may still be only in the OS: make the replayed
                // records durable before anything is acknowledged on top of them.
                file.sync_data()
                    .map_err(|e| Error::sync(&segment.path, e))?;
                Some(Active {
                    file,
                    path: segment.path,
                    first_lsn: segment.first_lsn,
                    len,
                })
            }
            None => None,
        };
        let last = Lsn(recovered.next.0.saturating_sub(1));
        let shared = Arc::new(Shared {
            storage,
            dir,
            state: Mutex::new(State {
                buf: Vec::new(),
                spare: Vec::new(),
                buf_first: recovered.next,
                next: recovered.next,
                written: last,
                durable: last,
                leader: false,
                taken: 0,
                in_flight_last: Lsn::ZERO,
                poisoned: None,
            }),
            batches: [Condvar::new(), Condvar::new()],
            writer: Mutex::new(Writer { active }),
            syncs: std::sync::atomic::AtomicU64::new(0),
            _lock: lock,
            options,
        });
        let background = Background::start(&shared)?;
        Ok((
            Wal {
                shared,
                background: Some(background),
            },
            recovered.report,
        ))
    }

    /// The options the log was opened with.
    #[must_use]
    pub fn options(&self) -> &WalOptions {
        &self.shared.options
    }

    /// The log directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    /// Buffers a record and returns its LSN. It is written by the next commit, flush or sync (or
    /// by the background thread within `sync_interval`); until then a process crash loses it.
    pub fn append(&self, payload: &[u8]) -> Result<Lsn> {
        self.check_size(payload.len())?;
        let crc = PayloadCrc::of(payload);
        let (lsn, full) = {
            let mut state = self.shared.state.lock();
            check_poison(&state)?;
            let lsn = state.next;
            if state.buf.is_empty() {
                state.buf_first = lsn;
            }
            let synced = state.durable;
            write_frame(&mut state.buf, lsn, synced, payload, crc);
            state.next = lsn.next();
            // A full buffer makes the appender write it, waiting for the current leader first if
            // need be: that is the back-pressure that bounds the buffer during a slow fsync.
            (lsn, state.buf.len() >= self.shared.options.buffer_size)
        };
        if full {
            self.shared.wait(lsn, Level::Written)?;
        }
        Ok(lsn)
    }

    /// Buffers a record whose payload `encode` writes, given the record's LSN (for payloads that
    /// carry their own LSN, such as transactions). The log's lock is held while `encode` runs. If
    /// `encode` fails nothing is appended and the LSN is not used.
    pub fn append_with(&self, encode: impl FnOnce(Lsn, &mut Vec<u8>) -> Result<()>) -> Result<Lsn> {
        let mut state = self.shared.state.lock();
        check_poison(&state)?;
        let lsn = state.next;
        let start = state.buf.len();
        // If `encode` fails or panics, the buffer is cut back: a partial frame left in it would
        // be written ahead of the next commit's.
        let mut frame = Rollback {
            buf: &mut state.buf,
            start,
            keep: false,
        };
        frame.buf.resize(start + FRAME_HEADER_LEN, 0);
        let encoded = encode(lsn, frame.buf);
        let size = frame.buf.len() - start - FRAME_HEADER_LEN;
        encoded.and_then(|()| self.check_size(size))?;
        frame.keep = true;
        drop(frame);
        let synced = state.durable;
        if let Some(frame) = state.buf.get_mut(start..) {
            seal_frame(frame, lsn, synced);
        }
        if start == 0 {
            state.buf_first = lsn;
        }
        state.next = lsn.next();
        let full = state.buf.len() >= self.shared.options.buffer_size;
        drop(state);
        if full {
            self.shared.wait(lsn, Level::Written)?;
        }
        Ok(lsn)
    }

    /// Appends a record and returns once the sync policy is met: synced under `Always`, written
    /// to the OS otherwise. Concurrent committers share writes and fsyncs.
    pub fn commit(&self, payload: &[u8]) -> Result<Lsn> {
        let lsn = self.append(payload)?;
        self.commit_appended(lsn)?;
        Ok(lsn)
    }

    /// Waits until `lsn`, already appended, meets the sync policy (as [`Wal::commit`] does).
    pub fn commit_appended(&self, lsn: Lsn) -> Result<()> {
        match self.shared.options.sync {
            SyncPolicy::Always => self.shared.wait(lsn, Level::Durable),
            SyncPolicy::EverySecond | SyncPolicy::Never => self.shared.wait(lsn, Level::Written),
        }
    }

    /// Waits until every record up to `lsn` is on stable storage, whatever the policy.
    pub fn wait_durable(&self, lsn: Lsn) -> Result<()> {
        self.shared.wait(lsn, Level::Durable)
    }

    /// Writes every appended record to the OS (no fsync).
    pub fn flush(&self) -> Result<()> {
        match self.last_lsn() {
            Lsn::ZERO => self.check_poison(),
            last => self.shared.wait(last, Level::Written),
        }
    }

    /// Makes every appended record durable.
    pub fn sync(&self) -> Result<()> {
        match self.last_lsn() {
            Lsn::ZERO => self.check_poison(),
            last => self.shared.wait(last, Level::Durable),
        }
    }

    /// The last LSN appended (`Lsn::ZERO` if none).
    #[must_use]
    pub fn last_lsn(&self) -> Lsn {
        Lsn(self.shared.state.lock().next.0.saturating_sub(1))
    }

    /// The last LSN written to the OS.
    #[must_use]
    pub fn written_lsn(&self) -> Lsn {
        self.shared.state.lock().written
    }

    /// The last LSN known to be on stable storage.
    #[must_use]
    pub fn durable_lsn(&self) -> Lsn {
        self.shared.state.lock().durable
    }

    /// How many times a commit batch was synced since open: with [`Wal::last_lsn`], how much
    /// group commit shared.
    #[must_use]
    pub fn sync_count(&self) -> u64 {
        self.shared.syncs.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The failure that poisoned the log, if one did.
    pub fn check_poison(&self) -> Result<()> {
        check_poison(&self.shared.state.lock())
    }

    /// Syncs everything appended and closes the log, reporting a failure that `drop` would hide.
    pub fn close(mut self) -> Result<()> {
        self.stop_background();
        self.sync()
    }

    fn stop_background(&mut self) {
        if let Some(background) = self.background.take() {
            background.stop();
        }
    }

    fn check_size(&self, size: usize) -> Result<()> {
        let limit = self.shared.options.max_record_size;
        if size as u64 > limit {
            return Err(Error::RecordTooLarge {
                size: size as u64,
                limit,
            });
        }
        Ok(())
    }
}

impl Drop for Wal {
    fn drop(&mut self) {
        self.stop_background();
        // Best effort: a failure here is the same failure the next open's recovery handles.
        let _ = self.sync();
    }
}

impl fmt::Debug for Wal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wal")
            .field("dir", &self.shared.dir)
            .field("last_lsn", &self.last_lsn())
            .field("durable_lsn", &self.durable_lsn())
            .finish_non_exhaustive()
    }
}

fn check_poison(state: &State) -> Result<()> {
    match &state.poisoned {
        Some(cause) => Err(Error::Poisoned {
            cause: Arc::clone(cause),
        }),
        None => Ok(()),
    }
}

impl Shared {
    /// Returns once `lsn` reaches `level`, leading batches while nobody else does.
    fn wait(&self, lsn: Lsn, level: Level) -> Result<()> {
        let mut state = self.state.lock();
        loop {
            check_poison(&state)?;
            if lsn >= state.next {
                return Err(Error::NotAppended {
                    lsn,
                    last: Lsn(state.next.0.saturating_sub(1)),
                });
            }
            let reached = match level {
                Level::Written => state.written >= lsn,
                Level::Durable => state.durable >= lsn,
            };
            if reached {
                return Ok(());
            }
            if state.leader {
                // In the batch in flight, or in the next one.
                let batch = if lsn <= state.in_flight_last {
                    state.taken
                } else {
                    state.taken.wrapping_add(1)
                };
                self.batch_cond(batch).wait(&mut state);
                continue;
            }
            self.lead(&mut state, level);
        }
    }

    /// Writes (and, for `Durable`, syncs) everything appended so far, with the state unlocked.
    fn lead(&self, state: &mut MutexGuard<'_, State>, level: Level) {
        state.leader = true;
        state.taken = state.taken.wrapping_add(1);
        let spare = std::mem::take(&mut state.spare);
        let mut batch = std::mem::replace(&mut state.buf, spare);
        let first = state.buf_first;
        let last = Lsn(state.next.0.saturating_sub(1));
        state.in_flight_last = last;
        let sync = level == Level::Durable;
        // A panic in the storage must not leave `leader` set, or every waiter would hang: it
        // poisons the log like any other write failure.
        let result = MutexGuard::unlocked(state, || {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.write(&batch, first, sync)
            }))
            .unwrap_or_else(|_| {
                Err(Error::io(
                    "write (the storage panicked)",
                    &self.dir,
                    std::io::Error::other("panic in the storage layer"),
                ))
            })
        });
        state.leader = false;
        match result {
            Ok(sealed) => {
                state.written = last;
                if sync {
                    state.durable = last;
                } else if let Some(sealed) = sealed {
                    state.durable = state.durable.max(sealed);
                }
            }
            Err(error) => state.poisoned = Some(Arc::new(error)),
        }
        batch.clear();
        if batch.capacity() <= MAX_SPARE && batch.capacity() > state.spare.capacity() {
            state.spare = batch;
        }
        if state.poisoned.is_some() {
            self.wake_all();
        } else {
            // Everyone of this batch is done (or, waiting for a sync after this batch's mere
            // write, finds no leader and leads it); one of the next batch leads it.
            self.batch_cond(state.taken).notify_all();
            self.batch_cond(state.taken.wrapping_add(1)).notify_one();
        }
    }

    /// The condvar of batch number `batch`.
    fn batch_cond(&self, batch: u64) -> &Condvar {
        let [even, odd] = &self.batches;
        if batch.is_multiple_of(2) { even } else { odd }
    }

    /// Wakes every waiter, of any batch.
    fn wake_all(&self) {
        for cond in &self.batches {
            cond.notify_all();
        }
    }

    /// Writes a batch of frames starting at LSN `first`, rotating first if the segment is full.
    /// Returns the last LSN of a segment it sealed.
    fn write(&self, batch: &[u8], first: Lsn, sync: bool) -> Result<Option<Lsn>> {
        let mut writer = self.writer.lock();
        let mut sealed = None;
        if !batch.is_empty() {
            let rotate = writer.active.as_ref().is_none_or(|active| {
                active.len >= self.options.segment_size && active.len > SEGMENT_HEADER_LEN as u64
            });
            if rotate {
                if let Some(active) = writer.active.as_mut() {
                    active
                        .file
                        .sync_data()
                        .map_err(|e| Error::sync(&active.path, e))?;
                    sealed = Some(Lsn(first.0.saturating_sub(1)));
                }
                writer.active = Some(self.create_segment(first)?);
                // Recorded before a record goes in, so a listed shape never lacks a segment
                // that holds an acknowledged commit.
                let dir = &self.dir;
                self.options
                    .on_segments
                    .call()
                    .map_err(|e| Error::io("record (SegmentsHook) the new segment in", dir, e))?;
            }
            let Some(active) = writer.active.as_mut() else {
                debug_assert!(false, "no active segment after rotation");
                return Err(Error::Bug {
                    what: "no active segment after rotation".to_owned(),
                });
            };
            if let Err(error) = active.file.append(batch) {
                // Leave no partial batch behind if we can: it frees the space a full disk needs
                // and keeps the file a clean prefix. Recovery would truncate it anyway.
                let _ = active.file.truncate(active.len);
                return Err(Error::io("append to", &active.path, error));
            }
            active.len += batch.len() as u64;
        }
        if sync
            && !crate::planted::active(crate::planted::Bug::AckBeforeFsync)
            && let Some(active) = writer.active.as_mut()
        {
            active
                .file
                .sync_data()
                .map_err(|e| Error::sync(&active.path, e))?;
            self.syncs
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(sealed)
    }

    /// Creates the segment whose first record is `first`: written under a temporary name, synced,
    /// renamed, and the directory synced, so a segment file never exists without a whole header.
    pub(crate) fn create_segment(&self, first: Lsn) -> Result<Active> {
        let temp = self.dir.join(temp_name(first));
        let path = self.dir.join(segment_name(first));
        let mut file = self
            .storage
            .create(&temp)
            .map_err(|e| Error::io("create", &temp, e))?;
        let header = SegmentHeader { first_lsn: first }.encode();
        file.append(&header)
            .map_err(|e| Error::io("write the header of", &temp, e))?;
        file.sync_data().map_err(|e| Error::sync(&temp, e))?;
        self.storage
            .rename(&temp, &path)
            .map_err(|e| Error::io("rename", &temp, e))?;
        if !crate::planted::active(crate::planted::Bug::SkipRotationDirSync) {
            self.storage
                .sync_dir(&self.dir)
                .map_err(|e| Error::sync(&self.dir, e))?;
        }
        Ok(Active {
            file,
            path,
            first_lsn: first,
            len: SEGMENT_HEADER_LEN as u64,
        })
    }

    /// Poisons the log with `error` (unless it already is) and returns the error callers get.
    pub(crate) fn poison(&self, error: Error) -> Error {
        let mut state = self.state.lock();
        let cause = state.poisoned.get_or_insert_with(|| Arc::new(error));
        let cause = Arc::clone(cause);
        self.wake_all();
        Error::Poisoned { cause }
    }

    /// The poison, if any.
    pub(crate) fn check_poison(&self) -> Result<()> {
        check_poison(&self.state.lock())
    }

    /// What the background thread does each interval.
    fn tick(&self) -> Result<()> {
        let (last, written, durable) = {
            let state = self.state.lock();
            check_poison(&state)?;
            (
                Lsn(state.next.0.saturating_sub(1)),
                state.written,
                state.durable,
            )
        };
        match self.options.sync {
            SyncPolicy::EverySecond if durable < last => self.wait(last, Level::Durable),
            _ if written < last => self.wait(last, Level::Written),
            _ => Ok(()),
        }
    }
}

/// The background thread: writes the buffer every interval, and syncs under `EverySecond`.
struct Background {
    stop: Arc<(Mutex<bool>, Condvar)>,
    handle: Option<JoinHandle<()>>,
}

impl Background {
    fn start(shared: &Arc<Shared>) -> Result<Background> {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let thread_stop = Arc::clone(&stop);
        let shared = Arc::clone(shared);
        let interval = shared.options.sync_interval;
        let handle = std::thread::Builder::new()
            .name("tabula-wal-sync".to_owned())
            .spawn(move || {
                let (stopped, cond) = &*thread_stop;
                let mut stopped = stopped.lock();
                // Checked before each wait: a stop that came before this thread took the lock
                // must not wait a whole interval.
                while !*stopped {
                    let _ = cond.wait_for(&mut stopped, interval);
                    if *stopped {
                        return;
                    }
                    // A failure poisons the log, and every caller sees it; the thread just stops.
                    if MutexGuard::unlocked(&mut stopped, || shared.tick()).is_err() {
                        return;
                    }
                }
            })
            .map_err(|e| Error::io("start the sync thread for", PathBuf::new(), e))?;
        Ok(Background {
            stop,
            handle: Some(handle),
        })
    }

    fn stop(mut self) {
        let (stopped, cond) = &*self.stop;
        *stopped.lock() = true;
        cond.notify_all();
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}
