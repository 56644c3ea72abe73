//! The bytes of a snapshot file: header, chunk framing and footer, as constants that mirror the
//! diagram in the crate docs, with the functions that write and check them. Pure: no I/O.

use tabula_codec::Format;
use tabula_core::Lsn;
use tabula_storage::DamageKind;
use tabula_storage::le::{i64_at, put, u8_at, u16_at, u32_at, u64_at};

use crate::compression::Compression;

/// The first eight bytes of every snapshot file.
pub const MAGIC: [u8; 8] = *b"tabulaSN";
/// The snapshot format version this crate writes and reads.
pub const VERSION: u32 = 1;
/// Bytes in the file header.
pub const HEADER_LEN: usize = 40;
/// Bytes in a chunk header.
pub const CHUNK_HEADER_LEN: usize = 16;
/// Bytes in the footer chunk's payload.
pub const FOOTER_PAYLOAD_LEN: usize = 28;
/// Bytes in a table chunk's fixed part, before the table definition.
pub const TABLE_FIXED_LEN: usize = 24;
/// The largest chunk payload, stored or decompressed, that a reader accepts: a rows chunk holds at
/// least one row, and a row can be as large as the codec's 64 MiB record limit.
pub const MAX_CHUNK_LEN: u32 = (64 << 20) + (1 << 20);

const VERSION_AT: usize = 8;
const CODEC_AT: usize = 12;
const COMPRESSION_AT: usize = 13;
const LSN_AT: usize = 16;
const CREATED_AT: usize = 24;
const HEADER_CRC_AT: usize = 36;

const KIND_AT: usize = 0;
const FLAGS_AT: usize = 1;
const STORED_AT: usize = 4;
const RAW_AT: usize = 8;
const CHUNK_CRC_AT: usize = 12;

const _: () = assert!(VERSION_AT == MAGIC.len() && HEADER_CRC_AT + 4 == HEADER_LEN);
const _: () = assert!(CREATED_AT == LSN_AT + 8 && CHUNK_CRC_AT + 4 == CHUNK_HEADER_LEN);
const _: () = assert!(KIND_AT < FLAGS_AT && RAW_AT == STORED_AT + 4);

/// Chunk flag: the payload is compressed with the file's compression.
pub const FLAG_COMPRESSED: u8 = 1;

/// What a chunk holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkKind {
    /// A table's definition and counts; the table's rows chunks follow.
    Table,
    /// Rows of the current table, back to back in the file's codec.
    Rows,
    /// The footer: counts and the whole-file checksum. Always last.
    Footer,
}

impl ChunkKind {
    fn code(self) -> u8 {
        match self {
            ChunkKind::Table => 1,
            ChunkKind::Rows => 2,
            ChunkKind::Footer => 0xff,
        }
    }

    fn from_code(code: u8) -> Option<ChunkKind> {
        match code {
            1 => Some(ChunkKind::Table),
            2 => Some(ChunkKind::Rows),
            0xff => Some(ChunkKind::Footer),
            _ => None,
        }
    }
}

/// The file header's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The codec of table definitions and rows.
    pub format: Format,
    /// The compression of rows chunks.
    pub compression: Compression,
    /// The LSN of the last transaction in the image.
    pub lsn: Lsn,
    /// When the snapshot was taken, in microseconds since the Unix epoch.
    pub created_at_micros: i64,
}

/// The header's code for a format; `None` for a format this version of the file cannot name.
#[must_use]
pub fn format_code(format: Format) -> Option<u8> {
    match format {
        Format::Json => Some(0),
        Format::MessagePack => Some(1),
        Format::Bincode => Some(2),
        _ => None,
    }
}

fn format_from_code(code: u8) -> Option<Format> {
    match code {
        0 => Some(Format::Json),
        1 => Some(Format::MessagePack),
        2 => Some(Format::Bincode),
        _ => None,
    }
}

