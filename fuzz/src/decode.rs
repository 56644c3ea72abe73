//! `decode_json`, `decode_msgpack`, `decode_bincode`: `tabula-codec`'s decoders on hostile bytes
//! return a record or an error, never panic, and whatever they accept survives a round trip.
//!
//! The input is a 3-byte header and then the bytes to decode:
//! - byte 0 picks the record type (`% 10`): `Value`, `Row`, `Transaction`, `TableDef`, `Op`,
//!   `Column`, `Schema`, `IndexDef`, `SchemaChange`, `Cause`;
//! - byte 1 at `0x80` or above sets `max_depth` to `1 + (b & 0x7f) % 100`, else the default;
//! - byte 2 in `0xc0..=0xdf` sets `max_collection_len` to `b & 0x1f`, in `0xe0..=0xff`
//!   `max_record_size` to `(b & 0x1f) * 16`, else the defaults.
//!
//! The bytes go through [`Codec::decode`] (one record, the whole input), [`Codec::slice_reader`]
//! and [`Codec::reader`] (a stream, over the slice and through `io::Read`). The check asserts:
//! - every decoded record respects the limits it was decoded with: its values nest at most
//!   `max_depth` deep and no list, map, row, or list of columns, indexes or ops is longer than
//!   `max_collection_len`;
//! - re-encoding a decoded record in the same format succeeds (or, with a small
//!   `max_record_size`, fails only as `TooLarge` when the encoding really is larger), and
//!   decoding that encoding gives an equal record (`==`) that is also the same representation
//!   (its `Debug` text: an integral float stays a float, `-0.0` stays negative, the crate's
//!   "lossless" promise);
//! - for MessagePack and bincode, the same holds when the record is re-encoded in each of the
//!   three formats;
//! - the slice reader and the `io::Read` reader yield the same records, in the same
//!   representation, and both end in an error or neither does; a stream never yields more records
//!   than there are bytes;
//! - for MessagePack and bincode, `decode` accepts the input exactly when the stream is one record
//!   and nothing else, and gives that record; for JSON input without a newline, a record from
//!   `decode` is also the whole stream;
//! - the stream's records written with [`Codec::writer`] read back as the same records.

use std::fmt::Debug;

use tabula_codec::{Codable, Codec, CodecLimits, Error, Format, MAX_DEPTH};
use tabula_core::{
    Cause, Column, IndexDef, Map, Op, Row, Schema, SchemaChange, TableDef, Transaction, Value,
};

/// Bytes of the header before the bytes to decode.
const HEADER: usize = 3;

/// The `decode_json` target.
pub fn json(data: &[u8]) {
    check(Format::Json, data);
}

/// The `decode_msgpack` target.
pub fn msgpack(data: &[u8]) {
    check(Format::MessagePack, data);
}

/// The `decode_bincode` target.
pub fn bincode(data: &[u8]) {
    check(Format::Bincode, data);
}

/// Decodes the input after the header in `format` as the record type and with the limits the
/// header picks, and checks every property on what it decodes.
pub fn check(format: Format, data: &[u8]) {
    let header = |i: usize| data.get(i).copied().unwrap_or(0);
    let codec = Codec::new(format).with_limits(limits(header(1), header(2)));
    let bytes = data.get(HEADER..).unwrap_or_default();
    match header(0) % 10 {
        0 => check_as::<Value>(codec, bytes),
        1 => check_as::<Row>(codec, bytes),
        2 => check_as::<Transaction>(codec, bytes),
        3 => check_as::<TableDef>(codec, bytes),
        4 => check_as::<Op>(codec, bytes),
        5 => check_as::<Column>(codec, bytes),
        6 => check_as::<Schema>(codec, bytes),
        7 => check_as::<IndexDef>(codec, bytes),
        8 => check_as::<SchemaChange>(codec, bytes),
        _ => check_as::<Cause>(codec, bytes),
    }
}

/// The limits the two header bytes pick: mostly the defaults, sometimes a small depth, collection
/// length or record size.
fn limits(depth: u8, other: u8) -> CodecLimits {
    let mut limits = CodecLimits::default();
    if depth >= 0x80 {
        limits = limits.with_max_depth(1 + usize::from(depth & 0x7f) % MAX_DEPTH);
    }
    match other {
        0xc0..=0xdf => limits = limits.with_max_collection_len(usize::from(other & 0x1f)),
        0xe0..=0xff => limits = limits.with_max_record_size(usize::from(other & 0x1f) * 16),
        _ => {}
    }
    limits
}

/// A record type the targets decode: a codec [`Codable`] that can be compared and measured.
pub trait Checked: Codable + PartialEq + Debug {
    /// The length of the longest collection inside, of those `max_collection_len` bounds: value
    /// lists and maps, rows, and the lists of columns, indexes and ops.
    fn longest(&self) -> usize;
}

fn value_longest(v: &Value) -> usize {
    match v {
        Value::List(items) => items
            .iter()
            .map(value_longest)
            .fold(items.len(), usize::max),
        Value::Map(map) => row_longest(map),
        _ => 0,
    }
}

