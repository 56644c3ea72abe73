//! [`Input`]: where a decoder takes bytes from, a slice or a buffered reader, with the record-size
//! limit and the allocation discipline in one place.
//!
//! A decoder asks for `n` bytes only after reading a length prefix that claims them. A slice
//! answers without allocating, or with `Truncated` when fewer than `n` bytes are left. A reader
//! copies into the current record's buffer in steps that at most double it, so a hostile prefix
//! claiming 2^40 bytes costs at most twice the bytes really read before the input ends.

use std::io::{self, BufRead};

use crate::{CodecLimits, Error, Format, Result};

/// The first step of a reader's record buffer, and the smallest growth step.
const MIN_STEP: usize = 4096;

/// A source of bytes for one record at a time.
pub trait Input {
    /// The format being decoded, for errors.
    fn format(&self) -> Format;

    /// The limits being enforced.
    fn limits(&self) -> &CodecLimits;

    /// Offset of the next byte from the start of the whole input.
    fn offset(&self) -> u64;

    /// Takes exactly `n` bytes. `expected` names them in a `Truncated` error.
    fn take(&mut self, n: usize, expected: &str) -> Result<&[u8]>;

    /// Takes exactly `N` bytes as an array.
    fn take_array<const N: usize>(&mut self, expected: &str) -> Result<[u8; N]> {
        let format = self.format();
        let bytes = self.take(N, expected)?;
        // `take` returns exactly N bytes; the error is unreachable but typed all the same.
        <[u8; N]>::try_from(bytes).map_err(|_| Error::Truncated {
            format,
            offset: 0,
            expected: expected.to_owned(),
        })
    }

    /// Takes one byte.
    fn take_byte(&mut self, expected: &str) -> Result<u8> {
        let [b] = self.take_array::<1>(expected)?;
        Ok(b)
    }

    /// Looks at the next byte without taking it; `None` at the end of the input.
    fn peek(&mut self) -> Result<Option<u8>>;

    /// The bytes of the current record so far.
    fn record(&self) -> &[u8];

    /// Offset of the current record's first byte.
    fn record_offset(&self) -> u64;

    /// The estimated heap of the current record so far (see [`CodecLimits::max_memory`]).
    fn memory_mut(&mut self) -> &mut u64;

    /// Charges `bytes` of estimated heap to the current record; `TooLarge` past the limit.
    fn charge(&mut self, bytes: u64, at: u64) -> Result<()> {
        let limit = self.limits().max_memory as u64;
        let format = self.format();
        let memory = self.memory_mut();
        *memory = memory.saturating_add(bytes);
        if *memory > limit {
            return Err(Error::TooLarge {
                format,
                offset: Some(at),
                what: "estimated memory of the decoded record in bytes",
                size: *memory,
                limit,
            });
        }
        Ok(())
    }

    /// An `Invalid` error at `offset`.
    fn invalid(&self, offset: u64, expected: impl Into<String>) -> Error {
        Error::Invalid {
            format: self.format(),
            offset: Some(offset),
            expected: expected.into(),
        }
    }

    /// Checks a collection length against the limit.
    fn check_len(&self, len: u64, what: &'static str, at: u64) -> Result<usize> {
        let limit = self.limits().max_collection_len;
        match usize::try_from(len) {
            Ok(n) if n <= limit => Ok(n),
            _ => Err(Error::TooLarge {
                format: self.format(),
                offset: Some(at),
                what,
                size: len,
                limit: limit as u64,
            }),
        }
    }
}

/// A byte slice (for example a memory-mapped file): takes borrow, nothing is copied.
#[derive(Debug)]
pub struct SliceInput<'a> {
    bytes: &'a [u8],
    pos: usize,
    record_start: usize,
    memory: u64,
    format: Format,
    limits: CodecLimits,
}

impl<'a> SliceInput<'a> {
    /// Reads `bytes` in `format`.
    pub fn new(bytes: &'a [u8], format: Format, limits: CodecLimits) -> Self {
        SliceInput {
            bytes,
            pos: 0,
            record_start: 0,
            memory: 0,
            format,
            limits: limits.clamped(),
        }
    }

    /// Marks the start of a record, for the record-size limit.
    pub fn start_record(&mut self) {
        self.record_start = self.pos;
        self.memory = 0;
    }

    /// The bytes not yet taken.
    pub fn rest(&self) -> &'a [u8] {
        self.bytes.get(self.pos..).unwrap_or_default()
    }

    /// Moves past `n` bytes already looked at through [`SliceInput::rest`].
    pub fn advance(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n).min(self.bytes.len());
    }
}

impl Input for SliceInput<'_> {
    fn format(&self) -> Format {
        self.format
    }

    fn limits(&self) -> &CodecLimits {
        &self.limits
    }

    fn offset(&self) -> u64 {
        self.pos as u64
    }

    fn take(&mut self, n: usize, expected: &str) -> Result<&[u8]> {
        let used = self.pos - self.record_start;
        let limit = self.limits.max_record_size;
        if n > limit.saturating_sub(used) {
            return Err(record_too_large(
                self.format,
                self.record_start as u64,
                used,
                n,
                limit,
            ));
        }
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len());
        match end.and_then(|end| self.bytes.get(self.pos..end)) {
            Some(taken) => {
                self.pos += n;
                Ok(taken)
            }
            None => Err(Error::Truncated {
                format: self.format,
                offset: self.bytes.len() as u64,
                expected: format!("{n} bytes of {expected}"),
            }),
        }
    }

    fn peek(&mut self) -> Result<Option<u8>> {
        Ok(self.bytes.get(self.pos).copied())
    }

    fn memory_mut(&mut self) -> &mut u64 {
        &mut self.memory
    }

    fn record(&self) -> &[u8] {
        self.bytes
            .get(self.record_start..self.pos)
            .unwrap_or_default()
    }

    fn record_offset(&self) -> u64 {
        self.record_start as u64
    }
}

