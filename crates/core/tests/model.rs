//! Model-based test: random transactions (many of them failing) are applied to `State` and to a
//! trivial reference model built on `BTreeMap`s. After every transaction both must agree on
//! success or the kind of error, and on every table's rows; a failed transaction must leave the
//! database exactly as it was. Replaying the recorded transactions from empty twice must give
//! equal databases (determinism).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

mod common;

use std::collections::BTreeMap;

use proptest::prelude::*;
use tabula_core::{
    Column, ColumnType, Error, Filter, Lsn, Op, Query, Row, State, TableDef, Timestamp,
    Transaction, Value,
};

const TABLES: [&str; 2] = ["a", "b"];

/// Table "a" auto-increments its key; "b" does not. Both: `u` unique, `v` required int with an
/// ordered index, `w` optional text.
fn def(name: &str) -> TableDef {
    let def = TableDef::new(name, "id")
        .column(Column::new("id", ColumnType::Int))
        .column(Column::new("u", ColumnType::Int).unique())
        .column(Column::new("v", ColumnType::Int).not_null())
        .column(Column::new("w", ColumnType::Text))
        .index("by_v", "v");
    if name == "a" {
        def.auto_increment()
    } else {
        def
    }
}

/// A generated op, small enough that keys and unique values collide often.
#[derive(Debug, Clone)]
enum GenOp {
    Create(usize),
    Drop(usize),
    Insert {
        t: usize,
        id: Option<i64>,
        u: Option<i64>,
        v: Value,
        w: Option<String>,
    },
    Upsert {
        t: usize,
        id: Option<i64>,
        u: Option<i64>,
        v: Value,
        w: Option<String>,
    },
    Update {
        t: usize,
        id: i64,
        u: Option<Option<i64>>,
        v: Option<Value>,
        w: Option<Option<String>>,
    },
    Delete {
        t: usize,
        id: i64,
    },
}

fn gen_v() -> impl Strategy<Value = Value> {
    prop_oneof![8 => (0i64..5).prop_map(Value::Int), 1 => Just(Value::from("bad")), 1 => Just(Value::Null)]
}

fn gen_op() -> impl Strategy<Value = GenOp> {
    let t = 0..TABLES.len();
    let id = 0i64..8;
    let u = proptest::option::of(0i64..4);
    let w = proptest::option::of("[xy]{1,2}");
    prop_oneof![
        1 => t.clone().prop_map(GenOp::Create),
        1 => t.clone().prop_map(GenOp::Drop),
        6 => (t.clone(), proptest::option::weighted(0.7, id.clone()), u.clone(), gen_v(), w.clone())
            .prop_map(|(t, id, u, v, w)| GenOp::Insert { t, id, u, v, w }),
        3 => (t.clone(), proptest::option::weighted(0.8, id.clone()), u.clone(), gen_v(), w.clone())
            .prop_map(|(t, id, u, v, w)| GenOp::Upsert { t, id, u, v, w }),
        3 => (t.clone(), id.clone(), proptest::option::of(u), proptest::option::of(gen_v()), proptest::option::of(w))
            .prop_map(|(t, id, u, v, w)| GenOp::Update { t, id, u, v, w }),
        2 => (t, id).prop_map(|(t, id)| GenOp::Delete { t, id }),
    ]
}

fn opt<T: Into<Value>>(v: Option<T>) -> Value {
    v.map_or(Value::Null, Into::into)
}

impl GenOp {
    fn to_op(&self) -> Op {
        let table = |t: &usize| TABLES[*t].to_owned();
        let full_row = |id: &Option<i64>, u: &Option<i64>, v: &Value, w: &Option<String>| {
            let mut row = Row::new();
            if let Some(id) = id {
                row.insert("id".into(), Value::Int(*id));
            }
            row.insert("u".into(), opt(*u));
            row.insert("v".into(), v.clone());
            if let Some(w) = w {
                row.insert("w".into(), Value::from(w.as_str()));
            }
            row
        };
        match self {
            GenOp::Create(t) => Op::CreateTable(def(TABLES[*t])),
            GenOp::Drop(t) => Op::DropTable { table: table(t) },
            GenOp::Insert { t, id, u, v, w } => Op::Insert {
                table: table(t),
                row: full_row(id, u, v, w),
            },
            GenOp::Upsert { t, id, u, v, w } => Op::Upsert {
                table: table(t),
                row: full_row(id, u, v, w),
            },
            GenOp::Update { t, id, u, v, w } => {
                let mut set = Row::new();
                if let Some(u) = u {
                    set.insert("u".into(), opt(*u));
                }
                if let Some(v) = v {
                    set.insert("v".into(), v.clone());
                }
                if let Some(w) = w {
                    set.insert("w".into(), opt(w.clone()));
                }
                Op::Update {
                    table: table(t),
                    key: Value::Int(*id),
                    set,
                }
            }
            GenOp::Delete { t, id } => Op::Delete {
                table: table(t),
                key: Value::Int(*id),
            },
        }
    }
}

