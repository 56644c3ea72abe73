//! Reading a snapshot: [`read_snapshot`] builds a [`State`] from any `io::Read`, a chunk at a
//! time: memory is the database being built plus one chunk (stored and decompressed) and its
//! decoded rows. Every length is checked against the format's limits before anything is allocated
//! for it, and allocation follows the bytes actually read.

use std::collections::VecDeque;
use std::io::Read;

use tabula_codec::{Codec, CodecLimits};
use tabula_core::{Limits, Row, State, TableDef, TableState, Timestamp};
use tabula_storage::DamageKind;

use crate::format::{
    CHUNK_HEADER_LEN, ChunkHeader, ChunkKind, FLAG_COMPRESSED, Footer, HEADER_LEN, Header,
    TABLE_FIXED_LEN, TableFixed,
};
use crate::writer::SnapshotSummary;
use crate::{Error, Result};

/// How a snapshot is read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoadOptions {
    /// Limits on each record decoded.
    pub codec_limits: CodecLimits,
    /// The data model's limits, given to the database loaded.
    pub limits: Limits,
}

impl LoadOptions {
    /// The default codec limits and these data-model limits.
    #[must_use]
    pub fn with_limits(limits: Limits) -> LoadOptions {
        LoadOptions {
            limits,
            ..LoadOptions::default()
        }
    }
}

/// A loaded snapshot.
#[derive(Debug)]
#[non_exhaustive]
pub struct Loaded {
    /// The database.
    pub database: State,
    /// What the file said about itself.
    pub summary: SnapshotSummary,
}

/// Reads chunks, checksumming the whole file as it goes.
struct Chunks<R> {
    input: R,
    offset: u64,
    crc: crc32fast::Hasher,
    chunks: u64,
    header: Header,
    stored: Vec<u8>,
    raw: Vec<u8>,
}

impl<R: Read> Chunks<R> {
    /// Fills `buf` entirely, or says where the file ended.
    fn fill(&mut self, buf: &mut [u8], what: &'static str) -> Result<()> {
        let mut done = 0;
        let needed = buf.len() as u64;
        while let Some(rest) = buf.get_mut(done..).filter(|rest| !rest.is_empty()) {
            match self.input.read(rest) {
                Ok(0) => {
                    let kind = DamageKind::Truncated {
                        what,
                        needed,
                        available: done as u64,
                    };
                    return Err(Error::corrupted(self.offset + done as u64, kind));
                }
                Ok(n) => done += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::io("read", e)),
            }
        }
        Ok(())
    }

    /// Reads `len` payload bytes into `stored`, growing it only as bytes arrive.
    fn fill_payload(&mut self, len: usize) -> Result<()> {
        self.stored.clear();
        let got = (&mut self.input)
            .take(len as u64)
            .read_to_end(&mut self.stored)
            .map_err(|e| Error::io("read", e))?;
        if got < len {
            let kind = DamageKind::Truncated {
                what: "chunk",
                needed: len as u64,
                available: got as u64,
            };
            return Err(Error::corrupted(self.offset + got as u64, kind));
        }
        Ok(())
    }

    /// The next chunk: its kind, its offset, and its payload (decompressed) in `self.raw`.
    fn next(&mut self) -> Result<(ChunkKind, u64)> {
        let at = self.offset;
        let mut header_bytes = [0u8; CHUNK_HEADER_LEN];
        self.fill(&mut header_bytes, "chunk header")?;
        let header =
            ChunkHeader::decode(&header_bytes).map_err(|kind| Error::corrupted(at, kind))?;
        if header.kind == ChunkKind::Footer && header.flags != 0 {
            return Err(Error::corrupted(
                at,
                DamageKind::invalid("a compressed footer"),
            ));
        }
        self.offset += CHUNK_HEADER_LEN as u64;
        self.fill_payload(header.stored as usize)?;
        self.offset += u64::from(header.stored);
        let computed = ChunkHeader::checksum_of(&header_bytes, &self.stored);
        if computed != header.crc {
            let kind = DamageKind::Checksum {
                what: "chunk",
                stored: header.crc,
                computed,
            };
            return Err(Error::corrupted(at, kind));
        }
        if header.kind != ChunkKind::Footer {
            self.crc.update(&header_bytes);
            self.crc.update(&self.stored);
            self.chunks += 1;
        }
        if header.flags & FLAG_COMPRESSED == 0 {
            std::mem::swap(&mut self.raw, &mut self.stored);
        } else {
            self.header
                .compression
                .decompress(&self.stored, header.raw, &mut self.raw)
                .map_err(|reason| Error::corrupted(at, DamageKind::invalid(reason)))?;
        }
        Ok((header.kind, at))
    }
}

