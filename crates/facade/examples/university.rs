//! The seed's university database: students with unique emails, courses, enrollments; queries
//! that use the indexes; a refused transaction that changes nothing.
//!
//! `cargo run -p tabula --example university`

#![allow(
    clippy::print_stdout,
    clippy::indexing_slicing,
    reason = "an example prints its results and indexes lists whose length it asserts"
)]

use serde::{Deserialize, Serialize};
use tabula::prelude::*;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[tabula(table = "students")]
struct Student {
    #[tabula(primary_key, auto_increment)]
    id: Option<i64>,
    name: String,
    #[tabula(unique)]
    email: String,
    #[tabula(index, default = 0.0)]
    gpa: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[tabula(table = "courses")]
struct Course {
    #[tabula(primary_key)]
    code: String,
    title: String,
    #[tabula(default = 3)]
    credits: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[tabula(table = "enrollments")]
struct Enrollment {
    #[tabula(primary_key, auto_increment)]
    id: Option<i64>,
    #[tabula(index)]
    student_id: i64,
    #[tabula(index)]
    course: String,
    grade: Option<String>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let db = Database::open(dir.path())?;
    let students = db.table::<Student>()?;
    let courses = db.table::<Course>()?;
    let enrollments = db.table::<Enrollment>()?;

    let student = |name: &str, gpa: f64| Student {
        id: None,
        name: name.into(),
        email: format!("{}@uni.edu", name.to_lowercase()),
        gpa,
    };
    let ids = students.insert_all(&[
        student("Alice", 3.8),
        student("Bob", 3.1),
        student("Carol", 3.95),
    ])?;
    courses.insert_all(&[
        Course {
            code: "CS101".into(),
            title: "Programming".into(),
            credits: 4,
        },
        Course {
            code: "MA201".into(),
            title: "Linear Algebra".into(),
            credits: 3,
        },
    ])?;
    let enroll = |student: i64, course: &str| Enrollment {
        id: None,
        student_id: student,
        course: course.into(),
        grade: None,
    };
    enrollments.insert_all(&[
        enroll(ids[0], "CS101"),
        enroll(ids[0], "MA201"),
        enroll(ids[1], "CS101"),
        enroll(ids[2], "MA201"),
    ])?;

    // A new student with Alice's email is refused, and nothing of it is stored.
    let refused = students.insert(&Student {
        email: "alice@uni.edu".into(),
        ..student("Alicia", 2.0)
    });
    println!(
        "duplicate email: {}",
        refused
            .as_ref()
            .map_or_else(ToString::to_string, |_| "accepted?".into())
    );
    assert!(refused.is_err());
    assert_eq!(students.count(), 3);

    // Who takes CS101? (the index on course answers it; `FIELDS` makes the filter typed, so a
    // misspelt field or a number for a course does not compile)
    let cs101 = enrollments.filter(Enrollment::FIELDS.course.eq("CS101"))?;
    let names: Vec<String> = cs101
        .iter()
        .filter_map(|e| students.get(e.student_id).ok().flatten())
        .map(|s| s.name)
        .collect();
    println!("CS101: {names:?}");
    assert_eq!(names, ["Alice", "Bob"]);

    // The dean's list, best first.
    let deans = students.query(
        &Query::new()
            .filter(Filter::ge("gpa", 3.5))
            .order_by("gpa", true),
    )?;
    let deans: Vec<&str> = deans.iter().map(|s| s.name.as_str()).collect();
    println!("dean's list: {deans:?}");
    assert_eq!(deans, ["Carol", "Alice"]);

    // Grades, then credits per student through the course table.
    for e in enrollments.filter(Filter::eq("student_id", ids[0]))? {
        let id = e.id.unwrap_or_default();
        enrollments.update(id, |e| e.grade = Some("A".into()))?;
    }
    let credits: i64 = enrollments
        .filter(Filter::eq("student_id", ids[0]))?
        .iter()
        .filter_map(|e| courses.get(e.course.as_str()).ok().flatten())
        .map(|c| c.credits)
        .sum();
    println!("Alice takes {credits} credits");
    assert_eq!(credits, 7);
    let graded = enrollments.filter(Filter::eq("grade", "A"))?;
    assert_eq!(graded.len(), 2);
    Ok(())
}

#[test]
fn runs() {
    assert!(main().is_ok());
}
