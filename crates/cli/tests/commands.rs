//! Runs the built `tabula` binary through every command, as a user would: what it prints (JSON
//! keeps value types), the exit codes (0 ok, 1 failure or damage, 2 usage), that read-only
//! commands never create a directory, that errors are one clear line naming what and where, and
//! that loads from tabula dumps, DictDB, DeltaTraceDB and exported directories query correctly.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests"
)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

fn tabula(args: &[&str]) -> Output {
    run(args, None)
}

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tabula"));
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// Runs and requires success; returns stdout.
fn ok(args: &[&str]) -> String {
    let o = tabula(args);
    assert!(
        o.status.success(),
        "tabula {args:?} failed: {}{}",
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

/// Runs and requires exit code `code`; returns stderr, which must be one clear line without Rust
/// debug output or a panic.
fn fails(args: &[&str], code: i32) -> String {
    let o = tabula(args);
    let err = stderr(&o);
    assert_eq!(
        o.status.code(),
        Some(code),
        "tabula {args:?}: {}{err}",
        stdout(&o)
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(!err.contains("RUST_BACKTRACE"), "{err}");
    err
}

fn json_out(args: &[&str]) -> Value {
    serde_json::from_str(&ok(args)).unwrap()
}

fn jsonl_out(args: &[&str]) -> Vec<Value> {
    ok(args)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

#[test]
fn demo_then_the_readme_query() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("tabula-demo");
    let text = ok(&["demo", s(&dir)]);
    assert!(text.contains("Try next:"), "{text}");
    let rows = json_out(&[
        "query",
        s(&dir),
        "students",
        "--where",
        "gpa > 3.5",
        "--format",
        "json",
    ]);
    let names: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Alice Johnson", "Bob Smith", "Carol White", "Eve Davis"]
    );
    // Numbers stay numbers.
    assert_eq!(rows[0]["gpa"], json!(3.8));
    assert_eq!(rows[0]["id"], json!(1));
    // The demo's tag and history are there for the next commands.
    let bob_then = json_out(&[
        "get",
        s(&dir),
        "students",
        "2",
        "--as-of",
        "enrolled",
        "--format",
        "json",
    ]);
    assert_eq!(bob_then["gpa"], json!(3.5));
    let history = json_out(&["history", s(&dir), "students", "2", "--format", "json"]);
    assert_eq!(history.as_array().unwrap().len(), 2);
    assert_eq!(history[1]["cause"]["why"], json!("exam retake"));
    assert!(ok(&["check", s(&dir)]).contains("ok:"));
    // Running it again replaces the earlier demo.
    ok(&["demo", s(&dir)]);
}

#[test]
fn tables_rows_and_their_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let d = s(&dir);

    // Read-only commands never create anything.
    let err = fails(&["tables", d], 1);
    assert!(err.contains("no such directory"), "{err}");
    assert!(!dir.exists());
    fails(&["query", d, "people"], 1);
    assert!(!dir.exists());

    // Writing commands create the directory.
    let schema = r#"{"id": "int", "name": {"type": "text", "nullable": false},
        "email": {"type": "text", "unique": true}, "age": "int", "address": "map"}"#;
    ok(&[
        "create-table",
        d,
        "people",
        "--primary-key",
        "id",
        "--schema",
        schema,
        "--auto-increment",
        "--index",
        "by_city=address.city",
    ]);
    assert!(dir.is_dir());
    let listed = jsonl_out(&["tables", d]);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["table"], json!("people"));
    let def = json_out(&["schema", d, "people", "--format", "json"]);
    assert_eq!(def["primary_key"], json!("id"));
    assert_eq!(def["indexes"][0]["name"], json!("by_city"));

    // One object, an array, JSON Lines on stdin, and a file; keys are printed.
    let keys = ok(&[
        "put",
        d,
        "people",
        r#"{"name": "Ada", "email": "ada@x.org", "age": 36, "address": {"city": "London"}}"#,
        "--who",
        "tester",
        "--why",
        "first row",
    ]);
    assert_eq!(keys.trim(), "1");
    let keys = ok(&[
        "put",
        d,
        "people",
        r#"[{"name": "Grace", "email": "grace@x.org", "age": 45, "address": {"city": "Arlington"}},
            {"name": "Linus", "email": "linus@x.org", "address": {"city": "Portland"}}]"#,
    ]);
    assert_eq!(keys.lines().collect::<Vec<_>>(), ["2", "3"]);
    let o = run(
        &["put", d, "people", "-"],
        Some(
            "{\"name\": \"Ken\", \"email\": \"ken@x.org\", \"age\": null}\n{\"name\": \"Barbara\", \"email\": \"barbara@x.org\", \"age\": 29, \"address\": {\"city\": \"Boston\"}}\n",
        ),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 2);
    let file = tmp.path().join("more.json");
    std::fs::write(
        &file,
        r#"{"id": 4, "name": "Ken Thompson", "email": "ken@x.org", "age": 81}"#,
    )
    .unwrap();
    ok(&["put", d, "people", "--file", s(&file), "--upsert"]);

    let ada = json_out(&["get", d, "people", "1", "--format", "json"]);
    assert_eq!(ada["address"]["city"], json!("London"));
    assert_eq!(ada["age"], json!(36));
    let ken = json_out(&["get", d, "people", "4", "--format", "json"]);
    assert_eq!(ken["name"], json!("Ken Thompson"));
    assert_eq!(ken["age"], json!(81));

    // Constraint violations, bad JSON, unknown tables and keys: one line, nothing changed.
    let err = fails(
        &[
            "put",
            d,
            "people",
            r#"{"name": "Eve", "email": "ada@x.org"}"#,
        ],
        1,
    );
    assert!(err.contains("email"), "{err}");
    let err = fails(
        &["put", d, "people", "{\"name\": \"Eve\",\n \"email\": }"],
        2,
    );
    assert!(err.contains("line 2, column"), "{err}");
    let err = fails(&["put", d, "nobody", r#"{"id": 1}"#], 1);
    assert!(
        err.contains("no table named \"nobody\"") && err.contains("people"),
        "{err}"
    );
    let err = fails(&["get", d, "people", "99"], 1);
    assert!(err.contains("no row with key 99"), "{err}");
    let err = fails(&["get", d, "people", "abc"], 2);
    assert!(err.contains("integer"), "{err}");
    let err = fails(&["get", d, "people", "-5"], 1);
    assert!(err.contains("no row with key -5"), "{err}");
    let err = fails(&["put", d, "people", "[]"], 2);
    assert!(err.contains("no rows"), "{err}");
    // Errors say things once.
    let err = fails(&["put", d, "people", "{\"name\": "], 2);
    assert_eq!(err.matches("line 1").count(), 1, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(jsonl_out(&["query", d, "people"]).len(), 5);

    // Queries: the --where language, order, limit, formats.
    let q = |filter: &str| -> Vec<String> {
        jsonl_out(&["query", d, "people", "--where", filter, "--order-by", "id"])
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(q("age >= 36"), ["Ada", "Grace", "Ken Thompson"]);
    assert_eq!(q("address.city = 'Boston'"), ["Barbara"]);
    assert_eq!(
        q("address.city in ('London', 'Portland')"),
        ["Ada", "Linus"]
    );
    assert_eq!(q("age is null"), ["Linus"]);
    assert_eq!(q("age is not null and not (age > 40)"), ["Ada", "Barbara"]);
    assert_eq!(
        q("name starts with 'Ken' or age < 30"),
        ["Ken Thompson", "Barbara"]
    );
    let top = jsonl_out(&[
        "query",
        d,
        "people",
        "--order-by",
        "age:desc",
        "--limit",
        "2",
    ]);
    assert_eq!(top[0]["name"], json!("Ken Thompson"));
    assert_eq!(top.len(), 2);
    let table = ok(&[
        "query", d, "people", "--where", "id = 1", "--format", "table",
    ]);
    assert!(
        table.contains("Ada") && table.contains("(1 row)"),
        "{table}"
    );
    let err = fails(&["query", d, "people", "--where", "age > > 3"], 2);
    assert!(err.contains("column 7"), "{err}");
    let err = fails(&["query", d, "people", "--order-by", "age:sideways"], 2);
    assert!(err.contains("--order-by"), "{err}");

    // Deletes, with the cause kept in the log.
    ok(&[
        "delete", d, "people", "3", "--who", "admin", "--why", "left",
    ]);
    fails(&["get", d, "people", "3"], 1);
    fails(&["delete", d, "people", "3"], 1);
    let log = jsonl_out(&["log", d, "--table", "people"]);
    let last = log.last().unwrap();
    assert_eq!(last["cause"]["who"], json!("admin"));
    assert!(jsonl_out(&["log", d, "--who", "tester"]).len() == 1);
    let table = ok(&["log", d, "--format", "table"]);
    assert!(table.contains("delete from people 3"), "{table}");

    // A usage error is exit code 2 (clap's own too).
    fails(&["query"], 2);
    fails(&["no-such-command"], 2);
}

#[test]
fn history_tags_diff_and_rollback() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let d = s(&dir);
    ok(&["create-table", d, "kv", "--primary-key", "k"]);
    ok(&[
        "put",
        d,
        "kv",
        r#"[{"k": "a", "v": 1}, {"k": "b", "v": 2}]"#,
    ]);
    let tagged = ok(&["tag", d, "v1"]);
    assert!(tagged.contains("v1"), "{tagged}");
    // Issue 25, finding 11: a bad tag name was an "invalid table name".
    let err = fails(&["tag", d, "no spaces"], 1);
    assert!(err.contains("invalid tag name"), "{err}");
    assert!(!err.contains("table"), "{err}");
    ok(&[
        "put",
        d,
        "kv",
        r#"{"k": "a", "v": 10}"#,
        "--upsert",
        "--who",
        "w",
    ]);
    ok(&["delete", d, "kv", "b"]);
    ok(&["put", d, "kv", r#"{"k": "c", "v": 3}"#]);

    let tags = jsonl_out(&["tags", d]);
    assert_eq!(tags[0]["tag"], json!("v1"));
    // An unknown tag is an error, not an empty diff.
    let err = fails(&["diff", d, "v1", "nope"], 1);
    assert!(err.contains("nope"), "{err}");
    let lsn = tags[0]["lsn"].as_u64().unwrap() + 4;
    let diff = jsonl_out(&["diff", d, "v1", &lsn.to_string()]);
    let mut changes: Vec<(String, String)> = diff
        .iter()
        .map(|c| {
            (
                c["change"].as_str().unwrap().to_owned(),
                c["key"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    changes.sort();
    assert_eq!(
        changes,
        [
            ("added".to_owned(), "c".to_owned()),
            ("changed".to_owned(), "a".to_owned()),
            ("removed".to_owned(), "b".to_owned())
        ]
    );
    let history = jsonl_out(&["history", d, "kv", "a"]);
    assert_eq!(history.len(), 2);
    assert_eq!(history[1]["after"]["v"], json!(10));
    assert_eq!(history[1]["cause"]["who"], json!("w"));

    // A time point: now is after everything.
    let now = "2999-01-01T00:00:00Z";
    assert_eq!(
        json_out(&["get", d, "kv", "a", "--as-of", now, "--format", "json"])["v"],
        json!(10)
    );
    assert_eq!(
        json_out(&["get", d, "kv", "a", "--as-of", "v1", "--format", "json"])["v"],
        json!(1)
    );

    let out = ok(&["rollback", d, "v1", "--who", "ops", "--why", "bad deploy"]);
    assert!(out.contains("rolled back"), "{out}");
    let rows = jsonl_out(&["query", d, "kv", "--order-by", "k"]);
    assert_eq!(rows, [json!({"k": "a", "v": 1}), json!({"k": "b", "v": 2})]);
    ok(&["tag", d, "v1", "--delete"]);
    assert!(jsonl_out(&["tags", d]).is_empty());
}

#[test]
fn stats_checkpoint_and_check() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let d = s(&dir);
    ok(&["create-table", d, "kv", "--primary-key", "k"]);
    for i in 0..20 {
        ok(&["put", d, "kv", &format!(r#"{{"k": "key{i}", "v": {i}}}"#)]);
    }
    let stats = json_out(&["stats", d, "--json"]);
    assert_eq!(stats["lsn"], json!(21));
    assert_eq!(stats["tables"][0]["rows"], json!(20));
    assert!(ok(&["stats", d]).contains("kv"));
    let cp = ok(&["checkpoint", d]);
    assert!(cp.contains("snapshot at LSN 21"), "{cp}");
    ok(&["put", d, "kv", r#"{"k": "after", "v": 0}"#]);

    let report = json_out(&["check", d, "--json"]);
    assert_eq!(report["healthy"], json!(true));
    assert_eq!(report["opens_at_lsn"], json!(22));

    // A torn tail: half a record at the end of the last segment.
    let segment = last_segment(&dir);
    let good_len = std::fs::metadata(&segment).unwrap().len();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&segment)
        .unwrap();
    f.write_all(&[0x20, 0, 0, 0, 0xde, 0xad]).unwrap();
    drop(f);
    let o = tabula(&["check", d]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let text = stdout(&o);
    assert!(text.contains("torn tail"), "{text}");
    assert!(text.contains(&format!("offset {good_len}")), "{text}");
    assert!(stderr(&o).contains("--fix"), "{}", stderr(&o));
    let o = tabula(&["check", d, "--fix", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(report["problems"][0]["kind"], json!("torn tail"));
    // Six bytes: too few for a frame header, said as data, not only as prose.
    assert_eq!(report["problems"][0]["damage"]["kind"], json!("truncated"));
    assert_eq!(report["problems"][0]["damage"]["available"], json!(6));
    assert!(stderr(&o).contains("cut 6 byte(s)"), "{}", stderr(&o));
    // Torn again, fixed again, in text.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&segment)
        .unwrap();
    f.write_all(&[0x20, 0, 0, 0, 0xde, 0xad]).unwrap();
    drop(f);
    let fixed = ok(&["check", d, "--fix"]);
    assert!(fixed.contains("cutting the end of the log"), "{fixed}");
    assert!(fixed.contains("cut 6 byte(s)"), "{fixed}");
    assert_eq!(std::fs::metadata(&segment).unwrap().len(), good_len);
    ok(&["check", d]);

    // Corruption: a flipped byte in a record that later records prove was synced.
    let mut bytes = std::fs::read(&segment).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&segment, &bytes).unwrap();
    let o = tabula(&["check", d, "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let report: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(report["problems"][0]["kind"], json!("corruption"));
    assert!(report["problems"][0]["offset"].as_u64().is_some());
    let damage = &report["problems"][0]["damage"];
    assert_eq!(damage["kind"], json!("checksum"), "{damage}");
    assert_ne!(damage["stored"], damage["computed"], "{damage}");
    let o = tabula(&["check", d, "--fix"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not fixed"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(&segment).unwrap(),
        bytes,
        "--fix changed nothing"
    );
    // Opening refuses too, with the file and offset.
    let err = fails(&["tables", d], 1);
    assert!(err.contains(".log"), "{err}");
    // Issue 25, finding 11: messages recommended a salvage mode no command offered. `check
    // --salvage` is it: the damaged records are skipped and listed, every valid one kept, and
    // the database opens normally again.
    let o = tabula(&["check", d]);
    assert!(stderr(&o).contains("check --salvage"), "{}", stderr(&o));
    let salvaged = tabula(&["check", d, "--salvage"]);
    let said = format!("{}{}", stdout(&salvaged), stderr(&salvaged));
    assert!(said.contains("lost "), "{said}");
    assert!(said.contains("salvaging"), "{said}");
    ok(&["tables", d]);
    let rows = jsonl_out(&["query", d, "kv"]);
    assert!(
        !rows.is_empty(),
        "the valid records around the damage are kept"
    );

    // Missing and non-database directories.
    // Could not check: exit code 2, so that 1 always means damage.
    let err = fails(&["check", s(&tmp.path().join("nope"))], 2);
    assert!(err.contains("no such"), "{err}");
    let err = fails(&["check", s(tmp.path())], 2);
    assert!(err.contains("not a tabula database"), "{err}");
}

fn last_segment(dir: &Path) -> PathBuf {
    let mut segments: Vec<PathBuf> = std::fs::read_dir(dir.join("wal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    segments.sort();
    segments.pop().unwrap()
}

/// Issue 25, finding 1: one flipped byte inside the last, complete, synced record made `check`
/// say "the unfinished end of the last write, no acknowledged commit in it" (false: it was
/// acknowledged), and the next command, even a read, deleted it. Now `check` says it may have
/// been acknowledged, and opening keeps its bytes under `wal/quarantine/`.
#[test]
fn a_damaged_last_record_is_reported_as_possibly_acknowledged_and_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let d = s(&dir);
    ok(&["create-table", d, "kv", "--primary-key", "k"]);
    ok(&["put", d, "kv", r#"{"k": "a", "v": 1}"#]);
    ok(&["put", d, "kv", r#"{"k": "b", "v": 2}"#]);
    let segment = last_segment(&dir);
    let mut bytes = std::fs::read(&segment).unwrap();
    let at = bytes.len() - 3;
    bytes[at] ^= 0x20;
    std::fs::write(&segment, &bytes).unwrap();
    let damaged_tail = bytes.len();

    let o = tabula(&["check", d]);
    assert_eq!(o.status.code(), Some(1));
    let said = format!("{}{}", stdout(&o), stderr(&o));
    assert!(said.contains("damaged tail"), "{said}");
    assert!(said.contains("may have been acknowledged"), "{said}");
    assert!(!said.contains("no acknowledged commit in it"), "{said}");

    // A read writes nothing (issue 25, finding 2): it reads without the damaged record and
    // leaves the file as it is.
    let o = tabula(&["query", d, "kv"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains(r#""k":"a""#), "{}", stdout(&o));
    assert_eq!(
        std::fs::read(&segment).unwrap(),
        bytes,
        "a read changed the log"
    );
    assert!(!dir.join("wal/quarantine").exists());
    // A writing open moves the record's bytes to the quarantine, and says so.
    let o = tabula(&["check", d, "--fix"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let said = format!("{}{}", stdout(&o), stderr(&o));
    assert!(said.contains("quarantine"), "{said}");
    let kept: Vec<PathBuf> = std::fs::read_dir(dir.join("wal/quarantine"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    let quarantined = std::fs::read(&kept[0]).unwrap();
    let cut = std::fs::metadata(&segment).unwrap().len() as usize;
    assert_eq!(
        quarantined,
        bytes[cut..damaged_tail],
        "the bytes cut are the bytes kept"
    );
    // The database is healthy again.
    ok(&["check", d]);
}

/// A `tabula stress` writer on `dir`, once it acknowledged its first commit (so it has the
/// database open), with its acks pipe: keep that alive, closing it would stop the writer.
fn start_writer(
    dir: &Path,
) -> (
    std::process::Child,
    std::io::BufReader<std::process::ChildStdout>,
) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tabula"))
        .args(["stress", s(dir), "--writers", "1", "--seconds", "30"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut acks = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut acks, &mut first).unwrap();
    assert!(first.starts_with("ack "), "{first}");
    (child, acks)
}

#[test]
fn a_database_held_by_another_process_names_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let (mut child, acks) = start_writer(&dir);
    let err = fails(
        &["create-table", s(&dir), "other", "--primary-key", "id"],
        1,
    );
    // Reading needs no lock (issue 25, finding 2): `tables` works beside the writer.
    let listed = ok(&["tables", s(&dir)]);
    child.kill().unwrap();
    child.wait().unwrap();
    drop(acks);
    assert!(
        err.contains(&format!("held by process {}", child.id())),
        "{err}"
    );
    assert!(!listed.is_empty());
}

/// Issue 25, finding 3: deleting `LOCK` (the usual reflex with a "stale" lock) let a second
/// writer in, and both appended to one log. The directory's own lock still refuses it.
#[test]
fn deleting_lock_under_a_writer_lets_no_second_writer_in() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let (mut child, acks) = start_writer(&dir);
    std::fs::remove_file(dir.join("LOCK")).unwrap();
    let err = fails(
        &["create-table", s(&dir), "intruder", "--primary-key", "id"],
        1,
    );
    let checkpoint = fails(&["checkpoint", s(&dir)], 1);
    child.kill().unwrap();
    child.wait().unwrap();
    drop(acks);
    assert!(err.contains("LOCK file was deleted"), "{err}");
    assert!(
        checkpoint.contains("held by another process"),
        "{checkpoint}"
    );
    // Once the writer is gone the database opens, without the intruder's table.
    let listed = ok(&["tables", s(&dir)]);
    assert!(!listed.contains("intruder"), "{listed}");
}

/// Issue 25, finding 4: `dump` and `backup` renamed a temporary file over their output, so a
/// symlink, a FIFO or a device given as the output became a regular file (as root, `tabula dump
/// DIR /dev/null` replaced the system's `/dev/null`). Now links are followed and kept, special
/// files written through.
#[cfg(unix)]
#[test]
fn dump_to_a_symlink_or_a_fifo_writes_through_and_replaces_nothing() {
    use std::os::unix::fs::FileTypeExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    ok(&["demo", s(&dir)]);
    let real = tmp.path().join("real.json");
    let link = tmp.path().join("link.json");
    std::fs::write(&real, "old").unwrap();
    std::os::unix::fs::symlink(&real, &link).unwrap();
    ok(&["dump", s(&dir), s(&link)]);
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let dumped = std::fs::read_to_string(&real).unwrap();
    assert!(dumped.contains("students"), "{dumped}");

    let fifo = tmp.path().join("pipe");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    ok(&["dump", s(&dir), s(&fifo)]);
    assert!(
        std::fs::metadata(&fifo).unwrap().file_type().is_fifo(),
        "the FIFO was replaced by a regular file"
    );
    let read = reader.join().unwrap();
    assert!(read.contains("students"), "{read}");
    // A directory is refused, naming it.
    let err = fails(&["backup", s(&dir), s(tmp.path())], 1);
    assert!(err.contains("is a directory"), "{err}");
}

/// Issue 25, finding 7: integers beyond 64 bits became floats, so two distinct large keys
/// collided and an upsert overwrote another row; a member named twice was accepted, the last
/// one winning, the key included. Each is now refused, naming the value and line, with nothing
/// written.
#[test]
fn integers_beyond_64_bits_and_repeated_members_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let d = s(&dir);
    ok(&["create-table", d, "ids", "--primary-key", "id"]);
    ok(&["put", d, "ids", r#"{"id": 1, "v": "kept"}"#]);
    for (input, says) in [
        (
            r#"{"id": 18446744073709551616, "v": "a"}"#,
            "18446744073709551616",
        ),
        (
            "{\"id\": 2, \"v\": \"a\"}\n{\"id\": 18446744073709551617, \"v\": \"b\"}",
            "line 2",
        ),
        (
            r#"{"id": 9223372036854775808, "v": "a"}"#,
            "9223372036854775808",
        ),
        (
            r#"{"id": 3, "v": {"n": -99999999999999999999}}"#,
            "-99999999999999999999",
        ),
        (r#"{"id": 1, "v": "x", "id": 4}"#, "\"id\" appears twice"),
        (r#"{"id": 5, "v": {"a": 1, "a": 2}}"#, "\"a\" appears twice"),
    ] {
        let err = fails(&["put", d, "ids", input], 2);
        assert!(err.contains(says), "{input}: {err}");
    }
    let rows = jsonl_out(&["query", d, "ids"]);
    assert_eq!(rows, [json!({"id": 1, "v": "kept"})], "nothing was written");
}

/// Issue 25, finding 6: a `load` or `restore` killed before the end left a directory that
/// opened, exit 0, with no tables, and a rerun refused it as "not empty". Now the new directory
/// appears only whole (built aside, renamed last), and a rerun works.
#[test]
fn a_killed_load_leaves_no_directory_that_opens() {
    let tmp = tempfile::tempdir().unwrap();
    let source_dir = tmp.path().join("source");
    let src = s(&source_dir);
    ok(&["create-table", src, "t", "--primary-key", "id"]);
    let rows: String = (0..60_000)
        .map(|i| format!("{{\"id\": {i}, \"text\": \"row number {i} with some text\"}}\n"))
        .collect();
    let o = run(&["put", src, "t"], Some(&rows));
    assert!(o.status.success(), "{}", stderr(&o));
    let file = tmp.path().join("dump.json");
    ok(&["dump", src, s(&file)]);

    let target = tmp.path().join("target");
    // Killed the moment the target's name appears: before, that was when the load began
    // writing into it; now it is when the whole database is renamed into place.
    let mut child = Command::new(env!("CARGO_BIN_EXE_tabula"))
        .args(["load", s(&file), s(&target)])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    while !target.exists() && child.try_wait().unwrap().is_none() {
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
    child.kill().ok();
    child.wait().unwrap();
    let listed = ok(&["tables", s(&target)]);
    assert!(
        listed.contains("60000"),
        "a half-made database opened: {listed}"
    );
    std::fs::remove_dir_all(&target).unwrap();
    // A rerun into the same name is not refused, and leaves nothing of the killed run behind.
    ok(&["load", s(&file), s(&target)]);
    let count = jsonl_out(&["query", s(&target), "t", "--limit", "1"]);
    assert_eq!(count.len(), 1);
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn dumps_exports_backups_and_restores_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let d = s(&dir);
    ok(&["demo", d]);
    let students = jsonl_out(&["query", d, "students", "--order-by", "id"]);
    let check_students = |db: &Path| {
        assert_eq!(
            jsonl_out(&["query", s(db), "students", "--order-by", "id"]),
            students
        );
    };

    for (i, (format, compress)) in [
        ("json", None),
        ("json", Some("zstd")),
        ("msgpack", Some("lz4")),
        ("bincode", None),
        ("bincode", Some("none")),
    ]
    .into_iter()
    .enumerate()
    {
        let file = tmp.path().join(format!("dump{i}"));
        let mut args = vec!["dump", d, s(&file), "--format", format];
        if let Some(c) = compress {
            args.extend(["--compress", c]);
        }
        let out = ok(&args);
        assert!(out.contains("dumped 15 row(s) in 3 table(s)"), "{out}");
        let loaded = tmp.path().join(format!("loaded{i}"));
        let out = ok(&["load", s(&file), s(&loaded)]);
        let expect = if format == "json" && compress.is_none() {
            "(dictdb)"
        } else {
            "(tabula)"
        };
        assert!(out.contains(expect), "{out}");
        check_students(&loaded);
    }
    // One table, at a past point.
    let one = tmp.path().join("one.json");
    ok(&[
        "dump",
        d,
        s(&one),
        "--table",
        "students",
        "--as-of",
        "enrolled",
    ]);
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&one).unwrap()).unwrap();
    assert_eq!(doc["tables"].as_object().unwrap().len(), 1);
    let bob = doc["tables"]["students"]["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == json!(2))
        .unwrap()
        .clone();
    assert_eq!(bob["gpa"], json!(3.5));

    // Export, and load the directory back.
    let exported = tmp.path().join("exported");
    ok(&["export", d, s(&exported)]);
    let err = fails(&["export", d, s(&exported)], 1);
    assert!(err.contains("not empty"), "{err}");
    assert!(exported.join("data/students.records").is_file());
    let from_dir = tmp.path().join("from-dir");
    let out = ok(&["load", s(&exported), s(&from_dir), "--from", "tables-dir"]);
    assert!(out.contains("(tables-dir)"), "{out}");
    check_students(&from_dir);

    // Backup and restore; restore --to a point of a database directory.
    let backup = tmp.path().join("backup.tsnap");
    ok(&["backup", d, s(&backup)]);
    let restored = tmp.path().join("restored");
    ok(&["restore", s(&backup), s(&restored)]);
    check_students(&restored);
    let err = fails(&["restore", s(&backup), s(&restored)], 1);
    assert!(err.contains("not empty"), "{err}");
    let err = fails(
        &["restore", s(&backup), s(&tmp.path().join("x")), "--to", "3"],
        2,
    );
    assert!(err.contains("--to"), "{err}");
    let past = tmp.path().join("past");
    ok(&["restore", d, s(&past), "--to", "enrolled"]);
    let bob = json_out(&["get", s(&past), "students", "2", "--format", "json"]);
    assert_eq!(bob["gpa"], json!(3.5));

    // A load refuses an occupied directory and a damaged source, and creates nothing then.
    let err = fails(&["load", s(&backup), d], 1);
    assert!(err.contains("not empty"), "{err}");
    let bad = tmp.path().join("bad.json");
    std::fs::write(
        &bad,
        "{\"tables\": {\"t\": {\"primary_key\": \"id\", \"records\": [1,",
    )
    .unwrap();
    let target = tmp.path().join("never");
    fails(&["load", s(&bad), s(&target)], 1);
    assert!(!target.join("snapshots").exists());
}

#[test]
fn dictdb_and_deltatrace_files_load_and_query() {
    let tmp = tempfile::tempdir().unwrap();
    let dict = tmp.path().join("dict");
    let out = ok(&[
        "load",
        s(&fixture(
            "crates/snapshot/tests/fixtures/dictdb/dictdb-1.11.json",
        )),
        s(&dict),
    ]);
    assert!(out.contains("(dictdb)"), "{out}");
    let users = jsonl_out(&[
        "query",
        s(&dict),
        "users",
        "--where",
        "address.city = 'Paris'",
    ]);
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["name"], json!("Alice"));
    assert_eq!(users[0]["tags"], json!(["admin"]));
    let bob = json_out(&["get", s(&dict), "users", "2", "--format", "json"]);
    assert_eq!(bob["score"], json!(7.5));
    assert_eq!(bob["note"], Value::Null);

    let delta = tmp.path().join("delta");
    let out = ok(&[
        "load",
        s(&fixture(
            "crates/snapshot/tests/fixtures/deltatrace/university.json",
        )),
        s(&delta),
    ]);
    assert!(out.contains("(deltatrace)"), "{out}");
    let paris = jsonl_out(&[
        "query",
        s(&delta),
        "users",
        "--where",
        "address.city = 'Paris' and score > 80",
    ]);
    assert_eq!(paris.len(), 1);
    assert_eq!(paris[0]["name"], json!("Alice"));
    assert_eq!(paris[0]["address"]["geo"]["lat"], json!(48.8566));
    let products = jsonl_out(&["query", s(&delta), "products", "--order-by", "_key"]);
    assert_eq!(products.len(), 3);
    assert_eq!(products[0]["sku"], json!("P-001"));
    assert_eq!(products[0]["_key"], json!(1));
    // Forcing the wrong reader is a clear error.
    let err = fails(
        &[
            "load",
            s(&fixture(
                "crates/snapshot/tests/fixtures/deltatrace/university.json",
            )),
            s(&tmp.path().join("wrong")),
            "--from",
            "tabula",
        ],
        1,
    );
    assert!(err.contains("university.json"), "{err}");
}

#[test]
fn update_and_delete_by_filter_are_one_transaction_each() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let d = s(&dir);
    ok(&[
        "create-table",
        d,
        "stock",
        "--primary-key",
        "sku",
        "--schema",
        r#"{"sku": "text", "count": "int", "note": "text", "seen": "timestamp",
            "code": {"type": "text", "unique": true}}"#,
    ]);
    ok(&[
        "put",
        d,
        "stock",
        r#"[{"sku": "a", "count": 1, "code": "x1"}, {"sku": "b", "count": 5, "code": "x2"},
            {"sku": "c", "count": 9, "code": "x3"}, {"sku": "7", "count": 2, "code": "x4"}]"#,
    ]);
    let lsn = |d: &str| json_out(&["stats", d, "--json"])["lsn"].clone();

    // By filter: every matching row in one transaction, with its cause; values by column type.
    let before = lsn(d);
    let out = ok(&[
        "update",
        d,
        "stock",
        "--where",
        "count < 6",
        "--set",
        "count=100",
        "--set",
        "note=low 42",
        "--set",
        "seen=2026-12-07T10:00:00Z",
        "--who",
        "clerk",
    ]);
    assert_eq!(out.trim(), "updated 3 rows (3 matched)");
    assert_eq!(
        lsn(d),
        json!(before.as_u64().unwrap() + 1),
        "one transaction"
    );
    let a = json_out(&["get", d, "stock", "a", "--format", "json"]);
    assert_eq!(a["count"], json!(100));
    assert_eq!(a["note"], json!("low 42"));
    assert_eq!(a["seen"], json!({"$ts": "2026-12-07T10:00:00Z"}));
    let log = jsonl_out(&["log", d, "--who", "clerk"]);
    assert_eq!(log.len(), 1);
    // By key, a text key that looks like a number included; a row already holding the values is
    // matched but not written.
    assert_eq!(
        ok(&["update", d, "stock", "7", "--set", "count=100"]).trim(),
        "updated 0 rows (1 matched)"
    );
    assert_eq!(
        ok(&["update", d, "stock", "c", "--set", "count=-1"]).trim(),
        "updated 1 row (1 matched)"
    );

    // A change that breaks the unique index on one row changes none of them.
    let before = lsn(d);
    let err = fails(
        &[
            "update",
            d,
            "stock",
            "--where",
            "count = 100",
            "--set",
            "code=same",
        ],
        1,
    );
    assert!(err.contains("unique"), "{err}");
    assert_eq!(lsn(d), before);
    assert_eq!(
        jsonl_out(&["query", d, "stock", "--where", "code = 'same'"]).len(),
        0
    );

    // Usage errors: exit 2, nothing written.
    for args in [
        &["update", d, "stock", "a"][..],
        &["update", d, "stock", "--set", "count=1"],
        &[
            "update",
            d,
            "stock",
            "a",
            "--where",
            "count = 1",
            "--set",
            "count=1",
        ],
        &["update", d, "stock", "a", "--set", "count"],
        &["update", d, "stock", "a", "--set", "count=lots"],
        &["update", d, "stock", "a", "--set", "nope=1"],
        &["update", d, "stock", "a", "--set", "sku=z"],
        &[
            "update", d, "stock", "--where", "count >", "--set", "count=1",
        ],
        &["delete", d, "stock"],
        &["delete", d, "stock", "a", "--where", "count = 1"],
    ] {
        fails(args, 2);
    }
    assert_eq!(lsn(d), before);
    let err = fails(&["update", d, "stock", "zz", "--set", "count=1"], 1);
    assert!(err.contains("no row with key zz"), "{err}");

    // Delete by filter.
    assert_eq!(
        ok(&[
            "delete",
            d,
            "stock",
            "--where",
            "count >= 100",
            "--why",
            "sold out"
        ])
        .trim(),
        "deleted 3 rows"
    );
    assert_eq!(
        ok(&["delete", d, "stock", "--where", "count >= 100"]).trim(),
        "deleted 0 rows"
    );
    let left = jsonl_out(&["query", d, "stock"]);
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["sku"], json!("c"));
}

/// An error chain (the CLI's context, the engine's, the log's, the file's) prints each message
/// once, without de-duplication code: every wrapping error carries its inner one in `Display`
/// only (ARCHITECTURE.md, invariant 12).
#[test]
fn an_error_chain_says_each_thing_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let d = s(&dir);
    ok(&["create-table", d, "t", "--primary-key", "id"]);
    for i in 1..=3 {
        ok(&["put", d, "t", &format!("{{\"id\": {i}}}")]);
    }
    let segment = std::fs::read_dir(dir.join("wal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "log"))
        .unwrap();
    let mut bytes = std::fs::read(&segment).unwrap();
    bytes[60] ^= 0xff;
    std::fs::write(&segment, bytes).unwrap();
    let err = fails(&["get", d, "t", "1"], 1);
    let line = err.trim();
    assert_eq!(line.lines().count(), 1, "{err}");
    let parts: Vec<&str> = line.split(": ").collect();
    for (i, part) in parts.iter().enumerate() {
        assert!(
            !parts[i + 1..]
                .iter()
                .any(|later| later.contains(part) || part.contains(later)),
            "{part:?} is said twice in {line}"
        );
    }
    assert!(line.contains("checksum"), "{line}");
}

/// Issue 26: a key of several columns from the command line (`--primary-key order_id,line`),
/// and `get`, `update`, `history` and `delete` by `7,1`; a key of the wrong shape is a usage
/// error naming the columns, and the same parts twice a duplicate key.
#[test]
fn keys_of_several_columns() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let dir = dir.to_str().unwrap();
    let schema = r#"{"order_id": {"type": "int", "nullable": false},
                     "line": {"type": "int", "nullable": false}, "qty": "int"}"#;
    ok(&[
        "create-table",
        dir,
        "lines",
        "--primary-key",
        "order_id,line",
        "--schema",
        schema,
    ]);
    let rows = r#"[{"order_id": 7, "line": 1, "qty": 3}, {"order_id": 7, "line": 2, "qty": 1}]"#;
    let put = run(&["put", dir, "lines"], Some(rows));
    assert!(put.status.success(), "{}", stderr(&put));
    assert_eq!(stdout(&put), "[7,1]\n[7,2]\n");
    let row: Value = serde_json::from_str(&ok(&["get", dir, "lines", "7,2"])).unwrap();
    assert_eq!(
        row,
        json!({"key": [7, 2], "order_id": 7, "line": 2, "qty": 1})
    );
    ok(&["update", dir, "lines", "7,1", "--set", "qty=4"]);
    assert_eq!(ok(&["history", dir, "lines", "7,1"]).lines().count(), 2);
    let wrong = fails(&["get", dir, "lines", "7"], 2);
    assert!(wrong.contains("order_id, line"), "{wrong}");
    let again = run(
        &["put", dir, "lines"],
        Some(r#"{"order_id": 7, "line": 1}"#),
    );
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("duplicate primary key"),
        "{}",
        stderr(&again)
    );
    let json_key: Value = serde_json::from_str(&ok(&["get", dir, "lines", "[7, 2]"])).unwrap();
    assert_eq!(json_key["qty"], 1);
    assert!(ok(&["schema", dir, "lines", "--format", "table"]).contains("(order_id, line)"));
    ok(&["delete", dir, "lines", "7,1"]);
    fails(&["get", dir, "lines", "7,1"], 1);
    let schemaless = fails(&["create-table", dir, "t", "--primary-key", "a,b"], 2);
    assert!(schemaless.contains("--schema"), "{schemaless}");
}
