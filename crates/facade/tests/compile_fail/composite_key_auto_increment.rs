use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, tabula::Record)]
struct OrderLine {
    #[tabula(primary_key, auto_increment)]
    order_id: Option<i64>,
    #[tabula(primary_key)]
    line: u32,
}

fn main() {}
