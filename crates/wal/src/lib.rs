//! `tabula-wal`: a segmented, checksummed, append-only write-ahead log with group commit.
//!
//! **Status: skeleton.** Its contents arrive with the write-ahead log issue. It will own:
//!
//! - record framing (length, crc32 checksum, LSN, payload) and segment files starting with a magic
//!   number, a format version and their first LSN, with the byte layout documented here;
//! - group commit: many threads append and wait for durability, one writer batches whatever is
//!   waiting into one write and one `fdatasync`;
//! - `SyncPolicy::{Always, EverySecond, Never}` with their loss windows documented and tested;
//! - segment rotation, directory fsyncs, a sticky poisoned state after a failed fsync;
//! - recovery that truncates a torn tail and reports damage before the tail as corruption with
//!   the segment and offset;
//! - retention and archiving of old segments for time travel.
//!
//! The log treats payloads as bytes; a typed layer encodes `tabula_core::Transaction`s with
//! `tabula-codec`. It does not depend on `tabula-snapshot`.

#![deny(missing_docs)]
