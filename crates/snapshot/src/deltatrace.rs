//! Loading a database saved by DeltaTraceDB (the `delta-trace-db` Python package, and its Dart
//! twin): the JSON of `DeltaTraceDatabase.to_dict()` becomes a [`State`] with one table per
//! collection ([`read_deltatrace_document`]), and [`looks_like_deltatrace`] tells such a file from
//! DictDB's document (`{"tables": ...}`, see [`crate::read_json_document`]) by its first bytes.
//!
//! # The layout
//!
//! Checked against the Python package's source, versions 0.0.34.post1 (which wrote the test
//! fixture, `tests/fixtures/deltatrace/`, with database version `"12"` and collection version
//! `"15"`) and 0.1.6 (versions `"16"` and `"17"`, same layout).
//!
//! ```json
//! {
//!   "className": "DeltaTraceDatabase",
//!   "version": "12",
//!   "collections": {
//!     "users": {
//!       "className": "Collection",
//!       "version": "15",
//!       "data": [
//!         {"id": 0, "name": "Alice", "address": {"city": "Paris"}, "tags": ["admin"]},
//!         {"id": 1, "name": "Bob", "age": null}
//!       ],
//!       "serialNum": 2
//!     }
//!   }
//! }
//! ```
//!
//! - `className`: always `"DeltaTraceDatabase"`; it is what [`looks_like_deltatrace`] looks for.
//!   The reader accepts a document without it (the package's own `from_dict` does not need it)
//!   but refuses any other class name.
//! - `version`: the class's format version, a string that changes between releases. It is
//!   accepted (as a string or a number) and otherwise ignored: the layout has not changed.
//! - `collections`: collection name to collection, in the order they were created.
//! - A collection: `className` (`"Collection"`, refused if it is anything else), `version`
//!   (ignored like the database's), `data` (the items, in insertion order; missing means none)
//!   and `serialNum` (an integer, missing means 0): the next serial number of the collection.
//!   An `add` query with `serial_key = "k"` overwrites field `k` of each item it adds with the
//!   next serial number (starting at 0). The name of that field is not saved anywhere.
//! - Items are JSON objects of plain JSON values: the package refuses anything else (a
//!   `datetime` is whatever the item's class made of it, usually ISO 8601 text). Members of
//!   other names, at either level, are ignored.
//!
//! # The mapping
//!
//! - Each collection becomes a schemaless table (as a DictDB table whose `schema` is `null`) of
//!   the same name, each item a row, each field a column. Collection and top-level field names
//!   must follow tabula's name rules ([`Limits::check_name`]): a name DeltaTraceDB allows but
//!   tabula does not (with a space, a dot, non-ASCII letters) is an [`Error::Invalid`].
//! - Values are taken as plain JSON: an integer stays an `Int`, a number with a fraction or
//!   exponent a `Float` (`1.0` too), text stays `Text` (timestamps are not parsed), `null` is
//!   `Null`, arrays and objects become `List` and `Map`. tabula's `$`-escapes are not decoded:
//!   a DeltaTraceDB object `{"$ts": "..."}` is a map with a `$ts` member. An integer beyond the
//!   range of `i64` becomes the nearest `Float`. Python's `NaN` and `Infinity`, which
//!   `json.dumps` writes by default but JSON does not have, are refused as malformed JSON.
//! - The primary key is chosen per collection, from the items alone:
//!   1. a field present in every item, holding an integer in every item, no two the same, is a
//!      *candidate*;
//!   2. the candidate `id` (the name the package's documentation uses for its serial key) is
//!      the key;
//!   3. else, when `serialNum` is above 0, the one candidate whose values all lie in
//!      `0..serialNum` (as the serial key's must) is the key; none or several: no key found;
//!   4. else tabula adds a key: column [`DELTATRACE_SYNTHETIC_KEY`] (`_key`), or `_key_1`,
//!      `_key_2`, ... if some item already has a field of that name, numbering the items
//!      1, 2, 3, ... in the order they appear. An empty collection always gets `_key`.
//!
//!   Either way the table auto-increments its key: after a found key, from the larger of
//!   `serialNum` and the largest key + 1, as the package's next serial number would; after an
//!   added key, from the number of items + 1.
//! - The database's LSN is 0: DeltaTraceDB keeps no log position in the saved data.
//!
//! Collections are read one at a time, each one's items kept until its key is chosen. Limits
//! apply as for DictDB's document: names, nesting depth and row size are checked as each row is
//! inserted, and serde_json stops nesting at 128 levels whatever the limits say.
//!
//! # Errors
//!
//! A document that is not JSON or not this layout (an item that is not an object, `data` that
//! is not an array, a truncated file) is an [`Error::Document`] whose reason names the collection
//! and the item's index (from 0) where the problem was met, with serde_json's line and column. A
//! row tabula refuses (a bad name, a limit exceeded) is an [`Error::Invalid`] naming the
//! collection, with core's typed error; a failing read of the input is an [`Error::Io`].

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::io::Read;

