//! Exports and imports beside the snapshot format, for people and other tools:
//!
//! - one table as a JSON document, the "Database Persistence" seed's export format
//!   `{"table", "records", "count", "exported_at"}` plus tabula's `definition`
//!   ([`export_table_json`], [`import_table_json`]);
//! - one table as JSON Lines, a row per line ([`export_table_jsonl`], [`import_table_jsonl`]);
//! - a whole database as the seed's per-table directory: `schema/<table>.schema.json` and
//!   `data/<table>.records` (JSON Lines: greppable, `wc -l`-able), plus `manifest.json`
//!   ([`export_directory`], [`import_directory`]).
//!
//! `manifest.json`, version 2: `{"version": 2, "lsn": <u64>, "tables": [<name>...],
//! "rows": {<name>: <u64>...}}`; version 1 had no `rows` and still loads. It is written last, so
//! an import refuses a directory whose tables carry tabula's definitions but that has no
//! manifest (an export killed or out of space), and one whose tables are missing or short of
//! the rows it lists. The seed's own directories (no tabula definitions) never had one.
//!
//! Values are natural JSON with tabula's escapes (see [`tabula_core::Value`]). Imports build
//! tables row by row from a reader. Every export file is written whole or not at all
//! ([`tabula_storage::OutputFile`]), the manifest last.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;

use serde::de::{
    DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde::{Deserialize, Serialize};
use tabula_core::{Column, Limits, Lsn, Schema, State, StrictRow, TableDef, TableState};
use tabula_storage::OutputFile;

use crate::writer::now;
use crate::{Error, Result};

fn json_error(error: serde_json::Error) -> Error {
    Error::Document {
        path: None,
        reason: error.to_string(),
    }
}

fn invalid(table: &str, source: tabula_core::Error) -> Error {
    Error::Invalid {
        path: None,
        table: table.to_owned(),
        error: Box::new(source),
    }
}

/// A table's definition with its auto-increment counter, as exports carry it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Definition {
    #[serde(flatten)]
    pub(crate) def: TableDef,
    #[serde(default)]
    pub(crate) next_auto_increment: Option<i64>,
}

impl Definition {
    fn of(table: &TableState) -> Definition {
        Definition {
            def: table.def().clone(),
            next_auto_increment: table.next_auto_increment(),
        }
    }
}

/// Writes one table as a JSON document; returns `out`.
pub fn export_table_json<W: Write>(table: &TableState, out: W) -> Result<W> {
    let mut out = BufWriter::with_capacity(1 << 16, out);
    let io = |e| Error::io("write", e);
    write!(out, "{{\n  \"table\": ").map_err(io)?;
    serde_json::to_writer(&mut out, table.name()).map_err(json_error)?;
    write!(out, ",\n  \"definition\": ").map_err(io)?;
    serde_json::to_writer(&mut out, &Definition::of(table)).map_err(json_error)?;
    write!(out, ",\n  \"records\": [").map_err(io)?;
    for (i, (_, row)) in table.iter().enumerate() {
        out.write_all(if i == 0 { b"\n    " } else { b",\n    " })
            .map_err(io)?;
        serde_json::to_writer(&mut out, row).map_err(json_error)?;
    }
    write!(
        out,
        "\n  ],\n  \"count\": {},\n  \"exported_at\": ",
        table.len()
    )
    .map_err(io)?;
    serde_json::to_writer(&mut out, &now()).map_err(json_error)?;
    write!(out, "\n}}\n").map_err(io)?;
    out.into_inner()
        .map_err(|e| Error::io("flush", e.into_error()))
}

/// Reads a table exported as a JSON document. Without a `definition` (a file from another tool)
/// the table is schemaless, named by `table`, keyed by `primary_key`. A `count` that disagrees
/// with the records is an error.
pub fn import_table_json<R: Read>(
    input: R,
    primary_key: &str,
    limits: &Limits,
) -> Result<TableState> {
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 16, input));
    let mut failure = None;
    let seed = TableDocSeed {
        primary_key,
        limits,
        failure: &mut failure,
    };
    let result = seed.deserialize(&mut de).and_then(|t| de.end().map(|()| t));
    if let Some(error) = failure {
        return Err(error);
    }
    result.map_err(json_error)
}

struct TableDocSeed<'a> {
    primary_key: &'a str,
    limits: &'a Limits,
    failure: &'a mut Option<Error>,
}

