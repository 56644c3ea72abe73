//! Typed tables: a table from a struct survives reopen with its schema, constraints and
//! indexes; a struct change needs a migration, and says which.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use serde::{Deserialize, Serialize};
use tabula::prelude::*;
use tabula::{Error, Migration, Plan, Rows};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[tabula(table = "students")]
struct Student {
    #[tabula(primary_key, auto_increment)]
    id: Option<i64>,
    name: String,
    #[tabula(unique)]
    email: String,
    #[tabula(index)]
    gpa: f64,
    enrolled: Timestamp,
    nickname: Option<String>,
    tags: Vec<String>,
}

fn student(name: &str, gpa: f64) -> Student {
    Student {
        id: None,
        name: name.into(),
        email: format!("{}@u.edu", name.to_lowercase()),
        gpa,
        enrolled: "2026-09-01T09:00:00Z".parse().unwrap(),
        nickname: (name == "Ada").then(|| "countess".to_owned()),
        tags: vec!["first-year".into()],
    }
}

#[test]
fn a_typed_table_survives_reopen_with_schema_constraints_and_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path()).unwrap();
    let students = db.table::<Student>().unwrap();
    let ids = students
        .insert_all(&[student("Ada", 3.9), student("Alan", 3.4)])
        .unwrap();
    assert_eq!(ids, [1, 2]);
    let def = db.read().table("students").unwrap().def().clone();
    drop(students);
    db.close().unwrap();

    let db = Database::open(dir.path()).unwrap();
    let students = db.table::<Student>().unwrap();
    assert_eq!(db.read().table("students").unwrap().def(), &def);
    // Values come back typed as written, timestamps included.
    let ada = students.get(1).unwrap().unwrap();
    assert_eq!(
        ada,
        Student {
            id: Some(1),
            ..student("Ada", 3.9)
        }
    );
    assert_eq!(
        db.read()
            .get("students", &Value::Int(1))
            .unwrap()
            .unwrap()
            .get("enrolled")
            .unwrap(),
        Value::Timestamp("2026-09-01T09:00:00Z".parse().unwrap())
    );
    // Unique: a second Ada's email is refused, and nothing changes.
    let twin = students.insert(&student("Ada", 2.0)).unwrap_err();
    assert!(matches!(twin, Error::Engine(_)), "{twin}");
    assert_eq!(students.count(), 2);
    // Not null: the key of the next row is still the next one.
    assert_eq!(students.insert(&student("Grace", 3.7)).unwrap(), 3);
    // The index on gpa answers the query.
    let query = Query::new().filter(Filter::ge("gpa", 3.6));
    let result = db.read().query("students", &query).unwrap();
    assert!(
        matches!(result.plan, Plan::IndexRange { .. }),
        "{:?}",
        result.plan
    );
    assert_eq!(result.examined, 2);
    let honours: Vec<String> = students
        .query(&query)
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(honours, ["Ada", "Grace"]);

    // Update, delete, history, as_of.
    let before = db.read().lsn();
    students.update(2, |s| s.gpa = 3.5).unwrap().unwrap();
    assert!(students.update(99, |s| s.gpa = 0.0).unwrap().is_none());
    assert!(students.delete(3).unwrap());
    assert!(!students.delete(3).unwrap());
    assert_eq!(
        students.as_of(before).unwrap().get(2).unwrap().unwrap().gpa,
        3.4
    );
    let versions = students.history(2).unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[1].before.as_ref().unwrap().gpa, 3.4);
    assert_eq!(versions[1].after.as_ref().unwrap().gpa, 3.5);
    assert_eq!(students.all().unwrap().len(), 2);
}

mod v1 {
    use super::*;
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
    #[tabula(table = "people")]
    pub struct Person {
        #[tabula(primary_key)]
        pub id: i64,
        pub name: String,
        pub age: String,
    }
}

mod v2 {
    use super::*;
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
    #[tabula(table = "people")]
    pub struct Person {
        #[tabula(primary_key)]
        pub id: i64,
        pub name: String,
        pub age: i64,
        #[tabula(default = true)]
        pub active: bool,
    }
}

