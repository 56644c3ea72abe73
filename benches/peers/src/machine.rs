//! What the report says of the machine: CPU, cores, memory, kernel, the file system the data
//! lives on, and the date, read from `/proc`, `uname` and `df` where they exist (the report says
//! `unknown` where they do not, rather than failing the run).

use std::path::Path;
use std::process::Command;

fn command(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
}

fn memory() -> Option<String> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: f64 = info
        .lines()
        .find(|l| l.starts_with("MemTotal:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(format!("{:.1} GiB", kib / (1024.0 * 1024.0)))
}

/// The machine, as (what, value) pairs, with the file system holding `data_dir`.
#[must_use]
pub fn describe(data_dir: &Path) -> Vec<(String, String)> {
    let unknown = || "unknown".to_owned();
    let dir = data_dir.to_string_lossy();
    let fs = command("df", &["--output=fstype,source", &dir]).and_then(|out| {
        out.lines()
            .nth(1)
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" on "))
    });
    vec![
        ("CPU".to_owned(), cpu_model().unwrap_or_else(unknown)),
        (
            "cores".to_owned(),
            std::thread::available_parallelism().map_or_else(|_| unknown(), |n| n.to_string()),
        ),
        ("memory".to_owned(), memory().unwrap_or_else(unknown)),
        (
            "kernel".to_owned(),
            command("uname", &["-sr"]).unwrap_or_else(unknown),
        ),
        (
            "data directory".to_owned(),
            format!("{dir} ({})", fs.unwrap_or_else(unknown)),
        ),
        (
            "rustc".to_owned(),
            command("rustc", &["--version"]).unwrap_or_else(unknown),
        ),
        (
            "allocator".to_owned(),
            "mimalloc, for everything in the bench's process (tabula, SQLite, redb, fjall, std \
             HashMap, as the `tabula` CLI uses it); Redis and Tarantool use their own"
                .to_owned(),
        ),
    ]
}

/// Today's date and time in UTC, as `date -u` gives it.
#[must_use]
pub fn now() -> String {
    command("date", &["-u", "+%Y-%m-%d %H:%M UTC"]).unwrap_or_else(|| "unknown date".to_owned())
}