impl Header {
    /// The header's bytes.
    #[must_use]
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        put(&mut out, 0, &MAGIC);
        put(&mut out, VERSION_AT, &VERSION.to_le_bytes());
        put(
            &mut out,
            CODEC_AT,
            &[format_code(self.format).unwrap_or(u8::MAX)],
        );
        put(&mut out, COMPRESSION_AT, &[self.compression.code()]);
        put(&mut out, LSN_AT, &self.lsn.0.to_le_bytes());
        put(&mut out, CREATED_AT, &self.created_at_micros.to_le_bytes());
        let crc = crc32fast::hash(out.get(..HEADER_CRC_AT).unwrap_or_default());
        put(&mut out, HEADER_CRC_AT, &crc.to_le_bytes());
        out
    }

    /// Checks and decodes a header; the error says what is wrong.
    pub fn decode(bytes: &[u8]) -> Result<Header, DamageKind> {
        let Some(header) = bytes.get(..HEADER_LEN) else {
            return Err(DamageKind::Truncated {
                what: "snapshot header",
                needed: HEADER_LEN as u64,
                available: bytes.len() as u64,
            });
        };
        if header.get(..MAGIC.len()) != Some(&MAGIC[..]) {
            return Err(DamageKind::BadMagic {
                format: "tabula snapshot",
            });
        }
        let stored = u32_at(header, HEADER_CRC_AT);
        let computed = crc32fast::hash(header.get(..HEADER_CRC_AT).unwrap_or_default());
        if stored != computed {
            return Err(DamageKind::Checksum {
                what: "snapshot header",
                stored,
                computed,
            });
        }
        let version = u32_at(header, VERSION_AT);
        if version != VERSION {
            return Err(DamageKind::Version {
                what: "snapshot",
                found: version,
                supported: VERSION,
            });
        }
        let codec = u8_at(header, CODEC_AT);
        let format = format_from_code(codec)
            .ok_or_else(|| DamageKind::invalid(format!("unknown codec {codec}")))?;
        let code = u8_at(header, COMPRESSION_AT);
        let compression = Compression::from_code(code)
            .ok_or_else(|| DamageKind::invalid(format!("unknown compression {code}")))?;
        Ok(Header {
            format,
            compression,
            lsn: Lsn(u64_at(header, LSN_AT)),
            created_at_micros: i64_at(header, CREATED_AT),
        })
    }
}

/// A chunk header's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkHeader {
    /// What the chunk holds.
    pub kind: ChunkKind,
    /// [`FLAG_COMPRESSED`] or 0.
    pub flags: u8,
    /// Payload bytes in the file.
    pub stored: u32,
    /// Payload bytes once decompressed (equal to `stored` when not compressed).
    pub raw: u32,
    /// CRC-32 of the chunk header's first 12 bytes, then the stored payload.
    pub crc: u32,
}

impl ChunkHeader {
    /// Reads and checks a chunk header's fields (not its checksum, which needs the payload).
    pub fn decode(bytes: &[u8]) -> Result<ChunkHeader, DamageKind> {
        let Some(header) = bytes.get(..CHUNK_HEADER_LEN) else {
            return Err(DamageKind::Truncated {
                what: "chunk header",
                needed: CHUNK_HEADER_LEN as u64,
                available: bytes.len() as u64,
            });
        };
        let code = u8_at(header, KIND_AT);
        let kind = ChunkKind::from_code(code)
            .ok_or_else(|| DamageKind::invalid(format!("unknown chunk kind {code}")))?;
        let flags = u8_at(header, FLAGS_AT);
        if flags & !FLAG_COMPRESSED != 0 || u16_at(header, 2) != 0 {
            return Err(DamageKind::invalid(format!(
                "unknown chunk flags {flags:#04x}"
            )));
        }
        let stored = u32_at(header, STORED_AT);
        let raw = u32_at(header, RAW_AT);
        if stored > MAX_CHUNK_LEN || raw > MAX_CHUNK_LEN {
            return Err(DamageKind::invalid(format!(
                "a chunk of {stored} stored / {raw} raw bytes is over the limit of {MAX_CHUNK_LEN}"
            )));
        }
        if flags & FLAG_COMPRESSED == 0 && stored != raw {
            return Err(DamageKind::invalid(format!(
                "an uncompressed chunk says {stored} stored but {raw} raw bytes"
            )));
        }
        Ok(ChunkHeader {
            kind,
            flags,
            stored,
            raw,
            crc: u32_at(header, CHUNK_CRC_AT),
        })
    }

    /// Whether the stored payload matches the checksum.
    #[must_use]
    pub fn checks(&self, header_bytes: &[u8], payload: &[u8]) -> bool {
        Self::checksum_of(header_bytes, payload) == self.crc
    }

    /// The checksum a chunk with these header bytes and `payload` stores.
    #[must_use]
    pub fn checksum_of(header_bytes: &[u8], payload: &[u8]) -> u32 {
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(header_bytes.get(..CHUNK_CRC_AT).unwrap_or_default());
        hasher.update(payload);
        hasher.finalize()
    }
}

/// The bytes of a chunk header for `payload`.
#[must_use]
pub fn chunk_header(
    kind: ChunkKind,
    flags: u8,
    raw: u32,
    payload: &[u8],
) -> [u8; CHUNK_HEADER_LEN] {
    let mut out = [0u8; CHUNK_HEADER_LEN];
    let stored = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    put(&mut out, KIND_AT, &[kind.code()]);
    put(&mut out, FLAGS_AT, &[flags]);
    put(&mut out, STORED_AT, &stored.to_le_bytes());
    put(&mut out, RAW_AT, &raw.to_le_bytes());
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(out.get(..CHUNK_CRC_AT).unwrap_or_default());
    hasher.update(payload);
    put(&mut out, CHUNK_CRC_AT, &hasher.finalize().to_le_bytes());
    out
}

