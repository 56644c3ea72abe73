//! Time to live: the rows of a table expire a set time after a timestamp column
//! ([`Ttl::after`]) or at the time a column holds ([`Ttl::at`]), as Redis keys do with `EXPIRE`
//! and `EXPIREAT`.
//!
//! An expired row leaves the database only by a logged delete, so that replay, history, time
//! travel and the change feed all see the same thing. Until that delete it is hidden:
//! - reads ([`Engine::read`]) leave out the rows expired at the time of the read;
//! - a commit first deletes the expired rows of the tables it writes, in the same logged
//!   transaction, so that writes agree with reads: inserting an expired key succeeds, updating
//!   or deleting one is `KeyNotFound`, and a unique value held only by an expired row is free
//!   (Redis deletes an expired key before the command that touches it, and logs the delete);
//! - the engine's background thread deletes the rest at every tick (at most 500 ms apart), in
//!   transactions with the cause `who: "tabula", why: "ttl"`; [`Engine::reap_expired`] does it
//!   at once;
//! - [`Engine::as_of`] leaves out the rows expired at the point's time.
//!
//! A row is expired once its expiry time is at or before now. A row whose column is missing,
//! null or not a timestamp never expires (a Redis key without an expiry).
//!
//! The rules live in the reserved table `_tabula_ttl`, so they need no format change and travel
//! with snapshots, the log and backups; dropping a table drops its rule. A rule indexes its
//! column (the index `_tabula_ttl`, unless an index on the column exists), so that finding the
//! expired rows is one index range probe rather than a scan, as Redis keeps a dictionary of the
//! keys that have an expiry.

use std::time::Duration;

use tabula_core::{
    Cause, ColumnType, Filter, IndexDef, NameKind, Op, Path, Query, Row, State, Timestamp, Value,
};

use crate::db::{Around, Committed, Engine, Hidden, Hook, Inner};
use crate::system::{self, TTL_TABLE};
use crate::{Error, Result};

/// The name of the index a rule makes on its column.
pub const TTL_INDEX: &str = "_tabula_ttl";

/// Most deletes in one transaction of the reaper.
const REAP_BATCH: usize = 10_000;

/// When the rows of a table expire.
///
/// ```
/// use std::time::Duration;
/// use tabula_core::{Op, Row, TableDef, Timestamp, Value};
/// use tabula_engine::{Engine, Options, Ttl};
///
/// let engine = Engine::in_memory(Options::default());
/// engine.commit(vec![Op::CreateTable(TableDef::new("sessions", "id"))])?;
/// engine.set_ttl("sessions", Ttl::after("seen", Duration::from_secs(3600)))?;
/// let long_ago = Timestamp::from_micros(0);
/// let row = Row::from([("id".to_owned(), Value::Int(1)), ("seen".to_owned(), Value::Timestamp(long_ago))]);
/// engine.commit(vec![Op::Insert { table: "sessions".into(), row }])?;
/// assert!(engine.read().get("sessions", &Value::Int(1))?.is_none());
/// # Ok::<(), tabula_engine::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ttl {
    column: String,
    after: Duration,
}

impl Ttl {
    /// Rows expire `after` the time in `column`.
    #[must_use]
    pub fn after(column: impl Into<String>, after: Duration) -> Ttl {
        Ttl {
            column: column.into(),
            after,
        }
    }

    /// Rows expire at the time in `column`.
    #[must_use]
    pub fn at(column: impl Into<String>) -> Ttl {
        Ttl::after(column, Duration::ZERO)
    }

    /// The timestamp column.
    #[must_use]
    pub fn column(&self) -> &str {
        &self.column
    }

    /// How long after the column's time a row expires.
    #[must_use]
    pub fn duration(&self) -> Duration {
        self.after
    }

    fn after_micros(&self) -> i64 {
        i64::try_from(self.after.as_micros()).unwrap_or(i64::MAX)
    }
}

/// A rule as stored in `_tabula_ttl`.
struct Rule {
    table: String,
    column: String,
    after: i64,
}

impl Rule {
    fn ttl(&self) -> Ttl {
        let micros = u64::try_from(self.after).unwrap_or(0);
        Ttl::after(self.column.as_str(), Duration::from_micros(micros))
    }
}

/// The rules of `db` whose table exists.
fn rules(db: &State) -> Vec<Rule> {
    let Some(stored) = db.table(TTL_TABLE) else {
        return Vec::new();
    };
    stored
        .iter()
        .filter_map(
            |(_, row)| match (row.get("table"), row.get("column"), row.get("after")) {
                (Some(Value::Text(table)), Some(Value::Text(column)), Some(Value::Int(after)))
                    if db.table(&table).is_some() =>
                {
                    Some(Rule {
                        table,
                        column,
                        after,
                    })
                }
                _ => None,
            },
        )
        .collect()
}

