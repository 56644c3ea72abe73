//! The whole database as one JSON document in DictDB's layout, extended with tabula's own fields:
//! [`write_json_document`] streams it out a row at a time, and [`read_json_document`] builds the
//! database back a row at a time (no second copy of the file in memory). A file written by DictDB
//! (`db.save(path, "json")`) loads as it is, and DictDB loads what tabula writes when every column
//! type has a DictDB name.
//!
//! ```json
//! {
//!   "tabula": {"version": 1, "lsn": 42, "created_at": "2026-11-24T10:00:00Z"},
//!   "tables": {
//!     "users": {
//!       "primary_key": "id",
//!       "schema": {"id": "int", "name": "str"},
//!       "tabula": {"auto_increment": false, "next_auto_increment": 3,
//!                  "columns": [{"name": "id", "type": "int", ...}], "indexes": [...],
//!                  "key_parts": ["order", "line"] /* only for a key of several columns */},
//!       "records": [
//!         {"id": 1, "name": "Alice"},
//!         {"id": 2, "name": "Bob"}
//!       ]
//!     }
//!   }
//! }
//! ```
//!
//! - `schema` is DictDB's: `null` for a schemaless table, else column name to type name. Types
//!   DictDB has are written with its names (`int`, `str`, `float`, `bool`, `list`, `dict`); the
//!   others with tabula's (`bytes`, `timestamp`, `any`), which DictDB cannot load.
//! - `tabula` (per table, before `records`) carries what DictDB has no place for: the full column
//!   definitions (nullability, uniqueness, defaults), indexes, the auto-increment counter and
//!   the parts of a key of several columns (`key_parts`, written only for such a key; a
//!   reader that predates it loads the key column as written, a plain list key).
//!   Without it (a DictDB file) columns are nullable and not unique, the table has no indexes and
//!   no auto-increment, and a primary key missing from the schema is added as an `any` column.
//! - Values are natural JSON; what JSON cannot carry uses the escapes documented on
//!   [`tabula_core::Value`] (`{"$bytes": ...}`, `{"$ts": ...}`, ...).
//! - A table's `primary_key` and `schema` must come before its `records` (DictDB writes them
//!   so): rows are built as they are read.

use std::cell::RefCell;
use std::fmt;
use std::io::{Read, Write};

use serde::de::{DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use tabula_core::{
    Column, ColumnType, IndexDef, Limits, Lsn, Schema, State, TableDef, TableState, Timestamp,
};

use crate::export::{Definition, RowsSeed};
use crate::writer::now;
use crate::{Error, Result};

/// The document format version tabula writes in its `tabula` member.
pub const DOCUMENT_VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize, Default)]
struct Meta {
    #[serde(default)]
    version: u32,
    #[serde(default)]
    lsn: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created_at: Option<Timestamp>,
}

#[derive(Debug, Serialize, Deserialize, Default)]
struct TableExtra {
    #[serde(default)]
    auto_increment: bool,
    #[serde(default)]
    next_auto_increment: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    columns: Option<Vec<Column>>,
    #[serde(default)]
    indexes: Vec<IndexDef>,
    /// A key of several columns (`TableDef::key_parts`); absent when the key is one column.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    key_parts: Vec<String>,
}

/// DictDB's name for a column type, where it has one.
pub(crate) fn dictdb_type(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::Int => "int",
        ColumnType::Text => "str",
        ColumnType::Float => "float",
        ColumnType::Bool => "bool",
        ColumnType::List => "list",
        ColumnType::Map => "dict",
        other => other.name(),
    }
}

fn json_error(error: serde_json::Error) -> Error {
    Error::Document {
        path: None,
        reason: error.to_string(),
    }
}