/// A model row: `u`, `v`, `w`.
type MRow = (Option<i64>, i64, Option<String>);

#[derive(Debug, Clone, Default)]
struct MTable {
    rows: BTreeMap<i64, MRow>,
    next_auto: i64,
}

#[derive(Debug, Clone, Default)]
struct Model {
    tables: BTreeMap<&'static str, MTable>,
}

impl Model {
    /// Applies one op; on error returns the name of the error variant core should give.
    fn apply_op(&mut self, op: &GenOp) -> Result<(), &'static str> {
        let name = |t: &usize| TABLES[*t];
        match op {
            GenOp::Create(t) => {
                if self.tables.contains_key(name(t)) {
                    return Err("TableExists");
                }
                self.tables.insert(
                    name(t),
                    MTable {
                        rows: BTreeMap::new(),
                        next_auto: 1,
                    },
                );
                Ok(())
            }
            GenOp::Drop(t) => self.tables.remove(name(t)).map(drop).ok_or("UnknownTable"),
            GenOp::Insert { t, id, u, v, w } | GenOp::Upsert { t, id, u, v, w } => {
                let is_insert = matches!(op, GenOp::Insert { .. });
                let table = self.tables.get_mut(name(t)).ok_or("UnknownTable")?;
                let v = check_v(v)?;
                let id = match id {
                    Some(id) => *id,
                    None if *t == 0 => table.next_auto,
                    None => return Err("MissingPrimaryKey"),
                };
                if is_insert && table.rows.contains_key(&id) {
                    return Err("DuplicateKey");
                }
                check_unique(table, id, *u)?;
                table.rows.insert(id, (*u, v, w.clone()));
                table.next_auto = table.next_auto.max(id + 1);
                Ok(())
            }
            GenOp::Update { t, id, u, v, w } => {
                let table = self.tables.get_mut(name(t)).ok_or("UnknownTable")?;
                let mut row = table.rows.get(id).cloned().ok_or("KeyNotFound")?;
                if let Some(u) = u {
                    row.0 = *u;
                }
                if let Some(v) = v {
                    row.1 = check_v(v)?;
                }
                if let Some(w) = w {
                    row.2.clone_from(w);
                }
                check_unique(table, *id, row.0)?;
                table.rows.insert(*id, row);
                Ok(())
            }
            GenOp::Delete { t, id } => {
                let table = self.tables.get_mut(name(t)).ok_or("UnknownTable")?;
                table.rows.remove(id).map(drop).ok_or("KeyNotFound")
            }
        }
    }

    /// Applies a transaction all-or-nothing.
    fn apply(&mut self, ops: &[GenOp]) -> Result<(), &'static str> {
        let mut next = self.clone();
        for op in ops {
            next.apply_op(op)?;
        }
        *self = next;
        Ok(())
    }

    /// The rows core should hold: every column present, `null` where unset.
    fn expected_rows(&self, table: &str) -> Option<Vec<Row>> {
        let t = self.tables.get(table)?;
        Some(
            t.rows
                .iter()
                .map(|(id, (u, v, w))| {
                    common::row([
                        ("id", Value::Int(*id)),
                        ("u", opt(*u)),
                        ("v", Value::Int(*v)),
                        ("w", opt(w.clone())),
                    ])
                })
                .collect(),
        )
    }
}

fn check_v(v: &Value) -> Result<i64, &'static str> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Null => Err("NullViolation"),
        _ => Err("TypeMismatch"),
    }
}

fn check_unique(table: &MTable, id: i64, u: Option<i64>) -> Result<(), &'static str> {
    match u {
        Some(u)
            if table
                .rows
                .iter()
                .any(|(other, row)| *other != id && row.0 == Some(u)) =>
        {
            Err("UniqueViolation")
        }
        _ => Ok(()),
    }
}

fn error_kind(e: &Error) -> &'static str {
    match e {
        Error::DuplicateKey { .. } => "DuplicateKey",
        Error::UniqueViolation { .. } => "UniqueViolation",
        Error::TypeMismatch { .. } => "TypeMismatch",
        Error::NullViolation { .. } => "NullViolation",
        Error::MissingPrimaryKey { .. } => "MissingPrimaryKey",
        Error::UnknownTable { .. } => "UnknownTable",
        Error::TableExists { .. } => "TableExists",
        Error::KeyNotFound { .. } => "KeyNotFound",
        other => panic!("unexpected error {other}"),
    }
}

