//! [`Codec`]: a format and its limits, with one-record encode and decode, detection, and the
//! constructors of the streaming readers and writers.

use std::io::{BufRead, BufReader, Read, Write};

use crate::input::{Input, ReaderInput, SliceInput};
use crate::stream::{RecordReader, RecordWriter, SliceReader};
use crate::{Codable, CodecLimits, ENTRY_COST, Error, Format, MAP_COST, Result, json, msgpack};

/// A format with its limits: everything needed to turn records into bytes and back.
///
/// ```
/// use tabula_codec::{Codec, Format};
/// use tabula_core::{Row, Value};
///
/// let row: Row = [("id".to_owned(), Value::Int(1)), ("name".to_owned(), "Ada".into())].into();
/// for format in Format::ALL {
///     let codec = Codec::new(format);
///     let bytes = codec.encode(&row)?;
///     assert_eq!(codec.decode::<Row>(&bytes)?, row);
/// }
/// assert_eq!(Codec::new(Format::Json).encode(&row)?, br#"{"id":1,"name":"Ada"}"#);
/// # Ok::<(), tabula_codec::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Codec {
    format: Format,
    limits: CodecLimits,
}

impl Codec {
    /// A codec for `format` with the default limits.
    #[must_use]
    pub fn new(format: Format) -> Self {
        Codec {
            format,
            limits: CodecLimits::default().clamped(),
        }
    }

    /// The same codec with other limits.
    #[must_use]
    pub fn with_limits(mut self, limits: CodecLimits) -> Self {
        self.limits = limits.clamped();
        self
    }

    /// The format.
    #[must_use]
    pub fn format(&self) -> Format {
        self.format
    }

    /// The limits.
    #[must_use]
    pub fn limits(&self) -> &CodecLimits {
        &self.limits
    }

