//! [`RowRef`]: a row as a table stores it, packed into one shared allocation of bytes, with its
//! field names interned in a per-table dictionary ([`Names`]).
//!
//! A [`Row`] (`BTreeMap<String, Value>`) costs ~1,200 resident bytes for the benchmarks' eight
//! fields of ~150 bytes: a 640-byte tree node, a heap copy of every column name in every row and
//! a heap block per text. Packed, the same row is one block of ~130 bytes: each field is its
//! name's number in the table's dictionary and its value in the encoding below. Nothing of it is
//! written to disk (snapshots, the log and the feed carry rows as maps, through
//! [`serde::Serialize`]), so it can change with any release without a format version.
//!
//! # Encoding (in memory only)
//!
//! ```text
//! row   := key varint(field count) field*      fields in name order (a Row's order)
//! key   := 0x01 value                          the value of the table's key field, which the
//!                                              fields then leave out (lookups read it directly)
//!        | 0x00                                no key field (a row packed outside a table)
//! field := varint(name id + 1) value           the name is the table dictionary's entry
//!        | 0x00 varint(len) name-bytes value   a name the dictionary does not hold
//! value := 0x00                                null
//!        | 0x01 | 0x02                         false | true
//!        | 0x03 zigzag-varint                  int
//!        | 0x04 f64 little-endian (8 bytes)    float, any bit pattern
//!        | 0x05 varint(len) utf-8              text
//!        | 0x06 varint(len) bytes              bytes
//!        | 0x07 zigzag-varint                  timestamp, microseconds
//!        | 0x08 varint(count) value*           list
//!        | 0x09 varint(count) (varint(len) name-bytes value)*   map, names in order
//! ```
//!
//! A dictionary only grows (to [`MAX_NAMES`]; later names are written inline), so a row packed
//! against an earlier version of it reads the same against any later one. Each `RowRef` holds
//! the dictionary it was packed with, so readers and snapshots that hold old rows need nothing
//! else.
//!
//! Packed bytes are made only by [`RowRef::pack`]; reading them never panics, and a row that
//! could not be read (which would be a bug here) reads as far as it can.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use triomphe::ThinArc;

use crate::value::{Map, Row, Timestamp, Value};

mod de;
pub use de::from_row_ref;

/// The most names a table's dictionary holds; a field named otherwise carries its name inline.
/// It bounds the dictionary of a schemaless table whose rows name their fields freely (each new
/// name copies the dictionary once when a reader shares it).
pub const MAX_NAMES: usize = 4096;

/// A table's field-name dictionary: names by number and numbers by name.
#[derive(Default, Clone)]
pub struct Names {
    list: Vec<Arc<str>>,
    ids: HashMap<Arc<str>, u32>,
    /// The table's primary-key column, whose value rows keep in front (see the module docs).
    key: Option<Arc<str>>,
}

impl fmt::Debug for Names {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.list).finish()
    }
}

impl Names {
    /// An empty dictionary for a table keyed by `key`.
    pub(crate) fn keyed(key: &str) -> Names {
        Names {
            key: Some(Arc::from(key)),
            ..Names::default()
        }
    }

