//! `tabula-codec`: turns tabula's core types into bytes and back.
//!
//! **Status: skeleton.** This crate is the layer between `tabula-core` and everything that writes
//! bytes; its contents arrive with the codec issue. It will own:
//!
//! - one `Codec` abstraction with three formats: JSON (`serde_json`, with one documented,
//!   unambiguous encoding for what JSON cannot carry: bytes, timestamps, non-finite floats, large
//!   integers), MessagePack (`rmp-serde`) and the bincode-1 wire format (through `wincode`);
//! - streaming encode of a sequence of records to any `io::Write`, and decode from an `io::Read`
//!   or a byte slice, one record at a time;
//! - format detection from the first bytes where the format allows it;
//! - limits on record size, nesting depth and collection length, so that decoding hostile bytes
//!   returns a typed error naming the format and byte offset, never a panic or an unbounded
//!   allocation.
//!
//! It will not own files, checksums or framing: those belong to `tabula-wal` and
//! `tabula-snapshot`.

#![deny(missing_docs)]