fn row_longest(row: &Map) -> usize {
    row.values().map(value_longest).fold(row.len(), usize::max)
}

impl Checked for Value {
    fn longest(&self) -> usize {
        value_longest(self)
    }
}

impl Checked for Map {
    fn longest(&self) -> usize {
        row_longest(self)
    }
}

impl Checked for Column {
    fn longest(&self) -> usize {
        self.default.as_ref().map_or(0, value_longest)
    }
}

impl Checked for Schema {
    fn longest(&self) -> usize {
        self.columns
            .iter()
            .map(Column::longest)
            .fold(self.columns.len(), usize::max)
    }
}

impl Checked for IndexDef {
    fn longest(&self) -> usize {
        0
    }
}

impl Checked for TableDef {
    fn longest(&self) -> usize {
        self.schema
            .as_ref()
            .map_or(0, Schema::longest)
            .max(self.indexes.len())
    }
}

impl Checked for SchemaChange {
    fn longest(&self) -> usize {
        match self {
            SchemaChange::AddColumn(column) | SchemaChange::AlterColumn(column) => column.longest(),
            _ => 0,
        }
    }
}

impl Checked for Op {
    fn longest(&self) -> usize {
        match self {
            Op::CreateTable(def) => def.longest(),
            Op::Insert { row, .. } | Op::Upsert { row, .. } => row_longest(row),
            Op::Update { key, set, .. } => value_longest(key).max(row_longest(set)),
            Op::Delete { key, .. } => value_longest(key),
            Op::AlterTable { change, .. } => change.longest(),
            _ => 0,
        }
    }
}

impl Checked for Cause {
    fn longest(&self) -> usize {
        row_longest(&self.context)
    }
}

impl Checked for Transaction {
    fn longest(&self) -> usize {
        let cause = self.cause.as_ref().map_or(0, Cause::longest);
        self.ops
            .iter()
            .map(Op::longest)
            .fold(cause.max(self.ops.len()), usize::max)
    }
}

/// The exact representation of a record, finer than `==`: `Int(1)` and `Float(1.0)`, `0.0` and
/// `-0.0` differ (NaN payloads do not show, which JSON does not keep).
fn repr<T: Debug>(record: &T) -> String {
    format!("{record:?}")
}

fn type_name<T>() -> &'static str {
    std::any::type_name::<T>()
        .rsplit("::")
        .next()
        .unwrap_or("?")
}

/// Runs every check on `bytes` decoded as `T`.
fn check_as<T: Checked>(codec: Codec, bytes: &[u8]) {
    let format = codec.format();
    let ty = type_name::<T>();
    let whole = codec.decode::<T>(bytes);
    if let Ok(record) = &whole {
        check_record(codec, record, "decode");
    }

    let (slice, slice_err) = read_all(codec.slice_reader(bytes).iter::<T>(), bytes.len());
    let (io, io_err) = read_all(codec.reader(bytes).iter::<T>(), bytes.len());
    for (i, record) in slice.iter().enumerate() {
        check_record(codec, record, &format!("slice reader, record {i}"));
    }
    let slice_repr: Vec<String> = slice.iter().map(repr).collect();
    let io_repr: Vec<String> = io.iter().map(repr).collect();
    assert!(
        slice == io && slice_repr == io_repr,
        "{format} {ty}: the slice reader and the io reader disagree on the records before the \
         first error ({limits:?})\nslice: {slice_repr:?} then {slice_err:?}\n   io: {io_repr:?} \
         then {io_err:?}",
        limits = codec.limits(),
    );
    assert_eq!(
        slice_err.is_some(),
        io_err.is_some(),
        "{format} {ty}: after the same {n} records, one reader fails and the other does not \
         ({limits:?})\nslice: {slice_err:?}\n   io: {io_err:?}",
        n = slice.len(),
        limits = codec.limits(),
    );

    if format == Format::Json {
        if let Ok(record) = &whole
            && !bytes.contains(&b'\n')
        {
            assert!(
                slice.len() == 1 && slice[0] == *record && slice_err.is_none(),
                "json {ty}: decode accepts a one-line input as {record:?}, but the stream reads \
                 {slice:?} then {slice_err:?}"
            );
        }
    } else {
        let one_record = slice.len() == 1 && slice_err.is_none();
        match &whole {
            Ok(record) => assert!(
                one_record && slice[0] == *record && repr(&slice[0]) == repr(record),
                "{format} {ty}: decode gives {record:?}, but the stream reads {slice:?} then \
                 {slice_err:?}"
            ),
            Err(e) => assert!(
                !one_record,
                "{format} {ty}: the stream is exactly one record {:?}, but decode fails: {e}",
                slice[0]
            ),
        }
    }

    stream_round_trip(codec, &slice);
}

