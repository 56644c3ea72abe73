//! [`Error`]: everything encoding or decoding can report, each naming the format and, when
//! decoding, the byte offset from the start of the input.

use std::io;

use crate::Format;

/// A codec error. Decoding errors carry the byte offset from the start of the input (the whole
/// stream, not the record) where the problem was found, when it is known.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not a valid record: `expected` says what the decoder wanted there.
    #[error("{format}: invalid input at byte {}: expected {expected}", offset_text(*.offset))]
    Invalid {
        /// The format being decoded.
        format: Format,
        /// Byte offset from the start of the input, when known.
        offset: Option<u64>,
        /// What the decoder expected, and what it found when that helps.
        expected: String,
    },
    /// The input ended inside a record.
    #[error("{format}: input ends at byte {offset} inside a record: expected {expected}")]
    Truncated {
        /// The format being decoded.
        format: Format,
        /// Where the input ended.
        offset: u64,
        /// What the decoder still needed.
        expected: String,
    },
    /// Containers nest deeper than the limit.
    #[error("{format}: nesting deeper than {limit} levels at byte {offset}")]
    TooDeep {
        /// The format being decoded.
        format: Format,
        /// Where the level beyond the limit starts.
        offset: u64,
        /// The configured maximum depth.
        limit: usize,
    },
    /// A record, string or collection is larger than the limit (or than the bytes left).
    #[error("{format}: {what} of {size} is over the limit of {limit}, at byte {}", offset_text(*.offset))]
    TooLarge {
        /// The format being encoded or decoded.
        format: Format,
        /// Where the oversized item starts, when decoding.
        offset: Option<u64>,
        /// What is too large, such as "record size in bytes" or "list length".
        what: &'static str,
        /// Its size.
        size: u64,
        /// The configured limit.
        limit: u64,
    },
    /// Bytes follow a record that was meant to be the whole input.
    #[error("{format}: {count} unexpected bytes after the record, at byte {offset}")]
    TrailingBytes {
        /// The format being decoded.
        format: Format,
        /// Where the extra bytes start.
        offset: u64,
        /// How many there are.
        count: u64,
    },
    /// A value cannot be written in this format.
    #[error("{format}: cannot encode: {reason}")]
    Unencodable {
        /// The format being encoded.
        format: Format,
        /// Why.
        reason: String,
    },
    /// The format of the input cannot be told from its bytes.
    #[error("cannot detect the format: {reason}")]
    Undetected {
        /// Why: no format fits, or several do.
        reason: String,
    },
    /// Reading or writing failed.
    #[error("I/O error: {0}")]
    Io(io::Error),
}

impl From<io::Error> for Error {
    fn from(error: io::Error) -> Self {
        Error::Io(error)
    }
}

fn offset_text(offset: Option<u64>) -> String {
    offset.map_or_else(|| "(unknown)".to_owned(), |o| o.to_string())
}

/// The codec's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
