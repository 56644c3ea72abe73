use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, tabula::Record)]
#[serde(tag = "kind")]
struct Event {
    #[tabula(primary_key)]
    id: i64,
}

fn main() {}
