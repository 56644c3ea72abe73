//! [`Diff`]: what differs between two states of the database, per table, and the ops that turn
//! one into the other; [`Engine::diff`] between two points and [`Engine::rollback_to`], which
//! commits those ops as a new transaction so that history keeps both the past and the rollback
//! (Kajson's versioned storage, git's `revert` rather than `reset`).
//!
//! The engine's own tables (`_tabula_*`: tags, metadata) are left out: a rollback does not take
//! back tags or the schema version.

use tabula_core::{Cause, Lsn, Op, RowDiff, RowRef, State, TableDef, TableState, Value};

use crate::Result;
use crate::db::{Committed, Engine};
use crate::history::At;
use crate::system::is_reserved;

/// How one table differs between two states.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TableDiff {
    /// The table.
    pub table: String,
    /// Its definition in the first state (`None`: the table did not exist).
    pub before: Option<TableDef>,
    /// Its definition in the second state (`None`: the table no longer exists).
    pub after: Option<TableDef>,
    /// Rows only in the second state, by key.
    pub added: Vec<(Value, RowRef)>,
    /// Rows only in the first state, by key.
    pub removed: Vec<(Value, RowRef)>,
    /// Rows in both with different contents: key, row before, row after.
    pub changed: Vec<(Value, RowRef, RowRef)>,
}

impl TableDiff {
    /// Whether the table's definition (schema, indexes, key) differs, or it was created or
    /// dropped.
    #[must_use]
    pub fn redefined(&self) -> bool {
        self.before != self.after
    }
}

/// The differences between two states, from [`Diff::between`] or [`Engine::diff`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Diff {
    /// The first state's LSN.
    pub from: Lsn,
    /// The second state's LSN.
    pub to: Lsn,
    /// The tables that differ, by name.
    pub tables: Vec<TableDiff>,
}

impl Diff {
    /// The differences from `a` to `b`. Tables that share structure (one state is a later copy
    /// of the other) compare in time proportional to their differences.
    #[must_use]
    pub fn between(a: &State, b: &State) -> Diff {
        let mut names: Vec<&str> = a
            .tables()
            .chain(b.tables())
            .map(TableState::name)
            .filter(|name| !is_reserved(name))
            .collect();
        names.sort_unstable();
        names.dedup();
        let tables = names
            .into_iter()
            .filter_map(|name| table_diff(name, a.table(name), b.table(name)))
            .collect();
        Diff {
            from: a.lsn(),
            to: b.lsn(),
            tables,
        }
    }

    /// Whether the two states hold the same tables and rows.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// The ops that turn the first state into the second, as one transaction.
    ///
    /// A table created, dropped or redefined is dropped and created whole; otherwise removed
    /// rows are deleted and added rows inserted, and changed rows upserted, or deleted and
    /// inserted again when the table has unique columns or indexes (so two rows swapping a
    /// unique value never collide halfway).
    #[must_use]
    pub fn ops(&self) -> Vec<Op> {
        let mut ops = Vec::new();
        for t in &self.tables {
            if t.redefined() {
                if t.before.is_some() {
                    ops.push(Op::DropTable {
                        table: t.table.clone(),
                    });
                }
                if let Some(def) = &t.after {
                    ops.push(Op::CreateTable(def.clone()));
                    ops.extend(t.added.iter().map(|(_, row)| Op::Insert {
                        table: t.table.clone(),
                        row: row.to_row(),
                    }));
                }
                continue;
            }
            let table = || t.table.clone();
            let unique = t.after.as_ref().is_some_and(has_unique);
            for (key, _) in &t.removed {
                ops.push(Op::Delete {
                    table: table(),
                    key: key.clone(),
                });
            }
            if unique {
                for (key, _, _) in &t.changed {
                    ops.push(Op::Delete {
                        table: table(),
                        key: key.clone(),
                    });
                }
                for (_, _, after) in &t.changed {
                    ops.push(Op::Insert {
                        table: table(),
                        row: after.to_row(),
                    });
                }
            } else {
                for (_, _, after) in &t.changed {
                    ops.push(Op::Upsert {
                        table: table(),
                        row: after.to_row(),
                    });
                }
            }
            for (_, row) in &t.added {
                ops.push(Op::Insert {
                    table: table(),
                    row: row.to_row(),
                });
            }
        }
        ops
    }
}

