//! The commands that look after a database: `stats`, `check` (and `check --fix`), `checkpoint`.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use serde_json::json;
use tabula::engine::DamageKind;
use tabula::{CheckReport, Options, ProblemKind};

use crate::common::{Usage, is_database, open_existing, open_reading};
use crate::output;

/// `tabula stats DIR [--json]`.
pub fn stats(dir: &Path, as_json: bool, out: &mut dyn Write) -> Result<()> {
    let db = open_reading(dir)?;
    let stats = db.stats()?;
    let tables: Vec<_> = stats
        .tables
        .iter()
        .filter(|t| !t.name.starts_with("_tabula"))
        .collect();
    if as_json {
        let disk = stats.disk.as_ref().map(|d| {
            json!({
                "snapshots": d.snapshots,
                "snapshot_bytes": d.snapshot_bytes,
                "wal_segments": d.wal_segments,
                "wal_bytes": d.wal_bytes,
                "archived_segments": d.archived_segments,
                "archived_bytes": d.archived_bytes,
            })
        });
        let recovery = &stats.recovery;
        let doc = json!({
            "lsn": stats.lsn.0,
            "tables": tables.iter().map(|t| json!({
                "name": t.name,
                "rows": t.rows,
                "memory": {
                    "rows": t.memory.rows,
                    "keys": t.memory.keys,
                    "indexes": t.memory.indexes,
                    "total": t.memory.total(),
                },
                "indexes": t.indexes,
            })).collect::<Vec<_>>(),
            "disk": disk,
            "recovery": {
                "snapshot_lsn": recovery.snapshot.as_ref().map(|(lsn, _)| lsn.0),
                "replayed": recovery.replayed,
                "bytes_truncated": recovery.bytes_truncated(),
                "duration_ms": recovery.duration.as_secs_f64() * 1000.0,
            },
        });
        return output::json(out, &doc);
    }
    writeln!(out, "database {} at LSN {}", dir.display(), stats.lsn)?;
    let mut t = output::table([
        "table",
        "rows",
        "indexes",
        "memory",
        "in rows",
        "in keys",
        "in indexes",
    ]);
    for table in &tables {
        let m = table.memory;
        t.add_row([
            table.name.clone(),
            table.rows.to_string(),
            table.indexes.to_string(),
            human_bytes(m.total() as u64),
            human_bytes(m.rows as u64),
            human_bytes(m.keys as u64),
            human_bytes(m.indexes as u64),
        ]);
    }
    writeln!(out, "{t}")?;
    if let Some(d) = &stats.disk {
        writeln!(
            out,
            "disk: {} snapshot(s) {}, {} log segment(s) {}, {} archived segment(s) {}",
            d.snapshots,
            human_bytes(d.snapshot_bytes),
            d.wal_segments,
            human_bytes(d.wal_bytes),
            d.archived_segments,
            human_bytes(d.archived_bytes)
        )?;
    }
    let r = &stats.recovery;
    writeln!(
        out,
        "open: {} transaction(s) replayed{} in {:.1} ms",
        r.replayed,
        r.snapshot
            .as_ref()
            .map_or_else(String::new, |(lsn, _)| format!(
                " after the snapshot at LSN {lsn}"
            )),
        r.duration.as_secs_f64() * 1000.0
    )?;
    Ok(())
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    match UNITS.get(unit) {
        Some(u) if unit > 0 => format!("{value:.1} {u}"),
        _ => format!("{n} B"),
    }
}

fn report_json(report: &CheckReport) -> serde_json::Value {
    json!({
        "dir": report.dir,
        "healthy": report.is_healthy(),
        "snapshots": report.snapshots.iter().map(|(path, lsn, bytes)| json!({
            "file": path, "lsn": lsn.0, "bytes": bytes,
        })).collect::<Vec<_>>(),
        "wal": {
            "segments": report.wal.segments,
            "archived_segments": report.wal.archived_segments,
            "records": report.wal.records,
            "first_lsn": report.wal.first_lsn.0,
            "last_lsn": report.wal.last_lsn.0,
            "bytes": report.wal.bytes,
        },
        "opens_at_lsn": report.last_lsn.0,
        "log_codec": report.log_codec.name(),
        "has_manifest": report.has_manifest,
        "problems": report.problems.iter().map(|p| json!({
            "kind": p.kind.name(),
            "file": p.file,
            "offset": p.offset,
            "bytes": p.bytes,
            "reason": p.reason,
            "damage": p.damage.as_ref().map(damage_json),
            "consequence": p.consequence,
        })).collect::<Vec<_>>(),
    })
}

