//! Writing a snapshot: [`write_snapshot`] streams a [`State`] to any `io::Write`, a chunk at a
//! time, holding O(chunk) memory beyond the database (which a caller shares as an O(1) clone, so
//! writers go on while it streams).

use std::io::Write;

use tabula_codec::{Codec, Format};
use tabula_core::{Lsn, State, Timestamp};

use crate::compression::Compression;
use crate::format::{
    ChunkKind, FLAG_COMPRESSED, Footer, Header, MAX_CHUNK_LEN, TableFixed, chunk_header,
    format_code,
};
use crate::{Error, Result};

/// How a snapshot is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SnapshotOptions {
    /// The codec of table definitions and rows (with its limits). Default bincode.
    pub codec: Codec,
    /// The compression of rows chunks. Default zstd.
    pub compression: Compression,
    /// Rows are gathered into chunks of about this many encoded bytes. Default 1 MiB; at most
    /// 64 MiB.
    pub chunk_size: usize,
    /// The creation time recorded in the header; `None` for now.
    pub created_at: Option<Timestamp>,
}

impl Default for SnapshotOptions {
    fn default() -> Self {
        SnapshotOptions {
            codec: Codec::new(Format::Bincode),
            compression: Compression::Zstd,
            chunk_size: 1 << 20,
            created_at: None,
        }
    }
}

impl SnapshotOptions {
    /// The defaults: bincode, zstd, 1 MiB chunks.
    #[must_use]
    pub fn new() -> SnapshotOptions {
        SnapshotOptions::default()
    }

    /// Sets the format (keeping the codec's limits).
    #[must_use]
    pub fn format(mut self, format: Format) -> SnapshotOptions {
        self.codec = Codec::new(format).with_limits(*self.codec.limits());
        self
    }

    /// Sets the codec.
    #[must_use]
    pub fn codec(mut self, codec: Codec) -> SnapshotOptions {
        self.codec = codec;
        self
    }

    /// Sets the compression.
    #[must_use]
    pub fn compression(mut self, compression: Compression) -> SnapshotOptions {
        self.compression = compression;
        self
    }

    /// Sets the chunk size.
    #[must_use]
    pub fn chunk_size(mut self, bytes: usize) -> SnapshotOptions {
        self.chunk_size = bytes;
        self
    }

    /// Sets the recorded creation time.
    #[must_use]
    pub fn created_at(mut self, at: Timestamp) -> SnapshotOptions {
        self.created_at = Some(at);
        self
    }

    fn validate(&self) -> Result<()> {
        if self.chunk_size == 0 || self.chunk_size > 64 << 20 {
            return Err(Error::InvalidOption(format!(
                "chunk_size {} is not in 1..=64 MiB",
                self.chunk_size
            )));
        }
        if format_code(self.codec.format()).is_none() {
            return Err(Error::InvalidOption(format!(
                "format {} has no code in snapshot format version 1",
                self.codec.format()
            )));
        }
        Ok(())
    }
}

/// What a snapshot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SnapshotSummary {
    /// The LSN of the image.
    pub lsn: Lsn,
    /// When it was taken.
    pub created_at: Timestamp,
    /// The codec of its records.
    pub format: Format,
    /// The compression of its rows.
    pub compression: Compression,
    /// Tables.
    pub tables: u64,
    /// Rows in all tables.
    pub rows: u64,
    /// Bytes of the file.
    pub bytes: u64,
}

/// Counts and checksums everything written.
struct Out<W> {
    inner: W,
    crc: crc32fast::Hasher,
    bytes: u64,
    chunks: u64,
}

