//! Printing: rows and listings as a table for people, JSON or JSON Lines for scripts. JSON keeps
//! every value's type (numbers stay numbers, null stays null, maps stay nested); a table shows
//! text bare and everything else as JSON.

use std::io::{IsTerminal, Write};

use anyhow::Result;
use comfy_table::{Table, presets};
use serde::Serialize;
use tabula::{Row, TableDef};

use crate::args::OutputFormat;
use crate::common::show;

/// The format asked for, else a table on a terminal and JSON Lines in a pipe.
pub fn resolve(format: Option<OutputFormat>) -> OutputFormat {
    format.unwrap_or_else(|| {
        if std::io::stdout().is_terminal() {
            OutputFormat::Table
        } else {
            OutputFormat::Jsonl
        }
    })
}

/// A table with tabula's look: plain borders that survive any terminal and a copy-paste.
pub fn table(header: impl IntoIterator<Item = impl Into<String>>) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::ASCII_MARKDOWN);
    t.set_header(header.into_iter().map(Into::into).collect::<Vec<String>>());
    t
}

/// Column order for rows: the schema's columns (key first), then other fields by name.
pub fn columns(def: Option<&TableDef>, rows: &[Row]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    if let Some(def) = def {
        names.push(def.primary_key.clone());
        if let Some(schema) = &def.schema {
            for c in &schema.columns {
                if !names.contains(&c.name) {
                    names.push(c.name.clone());
                }
            }
        }
    }
    let mut extra: Vec<&String> = rows
        .iter()
        .flat_map(|r| r.keys())
        .filter(|k| !names.contains(k))
        .collect();
    extra.sort();
    extra.dedup();
    names.extend(extra.into_iter().cloned());
    names
}

/// Prints rows in `format`.
pub fn rows(
    out: &mut dyn Write,
    format: OutputFormat,
    def: Option<&TableDef>,
    rows: &[Row],
) -> Result<()> {
    match format {
        OutputFormat::Json => json(out, &rows),
        OutputFormat::Jsonl => {
            for row in rows {
                jsonl(out, row)?;
            }
            Ok(())
        }
        OutputFormat::Table => {
            let names = columns(def, rows);
            let mut t = table(&names);
            for row in rows {
                t.add_row(
                    names
                        .iter()
                        .map(|n| row.get(n).map_or_else(String::new, show)),
                );
            }
            writeln!(out, "{t}")?;
            writeln!(
                out,
                "({} row{})",
                rows.len(),
                if rows.len() == 1 { "" } else { "s" }
            )?;
            Ok(())
        }
    }
}

/// Prints `docs` as one JSON array or as JSON Lines and returns `true`; returns `false` for the
/// table format, which the caller draws.
pub fn documents(
    out: &mut dyn Write,
    format: OutputFormat,
    docs: &[impl Serialize],
) -> Result<bool> {
    match format {
        OutputFormat::Json => json(out, &docs)?,
        OutputFormat::Jsonl => {
            for doc in docs {
                jsonl(out, doc)?;
            }
        }
        OutputFormat::Table => return Ok(false),
    }
    Ok(true)
}

/// One JSON document, pretty for people.
pub fn json(out: &mut dyn Write, value: &impl Serialize) -> Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)?;
    Ok(())
}

/// One JSON object on one line.
pub fn jsonl(out: &mut dyn Write, value: &impl Serialize) -> Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    writeln!(out)?;
    Ok(())
}