impl<'de> DeserializeSeed<'de> for TableDocSeed<'_> {
    type Value = TableState;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<TableState, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TableDocSeed<'_> {
    type Value = TableState;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a table export: an object with \"table\" and \"records\"")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TableState, A::Error> {
        let mut name: Option<String> = None;
        let mut definition: Option<Definition> = None;
        let mut table = None;
        let mut count: Option<u64> = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "table" => name = Some(map.next_value()?),
                "definition" => definition = Some(map.next_value()?),
                "count" => count = Some(map.next_value()?),
                "records" => {
                    let definition = match definition.take() {
                        Some(definition) => definition,
                        None => Definition {
                            def: TableDef::new(
                                name.clone().ok_or_else(|| {
                                    A::Error::custom("\"table\" must come before \"records\"")
                                })?,
                                self.primary_key,
                            ),
                            next_auto_increment: Some(1),
                        },
                    };
                    let built = map.next_value_seed(RowsSeed {
                        definition,
                        limits: self.limits,
                    })?;
                    match built {
                        Ok(built) => table = Some(built),
                        Err(error) => {
                            let message = error.to_string();
                            *self.failure = Some(error);
                            return Err(A::Error::custom(message));
                        }
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let table = table.ok_or_else(|| A::Error::missing_field("records"))?;
        if let Some(count) = count
            && count != table.len() as u64
        {
            return Err(A::Error::custom(format!(
                "\"count\" says {count} records; the export holds {}",
                table.len()
            )));
        }
        Ok(table)
    }
}

/// Builds a table from a JSON array of rows as it is read; a row the table refuses is the inner
/// error (typed), a row that is not JSON the outer one.
pub(crate) struct RowsSeed<'a> {
    pub(crate) definition: Definition,
    pub(crate) limits: &'a Limits,
}

impl<'de> DeserializeSeed<'de> for RowsSeed<'_> {
    type Value = Result<TableState>;
    fn deserialize<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Result<TableState>, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RowsSeed<'_> {
    type Value = Result<TableState>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Result<TableState>, A::Error> {
        let name = self.definition.def.name.clone();
        let mut failed = None;
        let built = {
            let rows = std::iter::from_fn(|| match seq.next_element::<StrictRow>() {
                Ok(row) => row.map(|row| row.0),
                Err(error) => {
                    failed = Some(error);
                    None
                }
            });
            TableState::rebuild(
                self.definition.def,
                rows,
                self.definition.next_auto_increment,
                self.limits,
            )
        };
        if let Some(error) = failed {
            return Err(error);
        }
        Ok(built.map_err(|source| invalid(&name, source)))
    }
}

/// Writes a table's rows as JSON Lines, one row per line; returns `out`.
pub fn export_table_jsonl<W: Write>(table: &TableState, out: W) -> Result<W> {
    let mut out = BufWriter::with_capacity(1 << 16, out);
    for (_, row) in table.iter() {
        serde_json::to_writer(&mut out, row).map_err(json_error)?;
        out.write_all(b"\n").map_err(|e| Error::io("write", e))?;
    }
    out.into_inner()
        .map_err(|e| Error::io("flush", e.into_error()))
}

/// Builds a table defined by `def` (with auto-increment counter `next_auto`, usually `Some(1)`)
/// from JSON Lines, a row per line; blank lines are skipped. Errors name the line.
pub fn import_table_jsonl<R: Read>(
    input: R,
    def: TableDef,
    next_auto: Option<i64>,
    limits: &Limits,
) -> Result<TableState> {
    let name = def.name.clone();
    let mut reader = BufReader::with_capacity(1 << 16, input);
    let mut failure = None;
    let mut line_number = 0u64;
    let mut line = String::new();
    let built = {
        let rows = std::iter::from_fn(|| {
            loop {
                line.clear();
                line_number += 1;
                match reader.read_line(&mut line) {
                    Ok(0) => return None,
                    Ok(_) if line.trim().is_empty() => {}
                    Ok(_) => match serde_json::from_str::<StrictRow>(&line) {
                        Ok(row) => return Some(row.0),
                        Err(error) => {
                            failure = Some(Error::Document {
                                path: None,
                                reason: format!("line {line_number}: {error}"),
                            });
                            return None;
                        }
                    },
                    Err(error) => {
                        failure = Some(Error::io("read", error));
                        return None;
                    }
                }
            }
        });
        TableState::rebuild(def, rows, next_auto, limits)
    };
    if let Some(error) = failure {
        return Err(error);
    }
    built.map_err(|source| invalid(&name, source))
}