#[test]
fn a_struct_change_needs_a_migration_and_says_which() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path()).unwrap();
    let people = db.table::<v1::Person>().unwrap();
    for (id, name, age) in [(1, "Ada", "36"), (2, "Alan", "41")] {
        people
            .insert(&v1::Person {
                id,
                name: name.into(),
                age: age.into(),
            })
            .unwrap();
    }
    drop(people);

    // Without a migration: an error naming the field and the migration.
    match db.table::<v2::Person>() {
        Err(Error::SchemaMismatch {
            table,
            field,
            detail,
        }) => {
            assert_eq!((table.as_str(), field.as_str()), ("people", "age"));
            assert!(
                detail.contains("text to int") && detail.contains("change_type"),
                "{detail}"
            );
        }
        other => panic!("{other:?}"),
    }
    db.close().unwrap();

    // With one: the data converted.
    let migrations = [
        Migration::new(1, "age becomes an int").change_type(
            "people",
            "age",
            ColumnType::Int,
            |v| match v {
                Value::Text(s) => s.parse::<i64>().map(Value::Int).map_err(|e| e.to_string()),
                other => Ok(other.clone()),
            },
        ),
        Migration::new(2, "add active").add_column(
            "people",
            Column::new("active", ColumnType::Bool)
                .not_null()
                .default_value(true),
        ),
    ];
    let db = Database::open_migrated(dir.path(), Options::new(), &migrations).unwrap();
    let people = db.table::<v2::Person>().unwrap();
    assert_eq!(
        people.all().unwrap(),
        [
            v2::Person {
                id: 1,
                name: "Ada".into(),
                age: 36,
                active: true
            },
            v2::Person {
                id: 2,
                name: "Alan".into(),
                age: 41,
                active: true
            },
        ]
    );
    // And the old struct is now the one that does not match.
    assert!(matches!(
        db.table::<v1::Person>(),
        Err(Error::SchemaMismatch { .. })
    ));
}

#[test]
fn untyped_rows_and_a_schemaless_table() {
    let db = Database::open_in_memory();
    db.create_table(TableDef::new("kv", "k")).unwrap();
    let kv: Rows = db.rows("kv");
    let row =
        |k: &str, v: Value| Row::from([("k".to_owned(), Value::from(k)), ("v".to_owned(), v)]);
    assert_eq!(
        kv.insert(row("a", Value::Int(1))).unwrap(),
        Value::from("a")
    );
    kv.upsert(row("b", Value::from("two"))).unwrap();
    kv.update("a", Row::from([("v".to_owned(), Value::Int(10))]))
        .unwrap();
    assert_eq!(kv.get("a").unwrap().unwrap()["v"], Value::Int(10));
    kv.delete("b").unwrap();
    assert!(kv.delete("b").is_err());
    assert_eq!(kv.query(&Query::new()).unwrap().len(), 1);
    // A typed struct does not take over a schemaless table.
    #[derive(Serialize, Deserialize, Record)]
    #[tabula(table = "kv")]
    struct Kv {
        #[tabula(primary_key)]
        k: String,
        v: i64,
    }
    assert!(matches!(
        db.table::<Kv>(),
        Err(Error::SchemaMismatch { .. })
    ));
}

/// Issue 26: `#[serde(rename_all)]` compiled and then failed at run time (the columns had the
/// Rust names, the rows serde's). The derive now names the columns as serde names the fields.
#[test]
fn serde_renames_name_the_columns() {
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
    #[serde(rename_all = "camelCase")]
    struct Product {
        #[tabula(primary_key)]
        product_id: i64,
        display_name: String,
        #[serde(rename = "SKU")]
        #[tabula(unique)]
        stock_keeping_unit: String,
        unit_price: f64,
    }
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path()).unwrap();
    let products = db.table::<Product>().unwrap();
    let mouse = Product {
        product_id: 7,
        display_name: "Mouse".into(),
        stock_keeping_unit: "MS-01".into(),
        unit_price: 12.5,
    };
    products.insert(&mouse).unwrap();
    let def = db.read().table("product").unwrap().def().clone();
    assert_eq!(def.primary_key, "productId");
    let columns: Vec<&str> = def
        .schema
        .as_ref()
        .unwrap()
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(columns, ["productId", "displayName", "SKU", "unitPrice"]);
    assert_eq!(products.get(7).unwrap(), Some(mouse.clone()));
    let found = products
        .filter(Product::FIELDS.stock_keeping_unit.eq("MS-01"))
        .unwrap();
    assert_eq!(found, [mouse]);
}

