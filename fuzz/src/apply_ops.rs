//! `apply_ops`: model-based check of `State::apply` and of the query planner.
//!
//! The input decodes into a sequence of steps on one small typed table
//! (`t`: `id` int auto-increment primary key, `u` unique int, `k` int with the ordered index `by_k`,
//! `s` text, not null, default `"x"`). A step is either a transaction of 1 to 3 ops (create or drop
//! the table, insert, upsert, update, delete, create or drop an index, with small keys and values so
//! that they collide, and now and then a wrong type, an unknown column, a duplicate key, a stale LSN
//! or an unknown table) or a query with a generated filter.
//!
//! Every transaction goes to both the real [`State`] and a trivial model ([`Model`], a
//! `BTreeMap`), which must agree on whether it fails. Then:
//! - on failure the database equals its clone from before the transaction (all-or-nothing);
//! - on success its rows, auto-increment counter, LSN and declared indexes equal the model's, and
//!   every stored key is the very value in the row's `id` field (not merely an equal one);
//! - every query returns exactly what a full scan (`Table::iter` + `Filter::matches`) returns,
//!   with `limit`, `offset` and `order by` too, and an `eq` on an indexed column or the key never
//!   plans as `Plan::FullScan`.
//!
//! At the end a fixed sweep of filters over every column runs once more.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use arbitrary::{Result, Unstructured};
use tabula_core::{
    Column, ColumnType, Filter, IndexDef, Lsn, Op, Path, Plan, Query, Row, RowRef, State, TableDef,
    Timestamp, Transaction, Value,
};

/// The table every op works on.
const TABLE: &str = "t";

/// Most steps decoded from one input, to keep each run fast.
const MAX_STEPS: usize = 64;

/// The table definition: the columns of every row and the index `by_k`.
fn table_def() -> TableDef {
    TableDef::new(TABLE, "id")
        .auto_increment()
        .column(Column::new("id", ColumnType::Int))
        .column(Column::new("u", ColumnType::Int).unique())
        .column(Column::new("k", ColumnType::Int))
        .column(
            Column::new("s", ColumnType::Text)
                .not_null()
                .default_value("x"),
        )
        .index("by_k", "k")
}

/// Decodes `data` into steps, runs them on a database and the model, and checks they agree.
pub fn check(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let mut run = Run::default();
    for _ in 0..MAX_STEPS {
        if u.is_empty() {
            break;
        }
        let Ok(step) = gen_step(&mut u, run.model.lsn) else {
            break;
        };
        match step {
            Step::Tx(tx) => run.apply(tx),
            Step::Query(filter) => run.check_filter(&filter),
        }
    }
    for filter in sweep() {
        run.check_filter(&filter);
    }
}

enum Step {
    Tx(Transaction),
    Query(Filter),
}

/// The database under test, the model, and the history for failure messages.
#[derive(Default)]
struct Run {
    db: State,
    model: Model,
    history: Vec<(Transaction, bool)>,
}

impl Run {
    fn apply(&mut self, tx: Transaction) {
        let before = self.db.clone();
        let expected = self.model.apply(&tx);
        let got = self.db.apply(&tx);
        match (got, expected) {
            (Ok(changes), Ok(model)) => {
                let row_ops = tx
                    .ops
                    .iter()
                    .filter(|op| {
                        matches!(
                            op,
                            Op::Insert { .. }
                                | Op::Upsert { .. }
                                | Op::Update { .. }
                                | Op::Delete { .. }
                        )
                    })
                    .count();
                self.model = model;
                self.history.push((tx, true));
                if changes.len() != row_ops {
                    self.fail(&format!(
                        "{} row changes reported for {row_ops} row ops: {changes:#?}",
                        changes.len()
                    ));
                }
            }
            (Err(e), Err(why)) => {
                self.history.push((tx, false));
                if self.db != before {
                    self.fail(&format!(
                        "failed transaction ({e}; model: {why}) changed the database:\n\
                         before {before:#?}\nafter {:#?}",
                        self.db
                    ));
                }
            }
            (Ok(_), Err(why)) => {
                self.history.push((tx, true));
                self.fail(&format!(
                    "core accepted a transaction the model rejects: {why}"
                ));
            }
            (Err(e), Ok(_)) => {
                self.history.push((tx, false));
                self.fail(&format!(
                    "core rejected a transaction the model accepts: {e}"
                ));
            }
        }
        self.check_state();
    }

