//! [`DamageKind`]: what is wrong with damaged bytes, one vocabulary for every reader of tabula's
//! files: the log's recovery, reader and verifier, the snapshot reader, `tabula check` and the
//! reliability suite's judge. Callers and tests match variants, never the wording.

use std::fmt;

/// What is wrong with damaged bytes (where they are is said by the error that carries it).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DamageKind {
    /// A checksum does not match the bytes it covers.
    Checksum {
        /// What the checksum covers ("frame", "segment header", "chunk", ...).
        what: &'static str,
        /// The checksum stored in the file.
        stored: u32,
        /// The checksum of the bytes as read.
        computed: u32,
    },
    /// The file does not start with its format's magic number: not such a file at all.
    BadMagic {
        /// The file the magic number would make it.
        format: &'static str,
    },
    /// A format version this build does not read.
    Version {
        /// Whose version.
        what: &'static str,
        /// The version in the file.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },
    /// Records out of sequence: `found` where `expected` was next (a gap when greater, an
    /// overlap when smaller).
    Lsn {
        /// The LSN that should have come next.
        expected: u64,
        /// The LSN that came.
        found: u64,
    },
    /// Fewer bytes than a structure needs: the file or a frame was cut.
    Truncated {
        /// What was cut ("frame header", "segment header", ...).
        what: &'static str,
        /// The bytes it needs.
        needed: u64,
        /// The bytes there are.
        available: u64,
    },
    /// A record whose checksum holds but whose payload does not decode.
    Payload {
        /// The record's LSN.
        lsn: u64,
        /// The decoder's error.
        error: String,
    },
    /// A field that is out of range or contradicts another (a structure the checksum covers
    /// but the format does not allow).
    Invalid {
        /// What is wrong.
        what: String,
    },
}

impl DamageKind {
    /// An [`DamageKind::Invalid`] saying `what`.
    #[must_use]
    pub fn invalid(what: impl Into<String>) -> DamageKind {
        DamageKind::Invalid { what: what.into() }
    }
}

impl fmt::Display for DamageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DamageKind::Checksum {
                what,
                stored,
                computed,
            } => write!(
                f,
                "{what} checksum mismatch: stored {stored:#010x}, computed {computed:#010x}"
            ),
            DamageKind::BadMagic { format } => write!(f, "not a {format} (bad magic number)"),
            DamageKind::Version {
                what,
                found,
                supported,
            } => write!(
                f,
                "{what} format version {found}; this build reads version {supported}"
            ),
            DamageKind::Lsn { expected, found } => {
                write!(f, "LSN {found} where {expected} was expected")
            }
            DamageKind::Truncated {
                what,
                needed,
                available,
            } => write!(f, "{what} needs {needed} bytes, {available} left"),
            DamageKind::Payload { lsn, error } => {
                write!(f, "record {lsn} does not decode: {error}")
            }
            DamageKind::Invalid { what } => f.write_str(what),
        }
    }
}

impl std::error::Error for DamageKind {}
