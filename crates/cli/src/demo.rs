//! `tabula demo [DIR]`: the seed's university database, built in a real database directory
//! through ordinary transactions with causes, then queried (each query prints the plan it used, so
//! the indexes can be seen at work), checkpointed, tagged and changed, so that every other command
//! has something to look at. It ends with the commands to try next.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use tabula::prelude::*;
use tabula::{Plan, RowChange};

/// The tag the demo puts on the state before its changes.
pub const TAG: &str = "enrolled";

/// Commits `ops` with `cause` and returns the row changes.
fn commit(db: &Database, cause: Cause, ops: Vec<Op>) -> Result<Vec<RowChange>> {
    Ok(db.commit_with_cause(ops, cause)?.changes)
}

fn row<const N: usize>(fields: [(&str, Value); N]) -> Row {
    fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn insert(table: &str, row: Row) -> Op {
    Op::Insert {
        table: table.to_owned(),
        row,
    }
}

fn schema() -> Vec<Op> {
    let students = TableDef::new("students", "id")
        .auto_increment()
        .column(Column::new("id", ColumnType::Int))
        .column(Column::new("name", ColumnType::Text).not_null())
        .column(Column::new("email", ColumnType::Text).not_null().unique())
        .column(Column::new("gpa", ColumnType::Float).default_value(0.0))
        .index("by_gpa", "gpa");
    let courses = TableDef::new("courses", "code")
        .column(Column::new("code", ColumnType::Text))
        .column(Column::new("title", ColumnType::Text).not_null())
        .column(Column::new("credits", ColumnType::Int).default_value(3));
    let enrollments = TableDef::new("enrollments", "id")
        .auto_increment()
        .column(Column::new("id", ColumnType::Int))
        .column(Column::new("student_id", ColumnType::Int).not_null())
        .column(Column::new("course", ColumnType::Text).not_null())
        .column(Column::new("grade", ColumnType::Text))
        .index("by_course", "course")
        .index("by_student", "student_id");
    vec![
        Op::CreateTable(students),
        Op::CreateTable(courses),
        Op::CreateTable(enrollments),
    ]
}

const STUDENTS: [(&str, &str, f64); 5] = [
    ("Alice Johnson", "alice@university.edu", 3.8),
    ("Bob Smith", "bob@university.edu", 3.5),
    ("Carol White", "carol@university.edu", 3.9),
    ("Dan Brown", "dan@university.edu", 3.2),
    ("Eve Davis", "eve@university.edu", 3.95),
];

const COURSES: [(&str, &str, i64); 3] = [
    ("CS101", "Introduction to Programming", 4),
    ("MA201", "Linear Algebra", 3),
    ("PH150", "Physics of Everyday Life", 3),
];

/// (student id, course)
const ENROLLMENTS: [(i64, &str); 8] = [
    (1, "CS101"),
    (1, "MA201"),
    (2, "CS101"),
    (3, "MA201"),
    (3, "PH150"),
    (4, "CS101"),
    (5, "CS101"),
    (5, "PH150"),
];

fn plan_text(plan: &Plan) -> String {
    match plan {
        Plan::FullScan => "full scan".into(),
        Plan::KeyLookup { keys } => format!("primary key lookup of {keys} key(s)"),
        Plan::KeyRange => "primary key range".into(),
        Plan::IndexLookup { index, values } => format!("index {index} lookup of {values} value(s)"),
        Plan::IndexRange { index } => format!("index {index} range"),
        other => format!("{other:?}"),
    }
}

/// The file that marks a directory as made by `tabula demo`, the only kind a later run replaces.
const MARKER: &str = "TABULA_DEMO";

/// An earlier demo's directory is replaced; anything else that is not empty is refused.
fn prepare(dir: &Path) -> Result<()> {
    let occupied = std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some());
    if !occupied {
        return Ok(());
    }
    if dir.join(MARKER).is_file() && crate::common::is_database(dir) {
        std::fs::remove_dir_all(dir)
            .with_context(|| format!("cannot remove the earlier demo in {}", dir.display()))?;
        return Ok(());
    }
    bail!(
        "{} is not empty and holds no earlier demo: choose another directory (`tabula demo DIR`)",
        dir.display()
    )
}

