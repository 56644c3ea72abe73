//! Progress bars of the `tabula` tool: a load and a dump of 1,000,000 rows draw them on a
//! terminal (a pty from util-linux's `script`, whose copy of the terminal's output the test
//! reads), and draw nothing in a pipe or with `--quiet`.
//!
//! Without `script` (util-linux) the terminal test has nothing to run under: it says so and
//! passes. The pipe test needs no terminal and always runs.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "tests"
)]
#![cfg(unix)]

use std::ffi::OsStr;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Instant;

/// Enough rows that a load and a dump take far longer than the bars' first tick (100 ms).
const ROWS: u64 = 1_000_000;

/// What only a drawn bar puts in the output: the bars' messages, the rate that every template
/// shows, and the escape sequence that redraws a line.
const BAR_TEXT: [&str; 5] = ["loading", "writing", "dumping", "B/s", "\x1b["];

/// Writes a DictDB JSON document with one schemaless table `big` of `ROWS` rows.
fn write_dictdb(path: &Path) {
    let mut out = BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(
        out,
        "{{\"tables\": {{\"big\": {{\"primary_key\": \"id\", \"schema\": null, \"records\": ["
    )
    .unwrap();
    for id in 0..ROWS {
        let comma = if id + 1 < ROWS { "," } else { "" };
        writeln!(
            out,
            "{{\"id\": {id}, \"name\": \"row-{id}\", \"n\": {}}}{comma}",
            id % 97
        )
        .unwrap();
    }
    writeln!(out, "]}}}}}}").unwrap();
    out.into_inner().unwrap().sync_all().unwrap();
}

/// A fresh directory holding the 1M-row DictDB file `big.json`.
fn fixture() -> tempfile::TempDir {
    let temp = tempfile::tempdir().unwrap();
    let started = Instant::now();
    write_dictdb(&temp.path().join("big.json"));
    println!(
        "wrote {ROWS} rows of DictDB JSON in {:?}",
        started.elapsed()
    );
    temp
}

/// True when util-linux's `script` is here to give a command a terminal.
fn have_script() -> bool {
    let found = Command::new("script")
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| {
            o.status.success() && String::from_utf8_lossy(&o.stdout).contains("util-linux")
        });
    if !found {
        println!(
            "SKIPPED: util-linux's `script` is not installed (Debian: bsdutils), so no terminal to draw on"
        );
    }
    found
}

fn quote(arg: &OsStr) -> String {
    let text = arg.to_str().expect("a UTF-8 path");
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Runs `tabula ARGS` with a pty for its stdin, stdout and stderr (`script -qfec`), and returns
/// everything it wrote to the terminal, stdout and stderr interleaved. Fails unless it exits 0.
fn on_a_terminal(args: &[&OsStr]) -> String {
    let line = std::iter::once(OsStr::new(env!("CARGO_BIN_EXE_tabula")))
        .chain(args.iter().copied())
        .map(quote)
        .collect::<Vec<_>>()
        .join(" ");
    let started = Instant::now();
    let output = Command::new("script")
        .args(["-qfec", &line, "/dev/null"])
        // `script -c` runs the line with $SHELL; indicatif draws nothing when TERM is unset or
        // `dumb`, as CI machines often have it.
        .env("SHELL", "/bin/sh")
        .env("TERM", "xterm")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{line} under script failed ({}):\n{text:?}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    println!(
        "on a terminal: tabula {} in {:?}, {} byte(s) of output",
        args.first().unwrap().to_string_lossy(),
        started.elapsed(),
        text.len()
    );
    text
}

/// Runs `tabula ARGS` with stdout and stderr piped (TERM set, so only the pipe can hide the
/// bars). Fails unless it exits 0.
fn in_a_pipe(args: &[&OsStr]) -> Output {
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_tabula"))
        .args(args)
        .env("TERM", "xterm")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "tabula {args:?} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    println!(
        "in a pipe: tabula {} in {:?}",
        args.first().unwrap().to_string_lossy(),
        started.elapsed()
    );
    output
}