    /// The database holds what the model holds.
    fn check_state(&self) {
        if self.db.lsn() != Lsn(self.model.lsn) {
            self.fail(&format!(
                "database LSN {} but model LSN {}",
                self.db.lsn(),
                self.model.lsn
            ));
        }
        let (table, model) = match (self.db.table(TABLE), &self.model.table) {
            (None, None) => return,
            (Some(t), Some(m)) => (t, m),
            (t, m) => {
                self.fail(&format!(
                    "table exists in database: {}, in model: {}",
                    t.is_some(),
                    m.is_some()
                ));
            }
        };
        let rows: Vec<(Value, Row)> = table.iter().map(|(k, r)| (k, r.to_row())).collect();
        if rows.len() != model.rows.len() {
            self.fail(&format!(
                "database has {} rows, model {}",
                rows.len(),
                model.rows.len()
            ));
        }
        for ((key, row), (mkey, mrow)) in rows.iter().zip(&model.rows) {
            let want = mrow.to_row(*mkey);
            if !same_row(row, &want) {
                self.fail(&format!("row {key:?} is {row:?}, model has {want:?}"));
            }
            if !same(key, row.get("id").unwrap_or(&Value::Null)) {
                self.fail(&format!(
                    "row is stored under key {key:?} but its id field is {:?}",
                    row.get("id")
                ));
            }
        }
        if table.next_auto_increment() != model.next_auto {
            self.fail(&format!(
                "next auto-increment key {:?} but model has {:?}",
                table.next_auto_increment(),
                model.next_auto
            ));
        }
        let declared: Vec<(String, String, bool)> = table
            .def()
            .indexes
            .iter()
            .map(|i| (i.name.clone(), i.path.to_string(), i.unique))
            .collect();
        let want: Vec<(String, String, bool)> = model
            .indexes
            .iter()
            .map(|(n, c, un)| ((*n).to_owned(), (*c).to_owned(), *un))
            .collect();
        if declared != want {
            self.fail(&format!(
                "declared indexes {declared:?}, model has {want:?}"
            ));
        }
        for index in table.indexes() {
            if index.len() != table.len() {
                self.fail(&format!(
                    "index {:?} has {} entries for {} rows",
                    index.def().name,
                    index.len(),
                    table.len()
                ));
            }
        }
    }

    /// A query with `filter` returns what a full scan returns, and plans sensibly.
    fn check_filter(&self, filter: &Filter) {
        let Some(table) = self.db.table(TABLE) else {
            return;
        };
        // A typed table refuses a filter on a column it does not have (rows cannot hold one),
        // by name, in queries and counts alike.
        if let Some(schema) = &table.def().schema
            && let Some(unknown) = filter
                .paths()
                .into_iter()
                .find(|p| schema.column(p.first()).is_none())
        {
            let refused = |result: Result<(), tabula_core::Error>| {
                matches!(result, Err(tabula_core::Error::UnknownColumn { ref column, .. })
                    if column == unknown.first())
            };
            let query = Query::new().filter(filter.clone());
            if !refused(self.db.query(TABLE, &query).map(|_| ()))
                || !refused(table.count(Some(filter), self.db.limits()).map(|_| ()))
            {
                self.fail(&format!(
                    "{filter:?} reads {unknown:?}, which typed table {TABLE:?} does not have, \
                     and was not refused"
                ));
            }
            return;
        }
        let expected: Vec<RowRef> = table
            .iter()
            .filter(|(_, row)| filter.matches(row))
            .map(|(_, row)| RowRef::clone(row))
            .collect();
        let query = Query::new().filter(filter.clone());
        let got = match self.db.query(TABLE, &query) {
            Ok(got) => got,
            Err(e) => self.fail(&format!("query {filter:?} failed: {e}")),
        };
        if got.rows != expected {
            self.fail(&format!(
                "query {filter:?} (plan {:?}) returned {:?}, a full scan {expected:?}",
                got.plan, got.rows
            ));
        }
        if got.examined > table.len() {
            self.fail(&format!(
                "query {filter:?} examined {} rows of {}",
                got.examined,
                table.len()
            ));
        }
        if table.plan(Some(filter)) != got.plan {
            self.fail(&format!(
                "Table::plan says {:?} but the query ran {:?} for {filter:?}",
                table.plan(Some(filter)),
                got.plan
            ));
        }
        if let Filter::Eq(path, _) | Filter::In(path, _) | Filter::IsNull(path) = filter {
            let column = path.to_string();
            let indexed = column == "id"
                || table
                    .indexes()
                    .iter()
                    .any(|i| i.def().path.to_string() == column);
            if indexed && got.plan == Plan::FullScan {
                self.fail(&format!(
                    "{filter:?} on an indexed column planned a full scan"
                ));
            }
        }
        match table.count(Some(filter), self.db.limits()) {
            Ok(n) if n == expected.len() => {}
            other => self.fail(&format!(
                "count of {filter:?} is {other:?}, a full scan finds {}",
                expected.len()
            )),
        }
        // Limit and offset cut the same key-ordered result, whichever plan found it.
        let page = self
            .db
            .query(TABLE, &query.clone().offset(1).limit(2))
            .map(|r| r.rows);
        let want: Vec<RowRef> = expected.iter().skip(1).take(2).cloned().collect();
        if page.as_ref() != Ok(&want) {
            self.fail(&format!(
                "offset 1 limit 2 of {filter:?} gave {page:?}, expected {want:?}"
            ));
        }
        // Order by k descending, ties in key order (a stable sort of the key-ordered rows).
        let mut sorted = expected.clone();
        sorted.sort_by_key(|row| std::cmp::Reverse(field(row, "k")));
        let ordered = self
            .db
            .query(TABLE, &query.order_by("k", true))
            .map(|r| r.rows);
        if ordered.as_ref() != Ok(&sorted) {
            self.fail(&format!(
                "order by k desc of {filter:?} gave {ordered:?}, expected {sorted:?}"
            ));
        }
    }