/// Reads records until the first error; panics if a stream yields more records than bytes.
fn read_all<T: Checked>(
    records: impl Iterator<Item = tabula_codec::Result<T>>,
    len: usize,
) -> (Vec<T>, Option<Error>) {
    let mut out = Vec::new();
    for record in records {
        match record {
            Ok(r) => {
                out.push(r);
                assert!(
                    out.len() <= len,
                    "{} records from {len} bytes: {out:?}",
                    out.len()
                );
            }
            Err(e) => return (out, Some(e)),
        }
    }
    (out, None)
}

/// A codec for `format` that can write back anything `codec` decoded: the same depth limit, the
/// default record size and collection length (a re-encoding may be longer than the input, and a
/// MessagePack struct is a map of all its fields even when the input left some out).
fn relaxed(format: Format, codec: Codec) -> Codec {
    Codec::new(format).with_limits(CodecLimits::default().with_max_depth(codec.limits().max_depth))
}

/// Checks one record decoded by `codec`: within its limits, and round-tripping.
fn check_record<T: Checked>(codec: Codec, record: &T, origin: &str) {
    let format = codec.format();
    let ty = type_name::<T>();
    let limits = codec.limits();
    let depth = record.value_depth(MAX_DEPTH + 1);
    assert!(
        depth <= limits.max_depth,
        "{format} {ty} ({origin}): decoded a record {depth} deep, over the limit of {}: \
         {record:?}",
        limits.max_depth
    );
    let longest = record.longest();
    assert!(
        longest <= limits.max_collection_len,
        "{format} {ty} ({origin}): decoded a collection of {longest}, over the limit of {}: \
         {record:?}",
        limits.max_collection_len
    );

    let bytes = round_trip(relaxed(format, codec), record, format, origin);
    // The codec it was decoded with encodes it too, unless the encoding is over its size limit.
    match codec.encode(record) {
        Ok(again) => assert!(
            again == bytes,
            "{format} {ty} ({origin}): the encoding depends on the limits: {again:?} vs \
             {bytes:?}"
        ),
        Err(Error::TooLarge { size, limit, .. })
            if bytes.len() > limits.max_record_size
                && size == bytes.len() as u64
                && limit == limits.max_record_size as u64 => {}
        Err(e) => panic!(
            "{format} {ty} ({origin}): {record:?} decoded with {limits:?} but does not encode \
             with them ({} bytes without the size limit): {e}",
            bytes.len()
        ),
    }

    if format != Format::Json {
        for other in Format::ALL {
            if other != format {
                round_trip(relaxed(other, codec), record, format, origin);
            }
        }
    }
}

/// Encodes `record` with `codec`, decodes it back, and asserts the same record comes back in the
/// same representation. Returns the encoding.
fn round_trip<T: Checked>(codec: Codec, record: &T, from: Format, origin: &str) -> Vec<u8> {
    let to = codec.format();
    let ty = type_name::<T>();
    let bytes = codec.encode(record).unwrap_or_else(|e| {
        panic!("{from} {ty} ({origin}): decoded {record:?}, which does not encode in {to}: {e}")
    });
    let back = codec.decode::<T>(&bytes).unwrap_or_else(|e| {
        panic!(
            "{from} {ty} ({origin}): decoded {record:?}, whose {to} encoding does not decode: \
             {e}\n{to} bytes: {}",
            show(&bytes, to)
        )
    });
    assert!(
        back == *record,
        "{from} {ty} ({origin}): {record:?} comes back from {to} as {back:?}\n{to} bytes: {}",
        show(&bytes, to)
    );
    let (a, b) = (repr(record), repr(&back));
    assert!(
        a == b,
        "{from} {ty} ({origin}): {to} round trip changes the representation: {a} comes back as \
         {b}\n{to} bytes: {}",
        show(&bytes, to)
    );
    bytes
}

/// Writes the records with a [`Codec::writer`] and reads them back with a slice reader.
fn stream_round_trip<T: Checked>(codec: Codec, records: &[T]) {
    if records.is_empty() {
        return;
    }
    let format = codec.format();
    let ty = type_name::<T>();
    let codec = relaxed(format, codec);
    let mut writer = codec.writer(Vec::new());
    for record in records {
        writer.write(record).unwrap_or_else(|e| {
            panic!("{format} {ty}: the stream writer refuses decoded {record:?}: {e}")
        });
    }
    let bytes = writer
        .finish()
        .unwrap_or_else(|e| panic!("{format} {ty}: finishing a stream into a Vec fails: {e}"));
    let (back, err) = read_all(codec.slice_reader(&bytes).iter::<T>(), bytes.len());
    assert!(
        err.is_none() && back == records,
        "{format} {ty}: wrote the stream {records:?}, read back {back:?} then {err:?}\nbytes: {}",
        show(&bytes, format)
    );
}

/// Bytes for a failure message: text for JSON, hex otherwise.
fn show(bytes: &[u8], format: Format) -> String {
    if format == Format::Json {
        format!("{:?}", String::from_utf8_lossy(bytes))
    } else {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}
