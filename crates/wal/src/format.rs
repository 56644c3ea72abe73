//! The bytes of a segment file: its header and its record frames, as constants that mirror the
//! diagrams in the crate docs, with the functions that write and check them. Pure: no I/O.
//!
//! ```text
//! segment header (32 bytes)
//! 0                8            12           16              24           28          32
//! | magic (8)      | version u32 | flags u32  | first_lsn u64 | reserved u32 | crc u32  |
//!
//! record frame (24-byte header, then the payload)
//! 0          4          8               16                24
//! | len u32  | crc u32  | lsn u64       | synced u64      | payload (len bytes) ...
//! ```
//!
//! All integers are little-endian. The header crc covers bytes 0..28. A frame's crc covers the
//! payload, then bytes 0..4 and 8..24 of the frame header (payload first, so the appender can
//! checksum its payload before it takes the log's lock and learns its LSN).

use tabula_core::Lsn;
use tabula_storage::DamageKind;
use tabula_storage::le::{put, u32_at, u64_at};

/// The first eight bytes of every segment file.
pub const SEGMENT_MAGIC: [u8; 8] = *b"tabulaWL";
/// The segment format version this crate writes and reads.
pub const SEGMENT_VERSION: u32 = 1;
/// Bytes in a segment header.
pub const SEGMENT_HEADER_LEN: usize = 32;
/// Bytes in a record frame's header.
pub const FRAME_HEADER_LEN: usize = 24;
/// The largest payload the frame format can describe.
pub const MAX_PAYLOAD_LEN: u64 = u32::MAX as u64;

const MAGIC_AT: usize = 0;
const VERSION_AT: usize = 8;
const FLAGS_AT: usize = 12;
const FIRST_LSN_AT: usize = 16;
const HEADER_CRC_AT: usize = 28;

const LEN_AT: usize = 0;
const CRC_AT: usize = 4;
const LSN_AT: usize = 8;
const SYNCED_AT: usize = 16;

const _: () = assert!(VERSION_AT == MAGIC_AT + SEGMENT_MAGIC.len());
const _: () = assert!(FIRST_LSN_AT == FLAGS_AT + 4 && HEADER_CRC_AT + 4 == SEGMENT_HEADER_LEN);
const _: () = assert!(SYNCED_AT + 8 == FRAME_HEADER_LEN && LSN_AT == CRC_AT + 4);

/// The decoded header of a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentHeader {
    /// The LSN of the segment's first record (the next LSN, while it has none).
    pub first_lsn: Lsn,
}

impl SegmentHeader {
    /// The header's bytes.
    #[must_use]
    pub fn encode(&self) -> [u8; SEGMENT_HEADER_LEN] {
        let mut out = [0u8; SEGMENT_HEADER_LEN];
        put(&mut out, MAGIC_AT, &SEGMENT_MAGIC);
        put(&mut out, VERSION_AT, &SEGMENT_VERSION.to_le_bytes());
        put(&mut out, FLAGS_AT, &0u32.to_le_bytes());
        put(&mut out, FIRST_LSN_AT, &self.first_lsn.0.to_le_bytes());
        let crc = crc32fast::hash(out.get(..HEADER_CRC_AT).unwrap_or_default());
        put(&mut out, HEADER_CRC_AT, &crc.to_le_bytes());
        out
    }

    /// Checks and decodes a header; the error says what is wrong.
    pub fn decode(bytes: &[u8]) -> Result<SegmentHeader, DamageKind> {
        let Some(header) = bytes.get(..SEGMENT_HEADER_LEN) else {
            return Err(DamageKind::Truncated {
                what: "segment header",
                needed: SEGMENT_HEADER_LEN as u64,
                available: bytes.len() as u64,
            });
        };
        if header.get(MAGIC_AT..VERSION_AT) != Some(&SEGMENT_MAGIC[..]) {
            return Err(DamageKind::BadMagic {
                format: "tabula log segment",
            });
        }
        let stored = u32_at(header, HEADER_CRC_AT);
        let computed = crc32fast::hash(header.get(..HEADER_CRC_AT).unwrap_or_default());
        if stored != computed {
            return Err(DamageKind::Checksum {
                what: "segment header",
                stored,
                computed,
            });
        }
        let version = u32_at(header, VERSION_AT);
        if version != SEGMENT_VERSION {
            return Err(DamageKind::Version {
                what: "segment",
                found: version,
                supported: SEGMENT_VERSION,
            });
        }
        let first_lsn = Lsn(u64_at(header, FIRST_LSN_AT));
        if first_lsn == Lsn::ZERO {
            return Err(DamageKind::invalid("segment header gives first LSN 0"));
        }
        Ok(SegmentHeader { first_lsn })
    }
}

/// The checksum state of a payload, computed before the frame's LSN is known.
#[derive(Clone)]
pub struct PayloadCrc(crc32fast::Hasher);