    /// The number of `name`, if the dictionary holds it.
    fn id(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    /// The name numbered `id`.
    fn name(&self, id: u64) -> Option<&str> {
        let id = usize::try_from(id).ok()?;
        self.list.get(id).map(|name| &**name)
    }

    /// The number of `name` in `names`, adding it while there is room. The dictionary is copied
    /// first when a reader shares it.
    fn intern(names: &mut Arc<Names>, name: &str) -> Option<u32> {
        if let Some(id) = names.id(name) {
            return Some(id);
        }
        if names.list.len() >= MAX_NAMES {
            return None;
        }
        let names = Arc::make_mut(names);
        let id = u32::try_from(names.list.len()).ok()?;
        let name: Arc<str> = Arc::from(name);
        names.list.push(Arc::clone(&name));
        names.ids.insert(name, id);
        Some(id)
    }

    /// How many names it holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether it holds no names.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// A stored row: shared, so that readers, snapshots and change reports never copy it, and packed
/// (see the module docs). It reads like a map of column names to values:
///
/// ```
/// use tabula_core::{Row, RowRef, Value};
///
/// let row = RowRef::from(Row::from([("id".to_owned(), Value::Int(1)), ("name".to_owned(), Value::from("Ada"))]));
/// assert_eq!(row.get("name"), Some(Value::from("Ada")));
/// assert_eq!(row.get("age"), None);
/// assert_eq!(row.to_row()["id"], Value::Int(1));
/// ```
#[derive(Clone)]
pub struct RowRef {
    /// One allocation: the reference count, the dictionary, the length and the packed bytes,
    /// behind one thin pointer. The maps of a table hold each row twice (by key order and by
    /// hash), so every byte of the handle counts twice, and a map node copied on write clones
    /// each of its handles: one reference count here (two with a separate dictionary pointer,
    /// one of them on a line every row shares), 8 bytes where there were 24.
    block: ThinArc<Arc<Names>, u8>,
}

impl RowRef {
    /// The packed bytes.
    fn bytes(&self) -> &[u8] {
        &self.block.slice
    }

    /// The dictionary the bytes are packed against.
    fn names(&self) -> &Names {
        self.names_arc()
    }

    fn names_arc(&self) -> &Arc<Names> {
        &self.block.header.header
    }

    /// `row` packed against `names`, which gains the names it lacks.
    pub(crate) fn pack(names: &mut Arc<Names>, row: &Row) -> RowRef {
        let mut out = Vec::with_capacity(64);
        let key = names.key.clone();
        let key = key.as_deref().and_then(|k| row.get_key_value(k));
        match key {
            Some((_, value)) => {
                out.push(1);
                write_value(&mut out, value);
            }
            None => out.push(0),
        }
        write_len(&mut out, row.len() - usize::from(key.is_some()));
        for (name, value) in row {
            if key.is_some_and(|(k, _)| k == name) {
                continue;
            }
            match Names::intern(names, name) {
                Some(id) => write_varint(&mut out, u64::from(id) + 1),
                None => {
                    out.push(0);
                    write_text(&mut out, name);
                }
            }
            write_value(&mut out, value);
        }
        RowRef {
            block: ThinArc::from_header_and_slice(Arc::clone(names), &out),
        }
    }

    /// The packed value of the table's key field, if the row has one.
    pub(crate) fn key_bytes(&self) -> Option<&[u8]> {
        let mut reader = Reader::new(self.bytes());
        match reader.u8()? {
            1 => reader.value_bytes(),
            _ => None,
        }
    }

    /// The table's key as packed in front of the row, read without allocating where it is
    /// an integer or text.
    pub(crate) fn key_view(&self) -> Option<KeyView<'_>> {
        let bytes = self.key_bytes()?;
        let mut reader = Reader::new(bytes);
        Some(match reader.u8()? {
            INT => KeyView::Int(unzigzag(reader.varint()?)),
            TEXT => KeyView::Text(reader.text()?),
            _ => KeyView::Other(Reader::new(bytes).value()?),
        })
    }

    /// The value of column `column`, if the row has it.
    #[must_use]
    pub fn get(&self, column: &str) -> Option<Value> {
        let (_, value) = self.entries().find(|(name, _)| *name == column)?;
        Reader::new(value).value()
    }

    /// Whether the row has column `column`.
    #[must_use]
    pub fn contains_key(&self, column: &str) -> bool {
        self.entries().any(|(name, _)| name == column)
    }

    /// The row as a map.
    #[must_use]
    pub fn to_row(&self) -> Row {
        self.iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect()
    }

    /// The columns and their values, in column-name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Value)> + '_ {
        self.entries()
            .map_while(|(name, value)| Some((name, Reader::new(value).value()?)))
    }