/// Reads a snapshot from `input` and builds its database.
pub fn read_snapshot<R: Read>(input: R, options: &LoadOptions) -> Result<Loaded> {
    let mut input = input;
    let (header, header_bytes) = read_header(&mut input)?;
    let codec = Codec::new(header.format).with_limits(options.codec_limits);
    let mut crc = crc32fast::Hasher::new();
    crc.update(&header_bytes);
    let mut chunks = Chunks {
        input,
        offset: HEADER_LEN as u64,
        crc,
        chunks: 0,
        header,
        stored: Vec::new(),
        raw: Vec::new(),
    };
    let mut tables = Vec::new();
    let mut rows_total = 0u64;
    let (mut kind, mut at) = chunks.next()?;
    loop {
        match kind {
            ChunkKind::Footer => break,
            ChunkKind::Rows => {
                return Err(Error::corrupted(
                    at,
                    DamageKind::invalid("rows before any table"),
                ));
            }
            ChunkKind::Table => {}
        }
        let (table, rows, after) = read_table(&mut chunks, codec, at, options)?;
        rows_total += rows;
        tables.push(table);
        (kind, at) = after;
    }
    check_footer(&mut chunks, at, tables.len() as u64, rows_total)?;
    let bytes = chunks.offset;
    let table_count = tables.len() as u64;
    let database = State::from_tables(header.lsn, tables, options.limits).map_err(|source| {
        Error::Invalid {
            path: None,
            table: String::new(),
            error: Box::new(source),
        }
    })?;
    Ok(Loaded {
        database,
        summary: SnapshotSummary {
            lsn: header.lsn,
            created_at: Timestamp::from_micros(header.created_at_micros),
            format: header.format,
            compression: header.compression,
            tables: table_count,
            rows: rows_total,
            bytes,
        },
    })
}

/// Reads and checks the file header (a file shorter than one is damage, not an I/O error).
fn read_header<R: Read>(input: &mut R) -> Result<(Header, [u8; HEADER_LEN])> {
    let mut header_bytes = [0u8; HEADER_LEN];
    let mut got = 0;
    while got < HEADER_LEN {
        match input.read(header_bytes.get_mut(got..).unwrap_or_default()) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io("read", e)),
        }
    }
    let header = Header::decode(header_bytes.get(..got).unwrap_or_default())
        .map_err(|kind| Error::corrupted(0, kind))?;
    Ok((header, header_bytes))
}

/// Builds the table whose table chunk (at `at`) `chunks` just read, row by row from the rows
/// chunks after it: the table, its row count, and the chunk after its rows.
fn read_table<R: Read>(
    chunks: &mut Chunks<R>,
    codec: Codec,
    at: u64,
    options: &LoadOptions,
) -> Result<(TableState, u64, (ChunkKind, u64))> {
    let fixed = TableFixed::decode(&chunks.raw).map_err(|kind| Error::corrupted(at, kind))?;
    let def: TableDef = codec
        .decode(chunks.raw.get(TABLE_FIXED_LEN..).unwrap_or_default())
        .map_err(|source| Error::Codec {
            path: None,
            offset: at,
            error: source,
        })?;
    let name = def.name.clone();
    let mut rows = TableRows {
        chunks,
        codec,
        remaining: fixed.rows,
        decoded: VecDeque::new(),
        error: None,
    };
    let built = TableState::rebuild(def, rows.by_ref(), fixed.next_auto, &options.limits);
    let after = rows.finish()?;
    let table = built.map_err(|source| Error::Invalid {
        path: None,
        table: name,
        error: Box::new(source),
    })?;
    Ok((table, fixed.rows, after))
}