fn rule_row(table: &str, ttl: &Ttl) -> Row {
    Row::from([
        ("table".to_owned(), Value::Text(table.to_owned())),
        ("column".to_owned(), Value::Text(ttl.column.clone())),
        ("after".to_owned(), Value::Int(ttl.after_micros())),
    ])
}

/// The keys of at most `limit` rows of the rule's table expired at `at`, oldest key first.
fn expired(db: &State, rule: &Rule, at: Timestamp, limit: usize) -> Vec<Value> {
    let query = Query::new().filter(expired_filter(rule, at)).limit(limit);
    let (Ok(result), Some(table)) = (db.query(&rule.table, &query), db.table(&rule.table)) else {
        return Vec::new();
    };
    let key = &table.def().primary_key;
    result.rows.iter().filter_map(|row| row.get(key)).collect()
}

fn deletes(table: &str, keys: Vec<Value>) -> impl Iterator<Item = Op> + '_ {
    keys.into_iter().map(move |key| Op::Delete {
        table: table.to_owned(),
        key,
    })
}

/// The filter matching the rows of the rule's table expired at `at`.
fn expired_filter(rule: &Rule, at: Timestamp) -> Filter {
    let cutoff = Timestamp::from_micros(at.as_micros().saturating_sub(rule.after));
    Filter::le(rule.column.as_str(), Value::Timestamp(cutoff))
}

/// Time to live's part in the hub: reads leave expired rows out, commits and interactive
/// transactions delete them from the tables they write first, and a drop of a table deletes
/// its rule.
#[derive(Debug)]
pub(crate) struct TtlHook;

impl Hook for TtlHook {
    /// Before, the deletes of the expired rows (at most `room`) of the tables `ops` write;
    /// after, the deletes of the rules of the tables they drop.
    fn around(&self, db: &State, ops: &[Op], at: Timestamp, room: usize) -> Around {
        let mut around = Around::default();
        if db.table(TTL_TABLE).is_none() {
            return around;
        }
        for rule in &rules(db) {
            if !ops.iter().any(|op| op.table() == rule.table.as_str()) {
                continue;
            }
            let left = room.saturating_sub(around.before.len());
            if left > 0 {
                around
                    .before
                    .extend(deletes(&rule.table, expired(db, rule, at, left)));
            }
            if ops
                .iter()
                .any(|op| matches!(op, Op::DropTable { table } if *table == rule.table))
            {
                around.after.push(rule_delete(&rule.table));
            }
        }
        around
    }

    /// The deletes of at most `room` rows of `table` expired at `at`, if a rule covers it.
    fn first_touch(&self, db: &State, table: &str, at: Timestamp, room: usize) -> Vec<Op> {
        if db.table(TTL_TABLE).is_none() || room == 0 {
            return Vec::new();
        }
        rules(db)
            .iter()
            .filter(|rule| rule.table == table)
            .flat_map(|rule| deletes(&rule.table, expired(db, rule, at, room)).collect::<Vec<_>>())
            .collect()
    }

    /// The delete of `table`'s rule, if it has one.
    fn after_drop(&self, db: &State, table: &str) -> Option<Op> {
        // Without the rules' table there is nothing to look up.
        db.table(TTL_TABLE)?;
        rules(db)
            .iter()
            .any(|rule| rule.table == table)
            .then(|| rule_delete(table))
    }

    fn may_hide(&self, db: &State) -> bool {
        db.table(TTL_TABLE).is_some_and(|rules| !rules.is_empty())
    }

    /// Per rule, the rows expired at `at`: found at each access, never by a scan here.
    fn hidden(&self, db: &State, at: Timestamp) -> Vec<Hidden> {
        rules(db)
            .iter()
            .map(|rule| Hidden {
                table: rule.table.to_owned(),
                rows: expired_filter(rule, at),
            })
            .collect()
    }
}

/// The delete of `table`'s rule row.
fn rule_delete(table: &str) -> Op {
    Op::Delete {
        table: TTL_TABLE.to_owned(),
        key: Value::Text(table.to_owned()),
    }
}

/// Whether any row of `db` is expired at `at`.
fn any_expired(db: &State, at: Timestamp) -> bool {
    rules(db)
        .iter()
        .any(|rule| !expired(db, rule, at, 1).is_empty())
}

/// Deletes every expired row, in logged transactions of at most [`REAP_BATCH`] deletes; returns
/// how many rows it deleted.
pub(crate) fn reap(inner: &Inner) -> Result<usize> {
    let batch = REAP_BATCH.min(inner.options().limits.max_ops_per_transaction);
    let mut total = 0;
    // The check on the visible state takes no lock; the deletes are chosen again under the
    // writer lock, where a concurrent commit may have taken some of them already.
    while any_expired(&inner.visible(), inner.now()) {
        let committed = inner.commit_with(|db, at| {
            let mut ops = Vec::new();
            for rule in &rules(db) {
                let left = batch.saturating_sub(ops.len());
                ops.extend(deletes(&rule.table, expired(db, rule, at, left)));
            }
            let cause = Cause::new().who("tabula").why("ttl");
            Ok((!ops.is_empty()).then_some((ops, Some(cause))))
        })?;
        match committed {
            Some(committed) => total += committed.changes.len(),
            None => break,
        }
    }
    Ok(total)
}