/// The fixed part of a table chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableFixed {
    /// Rows the table's rows chunks hold.
    pub rows: u64,
    /// The auto-increment counter, if the table has one.
    pub next_auto: Option<i64>,
}

impl TableFixed {
    /// Its bytes.
    #[must_use]
    pub fn encode(&self) -> [u8; TABLE_FIXED_LEN] {
        let mut out = [0u8; TABLE_FIXED_LEN];
        put(&mut out, 0, &self.rows.to_le_bytes());
        put(&mut out, 8, &self.next_auto.unwrap_or(0).to_le_bytes());
        put(&mut out, 16, &[u8::from(self.next_auto.is_some())]);
        out
    }

    /// Decodes it from the start of a table chunk's payload.
    pub fn decode(bytes: &[u8]) -> Result<TableFixed, DamageKind> {
        let Some(fixed) = bytes.get(..TABLE_FIXED_LEN) else {
            return Err(DamageKind::Truncated {
                what: "table chunk",
                needed: TABLE_FIXED_LEN as u64,
                available: bytes.len() as u64,
            });
        };
        let has_auto = u8_at(fixed, 16);
        if has_auto > 1
            || fixed
                .get(17..)
                .is_some_and(|rest| rest.iter().any(|&b| b != 0))
        {
            return Err(DamageKind::invalid("bad flags in a table chunk"));
        }
        Ok(TableFixed {
            rows: u64_at(fixed, 0),
            next_auto: (has_auto == 1).then(|| i64_at(fixed, 8)),
        })
    }
}

/// The footer chunk's payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Footer {
    /// Tables in the file.
    pub tables: u64,
    /// Rows in the file.
    pub rows: u64,
    /// Chunks before the footer.
    pub chunks: u64,
    /// CRC-32 of every byte of the file before the footer chunk.
    pub file_crc: u32,
}

impl Footer {
    /// Its bytes.
    #[must_use]
    pub fn encode(&self) -> [u8; FOOTER_PAYLOAD_LEN] {
        let mut out = [0u8; FOOTER_PAYLOAD_LEN];
        put(&mut out, 0, &self.tables.to_le_bytes());
        put(&mut out, 8, &self.rows.to_le_bytes());
        put(&mut out, 16, &self.chunks.to_le_bytes());
        put(&mut out, 24, &self.file_crc.to_le_bytes());
        out
    }

    /// Decodes a footer payload.
    pub fn decode(bytes: &[u8]) -> Result<Footer, DamageKind> {
        if bytes.len() != FOOTER_PAYLOAD_LEN {
            return Err(DamageKind::invalid(format!(
                "a footer of {} bytes, not {FOOTER_PAYLOAD_LEN}",
                bytes.len()
            )));
        }
        Ok(Footer {
            tables: u64_at(bytes, 0),
            rows: u64_at(bytes, 8),
            chunks: u64_at(bytes, 16),
            file_crc: u32_at(bytes, 24),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_and_rejects_every_flip() {
        let header = Header {
            format: Format::MessagePack,
            compression: Compression::Zstd,
            lsn: Lsn(99),
            created_at_micros: -5,
        };
        let bytes = header.encode();
        assert_eq!(Header::decode(&bytes), Ok(header));
        for at in 0..bytes.len() {
            let mut bad = bytes;
            bad[at] ^= 0x04;
            assert!(Header::decode(&bad).is_err(), "flip at {at} accepted");
        }
    }

    #[test]
    fn chunk_headers_check_their_payload() {
        let header = chunk_header(ChunkKind::Rows, 0, 3, b"abc");
        let decoded = ChunkHeader::decode(&header).unwrap();
        assert_eq!(
            (decoded.kind, decoded.stored, decoded.raw),
            (ChunkKind::Rows, 3, 3)
        );
        assert!(decoded.checks(&header, b"abc"));
        assert!(!decoded.checks(&header, b"abd"));
        let fixed = TableFixed {
            rows: 7,
            next_auto: Some(-3),
        };
        assert_eq!(TableFixed::decode(&fixed.encode()), Ok(fixed));
        let footer = Footer {
            tables: 1,
            rows: 2,
            chunks: 3,
            file_crc: 4,
        };
        assert_eq!(Footer::decode(&footer.encode()), Ok(footer));
    }
}