use serde::de::{
    DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use tabula_core::{Limits, Lsn, Map, Row, State, TableDef, TableState, Value};

use crate::{Error, Result};

/// The name of the primary key column tabula adds to a collection where no field can be the key
/// (a different name if the collection's items already use this one; see the module docs).
pub const DELTATRACE_SYNTHETIC_KEY: &str = "_key";

/// The `className` of a saved DeltaTraceDB database.
const DATABASE_CLASS: &str = "DeltaTraceDatabase";
/// The `className` of a saved collection.
const COLLECTION_CLASS: &str = "Collection";
/// The key the package's documentation gives its serial key.
const CONVENTIONAL_KEY: &str = "id";

/// Tells whether `prefix`, the first bytes of a JSON file (a few KiB is plenty), is a saved
/// DeltaTraceDB database: a JSON object whose member `className` is `"DeltaTraceDatabase"`. The
/// package writes that member first; members before it are skipped if the prefix holds them
/// whole, and a DictDB document's `tables` member ends the search. Any bytes are safe to pass.
#[must_use]
pub fn looks_like_deltatrace(prefix: &[u8]) -> bool {
    let found = Cell::new(false);
    let mut de = serde_json::Deserializer::from_slice(prefix);
    // The sniffer stops with an error as soon as it knows, and any malformed or cut-off JSON is
    // an error too: only `found` matters.
    let _ = Sniff { found: &found }.deserialize(&mut de);
    found.get()
}

struct Sniff<'a> {
    found: &'a Cell<bool>,
}

impl<'de> DeserializeSeed<'de> for Sniff<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Sniff<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "className" => {
                    let class = map.next_value::<String>()?;
                    self.found.set(class == DATABASE_CLASS);
                    return Err(A::Error::custom("decided"));
                }
                "tables" => return Err(A::Error::custom("decided")),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// Reads a saved DeltaTraceDB database (the JSON of `DeltaTraceDatabase.to_dict()`) and builds
/// it as a database of schemaless tables, one per collection; the module docs give the mapping
/// and how each table's primary key is chosen.
///
/// # Errors
/// [`Error::Document`] for JSON that is malformed or not DeltaTraceDB's layout, naming the
/// collection and item; [`Error::Invalid`] for a collection or row tabula refuses (a name
/// against its rules, a limit exceeded); [`Error::Io`] if reading `input` fails.
pub fn read_deltatrace_document<R: Read>(input: R, limits: &Limits) -> Result<State> {
    let mut de =
        serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(1 << 16, input));
    let cx = Context {
        limits,
        failure: RefCell::new(None),
        at: RefCell::new(Location::default()),
    };
    let result = DocumentSeed { cx: &cx }
        .deserialize(&mut de)
        .and_then(|db| de.end().map(|()| db));
    if let Some(error) = cx.failure.into_inner() {
        return Err(error);
    }
    result.map_err(|error| {
        if error.is_io() {
            return Error::io("read", error.into());
        }
        let at = cx.at.into_inner();
        let reason = match (at.collection, at.item) {
            (Some(collection), Some(item)) => {
                format!("DeltaTraceDB collection {collection:?}, item {item}: {error}")
            }
            (Some(collection), None) => format!("DeltaTraceDB collection {collection:?}: {error}"),
            (None, _) => format!("DeltaTraceDB document: {error}"),
        };
        Error::Document { path: None, reason }
    })
}

/// What every visitor shares: the limits, a typed error met inside a visitor (kept whole, since
/// serde's errors are text), and where the reader is, for the errors serde_json reports.
struct Context<'a> {
    limits: &'a Limits,
    failure: RefCell<Option<Error>>,
    at: RefCell<Location>,
}