    fn fail(&self, what: &str) -> ! {
        let mut history = String::new();
        for (i, (tx, ok)) in self.history.iter().enumerate() {
            let outcome = if *ok { "ok" } else { "failed" };
            let _ = writeln!(history, "tx {i} at LSN {} ({outcome}):", tx.lsn);
            for op in &tx.ops {
                let _ = writeln!(history, "    {op:?}");
            }
        }
        panic!("{what}\n\nhistory:\n{history}");
    }
}

fn field(row: &RowRef, name: &str) -> Value {
    row.get(name).unwrap_or_default()
}

/// Whether two values are the same representation, not merely equal (`Int(1)` is not
/// `Float(1.0)`, `0.0` is not `-0.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Map(x), Value::Map(y)) => same_row(x, y),
        _ => a.type_name() == b.type_name() && a == b,
    }
}

fn same_row(a: &Row, b: &Row) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|((ka, va), (kb, vb))| ka == kb && same(va, vb))
}

// ---------------------------------------------------------------------------------------------
// The model.

/// A row of the model table (the key is the map key).
#[derive(Debug, Clone, PartialEq)]
struct MRow {
    u: Option<i64>,
    k: Option<i64>,
    s: String,
}

impl MRow {
    fn to_row(&self, id: i64) -> Row {
        let opt = |v: Option<i64>| v.map_or(Value::Null, Value::Int);
        Row::from([
            ("id".to_owned(), Value::Int(id)),
            ("u".to_owned(), opt(self.u)),
            ("k".to_owned(), opt(self.k)),
            ("s".to_owned(), Value::Text(self.s.clone())),
        ])
    }

    /// The value of column `col` as the index on it sees it.
    fn get(&self, id: i64, col: &str) -> Value {
        let opt = |v: Option<i64>| v.map_or(Value::Null, Value::Int);
        match col {
            "id" => Value::Int(id),
            "u" => opt(self.u),
            "k" => opt(self.k),
            "s" => Value::Text(self.s.clone()),
            _ => Value::Null,
        }
    }
}

/// The model table: rows by key, the auto-increment counter and the declared indexes (name,
/// column, unique), in declaration order. The unique column `u` has its own implicit index `u`.
#[derive(Debug, Clone)]
struct MTable {
    rows: BTreeMap<i64, MRow>,
    /// `None` once `i64::MAX` has been stored: auto-increment never hands out a key again.
    next_auto: Option<i64>,
    indexes: Vec<(&'static str, &'static str, bool)>,
}

impl MTable {
    fn new() -> Self {
        MTable {
            rows: BTreeMap::new(),
            next_auto: Some(1),
            indexes: vec![("by_k", "k", false)],
        }
    }

