//! Issue 26, "no silent mistakes": what used to pass silently and now is a typed error that
//! names what is wrong, and `Error::kind` so callers need not match three crates deep.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use serde::{Deserialize, Serialize};
use tabula::Error;
use tabula::prelude::*;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
struct Product {
    #[tabula(primary_key)]
    id: i64,
    #[tabula(unique)]
    sku: String,
    price: f64,
}

fn product(id: i64, sku: &str) -> Product {
    Product {
        id,
        sku: sku.into(),
        price: 1.5,
    }
}

fn names(error: &Error, words: &[&str]) {
    let message = error.to_string();
    for word in words {
        assert!(message.contains(word), "{message:?} does not name {word:?}");
    }
}

#[test]
fn a_key_of_the_wrong_type_is_an_error_not_a_missing_row() {
    let db = Database::open_in_memory();
    let products = db.table::<Product>().unwrap();
    products.insert(&product(1, "MS-01")).unwrap();
    for error in [
        products.get("1").unwrap_err(),
        products.read().get("1").unwrap_err(),
        products.delete("1").unwrap_err(),
        products.update("1", |p| p.price = 2.0).unwrap_err(),
    ] {
        assert_eq!(error.kind(), ErrorKind::Invalid, "{error}");
        names(&error, &["\"id\"", "int"]);
    }
    // An integral float is the same key, as writes treat it.
    assert_eq!(products.get(1.0).unwrap(), Some(product(1, "MS-01")));
    assert_eq!(products.get(2).unwrap(), None);
}

#[test]
fn an_unknown_column_in_a_filter_or_an_order_is_an_error_naming_it() {
    let db = Database::open_in_memory();
    let products = db.table::<Product>().unwrap();
    products.insert(&product(1, "MS-01")).unwrap();
    let filtered = products.filter(Filter::eq("skew", "MS-01")).unwrap_err();
    assert_eq!(filtered.kind(), ErrorKind::NotFound);
    names(&filtered, &["\"skew\"", "\"product\""]);
    let ordered = products
        .query(&Query::new().order_by("prise", false))
        .unwrap_err();
    names(&ordered, &["\"prise\""]);
    // Known columns, nested paths into them and schemaless tables are unaffected.
    assert_eq!(
        products.filter(Filter::eq("sku", "MS-01")).unwrap().len(),
        1
    );
}

#[test]
fn history_of_an_in_memory_database_says_it_keeps_none() {
    let db = Database::open_in_memory();
    let products = db.table::<Product>().unwrap();
    products.insert(&product(1, "MS-01")).unwrap();
    let error = products.history(1).unwrap_err();
    names(&error, &["in-memory", "directory"]);
    assert!(db.engine().log(LogFilter::new()).is_err());
}

#[test]
fn error_kinds_say_what_happened_without_matching_the_layers() {
    let db = Database::open_in_memory();
    let products = db.table::<Product>().unwrap();
    products.insert(&product(1, "MS-01")).unwrap();
    let duplicate = products.insert(&product(1, "MS-02")).unwrap_err();
    assert_eq!(duplicate.kind(), ErrorKind::DuplicateKey);
    assert!(duplicate.is_unique_violation());
    let taken = products.insert(&product(2, "MS-01")).unwrap_err();
    assert_eq!(taken.kind(), ErrorKind::UniqueViolation);
    assert!(taken.is_unique_violation());
    let stale = product(1, "MS-00");
    let conflict = products
        .update_if(&stale, &product(1, "MS-03"))
        .unwrap_err();
    assert!(conflict.is_conflict(), "{conflict}");
    let missing = db.engine().as_of(Lsn(99)).unwrap_err();
    assert_eq!(Error::from(missing).kind(), ErrorKind::History);
}