impl<W: Write> Out<W> {
    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.inner
            .write_all(bytes)
            .map_err(|e| Error::io("write", e))?;
        self.crc.update(bytes);
        self.bytes += bytes.len() as u64;
        Ok(())
    }

    fn chunk(&mut self, kind: ChunkKind, flags: u8, raw: usize, payload: &[u8]) -> Result<()> {
        let raw = u32::try_from(raw).unwrap_or(u32::MAX);
        if raw > MAX_CHUNK_LEN || payload.len() > MAX_CHUNK_LEN as usize {
            return Err(Error::InvalidOption(format!(
                "a chunk of {raw} bytes is over the format's limit of {MAX_CHUNK_LEN}"
            )));
        }
        self.write(&chunk_header(kind, flags, raw, payload))?;
        self.write(payload)?;
        self.chunks += 1;
        Ok(())
    }
}

/// Writes `db` as a snapshot to `out` and returns its summary and `out`. The caller makes the
/// file durable (see [`crate::SnapshotStore`] for atomic files).
pub fn write_snapshot<W: Write>(
    db: &State,
    out: W,
    options: &SnapshotOptions,
) -> Result<(SnapshotSummary, W)> {
    options.validate()?;
    let codec = options.codec;
    let created_at = options.created_at.unwrap_or_else(now);
    let header = Header {
        format: codec.format(),
        compression: options.compression,
        lsn: db.lsn(),
        created_at_micros: created_at.as_micros(),
    };
    let mut out = Out {
        inner: out,
        crc: crc32fast::Hasher::new(),
        bytes: 0,
        chunks: 0,
    };
    out.write(&header.encode())?;
    let encode_error = |source| Error::Codec {
        path: None,
        offset: 0,
        error: source,
    };
    let mut rows_total = 0u64;
    let mut tables = 0u64;
    let mut payload = Vec::new();
    let mut raw = Vec::new();
    let mut stored = Vec::new();
    for table in db.tables() {
        tables += 1;
        payload.clear();
        let fixed = TableFixed {
            rows: table.len() as u64,
            next_auto: table.next_auto_increment(),
        };
        payload.extend_from_slice(&fixed.encode());
        codec
            .encode_into(table.def(), &mut payload)
            .map_err(encode_error)?;
        out.chunk(ChunkKind::Table, 0, payload.len(), &payload)?;
        raw.clear();
        for (_, row) in table.iter() {
            let before = raw.len();
            codec
                .encode_into(&row.to_row(), &mut raw)
                .map_err(encode_error)?;
            if codec.format() == Format::Json {
                raw.push(b'\n');
            }
            rows_total += 1;
            if raw.len() > options.chunk_size && before > 0 {
                // The row that overflowed starts the next chunk, so a chunk is at most the chunk
                // size or one row.
                let row = raw.split_off(before);
                flush_rows(&mut out, options.compression, &raw, &mut stored)?;
                raw = row;
            }
        }
        if !raw.is_empty() {
            flush_rows(&mut out, options.compression, &raw, &mut stored)?;
        }
    }
    let footer = Footer {
        tables,
        rows: rows_total,
        chunks: out.chunks,
        file_crc: out.crc.clone().finalize(),
    };
    out.chunk(
        ChunkKind::Footer,
        0,
        footer.encode().len(),
        &footer.encode(),
    )?;
    out.inner.flush().map_err(|e| Error::io("flush", e))?;
    let summary = SnapshotSummary {
        lsn: db.lsn(),
        created_at,
        format: codec.format(),
        compression: options.compression,
        tables,
        rows: rows_total,
        bytes: out.bytes,
    };
    Ok((summary, out.inner))
}

fn flush_rows<W: Write>(
    out: &mut Out<W>,
    compression: Compression,
    raw: &[u8],
    stored: &mut Vec<u8>,
) -> Result<()> {
    if compression == Compression::None {
        return out.chunk(ChunkKind::Rows, 0, raw.len(), raw);
    }
    compression
        .compress(raw, stored)
        .map_err(|e| Error::io("compress", e))?;
    out.chunk(ChunkKind::Rows, FLAG_COMPRESSED, raw.len(), stored)
}

/// The wall-clock time, for the header.
pub(crate) fn now() -> Timestamp {
    Timestamp::now()
}
