//! The commands on history: `log`, `history`, `tag`, `tags`, `diff`, `rollback`.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::json;
use tabula::{Cause, LogFilter, Op, SchemaChange, Transaction, VersionKind};

use crate::args::{DiffArgs, HistoryArgs, LogArgs, OutputFormat, RollbackArgs};
use crate::common::{cause, key, open_existing, open_reading, point, show, table_def};
use crate::output;

fn cause_text(cause: Option<&Cause>) -> String {
    let Some(c) = cause else {
        return String::new();
    };
    let mut parts = Vec::new();
    for (label, value) in [
        ("who", &c.who),
        ("what", &c.what),
        ("where", &c.where_),
        ("why", &c.why),
    ] {
        if let Some(v) = value {
            parts.push(format!("{label}: {v}"));
        }
    }
    parts.join(", ")
}

fn op_text(op: &Op) -> String {
    match op {
        Op::CreateTable(def) => format!("create table {}", def.name),
        Op::DropTable { table } => format!("drop table {table}"),
        Op::CreateIndex { table, index } => format!("create index {} on {table}", index.name),
        Op::DropIndex { table, index } => format!("drop index {index} on {table}"),
        Op::Insert { table, row } => format!("insert into {table} {}", brief(row)),
        Op::Upsert { table, row } => format!("upsert into {table} {}", brief(row)),
        Op::Update { table, key, set } => {
            format!("update {table} {} set {}", show(key), brief(set))
        }
        Op::Delete { table, key } => format!("delete from {table} {}", show(key)),
        Op::AlterTable { table, change } => match change {
            SchemaChange::AddColumn(c) => {
                format!("alter table {table} add column {} {}", c.name, c.ty.name())
            }
            SchemaChange::DropColumn(c) => format!("alter table {table} drop column {c}"),
            SchemaChange::RenameColumn { from, to } => {
                format!("alter table {table} rename column {from} to {to}")
            }
            SchemaChange::AlterColumn(c) => format!(
                "alter table {table} alter column {} {}{}",
                c.name,
                c.ty.name(),
                if c.nullable { "" } else { " not null" }
            ),
            other => format!(
                "alter table {table} {}",
                serde_json::to_string(other).unwrap_or_default()
            ),
        },
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// A row in one line, cut short for the table view.
fn brief(row: &impl serde::Serialize) -> String {
    let text = serde_json::to_string(row).unwrap_or_default();
    if text.chars().count() > 80 {
        let cut: String = text.chars().take(77).collect();
        format!("{cut}...")
    } else {
        text
    }
}

/// `tabula log DIR [--from POINT] [--to POINT] [--table T]`.
pub fn log(args: &LogArgs, out: &mut dyn Write) -> Result<()> {
    let db = open_reading(&args.dir)?;
    let mut filter = LogFilter::new();
    if let Some(p) = &args.from {
        filter = filter.after(point(p));
    }
    if let Some(p) = &args.to {
        filter = filter.until(point(p));
    }
    if let Some(t) = &args.table {
        filter = filter.table(t.as_str());
    }
    if let Some(w) = &args.who {
        filter = filter.who(w.as_str());
    }
    let format = output::resolve(args.format);
    let mut table = output::table(["lsn", "time", "cause", "ops"]);
    let mut all: Vec<Transaction> = Vec::new();
    for tx in db.log(filter)? {
        let tx = tx?;
        match format {
            OutputFormat::Jsonl => output::jsonl(out, &tx)?,
            OutputFormat::Json => all.push(tx),
            OutputFormat::Table => {
                let ops: Vec<String> = tx.ops.iter().take(5).map(op_text).collect();
                let more = tx.ops.len().saturating_sub(5);
                let mut ops = ops.join("\n");
                if more > 0 {
                    ops.push_str(&format!("\n... and {more} more"));
                }
                table.add_row([
                    tx.lsn.to_string(),
                    tx.timestamp.to_string(),
                    cause_text(tx.cause.as_ref()),
                    ops,
                ]);
            }
        }
    }
    match format {
        OutputFormat::Json => output::json(out, &all)?,
        OutputFormat::Table => writeln!(out, "{table}")?,
        OutputFormat::Jsonl => {}
    }
    Ok(())
}

/// `tabula history DIR TABLE KEY`.
pub fn history(args: &HistoryArgs, out: &mut dyn Write) -> Result<()> {
    let db = open_reading(&args.dir)?;
    // The table may be gone now; its definition then comes from the history itself.
    let view = db.read();
    let key = match view.table(&args.table) {
        Some(_) => key(&table_def(&view, &args.table)?, &args.key)?,
        None => key(&tabula::TableDef::new(&args.table, "key"), &args.key)?,
    };
    let versions = db.history(&args.table, key.clone())?;
    if versions.is_empty() {
        anyhow::bail!(
            "no history for key {} in {} (the log may have been pruned before it)",
            show(&key),
            args.table
        );
    }
    let kind = |k: VersionKind| match k {
        VersionKind::Inserted => "inserted",
        VersionKind::Updated => "updated",
        VersionKind::Deleted => "deleted",
    };
    let docs: Vec<serde_json::Value> = versions
        .iter()
        .map(|v| {
            json!({
                "lsn": v.lsn.0,
                "time": v.timestamp.to_string(),
                "change": kind(v.kind),
                "op": v.op,
                "before": v.before,
                "after": v.after,
                "cause": v.cause,
            })
        })
        .collect();
    if !output::documents(out, output::resolve(args.format), &docs)? {
        let mut t = output::table(["lsn", "time", "change", "row", "cause"]);
        for v in &versions {
            let row = v
                .after
                .as_ref()
                .or(v.before.as_ref())
                .map(brief)
                .unwrap_or_default();
            t.add_row([
                v.lsn.to_string(),
                v.timestamp.to_string(),
                kind(v.kind).to_owned(),
                row,
                cause_text(v.cause.as_ref()),
            ]);
        }
        writeln!(out, "{t}")?;
    }
    Ok(())
}

/// `tabula tag DIR NAME [--delete]`.
pub fn tag(dir: &Path, name: &str, delete: bool, out: &mut dyn Write) -> Result<()> {
    let db = open_existing(dir)?;
    if delete {
        db.delete_tag(name)?;
        writeln!(out, "deleted tag {name}")?;
    } else {
        let lsn = db.tag(name)?;
        writeln!(out, "tagged LSN {lsn} as {name}")?;
    }
    db.close()?;
    Ok(())
}

/// `tabula tags DIR`.
pub fn tags(dir: &Path, format: Option<OutputFormat>, out: &mut dyn Write) -> Result<()> {
    let db = open_reading(dir)?;
    let tags = db.tags();
    let docs: Vec<_> = tags
        .iter()
        .map(|(name, lsn, at)| json!({"tag": name, "lsn": lsn.0, "time": at.to_string()}))
        .collect();
    if !output::documents(out, output::resolve(format), &docs)? {
        let mut t = output::table(["tag", "lsn", "time"]);
        for (name, lsn, at) in &tags {
            t.add_row([name.clone(), lsn.to_string(), at.to_string()]);
        }
        writeln!(out, "{t}")?;
    }
    Ok(())
}

/// `tabula diff DIR A B`.
pub fn diff(args: &DiffArgs, out: &mut dyn Write) -> Result<()> {
    let db = open_reading(&args.dir)?;
    let diff = db.diff(point(&args.a), point(&args.b))?;
    let mut docs = Vec::new();
    for t in &diff.tables {
        if t.redefined() {
            docs.push(json!({"table": t.table, "change": "definition",
                "before": t.before, "after": t.after}));
        }
        for (key, row) in &t.added {
            docs.push(json!({"table": t.table, "change": "added", "key": key, "after": row}));
        }
        for (key, row) in &t.removed {
            docs.push(json!({"table": t.table, "change": "removed", "key": key, "before": row}));
        }
        for (key, before, after) in &t.changed {
            docs.push(json!({"table": t.table, "change": "changed", "key": key,
                "before": before, "after": after}));
        }
    }
    if !output::documents(out, output::resolve(args.format), &docs)? {
        writeln!(out, "from LSN {} to LSN {}", diff.from, diff.to)?;
        let mut t = output::table(["table", "change", "key", "before", "after"]);
        for d in &docs {
            let cell = |name: &str| match d.get(name) {
                None | Some(serde_json::Value::Null) => String::new(),
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
            };
            t.add_row([
                cell("table"),
                cell("change"),
                cell("key"),
                cell("before"),
                cell("after"),
            ]);
        }
        writeln!(out, "{t}")?;
        writeln!(out, "({} change(s))", docs.len())?;
    }
    Ok(())
}

/// `tabula rollback DIR POINT`.
pub fn rollback(args: &RollbackArgs, out: &mut dyn Write) -> Result<()> {
    let db = open_existing(&args.dir)?;
    let committed = db
        .rollback_to(point(&args.point), cause(&args.cause, "rollback"))
        .with_context(|| format!("cannot roll back to {}", args.point))?;
    writeln!(
        out,
        "rolled back to {}: {} row change(s), committed as LSN {}",
        args.point,
        committed.changes.len(),
        committed.lsn
    )?;
    db.close()?;
    Ok(())
}