    /// Every unique index's column: the declared unique ones and `u`.
    fn unique_columns(&self) -> Vec<&'static str> {
        let mut cols: Vec<&'static str> = self
            .indexes
            .iter()
            .filter(|(_, _, unique)| *unique)
            .map(|(_, col, _)| *col)
            .collect();
        cols.push("u");
        cols
    }

    /// Fails if `row` at `key` would share a non-null value of a unique column with another row.
    fn check_unique(&self, key: i64, row: &MRow) -> Result<(), String> {
        for col in self.unique_columns() {
            let value = row.get(key, col);
            if value.is_null() {
                continue;
            }
            if let Some((other, _)) = self
                .rows
                .iter()
                .find(|(k, r)| **k != key && r.get(**k, col) == value)
            {
                return Err(format!(
                    "unique {col} = {value} already held by row {other}"
                ));
            }
        }
        Ok(())
    }

    /// Writes a checked row.
    fn write(&mut self, key: i64, row: MRow) {
        self.rows.insert(key, row);
        if let Some(next) = self.next_auto
            && key >= next
        {
            self.next_auto = key.checked_add(1);
        }
    }
}

/// The model database: the table if it exists, and the LSN.
#[derive(Debug, Clone, Default)]
struct Model {
    table: Option<MTable>,
    lsn: u64,
}

/// A primary key as the model keys rows: `Int` and integral `Float`s equal to an `i64` (which
/// `Value` equality makes the same key); anything else matches no row.
fn model_key(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        // Exact: only floats that are integers within i64 range are equal to an Int.
        Value::Float(f)
            if f.fract() == 0.0
                && *f >= -9_223_372_036_854_775_808.0
                && *f < 9_223_372_036_854_775_808.0 =>
        {
            Some(*f as i64)
        }
        _ => None,
    }
}

/// The row the schema makes of `row`: `Ok((id, row))` where `id` is `None` for a missing or null
/// key (to be assigned), or why it does not conform.
fn conform(row: &Row) -> Result<(Option<i64>, MRow), String> {
    if let Some(unknown) = row
        .keys()
        .find(|k| !["id", "u", "k", "s"].contains(&k.as_str()))
    {
        return Err(format!("unknown column {unknown}"));
    }
    let int = |col: &str| -> Result<Option<i64>, String> {
        match row.get(col) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Int(i)) => Ok(Some(*i)),
            Some(other) => Err(format!("{col} = {other:?} is not an int")),
        }
    };
    let s = match row.get("s") {
        None => "x".to_owned(),
        Some(Value::Text(s)) => s.clone(),
        Some(Value::Null) => return Err("s is null".to_owned()),
        Some(other) => return Err(format!("s = {other:?} is not text")),
    };
    Ok((
        int("id")?,
        MRow {
            u: int("u")?,
            k: int("k")?,
            s,
        },
    ))
}

impl Model {
    /// The model after `tx`, or why `tx` fails.
    fn apply(&self, tx: &Transaction) -> Result<Model, String> {
        if tx.lsn.0 <= self.lsn {
            return Err(format!("LSN {} is not after {}", tx.lsn, self.lsn));
        }
        let mut next = self.clone();
        for op in &tx.ops {
            next.apply_op(op)?;
        }
        next.lsn = tx.lsn.0;
        Ok(next)
    }

    fn apply_op(&mut self, op: &Op) -> Result<(), String> {
        if op.table() != TABLE {
            return Err(format!("no table {}", op.table()));
        }
        if let Op::CreateTable(_) = op {
            if self.table.is_some() {
                return Err("table exists".to_owned());
            }
            self.table = Some(MTable::new());
            return Ok(());
        }
        let t = self.table.as_mut().ok_or("no table")?;
        match op {
            Op::DropTable { .. } => self.table = None,
            Op::Insert { row, .. } | Op::Upsert { row, .. } => {
                let (id, row) = conform(row)?;
                let key = match id {
                    Some(key) => key,
                    None => t.next_auto.ok_or("auto-increment key space exhausted")?,
                };
                if matches!(op, Op::Insert { .. }) && t.rows.contains_key(&key) {
                    return Err(format!("duplicate key {key}"));
                }
                t.check_unique(key, &row)?;
                t.write(key, row);
            }
            Op::Update { key, set, .. } => {
                let old = model_key(key)
                    .and_then(|k| t.rows.get(&k).map(|r| (k, r)))
                    .ok_or_else(|| format!("no row {key:?}"))?;
                let (k, old) = old;
                if let Some(new_key) = set.get("id")
                    && *new_key != Value::Int(k)
                {
                    return Err(format!("update changes key {k} to {new_key:?}"));
                }
                let mut merged = old.to_row(k);
                merged.extend(set.iter().map(|(f, v)| (f.clone(), v.clone())));
                let (id, row) = conform(&merged)?;
                let id = id.ok_or("update nulls the key")?;
                t.check_unique(id, &row)?;
                t.write(id, row);
            }
            Op::Delete { key, .. } => {
                let k = model_key(key)
                    .filter(|k| t.rows.contains_key(k))
                    .ok_or_else(|| format!("no row {key:?}"))?;
                t.rows.remove(&k);
            }
            Op::CreateIndex { index, .. } => {
                let name = known_name(&index.name);
                if t.indexes.iter().any(|(n, _, _)| *n == name) || name == "u" {
                    return Err(format!("index {name} exists"));
                }
                let col = match index.path.to_string().as_str() {
                    "u" => "u",
                    "k" => "k",
                    "s" => "s",
                    "id" => return Err("index on the primary key".to_owned()),
                    other => return Err(format!("no column {other}")),
                };
                if index.unique {
                    let mut seen = Vec::new();
                    for (key, row) in &t.rows {
                        let v = row.get(*key, col);
                        if v.is_null() {
                            continue;
                        }
                        if seen.contains(&v) {
                            return Err(format!("duplicate {col} = {v} for a unique index"));
                        }
                        seen.push(v);
                    }
                }
                t.indexes.push((name, col, index.unique));
            }
            Op::DropIndex { index, .. } => {
                let pos = t
                    .indexes
                    .iter()
                    .position(|(n, _, _)| n == index)
                    .ok_or_else(|| format!("no declared index {index}"))?;
                t.indexes.remove(pos);
            }
            other => return Err(format!("the model does not know {other:?}")),
        }
        Ok(())
    }
}

