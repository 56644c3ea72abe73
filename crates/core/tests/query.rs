//! Queries: the same rows with and without indexes (property test), proof that indexed filters do
//! not scan the table (by the rows examined, not by time), and the filter semantics on mixed and
//! nested data.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

mod common;

use common::{commit, insert, row, university};
use proptest::prelude::*;
use tabula_core::{
    Column, ColumnType, Filter, Map, Op, Path, Plan, Query, Row, SchemaChange, State, TableDef,
    Value,
};

/// Two schemaless tables with the same rows: `plain` has no index, `indexed` indexes `score`
/// (mixed types), `name` (unique) and `address.city` (nested).
fn twins(rows: &[Row]) -> State {
    let mut db = State::new();
    let indexed = TableDef::new("indexed", "id")
        .index("by_score", "score")
        .unique_index("by_name", "name")
        .index("by_city", "address.city");
    let mut ops = vec![
        Op::CreateTable(TableDef::new("plain", "id")),
        Op::CreateTable(indexed),
    ];
    for r in rows {
        ops.push(insert("plain", r.clone()));
        ops.push(insert("indexed", r.clone()));
    }
    commit(&mut db, ops).unwrap();
    db
}

fn gen_score() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => (0i64..10).prop_map(Value::Int),
        2 => (0i64..20).prop_map(|i| Value::Float(i as f64 / 2.0)),
        1 => "[a-c]{0,2}".prop_map(Value::Text),
        // Around the inline length of stored keys (24 bytes): inline and shared forms in one
        // index.
        1 => "a{22}[a-c]{0,4}".prop_map(Value::Text),
        1 => Just(Value::Null),
    ]
}

fn gen_rows() -> impl Strategy<Value = Vec<Row>> {
    proptest::collection::btree_map(
        0i64..200,
        (
            gen_score(),
            proptest::option::of("[a-d]{1,3}"),
            proptest::option::of("[pq]{1,2}"),
        ),
        0..60,
    )
    .prop_map(|rows| {
        let mut seen_names = std::collections::BTreeSet::new();
        rows.into_iter()
            .map(|(id, (score, name, city))| {
                let mut r = row([("id", id.into()), ("score", score)]);
                // Names are unique in the indexed table; keep the first holder of each name.
                if let Some(name) = name.filter(|n| seen_names.insert(n.clone())) {
                    r.insert("name".into(), name.into());
                }
                if let Some(city) = city {
                    let mut address = Map::new();
                    address.insert("city".into(), city.into());
                    r.insert("address".into(), Value::Map(address));
                }
                r
            })
            .collect()
    })
}

fn gen_leaf() -> impl Strategy<Value = Filter> {
    let path = prop_oneof![
        Just("id"),
        Just("score"),
        Just("name"),
        Just("address.city"),
        Just("missing")
    ];
    let operand = prop_oneof![
        gen_score(),
        (0i64..200).prop_map(Value::Int),
        "[a-d]{0,2}".prop_map(Value::Text),
        "[pq]{1,2}".prop_map(Value::Text)
    ];
    (path, operand.clone(), operand, 0..11u8).prop_map(|(p, a, b, kind)| match kind {
        0 => Filter::eq(p, a),
        1 => Filter::ne(p, a),
        2 => Filter::lt(p, a),
        3 => Filter::le(p, a),
        4 => Filter::gt(p, a),
        5 => Filter::ge(p, a),
        6 => Filter::is_in(p, [a, b]),
        7 => Filter::between(p, a, b),
        8 => Filter::prefix(p, a.as_str().unwrap_or("a")),
        9 => Filter::contains(p, a),
        _ => Filter::is_null(p),
    })
}

fn gen_filter() -> impl Strategy<Value = Filter> {
    gen_leaf().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Filter::And),
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Filter::Or),
            inner.prop_map(Filter::negate),
        ]
    })
}