    /// Number of columns.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries().count()
    }

    /// Whether the row has no columns.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes the packed row occupies on the heap (its shared block, not the dictionary).
    #[must_use]
    pub fn heap_size(&self) -> usize {
        // The reference count, the dictionary pointer and the length, then the bytes.
        3 * size_of::<usize>() + self.bytes().len()
    }

    /// The fields, named, with their packed values, in name order: the key field (kept in
    /// front) merged in at its place.
    fn entries(&self) -> Entries<'_> {
        let mut reader = Reader::new(self.bytes());
        let key = match reader.u8() {
            Some(1) => reader.value_bytes().zip(self.names().key.as_deref()),
            _ => None,
        };
        let left = reader.len().unwrap_or(0);
        Entries {
            row: self,
            fields: FieldReader { reader, left },
            key: key.map(|(value, name)| (name, value)),
            next: None,
        }
    }

    fn name_of<'a>(&'a self, name: FieldName<'a>) -> Option<&'a str> {
        match name {
            FieldName::Id(id) => self.names().name(id),
            FieldName::Inline(text) => Some(text),
        }
    }
}

/// A row's key, as [`RowRef::key_view`] reads it.
pub(crate) enum KeyView<'a> {
    Int(i64),
    Text(&'a str),
    Other(Value),
}

/// The iterator of [`RowRef::entries`].
struct Entries<'a> {
    row: &'a RowRef,
    fields: FieldReader<'a>,
    /// The key field, until its place comes.
    key: Option<(&'a str, &'a [u8])>,
    /// A field read past while looking for the key's place.
    next: Option<(&'a str, &'a [u8])>,
}

impl<'a> Entries<'a> {
    fn read_field(&mut self) -> Option<(&'a str, &'a [u8])> {
        let name = self.fields.next_name()?;
        let name = self.row.name_of(name)?;
        Some((name, self.fields.reader.value_bytes()?))
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = (&'a str, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let field = match self.next.take() {
            Some(field) => Some(field),
            None => self.read_field(),
        };
        match (self.key, field) {
            (Some(key), Some(field)) if key.0 < field.0 => {
                self.key = None;
                self.next = Some(field);
                Some(key)
            }
            (Some(key), None) => {
                self.key = None;
                Some(key)
            }
            (_, field) => field,
        }
    }
}

impl From<Row> for RowRef {
    /// A row packed on its own, against a dictionary of its own names (query projections and
    /// rows made outside a table).
    fn from(row: Row) -> RowRef {
        RowRef::from(&row)
    }
}

impl From<&Row> for RowRef {
    fn from(row: &Row) -> RowRef {
        let mut names = Arc::new(Names::default());
        RowRef::pack(&mut names, row)
    }
}

impl PartialEq for RowRef {
    /// Rows are equal when their maps are (`Int(1) == Float(1.0)`, as everywhere).
    fn eq(&self, other: &Self) -> bool {
        if self.block.ptr() == other.block.ptr()
            || (Arc::ptr_eq(self.names_arc(), other.names_arc()) && self.bytes() == other.bytes())
        {
            return true;
        }
        self.len() == other.len()
            && self
                .iter()
                .zip(other.iter())
                .all(|((a, x), (b, y))| a == b && x == y)
    }
}

impl PartialEq<Row> for RowRef {
    fn eq(&self, other: &Row) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .zip(other)
                .all(|((a, x), (b, y))| a == b && x == *y)
    }
}

impl fmt::Debug for RowRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for RowRef {
    /// As the map it stands for, streamed from the packed bytes.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (name, value) in self.entries() {
            map.serialize_entry(name, &Packed(value))?;
        }
        map.end()
    }
}

fn broken<S: Serializer>() -> S::Error {
    serde::ser::Error::custom("a packed row could not be read")
}

/// One packed value, serialized as the [`Value`] it stands for: lists streamed from the bytes,
/// everything else through `Value`'s own `Serialize` (a map then gets the `$map` wrapping its
/// first key may need).
struct Packed<'a>(&'a [u8]);