/// Issue 26: adding a field took two migrations (the advice made a nullable column), and then
/// `history` and `as_of` failed to decode the versions from before it ("missing field") unless
/// the field also had `#[serde(default)]`. Now one step takes the column from the struct, and
/// old versions decode with the current schema's default.
#[test]
fn a_field_added_from_the_struct_is_one_migration_and_old_versions_still_decode() {
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
    #[tabula(table = "customers")]
    struct CustomerV1 {
        #[tabula(primary_key)]
        id: i64,
        name: String,
    }
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
    #[tabula(table = "customers")]
    struct Customer {
        #[tabula(primary_key)]
        id: i64,
        name: String,
        #[tabula(default = 0)]
        loyalty_points: i64,
    }
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
    #[tabula(table = "customers")]
    struct CustomerStrict {
        #[tabula(primary_key)]
        id: i64,
        name: String,
        tier: String,
    }
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path()).unwrap();
    let v1 = db.table::<CustomerV1>().unwrap();
    v1.insert(&CustomerV1 {
        id: 1,
        name: "Ada".into(),
    })
    .unwrap();
    let before = db.engine().read().lsn();
    drop(v1);
    assert!(
        db.table::<Customer>().is_err(),
        "the struct changed: a migration is needed"
    );

    // A field without a default cannot be added to rows that have no value for it.
    let refused = db
        .engine()
        .migrate(&[Migration::new(1, "tier").add_field::<CustomerStrict>("tier")])
        .unwrap_err();
    assert!(refused.to_string().contains("\"tier\""), "{refused}");

    db.engine()
        .migrate(&[Migration::new(1, "loyalty").add_field::<Customer>("loyalty_points")])
        .unwrap();
    let customers = db.table::<Customer>().unwrap();
    let ada = Customer {
        id: 1,
        name: "Ada".into(),
        loyalty_points: 0,
    };
    assert_eq!(customers.get(1).unwrap(), Some(ada.clone()));
    customers.update(1, |c| c.loyalty_points = 5).unwrap();
    // The version from before the migration decodes, with the default.
    let versions = customers.history(1).unwrap();
    assert_eq!(versions[0].after, Some(ada.clone()));
    assert_eq!(customers.as_of(before).unwrap().get(1).unwrap(), Some(ada));
}

/// Issue 26: `Record::Key` is the key field's type, so `insert` returns it typed and every
/// keyed call takes it back (by value or by reference).
#[test]
fn keys_are_the_key_fields_type() {
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
    struct Sku {
        #[tabula(primary_key)]
        code: String,
        qty: u32,
    }
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
    struct Reading {
        #[tabula(primary_key)]
        at: Timestamp,
        value: f64,
    }
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
    struct Big {
        #[tabula(primary_key)]
        id: u64,
    }
    let db = Database::open_in_memory();
    let skus = db.table::<Sku>().unwrap();
    let code: String = skus
        .insert(&Sku {
            code: "MS-01".into(),
            qty: 3,
        })
        .unwrap();
    assert_eq!(code, "MS-01");
    assert_eq!(skus.get(&code).unwrap().unwrap().qty, 3);
    assert_eq!(skus.update(&code, |s| s.qty += 1).unwrap().unwrap().qty, 4);

    let readings = db.table::<Reading>().unwrap();
    let at: Timestamp = "2026-12-07T10:00:00Z".parse().unwrap();
    let key: Timestamp = readings.insert(&Reading { at, value: 1.5 }).unwrap();
    assert_eq!(key, at);
    assert_eq!(readings.get(key).unwrap().unwrap().value, 1.5);

    let bigs = db.table::<Big>().unwrap();
    let keys: Vec<u64> = bigs.insert_all(&[Big { id: 7 }, Big { id: 9 }]).unwrap();
    assert_eq!(keys, [7, 9]);
    assert!(bigs.delete(keys[0]).unwrap());
    // Past i64, a key cannot be stored: a typed error, not a silent miss.
    let too_big = bigs.insert(&Big { id: u64::MAX }).unwrap_err();
    assert_eq!(too_big.kind(), ErrorKind::Invalid, "{too_big}");
}

/// Every keyed call converts its key once: a timestamp key (whose `Value` would serialize as an
/// escape if converted twice) works for reads, updates, upserts, deletes and history, and so
/// does a key of several fields with a timestamp part.
#[test]
fn timestamp_keys_work_in_every_keyed_call() {
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
    struct Reading {
        #[tabula(primary_key)]
        at: Timestamp,
        value: f64,
    }
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
    struct Sample {
        #[tabula(primary_key)]
        sensor: u32,
        #[tabula(primary_key)]
        at: Timestamp,
        value: f64,
    }
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path()).unwrap();
    let at: Timestamp = "2026-12-07T10:00:00Z".parse().unwrap();

    let readings = db.table::<Reading>().unwrap();
    readings.insert(&Reading { at, value: 1.0 }).unwrap();
    assert_eq!(
        readings
            .update(at, |r| r.value = 2.0)
            .unwrap()
            .unwrap()
            .value,
        2.0
    );
    let made = readings.upsert_with(at, |r| Reading {
        at,
        value: r.map_or(0.0, |r| r.value) + 1.0,
    });
    assert_eq!(made.unwrap().value, 3.0);
    assert_eq!(readings.history(at).unwrap().len(), 3);
    assert!(readings.delete(at).unwrap());
    assert_eq!(readings.get(at).unwrap(), None);

    let samples = db.table::<Sample>().unwrap();
    let key = samples
        .insert(&Sample {
            sensor: 1,
            at,
            value: 1.0,
        })
        .unwrap();
    assert_eq!(key, (1, at));
    assert_eq!(
        samples
            .update(key, |s| s.value = 2.0)
            .unwrap()
            .unwrap()
            .value,
        2.0
    );
    assert_eq!(samples.history(key).unwrap().len(), 2);
    assert!(samples.delete(key).unwrap());
}
