//! `tabula-snapshot`: consistent images of a database, streamed to and from files.
//!
//! - [`write_snapshot`] streams a [`tabula_core::State`] (an O(1) clone of the live one, so
//!   writers go on) to any `io::Write` in chunks, in any codec, optionally compressed;
//!   [`read_snapshot`] builds the database back from any `io::Read`, a chunk at a time.
//! - [`write_json_document`] / [`read_json_document`]: the whole database as one JSON document
//!   in DictDB's layout (`{"tables": {name: {"primary_key", "schema", "records"}}}`) with
//!   tabula's extra fields; DictDB's own files load as they are.
//! - [`read_deltatrace_document`] loads a database saved by DeltaTraceDB (the JSON of its
//!   `to_dict()`), one table per collection; [`looks_like_deltatrace`] tells such a file from
//!   DictDB's document by its first bytes.
//! - Exports for people and tools: one table as a JSON document or JSON Lines, and the whole
//!   database as the per-table `schema/` + `data/*.records` directory ([`export_directory`]).
//! - [`SnapshotStore`] keeps a directory of snapshots: atomic writes (temporary file, fsync,
//!   rename, directory fsync), listing, loading the newest valid one (reporting the newer ones
//!   that failed), and retention by count and age.
//!
//! It does not depend on `tabula-wal`; both write through `tabula-storage`.
//!
//! # File format, version 1
//!
//! All integers little-endian. A file is a header, chunks, and a footer chunk, and nothing after.
//!
//! ```text
//! header, 40 bytes
//! 0            8           12       13            14        16         24              32          36        40
//! +------------+-----------+--------+-------------+---------+----------+---------------+-----------+---------+
//! | "tabulaSN" | version=1 | codec  | compression | 0 (u16) | lsn u64  | created_at i64| 0 (u32)   | crc32   |
//! +------------+-----------+--------+-------------+---------+----------+---------------+-----------+---------+
//!   codec: 0 JSON, 1 MessagePack, 2 bincode; compression: 0 none, 1 zstd, 2 lz4 (frame format)
//!   created_at: microseconds since the Unix epoch; crc32 = CRC-32 (IEEE) of bytes 0..36
//!
//! chunk, 16 + stored bytes
//! 0      1       2         4            8          12        16
//! +------+-------+---------+------------+----------+---------+---------------------------+
//! | kind | flags | 0 (u16) | stored u32 | raw u32  | crc32   | payload (stored bytes)    |
//! +------+-------+---------+------------+----------+---------+---------------------------+
//!   kind: 1 table, 2 rows, 0xff footer; flags: bit 0 = payload compressed (rows only)
//!   raw: payload length once decompressed (= stored when not compressed); both <= 65 MiB
//!   crc32 = CRC-32 of chunk bytes 0..12, then the stored payload
//!
//! table payload:  rows u64 | next_auto i64 | has_next_auto u8 | 7 zero bytes | TableDef (codec)
//! rows payload:   rows of the current table, each a map in the codec, back to back
//!                 (JSON: one object per line)
//! footer payload: tables u64 | rows u64 | chunks u64 (before the footer) | file_crc u32
//!   file_crc = CRC-32 of every byte before the footer chunk
//!
//! file := header (table rows*)* footer
//! ```
//!
//! A table's rows chunks hold exactly its `rows`, in primary-key order. A reader checks the header,
//! every chunk's checksum before decompressing or decoding it, the decompressed size, every count,
//! the whole-file checksum, and that nothing follows the footer; every failure is
//! [`Error::Corrupted`] (or [`Error::Codec`] / [`Error::Invalid`] for records that checksum but do
//! not decode or break their table) with the byte offset of the chunk. Indexes are not stored:
//! their definitions are part of each table's definition, and loading rebuilds them.

#![deny(missing_docs)]

mod compression;
mod deltatrace;
mod document;
mod error;
mod export;
pub mod format;
mod reader;
mod store;
mod writer;

pub use compression::Compression;
pub use deltatrace::{DELTATRACE_SYNTHETIC_KEY, looks_like_deltatrace, read_deltatrace_document};
pub use document::{DOCUMENT_VERSION, read_json_document, write_json_document};
pub use error::{Error, Result};
pub use export::{
    export_directory, export_table_json, export_table_jsonl, import_directory, import_table_json,
    import_table_jsonl,
};
pub use reader::{LoadOptions, Loaded, read_snapshot};
pub use store::{LoadedNewest, SnapshotFile, SnapshotRetention, SnapshotStore};
pub use writer::{SnapshotOptions, SnapshotSummary, write_snapshot};
