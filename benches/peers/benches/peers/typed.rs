//! Workload 11: the typed API as a user reaches for it, against what such a user would pick
//! instead, on the bench rows as a struct (`BenchRow`, the fields of `tabula_peers::data` plus the
//! 24-byte key):
//!
//! - tabula in memory through `tabula::Table<BenchRow>` with a derived record (as the README
//!   shows): the load in inserts of 1,000 rows, reads from a held `TableView` and `Table::get`
//!   called each time, each returning the struct;
//! - std `HashMap<String, BenchRow>`, returning a clone;
//! - redb with `Durability::None`, the struct stored with bincode and decoded on read, loaded in
//!   transactions of 1,000 rows.
//!
//! Every read checks it found its row, so a fast wrong answer cannot pass.

use std::collections::HashMap;
use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use redb::{Database as Redb, Durability, ReadableDatabase, TableDefinition};
use serde::{Deserialize, Serialize};
use tabula::{Database, Record};
use tabula_peers::data::{Probes, fields, key};

use crate::Result;

/// A bench row as an application's struct.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[tabula(table = "rows")]
pub struct BenchRow {
    #[tabula(primary_key)]
    k: String,
    name: String,
    email: String,
    score: f64,
    active: bool,
    created: i64,
    city: String,
    tags: Vec<String>,
}

fn bench_row(i: usize) -> BenchRow {
    let f = fields(i);
    BenchRow {
        k: key(i),
        name: f.name,
        email: f.email,
        score: f.score,
        active: f.active,
        created: f.created,
        city: f.city,
        tags: f.tags.iter().map(|t| (*t).to_owned()).collect(),
    }
}

/// One contender's figures: load (rows/s) and reads (reads/s); tabula has two kinds of read.
#[derive(Debug, Default)]
pub struct Figures {
    /// Rows per second loading in batches of 1,000.
    pub load: f64,
    /// Reads per second (tabula: from a held `TableView`).
    pub reads: f64,
    /// tabula only: `Table::get` called each time.
    pub table_get: Option<f64>,
}

fn check(found: usize, want: usize, who: &str) -> Result<()> {
    if found == want {
        Ok(())
    } else {
        Err(format!("{who}: {found} of {want} reads found their row").into())
    }
}

/// tabula's typed table, in memory.
pub fn tabula(n: usize, reads: usize) -> Result<Figures> {
    let rows: Vec<BenchRow> = (0..n).map(bench_row).collect();
    let keys: Vec<String> = (0..n).map(key).collect();
    let db = Database::open_in_memory();
    let table = db.table::<BenchRow>()?;
    let start = Instant::now();
    for chunk in rows.chunks(1_000) {
        table.insert_all(chunk)?;
    }
    let load = n as f64 / start.elapsed().as_secs_f64();
    let view = table.read();
    let probes: Vec<usize> = Probes::new(n).take(reads).collect();
    let start = Instant::now();
    let mut found = 0;
    for &i in &probes {
        let k = keys.get(i).ok_or("a probe past the rows")?;
        if black_box(view.get(k.as_str())?).is_some() {
            found += 1;
        }
    }
    let view_reads = reads as f64 / start.elapsed().as_secs_f64();
    check(found, reads, "tabula TableView::get")?;
    let start = Instant::now();
    let mut found = 0;
    for &i in &probes {
        let k = keys.get(i).ok_or("a probe past the rows")?;
        if black_box(table.get(k.as_str())?).is_some() {
            found += 1;
        }
    }
    let get_reads = reads as f64 / start.elapsed().as_secs_f64();
    check(found, reads, "tabula Table::get")?;
    Ok(Figures {
        load,
        reads: view_reads,
        table_get: Some(get_reads),
    })
}

/// std `HashMap<String, BenchRow>`: reads return a clone, as a typed read returns an owned struct.
pub fn hashmap(n: usize, reads: usize) -> Result<Figures> {
    let rows: Vec<BenchRow> = (0..n).map(bench_row).collect();
    let keys: Vec<String> = (0..n).map(key).collect();
    let start = Instant::now();
    let mut map = HashMap::with_capacity(n);
    for row in rows {
        map.insert(row.k.clone(), row);
    }
    let load = n as f64 / start.elapsed().as_secs_f64();
    let probes: Vec<usize> = Probes::new(n).take(reads).collect();
    let start = Instant::now();
    let mut found = 0;
    for &i in &probes {
        let k = keys.get(i).ok_or("a probe past the rows")?;
        if black_box(map.get(k).cloned()).is_some() {
            found += 1;
        }
    }
    let reads_per_second = reads as f64 / start.elapsed().as_secs_f64();
    check(found, reads, "HashMap")?;
    Ok(Figures {
        load,
        reads: reads_per_second,
        table_get: None,
    })
}

const ROWS: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("typed");

/// redb, unsynced, the struct stored with bincode and decoded on every read.
pub fn redb(dir: &Path, n: usize, reads: usize) -> Result<Figures> {
    let rows: Vec<BenchRow> = (0..n).map(bench_row).collect();
    let keys: Vec<String> = (0..n).map(key).collect();
    let db = Redb::create(dir.join("typed.redb"))?;
    let start = Instant::now();
    for chunk in rows.chunks(1_000) {
        let mut tx = db.begin_write()?;
        tx.set_durability(Durability::None)?;
        {
            let mut table = tx.open_table(ROWS)?;
            for row in chunk {
                let bytes = bincode::serialize(row)?;
                table.insert(row.k.as_str(), bytes.as_slice())?;
            }
        }
        tx.commit()?;
    }
    let load = n as f64 / start.elapsed().as_secs_f64();
    let probes: Vec<usize> = Probes::new(n).take(reads).collect();
    let tx = db.begin_read()?;
    let table = tx.open_table(ROWS)?;
    let start = Instant::now();
    let mut found = 0;
    for &i in &probes {
        let k = keys.get(i).ok_or("a probe past the rows")?;
        if let Some(bytes) = table.get(k.as_str())? {
            let row: BenchRow = bincode::deserialize(bytes.value())?;
            black_box(row);
            found += 1;
        }
    }
    let reads_per_second = reads as f64 / start.elapsed().as_secs_f64();
    check(found, reads, "redb")?;
    Ok(Figures {
        load,
        reads: reads_per_second,
        table_get: None,
    })
}
