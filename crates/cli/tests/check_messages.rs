//! Issue 25, finding 11: messages that misled. A stray archived copy of a live segment (a crash
//! between archiving it and syncing the log directory) made `check` report damage and tell the
//! user to restore a backup while the database opened fine; and `check` printed one line per
//! damaged record instead of a summary.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tabula(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tabula"))
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A database of `n` one-row transactions (`put` commits each call).
fn database(dir: &Path, n: usize) {
    let d = dir.to_str().unwrap();
    assert!(
        tabula(&["create-table", d, "t", "--primary-key", "id"])
            .status
            .success()
    );
    for i in 0..n {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tabula"))
            .args(["-q", "put", d, "t"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::io::Write::write_all(
            child.stdin.as_mut().unwrap(),
            format!("{{\"id\": {i}, \"text\": \"row {i}\"}}").as_bytes(),
        )
        .unwrap();
        assert!(child.wait().unwrap().success());
    }
}

fn live_segment(dir: &Path) -> PathBuf {
    let mut segments: Vec<PathBuf> = std::fs::read_dir(dir.join("wal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    segments.sort();
    segments.pop().unwrap()
}

#[test]
fn a_stray_archived_copy_of_a_live_segment_is_not_damage() {
    let temp = tempfile::tempdir().unwrap();
    let db = temp.path().join("db");
    database(&db, 3);
    let live = live_segment(&db);
    let archive = db.join("wal/archive");
    std::fs::create_dir_all(&archive).unwrap();
    let name = live.file_stem().unwrap().to_str().unwrap();
    std::fs::copy(&live, archive.join(format!("{name}.1796637600000.log"))).unwrap();
    let checked = tabula(&["check", db.to_str().unwrap()]);
    assert!(checked.status.success(), "{}", text(&checked));
    assert!(
        text(&checked).contains("ok: the database opens at LSN 4"),
        "{}",
        text(&checked)
    );
}

#[test]
fn check_sums_up_damage_to_many_records_instead_of_a_line_each() {
    let temp = tempfile::tempdir().unwrap();
    let db = temp.path().join("db");
    database(&db, 60);
    // Damage the payload of every other record of the live segment (frames: a 32-byte segment
    // header, then 24-byte frame headers starting with the payload length).
    let segment = live_segment(&db);
    let mut bytes = std::fs::read(&segment).unwrap();
    let mut at = 32;
    let mut frame = 0;
    while at + 24 <= bytes.len() {
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        if frame % 2 == 1 && frame < 58 && len > 0 {
            bytes[at + 24 + len / 2] ^= 0x55;
        }
        at += 24 + len;
        frame += 1;
    }
    std::fs::write(&segment, &bytes).unwrap();
    let checked = tabula(&["check", db.to_str().unwrap()]);
    assert_eq!(checked.status.code(), Some(1), "{}", text(&checked));
    let out = String::from_utf8_lossy(&checked.stdout).into_owned();
    let problems = out.lines().filter(|l| l.starts_with("corruption:")).count();
    assert_eq!(problems, 20, "{out}");
    assert!(
        out.contains("... and 9 more problem(s): 9 corruption"),
        "{out}"
    );
    // `--json` still lists every one.
    let json = tabula(&["check", db.to_str().unwrap(), "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["problems"].as_array().unwrap().len(), 29);
    // Every command the messages name exists.
    for line in text(&checked).lines() {
        assert!(!line.contains("salvage mode"), "{line}");
    }
    assert!(
        text(&checked).contains("tabula check --salvage"),
        "{}",
        text(&checked)
    );
}
