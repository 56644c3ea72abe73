//! `tabula-snapshot`: consistent images of a database, streamed to and from files.
//!
//! **Status: skeleton.** Its contents arrive with the snapshot issue. It will own:
//!
//! - the snapshot file (magic, version, codec, LSN, creation time, per-table definitions and rows
//!   in checksummed chunks, a footer with counts and a whole-file checksum), documented as bytes;
//! - writing from an O(1) clone of `tabula_core::Database` while writers continue, holding
//!   O(chunk) memory, and loading row by row;
//! - atomic files (temporary file, fsync, rename, directory fsync), retention of several
//!   snapshots, and fallback to the previous one when the newest fails its checksum;
//! - optional zstd or lz4 compression, detected on load;
//! - interop layouts: DictDB's whole-database JSON, the per-table `schema/` + `data/*.records`
//!   JSON Lines layout, and DeltaTraceDB's saved JSON.
//!
//! It does not depend on `tabula-wal`.

#![deny(missing_docs)]