impl Engine {
    /// Gives the rows of `table` a time to live (replacing its rule, if it had one), in a
    /// logged transaction. The column must be a timestamp or `any` column of a typed table (any
    /// field of a schemaless one). Unless an index covers the column, the rule adds the index
    /// [`TTL_INDEX`] on it.
    ///
    /// # Errors
    /// [`Error::InvalidTtl`], [`Error::ReservedTable`], an unknown table, commit errors.
    pub fn set_ttl(&self, table: &str, ttl: Ttl) -> Result<Committed> {
        if system::is_reserved(table) {
            return Err(Error::ReservedTable {
                table: table.to_owned(),
            });
        }
        self.inner.commit_built(|db| {
            let invalid = |reason: String| Error::InvalidTtl {
                table: table.to_owned(),
                reason,
            };
            let existing = db
                .table(table)
                .ok_or_else(|| tabula_core::Error::UnknownTable {
                    table: table.to_owned(),
                })?;
            db.limits().check_name(NameKind::Column, &ttl.column)?;
            if let Some(schema) = &existing.def().schema {
                match schema.column(&ttl.column) {
                    Some(c) if c.ty == ColumnType::Timestamp => {}
                    // A typed table's `any` column (a field whose type the derive does not know,
                    // a chrono date among them, stored as text) would take the rule and never
                    // expire a row.
                    Some(c) if c.ty == ColumnType::Any => {
                        return Err(invalid(format!(
                            "column {:?} is any, not a timestamp: its values may be anything \
                             (text, for a chrono date), and rows would never expire; store \
                             tabula::Timestamp values in a timestamp column",
                            ttl.column
                        )));
                    }
                    Some(c) => {
                        return Err(invalid(format!(
                            "column {:?} is {}, not a timestamp",
                            ttl.column,
                            c.ty.name()
                        )));
                    }
                    None => return Err(invalid(format!("there is no column {:?}", ttl.column))),
                }
            }
            let path = Path::from(ttl.column.as_str());
            let ours = existing
                .indexes()
                .iter()
                .find(|i| i.def().name == TTL_INDEX);
            let covered = existing
                .indexes()
                .iter()
                .any(|i| i.def().path == path && i.def().name != TTL_INDEX);
            let mut ops = Vec::new();
            match ours {
                Some(index) if !covered && index.def().path == path => {}
                Some(_) => ops.push(Op::DropIndex {
                    table: table.to_owned(),
                    index: TTL_INDEX.to_owned(),
                }),
                None => {}
            }
            if !covered && ours.is_none_or(|index| index.def().path != path) {
                ops.push(Op::CreateIndex {
                    table: table.to_owned(),
                    index: IndexDef::new(TTL_INDEX, path),
                });
            }
            ops.extend(system::upsert(db, system::ttl(), rule_row(table, &ttl)));
            let cause = Cause::new().what("set ttl");
            Ok((ops, Some(cause)))
        })
    }

    /// Takes `table`'s time to live away (and the index the rule made); `false` if it had none.
    ///
    /// # Errors
    /// Commit errors.
    pub fn remove_ttl(&self, table: &str) -> Result<bool> {
        let mut removed = false;
        self.inner.commit_with(|db, _| {
            if !rules(db).iter().any(|rule| rule.table == table) {
                return Ok(None);
            }
            removed = true;
            let mut ops = Vec::new();
            if db
                .table(table)
                .is_some_and(|t| t.indexes().iter().any(|i| i.def().name == TTL_INDEX))
            {
                ops.push(Op::DropIndex {
                    table: table.to_owned(),
                    index: TTL_INDEX.to_owned(),
                });
            }
            ops.push(rule_delete(table));
            Ok(Some((ops, Some(Cause::new().what("remove ttl")))))
        })?;
        Ok(removed)
    }

    /// The time to live of `table`, if it has one.
    #[must_use]
    pub fn ttl(&self, table: &str) -> Option<Ttl> {
        let db = self.inner.visible();
        rules(&db)
            .iter()
            .find(|rule| rule.table == table)
            .map(Rule::ttl)
    }

    /// Every table's time to live, by table name.
    #[must_use]
    pub fn ttls(&self) -> Vec<(String, Ttl)> {
        let db = self.inner.visible();
        rules(&db)
            .iter()
            .map(|rule| (rule.table.to_owned(), rule.ttl()))
            .collect()
    }

    /// Deletes every expired row now, in logged transactions (the background thread does this
    /// at every tick); returns how many.
    ///
    /// # Errors
    /// Commit errors.
    pub fn reap_expired(&self) -> Result<usize> {
        reap(&self.inner)
    }
}