impl std::fmt::Debug for PayloadCrc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PayloadCrc")
    }
}

impl PayloadCrc {
    /// Checksums `payload`.
    #[must_use]
    pub fn of(payload: &[u8]) -> PayloadCrc {
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(payload);
        PayloadCrc(hasher)
    }

    /// The frame checksum once the header fields are known.
    #[must_use]
    pub fn finish(self, len: u32, lsn: Lsn, synced: Lsn) -> u32 {
        let mut hasher = self.0;
        hasher.update(&len.to_le_bytes());
        hasher.update(&lsn.0.to_le_bytes());
        hasher.update(&synced.0.to_le_bytes());
        hasher.finalize()
    }
}

/// The fields of a frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Payload length.
    pub len: u32,
    /// The stored checksum.
    pub crc: u32,
    /// The record's LSN.
    pub lsn: Lsn,
    /// Every record at or before this LSN was on stable storage before this one was written.
    pub synced: Lsn,
}

impl FrameHeader {
    /// Reads the header fields from the first [`FRAME_HEADER_LEN`] bytes, if there are that many.
    #[must_use]
    pub fn read(bytes: &[u8]) -> Option<FrameHeader> {
        let header = bytes.get(..FRAME_HEADER_LEN)?;
        Some(FrameHeader {
            len: u32_at(header, LEN_AT),
            crc: u32_at(header, CRC_AT),
            lsn: Lsn(u64_at(header, LSN_AT)),
            synced: Lsn(u64_at(header, SYNCED_AT)),
        })
    }

    /// The whole frame's length.
    #[must_use]
    pub fn frame_len(&self) -> u64 {
        FRAME_HEADER_LEN as u64 + u64::from(self.len)
    }

    /// Whether `payload` matches the stored checksum.
    #[must_use]
    pub fn checks(&self, payload: &[u8]) -> bool {
        self.checksum_of(payload) == self.crc
    }

    /// The checksum this frame would store for `payload` (compare with [`FrameHeader::crc`]).
    #[must_use]
    pub fn checksum_of(&self, payload: &[u8]) -> u32 {
        PayloadCrc::of(payload).finish(self.len, self.lsn, self.synced)
    }
}

/// Appends one frame to `out`. `crc` must be [`PayloadCrc::of`] the same payload.
pub fn write_frame(out: &mut Vec<u8>, lsn: Lsn, synced: Lsn, payload: &[u8], crc: PayloadCrc) {
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    debug_assert!(
        u64::from(len) == payload.len() as u64,
        "callers check the record size limit"
    );
    let crc = crc.finish(len, lsn, synced);
    out.reserve(FRAME_HEADER_LEN + payload.len());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&lsn.0.to_le_bytes());
    out.extend_from_slice(&synced.0.to_le_bytes());
    out.extend_from_slice(payload);
}

/// Fills the frame header in front of a payload that was written in place: `frame` is the frame's
/// bytes with [`FRAME_HEADER_LEN`] placeholder bytes before the payload.
pub fn seal_frame(frame: &mut [u8], lsn: Lsn, synced: Lsn) {
    let Some((header, payload)) = frame.split_at_mut_checked(FRAME_HEADER_LEN) else {
        debug_assert!(false, "seal_frame needs a header's room");
        return;
    };
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    let crc = PayloadCrc::of(payload).finish(len, lsn, synced);
    put(header, LEN_AT, &len.to_le_bytes());
    put(header, CRC_AT, &crc.to_le_bytes());
    put(header, LSN_AT, &lsn.0.to_le_bytes());
    put(header, SYNCED_AT, &synced.0.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_roundtrips_and_rejects_every_flip() {
        let header = SegmentHeader { first_lsn: Lsn(42) };
        let bytes = header.encode();
        assert_eq!(SegmentHeader::decode(&bytes), Ok(header));
        for at in 0..bytes.len() {
            let mut bad = bytes;
            bad[at] ^= 0x10;
            assert!(
                SegmentHeader::decode(&bad).is_err(),
                "flip at {at} accepted"
            );
        }
        assert!(SegmentHeader::decode(&bytes[..31]).is_err());
    }

    #[test]
    fn frames_written_whole_or_sealed_in_place_are_the_same_bytes() {
        let mut whole = Vec::new();
        write_frame(
            &mut whole,
            Lsn(7),
            Lsn(5),
            b"hello",
            PayloadCrc::of(b"hello"),
        );
        let mut in_place = vec![0u8; FRAME_HEADER_LEN];
        in_place.extend_from_slice(b"hello");
        seal_frame(&mut in_place, Lsn(7), Lsn(5));
        assert_eq!(whole, in_place);
        let header = FrameHeader::read(&whole).unwrap();
        assert_eq!((header.len, header.lsn, header.synced), (5, Lsn(7), Lsn(5)));
        assert!(header.checks(b"hello"));
        assert!(!header.checks(b"hellp"));
    }
}