/// Builds the university database in `dir`, queries and changes it, and writes a report to
/// `out`.
pub fn run(dir: &Path, out: &mut dyn Write) -> Result<()> {
    prepare(dir)?;
    let db = crate::common::open(dir)?;
    std::fs::write(
        dir.join(MARKER),
        "made by `tabula demo`; a later `tabula demo` here replaces this directory\n",
    )
    .with_context(|| format!("cannot write {}", dir.join(MARKER).display()))?;
    build(&db, dir, out)?;
    db.close()?;
    Ok(())
}

fn build(db: &Database, dir: &Path, out: &mut dyn Write) -> Result<()> {
    let registrar = || Cause::new().who("registrar").place("admin-office");

    commit(
        db,
        registrar().what("create tables").why("new term"),
        schema(),
    )?;
    let students = STUDENTS
        .iter()
        .map(|(name, email, gpa)| {
            insert(
                "students",
                row([
                    ("name", (*name).into()),
                    ("email", (*email).into()),
                    ("gpa", (*gpa).into()),
                ]),
            )
        })
        .collect();
    commit(
        db,
        registrar().what("admit students").why("fall admissions"),
        students,
    )?;
    let courses = COURSES
        .iter()
        .map(|(code, title, credits)| {
            insert(
                "courses",
                row([
                    ("code", (*code).into()),
                    ("title", (*title).into()),
                    ("credits", (*credits).into()),
                ]),
            )
        })
        .collect();
    commit(db, registrar().what("open courses"), courses)?;
    let enrollments = ENROLLMENTS
        .iter()
        .map(|(sid, course)| {
            insert(
                "enrollments",
                row([("student_id", (*sid).into()), ("course", (*course).into())]),
            )
        })
        .collect();
    commit(
        db,
        Cause::new()
            .who("students")
            .what("enroll")
            .why("course selection week"),
        enrollments,
    )?;
    let snapshot = db.checkpoint()?;
    let enrolled = db.tag(TAG)?;

    writeln!(
        out,
        "tabula demo: the university database in {}\n",
        dir.display()
    )?;
    let s = db.read();
    for table in s.tables() {
        writeln!(
            out,
            "  table {:<12} {:>3} rows, {} index(es)",
            table.name(),
            table.len(),
            table.indexes().len()
        )?;
    }

    writeln!(out, "\nA duplicate email is refused and changes nothing:")?;
    let dup = insert(
        "students",
        row([
            ("name", "Mallory".into()),
            ("email", "bob@university.edu".into()),
        ]),
    );
    let err = commit(db, Cause::new().who("web-form"), vec![dup])
        .err()
        .context("the duplicate email was accepted")?;
    ensure!(
        db.read().lsn() == s.lsn(),
        "a failed commit changed the database"
    );
    writeln!(out, "  error: {err}")?;

    writeln!(out, "\nStudents with a GPA of at least 3.7, best first:")?;
    let honors = Query::new()
        .filter(Filter::ge("gpa", 3.7))
        .order_by("gpa", true)
        .select(["name", "gpa"]);
    let r = s.query("students", &honors)?;
    for student in &r.rows {
        writeln!(
            out,
            "  {:<16} {}",
            student
                .get("name")
                .unwrap_or_default()
                .as_str()
                .unwrap_or("?"),
            student.get("gpa").unwrap_or_default()
        )?;
    }
    writeln!(
        out,
        "  (plan: {}; {} of {} rows examined)",
        plan_text(&r.plan),
        r.examined,
        STUDENTS.len()
    )?;
    ensure!(
        r.rows.len() == 3 && r.examined == 3,
        "the honors query should use the gpa index"
    );

    writeln!(out, "\nWho takes CS101:")?;
    let cs101 = s.query(
        "enrollments",
        &Query::new().filter(Filter::eq("course", "CS101")),
    )?;
    let ids: Vec<Value> = cs101
        .rows
        .iter()
        .map(|e| e.get("student_id").unwrap_or_default().clone())
        .collect();
    let names = s.query(
        "students",
        &Query::new()
            .filter(Filter::In("id".into(), ids))
            .order_by("name", false),
    )?;
    for student in &names.rows {
        writeln!(
            out,
            "  {}",
            student
                .get("name")
                .unwrap_or_default()
                .as_str()
                .unwrap_or("?")
        )?;
    }
    writeln!(
        out,
        "  (plans: {}, then {})",
        plan_text(&cs101.plan),
        plan_text(&names.plan)
    )?;
    ensure!(names.rows.len() == 4, "four students take CS101");

    writeln!(out, "\nBob retakes an exam; Dan drops CS101:")?;
    let dan_cs101 = s
        .query(
            "enrollments",
            &Query::new().filter(Filter::eq("student_id", 4).and(Filter::eq("course", "CS101"))),
        )?
        .rows
        .first()
        .map(|e| e.get("id").unwrap_or_default().clone())
        .context("Dan's enrollment is missing")?;
    let changes = commit(
        db,
        registrar().what("grade change").why("exam retake"),
        vec![Op::Update {
            table: "students".into(),
            key: 2.into(),
            set: row([("gpa", 3.6.into())]),
        }],
    )?;
    for c in &changes {
        let gpa = |r: &Option<tabula::RowRef>| {
            r.as_ref()
                .map_or(Value::Null, |r| r.get("gpa").unwrap_or_default().clone())
        };
        writeln!(
            out,
            "  {} {}: gpa {} -> {}",
            c.table,
            c.key,
            gpa(&c.before),
            gpa(&c.after)
        )?;
    }
    commit(
        db,
        Cause::new().who("dan@university.edu").what("drop course"),
        vec![Op::Delete {
            table: "enrollments".into(),
            key: dan_cs101,
        }],
    )?;

    let by_email = s.query(
        "students",
        &Query::new().filter(Filter::eq("email", "carol@university.edu")),
    )?;
    writeln!(
        out,
        "\nLookup by unique email finds {} ({}).",
        by_email
            .rows
            .first()
            .and_then(|r| r.get("name"))
            .and_then(|name| name.as_str().map(str::to_owned))
            .unwrap_or_else(|| "nobody".to_owned()),
        plan_text(&by_email.plan)
    )?;
    let now = db.read().lsn();
    writeln!(
        out,
        "\nCheckpointed at LSN {} ({}), tagged LSN {enrolled} as {TAG:?}; now at LSN {now}, one per committed transaction.",
        snapshot.as_ref().map_or(enrolled, |s| s.lsn),
        snapshot.as_ref().map_or_else(
            || "no snapshot needed".to_owned(),
            |s| s.path.display().to_string()
        ),
    )?;
    let d = dir.display();
    writeln!(out, "\nTry next:")?;
    for command in [
        format!("tabula tables {d}"),
        format!("tabula query {d} students --where \"gpa > 3.5\" --order-by gpa:desc"),
        format!("tabula query {d} students --where \"gpa > 3.5\" --format json"),
        format!("tabula get {d} students 2 --as-of {TAG}"),
        format!("tabula history {d} students 2"),
        format!("tabula log {d} --table enrollments"),
        format!("tabula diff {d} {TAG} {now}"),
        format!("tabula check {d}"),
        format!("tabula dump {d} university.json"),
    ] {
        writeln!(out, "  {command}")?;
    }
    Ok(())
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn demo_builds_queries_and_tags_the_university() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo");
        let mut out = Vec::new();
        run(&path, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("unique index \"email\""), "{text}");
        assert!(text.contains("Eve Davis"), "{text}");
        assert!(text.contains("index by_gpa range"), "{text}");
        // A second run replaces the first demo; a directory of something else is refused.
        let mut again = Vec::new();
        run(&path, &mut again).unwrap();
        let db = Database::open(&path).unwrap();
        let view = db.read();
        assert_eq!(
            view.lsn(),
            Lsn(7),
            "6 commits and the tag, nothing of the first run"
        );
        assert_eq!(
            view.table("enrollments").unwrap().len(),
            ENROLLMENTS.len() - 1
        );
        let bob = view.get("students", &Value::Int(2)).unwrap().unwrap();
        assert_eq!(bob.get("gpa").unwrap_or_default(), Value::Float(3.6));
        let enrolled = db.as_of(TAG).unwrap();
        let bob_then = enrolled.get("students", &Value::Int(2)).unwrap().unwrap();
        assert_eq!(bob_then.get("gpa").unwrap_or_default(), Value::Float(3.5));
        db.close().unwrap();
        let other = dir.path().join("other");
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join("notes.txt"), "mine").unwrap();
        assert!(run(&other, &mut Vec::new()).is_err());
        assert!(other.join("notes.txt").exists());
        // A real database with the demo's tag name is not a demo either.
        let mine = dir.path().join("mine");
        let db = Database::open(&mine).unwrap();
        db.create_table(TableDef::new("payroll", "id")).unwrap();
        db.tag(TAG).unwrap();
        db.close().unwrap();
        assert!(run(&mine, &mut Vec::new()).is_err());
        assert!(
            Database::open(&mine)
                .unwrap()
                .read()
                .table("payroll")
                .is_some()
        );
    }
}
