use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, tabula::Record)]
struct Order {
    #[tabula(primary_key, auto_increment)]
    id: i64,
    item: String,
}

fn main() {}
