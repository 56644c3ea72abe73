//! The engine's shape (ARCHITECTURE.md, "Code map: tabula-engine"): the hub (`src/db/`) imports
//! no feature, so features can be added, removed or replaced without touching it.

use std::path::Path;

/// The modules the hub may not name: every feature, and the composition root.
const FEATURES: [&str; 6] = [
    "crate::history",
    "crate::maintenance",
    "crate::interop",
    "crate::migrate",
    "crate::stats",
    "crate::open",
];

#[test]
fn the_hub_imports_no_feature() {
    let hub = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/db");
    let mut checked = 0;
    for entry in std::fs::read_dir(&hub).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        for (n, line) in source.lines().enumerate() {
            // Docs may mention features; code may not import them.
            if line.trim_start().starts_with("//") {
                continue;
            }
            for feature in FEATURES {
                assert!(
                    !line.contains(feature),
                    "{}:{}: the hub names {feature}: {line}",
                    path.display(),
                    n + 1
                );
            }
            assert!(
                !line.contains("super::super"),
                "{}:{}: the hub reaches out of db/: {line}",
                path.display(),
                n + 1
            );
        }
        checked += 1;
    }
    assert!(
        checked >= 6,
        "the hub's files were not found under {}",
        hub.display()
    );
}