/// The frames drawn for `message`: the pieces between carriage returns that name it.
fn frames<'a>(output: &'a str, message: &str) -> Vec<&'a str> {
    output
        .split('\r')
        .filter(|frame| frame.contains(message))
        .collect()
}

fn assert_no_bar(output: &str, what: &str) {
    for text in BAR_TEXT {
        assert!(
            !output.contains(text),
            "{what}: {text:?} in the output, as if a progress bar was drawn:\n{output:?}"
        );
    }
}

#[test]
fn a_terminal_shows_load_and_dump_progress() {
    if !have_script() {
        return;
    }
    let temp = fixture();
    let source = temp.path().join("big.json");
    let db = temp.path().join("db");
    let dump = temp.path().join("out.json");

    let output = on_a_terminal(&["load".as_ref(), source.as_ref(), db.as_ref()]);
    assert!(
        output.contains(&format!("loaded {ROWS} row(s)")),
        "{output:?}"
    );
    // The bar over the file's bytes: `loading [=====>     ] 12.00 MiB/44.51 MiB (9.5 MiB/s, 3s)`.
    let loading = frames(&output, "loading [");
    assert!(
        !loading.is_empty(),
        "no `loading` bar on the terminal:\n{output:?}"
    );
    assert!(
        loading
            .iter()
            .any(|f| f.contains("loading [=") && f.contains(" MiB/") && f.contains("B/s")),
        "the `loading` bar never moved:\n{loading:#?}"
    );
    // Redrawn as the load went, not printed once.
    assert!(loading.len() > 1, "one `loading` frame only:\n{output:?}");

    let output = on_a_terminal(&["dump".as_ref(), db.as_ref(), dump.as_ref()]);
    assert!(
        output.contains(&format!("dumped {ROWS} row(s)")),
        "{output:?}"
    );
    // A spinner counting bytes (a dump's size is unknown ahead): `⠙ dumping 3.87 MiB (38.6 MiB/s)`.
    let dumping = frames(&output, "dumping ");
    assert!(
        dumping
            .iter()
            .any(|f| f.contains(" MiB (") && f.contains("B/s)")),
        "no `dumping` progress with a byte count on the terminal:\n{output:?}"
    );
}

#[test]
fn a_pipe_shows_no_progress() {
    let temp = fixture();
    let source = temp.path().join("big.json");
    let db = temp.path().join("db");
    let dump = temp.path().join("out.json");

    let output = in_a_pipe(&["load".as_ref(), source.as_ref(), db.as_ref()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!("loaded {ROWS} row(s)")),
        "{stdout}"
    );
    assert_no_bar(
        &String::from_utf8_lossy(&output.stderr),
        "stderr of a piped load",
    );

    let output = in_a_pipe(&["dump".as_ref(), db.as_ref(), dump.as_ref()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!("dumped {ROWS} row(s)")),
        "{stdout}"
    );
    assert_no_bar(
        &String::from_utf8_lossy(&output.stderr),
        "stderr of a piped dump",
    );
}

#[test]
fn quiet_shows_no_progress_on_a_terminal() {
    if !have_script() {
        return;
    }
    let temp = fixture();
    let source = temp.path().join("big.json");
    let db = temp.path().join("db");
    let dump = temp.path().join("out.json");

    let output = on_a_terminal(&[
        "load".as_ref(),
        "--quiet".as_ref(),
        source.as_ref(),
        db.as_ref(),
    ]);
    assert!(
        output.contains(&format!("loaded {ROWS} row(s)")),
        "{output:?}"
    );
    assert_no_bar(&output, "load --quiet on a terminal");

    let output = on_a_terminal(&["dump".as_ref(), "-q".as_ref(), db.as_ref(), dump.as_ref()]);
    assert!(
        output.contains(&format!("dumped {ROWS} row(s)")),
        "{output:?}"
    );
    assert_no_bar(&output, "dump -q on a terminal");
}
