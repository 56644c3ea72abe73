use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Address {
    city: String,
}

#[derive(Serialize, Deserialize, tabula::Record)]
struct Customer {
    #[tabula(primary_key)]
    id: i64,
    #[serde(flatten)]
    address: Address,
}

fn main() {}