/// What is wrong with damaged bytes, for scripts: `{"kind": ..., ...the kind's fields}`
/// (`null` in `damage` when the problem is not one a reader classified).
fn damage_json(damage: &DamageKind) -> serde_json::Value {
    match damage {
        DamageKind::Checksum {
            what,
            stored,
            computed,
        } => json!({"kind": "checksum", "of": what, "stored": stored, "computed": computed}),
        DamageKind::BadMagic { format } => json!({"kind": "bad magic", "format": format}),
        DamageKind::Version {
            what,
            found,
            supported,
        } => json!({"kind": "version", "of": what, "found": found, "supported": supported}),
        DamageKind::Lsn { expected, found } => {
            json!({"kind": "lsn", "expected": expected, "found": found})
        }
        DamageKind::Truncated {
            what,
            needed,
            available,
        } => json!({"kind": "truncated", "of": what, "needed": needed, "available": available}),
        DamageKind::Payload { lsn, error } => {
            json!({"kind": "payload", "lsn": lsn, "error": error})
        }
        other => json!({"kind": "invalid", "what": other.to_string()}),
    }
}

/// How many problems `check` lists one by one before summing up the rest.
const MAX_LISTED: usize = 20;

fn report_text(report: &CheckReport, out: &mut dyn Write) -> Result<()> {
    writeln!(
        out,
        "checked {}: {} snapshot(s), {} log segment(s) and {} archived, {} record(s) (LSN {}..{}), {} byte(s) of log",
        report.dir.display(),
        report.snapshots.len(),
        report.wal.segments,
        report.wal.archived_segments,
        report.wal.records,
        report.wal.first_lsn,
        report.wal.last_lsn,
        report.wal.bytes,
    )?;
    writeln!(
        out,
        "log codec {}{}",
        report.log_codec.name(),
        if report.has_manifest {
            " (recorded in MANIFEST)"
        } else {
            " (told from the first record: no MANIFEST yet, the next open for writing writes one)"
        }
    )?;
    // Damage over many records is summed up, not listed record by record.
    for p in report.problems.iter().take(MAX_LISTED) {
        let at = p
            .offset
            .map_or_else(String::new, |o| format!(" at offset {o}"));
        writeln!(
            out,
            "{}: {}{at}: {}",
            p.kind.name(),
            p.file.display(),
            p.reason
        )?;
        writeln!(out, "  {}", p.consequence)?;
    }
    if let Some(rest) = report.problems.get(MAX_LISTED..).filter(|r| !r.is_empty()) {
        let mut kinds: Vec<(&str, usize, u64)> = Vec::new();
        for p in rest {
            match kinds.iter_mut().find(|(name, _, _)| *name == p.kind.name()) {
                Some((_, count, bytes)) => {
                    *count += 1;
                    *bytes += p.bytes;
                }
                None => kinds.push((p.kind.name(), 1, p.bytes)),
            }
        }
        let kinds: Vec<String> = kinds
            .iter()
            .map(|(name, count, bytes)| format!("{count} {name} ({bytes} byte(s))"))
            .collect();
        let last = rest.last().map(|p| p.file.display().to_string());
        writeln!(
            out,
            "... and {} more problem(s): {}; the last in {} (`--json` lists every one)",
            rest.len(),
            kinds.join(", "),
            last.unwrap_or_default()
        )?;
    }
    if report.is_healthy() {
        writeln!(out, "ok: the database opens at LSN {}", report.last_lsn)?;
    }
    Ok(())
}

/// What `tabula check` may do about the damage it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fix {
    /// Only report.
    No,
    /// Cut a torn tail (`--fix`).
    Tail,
    /// Skip corrupted records too (`--salvage`).
    Salvage,
}

impl Fix {
    /// From the command's flags: `--salvage` includes `--fix`.
    pub fn from_flags(fix: bool, salvage: bool) -> Fix {
        match (fix, salvage) {
            (_, true) => Fix::Salvage,
            (true, false) => Fix::Tail,
            (false, false) => Fix::No,
        }
    }
}

