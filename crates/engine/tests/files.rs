//! Whole-database files (save in every codec, load, import), table exports, and statistics.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use tabula_codec::Format;
use tabula_core::{Column, ColumnType, Limits, Op, Row, TableDef, Value};
use tabula_engine::{CheckpointPolicy, Engine, Error, Options, load_file};

fn filled(engine: &Engine) {
    let mut ops = vec![
        Op::CreateTable(
            TableDef::new("students", "id")
                .auto_increment()
                .column(Column::new("id", ColumnType::Int))
                .column(Column::new("email", ColumnType::Text).unique())
                .column(Column::new("gpa", ColumnType::Float))
                .index("by_gpa", "gpa"),
        ),
        Op::CreateTable(TableDef::new("notes", "id")),
    ];
    for i in 0..50 {
        ops.push(Op::Insert {
            table: "students".into(),
            row: Row::from([
                ("email".to_owned(), Value::Text(format!("s{i}@uni.edu"))),
                ("gpa".to_owned(), Value::Float((i % 40) as f64 / 10.0)),
            ]),
        });
        ops.push(Op::Insert {
            table: "notes".into(),
            row: Row::from([
                ("id".to_owned(), Value::Int(i)),
                ("text".to_owned(), Value::Bytes(vec![i as u8; 3])),
            ]),
        });
    }
    engine.commit(ops).unwrap();
}

#[test]
fn a_database_saved_in_every_codec_loads_and_imports() {
    let temp = tempfile::tempdir().unwrap();
    let engine = Engine::in_memory(Options::default());
    filled(&engine);
    let original = engine.read();
    for format in Format::ALL {
        let path = temp.path().join(format!("db.{}", format.extension()));
        engine.save(&path, format).unwrap();
        let loaded = load_file(&path, &Limits::default()).unwrap();
        assert!(original == loaded, "{format}");

        let other = Engine::in_memory(Options::default());
        let committed = other.import(&loaded).unwrap();
        assert_eq!(committed.changes.len(), 100);
        let imported = other.read();
        for table in original.tables() {
            assert!(
                imported.table(table.name()).unwrap().stored() == table.stored(),
                "{format}: {}",
                table.name()
            );
        }
        // Importing again refuses the whole transaction: the tables exist.
        assert!(matches!(other.import(&loaded), Err(Error::Rejected(_))));
    }
    assert!(matches!(
        load_file(temp.path().join("missing"), &Limits::default()),
        Err(Error::Io { .. })
    ));
    std::fs::write(temp.path().join("bad"), b"tabulaSN but not really").unwrap();
    assert!(matches!(
        load_file(temp.path().join("bad"), &Limits::default()),
        Err(Error::Snapshot(_))
    ));
}

#[test]
fn tables_export_and_statistics_describe_the_database() {
    let temp = tempfile::tempdir().unwrap();
    let options = Options::new().checkpoint(CheckpointPolicy::manual());
    let (engine, _) = Engine::open(temp.path().join("db"), options).unwrap();
    filled(&engine);
    engine.checkpoint().unwrap();
    engine
        .export_table("students", temp.path().join("students.json"))
        .unwrap();
    let text = std::fs::read_to_string(temp.path().join("students.json")).unwrap();
    assert!(text.contains("\"count\": 50"), "{text}");
    assert!(matches!(
        engine.export_table("nope", temp.path().join("x.json")),
        Err(Error::Rejected(_))
    ));
    engine.export_directory(temp.path().join("export")).unwrap();
    assert_eq!(
        std::fs::read_to_string(temp.path().join("export/data/notes.records"))
            .unwrap()
            .lines()
            .count(),
        50
    );

    let stats = engine.stats().unwrap();
    let students = stats.tables.iter().find(|t| t.name == "students").unwrap();
    assert_eq!((students.rows, students.indexes), (50, 2));
    // Measured: every row's packed bytes at least, and keys and the two indexes beside them.
    assert!(students.memory.rows > 50 * 20);
    assert!(students.memory.keys > 50 * 32 && students.memory.indexes > 50 * 64);
    assert_eq!(
        students.memory.total(),
        students.memory.rows + students.memory.keys + students.memory.indexes
    );
    let disk = stats.disk.unwrap();
    assert_eq!(disk.snapshots, 1);
    assert!(disk.snapshot_bytes > 0 && disk.wal_segments >= 1);
    assert_eq!(stats.commits, 1);
    assert!(stats.fsyncs >= 1 && stats.commits_per_fsync > 0.0);
    assert_eq!(stats.last_checkpoint.unwrap().lsn, stats.lsn);
    assert!(
        Engine::in_memory(Options::default())
            .stats()
            .unwrap()
            .disk
            .is_none()
    );
}