impl Serialize for Packed<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut reader = Reader::new(self.0);
        let tag = reader.u8().ok_or_else(|| broken::<S>())?;
        match tag {
            LIST => {
                let n = reader.len().ok_or_else(|| broken::<S>())?;
                let mut seq = serializer.serialize_seq(usize::try_from(n).ok())?;
                for _ in 0..n {
                    let item = reader.value_bytes().ok_or_else(|| broken::<S>())?;
                    seq.serialize_element(&Packed(item))?;
                }
                seq.end()
            }
            _ => Reader::new(self.0)
                .value()
                .ok_or_else(|| broken::<S>())?
                .serialize(serializer),
        }
    }
}

/// Something with named fields a filter, an index or an `order by` can read: a [`Row`] lends
/// its values, a [`RowRef`] decodes the one asked for.
pub trait Fields {
    /// The value of column `name`, if present.
    fn field(&self, name: &str) -> Option<Cow<'_, Value>>;
}

impl Fields for Row {
    fn field(&self, name: &str) -> Option<Cow<'_, Value>> {
        self.get(name).map(Cow::Borrowed)
    }
}

impl<T: Fields + ?Sized> Fields for &T {
    fn field(&self, name: &str) -> Option<Cow<'_, Value>> {
        T::field(self, name)
    }
}

impl Fields for RowRef {
    fn field(&self, name: &str) -> Option<Cow<'_, Value>> {
        self.get(name).map(Cow::Owned)
    }
}

const NULL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const INT: u8 = 3;
const FLOAT: u8 = 4;
const TEXT: u8 = 5;
const BYTES: u8 = 6;
const TIMESTAMP: u8 = 7;
const LIST: u8 = 8;
const MAP: u8 = 9;

fn write_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        #[expect(clippy::cast_possible_truncation, reason = "the low seven bits")]
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    #[expect(clippy::cast_possible_truncation, reason = "below 0x80")]
    out.push(n as u8);
}

fn write_len(out: &mut Vec<u8>, n: usize) {
    write_varint(out, n as u64);
}

fn zigzag(i: i64) -> u64 {
    #[expect(
        clippy::cast_sign_loss,
        reason = "zigzag encoding reinterprets the bits"
    )]
    let z = ((i << 1) ^ (i >> 63)) as u64;
    z
}

fn unzigzag(z: u64) -> i64 {
    #[expect(
        clippy::cast_possible_wrap,
        reason = "zigzag decoding reinterprets the bits"
    )]
    let i = ((z >> 1) as i64) ^ -((z & 1) as i64);
    i
}

fn write_text(out: &mut Vec<u8>, text: &str) {
    write_len(out, text.len());
    out.extend_from_slice(text.as_bytes());
}

fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.push(NULL),
        Value::Bool(false) => out.push(FALSE),
        Value::Bool(true) => out.push(TRUE),
        Value::Int(i) => {
            out.push(INT);
            write_varint(out, zigzag(*i));
        }
        Value::Float(f) => {
            out.push(FLOAT);
            out.extend_from_slice(&f.to_bits().to_le_bytes());
        }
        Value::Text(text) => {
            out.push(TEXT);
            write_text(out, text);
        }
        Value::Bytes(bytes) => {
            out.push(BYTES);
            write_len(out, bytes.len());
            out.extend_from_slice(bytes);
        }
        Value::Timestamp(t) => {
            out.push(TIMESTAMP);
            write_varint(out, zigzag(t.as_micros()));
        }
        Value::List(items) => {
            out.push(LIST);
            write_len(out, items.len());
            for item in items {
                write_value(out, item);
            }
        }
        Value::Map(map) => {
            out.push(MAP);
            write_len(out, map.len());
            for (name, item) in map {
                write_text(out, name);
                write_value(out, item);
            }
        }
    }
}

