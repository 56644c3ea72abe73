//! `State::apply_part`: the whole transaction applied, the changes of one range of its ops
//! returned (the engine's commits wrap the caller's ops in time-to-live deletes).

use tabula_core::{Lsn, Op, Row, State, TableDef, Timestamp, Transaction, Value};

fn row(id: i64) -> Row {
    Row::from([("id".to_owned(), Value::Int(id))])
}

fn insert(id: i64) -> Op {
    Op::Insert {
        table: "t".into(),
        row: row(id),
    }
}

fn tx(lsn: u64, ops: Vec<Op>) -> Transaction {
    Transaction {
        lsn: Lsn(lsn),
        timestamp: Timestamp::EPOCH,
        cause: None,
        ops,
    }
}

fn keys(changes: &[tabula_core::RowChange]) -> Vec<Value> {
    changes.iter().map(|c| c.key.clone()).collect()
}

#[test]
fn only_the_changes_of_the_range_come_back_and_everything_is_applied() {
    // Op 0 makes no row change: ranges count ops, not changes.
    let ops = vec![
        Op::CreateTable(TableDef::new("t", "id")),
        insert(1),
        insert(2),
        insert(3),
        insert(4),
    ];
    for (range, expected) in [
        (0..5, vec![1, 2, 3, 4]),
        (0..1, vec![]),
        (1..3, vec![1, 2]),
        (2..5, vec![2, 3, 4]),
        (5..5, vec![]),
        (3..3, vec![]),
    ] {
        let mut db = State::new();
        let changes = db.apply_part(&tx(1, ops.clone()), range.clone()).unwrap();
        let expected: Vec<Value> = expected.into_iter().map(Value::Int).collect();
        assert_eq!(keys(&changes), expected, "{range:?}");
        assert_eq!(db.table("t").unwrap().len(), 4, "{range:?}");
        assert_eq!(db.lsn(), Lsn(1));
    }
}

#[test]
fn a_failing_op_changes_nothing_whatever_the_range() {
    let mut db = State::new();
    db.apply(&tx(
        1,
        vec![Op::CreateTable(TableDef::new("t", "id")), insert(1)],
    ))
    .unwrap();
    let before = db.clone();
    let error = db.apply_part(&tx(2, vec![insert(2), insert(1)]), 0..1);
    assert!(error.is_err());
    assert_eq!(db, before);
}