/// The seed's schema file, `schema/<table>.schema.json`, with tabula's fields.
#[derive(Debug, Serialize, Deserialize)]
struct SchemaFile {
    table_name: String,
    /// The seed's per-column description; `null` for a schemaless table.
    schema: Option<serde_json::Map<String, serde_json::Value>>,
    /// Informational only: the seed writes a local time without a zone, which is kept as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created_at: Option<serde_json::Value>,
    /// Everything needed to rebuild the table exactly.
    #[serde(default)]
    tabula: Option<Definition>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    version: u32,
    lsn: u64,
    #[serde(default)]
    tables: Vec<String>,
    /// Rows per table (version 2 on; absent from version 1 manifests).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    rows: std::collections::BTreeMap<String, u64>,
}

fn fs_error(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_path_buf();
    move |source| Error::Io {
        op,
        path,
        error: source,
    }
}

/// Writes `db` as the per-table directory layout under `dir` (created if missing).
pub fn export_directory(db: &State, dir: impl AsRef<Path>) -> Result<()> {
    let dir = dir.as_ref();
    let (schema_dir, data_dir) = (dir.join("schema"), dir.join("data"));
    for sub in [&schema_dir, &data_dir] {
        std::fs::create_dir_all(sub).map_err(fs_error("create directory", sub))?;
    }
    let created_at = now();
    for table in db.tables() {
        let def = table.def();
        let schema = def.schema.as_ref().map(|schema| seed_schema(def, schema));
        let file = SchemaFile {
            table_name: def.name.clone(),
            schema,
            created_at: Some(serde_json::Value::String(created_at.to_string())),
            tabula: Some(Definition::of(table)),
        };
        let path = schema_dir.join(format!("{}.schema.json", def.name));
        write_json_file(&path, &file)?;
        let path = data_dir.join(format!("{}.records", def.name));
        let out = OutputFile::create(&path).map_err(fs_error("create", &path))?;
        export_table_jsonl(table, out)
            .map_err(|e| e.in_file(&path))?
            .commit()
            .map_err(fs_error("sync and rename", &path))?;
    }
    // The manifest goes last: a directory without one is an unfinished export.
    let manifest = Manifest {
        version: 2,
        lsn: db.lsn().0,
        tables: db.tables().map(|t| t.name().to_owned()).collect(),
        rows: db
            .tables()
            .map(|t| (t.name().to_owned(), t.len() as u64))
            .collect(),
    };
    write_json_file(&dir.join("manifest.json"), &manifest)?;
    // The export directory's own name, made durable in its parent.
    tabula_storage::sync_parent(dir).map_err(fs_error("fsync", dir))
}

/// Writes `value` as pretty JSON to `path`, whole or not at all, synced.
fn write_json_file(path: &Path, value: &impl Serialize) -> Result<()> {
    let out = OutputFile::create(path).map_err(fs_error("create", path))?;
    let mut out = BufWriter::new(out);
    serde_json::to_writer_pretty(&mut out, value).map_err(|e| json_error(e).in_file(path))?;
    out.into_inner()
        .map_err(|e| fs_error("write", path)(e.into_error()))?
        .commit()
        .map_err(fs_error("sync and rename", path))
}

fn seed_schema(def: &TableDef, schema: &Schema) -> serde_json::Map<String, serde_json::Value> {
    schema
        .columns
        .iter()
        .map(|column: &Column| {
            let description = serde_json::json!({
                "type": crate::document::dictdb_type(column.ty),
                "primary_key": column.name == def.primary_key,
                "nullable": column.nullable,
                "unique": column.unique,
            });
            (column.name.clone(), description)
        })
        .collect()
}