fn record_too_large(format: Format, start: u64, used: usize, n: usize, limit: usize) -> Error {
    Error::TooLarge {
        format,
        offset: Some(start),
        what: "record size in bytes",
        size: (used as u64).saturating_add(n as u64),
        limit: limit as u64,
    }
}

/// A buffered reader: each record's bytes are copied into one reused buffer, which the
/// MessagePack and JSON decoders then parse as a slice.
#[derive(Debug)]
pub struct ReaderInput<R> {
    reader: R,
    record: Vec<u8>,
    record_start: u64,
    memory: u64,
    format: Format,
    limits: CodecLimits,
}

impl<R: BufRead> ReaderInput<R> {
    /// Reads from `reader` in `format`.
    pub fn new(reader: R, format: Format, limits: CodecLimits) -> Self {
        ReaderInput {
            reader,
            record: Vec::new(),
            record_start: 0,
            memory: 0,
            format,
            limits: limits.clamped(),
        }
    }

    /// Starts a new record: the buffer is emptied (its memory kept, up to a bound).
    pub fn start_record(&mut self) {
        self.record_start += self.record.len() as u64;
        self.record.clear();
        self.memory = 0;
        if self.record.capacity() > (1 << 20) {
            self.record.shrink_to(1 << 20);
        }
    }

    /// Gives the reader back.
    pub fn into_inner(self) -> R {
        self.reader
    }

    /// Skips JSON whitespace (blank lines included), then copies bytes up to and including the
    /// next `\n` into the record (JSON Lines). Returns false at the end of the input with
    /// nothing read. The skipped bytes do not count towards the record size, as with slices.
    pub fn take_line(&mut self) -> Result<bool> {
        let limit = self.limits.max_record_size;
        loop {
            let (blank, more) = match self.reader.fill_buf() {
                Ok(buf) => {
                    let blank = buf
                        .iter()
                        .take_while(|&&b| crate::json::is_space(b))
                        .count();
                    (blank, blank == buf.len() && !buf.is_empty())
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            self.reader.consume(blank);
            self.record_start += blank as u64;
            if !more {
                break;
            }
        }
        loop {
            let buf = match self.reader.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            if buf.is_empty() {
                return Ok(!self.record.is_empty());
            }
            let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (buf.get(..=i).unwrap_or(buf), true),
                None => (buf, false),
            };
            let n = chunk.len();
            if self.record.len().saturating_add(n) > limit.saturating_add(1) {
                return Err(record_too_large(
                    self.format,
                    self.record_start,
                    self.record.len(),
                    n,
                    limit,
                ));
            }
            self.record.extend_from_slice(chunk);
            self.reader.consume(n);
            if done {
                return Ok(true);
            }
        }
    }
}

impl<R: BufRead> Input for ReaderInput<R> {
    fn format(&self) -> Format {
        self.format
    }

    fn limits(&self) -> &CodecLimits {
        &self.limits
    }

    fn offset(&self) -> u64 {
        self.record_start + self.record.len() as u64
    }

    fn take(&mut self, n: usize, expected: &str) -> Result<&[u8]> {
        let start = self.record.len();
        let limit = self.limits.max_record_size;
        if n > limit.saturating_sub(start) {
            return Err(record_too_large(
                self.format,
                self.record_start,
                start,
                n,
                limit,
            ));
        }
        let mut need = n;
        while need > 0 {
            // Grow by at most the bytes already read (and at least MIN_STEP): the buffer never
            // exceeds about twice what the input really held.
            let step = need.min(self.record.len().max(MIN_STEP));
            let old = self.record.len();
            self.record.resize(old + step, 0);
            let dst = self.record.get_mut(old..).unwrap_or_default();
            let mut filled = 0;
            while filled < step {
                match self.reader.read(dst.get_mut(filled..).unwrap_or_default()) {
                    Ok(0) => break,
                    Ok(k) => filled += k,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        self.record.truncate(old + filled);
                        return Err(Error::Io(e));
                    }
                }
            }
            if filled < step {
                // Keep what was read so the offset is where the input really ended.
                self.record.truncate(old + filled);
                return Err(Error::Truncated {
                    format: self.format,
                    offset: self.offset(),
                    expected: format!("{n} bytes of {expected}"),
                });
            }
            need -= step;
        }
        Ok(self.record.get(start..).unwrap_or_default())
    }

    fn memory_mut(&mut self) -> &mut u64 {
        &mut self.memory
    }

    fn record(&self) -> &[u8] {
        &self.record
    }

    fn record_offset(&self) -> u64 {
        self.record_start
    }

    fn peek(&mut self) -> Result<Option<u8>> {
        loop {
            match self.reader.fill_buf() {
                Ok(buf) => return Ok(buf.first().copied()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
}
