//! `tabula-wal`: a segmented, checksummed, append-only write-ahead log with group commit.
//!
//! The log stores byte payloads under consecutive log sequence numbers ([`Lsn`], from 1). It does
//! not know what the payloads mean; [`TransactionLog`] is the typed layer that logs core
//! [`tabula_core::Transaction`]s through a [`tabula_codec::Codec`]. It depends on neither snapshots
//! nor the engine: a program that only wants a durable log needs this crate alone.
//!
//! - [`Wal::append`] buffers a record and returns its LSN; [`Wal::commit`] appends and waits for
//!   the [`SyncPolicy`]; [`Wal::wait_durable`], [`Wal::flush`] and [`Wal::sync`] wait explicitly.
//!   Concurrent committers share one write and one `fdatasync` (group commit: see `log.rs`).
//! - [`Wal::open`] recovers: it verifies every record, truncates a torn tail and reports damage
//!   before the tail as [`Error::Corrupted`] with the segment and offset, per the
//!   [`RecoveryMode`]. The [`RecoveryReport`] says what it found.
//! - [`verify`] checks a log directory without changing it (live and archived segments), for
//!   `tabula check`.
//! - [`Wal::read_from`] iterates records from an LSN through archived and live segments.
//! - [`Wal::truncate_before`] removes or archives segments a snapshot covers; the archive is kept
//!   per the [`Retention`] policy.
//! - [`Storage`] abstracts the few file operations used; [`SimStorage`] injects faults and
//!   simulates power loss for tests, here and in the layers above.
//!
//! # Durability
//!
//! See [`SyncPolicy`] for what each policy loses on a process crash and on power loss. A write or
//! fsync failure **poisons** the log: the failing batch's committers, every waiting committer and
//! every later call get [`Error::Poisoned`] (whose cause is [`Error::SyncFailed`],
//! [`Error::NoSpace`] or [`Error::Io`]); nothing is retried or acknowledged until the log is
//! reopened, because after a failed fsync the kernel may have dropped the dirty pages and a retry
//! that succeeds would acknowledge lost data (PostgreSQL's "fsyncgate"). A full disk is the same:
//! the partial batch is cut off if possible, every record acknowledged before stays readable, and
//! reopening once space is freed recovers them all.
//!
//! Reopening after a failed fsync without a reboot has the limit every database has here: the
//! kernel may already have dropped the pages that failed, and the `fdatasync` of the tail that
//! opening does can then succeed. Records after that claim (in `synced`) that the lost ones were
//! synced, so after a later power loss recovery reports [`Error::Corrupted`] rather than quietly
//! truncating: the damage is visible, and [`RecoveryMode::Salvage`] keeps what survived.
//!
//! # On disk
//!
//! ```text
//! DIR/
//!   LOCK                                 held while a Wal is open (std::fs::File::try_lock)
//!   00000000000000000001.log             live segments, named by their first LSN (20 digits)
//!   00000000000000004097.log
//!   00000000000000008193.log.tmp         a segment being created (removed by recovery)
//!   archive/00000000000000000001.1764000000000.log   archived: first LSN . archived at (Unix ms)
//! ```
//!
//! A segment file is a header then frames, back to back. Version 1 (all integers little-endian):
//!
//! ```text
//! segment header, 32 bytes
//! 0                8            12          16              24             28          32
//! +----------------+------------+-----------+---------------+--------------+-----------+
//! | "tabulaWL"     | version=1  | flags=0   | first_lsn u64 | reserved=0   | crc32     |
//! +----------------+------------+-----------+---------------+--------------+-----------+
//!   crc32 = CRC-32 (IEEE) of bytes 0..28
//!
//! frame, 24 + len bytes
//! 0          4          8               16              24
//! +----------+----------+---------------+---------------+------------------------+
//! | len u32  | crc32    | lsn u64       | synced u64    | payload (len bytes)    |
//! +----------+----------+---------------+---------------+------------------------+
//!   crc32  = CRC-32 (IEEE) of payload ‖ len ‖ lsn ‖ synced
//!   lsn    = the first segment's first_lsn, then +1 for each frame, across segments
//!   synced = every record with an LSN up to this one was on stable storage before this frame
//!            was written (0 if none); recovery uses it to tell a torn tail from corruption
//! ```
//!
//! The constants are in [`mod@format`]. A segment is written only by appending; it is sealed (synced)
//! before the next one is created, and the next one is created under a `.tmp` name, synced, renamed
//! and the directory synced, so a `*.log` file always has a whole header. A segment ends at the
//! first batch boundary at or past [`WalOptions::segment_size`].
//!
//! # Recovery
//!
//! See `recovery.rs` for how damage is classified. In short: damage in the last segment that no
//! later frame proves was synced is a torn tail and is truncated (with the default
//! [`RecoveryMode::TolerateTornTail`]); anything else is [`Error::Corrupted`], unless the mode is
//! [`RecoveryMode::Salvage`], which skips it and lists what was lost.
//!
//! Segments are read with `pread` through a bounded read-ahead buffer rather than memory-mapped:
//! the reads are sequential, the fault-injecting storage must be able to serve them, and a mapped
//! file that another handle truncates kills the process with `SIGBUS` instead of returning an
//! error.

#![deny(missing_docs)]

mod error;
pub mod format;
mod log;
mod options;
pub mod planted;
mod reader;
mod recovery;
mod retention;
mod scan;
mod segment;
mod typed;
mod verify;

pub use error::{Error, Evidence, Result};
pub use log::Wal;
pub use options::{RecoveryMode, Retention, SegmentsHook, SyncPolicy, WalClock, WalOptions};
pub use reader::{LogReader, LogRecord, Records};
pub use recovery::{Damage, QUARANTINE_DIR, RecoveryReport, may_be_acknowledged};
pub use retention::{SegmentInfo, TruncateReport};
pub use segment::{
    ARCHIVE_DIR, all_lsns, archived_name as archived_segment_name, first_payload_of, live_lsns,
    missing_segments, parse_segment_name, segment_name,
};
pub use tabula_core::Lsn;
pub use tabula_storage as storage;
pub use tabula_storage::{DamageKind, Fault, FsStorage, SimStorage, Storage, StorageFile, Tear};
pub use typed::{Timestamps, TransactionLog, TransactionReader, Transactions};
pub use verify::{RecordCheck, VerifyReport, verify, verify_live, verify_on};
