use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, tabula::Record)]
struct Session {
    #[tabula(primary_key)]
    id: i64,
    #[serde(skip)]
    cache: Vec<u8>,
}

fn main() {}