/// Writes `db` as a JSON document to `out`, a row at a time; returns `out`.
pub fn write_json_document<W: Write>(db: &State, out: W) -> Result<W> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    let io = |e| Error::io("write", e);
    let meta = Meta {
        version: DOCUMENT_VERSION,
        lsn: db.lsn().0,
        created_at: Some(now()),
    };
    write!(out, "{{\n  \"tabula\": ").map_err(io)?;
    serde_json::to_writer(&mut out, &meta).map_err(json_error)?;
    write!(out, ",\n  \"tables\": {{").map_err(io)?;
    for (i, table) in db.tables().enumerate() {
        let def = table.def();
        out.write_all(if i == 0 { b"\n    " } else { b",\n    " })
            .map_err(io)?;
        serde_json::to_writer(&mut out, &def.name).map_err(json_error)?;
        write!(out, ": {{\n      \"primary_key\": ").map_err(io)?;
        serde_json::to_writer(&mut out, &def.primary_key).map_err(json_error)?;
        write!(out, ",\n      \"schema\": ").map_err(io)?;
        match &def.schema {
            None => out.write_all(b"null").map_err(io)?,
            Some(schema) => {
                let names: serde_json::Map<String, serde_json::Value> = schema
                    .columns
                    .iter()
                    .map(|c| (c.name.clone(), dictdb_type(c.ty).into()))
                    .collect();
                serde_json::to_writer(&mut out, &names).map_err(json_error)?;
            }
        }
        let extra = TableExtra {
            auto_increment: def.auto_increment,
            next_auto_increment: table.next_auto_increment(),
            columns: def.schema.as_ref().map(|s| s.columns.clone()),
            indexes: def.indexes.clone(),
            key_parts: def.key_parts.clone(),
        };
        write!(out, ",\n      \"tabula\": ").map_err(io)?;
        serde_json::to_writer(&mut out, &extra).map_err(json_error)?;
        write!(out, ",\n      \"records\": [").map_err(io)?;
        for (j, (_, row)) in table.iter().enumerate() {
            out.write_all(if j == 0 {
                b"\n        "
            } else {
                b",\n        "
            })
            .map_err(io)?;
            serde_json::to_writer(&mut out, row).map_err(json_error)?;
        }
        write!(out, "\n      ]\n    }}").map_err(io)?;
    }
    write!(out, "\n  }}\n}}\n").map_err(io)?;
    out.into_inner()
        .map_err(|e| Error::io("flush", e.into_error()))
}

/// Reads a JSON document (tabula's or DictDB's) and builds its database, a row at a time.
pub fn read_json_document<R: Read>(input: R, limits: &Limits) -> Result<State> {
    let mut de =
        serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(1 << 16, input));
    let invalid = RefCell::new(None);
    let seed = DocumentSeed {
        limits,
        invalid: &invalid,
    };
    let result = seed
        .deserialize(&mut de)
        .and_then(|db| de.end().map(|()| db));
    if let Some(error) = invalid.into_inner() {
        return Err(error);
    }
    result.map_err(json_error)
}

/// Where a typed error met inside serde's visitors is kept, so it reaches the caller whole.
type Stash<'a> = &'a RefCell<Option<Error>>;

fn stash<E: serde::de::Error>(invalid: Stash<'_>, error: Error) -> E {
    let message = error.to_string();
    *invalid.borrow_mut() = Some(error);
    E::custom(message)
}

struct DocumentSeed<'a> {
    limits: &'a Limits,
    invalid: Stash<'a>,
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
        f.write_str("a database document: an object with \"tables\"")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<State, A::Error> {
        let mut meta = Meta::default();
        let mut tables = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "tabula" => meta = map.next_value()?,
                "tables" => {
                    tables = Some(map.next_value_seed(TablesSeed {
                        limits: self.limits,
                        invalid: self.invalid,
                    })?);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if meta.version > DOCUMENT_VERSION {
            return Err(A::Error::custom(format!(
                "document version {}; this build reads up to {DOCUMENT_VERSION}",
                meta.version
            )));
        }
        let tables = tables.ok_or_else(|| A::Error::missing_field("tables"))?;
        State::from_tables(Lsn(meta.lsn), tables, *self.limits).map_err(|source| {
            stash(
                self.invalid,
                Error::Invalid {
                    path: None,
                    table: String::new(),
                    error: Box::new(source),
                },
            )
        })
    }
}

