//! The commands on tables and rows: `tables`, `schema`, `create-table`, `put`, `get`, `delete`,
//! `update`, `query`.

use std::io::{Read, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use tabula::{Column, ColumnType, Filter, Op, Query, Row, RowRef, StrictRow, TableDef, Value};

use crate::args::{
    CreateTableArgs, DeleteArgs, GetArgs, OutputFormat, PutArgs, QueryArgs, UpdateArgs,
};
use crate::common::{Usage, cause, key, open, open_existing, open_reading, point, table_def};
use crate::output;

/// `tabula tables DIR`.
pub fn tables(dir: &Path, format: Option<OutputFormat>, out: &mut dyn Write) -> Result<()> {
    let db = open_reading(dir)?;
    let view = db.read();
    let listed: Vec<_> = view
        .tables()
        .filter(|t| !t.name().starts_with("_tabula"))
        .map(|t| {
            serde_json::json!({
                "table": t.name(),
                "rows": t.len(),
                "primary_key": t.def().primary_key,
                "typed": t.def().schema.is_some(),
                "indexes": t.indexes().len(),
            })
        })
        .collect();
    if !output::documents(out, output::resolve(format), &listed)? {
        let mut t = output::table(["table", "rows", "primary key", "schema", "indexes"]);
        for table in view.tables().filter(|t| !t.name().starts_with("_tabula")) {
            t.add_row([
                table.name().to_owned(),
                table.len().to_string(),
                table.def().primary_key.clone(),
                if table.def().schema.is_some() {
                    "typed"
                } else {
                    "schemaless"
                }
                .to_owned(),
                table.indexes().len().to_string(),
            ]);
        }
        writeln!(out, "{t}")?;
    }
    Ok(())
}

/// `tabula schema DIR TABLE`.
pub fn schema(
    dir: &Path,
    table: &str,
    format: Option<OutputFormat>,
    out: &mut dyn Write,
) -> Result<()> {
    let db = open_reading(dir)?;
    let def = table_def(&db.read(), table)?;
    match output::resolve(format) {
        OutputFormat::Json => output::json(out, &def)?,
        OutputFormat::Jsonl => output::jsonl(out, &def)?,
        OutputFormat::Table => {
            let key = if def.key_parts.is_empty() {
                def.primary_key.clone()
            } else {
                format!(
                    "({}) in column {}",
                    def.key_parts.join(", "),
                    def.primary_key
                )
            };
            writeln!(
                out,
                "table {} (primary key {key}{})",
                def.name,
                if def.auto_increment {
                    ", auto-increment"
                } else {
                    ""
                }
            )?;
            match &def.schema {
                None => writeln!(out, "schemaless: rows may hold any fields")?,
                Some(schema) => {
                    let mut t = output::table(["column", "type", "nullable", "unique", "default"]);
                    for c in &schema.columns {
                        t.add_row([
                            c.name.clone(),
                            c.ty.name().to_owned(),
                            c.nullable.to_string(),
                            c.unique.to_string(),
                            c.default
                                .as_ref()
                                .map_or_else(String::new, crate::common::show),
                        ]);
                    }
                    writeln!(out, "{t}")?;
                }
            }
            for index in &def.indexes {
                writeln!(
                    out,
                    "{}index {} on {}",
                    if index.unique { "unique " } else { "" },
                    index.name,
                    index.path
                )?;
            }
        }
    }
    Ok(())
}

/// `--schema`: inline JSON, or a file holding it.
/// serde_json's message without its own "at line L column C", which the caller says first.
fn json_reason(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rsplit_once(" at line ") {
        Some((reason, _)) => reason.to_owned(),
        None => text,
    }
}

fn read_schema_arg(arg: &str) -> Result<serde_json::Value> {
    let text = if arg.trim_start().starts_with(['{', '[']) {
        arg.to_owned()
    } else {
        std::fs::read_to_string(arg)
            .with_context(|| format!("--schema {arg}: not JSON, and not a readable file"))?
    };
    serde_json::from_str(&text).map_err(|e| {
        Usage(format!(
            "--schema: bad JSON at line {}, column {}: {}",
            e.line(),
            e.column(),
            json_reason(&e)
        ))
        .into()
    })
}

/// One column from `"text"` or `{"type": "text", "unique": true, ...}`.
fn column(name: &str, spec: &serde_json::Value) -> Result<Column> {
    match spec {
        serde_json::Value::String(ty) => {
            let ty: ColumnType = ty
                .parse()
                .map_err(|e: String| Usage(format!("--schema: column {name}: {e}")))?;
            Ok(Column::new(name, ty))
        }
        serde_json::Value::Object(fields) => {
            let mut fields = fields.clone();
            fields.insert("name".into(), name.into());
            serde_json::from_value(serde_json::Value::Object(fields))
                .map_err(|e| Usage(format!("--schema: column {name}: {e}")).into())
        }
        other => bail!(Usage(format!(
            "--schema: column {name}: expected a type name or an object, found {other}"
        ))),
    }
}

fn name_path(arg: &str, flag: &str) -> Result<(String, String)> {
    let (name, path) = arg
        .split_once('=')
        .ok_or_else(|| Usage(format!("{flag} {arg}: expected NAME=PATH")))?;
    Ok((name.trim().to_owned(), path.trim().to_owned()))
}

/// `tabula create-table DIR TABLE --primary-key COL`.
/// `--primary-key order_id,line`: a key of several columns (SQL's `PRIMARY KEY (a, b)`), kept
/// by the table in a `list` column named `key` that it computes from them.
fn composite_key(def: &mut TableDef, columns: &str) -> Result<()> {
    const KEY: &str = "key";
    let Some(schema) = def.schema.as_mut() else {
        bail!(Usage(
            "--primary-key with several columns needs --schema (the columns to make it of)".into()
        ));
    };
    if !schema.columns.iter().any(|c| c.name == KEY) {
        schema.columns.insert(0, Column::new(KEY, ColumnType::List));
    }
    def.primary_key = KEY.to_owned();
    def.key_parts = columns.split(',').map(|c| c.trim().to_owned()).collect();
    Ok(())
}

pub fn create_table(args: &CreateTableArgs, out: &mut dyn Write) -> Result<()> {
    let mut def = TableDef::new(&args.table, &args.primary_key);
    if let Some(arg) = &args.schema {
        match read_schema_arg(arg)? {
            serde_json::Value::Object(map) if map.contains_key("primary_key") => {
                def = serde_json::from_value(serde_json::Value::Object(map))
                    .map_err(|e| Usage(format!("--schema: not a table definition: {e}")))?;
                def.name.clone_from(&args.table);
                def.primary_key.clone_from(&args.primary_key);
            }
            serde_json::Value::Object(map) => {
                for (name, spec) in &map {
                    def = def.column(column(name, spec)?);
                }
            }
            serde_json::Value::Array(columns) => {
                for spec in &columns {
                    let column: Column = serde_json::from_value(spec.clone())
                        .map_err(|e| Usage(format!("--schema: bad column {spec}: {e}")))?;
                    def = def.column(column);
                }
            }
            other => bail!(Usage(format!(
                "--schema: expected an object of columns, found {other}"
            ))),
        }
    }
    if args.primary_key.contains(',') {
        composite_key(&mut def, &args.primary_key)?;
    }
    if args.auto_increment {
        def = def.auto_increment();
    }
    for arg in &args.index {
        let (name, path) = name_path(arg, "--index")?;
        def = def.index(name, &path);
    }
    for arg in &args.unique {
        let (name, path) = name_path(arg, "--unique")?;
        def = def.unique_index(name, &path);
    }
    let db = open(&args.dir)?;
    db.create_table(def)
        .with_context(|| format!("cannot create table {}", args.table))?;
    writeln!(out, "created table {}", args.table)?;
    db.close()?;
    Ok(())
}

/// The rows of `put`: one object, an array of objects, or JSON Lines (objects one after another).
fn parse_rows(text: &str, source: &str) -> Result<Vec<Row>> {
    let bad = |e: serde_json::Error| {
        anyhow::Error::new(Usage(format!(
            "{source}: bad JSON at line {}, column {}: {}",
            e.line(),
            e.column(),
            json_reason(&e)
        )))
    };
    // `StrictRow`: a member named twice, or an integer beyond 64 bits, is an error naming the
    // line, never a silent last-one-wins or a rounded key.
    if let Some((at, integer)) = tabula::wide_json_integer(text.as_bytes()) {
        let before = text.get(..at).unwrap_or_default();
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |n| n + 1) + 1;
        bail!(Usage(format!(
            "{source}: integer {integer} at line {line}, column {column} is outside the 64-bit \
             signed range (tabula stores integers exactly; write it as a string or a float)"
        )));
    }
    let rows: Vec<StrictRow> = if text.trim_start().starts_with('[') {
        serde_json::from_str(text).map_err(bad)?
    } else {
        serde_json::Deserializer::from_str(text)
            .into_iter::<StrictRow>()
            .collect::<Result<_, _>>()
            .map_err(bad)?
    };
    let rows: Vec<Row> = rows.into_iter().map(|row| row.0).collect();
    if rows.is_empty() {
        bail!(Usage(format!("{source}: no rows to put")));
    }
    Ok(rows)
}

