//! Streams of records: [`RecordWriter`] to any `io::Write`, [`RecordReader`] from any
//! `io::Read`, and [`SliceReader`] over bytes in memory. Each holds one record at a time.
//!
//! A JSON stream is JSON Lines (one compact record per line; blank lines are skipped when
//! reading). MessagePack and bincode records follow each other with nothing in between: each
//! format's records delimit themselves.

use std::io::{BufRead, Write};
use std::marker::PhantomData;

use crate::input::{Input, ReaderInput, SliceInput};
use crate::{Codable, Codec, Format, Result};

/// Writes records one at a time. Call [`RecordWriter::finish`] to flush and get the writer back.
#[derive(Debug)]
pub struct RecordWriter<W: Write> {
    codec: Codec,
    writer: W,
    buf: Vec<u8>,
    count: u64,
    bytes: u64,
}

impl<W: Write> RecordWriter<W> {
    pub(crate) fn new(codec: Codec, writer: W) -> Self {
        RecordWriter {
            codec,
            writer,
            buf: Vec::new(),
            count: 0,
            bytes: 0,
        }
    }

    /// Encodes and writes one record. A record that cannot be encoded writes nothing.
    ///
    /// # Errors
    /// The encoding errors of [`Codec::encode`], or `Io`.
    pub fn write<T: Codable>(&mut self, record: &T) -> Result<()> {
        self.buf.clear();
        self.codec.encode_into(record, &mut self.buf)?;
        if self.codec.format() == Format::Json {
            self.buf.push(b'\n');
        }
        self.writer.write_all(&self.buf)?;
        self.count += 1;
        self.bytes += self.buf.len() as u64;
        if self.buf.capacity() > (1 << 20) {
            self.buf = Vec::new();
        }
        Ok(())
    }

    /// Records written so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Bytes written so far.
    pub fn bytes_written(&self) -> u64 {
        self.bytes
    }

    /// Flushes and returns the writer.
    ///
    /// # Errors
    /// `Io` when flushing fails.
    pub fn finish(mut self) -> Result<W> {
        self.writer.flush()?;
        Ok(self.writer)
    }
}

/// Reads records one at a time from a buffered reader.
#[derive(Debug)]
pub struct RecordReader<R: BufRead> {
    codec: Codec,
    input: ReaderInput<R>,
}

impl<R: BufRead> RecordReader<R> {
    pub(crate) fn new(codec: Codec, reader: R) -> Self {
        RecordReader {
            codec,
            input: ReaderInput::new(reader, codec.format(), *codec.limits()),
        }
    }

    /// Reads the next record; `Ok(None)` at the end of the input.
    ///
    /// # Errors
    /// The decoding errors of [`Codec::decode`] with offsets from the start of the stream, or
    /// `Io`. After an error the stream position is undefined: stop reading.
    pub fn read<T: Codable>(&mut self) -> Result<Option<T>> {
        loop {
            self.input.start_record();
            if self.codec.format() == Format::Json {
                if !self.input.take_line()? {
                    return Ok(None);
                }
                if self
                    .input
                    .record()
                    .iter()
                    .all(|&b| crate::json::is_space(b))
                {
                    continue;
                }
            } else if self.input.peek()?.is_none() {
                return Ok(None);
            }
            return self.codec.read_one_from(&mut self.input).map(Some);
        }
    }

    /// Offset of the next record from the start of the stream.
    pub fn offset(&self) -> u64 {
        self.input.offset()
    }

    /// An iterator over the remaining records of type `T`; it ends after the first error.
    pub fn iter<T: Codable>(self) -> Records<Self, T> {
        Records::new(self)
    }

    /// Gives the reader back.
    pub fn into_inner(self) -> R {
        self.input.into_inner()
    }
}

/// Reads records one at a time from a byte slice, borrowing it.
#[derive(Debug)]
pub struct SliceReader<'a> {
    codec: Codec,
    input: SliceInput<'a>,
}

impl<'a> SliceReader<'a> {
    pub(crate) fn new(codec: Codec, bytes: &'a [u8]) -> Self {
        SliceReader {
            codec,
            input: SliceInput::new(bytes, codec.format(), *codec.limits()),
        }
    }

    /// Reads the next record; `Ok(None)` at the end of the input.
    ///
    /// # Errors
    /// As [`RecordReader::read`].
    pub fn read<T: Codable>(&mut self) -> Result<Option<T>> {
        loop {
            let rest = self.input.rest();
            if rest.is_empty() {
                return Ok(None);
            }
            if self.codec.format() == Format::Json {
                let blank = rest
                    .iter()
                    .take_while(|&&b| crate::json::is_space(b))
                    .count();
                if blank > 0 {
                    self.input.advance(blank);
                    continue;
                }
            }
            return self.codec.read_one(&mut self.input).map(Some);
        }
    }

    /// Offset of the next record from the start of the slice.
    pub fn offset(&self) -> u64 {
        self.input.offset()
    }

    /// An iterator over the remaining records of type `T`; it ends after the first error.
    pub fn iter<T: Codable>(self) -> Records<Self, T> {
        Records::new(self)
    }
}

/// Either reader, for [`Records`].
pub trait ReadRecords {
    /// Reads the next record.
    ///
    /// # Errors
    /// As the reader's own `read`.
    fn next_record<T: Codable>(&mut self) -> Result<Option<T>>;
}

impl<R: BufRead> ReadRecords for RecordReader<R> {
    fn next_record<T: Codable>(&mut self) -> Result<Option<T>> {
        self.read()
    }
}

impl ReadRecords for SliceReader<'_> {
    fn next_record<T: Codable>(&mut self) -> Result<Option<T>> {
        self.read()
    }
}

/// An iterator of records of type `T`; it yields the first error and then ends.
#[derive(Debug)]
pub struct Records<S, T> {
    source: S,
    failed: bool,
    _record: PhantomData<fn() -> T>,
}

impl<S, T> Records<S, T> {
    fn new(source: S) -> Self {
        Records {
            source,
            failed: false,
            _record: PhantomData,
        }
    }
}

impl<S: ReadRecords, T: Codable> Iterator for Records<S, T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        if self.failed {
            return None;
        }
        match self.source.next_record() {
            Ok(record) => record.map(Ok),
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}