/// Index names the generator uses, as `'static` strings for the model.
const INDEX_NAMES: &[&str] = &["by_k", "by_s", "by_u", "u"];

fn known_name(name: &str) -> &'static str {
    INDEX_NAMES
        .iter()
        .find(|n| **n == name)
        .copied()
        .unwrap_or("?")
}

// ---------------------------------------------------------------------------------------------
// Decoding the input.

/// One of `choices`, cloned.
fn pick(u: &mut Unstructured<'_>, choices: &[Value]) -> Result<Value> {
    u.choose(choices).cloned()
}

fn gen_step(u: &mut Unstructured<'_>, lsn: u64) -> Result<Step> {
    if u.ratio(1, 4)? {
        return Ok(Step::Query(gen_filter(u, 0)?));
    }
    // Now and then a stale LSN, which must fail the whole transaction.
    let lsn = if u.ratio(1, 32)? { lsn } else { lsn + 1 };
    let mut tx = Transaction::new(Lsn(lsn), Timestamp::EPOCH);
    for _ in 0..u.int_in_range(1..=3)? {
        tx.ops.push(gen_op(u)?);
    }
    Ok(Step::Tx(tx))
}

fn gen_op(u: &mut Unstructured<'_>) -> Result<Op> {
    // Rarely, an op on a table that does not exist (creating it would succeed, so not that op).
    let table = if u.ratio(1, 64)? { "nope" } else { TABLE }.to_owned();
    Ok(match u.int_in_range(0..=63)? {
        0 => Op::DropTable { table },
        1..=4 => Op::CreateTable(table_def()),
        5..=7 => Op::CreateIndex {
            table,
            index: IndexDef {
                name: (*u.choose(INDEX_NAMES)?).to_owned(),
                path: Path::column(*u.choose(&["k", "s", "u", "id", "zz"])?),
                unique: u.arbitrary()?,
            },
        },
        8..=9 => Op::DropIndex {
            table,
            index: (*u.choose(INDEX_NAMES)?).to_owned(),
        },
        10..=29 => Op::Insert {
            table,
            row: gen_row(u)?,
        },
        30..=41 => Op::Upsert {
            table,
            row: gen_row(u)?,
        },
        42..=53 => Op::Update {
            table,
            key: gen_key(u)?,
            set: gen_set(u)?,
        },
        _ => Op::Delete {
            table,
            key: gen_key(u)?,
        },
    })
}

/// A key to look a row up by: mostly a small int, sometimes the equal float, rarely a value that
/// cannot be a key of this table.
fn gen_key(u: &mut Unstructured<'_>) -> Result<Value> {
    let i = u.int_in_range(0..=7)?;
    Ok(match u.int_in_range(0..=15)? {
        0..=11 => Value::Int(i),
        12..=13 => Value::Float(i as f64),
        14 => Value::Float(i as f64 + 0.5),
        _ => pick(u, &[Value::Null, Value::from("1")])?,
    })
}

