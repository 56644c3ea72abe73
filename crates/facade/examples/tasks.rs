//! A task list that knows who changed what and why (Kajson's and DeltaTraceDB's audit trail):
//! every write carries a cause, and a task's history lists its versions with their causes.
//!
//! `cargo run -p tabula --example tasks`

#![allow(
    clippy::print_stdout,
    clippy::indexing_slicing,
    reason = "an example prints its results and indexes lists whose length it asserts"
)]

use serde::{Deserialize, Serialize};
use tabula::VersionKind;
use tabula::prelude::*;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
struct Task {
    #[tabula(primary_key, auto_increment)]
    id: Option<i64>,
    title: String,
    #[tabula(index)]
    done: bool,
    assignee: Option<String>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let db = Database::open(dir.path())?;
    let tasks = db.table::<Task>()?;
    let by = |who: &str, why: &str| tasks.with_cause(Cause::new().who(who).why(why));

    let id = by("ana", "sprint planning").insert(&Task {
        id: None,
        title: "Write the release notes".into(),
        done: false,
        assignee: None,
    })?;
    by("ana", "Ben knows the changes").update(id, |t| t.assignee = Some("ben".into()))?;
    by("ben", "published").update(id, |t| t.done = true)?;
    by("ana", "sprint planning").insert(&Task {
        id: None,
        title: "Plan the next sprint".into(),
        done: false,
        assignee: Some("ana".into()),
    })?;

    println!("history of task {id:?}:");
    let history = tasks.history(id)?;
    for version in &history {
        let cause = version.cause.clone().unwrap_or_default();
        println!(
            "  LSN {} {:?} by {} ({}): {:?}",
            version.lsn,
            version.kind,
            cause.who.unwrap_or_default(),
            cause.why.unwrap_or_default(),
            version.after
        );
    }
    let who: Vec<Option<&str>> = history
        .iter()
        .map(|v| v.cause.as_ref().and_then(|c| c.who.as_deref()))
        .collect();
    assert_eq!(who, [Some("ana"), Some("ana"), Some("ben")]);
    assert_eq!(history[0].kind, VersionKind::Inserted);
    assert!(history[2].after.as_ref().is_some_and(|t| t.done));

    // The log, filtered by actor: everything Ben did.
    let bens: Vec<_> = db
        .log(LogFilter::new().who("ben"))?
        .collect::<Result<_, _>>()?;
    println!("ben made {} change(s)", bens.len());
    assert_eq!(bens.len(), 1);

    let open = tasks.filter(Filter::eq("done", false))?;
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].title, "Plan the next sprint");
    Ok(())
}

#[test]
fn runs() {
    assert!(main().is_ok());
}