#[derive(Debug, Default)]
struct Location {
    collection: Option<String>,
    item: Option<usize>,
}

impl Context<'_> {
    fn fail<E: serde::de::Error>(&self, error: Error) -> E {
        let message = error.to_string();
        *self.failure.borrow_mut() = Some(error);
        E::custom(message)
    }

    fn enter(&self, collection: Option<&str>, item: Option<usize>) {
        let mut at = self.at.borrow_mut();
        at.collection = collection.map(str::to_owned);
        at.item = item;
    }
}

struct DocumentSeed<'a> {
    cx: &'a Context<'a>,
}

impl<'de> DeserializeSeed<'de> for DocumentSeed<'_> {
    type Value = State;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<State, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DocumentSeed<'_> {
    type Value = State;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a DeltaTraceDB database: an object with \"collections\"")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<State, A::Error> {
        let mut tables = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "className" => check_class(&map.next_value::<String>()?, DATABASE_CLASS)?,
                "version" => {
                    map.next_value::<Version>()?;
                }
                "collections" => {
                    if tables.is_some() {
                        return Err(A::Error::duplicate_field("collections"));
                    }
                    tables = Some(map.next_value_seed(CollectionsSeed { cx: self.cx })?);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let tables = tables.ok_or_else(|| A::Error::missing_field("collections"))?;
        State::from_tables(Lsn::ZERO, tables, *self.cx.limits).map_err(|source| {
            self.cx.fail(Error::Invalid {
                path: None,
                table: String::new(),
                error: Box::new(source),
            })
        })
    }
}

fn check_class<E: serde::de::Error>(found: &str, expected: &str) -> Result<(), E> {
    if found == expected {
        Ok(())
    } else {
        Err(E::custom(format!(
            "\"className\" is {found:?}, not {expected:?}"
        )))
    }
}

/// A `version` marker: text (as the package writes it) or a number.
struct Version;

impl<'de> serde::Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Version, D::Error> {
        deserializer.deserialize_any(Version)
    }
}

impl Visitor<'_> for Version {
    type Value = Version;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a \"version\": text or a number")
    }

    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Version, E> {
        Ok(Version)
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Version, E> {
        Ok(Version)
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Version, E> {
        Ok(Version)
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Version, E> {
        Ok(Version)
    }
}

struct CollectionsSeed<'a> {
    cx: &'a Context<'a>,
}

impl<'de> DeserializeSeed<'de> for CollectionsSeed<'_> {
    type Value = Vec<TableState>;

    fn deserialize<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Vec<TableState>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for CollectionsSeed<'_> {
    type Value = Vec<TableState>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of collections by name")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<TableState>, A::Error> {
        let mut tables = Vec::new();
        let mut names = HashSet::new();
        while let Some(name) = map.next_key::<String>()? {
            self.cx.enter(Some(&name), None);
            if !names.insert(name.clone()) {
                return Err(A::Error::custom("the collection appears twice"));
            }
            tables.push(map.next_value_seed(CollectionSeed { name, cx: self.cx })?);
            self.cx.enter(None, None);
        }
        Ok(tables)
    }
}

struct CollectionSeed<'a> {
    name: String,
    cx: &'a Context<'a>,
}

impl<'de> DeserializeSeed<'de> for CollectionSeed<'_> {
    type Value = TableState;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<TableState, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for CollectionSeed<'_> {
    type Value = TableState;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a collection: an object with \"data\" and \"serialNum\"")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TableState, A::Error> {
        let mut items = None;
        let mut serial_num = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "className" => check_class(&map.next_value::<String>()?, COLLECTION_CLASS)?,
                "version" => {
                    map.next_value::<Version>()?;
                }
                "data" => {
                    if items.is_some() {
                        return Err(A::Error::duplicate_field("data"));
                    }
                    items = Some(map.next_value_seed(ItemsSeed {
                        name: &self.name,
                        cx: self.cx,
                    })?);
                    self.cx.enter(Some(&self.name), None);
                }
                "serialNum" => {
                    if serial_num.is_some() {
                        return Err(A::Error::duplicate_field("serialNum"));
                    }
                    serial_num = Some(map.next_value::<i64>()?);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let items = items.unwrap_or_default();
        let (def, next_auto) = definition(&self.name, &items, serial_num.unwrap_or(0));
        TableState::rebuild(def, items, Some(next_auto), self.cx.limits).map_err(|source| {
            self.cx.fail(Error::Invalid {
                path: None,
                table: self.name.clone(),
                error: Box::new(source),
            })
        })
    }
}

