//! tabula against DeltaTraceDB (the `delta-trace-db` Python package) on the package's own speed
//! test: the seven steps of its `tests/test_speed.py` that both sides run (add, getAll, save,
//! load, search, update, delete), on the same N records, each timed on its own.
//!
//! This module owns both sides: [`python`] runs `python/deltatrace_speed.py` (which mirrors the
//! package's test and prints its timings as JSON) and [`tabula`] runs the same steps in tabula,
//! in memory, as DeltaTraceDB is. Both check their result counts, so a step that returns the
//! wrong rows fails instead of looking fast.

use std::path::Path;
use std::process::Command;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tabula::{Database, Filter, Op, Query, Record, Row, Timestamp, Value};

/// The steps, in the order both sides run and report them.
pub const STEPS: [&str; 7] = [
    "add", "getAll", "save", "load", "search", "update", "delete",
];

/// What the Python script prints: one line of JSON.
#[derive(Debug, Deserialize)]
struct PythonReport {
    version: String,
    records: usize,
    steps: Vec<(String, f64)>,
}

/// DeltaTraceDB's timings for `records` records, from `python3 <script> <records>`: the package
/// version and the seconds of each step in [`STEPS`] order. `None` if python3 or the package is
/// not installed, so that the peer is skipped rather than failing the run.
///
/// # Errors
/// The script failed (its stderr is in the message), or printed something other than the
/// expected report.
pub fn python(script: &Path, records: usize) -> crate::Result<Option<(String, Vec<f64>)>> {
    // Probe first: a missing interpreter or package means "skip this peer", while a failure of
    // the script itself is a real error that must not be mistaken for a skip.
    match Command::new("python3")
        .args(["-c", "import delta_trace_db"])
        .output()
    {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("running python3: {e}").into()),
        Ok(probe) if !probe.status.success() => return Ok(None),
        Ok(_) => {}
    }
    let output = Command::new("python3")
        .arg(script)
        .arg(records.to_string())
        .output()
        .map_err(|e| format!("running python3 {}: {e}", script.display()))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!(
            "python3 {} {records} failed ({}): {}",
            script.display(),
            output.status,
            stderr.trim()
        )
        .into());
    }
    let report: PythonReport = serde_json::from_slice(&output.stdout).map_err(|e| {
        format!(
            "python3 {} {records} printed no valid report ({e}); stdout: {:?}; stderr: {}",
            script.display(),
            String::from_utf8_lossy(&output.stdout).trim(),
            stderr.trim()
        )
    })?;
    if report.records != records {
        return Err(format!(
            "python3 {}: ran {} records, asked for {records}; stderr: {}",
            script.display(),
            report.records,
            stderr.trim()
        )
        .into());
    }
    let names: Vec<&str> = report.steps.iter().map(|(name, _)| name.as_str()).collect();
    if names != STEPS {
        return Err(format!(
            "python3 {}: steps {names:?}, expected {STEPS:?}; stderr: {}",
            script.display(),
            stderr.trim()
        )
        .into());
    }
    let seconds = report.steps.into_iter().map(|(_, s)| s).collect();
    Ok(Some((report.version, seconds)))
}

/// The test's `nestedObj`: a small nested object, stored in a column of type `any`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Nested {
    num: i64,
}

/// The test's `User`, as a tabula record.
#[derive(Debug, Clone, Serialize, Deserialize, Record)]
#[tabula(table = "users")]
struct User {
    #[tabula(primary_key)]
    id: String,
    name: String,
    age: i64,
    created_at: Timestamp,
    updated_at: Timestamp,
    nested_obj: Nested,
}

fn int(n: usize) -> crate::Result<i64> {
    Ok(i64::try_from(n)?)
}

/// Fails with `what` unless `got == want`: a step that returns the wrong rows is a bug, not a
/// result.
fn expect_count(what: &str, got: usize, want: usize) -> crate::Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(format!("tabula {what}: {got} records, expected {want}").into())
    }
}

