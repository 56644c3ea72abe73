use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, tabula::Record)]
struct Product {
    #[tabula(primary_key)]
    id: u64,
    price: f64,
}

fn main() {
    // A typed filter takes the field's own type: text for a float field does not compile.
    let _ = Product::FIELDS.price.eq("cheap");
}