fn gen_query() -> impl Strategy<Value = Query> {
    let order = proptest::collection::vec(
        (
            prop_oneof![
                Just("score"),
                Just("name"),
                Just("address.city"),
                Just("id")
            ],
            any::<bool>(),
        ),
        0..3,
    );
    (
        proptest::option::of(gen_filter()),
        order,
        0usize..5,
        proptest::option::of(0usize..20),
        any::<bool>(),
    )
        .prop_map(|(filter, order, offset, limit, project)| {
            let mut q = Query::new().offset(offset);
            if let Some(f) = filter {
                q = q.filter(f);
            }
            for (p, desc) in order {
                q = q.order_by(p, desc);
            }
            if let Some(l) = limit {
                q = q.limit(l);
            }
            if project {
                q = q.select(["id", "address.city"]);
            }
            q
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn indexes_never_change_the_result(rows in gen_rows(), queries in proptest::collection::vec(gen_query(), 1..8)) {
        let db = twins(&rows);
        for q in queries {
            let plain = db.query("plain", &q).unwrap();
            let indexed = db.query("indexed", &q).unwrap();
            prop_assert_eq!(&plain.rows, &indexed.rows, "query {:?} with plan {:?}", q, indexed.plan);
            // Plans differ between the twins, so only the full scan bounds the work.
            prop_assert!(indexed.examined <= rows.len());
            let count = db.table("indexed").unwrap().count(q.filter.as_ref(), db.limits()).unwrap();
            let all = db.query("plain", &Query { offset: 0, limit: None, ..q.clone() }).unwrap();
            prop_assert_eq!(count, all.rows.len());
            // Against the filter applied to every row: key and index accesses that skip the
            // second look at their rows must visit exactly the rows it matches.
            let brute = db
                .table("plain")
                .unwrap()
                .iter()
                .filter(|(_, r)| q.filter.as_ref().is_none_or(|f| f.matches(r)))
                .count();
            prop_assert_eq!(count, brute, "filter {:?}", q.filter);
        }
    }
}

/// 10,000 rows; `score` is `id % 100`, so each score value matches 100 rows.
fn big() -> State {
    let mut db = State::new();
    let mut ops = vec![Op::CreateTable(
        TableDef::new("t", "id")
            .column(Column::new("id", ColumnType::Int))
            .column(Column::new("score", ColumnType::Int))
            .column(Column::new("tag", ColumnType::Text))
            .index("by_score", "score"),
    )];
    for id in 0..10_000i64 {
        ops.push(insert(
            "t",
            row([
                ("id", id.into()),
                ("score", (id % 100).into()),
                ("tag", format!("t{}", id % 7).into()),
            ]),
        ));
    }
    commit(&mut db, ops).unwrap();
    db
}

#[test]
fn indexed_filters_do_not_scan_the_table() {
    let db = big();
    let q = |f: Filter| db.query("t", &Query::new().filter(f)).unwrap();

    let r = q(Filter::eq("score", 42));
    assert_eq!(
        r.plan,
        Plan::IndexLookup {
            index: "by_score".into(),
            values: 1
        }
    );
    assert_eq!((r.rows.len(), r.examined), (100, 100));

    let r = q(Filter::eq("id", 4242));
    assert_eq!(r.plan, Plan::KeyLookup { keys: 1 });
    assert_eq!((r.rows.len(), r.examined), (1, 1));

    let r = q(Filter::between("score", 10, 12).and(Filter::eq("tag", "t3")));
    assert_eq!(
        r.plan,
        Plan::IndexRange {
            index: "by_score".into()
        }
    );
    assert_eq!(r.examined, 300);
    assert!(
        r.rows
            .iter()
            .all(|row| row.get("tag").unwrap() == Value::from("t3"))
    );

    let r = q(Filter::ge("id", 9_990));
    assert_eq!(r.plan, Plan::KeyRange);
    assert_eq!((r.rows.len(), r.examined), (10, 10));

    // The best conjunct wins: the key lookup beats the index.
    let r = q(Filter::eq("score", 42).and(Filter::eq("id", 142)));
    assert_eq!(r.plan, Plan::KeyLookup { keys: 1 });
    assert_eq!(r.examined, 1);

    // An unindexed column scans, and says so.
    let r = q(Filter::eq("tag", "t3"));
    assert_eq!(r.plan, Plan::FullScan);
    assert_eq!(r.examined, 10_000);

    // Without a sort, a limit stops the scan early.
    let r = db.query("t", &Query::new().limit(5)).unwrap();
    assert_eq!((r.rows.len(), r.examined), (5, 5));
}

#[test]
fn filters_on_mixed_and_nested_data() {
    let mut db = State::new();
    let city = |c: &str| {
        let mut m = Map::new();
        m.insert("city".into(), c.into());
        Value::Map(m)
    };
    commit(
        &mut db,
        vec![
            Op::CreateTable(TableDef::new("people", "id").index("by_age", "age")),
            insert(
                "people",
                row([
                    ("id", 1.into()),
                    ("age", 30.into()),
                    ("address", city("Paris")),
                ]),
            ),
            insert(
                "people",
                row([
                    ("id", 2.into()),
                    ("age", 25.5.into()),
                    ("address", city("Lyon")),
                ]),
            ),
            insert("people", row([("id", 3.into()), ("age", "unknown".into())])),
            insert("people", row([("id", 4.into())])),
        ],
    )
    .unwrap();
    let ids = |f: Filter| -> Vec<i64> {
        let r = db.query("people", &Query::new().filter(f)).unwrap();
        r.rows
            .iter()
            .map(|row| row.get("id").unwrap().as_int().unwrap())
            .collect()
    };
    // Range filters are type-bracketed: text and missing ages never match a numeric range.
    assert_eq!(ids(Filter::gt("age", 0)), [1, 2]);
    assert_eq!(ids(Filter::lt("age", 100)), [1, 2]);
    assert_eq!(ids(Filter::ge("age", "a")), [3]);
    // Int and float compare by value.
    assert_eq!(ids(Filter::eq("age", 30.0)), [1]);
    assert_eq!(ids(Filter::between("age", 25, 26)), [2]);
    // Missing reads as null; ne is the exact negation of eq.
    assert_eq!(ids(Filter::is_null("age")), [4]);
    assert_eq!(ids(Filter::ne("age", 30)), [2, 3, 4]);
    assert_eq!(ids(Filter::eq("address.city", "Lyon")), [2]);
    assert_eq!(ids(Filter::prefix("address.city", "P")), [1]);
    assert_eq!(ids(Filter::is_null("address.city")), [3, 4]);
    assert_eq!(
        ids(Filter::eq("age", 30).or(Filter::eq("address.city", "Lyon"))),
        [1, 2]
    );
    assert_eq!(ids(Filter::all()), [1, 2, 3, 4]);
    assert_eq!(ids(Filter::Or(vec![])), Vec::<i64>::new());
}

#[test]
fn order_offset_limit_and_projection() {
    let mut db = university();
    commit(
        &mut db,
        vec![insert(
            "students",
            row([("name", "Dan".into()), ("gpa", 3.5.into())]),
        )],
    )
    .unwrap();
    let q = Query::new()
        .filter(Filter::ge("gpa", 3.5))
        .order_by("gpa", true)
        .order_by("name", false)
        .offset(1)
        .limit(2)
        .select(["name", "gpa"]);
    let r = db.query("students", &q).unwrap();
    let got: Vec<(String, f64)> = r
        .rows
        .iter()
        .map(|row| {
            (
                row.get("name").unwrap().as_str().unwrap().to_owned(),
                row.get("gpa").unwrap().as_float().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, [("Alice".to_owned(), 3.8), ("Bob".to_owned(), 3.5)]);
    assert_eq!(
        r.rows[0].len(),
        2,
        "projection keeps only the selected fields"
    );
    assert_eq!(
        db.table("students")
            .unwrap()
            .count(Some(&Filter::ge("gpa", 3.5)), db.limits())
            .unwrap(),
        4
    );
    // Filters and queries are plain data: they survive a round trip through JSON.
    let json = serde_json::to_string(&q).unwrap();
    assert_eq!(serde_json::from_str::<Query>(&json).unwrap(), q);
}

#[test]
fn schema_changes_rewrite_rows_and_indexes() {
    let mut db = university();
    commit(
        &mut db,
        vec![
            Op::AlterTable {
                table: "students".into(),
                change: SchemaChange::AddColumn(
                    Column::new("year", ColumnType::Int).default_value(1),
                ),
            },
            Op::AlterTable {
                table: "students".into(),
                change: SchemaChange::RenameColumn {
                    from: "gpa".into(),
                    to: "grade".into(),
                },
            },
            Op::AlterTable {
                table: "students".into(),
                change: SchemaChange::DropColumn("address".into()),
            },
        ],
    )
    .unwrap();
    let t = db.table("students").unwrap();
    let alice = t.get(&1.into()).unwrap();
    assert_eq!(alice.get("year").unwrap(), Value::Int(1));
    assert_eq!(alice.get("grade").unwrap(), Value::Float(3.8));
    assert!(!alice.contains_key("gpa") && !alice.contains_key("address"));
    assert_eq!(t.def().indexes[0].path, Path::column("grade"));
    let r = db
        .query("students", &Query::new().filter(Filter::gt("grade", 3.85)))
        .unwrap();
    assert_eq!(
        r.plan,
        Plan::IndexRange {
            index: "by_gpa".into()
        }
    );
    assert_eq!(r.rows.len(), 1);
    // The auto-increment counter survives the rewrite.
    let changes = commit(
        &mut db,
        vec![insert("students", row([("name", "Dan".into())]))],
    )
    .unwrap();
    assert_eq!(changes[0].key, Value::Int(4));
}

#[test]
fn inverted_and_empty_ranges_match_nothing() {
    let db = big();
    for f in [
        Filter::between("id", 50, 10),
        Filter::between("score", 50, 10),
        Filter::lt("id", Value::Null),
        Filter::gt("score", Value::Null),
        Filter::lt("score", f64::NEG_INFINITY),
        Filter::gt("id", f64::NAN),
        Filter::prefix("id", "zz"),
        Filter::between("score", "a", 10),
    ] {
        let r = db.query("t", &Query::new().filter(f.clone())).unwrap();
        assert!(r.rows.is_empty(), "{f:?} matched {} rows", r.rows.len());
        assert_ne!(
            r.plan,
            Plan::FullScan,
            "{f:?} should use the key or the index"
        );
    }
}

/// `contains` matches a list field with an equal element (`1` and `1.0` are equal values),
/// and nothing else: not a text field with the substring, not a missing field.
#[test]
fn contains_matches_list_elements() {
    let mut db = State::new();
    let list = |items: Vec<Value>| Value::List(items);
    commit(
        &mut db,
        vec![
            Op::CreateTable(TableDef::new("posts", "id")),
            insert(
                "posts",
                row([
                    ("id", 1.into()),
                    ("tags", list(vec!["rust".into(), 7.into()])),
                ]),
            ),
            insert(
                "posts",
                row([("id", 2.into()), ("tags", list(vec!["go".into()]))]),
            ),
            insert(
                "posts",
                row([("id", 3.into()), ("tags", "rust and go".into())]),
            ),
            insert("posts", row([("id", 4.into())])),
        ],
    )
    .unwrap();
    let ids = |f: Filter| -> Vec<i64> {
        db.query("posts", &Query::new().filter(f))
            .unwrap()
            .rows
            .iter()
            .map(|row| row.get("id").unwrap().as_int().unwrap())
            .collect()
    };
    assert_eq!(ids(Filter::contains("tags", "rust")), [1]);
    assert_eq!(ids(Filter::contains("tags", 7.0)), [1]);
    assert_eq!(ids(Filter::contains("tags", "go")), [2]);
    assert_eq!(ids(Filter::contains("tags", "rust").negate()), [2, 3, 4]);
    assert_eq!(ids(Filter::parse("tags contains 'go'").unwrap()), [2]);
}
