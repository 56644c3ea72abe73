//! Style rules from `STYLE.md` that a machine can check, as tests (rust-analyzer's `tidy`), so
//! that plain `cargo test` and `cargo nextest run` enforce them:
//!
//! - every `.rs` file under `crates/*/src` (and under xtask's and the fuzz crate's sources)
//!   starts with a `//!` comment saying what the module owns;
//! - no `#[ignore]` and no `#[should_panic]` in the project's Rust code: assert the behaviour you
//!   want instead.
//!
//! Each test reports every offending file at once, not only the first.

use std::fs;
use std::path::{Path, PathBuf};

use crate::project_root;

/// Directories never searched: build output, fuzzing data, VCS metadata.
const SKIP_DIRS: &[&str] = &["target", "corpus", "artifacts", "coverage"];

/// Every `.rs` file under `dir`, recursively, sorted. Missing directories give nothing.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if !name.starts_with('.') && !SKIP_DIRS.contains(&name.as_ref()) {
                    stack.push(path);
                }
            } else if kind.is_file() && name.ends_with(".rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The `src` directories of every crate under `crates/`, plus xtask's and the fuzz crate's.
fn source_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(root.join("crates"))
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path().join("src"))
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs.extend(
        ["xtask/src", "fuzz/src", "fuzz/fuzz_targets"]
            .iter()
            .map(|d| root.join(d)),
    );
    dirs
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

#[test]
fn every_module_starts_with_a_doc_comment() {
    let root = project_root();
    let crate_sources = fs::read_dir(root.join("crates"))
        .map(|e| e.count())
        .unwrap_or(0);
    assert!(
        crate_sources > 0,
        "no crates found under {}",
        root.join("crates").display()
    );
    let mut offenders = Vec::new();
    let mut checked = 0;
    for dir in source_dirs(&root) {
        for file in rust_files(&dir) {
            checked += 1;
            let text = fs::read_to_string(&file).unwrap_or_default();
            if !text.starts_with("//!") {
                offenders.push(relative(&root, &file));
            }
        }
    }
    assert!(
        checked > 0,
        "no Rust sources found under {}",
        root.display()
    );
    assert!(
        offenders.is_empty(),
        "these files do not start with a `//!` comment saying what the module owns \
         (STYLE.md, \"Comments and docs\"):\n  {}",
        offenders.join("\n  ")
    );
}

#[test]
fn no_ignored_or_should_panic_tests() {
    // Built at run time so that this file does not match itself.
    let banned = [format!("#[{}", "ignore"), format!("#[{}", "should_panic")];
    let root = project_root();
    let mut offenders = Vec::new();
    for dir in ["crates", "benches", "xtask", "fuzz"] {
        for file in rust_files(&root.join(dir)) {
            let text = fs::read_to_string(&file).unwrap_or_default();
            for (n, line) in text.lines().enumerate() {
                let code = line.trim_start();
                // Comments may talk about the rule.
                if code.starts_with("//") {
                    continue;
                }
                if banned.iter().any(|b| code.contains(b.as_str())) {
                    offenders.push(format!("{}:{}: {}", relative(&root, &file), n + 1, code));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "STYLE.md forbids `ignore` and `should_panic` test attributes: assert the behaviour you \
         want instead\n  {}",
        offenders.join("\n  ")
    );
}

#[test]
fn the_walk_finds_nested_modules_and_skips_build_output() {
    let root = project_root();
    let files = rust_files(&root.join("xtask"));
    let names: Vec<String> = files.iter().map(|f| relative(&root, f)).collect();
    assert!(
        names.iter().any(|n| n.ends_with("tidy.rs")),
        "the walk missed this file: {names:?}"
    );
    assert!(
        names.iter().all(|n| !n.contains("target")),
        "the walk entered a build directory: {names:?}"
    );
}
