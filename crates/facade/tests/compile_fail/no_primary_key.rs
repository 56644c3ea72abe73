use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, tabula::Record)]
struct Note {
    text: String,
}

fn main() {}
