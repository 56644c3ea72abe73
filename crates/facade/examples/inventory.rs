//! An inventory: four checkout threads sell from one stock at once, each sale taking stock and
//! recording an order in one transaction; a price change uses compare-and-set; a restock and a
//! clean-up are bulk writes by filter. Nothing is lost: the stock sold and the orders agree,
//! also after reopening.
//!
//! ```sh
//! cargo run -p tabula --example inventory
//! ```

#![allow(clippy::print_stdout, reason = "an example prints its results")]

use std::thread;

use serde::{Deserialize, Serialize};
use tabula::prelude::*;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[tabula(table = "products")]
struct Product {
    #[tabula(primary_key)]
    sku: String,
    #[tabula(index)]
    stock: i64,
    price_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[tabula(table = "orders")]
struct Order {
    #[tabula(primary_key, auto_increment)]
    id: Option<i64>,
    sku: String,
    quantity: i64,
    paid_cents: i64,
    till: i64,
}

const TILLS: i64 = 4;
const SALES_PER_TILL: i64 = 250;

/// Sells `quantity` of `sku` at `till`: takes the stock and records the order, or (when the
/// stock is short) does neither.
fn sell(db: &Database, sku: &str, quantity: i64, till: i64) -> tabula::Result<bool> {
    db.transaction(|tx| {
        let products = tx.table::<Product>()?;
        let Some(product) = products.get(sku)? else {
            return Err(Error::abort(format!("no product {sku}")));
        };
        if product.stock < quantity {
            return Ok(false);
        }
        products.update(sku, |p| p.stock -= quantity)?;
        tx.table::<Order>()?.insert(&Order {
            id: None,
            sku: sku.to_owned(),
            quantity,
            paid_cents: quantity * product.price_cents,
            till,
        })?;
        tx.cause(Cause::new().who(format!("till-{till}")).what("sale"));
        Ok(true)
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let db = Database::open(dir.path())?;
    let products = db.table::<Product>()?;
    let item = |sku: &str, stock, price_cents| Product {
        sku: sku.into(),
        stock,
        price_cents,
    };
    products.insert_all(&[
        item("bolt", 600, 25),
        item("nut", 300, 10),
        item("gear", 5, 900),
    ])?;

    // Four tills sell at once. Each sale reads the stock and writes it back inside one
    // transaction, so no sale overwrites another's.
    thread::scope(|s| {
        let tills: Vec<_> = (0..TILLS)
            .map(|till| {
                let db = &db;
                s.spawn(move || -> tabula::Result<()> {
                    for (sale, sku) in
                        (0..SALES_PER_TILL).zip(["bolt", "nut", "gear"].iter().cycle())
                    {
                        sell(db, sku, 1 + sale % 2, till)?;
                    }
                    Ok(())
                })
            })
            .collect();
        tills
            .into_iter()
            .try_for_each(|till| till.join().map_err(|_| Error::abort("a till panicked"))?)
    })?;
    let orders = db.table::<Order>()?;
    for product in products.all()? {
        let sold: i64 = orders
            .filter(Filter::eq("sku", product.sku.as_str()))?
            .iter()
            .map(|o| o.quantity)
            .sum();
        let start = match product.sku.as_str() {
            "bolt" => 600,
            "nut" => 300,
            _ => 5,
        };
        println!(
            "{:>5}: {:>3} left, {sold:>3} sold",
            product.sku, product.stock
        );
        assert_eq!(product.stock + sold, start, "stock and orders agree");
    }

    // A price change from a form that was read a while ago: compare-and-set refuses it if
    // someone changed the product since.
    let seen = products.get("gear")?.ok_or("no gear")?;
    products.update_if(
        &seen,
        &Product {
            price_cents: 950,
            ..seen.clone()
        },
    )?;
    match products.update_if(
        &seen,
        &Product {
            price_cents: 990,
            ..seen.clone()
        },
    ) {
        Err(Error::Conflict { current, .. }) => {
            println!("stale price form refused; the row is now {current:?}");
        }
        other => return Err(format!("expected a conflict, got {other:?}").into()),
    }

    // A restock of everything low, and a clean-up of small orders: one transaction each.
    let restocked = products.update_where(Filter::lt("stock", 100), |p| p.stock += 100)?;
    let removed = orders.delete_where(Filter::eq("quantity", 1))?;
    println!("restocked {restocked} products, removed {removed} single-item orders");
    println!(
        "{} orders remain, {} of them from till 0",
        orders.count(),
        orders.count_where(Filter::eq("till", 0))?
    );

    // Reopen: every acknowledged sale is there.
    let (stock, remaining) = (products.all()?, orders.count());
    drop((products, orders));
    db.close()?;
    let db = Database::open(dir.path())?;
    assert_eq!(db.table::<Product>()?.all()?, stock);
    assert_eq!(db.table::<Order>()?.count(), remaining);
    println!("reopened: the same {remaining} orders and stock");
    Ok(())
}
