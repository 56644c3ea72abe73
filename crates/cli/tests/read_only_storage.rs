//! Issue 25, finding 2: a database on read-only storage (a read-only mount, a file-system
//! snapshot) could not be read at all, and history commands took the lock. Here every file and
//! directory of a database is made read-only and every reading command runs as a user that
//! cannot write them (as `nobody` through `setpriv` when the tests run as root, where file modes
//! do not bind), and must answer, and change no byte.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests"
)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_tabula")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Runs `tabula args` as a user that cannot write the database: `nobody` when root.
fn run_unprivileged(args: &[&str]) -> Output {
    let mut command = if is_root() {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", bin()]);
        c
    } else {
        Command::new(bin())
    };
    command.args(args).env("HOME", "/tmp").output().unwrap()
}

fn set_modes(path: &Path, dir_mode: u32, file_mode: u32) {
    let mode = if path.is_dir() { dir_mode } else { file_mode };
    if path.is_dir() {
        // Open it up first when making it writable, close it last when not.
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
        for entry in std::fs::read_dir(path).unwrap() {
            set_modes(&entry.unwrap().path(), dir_mode, file_mode);
        }
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn contents(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(contents(&path));
        } else {
            files.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    files.sort();
    files
}

#[test]
fn every_read_command_answers_on_read_only_files_and_writes_nothing() {
    if is_root() && Command::new("setpriv").arg("--help").output().is_err() {
        panic!("running as root needs setpriv (util-linux) to drop to an unprivileged user");
    }
    let temp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let db = temp.path().join("db");
    let out = temp.path().join("out");
    let made = Command::new(bin())
        .args(["-q", "demo", db.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    std::fs::create_dir(&out).unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o777)).unwrap();
    set_modes(&db, 0o555, 0o444);
    let before = contents(&db);

    let d = db.to_str().unwrap();
    let o = |name: &str| out.join(name).to_str().unwrap().to_owned();
    let (dump, export, backup, restored) = (o("dump.json"), o("export"), o("b.tbk"), o("r"));
    let commands: Vec<Vec<&str>> = vec![
        vec!["tables", d],
        vec!["schema", d, "students"],
        vec!["get", d, "students", "2"],
        vec!["get", d, "students", "2", "--as-of", "enrolled"],
        vec!["query", d, "students", "--where", "gpa > 3.5"],
        vec!["stats", d],
        vec!["check", d],
        vec!["log", d, "--table", "enrollments"],
        vec!["history", d, "students", "2"],
        vec!["diff", d, "enrolled", "7"],
        vec!["tags", d],
        vec!["dump", d, &dump],
        vec!["export", d, &export],
        vec!["backup", d, &backup],
        vec!["restore", d, &restored, "--to", "enrolled"],
    ];
    let mut failed = Vec::new();
    for args in &commands {
        let output = run_unprivileged(args);
        if !output.status.success() || output.stdout.is_empty() {
            failed.push(format!(
                "tabula {}: {}{}",
                args.join(" "),
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    // The storage really is read-only for this user: a writing command fails.
    let write = run_unprivileged(&["tag", d, "written"]);
    set_modes(&db, 0o755, 0o644);
    assert!(failed.is_empty(), "{failed:#?}");
    assert!(!write.status.success(), "a write went through: {write:?}");
    assert_eq!(
        contents(&db),
        before,
        "a reading command changed the database"
    );
    // What they wrote is whole: the restored past point opens at the tag.
    let tables = Command::new(bin())
        .args(["tables", &restored])
        .output()
        .unwrap();
    assert!(tables.status.success(), "{tables:?}");
}