/// A cursor over packed bytes; every read returns `None` at the end or on bytes it cannot read.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes }
    }

    fn u8(&mut self) -> Option<u8> {
        let (first, rest) = self.bytes.split_first()?;
        self.bytes = rest;
        Some(*first)
    }

    fn varint(&mut self) -> Option<u64> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.u8()?;
            n |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Some(n);
            }
        }
        None
    }

    fn len(&mut self) -> Option<u64> {
        self.varint()
    }

    fn take(&mut self, n: u64) -> Option<&'a [u8]> {
        let n = usize::try_from(n).ok()?;
        if n > self.bytes.len() {
            return None;
        }
        let (taken, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Some(taken)
    }

    fn text(&mut self) -> Option<&'a str> {
        let n = self.len()?;
        std::str::from_utf8(self.take(n)?).ok()
    }

    fn value(&mut self) -> Option<Value> {
        Some(match self.u8()? {
            NULL => Value::Null,
            FALSE => Value::Bool(false),
            TRUE => Value::Bool(true),
            INT => Value::Int(unzigzag(self.varint()?)),
            FLOAT => {
                let bits: [u8; 8] = self.take(8)?.try_into().ok()?;
                Value::Float(f64::from_bits(u64::from_le_bytes(bits)))
            }
            TEXT => Value::Text(self.text()?.to_owned()),
            BYTES => {
                let n = self.len()?;
                Value::Bytes(self.take(n)?.to_vec())
            }
            TIMESTAMP => Value::Timestamp(Timestamp::from_micros(unzigzag(self.varint()?))),
            LIST => {
                let n = self.len()?;
                let mut items = Vec::with_capacity(usize::try_from(n).ok()?.min(1024));
                for _ in 0..n {
                    items.push(self.value()?);
                }
                Value::List(items)
            }
            MAP => {
                let n = self.len()?;
                let mut map = Map::new();
                for _ in 0..n {
                    let name = self.text()?.to_owned();
                    map.insert(name, self.value()?);
                }
                Value::Map(map)
            }
            _ => return None,
        })
    }

    /// Moves past one value.
    fn skip(&mut self) -> Option<()> {
        match self.u8()? {
            NULL | FALSE | TRUE => {}
            INT | TIMESTAMP => {
                self.varint()?;
            }
            FLOAT => {
                self.take(8)?;
            }
            TEXT | BYTES => {
                let n = self.len()?;
                self.take(n)?;
            }
            LIST => {
                for _ in 0..self.len()? {
                    self.skip()?;
                }
            }
            MAP => {
                for _ in 0..self.len()? {
                    let n = self.len()?;
                    self.take(n)?;
                    self.skip()?;
                }
            }
            _ => return None,
        }
        Some(())
    }

    /// The bytes of the next value, moving past it.
    fn value_bytes(&mut self) -> Option<&'a [u8]> {
        let start = self.bytes;
        self.skip()?;
        start.get(..start.len() - self.bytes.len())
    }
}

/// A field's name as packed.
enum FieldName<'a> {
    Id(u64),
    Inline(&'a str),
}

/// A cursor over a row's fields.
struct FieldReader<'a> {
    reader: Reader<'a>,
    left: u64,
}