/// A field value for `col`: absent (`None`), null, a small value of the column's type, or rarely
/// a value of the wrong type.
fn gen_field(u: &mut Unstructured<'_>, col: &str) -> Result<Option<Value>> {
    let choice = u.int_in_range(0..=31)?;
    Ok(match (col, choice) {
        (_, 0..=5) => None,
        (_, 6..=7) => Some(Value::Null),
        (_, 8) => Some(pick(
            u,
            &[
                Value::Float(1.0),
                Value::Float(0.5),
                Value::from("1"),
                Value::Bool(true),
                Value::Int(1),
            ],
        )?),
        ("id", _) => Some(Value::Int(u.int_in_range(0..=7)?)),
        ("s", _) => Some(Value::from(*u.choose(&["a", "b", "c", "x"])?)),
        _ => Some(Value::Int(u.int_in_range(0..=3)?)),
    })
}

/// A row to insert or upsert; rarely with a column the schema does not have.
fn gen_row(u: &mut Unstructured<'_>) -> Result<Row> {
    let mut row = Row::new();
    for col in ["id", "u", "k", "s"] {
        if let Some(v) = gen_field(u, col)? {
            row.insert(col.to_owned(), v);
        }
    }
    if u.ratio(1, 32)? {
        row.insert("zz".to_owned(), Value::Int(1));
    }
    Ok(row)
}

/// The fields an update sets: mostly not the key (setting it to another value fails).
fn gen_set(u: &mut Unstructured<'_>) -> Result<Row> {
    let mut row = gen_row(u)?;
    if u.ratio(7, 8)? {
        row.remove("id");
    }
    Ok(row)
}

/// Operands for filters: numbers equal to, between and beyond the stored ints, and values of
/// other classes (which type-bracketed ranges must not match).
fn probe(u: &mut Unstructured<'_>) -> Result<Value> {
    let i = u.int_in_range(-1..=8)?;
    Ok(match u.int_in_range(0..=11)? {
        0..=5 => Value::Int(i),
        6 => Value::Float(i as f64),
        7 => Value::Float(i as f64 + 0.5),
        8 => Value::from(*u.choose(&["", "a", "b", "x", "y"])?),
        9 => Value::Null,
        10 => Value::Float(*u.choose(&[f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0])?),
        _ => pick(
            u,
            &[
                Value::Bool(false),
                Value::Timestamp(Timestamp::EPOCH),
                Value::Bytes(Vec::new()),
                Value::List(Vec::new()),
            ],
        )?,
    })
}

fn gen_filter(u: &mut Unstructured<'_>, depth: usize) -> Result<Filter> {
    let kind = u.int_in_range(0..=if depth < 2 { 13 } else { 10 })?;
    let col = *u.choose(&["id", "u", "k", "s", "zz"])?;
    Ok(match kind {
        0 => Filter::eq(col, probe(u)?),
        1 => Filter::ne(col, probe(u)?),
        2 => Filter::lt(col, probe(u)?),
        3 => Filter::le(col, probe(u)?),
        4 => Filter::gt(col, probe(u)?),
        5 => Filter::ge(col, probe(u)?),
        6 => Filter::between(col, probe(u)?, probe(u)?),
        7 => Filter::is_in(col, [probe(u)?, probe(u)?]),
        8 => Filter::prefix(col, *u.choose(&["", "a", "x", "\u{10FFFF}"])?),
        9 => Filter::is_null(col),
        10 => Filter::contains(col, probe(u)?),
        11 => Filter::And(vec![gen_filter(u, depth + 1)?, gen_filter(u, depth + 1)?]),
        12 => Filter::Or(vec![gen_filter(u, depth + 1)?, gen_filter(u, depth + 1)?]),
        _ => gen_filter(u, depth + 1)?.negate(),
    })
}

/// Filters checked once at the end of every run, on every column.
fn sweep() -> Vec<Filter> {
    let mut out = Vec::new();
    for col in ["id", "u", "k", "s"] {
        for v in [
            Value::Int(0),
            Value::Int(2),
            Value::Float(2.0),
            Value::Float(1.5),
            Value::Null,
            Value::from("b"),
        ] {
            out.push(Filter::eq(col, v.clone()));
            out.push(Filter::gt(col, v.clone()));
            out.push(Filter::le(col, v));
        }
        out.push(Filter::is_null(col));
        out.push(Filter::is_in(col, [1, 3]));
        out.push(Filter::between(col, 1, 2));
        out.push(Filter::prefix(col, "a"));
        out.push(Filter::eq(col, 1).and(Filter::gt("k", 0)));
    }
    out
}