    /// Encodes one record.
    ///
    /// # Errors
    /// `Unencodable` for a value deeper than the depth limit; `TooLarge` when the encoding is
    /// over the record-size limit.
    pub fn encode<T: Codable>(&self, record: &T) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.encode_into(record, &mut out)?;
        Ok(out)
    }

    /// Appends the encoding of one record to `out` (for JSON, without a newline). On error `out`
    /// is left as it was.
    ///
    /// # Errors
    /// As [`Codec::encode`].
    pub fn encode_into<T: Codable>(&self, record: &T, out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        let result = self.encode_unchecked(record, out).and_then(|()| {
            let size = out.len() - start;
            if size > self.limits.max_record_size {
                return Err(Error::TooLarge {
                    format: self.format,
                    offset: None,
                    what: "record size in bytes",
                    size: size as u64,
                    limit: self.limits.max_record_size as u64,
                });
            }
            self.check_decodable::<T>(out.get(start..).unwrap_or_default())
        });
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    /// Whatever is written must read back under the same limits. Depth and size are checked
    /// while encoding; a collection of `n` elements or an estimated heap of `m` bytes needs at
    /// least `n` or `m / (MAP_COST + ENTRY_COST)` bytes of encoding, so only records larger than
    /// that are decoded again to check the other limits.
    fn check_decodable<T: Codable>(&self, bytes: &[u8]) -> Result<()> {
        let per_byte = (MAP_COST + ENTRY_COST) as usize;
        let threshold = self
            .limits
            .max_collection_len
            .min(self.limits.max_memory / per_byte);
        if bytes.len() <= threshold {
            return Ok(());
        }
        self.decode::<T>(bytes)
            .map(drop)
            .map_err(|e| Error::Unencodable {
                format: self.format,
                reason: format!("the encoding would not decode under the same limits: {e}"),
            })
    }

    fn encode_unchecked<T: Codable>(&self, record: &T, out: &mut Vec<u8>) -> Result<()> {
        let max_depth = self.limits.max_depth;
        match self.format {
            Format::Bincode => record.write_bin(out, max_depth),
            Format::Json | Format::MessagePack => {
                // serde recurses as deep as the value goes: check first, without recursion.
                if record.value_depth(max_depth) > max_depth {
                    return Err(Error::Unencodable {
                        format: self.format,
                        reason: format!(
                            "a value nests deeper than the limit of {max_depth} levels"
                        ),
                    });
                }
                if self.format == Format::Json {
                    json::encode(record, out)
                } else {
                    msgpack::encode(record, out)
                }
            }
        }
    }

    /// Decodes one record that is the whole of `bytes`.
    ///
    /// # Errors
    /// `Invalid`, `Truncated`, `TooDeep` or `TooLarge` with the byte offset; `TrailingBytes` when
    /// something follows the record.
    pub fn decode<T: Codable>(&self, bytes: &[u8]) -> Result<T> {
        if self.format == Format::Json {
            let (record, nesting) = json::decode(bytes, 0, &self.limits)?;
            return self.check_depth(record, nesting, 0);
        }
        let mut input = SliceInput::new(bytes, self.format, self.limits);
        let record = self.read_one(&mut input)?;
        let rest = input.rest();
        if !rest.is_empty() {
            return Err(Error::TrailingBytes {
                format: self.format,
                offset: input.offset(),
                count: rest.len() as u64,
            });
        }
        Ok(record)
    }

    /// Reads one record from a slice positioned at its first byte (for JSON, its line).
    pub(crate) fn read_one<T: Codable>(&self, input: &mut SliceInput<'_>) -> Result<T> {
        input.start_record();
        match self.format {
            Format::Bincode => T::read_bin(input),
            Format::MessagePack => self.read_msgpack(input),
            Format::Json => {
                let line = next_line(input.rest());
                let base = input.offset();
                input.advance(line.len());
                let (record, nesting) = json::decode(line, base, &self.limits)?;
                self.check_depth(record, nesting, base)
            }
        }
    }

    /// Validates one MessagePack record's structure, then builds it from the validated bytes.
    fn read_msgpack<T: Codable, I: Input>(&self, input: &mut I) -> Result<T> {
        let nesting = msgpack::skip(input)?;
        let record = msgpack::decode(input.record(), input.record_offset())?;
        self.check_depth(record, nesting, input.record_offset())
    }

    /// Reads one record from a reader whose record has been started (for JSON, its line taken).
    pub(crate) fn read_one_from<T: Codable, R: BufRead>(
        &self,
        input: &mut ReaderInput<R>,
    ) -> Result<T> {
        match self.format {
            Format::Bincode => T::read_bin(input),
            Format::MessagePack => self.read_msgpack(input),
            Format::Json => {
                let (record, nesting) =
                    json::decode(input.record(), input.record_offset(), &self.limits)?;
                self.check_depth(record, nesting, input.record_offset())
            }
        }
    }

    /// The self-describing formats bound structure while parsing; this bounds each value exactly,
    /// as bincode does while reading. `nesting` is the deepest container nesting the parser saw:
    /// no value can be deeper than that plus one (its scalars), so most records skip the walk.
    fn check_depth<T: Codable>(&self, record: T, nesting: usize, offset: u64) -> Result<T> {
        let max = self.limits.max_depth;
        if nesting.saturating_add(1) > max && record.value_depth(max) > max {
            return Err(Error::TooDeep {
                format: self.format,
                offset,
                limit: max,
            });
        }
        Ok(record)
    }

    /// A writer of records to `writer`: JSON Lines for JSON, records back to back otherwise.
    pub fn writer<W: Write>(&self, writer: W) -> RecordWriter<W> {
        RecordWriter::new(*self, writer)
    }

    /// A reader of the records that [`Codec::writer`] wrote, from any `io::Read`. Only one
    /// record is held in memory at a time.
    pub fn reader<R: Read>(&self, reader: R) -> RecordReader<BufReader<R>> {
        RecordReader::new(*self, BufReader::new(reader))
    }

    /// A reader of records from a byte slice, such as a memory-mapped file.
    #[must_use]
    pub fn slice_reader<'a>(&self, bytes: &'a [u8]) -> SliceReader<'a> {
        SliceReader::new(*self, bytes)
    }

    /// Detects the format of a stream of `T` records: a format is a candidate when the first
    /// record decodes in it; when several are, the one that decodes the whole input wins.
    ///
    /// MessagePack and bincode have no magic bytes, so detection is by decoding, and a short
    /// input can fit more than one format; files that need certainty record their format in a
    /// header (as snapshots do).
    ///
    /// # Errors
    /// `Undetected` when no format or more than one fits, naming each format's objection.
    pub fn detect<T: Codable>(bytes: &[u8], limits: CodecLimits) -> Result<Format> {
        let limits = limits.clamped();
        let first_text = bytes.iter().find(|&&b| !json::is_space(b)).copied();
        let (Some(&first), Some(first_text)) =
            (bytes.first(), first_text.or(bytes.first().copied()))
        else {
            return Err(Error::Undetected {
                reason: "the input is empty".to_owned(),
            });
        };
        let mut fits = Vec::new();
        let mut objections = Vec::new();
        for format in Format::ALL {
            let first = if format == Format::Json {
                first_text
            } else {
                first
            };
            if !format.could_start_with(first) {
                objections.push(format!("{format}: cannot start with byte 0x{first:02x}"));
                continue;
            }
            let codec = Codec::new(format).with_limits(limits);
            match codec.slice_reader(bytes).read::<T>() {
                Ok(Some(_)) => fits.push(format),
                Ok(None) => objections.push(format!("{format}: no record")),
                Err(e) => objections.push(e.to_string()),
            }
        }
        if fits.len() > 1 {
            fits.retain(|&format| {
                let codec = Codec::new(format).with_limits(limits);
                codec.slice_reader(bytes).iter::<T>().all(|r| r.is_ok())
            });
        }
        match fits.as_slice() {
            [one] => Ok(*one),
            [] => Err(Error::Undetected {
                reason: format!("no format fits: {}", objections.join("; ")),
            }),
            many => Err(Error::Undetected {
                reason: format!(
                    "ambiguous: the input is valid as {}",
                    many.iter()
                        .map(|f| f.name())
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
            }),
        }
    }
}

/// The next JSON Lines record in `rest`: up to and including its newline, or all of it.
fn next_line(rest: &[u8]) -> &[u8] {
    match rest.iter().position(|&b| b == b'\n') {
        Some(i) => rest.get(..=i).unwrap_or(rest),
        None => rest,
    }
}