/// A collection's table definition and first auto-increment key, by the rule in the module docs.
fn definition(name: &str, items: &[Row], serial_num: i64) -> (TableDef, i64) {
    let candidates = key_candidates(items);
    let found = if candidates
        .iter()
        .any(|(field, _)| field == CONVENTIONAL_KEY)
    {
        Some(CONVENTIONAL_KEY.to_owned())
    } else if serial_num > 0 {
        let mut serial = candidates.iter().filter(|(_, keys)| {
            keys.first().is_some_and(|&low| low >= 0)
                && keys.last().is_some_and(|&high| high < serial_num)
        });
        match (serial.next(), serial.next()) {
            (Some((field, _)), None) => Some(field.clone()),
            _ => None,
        }
    } else {
        None
    };
    match found {
        Some(key) => {
            // Rebuilding moves the counter past the largest key stored.
            let def = TableDef::new(name, key).auto_increment();
            (def, serial_num.max(1))
        }
        None => {
            let key = synthetic_key(items);
            (TableDef::new(name, key).auto_increment(), 1)
        }
    }
}

/// The fields that could be the key: in every item, an integer, no two the same; each with its
/// keys (sorted). Empty when there are no items.
fn key_candidates(items: &[Row]) -> Vec<(String, BTreeSet<i64>)> {
    let Some(first) = items.first() else {
        return Vec::new();
    };
    first
        .keys()
        .filter_map(|field| {
            let mut keys = BTreeSet::new();
            for item in items {
                match item.get(field) {
                    Some(Value::Int(key)) if keys.insert(*key) => {}
                    _ => return None,
                }
            }
            Some((field.clone(), keys))
        })
        .collect()
}

/// `_key`, or the first of `_key_1`, `_key_2`, ... that no item uses.
fn synthetic_key(items: &[Row]) -> String {
    let used = |name: &str| items.iter().any(|item| item.contains_key(name));
    if !used(DELTATRACE_SYNTHETIC_KEY) {
        return DELTATRACE_SYNTHETIC_KEY.to_owned();
    }
    (1u64..)
        .map(|n| format!("{DELTATRACE_SYNTHETIC_KEY}_{n}"))
        .find(|name| !used(name))
        .unwrap_or_default()
}

struct ItemsSeed<'a> {
    name: &'a str,
    cx: &'a Context<'a>,
}

impl<'de> DeserializeSeed<'de> for ItemsSeed<'_> {
    type Value = Vec<Row>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<Row>, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ItemsSeed<'_> {
    type Value = Vec<Row>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"data\": an array of items")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Row>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        loop {
            self.cx.enter(Some(self.name), Some(items.len()));
            match seq.next_element_seed(ItemSeed)? {
                Some(item) => items.push(item),
                None => return Ok(items),
            }
        }
    }
}

/// One item: a JSON object of plain values.
struct ItemSeed;

impl<'de> DeserializeSeed<'de> for ItemSeed {
    type Value = Row;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Row, D::Error> {
        deserializer.deserialize_map(PlainMap)
    }
}

struct PlainMap;

impl<'de> Visitor<'de> for PlainMap {
    type Value = Map;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an item: a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Map, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(serde::de::Error::custom(format_args!(
                    "member {key:?} appears twice in one object (tabula keeps every value or none)"
                )));
            }
            let value = map.next_value_seed(Plain)?;
            out.insert(key, value);
        }
        Ok(out)
    }
}

/// A JSON value taken as it is, without tabula's `$`-escapes.
struct Plain;

impl<'de> DeserializeSeed<'de> for Plain {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Plain {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Value, E> {
        i64::try_from(v).map(Value::Int).map_err(|_| {
            E::custom(format_args!(
                "integer {v} is outside the 64-bit signed range, so it cannot be stored exactly"
            ))
        })
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Text(v.to_owned()))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::Text(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(value) = seq.next_element_seed(Plain)? {
            out.push(value);
        }
        Ok(Value::List(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
        PlainMap.visit_map(map).map(Value::Map)
    }
}
