//! `tabula demo`: the seed's university database, built through ordinary transactions with
//! causes, then queried. Each query prints the plan it used so the indexes can be seen at work.

use std::io::Write;

use anyhow::{Context, Result, ensure};
use tabula::prelude::*;
// The demo applies transactions to a bare state; the command-line issue moves it onto the engine.
use tabula::{Plan, RowChange, Transaction, View as Database};

/// A database plus the LSN and clock bookkeeping a committer does. The engine will own this; the
/// demo keeps it minimal and deterministic (the clock is a fixed start plus one second a commit).
struct Session {
    db: Database,
    clock: Timestamp,
}

impl Session {
    fn commit(
        &mut self,
        cause: Cause,
        ops: Vec<Op>,
    ) -> Result<Vec<RowChange>, tabula::core::Error> {
        let lsn = self.db.lsn().next();
        self.clock = Timestamp::from_micros(self.clock.as_micros() + 1_000_000);
        let mut tx = Transaction::new(lsn, self.clock).with_cause(cause);
        tx.ops = ops;
        self.db.apply_owned(tx)
    }
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

/// Builds and queries the university database, writing a report to `out`. Returns the database
/// so tests can check it.
pub fn run(out: &mut impl Write) -> Result<Database> {
    let mut s = Session {
        db: Database::new(),
        clock: "2026-09-01T09:00:00Z".parse()?,
    };
    let registrar = || Cause::new().who("registrar").place("admin-office");

    s.commit(registrar().what("create tables").why("new term"), schema())?;
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
    s.commit(
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
    s.commit(registrar().what("open courses"), courses)?;
    let enrollments = ENROLLMENTS
        .iter()
        .map(|(sid, course)| {
            insert(
                "enrollments",
                row([("student_id", (*sid).into()), ("course", (*course).into())]),
            )
        })
        .collect();
    s.commit(
        Cause::new()
            .who("students")
            .what("enroll")
            .why("course selection week"),
        enrollments,
    )?;

    writeln!(out, "tabula demo: the university database (in memory)\n")?;
    for table in s.db.tables() {
        writeln!(
            out,
            "  table {:<12} {:>3} rows, {} index(es)",
            table.name(),
            table.len(),
            table.indexes().len()
        )?;
    }

    writeln!(out, "\nA duplicate email is refused and changes nothing:")?;
    let before = s.db.clone();
    let dup = insert(
        "students",
        row([
            ("name", "Mallory".into()),
            ("email", "bob@university.edu".into()),
        ]),
    );
    let err = s
        .commit(Cause::new().who("web-form"), vec![dup])
        .err()
        .context("the duplicate email was accepted")?;
    ensure!(s.db == before, "a failed commit changed the database");
    writeln!(out, "  error: {err}")?;

    writeln!(out, "\nStudents with a GPA of at least 3.7, best first:")?;
    let honors = Query::new()
        .filter(Filter::ge("gpa", 3.7))
        .order_by("gpa", true)
        .select(["name", "gpa"]);
    let r = s.db.query("students", &honors)?;
    for student in &r.rows {
        writeln!(
            out,
            "  {:<16} {}",
            student["name"].as_str().unwrap_or("?"),
            student["gpa"]
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
    let cs101 = s.db.query(
        "enrollments",
        &Query::new().filter(Filter::eq("course", "CS101")),
    )?;
    let ids: Vec<Value> = cs101.rows.iter().map(|e| e["student_id"].clone()).collect();
    let names = s.db.query(
        "students",
        &Query::new()
            .filter(Filter::In("id".into(), ids))
            .order_by("name", false),
    )?;
    for student in &names.rows {
        writeln!(out, "  {}", student["name"].as_str().unwrap_or("?"))?;
    }
    writeln!(
        out,
        "  (plans: {}, then {})",
        plan_text(&cs101.plan),
        plan_text(&names.plan)
    )?;
    ensure!(names.rows.len() == 4, "four students take CS101");

    writeln!(out, "\nBob retakes an exam; Dan drops CS101:")?;
    let dan_cs101 =
        s.db.query(
            "enrollments",
            &Query::new().filter(Filter::eq("student_id", 4).and(Filter::eq("course", "CS101"))),
        )?
        .rows
        .first()
        .map(|e| e["id"].clone())
        .context("Dan's enrollment is missing")?;
    let changes = s.commit(
        registrar().what("grade change").why("exam retake"),
        vec![Op::Update {
            table: "students".into(),
            key: 2.into(),
            set: row([("gpa", 3.6.into())]),
        }],
    )?;
    for c in &changes {
        let gpa = |r: &Option<tabula::RowRef>| r.as_ref().map_or(Value::Null, |r| r["gpa"].clone());
        writeln!(
            out,
            "  {} {}: gpa {} -> {}",
            c.table,
            c.key,
            gpa(&c.before),
            gpa(&c.after)
        )?;
    }
    s.commit(
        Cause::new().who("dan@university.edu").what("drop course"),
        vec![Op::Delete {
            table: "enrollments".into(),
            key: dan_cs101,
        }],
    )?;

    let by_email = s.db.query(
        "students",
        &Query::new().filter(Filter::eq("email", "carol@university.edu")),
    )?;
    writeln!(
        out,
        "\nLookup by unique email finds {} ({}).",
        by_email
            .rows
            .first()
            .and_then(|r| r["name"].as_str())
            .unwrap_or("nobody"),
        plan_text(&by_email.plan)
    )?;
    writeln!(
        out,
        "\nDone: the database is at LSN {}, one per committed transaction.",
        s.db.lsn()
    )?;
    Ok(s.db)
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn demo_builds_and_queries_the_university() {
        let mut out = Vec::new();
        let db = run(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("unique index \"email\""), "{text}");
        assert!(text.contains("Eve Davis"), "{text}");
        assert!(text.contains("index by_gpa range"), "{text}");
        assert_eq!(db.lsn(), Lsn(6));
        assert_eq!(
            db.table("enrollments").unwrap().len(),
            ENROLLMENTS.len() - 1
        );
        let bob = db.get("students", &Value::Int(2)).unwrap().unwrap();
        assert_eq!(bob["gpa"], Value::Float(3.6));
    }
}