fn observed_rows(db: &State, table: &str) -> Option<Vec<Row>> {
    db.table(table)
        .map(|t| t.iter().map(|(_, r)| r.to_row()).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn database_agrees_with_the_model(txs in proptest::collection::vec(proptest::collection::vec(gen_op(), 1..4), 1..40)) {
        let mut db = State::new();
        let mut model = Model::default();
        let mut log = Vec::new();
        for (i, ops) in txs.iter().enumerate() {
            let mut tx = Transaction::new(Lsn(i as u64 + 1), Timestamp::from_micros(i as i64));
            tx.ops = ops.iter().map(GenOp::to_op).collect();
            let before = db.clone();
            let got = db.apply(&tx);
            let want = model.apply(ops);
            match (&got, want) {
                (Ok(_), Ok(())) => {}
                (Err(e), Err(kind)) => {
                    prop_assert_eq!(error_kind(e), kind, "tx {:?}", ops);
                    prop_assert_eq!(&db, &before, "failed tx changed the database");
                }
                (got, want) => prop_assert!(false, "core {:?} but model {:?} for {:?}", got, want, ops),
            }
            for table in TABLES {
                prop_assert_eq!(observed_rows(&db, table), model.expected_rows(table), "table {}", table);
                // The index on v and the unique index on u answer as a scan does.
                if let Some(t) = db.table(table) {
                    for probe in [Filter::eq("v", 2), Filter::gt("v", 2), Filter::is_in("u", [0, 3]), Filter::is_null("u")] {
                        let res = t.query(&Query::new().filter(probe.clone()), db.limits()).unwrap();
                        let scan: Vec<_> = t.iter().filter(|(_, r)| probe.matches(r)).map(|(_, r)| r.clone()).collect();
                        prop_assert_eq!(res.rows, scan, "probe {:?}", probe);
                    }
                }
            }
            log.push(tx);
        }
        // Determinism: replaying the same transactions from empty gives the same state, twice.
        let replay = |log: &[Transaction]| {
            let mut db = State::new();
            for tx in log {
                let _ = db.apply(tx);
            }
            db
        };
        let first = replay(&log);
        let second = replay(&log);
        prop_assert_eq!(&first, &db);
        prop_assert_eq!(&first, &second);
        // `==` treats `Int(7)` and `Float(7.0)` as equal; the `Debug` text does not, so it also
        // catches a change of representation between the live database and a replay.
        prop_assert_eq!(format!("{first:?}"), format!("{second:?}"));
        prop_assert_eq!(format!("{first:?}"), format!("{db:?}"));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A draft (an interactive write transaction) keeps the ops that succeeded and skips the ones
    /// that failed; logging its transaction and replaying it on the same base must give the
    /// state the draft showed, bit for bit, and each op's failure must leave the draft as it was.
    #[test]
    fn a_finished_draft_is_what_replaying_its_transaction_gives(
        setup in proptest::collection::vec(gen_op(), 0..12),
        drafted in proptest::collection::vec(gen_op(), 1..24),
    ) {
        let mut base = State::new();
        let mut first = Transaction::new(Lsn(1), Timestamp::EPOCH);
        first.ops = TABLES.iter().map(|t| Op::CreateTable(def(t))).collect();
        base.apply(&first).unwrap();
        for (i, op) in setup.iter().enumerate() {
            let mut tx = Transaction::new(Lsn(i as u64 + 2), Timestamp::EPOCH);
            tx.ops = vec![op.to_op()];
            let _ = base.apply(&tx);
        }
        let mut draft = tabula_core::Draft::new(base.clone());
        let mut model = base.clone();
        for op in &drafted {
            let before = draft.state().clone();
            let one = Transaction::new(model.lsn().next(), Timestamp::EPOCH).with(op.to_op());
            match (draft.push(op.to_op()), model.apply(&one)) {
                (Ok(_), Ok(_)) => {}
                (Err(e), Err(want)) => {
                    prop_assert_eq!(error_kind(&e), error_kind(&want));
                    prop_assert_eq!(draft.state(), &before, "a failed op changed the draft");
                }
                (got, want) => prop_assert!(false, "draft {:?} but apply {:?} for {:?}", got, want, op),
            }
        }
        let lsn = base.lsn().next();
        let (state, tx) = draft.finish(lsn, Timestamp::EPOCH, None).unwrap();
        let mut replayed = base.clone();
        replayed.apply(&tx).unwrap();
        prop_assert_eq!(&replayed, &state);
        prop_assert_eq!(format!("{replayed:?}"), format!("{state:?}"));
        for table in TABLES {
            prop_assert_eq!(observed_rows(&state, table), observed_rows(&model, table));
        }
    }
}
