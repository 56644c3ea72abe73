//! Issue 25, finding 10: durability gaps. `dump` and `backup` renamed their file into place
//! without syncing the directory after (a power loss could take the new name back), and a new
//! database's directory entry was never synced in its parent. Each output here is traced with
//! `strace`, and after the rename that puts it in place, the directory holding it must be opened
//! and fsynced. (`.ci/run` installs strace.)

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests"
)]

use std::path::Path;
use std::process::Command;

/// Runs `tabula args` under strace and returns the trace of renames, opens and syncs.
fn traced(dir: &Path, args: &[&str]) -> Vec<String> {
    let log = dir.join("strace.log");
    let status = Command::new("strace")
        .args([
            "-f",
            "-e",
            "trace=rename,renameat,renameat2,fsync,fdatasync,openat",
            "-o",
        ])
        .arg(&log)
        .arg(env!("CARGO_BIN_EXE_tabula"))
        .arg("-q")
        .args(args)
        .status()
        .unwrap_or_else(|e| panic!("strace is needed for this test (apt-get install strace): {e}"));
    assert!(status.success(), "tabula {args:?} under strace: {status}");
    std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// After the rename whose target is `target`, its parent directory is opened and fsynced.
fn assert_synced_after_rename(trace: &[String], target: &Path) {
    let target = format!("\"{}\"", target.display());
    let parent = format!("\"{}\"", target_parent(&target));
    let renamed = trace
        .iter()
        .position(|l| l.contains("rename") && l.contains(&target) && l.ends_with("= 0"))
        .unwrap_or_else(|| panic!("no rename to {target}:\n{}", trace.join("\n")));
    let after = &trace[renamed + 1..];
    let fd = after
        .iter()
        .find(|l| l.contains("openat(") && l.contains(&format!("{parent},")))
        .and_then(|l| l.rsplit("= ").next())
        .and_then(|fd| fd.trim().parse::<i32>().ok())
        .unwrap_or_else(|| {
            panic!(
                "{parent} not opened after the rename:\n{}",
                after.join("\n")
            )
        });
    assert!(
        after
            .iter()
            .any(|l| l.contains(&format!("fsync({fd})")) && l.ends_with("= 0")),
        "{parent} (fd {fd}) not fsynced after the rename to {target}:\n{}",
        after.join("\n")
    );
}

fn target_parent(quoted: &str) -> String {
    let path = quoted.trim_matches('"');
    Path::new(path).parent().unwrap().display().to_string()
}

#[test]
fn outputs_and_new_databases_are_synced_in_their_directory_after_the_rename() {
    let temp = tempfile::tempdir().unwrap();
    let db = temp.path().join("db");
    let made = Command::new(env!("CARGO_BIN_EXE_tabula"))
        .args(["-q", "demo"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let d = db.to_str().unwrap();
    let out = temp.path().join("out");
    std::fs::create_dir(&out).unwrap();

    let dump = out.join("dump.json");
    let trace = traced(temp.path(), &["dump", d, dump.to_str().unwrap()]);
    assert_synced_after_rename(&trace, &dump);

    let backup = out.join("backup.tbk");
    let trace = traced(temp.path(), &["backup", d, backup.to_str().unwrap()]);
    assert_synced_after_rename(&trace, &backup);

    // An export: each file, its manifest last, then the export's own directory entry.
    let export = out.join("export");
    let trace = traced(temp.path(), &["export", d, export.to_str().unwrap()]);
    assert_synced_after_rename(&trace, &export.join("schema/students.schema.json"));
    let manifest = export.join("manifest.json");
    assert_synced_after_rename(&trace, &manifest);
    // After the manifest, the directory holding the export is synced too.
    let renamed = trace
        .iter()
        .position(|l| l.contains("rename") && l.contains(&format!("\"{}\"", manifest.display())))
        .unwrap();
    let parent = format!("openat(AT_FDCWD, \"{}\",", out.display());
    let fd = trace[renamed..]
        .iter()
        .find(|l| l.contains(&parent))
        .and_then(|l| l.rsplit("= ").next())
        .and_then(|fd| fd.trim().parse::<i32>().ok())
        .unwrap_or_else(|| panic!("{} not opened after the export", out.display()));
    assert!(
        trace[renamed..]
            .iter()
            .any(|l| l.contains(&format!("fsync({fd})")) && l.ends_with("= 0")),
        "the export directory is not synced in its parent"
    );

    let loaded = out.join("loaded");
    let trace = traced(
        temp.path(),
        &["load", dump.to_str().unwrap(), loaded.to_str().unwrap()],
    );
    assert_synced_after_rename(&trace, &loaded);

    let restored = out.join("restored");
    let trace = traced(
        temp.path(),
        &[
            "restore",
            backup.to_str().unwrap(),
            restored.to_str().unwrap(),
        ],
    );
    assert_synced_after_rename(&trace, &restored);
}
