use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, tabula::Record)]
#[serde(deny_unknown_fields)]
struct OrderLine {
    #[tabula(primary_key)]
    order_id: u64,
    #[tabula(primary_key)]
    line: u32,
}

fn main() {}