impl<'a> FieldReader<'a> {
    /// The next field's name; its value is next.
    fn next_name(&mut self) -> Option<FieldName<'a>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        match self.reader.varint()? {
            0 => Some(FieldName::Inline(self.reader.text()?)),
            n => Some(FieldName::Id(n - 1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::value::test::any_value;

    fn arb_row() -> impl Strategy<Value = Row> {
        // Escape names among the names, nested too: their maps serialize wrapped in `$map`.
        let name = prop_oneof![4 => "[a-e]{1,3}", 1 => Just("$ts".to_owned())];
        let nested =
            proptest::collection::btree_map(name.clone(), any_value(), 0..3).prop_map(Value::Map);
        proptest::collection::btree_map(name, prop_oneof![3 => any_value(), 1 => nested], 0..8)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 32 } else { 1024 }))]

        /// A packed row reads back as the row it was packed from, field by field and whole,
        /// against a shared dictionary or a full one.
        #[test]
        fn packed_rows_read_back(
            rows in proptest::collection::vec(arb_row(), 1..4),
            keyed in any::<bool>(),
        ) {
            // Keyed by a name some rows have and some lack, or not keyed at all.
            let mut names = Arc::new(if keyed { Names::keyed("b") } else { Names::default() });
            for row in &rows {
                let packed = RowRef::pack(&mut names, row);
                prop_assert_eq!(&packed.to_row(), row);
                prop_assert_eq!(packed.len(), row.len());
                // In name order, the key merged in at its place.
                let order: Vec<&str> = packed.iter().map(|(name, _)| name).collect();
                let want: Vec<&str> = row.keys().map(String::as_str).collect();
                prop_assert_eq!(order, want);
                for (name, value) in row {
                    prop_assert_eq!(packed.get(name), Some(value.clone()));
                }
                prop_assert_eq!(packed.get("zz"), None);
                prop_assert!(packed == *row);
                prop_assert_eq!(
                    serde_json::to_value(&packed).ok(),
                    serde_json::to_value(row).ok()
                );
                // Typed reads from the packed bytes see what they see from the map.
                prop_assert_eq!(
                    from_row_ref::<Map>(&packed).ok(),
                    crate::from_map_ref::<Map>(row).ok()
                );
            }
        }
    }

    #[derive(serde::Deserialize, Debug, PartialEq)]
    enum Kind {
        Plain,
        Tagged(i64),
    }

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Inner {
        n: u8,
    }

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Typed {
        id: i64,
        name: String,
        score: f64,
        missing: Option<String>,
        null: Option<i64>,
        at: i64,
        blob: Vec<u8>,
        tags: Vec<String>,
        kind: Kind,
        other: Kind,
        inner: Inner,
    }

    #[test]
    fn typed_reads_from_packed_rows_match_reads_from_maps() {
        let row = Row::from([
            ("id".to_owned(), Value::Int(-7)),
            ("name".to_owned(), Value::from("Ada")),
            ("score".to_owned(), Value::Float(1.5)),
            ("null".to_owned(), Value::Null),
            (
                "at".to_owned(),
                Value::Timestamp(Timestamp::from_micros(42)),
            ),
            ("blob".to_owned(), Value::Bytes(vec![1, 2])),
            ("tags".to_owned(), Value::List(vec![Value::from("a")])),
            ("kind".to_owned(), Value::from("Plain")),
            (
                "other".to_owned(),
                Value::Map(Map::from([("Tagged".to_owned(), Value::Int(3))])),
            ),
            (
                "inner".to_owned(),
                Value::Map(Map::from([("n".to_owned(), Value::Int(9))])),
            ),
        ]);
        let packed = RowRef::from(&row);
        let typed: Typed = from_row_ref(&packed).expect("the row has Typed's shape");
        assert_eq!(
            Some(&typed),
            crate::from_map_ref::<Typed>(&row).ok().as_ref()
        );
        assert_eq!(typed.kind, Kind::Plain);
        assert_eq!(typed.other, Kind::Tagged(3));
        assert_eq!(typed.blob, vec![1, 2]);
        // A wrong shape is an error from both, never a panic.
        let wrong = RowRef::from(Row::from([("id".to_owned(), Value::from("x"))]));
        assert!(from_row_ref::<Typed>(&wrong).is_err());
    }

    #[test]
    fn names_past_the_dictionary_are_inline() {
        let mut names = Arc::new(Names::default());
        for i in 0..MAX_NAMES {
            Names::intern(&mut names, &format!("c{i}"));
        }
        let row = Row::from([
            ("c1".to_owned(), Value::Int(1)),
            ("new".to_owned(), Value::from("x")),
        ]);
        let packed = RowRef::pack(&mut names, &row);
        assert_eq!(names.len(), MAX_NAMES);
        assert_eq!(packed.to_row(), row);
        assert_eq!(packed.get("new"), Some(Value::from("x")));
    }

    #[test]
    fn a_reader_sharing_the_dictionary_keeps_its_copy() {
        let mut names = Arc::new(Names::default());
        let first = RowRef::pack(&mut names, &Row::from([("a".to_owned(), Value::Int(1))]));
        let reader_copy = Arc::clone(&names);
        let second = RowRef::pack(&mut names, &Row::from([("b".to_owned(), Value::Int(2))]));
        assert_eq!(reader_copy.len(), 1);
        assert_eq!(names.len(), 2);
        assert_eq!(first.get("a"), Some(Value::Int(1)));
        assert_eq!(second.get("b"), Some(Value::Int(2)));
    }
}
