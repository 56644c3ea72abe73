//! Quickstart: open a database, define a table from a struct, write, query, reopen.
//!
//! `cargo run -p tabula --example quickstart`

#![allow(
    clippy::print_stdout,
    clippy::indexing_slicing,
    reason = "an example prints its results and indexes lists whose length it asserts"
)]

use serde::{Deserialize, Serialize};
use tabula::prelude::*;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
struct Book {
    #[tabula(primary_key)]
    isbn: String,
    title: String,
    #[tabula(index)]
    year: i64,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let db = Database::open(dir.path())?;
    let books = db.table::<Book>()?;
    books.insert_all(&[
        Book {
            isbn: "978-0262033848".into(),
            title: "Introduction to Algorithms".into(),
            year: 2009,
        },
        Book {
            isbn: "978-0201633610".into(),
            title: "Design Patterns".into(),
            year: 1994,
        },
        Book {
            isbn: "978-1593278281".into(),
            title: "The Rust Programming Language".into(),
            year: 2018,
        },
    ])?;

    let recent = books.query(
        &Query::new()
            .filter(Filter::ge("year", 2000))
            .order_by("year", true),
    )?;
    for book in &recent {
        println!("{} ({})", book.title, book.year);
    }
    assert_eq!(recent.len(), 2);
    assert_eq!(recent[0].year, 2018);

    // Every commit is durable when it returns: close, reopen, and the books are there.
    drop(books);
    db.close()?;
    let db = Database::open(dir.path())?;
    let books = db.table::<Book>()?;
    assert_eq!(books.count(), 3);
    assert_eq!(books.get("978-0201633610")?.map(|b| b.year), Some(1994));
    println!("{} books after reopening", books.count());
    Ok(())
}

#[test]
fn runs() {
    assert!(main().is_ok());
}