/// Reads the per-table directory layout under `dir` (every `schema/*.schema.json` with its
/// `data/<table>.records`) into a database. Files written by the seed's Python database (no
/// `tabula` fields) load too: their columns' types, nullability and uniqueness are kept.
pub fn import_directory(dir: impl AsRef<Path>, limits: &Limits) -> Result<State> {
    let dir = dir.as_ref();
    let schema_dir = dir.join("schema");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&schema_dir).map_err(fs_error("list", &schema_dir))? {
        let entry = entry.map_err(fs_error("list", &schema_dir))?;
        if let Some(name) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.strip_suffix(".schema.json"))
        {
            names.push(name.to_owned());
        }
    }
    names.sort();
    let mut tables = Vec::with_capacity(names.len());
    let mut wrote_by_tabula = false;
    for name in names {
        let path = schema_dir.join(format!("{name}.schema.json"));
        let file = File::open(&path).map_err(fs_error("open", &path))?;
        let schema: SchemaFile = serde_json::from_reader(BufReader::new(file))
            .map_err(|e| json_error(e).in_file(&path))?;
        let definition = match schema.tabula {
            Some(definition) => {
                wrote_by_tabula = true;
                definition
            }
            None => definition_from_seed(&schema).map_err(|e| e.in_file(&path))?,
        };
        if definition.def.name != name || schema.table_name != name {
            return Err(Error::Document {
                path: Some(path),
                reason: format!(
                    "the file is named for table {name:?} but describes {:?}",
                    definition.def.name
                ),
            });
        }
        let path = dir.join("data").join(format!("{name}.records"));
        let table = match File::open(&path) {
            Ok(data) => {
                import_table_jsonl(data, definition.def, definition.next_auto_increment, limits)
            }
            // A table without a data file is empty.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => TableState::rebuild(
                definition.def,
                std::iter::empty(),
                definition.next_auto_increment,
                limits,
            )
            .map_err(|source| invalid(&name, source)),
            Err(e) => return Err(fs_error("open", &path)(e)),
        }
        .map_err(|e| e.in_file(&path))?;
        tables.push(table);
    }
    let manifest_path = dir.join("manifest.json");
    let lsn = match File::open(&manifest_path) {
        Ok(file) => {
            let manifest: Manifest = serde_json::from_reader(BufReader::new(file))
                .map_err(|e| json_error(e).in_file(&manifest_path))?;
            check_manifest(&manifest, &tables).map_err(|reason| Error::Document {
                path: Some(manifest_path.clone()),
                reason,
            })?;
            Lsn(manifest.lsn)
        }
        // tabula writes the manifest last: its schema files without one are an export that did
        // not finish (killed, or out of space), whose tables may be missing or short. A
        // directory of the seed's own layout (no `tabula` definitions) never has one.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && wrote_by_tabula => {
            return Err(Error::Document {
                path: Some(manifest_path),
                reason: "missing: this export did not finish (tabula writes the manifest last), \
                         so its tables may be missing or short; export again"
                    .to_owned(),
            });
        }
        // No manifest and no table either: nothing says this is an export at all, and an
        // export killed before its first table leaves exactly this. Loading it would make an
        // empty database.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && tables.is_empty() => {
            return Err(Error::Document {
                path: Some(manifest_path),
                reason: "missing, and the directory holds no table schema: not an export, or \
                         one that did not finish; export again"
                    .to_owned(),
            });
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Lsn::ZERO,
        Err(e) => return Err(fs_error("open", &manifest_path)(e)),
    };
    State::from_tables(lsn, tables, *limits).map_err(|source| invalid("", source))
}

/// Every table the manifest lists is there, with the rows it counts (version 2 on).
fn check_manifest(manifest: &Manifest, tables: &[TableState]) -> std::result::Result<(), String> {
    for name in &manifest.tables {
        let Some(table) = tables.iter().find(|t| t.name() == name) else {
            return Err(format!(
                "lists table {name:?}, which the export does not have"
            ));
        };
        if let Some(&rows) = manifest.rows.get(name)
            && rows != table.len() as u64
        {
            return Err(format!(
                "table {name:?} should have {rows} rows, and its data file has {}",
                table.len()
            ));
        }
    }
    Ok(())
}

/// A definition from the seed's own schema file: each column's `type`, `nullable`, `unique` and
/// `primary_key`.
fn definition_from_seed(file: &SchemaFile) -> Result<Definition> {
    let bad = |reason: String| Error::Document { path: None, reason };
    let mut primary_key = None;
    let mut columns = Vec::new();
    for (name, description) in file.schema.iter().flatten() {
        let ty = description
            .get("type")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| bad(format!("column {name:?} has no \"type\"")))?;
        let ty = ty
            .parse()
            .map_err(|e| bad(format!("column {name:?}: {e}")))?;
        let flag = |key: &str, default: bool| {
            description
                .get(key)
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(default)
        };
        let mut column = Column::new(name.clone(), ty);
        column.nullable = flag("nullable", true);
        column.unique = flag("unique", false);
        if flag("primary_key", false) {
            primary_key = Some(name.clone());
        }
        columns.push(column);
    }
    let primary_key = primary_key.ok_or_else(|| bad("no column is the primary key".to_owned()))?;
    let mut def = TableDef::new(file.table_name.clone(), primary_key);
    def.schema = Some(Schema { columns });
    Ok(Definition {
        def,
        next_auto_increment: Some(1),
    })
}
