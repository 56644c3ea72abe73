//! `tabula-codec`: turns tabula's core types into bytes and back, in JSON, MessagePack and the
//! bincode-1 wire format, one record at a time, safely on hostile bytes.
//!
//! - [`Codec`] is a [`Format`] with its [`CodecLimits`]: [`Codec::encode`] and
//!   [`Codec::decode`] for one record, [`Codec::writer`] / [`Codec::reader`] /
//!   [`Codec::slice_reader`] for streams, [`Codec::detect`] to tell the format from the bytes.
//! - [`Codable`] is every type the codecs carry: `Value`, a row, `Column`, `Schema`, `IndexDef`,
//!   `TableDef`, `SchemaChange`, `Op`, `Cause` and `Transaction`.
//!
//! # Formats
//!
//! - **JSON** (see `json.rs`): natural JSON, structs as objects, enums externally tagged; what
//!   JSON cannot carry uses the `$`-escapes documented on [`tabula_core::Value`]
//!   (`{"$bytes": …}`, `{"$ts": …}`, `{"$float": "NaN"}`, `{"$int": "…"}`, `{"$map": …}`).
//!   A stream is JSON Lines.
//! - **MessagePack**: the same shapes in MessagePack, structs as maps with field names; bytes,
//!   non-finite floats and all integers are native.
//! - **bincode**: the bincode-1 layout, byte for byte what `bincode` 1.3 writes for the
//!   documented serde types ([`bincode`] module), written here directly (the module says why not
//!   through `wincode`).
//!
//! Every codec round-trips every value losslessly: an integral float stays a float, `-0.0`
//! stays negative, NaN stays NaN (JSON keeps no NaN payload bits, which `Value` equality
//! ignores), and timestamps keep their microseconds.
//!
//! # Safety on hostile bytes
//!
//! Decoding arbitrary bytes returns a record or an [`Error`] naming the format, the byte offset
//! and what was expected: never a panic, a stack overflow or an allocation beyond a small
//! multiple of the input. Lengths are checked against the bytes present (or read in steps that
//! at most double the buffer, from a reader) before anything is allocated for them; depth is
//! bounded before recursion (a pre-scan for JSON and MessagePack, a counter for bincode); and
//! every format enforces [`CodecLimits`].
//!
//! This crate owns no files, checksums or framing: those belong to `tabula-wal` and
//! `tabula-snapshot`.

#![deny(missing_docs)]

pub mod bincode;
mod codable;
mod codec;
mod error;
mod format;
pub mod input;
mod json;
mod limits;
mod msgpack;
mod stream;

pub use codable::Codable;
pub use codec::Codec;
pub use error::{Error, Result};
pub use format::Format;
pub use limits::{CodecLimits, ELEMENT_COST, ENTRY_COST, MAP_COST, MAX_DEPTH, MIN_COLLECTION_LEN};
pub use stream::{ReadRecords, RecordReader, RecordWriter, Records, SliceReader};
