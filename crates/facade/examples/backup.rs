//! Backup and restore, online: a consistent compressed backup while writers go on, a restore
//! into a new directory, and continuous archiving to a second directory.
//!
//! `cargo run -p tabula --example backup`

#![allow(
    clippy::print_stdout,
    clippy::indexing_slicing,
    reason = "an example prints its results and indexes lists whose length it asserts"
)]

use serde::{Deserialize, Serialize};
use tabula::prelude::*;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
struct Reading {
    #[tabula(primary_key, auto_increment)]
    id: Option<i64>,
    sensor: String,
    celsius: f64,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = tempfile::tempdir()?;
    let options = Options::new()
        .segment_size(4096)
        .archive_to(root.path().join("archive"));
    let db = Database::with_options(root.path().join("db"), options)?;
    let readings = db.table::<Reading>()?;

    // Writers keep going while the backup is taken.
    let writer = {
        let readings = readings.clone();
        std::thread::spawn(move || -> tabula::Result<()> {
            for i in 0..200 {
                readings.insert(&Reading {
                    id: None,
                    sensor: format!("s{}", i % 4),
                    celsius: 20.0 + f64::from(i) / 10.0,
                })?;
            }
            Ok(())
        })
    };
    let backup = db.backup(root.path().join("backups"))?;
    writer.join().map_err(|_| "the writer panicked")??;
    println!(
        "backup at LSN {} ({} bytes): {}",
        backup.lsn,
        backup.bytes,
        backup.path.display()
    );

    // Restore it into a new directory: exactly the state at the backup's LSN.
    tabula::restore(&backup.path, root.path().join("restored"))?;
    let restored = Database::open(root.path().join("restored"))?;
    let at_backup = db.as_of(backup.lsn)?;
    assert_eq!(
        restored.read().table("reading").map(|t| t.len()),
        at_backup.table("reading").map(|t| t.len())
    );
    println!("restored {} readings", restored.table::<Reading>()?.count());

    // Continuous archiving: sealed log segments were copied as they filled up; the archive
    // rebuilds the database up to the last of them.
    let archived = db.archive_now()?;
    let (lsn, _) = tabula::restore_archive(
        root.path().join("archive"),
        root.path().join("from-archive"),
        Options::new(),
    )?;
    println!("the archive restores to LSN {lsn}");
    assert_eq!(Some(lsn), archived.restorable_to);
    assert_eq!(tabula::list_backups(root.path().join("backups"))?.len(), 1);
    Ok(())
}

#[test]
fn runs() {
    assert!(main().is_ok());
}