/// `tabula put DIR TABLE [JSON | --file F | -]`: all rows in one transaction.
pub fn put(args: &PutArgs, out: &mut dyn Write) -> Result<()> {
    let (text, source) = match (&args.json, &args.file) {
        (Some(json), None) if json != "-" => (json.clone(), "the JSON argument".to_owned()),
        (_, Some(file)) => (
            std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?,
            file.display().to_string(),
        ),
        _ => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read standard input")?;
            (text, "standard input".to_owned())
        }
    };
    let rows = parse_rows(&text, &source)?;
    if !crate::common::is_database(&args.dir) {
        bail!(
            "no table named {:?}: there is no database in {} yet (`tabula create-table` makes one)",
            args.table,
            args.dir.display()
        );
    }
    let db = open(&args.dir)?;
    // Checked here so a typo'd table name is not created implicitly, and the error names it.
    let def = table_def(&db.read(), &args.table)?;
    let ops: Vec<Op> = rows
        .into_iter()
        .map(|row| {
            if args.upsert {
                Op::Upsert {
                    table: args.table.clone(),
                    row,
                }
            } else {
                Op::Insert {
                    table: args.table.clone(),
                    row,
                }
            }
        })
        .collect();
    let what = if args.upsert { "upsert" } else { "insert" };
    let committed = match cause(&args.cause, what) {
        Some(c) => db.commit_with_cause(ops, c),
        None => db.commit(ops),
    }
    .with_context(|| format!("nothing was written to {}", def.name))?;
    for change in &committed.changes {
        writeln!(out, "{}", crate::common::show(&change.key))?;
    }
    db.close()?;
    Ok(())
}

