//! Issue 26: the inventory app a new user builds from the README and rustdoc, with what Rust
//! users expect of a typed table API: an enum, unsigned integers, a nested struct, a `Vec`, a
//! chrono date-time, a key of several fields, lookup by a unique field, a migration adding a
//! field, history across the migration, the typed feed and async calls. Each step asserts what
//! the user would check, and each mistake the issue found silent gets a typed error.

#![cfg(feature = "async")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tabula::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Category {
    Tools,
    Garden,
    Kitchen,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Dimensions {
    width_mm: u32,
    height_mm: u32,
}

/// The first version of the product record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[tabula(table = "products")]
struct Product {
    #[tabula(primary_key)]
    id: u64,
    #[tabula(unique)]
    sku: String,
    name: String,
    category: Category,
    #[tabula(index)]
    price_cents: u64,
    stock: u32,
    dims: Dimensions,
    tags: Vec<String>,
    added: DateTime<Utc>,
}

/// The second version: a field added, with its default for the rows already there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[tabula(table = "products")]
struct ProductV2 {
    #[tabula(primary_key)]
    id: u64,
    #[tabula(unique)]
    sku: String,
    name: String,
    category: Category,
    #[tabula(index)]
    price_cents: u64,
    stock: u32,
    dims: Dimensions,
    tags: Vec<String>,
    added: DateTime<Utc>,
    #[tabula(default = 0)]
    discount_pct: u8,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[tabula(table = "order_lines")]
struct OrderLine {
    #[tabula(primary_key)]
    order_id: u64,
    #[tabula(primary_key)]
    line: u16,
    product_id: u64,
    quantity: u32,
}

fn date(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn catalogue() -> Vec<Product> {
    let product = |id: u64, sku: &str, category, price_cents, tags: &[&str], added| Product {
        id,
        sku: sku.into(),
        name: format!("product {id}"),
        category,
        price_cents,
        stock: 10,
        dims: Dimensions {
            width_mm: 100,
            height_mm: 50,
        },
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        added: date(added),
    };
    vec![
        product(
            1,
            "HM-01",
            Category::Tools,
            1_999,
            &["steel"],
            "2026-01-05T09:00:00Z",
        ),
        product(
            2,
            "RK-02",
            Category::Garden,
            2_499,
            &["steel", "outdoor"],
            "2026-03-10T09:00:00Z",
        ),
        product(
            3,
            "PN-03",
            Category::Kitchen,
            4_999,
            &["cast-iron"],
            "2026-06-01T09:00:00Z",
        ),
        product(
            5,
            "SH-05",
            Category::Garden,
            3_999,
            &["outdoor"],
            "2026-09-15T09:00:00Z",
        ),
    ]
}

#[test]
fn the_inventory_app() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path()).unwrap();
    let products = db.table::<Product>().unwrap();

    // Typed keys: u64 in, u64 out.
    let ids: Vec<u64> = products.insert_all(&catalogue()).unwrap();
    assert_eq!(ids, [1, 2, 3, 5]);
    assert_eq!(products.get(5u64).unwrap().unwrap().sku, "SH-05");
    assert_eq!(products.get(5usize).unwrap().unwrap().sku, "SH-05");
    assert_eq!(products.get(ids[0]).unwrap().unwrap().sku, "HM-01");
    assert_eq!(products.get(4u64).unwrap(), None);

    // Filters on every field type, through the same conversion as the rows.
    let f = Product::FIELDS;
    let garden = products.filter(f.category.eq(Category::Garden)).unwrap();
    assert_eq!(garden.iter().map(|p| p.id).collect::<Vec<_>>(), [2, 5]);
    let cheap = products.filter(f.price_cents.lt(3_000u64)).unwrap();
    assert_eq!(cheap.len(), 2);
    let outdoor = products.filter(f.tags.contains("outdoor")).unwrap();
    assert_eq!(outdoor.iter().map(|p| p.id).collect::<Vec<_>>(), [2, 5]);
    let recent = products
        .filter(f.added.ge(date("2026-06-01T00:00:00Z")))
        .unwrap();
    assert_eq!(recent.len(), 2);
    let sized = products
        .filter(f.dims.eq(Dimensions {
            width_mm: 100,
            height_mm: 50,
        }))
        .unwrap();
    assert_eq!(sized.len(), 4);
    let newest_first = products
        .query(&Query::new().order_by_desc("added").limit(1))
        .unwrap();
    assert_eq!(newest_first[0].id, 5);

    // Lookup by a unique field, and its violation as one call.
    let rake = products.get_by(f.sku, "RK-02").unwrap().unwrap();
    assert_eq!(rake.id, 2);
    let duplicate = products
        .insert(&Product {
            id: 9,
            ..rake.clone()
        })
        .unwrap_err();
    assert!(duplicate.is_unique_violation(), "{duplicate}");
    assert_eq!(products.count(), 4);