/// `tabula check DIR [--fix | --salvage] [--json]`: exit 0 healthy, 1 damaged (after a fix: 0 if
/// it removed everything that was wrong).
pub fn check(dir: &Path, fix: Fix, as_json: bool, out: &mut dyn Write) -> Result<ExitCode> {
    // Exit code 2 for "could not check" (as for usage errors), so that 1 always means damage.
    let cannot = |reason: String| -> anyhow::Error { Usage(reason).into() };
    match std::fs::metadata(dir) {
        Err(_) => return Err(cannot(format!("{}: no such directory", dir.display()))),
        Ok(meta) if !meta.is_dir() => {
            return Err(cannot(format!(
                "{} is a file, not a database directory",
                dir.display()
            )));
        }
        Ok(_) => {}
    }
    if !is_database(dir) {
        return Err(cannot(format!(
            "{} is not a tabula database (it has no wal/ or snapshots/ directory)",
            dir.display()
        )));
    }
    let options = Options::new();
    let report = tabula::check(dir, &options)
        .map_err(|e| cannot(format!("cannot check {}: {e}", dir.display())))?;
    if as_json {
        output::json(out, &report_json(&report))?;
    } else {
        report_text(&report, out)?;
    }
    if report.is_healthy() {
        return Ok(ExitCode::SUCCESS);
    }
    let archive_only = report
        .problems
        .iter()
        .all(|p| p.kind == ProblemKind::DamagedArchive);
    if fix == Fix::No {
        if archive_only {
            writeln!(
                std::io::stderr(),
                "damage found in the archive only: the database opens at LSN {}; history, `as of` and the change feed cannot reach before the damage (restore a backup to get it back)",
                report.last_lsn
            )?;
        } else if report.is_repairable() {
            writeln!(
                std::io::stderr(),
                "damage found: `tabula check --fix {}` cuts the end of the log listed above",
                dir.display()
            )?;
        } else {
            writeln!(
                std::io::stderr(),
                "damage found: restore a backup (`tabula restore`), or copy the directory aside before anything else; `tabula check --salvage {}` is the last resort (it skips the damaged records, losing their transactions)",
                dir.display()
            )?;
        }
        return Ok(ExitCode::FAILURE);
    }
    if fix == Fix::Tail && !report.is_repairable() {
        writeln!(
            std::io::stderr(),
            "not fixed: only the end of the log is cut automatically; the corruption above would lose acknowledged commits. Restore a backup (`tabula restore`), or use `tabula check --salvage` knowing what it skips"
        )?;
        return Ok(ExitCode::FAILURE);
    }
    let bytes: u64 = report.problems.iter().map(|p| p.bytes).sum();
    // With --json, stdout holds only the report; what the fix does goes to stderr.
    let mut stderr = std::io::stderr();
    let out: &mut dyn Write = if as_json { &mut stderr } else { out };
    let recovery = if report.is_repairable() {
        writeln!(
            out,
            "fixing: cutting the end of the log ({bytes} byte(s), listed above; a complete record among them is kept under wal/quarantine/)"
        )?;
        tabula::repair(dir, options, &report)?
    } else {
        writeln!(
            out,
            "salvaging: skipping the damaged records listed above; the transactions in them are lost"
        )?;
        tabula::salvage(dir, options, &report)?
    };
    for (damage, kept) in &recovery.wal.quarantined {
        writeln!(
            out,
            "kept {} byte(s) from {} at offset {} in {}",
            damage.bytes,
            damage.segment.display(),
            damage.offset,
            kept.display()
        )?;
    }
    for damage in &recovery.wal.truncated {
        writeln!(
            out,
            "cut {} byte(s) from {} at offset {}",
            damage.bytes,
            damage.segment.display(),
            damage.offset
        )?;
    }
    for damage in &recovery.wal.lost {
        writeln!(
            out,
            "lost {} byte(s) of records from {} at offset {} ({})",
            damage.bytes,
            damage.segment.display(),
            damage.offset,
            damage.kind
        )?;
    }
    let after = tabula::check(dir, &Options::new())?;
    if after.is_healthy() {
        writeln!(out, "ok: the database opens at LSN {}", after.last_lsn)?;
        Ok(ExitCode::SUCCESS)
    } else {
        report_text(&after, out)?;
        Ok(ExitCode::FAILURE)
    }
}

/// `tabula checkpoint DIR`.
pub fn checkpoint(dir: &Path, out: &mut dyn Write) -> Result<()> {
    let db = open_existing(dir)?;
    match db.checkpoint()? {
        Some(info) => writeln!(
            out,
            "snapshot at LSN {}: {} ({} rows, {} bytes, {:.1} ms)",
            info.lsn,
            info.path.display(),
            info.rows,
            info.bytes,
            info.duration.as_secs_f64() * 1000.0
        )?,
        None => writeln!(
            out,
            "nothing to do: the newest snapshot is already at the last LSN"
        )?,
    }
    db.close()?;
    Ok(())
}