fn has_unique(def: &TableDef) -> bool {
    def.indexes.iter().any(|i| i.unique)
        || def
            .schema
            .as_ref()
            .is_some_and(|s| s.columns.iter().any(|c| c.unique))
}

fn table_diff(name: &str, a: Option<&TableState>, b: Option<&TableState>) -> Option<TableDiff> {
    let mut diff = TableDiff {
        table: name.to_owned(),
        before: a.map(|t| t.def().clone()),
        after: b.map(|t| t.def().clone()),
        added: Vec::new(),
        removed: Vec::new(),
        changed: Vec::new(),
    };
    match (a, b) {
        (Some(a), Some(b)) => {
            for item in a.diff(b) {
                match item {
                    RowDiff::Added { key, row } => diff.added.push((key.clone(), row.clone())),
                    RowDiff::Removed { key, row } => {
                        diff.removed.push((key.clone(), row.clone()));
                    }
                    RowDiff::Changed { key, before, after } => {
                        diff.changed
                            .push((key.clone(), before.clone(), after.clone()));
                    }
                }
            }
        }
        (Some(a), None) => {
            diff.removed = a.iter().map(|(k, r)| (k.clone(), r.clone())).collect();
        }
        (None, Some(b)) => {
            diff.added = b.iter().map(|(k, r)| (k.clone(), r.clone())).collect();
        }
        (None, None) => {}
    }
    // A redefined table is rebuilt whole: its rows are all the second state's.
    if diff.redefined()
        && let Some(b) = b
    {
        diff.added = b.iter().map(|(k, r)| (k.clone(), r.clone())).collect();
        diff.changed.clear();
    }
    let differs = diff.redefined()
        || !diff.added.is_empty()
        || !diff.removed.is_empty()
        || !diff.changed.is_empty();
    differs.then_some(diff)
}

impl Engine {
    /// What differs between the states at `a` and `b`, per table.
    ///
    /// # Errors
    /// As [`Engine::as_of`] for either point.
    pub fn diff(&self, a: impl Into<At>, b: impl Into<At>) -> Result<Diff> {
        let a = self.as_of(a)?;
        let b = self.as_of(b)?;
        Ok(Diff::between(&a.to_database()?, &b.to_database()?))
    }

    /// Brings the database back to the state at `point` by committing, as one new transaction,
    /// the ops that undo every change since (see [`Diff::ops`]); the history before it stays
    /// readable, and the rollback itself shows in [`Engine::history`] and [`Engine::log`].
    /// `cause` defaults to `what: "rollback"`.
    ///
    /// ```
    /// use tabula_core::{Op, TableDef, Value};
    /// use tabula_engine::{Engine, Options};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let (engine, _) = Engine::open(dir.path(), Options::new())?;
    /// engine.commit(vec![Op::CreateTable(TableDef::new("kv", "k"))])?;
    /// let good = engine.tag("good")?;
    /// engine.commit(vec![Op::Insert { table: "kv".into(), row: [("k".to_owned(), Value::from("oops"))].into() }])?;
    /// engine.rollback_to("good", None)?;
    /// assert!(engine.diff("good", engine.read().lsn())?.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Engine::as_of`]; commit errors.
    pub fn rollback_to(&self, point: impl Into<At>, cause: Option<Cause>) -> Result<Committed> {
        let point = point.into();
        let target_lsn = self.resolve(&point)?;
        let target = self.as_of(At::Lsn(target_lsn))?.to_database()?;
        self.inner.commit_built(|current| {
            let ops = Diff::between(current, &target).ops();
            let cause = cause.unwrap_or_else(|| {
                Cause::new()
                    .what("rollback")
                    .why(format!("rollback to {point} (LSN {target_lsn})"))
            });
            Ok((ops, Some(cause)))
        })
    }
}