    // No silent mistakes.
    let wrong_key = products.get("five").unwrap_err();
    assert_eq!(wrong_key.kind(), ErrorKind::Invalid, "{wrong_key}");
    let too_big = products.filter(f.price_cents.gt(u64::MAX)).unwrap_err();
    assert!(too_big.to_string().contains("price_cents"), "{too_big}");
    let unknown = products.filter(Filter::eq("colour", "red")).unwrap_err();
    assert!(unknown.to_string().contains("colour"), "{unknown}");
    let unknown_order = products
        .query(&Query::new().order_by_asc("colour"))
        .unwrap_err();
    assert!(
        unknown_order.to_string().contains("colour"),
        "{unknown_order}"
    );
    let ttl_on_text = db
        .set_ttl(
            Product::TABLE,
            Ttl::after("name", std::time::Duration::from_secs(1)),
        )
        .unwrap_err();
    assert!(ttl_on_text.to_string().contains("name"), "{ttl_on_text}");

    // A key of several fields.
    let lines = db.table::<OrderLine>().unwrap();
    let line = |order_id, line, product_id, quantity| OrderLine {
        order_id,
        line,
        product_id,
        quantity,
    };
    let key: (u64, u16) = lines.insert(&line(100, 1, 2, 3)).unwrap();
    assert_eq!(key, (100, 1));
    lines.insert(&line(100, 2, 5, 1)).unwrap();
    lines.insert(&line(101, 1, 1, 4)).unwrap();
    assert_eq!(lines.get((100, 2)).unwrap().unwrap().product_id, 5);
    assert!(lines.insert(&line(100, 1, 3, 1)).is_err());
    let order_100 = lines.filter(OrderLine::FIELDS.order_id.eq(100u64)).unwrap();
    assert_eq!(order_100.len(), 2);

    // A transaction: take stock for an order line, both or neither.
    db.transaction(|tx| {
        let products = tx.table::<Product>()?;
        products.update(2u64, |p| p.stock -= 3)?;
        tx.table::<OrderLine>()?.insert(&line(102, 1, 2, 3))?;
        Ok(())
    })
    .unwrap();
    assert_eq!(products.get(2u64).unwrap().unwrap().stock, 7);

    // The typed feed sees the next change with its before and after.
    let mut feed = products.subscribe(Start::Now).unwrap();
    products
        .with_cause(Cause::new().who("clerk").why("recount"))
        .update(3u64, |p| p.stock = 12)
        .unwrap();
    let change = feed.next().unwrap().unwrap();
    assert_eq!(change.before.unwrap().stock, 10);
    assert_eq!(change.after.unwrap().stock, 12);
    assert_eq!(change.cause.unwrap().who.as_deref(), Some("clerk"));
    drop((feed, products, lines));
    db.close().unwrap();

    // The struct gained a field: the table says which migration it needs.
    let db = Database::open(dir.path()).unwrap();
    let mismatch = db.table::<ProductV2>().unwrap_err();
    assert!(mismatch.to_string().contains("discount_pct"), "{mismatch}");
    db.migrate(&[Migration::new(1, "discounts").add_field::<ProductV2>("discount_pct")])
        .unwrap();
    let products = db.table::<ProductV2>().unwrap();
    assert_eq!(products.get(3u64).unwrap().unwrap().discount_pct, 0);
    products.update(3u64, |p| p.discount_pct = 15).unwrap();

    // History across the migration: the versions from before it read with the default.
    let versions = products.history(3u64).unwrap();
    let stock_and_discount: Vec<_> = versions
        .iter()
        .map(|v| {
            let p = v.after.as_ref().unwrap();
            (p.stock, p.discount_pct)
        })
        .collect();
    assert_eq!(stock_and_discount, [(10, 0), (12, 0), (12, 0), (12, 15)]);
    assert_eq!(
        versions[1].cause.as_ref().unwrap().why.as_deref(),
        Some("recount")
    );

    // Async calls, from a current-thread runtime.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let id = products
            .insert_async(ProductV2 {
                id: 6,
                sku: "TR-06".into(),
                name: "trowel".into(),
                category: Category::Garden,
                price_cents: 899,
                stock: 40,
                dims: Dimensions {
                    width_mm: 80,
                    height_mm: 300,
                },
                tags: vec!["outdoor".into()],
                added: date("2026-12-01T09:00:00Z"),
                discount_pct: 5,
            })
            .await
            .unwrap();
        assert_eq!(id, 6);
        let after = products
            .update_async(id, |p| p.stock -= 1)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(after.stock, 39);
        assert_eq!(products.history_async(id).await.unwrap().len(), 2);
        let stock = db
            .transaction_async(move |tx| Ok(tx.table::<ProductV2>()?.get(6u64)?.unwrap().stock))
            .await
            .unwrap();
        assert_eq!(stock, 39);
        drop(products);
        db.close_async().await.unwrap();
    });
}