struct TablesSeed<'a> {
    limits: &'a Limits,
    invalid: Stash<'a>,
}

impl<'de> DeserializeSeed<'de> for TablesSeed<'_> {
    type Value = Vec<TableState>;

    fn deserialize<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Vec<TableState>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TablesSeed<'_> {
    type Value = Vec<TableState>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of tables by name")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<TableState>, A::Error> {
        let mut tables = Vec::new();
        while let Some(name) = map.next_key::<String>()? {
            tables.push(map.next_value_seed(TableSeed {
                name,
                limits: self.limits,
                invalid: self.invalid,
            })?);
        }
        Ok(tables)
    }
}

struct TableSeed<'a> {
    name: String,
    limits: &'a Limits,
    invalid: Stash<'a>,
}

impl<'de> DeserializeSeed<'de> for TableSeed<'_> {
    type Value = TableState;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<TableState, D::Error> {
        deserializer.deserialize_map(self)
    }
}

/// A schema as DictDB writes it: column name to type name, in order.
struct OrderedSchema(Vec<(String, String)>);

impl<'de> Deserialize<'de> for OrderedSchema {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<OrderedSchema, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OrderedSchema;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of column names to type names")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedSchema, A::Error> {
                let mut columns = Vec::new();
                while let Some(entry) = map.next_entry::<String, String>()? {
                    columns.push(entry);
                }
                Ok(OrderedSchema(columns))
            }
        }
        deserializer.deserialize_map(V)
    }
}

impl TableSeed<'_> {
    fn definition(
        &self,
        primary_key: String,
        schema: Option<OrderedSchema>,
        extra: &mut TableExtra,
    ) -> std::result::Result<TableDef, String> {
        let columns = match (extra.columns.take(), schema) {
            (Some(columns), _) => Some(columns),
            (None, Some(OrderedSchema(names))) => {
                let mut columns = Vec::with_capacity(names.len() + 1);
                for (name, ty) in names {
                    let ty: ColumnType = ty.parse().map_err(|e| format!("column {name:?}: {e}"))?;
                    columns.push(Column::new(name, ty));
                }
                if !columns.iter().any(|c| c.name == primary_key) {
                    columns.insert(0, Column::new(primary_key.clone(), ColumnType::Any));
                }
                Some(columns)
            }
            (None, None) => None,
        };
        Ok(TableDef {
            name: self.name.clone(),
            primary_key,
            auto_increment: extra.auto_increment,
            schema: columns.map(|columns| Schema { columns }),
            indexes: std::mem::take(&mut extra.indexes),
            key_parts: std::mem::take(&mut extra.key_parts),
        })
    }
}

impl<'de> Visitor<'de> for TableSeed<'_> {
    type Value = TableState;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a table: an object with \"primary_key\", \"schema\" and \"records\"")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TableState, A::Error> {
        let mut primary_key = None;
        let mut schema = None;
        let mut extra = TableExtra::default();
        let mut table = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "primary_key" => primary_key = Some(map.next_value::<String>()?),
                "schema" => schema = map.next_value::<Option<OrderedSchema>>()?,
                "tabula" => extra = map.next_value()?,
                "records" => {
                    let primary_key = primary_key.clone().ok_or_else(|| {
                        A::Error::custom(format!(
                            "table {:?}: \"primary_key\" must come before \"records\"",
                            self.name
                        ))
                    })?;
                    let def = self
                        .definition(primary_key, schema.take(), &mut extra)
                        .map_err(|e| A::Error::custom(format!("table {:?}: {e}", self.name)))?;
                    let built = map.next_value_seed(RowsSeed {
                        definition: Definition {
                            def,
                            next_auto_increment: extra.next_auto_increment.or(Some(1)),
                        },
                        limits: self.limits,
                    })?;
                    table = Some(built.map_err(|error| stash(self.invalid, error))?);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        match table {
            Some(table) => Ok(table),
            None => Err(A::Error::custom(format!(
                "table {:?} has no \"records\"",
                self.name
            ))),
        }
    }
}