#[test]
fn get_by_finds_by_a_unique_field_and_refuses_one_that_is_not() {
    let db = Database::open_in_memory();
    let products = db.table::<Product>().unwrap();
    products.insert(&product(1, "MS-01")).unwrap();
    products.insert(&product(2, "KB-02")).unwrap();
    assert_eq!(
        products.get_by(Product::FIELDS.sku, "KB-02").unwrap(),
        Some(product(2, "KB-02"))
    );
    assert_eq!(products.get_by(Product::FIELDS.sku, "none").unwrap(), None);
    assert_eq!(
        products.get_by(Product::FIELDS.id, 1).unwrap(),
        Some(product(1, "MS-01"))
    );
    let error = products.get_by(Product::FIELDS.price, 1.5).unwrap_err();
    names(&error, &["\"price\"", "not unique"]);
}

#[test]
fn timestamps_from_the_system_clock_and_descending_orders() {
    let before = std::time::SystemTime::now();
    let now = Timestamp::now();
    let after = std::time::SystemTime::now();
    assert!(Timestamp::from(before) <= now && now <= Timestamp::from(after));
    let there_and_back = Timestamp::from(after).to_system_time().unwrap();
    assert_eq!(Timestamp::from(there_and_back), Timestamp::from(after));
    assert!(
        Timestamp::from_micros(i64::MAX)
            .to_system_time()
            .is_some_and(|t| t > after)
    );
    assert_eq!(
        Timestamp::from(std::time::UNIX_EPOCH - std::time::Duration::from_secs(1)),
        Timestamp::from_micros(-1_000_000)
    );

    let db = Database::open_in_memory();
    let products = db.table::<Product>().unwrap();
    for id in 1..=3 {
        products.insert(&product(id, &format!("S-{id}"))).unwrap();
    }
    let ids: Vec<i64> = products
        .query(&Query::new().order_by_desc("id"))
        .unwrap()
        .iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(ids, [3, 2, 1]);
}

/// Issue 26: typed filters on enum, `u64`, `u8`, `Vec` and nested struct fields did not
/// compile. They convert through serde as the table does; a value the column cannot hold is an
/// error naming the field when the query runs, not a filter that matches nothing.
#[test]
fn typed_filters_take_every_serde_field_type() {
    #[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
    enum Category {
        Tools,
        Toys,
    }
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Size {
        w: u32,
        h: u32,
    }
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
    struct Part {
        #[tabula(primary_key)]
        id: u64,
        category: Category,
        stock: u8,
        tags: Vec<String>,
        size: Size,
        added: Timestamp,
    }
    let db = Database::open_in_memory();
    let parts = db.table::<Part>().unwrap();
    let at: Timestamp = "2026-12-07T10:00:00Z".parse().unwrap();
    let part = |id: u64, category, stock| Part {
        id,
        category,
        stock,
        tags: vec!["metal".into()],
        size: Size { w: id as u32, h: 1 },
        added: at,
    };
    parts.insert(&part(1, Category::Tools, 3)).unwrap();
    parts.insert(&part(2, Category::Toys, 200)).unwrap();
    let f = Part::FIELDS;
    let ids = |filter: Filter| -> Vec<u64> {
        parts.filter(filter).unwrap().iter().map(|p| p.id).collect()
    };
    assert_eq!(ids(f.category.eq(Category::Toys)), [2]);
    assert_eq!(ids(f.stock.gt(100u8)), [2]);
    assert_eq!(ids(f.id.is_in([1u64, 2])), [1, 2]);
    assert_eq!(ids(f.tags.eq(vec!["metal".to_owned()])), [1, 2]);
    assert_eq!(ids(f.size.eq(Size { w: 1, h: 1 })), [1]);
    assert_eq!(ids(f.added.eq(at)), [1, 2]);
    // Keys of any integer width, as the table converts its key field.
    assert_eq!(parts.get(2u64).unwrap().map(|p| p.stock), Some(200));
    assert_eq!(parts.get(2u8).unwrap().map(|p| p.stock), Some(200));
    assert_eq!(
        parts.get(Value::Int(2)).unwrap().map(|p| p.stock),
        Some(200)
    );
    let too_big = parts.get(u64::MAX).unwrap_err();
    names(&too_big, &["key"]);
    // Past what an int column holds: an error naming the field, when the query runs.
    let error = parts.filter(f.id.eq(u64::MAX)).unwrap_err();
    names(&error, &["\"id\"", "invalid filter"]);
}