/// The same seven steps in tabula, on `records` records, in an in-memory database (DeltaTraceDB
/// has no durability either): the seconds of each step in [`STEPS`] order.
///
/// # Errors
/// Any tabula error, or a step that returned the wrong number of records.
pub fn tabula(records: usize) -> crate::Result<Vec<f64>> {
    let n = int(records)?;
    let half = n / 2;
    let now = Timestamp::from_micros(int(usize::try_from(
        SystemTime::now().duration_since(UNIX_EPOCH)?.as_micros(),
    )?)?);
    // The records are built before the clock starts, as test_speed.py builds its list.
    let users: Vec<User> = (0..n)
        .map(|i| User {
            id: i.to_string(),
            name: format!("sample{i}"),
            age: i,
            created_at: now,
            updated_at: now,
            nested_obj: Nested { num: i },
        })
        .collect();

    let db = Database::open_in_memory();
    // Creating the table is one tiny commit; DeltaTraceDB creates its collection on first use.
    let table = db.table::<User>()?;
    let mut seconds = Vec::with_capacity(STEPS.len());
    // Each lap ends one step and starts the next; the count checks run between laps, untimed.
    let mut clock = Instant::now();
    let mut lap = |seconds: &mut Vec<f64>| {
        seconds.push(clock.elapsed().as_secs_f64());
        clock = Instant::now();
    };

    // add: every record in one transaction.
    let keys = table.insert_all(&users)?;
    lap(&mut seconds);
    expect_count("add", keys.len(), records)?;

    // getAll: every record, converted to the struct.
    let all = table.all()?;
    lap(&mut seconds);
    expect_count("getAll", all.len(), records)?;

    // save: the whole database as a JSON document in memory, with tabula's own writer (the one
    // `save_file` uses for JSON), as the test's `json.dumps(db.to_dict())` makes a string.
    let json = tabula_snapshot::write_json_document(&db.read().to_database()?, Vec::new())?;
    lap(&mut seconds);

    // load: that document back into a database, as `DeltaTraceDatabase.from_dict(json.loads())`.
    let loaded =
        tabula_snapshot::read_json_document(json.as_slice(), &tabula::core::Limits::default())?;
    lap(&mut seconds);
    expect_count(
        "load",
        loaded
            .table(User::TABLE)
            .map_or(0, tabula::core::TableState::len),
        records,
    )?;
    drop((loaded, json));

    // search: names starting with "sample", sorted by age, converted.
    let found = table.query(
        &Query::new()
            .filter(Filter::prefix("name", "sample"))
            .order_by("age", false),
    )?;
    lap(&mut seconds);
    expect_count("search", found.len(), records)?;
    if found
        .windows(2)
        .any(|w| matches!(w, [a, b] if a.age > b.age))
    {
        return Err("tabula search: not sorted by age".into());
    }

    // update: find the two records by name (a scan, as DeltaTraceDB's), then set their age in
    // one transaction. Op::Update sets only the given fields, like the test's override_data.
    let targets = table.filter(Filter::is_in(
        "name",
        [format!("sample{}", half - 1), format!("sample{}", n - 1)],
    ))?;
    let set = Row::from([("age".to_owned(), Value::Int(n + 1))]);
    let ops = targets
        .iter()
        .map(|u| Op::Update {
            table: User::TABLE.to_owned(),
            key: Value::from(u.id.clone()),
            set: set.clone(),
        })
        .collect();
    let updated = db.commit(ops)?.changes.len();
    lap(&mut seconds);
    let want_updated = (0..n).filter(|i| *i == half - 1 || *i == n - 1).count();
    expect_count("update", updated, want_updated)?;

    // delete: the test returns the deleted records, and `Table::delete_where` returns only
    // their count, so read the records the filter matches (in key order, as the test sorts by
    // id; they are the returned data) and delete them by key in one transaction.
    let doomed = table.filter(Filter::gt("age", half))?;
    let ops = doomed
        .iter()
        .map(|u| Op::Delete {
            table: User::TABLE.to_owned(),
            key: Value::from(u.id.clone()),
        })
        .collect();
    let deleted = db.commit(ops)?.changes.len();
    lap(&mut seconds);
    let want_deleted = (0..n)
        .filter(|i| {
            let age = if *i == half - 1 || *i == n - 1 {
                n + 1
            } else {
                *i
            };
            age > half
        })
        .count();
    expect_count("delete (returned)", doomed.len(), want_deleted)?;
    expect_count("delete (deleted)", deleted, want_deleted)?;
    expect_count("delete (left)", table.count(), records - want_deleted)?;
    Ok(seconds)
}