/// `tabula get DIR TABLE KEY [--as-of POINT]`.
pub fn get(args: &GetArgs, out: &mut dyn Write) -> Result<()> {
    let db = open_reading(&args.dir)?;
    let view = match &args.as_of {
        Some(at) => db.as_of(point(at))?,
        None => db.read(),
    };
    let def = table_def(&view, &args.table)?;
    let key = key(&def, &args.key)?;
    let Some(row) = view.get(&args.table, &key)? else {
        bail!(
            "no row with key {} in {}{}",
            crate::common::show(&key),
            args.table,
            args.as_of
                .as_ref()
                .map_or_else(String::new, |p| format!(" as of {p}"))
        );
    };
    match output::resolve(args.format) {
        OutputFormat::Table => output::rows(out, OutputFormat::Table, Some(&def), &[row.to_row()])?,
        OutputFormat::Json => output::json(out, row)?,
        OutputFormat::Jsonl => output::jsonl(out, row)?,
    }
    Ok(())
}

/// `tabula delete DIR TABLE (KEY | --where EXPR)`: one row by key, or every row the filter
/// matches, in one transaction.
pub fn delete(args: &DeleteArgs, out: &mut dyn Write) -> Result<()> {
    let db = open_existing(&args.dir)?;
    let def = table_def(&db.read(), &args.table)?;
    let cause = cause(&args.cause, "delete");
    if let Some(text) = &args.filter {
        let filter = where_filter(text)?;
        let deleted = db
            .transaction(|tx| {
                if let Some(cause) = cause {
                    tx.cause(cause);
                }
                tx.rows(args.table.as_str()).delete_where(filter)
            })
            .with_context(|| format!("nothing was deleted from {}", args.table))?;
        writeln!(out, "deleted {deleted} {}", rows_word(deleted))?;
        db.close()?;
        return Ok(());
    }
    let text = args.key.as_deref().unwrap_or_default();
    let key = key(&def, text)?;
    let op = Op::Delete {
        table: args.table.clone(),
        key: key.clone(),
    };
    match cause {
        Some(c) => db.commit_with_cause(vec![op], c),
        None => db.commit(vec![op]),
    }
    .with_context(|| format!("cannot delete {text} from {}", args.table))?;
    writeln!(out, "deleted {}", crate::common::show(&key))?;
    db.close()?;
    Ok(())
}

