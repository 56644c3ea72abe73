use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, tabula::Record)]
struct Item {
    #[tabula(primary_key, primary)]
    id: i64,
}

fn main() {}