/// Checks the footer chunk (at `at`, just read) against what the file held, and that nothing
/// follows it.
fn check_footer<R: Read>(chunks: &mut Chunks<R>, at: u64, tables: u64, rows: u64) -> Result<()> {
    let footer = Footer::decode(&chunks.raw).map_err(|kind| Error::corrupted(at, kind))?;
    let file_crc = chunks.crc.clone().finalize();
    let expected = (tables, rows, chunks.chunks, file_crc);
    if (footer.tables, footer.rows, footer.chunks, footer.file_crc) != expected {
        return Err(Error::corrupted(
            at,
            DamageKind::invalid(format!(
                "the footer says {} tables, {} rows, {} chunks, checksum {:#010x}; the file has {}, {}, {}, {:#010x}",
                footer.tables,
                footer.rows,
                footer.chunks,
                footer.file_crc,
                expected.0,
                expected.1,
                expected.2,
                expected.3
            )),
        ));
    }
    let mut extra = [0u8; 1];
    if chunks
        .input
        .read(&mut extra)
        .map_err(|e| Error::io("read", e))?
        != 0
    {
        return Err(Error::corrupted(
            chunks.offset,
            DamageKind::invalid("bytes after the footer"),
        ));
    }
    Ok(())
}

/// The rows of one table, pulled chunk by chunk as `TableState::rebuild` asks for them. An error ends
/// the iteration and is kept for [`TableRows::finish`].
struct TableRows<'a, R> {
    chunks: &'a mut Chunks<R>,
    codec: Codec,
    remaining: u64,
    decoded: VecDeque<Row>,
    error: Option<Error>,
}

impl<R: Read> TableRows<'_, R> {
    fn pull(&mut self) -> Result<Option<Row>> {
        if let Some(row) = self.decoded.pop_front() {
            return Ok(Some(row));
        }
        if self.remaining == 0 {
            return Ok(None);
        }
        let (kind, at) = self.chunks.next()?;
        if kind != ChunkKind::Rows {
            return Err(Error::corrupted(
                at,
                DamageKind::invalid(format!(
                    "the table's rows end {} rows early",
                    self.remaining
                )),
            ));
        }
        let mut reader = self.codec.slice_reader(&self.chunks.raw);
        while let Some(row) = reader.read::<Row>().map_err(|source| Error::Codec {
            path: None,
            offset: at,
            error: source,
        })? {
            if self.remaining == 0 {
                return Err(Error::corrupted(
                    at,
                    DamageKind::invalid("a rows chunk holds more rows than its table"),
                ));
            }
            self.remaining -= 1;
            self.decoded.push_back(row);
        }
        if self.decoded.is_empty() {
            return Err(Error::corrupted(
                at,
                DamageKind::invalid("an empty rows chunk"),
            ));
        }
        Ok(self.decoded.pop_front())
    }

    /// The error that ended the rows, or the chunk after them.
    fn finish(mut self) -> Result<(ChunkKind, u64)> {
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        // Rebuild stops early on a bad row; whatever it left unread does not matter then, since
        // its error is returned. Otherwise every row was taken.
        if self.remaining > 0 || !self.decoded.is_empty() {
            while self.pull()?.is_some() {}
        }
        self.chunks.next()
    }
}

impl<R: Read> Iterator for TableRows<'_, R> {
    type Item = Row;

    fn next(&mut self) -> Option<Row> {
        if self.error.is_some() {
            return None;
        }
        match self.pull() {
            Ok(row) => row,
            Err(error) => {
                self.error = Some(error);
                None
            }
        }
    }
}