/// `tabula update DIR TABLE (KEY | --where EXPR) --set COL=VALUE...`: one transaction; prints
/// how many rows changed (rows that already held the values are not written).
pub fn update(args: &UpdateArgs, out: &mut dyn Write) -> Result<()> {
    let db = open_existing(&args.dir)?;
    let def = table_def(&db.read(), &args.table)?;
    let mut set = Row::new();
    for arg in &args.set {
        let Some((column, text)) = arg.split_once('=') else {
            bail!(Usage(format!("--set {arg}: expected COL=VALUE")));
        };
        let column = column.trim();
        if column.is_empty() {
            bail!(Usage(format!("--set {arg}: the column name is empty")));
        }
        if column == def.primary_key {
            bail!(Usage(format!(
                "--set {arg}: {column} is the primary key of {}, which an update cannot change",
                def.name
            )));
        }
        set.insert(column.to_owned(), set_value(&def, column, text)?);
    }
    let filter = match (&args.filter, &args.key) {
        (Some(text), _) => where_filter(text)?,
        (None, Some(text)) => Filter::eq(def.primary_key.as_str(), key(&def, text)?),
        (None, None) => bail!(Usage("give a KEY or --where EXPR".into())),
    };
    let cause = cause(&args.cause, "update");
    let changed = db
        .transaction(|tx| {
            if let Some(cause) = cause {
                tx.cause(cause);
            }
            let rows = tx.rows(args.table.as_str());
            let matched = rows.count_where(filter.clone())?;
            let changed = rows.update_where(filter, |row| {
                row.extend(set.iter().map(|(k, v)| (k.clone(), v.clone())));
            })?;
            Ok((matched, changed))
        })
        .with_context(|| format!("nothing was changed in {}", args.table))?;
    match changed {
        (0, _) if args.filter.is_none() => bail!(
            "no row with key {} in {}",
            args.key.as_deref().unwrap_or_default(),
            args.table
        ),
        (matched, changed) => writeln!(
            out,
            "updated {changed} {} ({matched} matched)",
            rows_word(changed)
        )?,
    }
    db.close()?;
    Ok(())
}

fn rows_word(n: usize) -> &'static str {
    if n == 1 { "row" } else { "rows" }
}

/// A `--where` expression as a filter, or a usage error pointing at the column.
fn where_filter(text: &str) -> Result<Filter> {
    Filter::parse(text).map_err(|e| {
        Usage(format!(
            "--where: {e}\n  {text}\n  {}^",
            " ".repeat(e.column().saturating_sub(1))
        ))
        .into()
    })
}

/// A `--set` value for `column`: by the column's type where the table declares one, else JSON,
/// else text.
fn set_value(def: &TableDef, column: &str, text: &str) -> Result<Value> {
    let declared = def.schema.as_ref().map(|s| s.column(column).map(|c| c.ty));
    let json = || serde_json::from_str::<Value>(text);
    match declared {
        Some(None) => bail!(Usage(format!(
            "--set {column}={text}: {} has no column {column:?}",
            def.name
        ))),
        Some(Some(_)) if text.trim() == "null" => Ok(Value::Null),
        Some(Some(ColumnType::Text)) => Ok(match text.starts_with('"') {
            true => json()
                .map_err(|e| Usage(format!("--set {column}: {text} is not a JSON string: {e}")))?,
            false => Value::Text(text.to_owned()),
        }),
        Some(Some(ColumnType::Timestamp)) => match text.trim().parse::<tabula::Timestamp>() {
            Ok(t) => Ok(Value::Timestamp(t)),
            Err(e) => json().map_err(|_| {
                Usage(format!(
                    "--set {column}: {text:?} is not an RFC 3339 time: {e}"
                ))
                .into()
            }),
        },
        Some(Some(ty)) => json().map_err(|e| {
            Usage(format!(
                "--set {column}: {text:?} is not a value of type {}: {e}",
                ty.name()
            ))
            .into()
        }),
        None => Ok(json().unwrap_or_else(|_| Value::Text(text.to_owned()))),
    }
}

/// `tabula query DIR TABLE [--where EXPR] [--order-by COL[:desc]] [--limit N]`.
pub fn query(args: &QueryArgs, out: &mut dyn Write) -> Result<()> {
    let mut query = Query::new();
    if let Some(text) = &args.filter {
        query = query.filter(where_filter(text)?);
    }
    for order in &args.order_by {
        let (column, descending) = match order.rsplit_once(':') {
            Some((column, dir)) if dir.eq_ignore_ascii_case("desc") => (column, true),
            Some((column, dir)) if dir.eq_ignore_ascii_case("asc") => (column, false),
            Some(_) => bail!(Usage(format!(
                "--order-by {order}: expected COL, COL:asc or COL:desc"
            ))),
            None => (order.as_str(), false),
        };
        query = query.order_by(column, descending);
    }
    if let Some(n) = args.offset {
        query = query.offset(n);
    }
    if let Some(n) = args.limit {
        query = query.limit(n);
    }
    let db = open_reading(&args.dir)?;
    let view = match &args.as_of {
        Some(at) => db.as_of(point(at))?,
        None => db.read(),
    };
    let def = table_def(&view, &args.table)?;
    let result = view.query(&args.table, &query)?;
    let rows: Vec<Row> = result.rows.iter().map(RowRef::to_row).collect();
    output::rows(out, output::resolve(args.format), Some(&def), &rows)
}
