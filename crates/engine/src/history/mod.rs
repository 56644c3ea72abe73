//! Time travel and audit: [`Engine::as_of`] rebuilds the database as it was at a point
//! ([`At`]: an LSN, a time or a tag), [`Engine::log`] lists the transactions between two points
//! with their causes, and [`Engine::history`] lists every version of one row.
//!
//! # Where a past state comes from
//!
//! The nearest retained snapshot at or before the point, plus replay of the log (archived and
//! live segments) up to it; with the whole log retained (it starts at LSN 1), the empty database
//! plus replay. How far back this reaches is set by the retention of snapshots
//! ([`crate::Options::snapshot_retention`]) and of the archived log
//! ([`crate::Options::wal_retention`], which must archive: the engine's default keeps archived
//! segments for 7 days). A point before that is [`Error::Pruned`] with the oldest point
//! available; a point after the last visible commit is [`Error::NotCommitted`].
//!
//! A damaged snapshot is passed over for an older one, as at open.
//!
//! # Times
//!
//! Commit timestamps never decrease along the log (the engine takes the later of the clock and
//! the previous commit's time), so `At::Time(t)` names one state: after the last transaction
//! committed at or before `t`.
//!
//! Beside it: diffs and rollbacks (`diff.rs`), the change feed (`feed.rs`) and backups
//! (`backup.rs`).

pub(crate) mod backup;
pub(crate) mod diff;
pub(crate) mod feed;

use std::fmt;

use tabula_core::{Cause, Lsn, Op, Row, RowRef, State, TableDef, Timestamp, Transaction, Value};
use tabula_snapshot::LoadOptions;
use tabula_wal::Transactions;

use crate::db::{Engine, HistoryLog, Inner, ReadView};
use crate::system::{self, TAGS_TABLE};
use crate::{Error, Result};

/// A point in the database's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum At {
    /// The state after the transaction with this LSN (`Lsn(0)`: the empty database).
    Lsn(Lsn),
    /// The state after the last transaction committed at or before this time.
    Time(Timestamp),
    /// The state a tag names (see [`Engine::tag`]).
    Tag(String),
}

impl From<Lsn> for At {
    fn from(lsn: Lsn) -> At {
        At::Lsn(lsn)
    }
}

impl From<Timestamp> for At {
    fn from(time: Timestamp) -> At {
        At::Time(time)
    }
}

impl From<&str> for At {
    /// A tag name.
    fn from(tag: &str) -> At {
        At::Tag(tag.to_owned())
    }
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            At::Lsn(lsn) => write!(f, "LSN {lsn}"),
            At::Time(time) => write!(f, "time {time}"),
            At::Tag(tag) => write!(f, "tag {tag:?}"),
        }
    }
}

/// Which transactions [`Engine::log`] lists: those that turn the state at `after` into the
/// state at `until`, optionally only those touching a table or made by an actor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogFilter {
    /// Start after this point (default: the oldest retained transaction).
    pub after: Option<At>,
    /// End at this point, inclusive (default: the last visible transaction).
    pub until: Option<At>,
    /// Only transactions with an op on this table.
    pub table: Option<String>,
    /// Only transactions whose cause names this actor (`who`).
    pub who: Option<String>,
}

impl LogFilter {
    /// Every retained transaction.
    #[must_use]
    pub fn new() -> LogFilter {
        LogFilter::default()
    }

    /// Only transactions after the state at `point`.
    #[must_use]
    pub fn after(mut self, point: impl Into<At>) -> LogFilter {
        self.after = Some(point.into());
        self
    }

    /// Only transactions up to the state at `point`.
    #[must_use]
    pub fn until(mut self, point: impl Into<At>) -> LogFilter {
        self.until = Some(point.into());
        self
    }

    /// Only transactions touching `table`.
    #[must_use]
    pub fn table(mut self, table: impl Into<String>) -> LogFilter {
        self.table = Some(table.into());
        self
    }

    /// Only transactions whose cause's `who` is `who`.
    #[must_use]
    pub fn who(mut self, who: impl Into<String>) -> LogFilter {
        self.who = Some(who.into());
        self
    }

    fn matches(&self, tx: &Transaction) -> bool {
        let table_ok = self
            .table
            .as_ref()
            .is_none_or(|t| tx.ops.iter().any(|op| op.table() == t));
        let who_ok = self.who.as_ref().is_none_or(|who| {
            tx.cause
                .as_ref()
                .and_then(|c| c.who.as_ref())
                .is_some_and(|w| w == who)
        });
        table_ok && who_ok
    }
}

/// The transactions [`Engine::log`] lists, oldest first.
#[derive(Debug)]
pub struct LogEntries {
    transactions: Option<Transactions>,
    until: Lsn,
    filter: LogFilter,
}

impl Iterator for LogEntries {
    type Item = Result<Transaction>;

    fn next(&mut self) -> Option<Result<Transaction>> {
        loop {
            let tx = match self.transactions.as_mut()?.next()? {
                Ok(tx) => tx,
                Err(error) => {
                    self.transactions = None;
                    return Some(Err(error.into()));
                }
            };
            if tx.lsn > self.until {
                self.transactions = None;
                return None;
            }
            if self.filter.matches(&tx) {
                return Some(Ok(tx));
            }
        }
    }
}

/// How a row changed in one transaction (see [`Version`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionKind {
    /// The row came to be.
    Inserted,
    /// The row changed.
    Updated,
    /// The row went away (a delete, or its table dropped).
    Deleted,
}

/// One version of a row, from [`Engine::history`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Version {
    /// The transaction that made it.
    pub lsn: Lsn,
    /// When that transaction committed.
    pub timestamp: Timestamp,
    /// Inserted, updated or deleted.
    pub kind: VersionKind,
    /// The op that changed the row: `insert`, `upsert`, `update`, `delete`, or a table-level
    /// op (`drop_table`, `alter_table`, `create_table`).
    pub op: &'static str,
    /// The row before the transaction.
    pub before: Option<RowRef>,
    /// The row after it.
    pub after: Option<RowRef>,
    /// Who, what, where and why, as committed.
    pub cause: Option<Cause>,
}

fn op_name(op: &Op) -> &'static str {
    match op {
        Op::CreateTable(_) => "create_table",
        Op::DropTable { .. } => "drop_table",
        Op::CreateIndex { .. } => "create_index",
        Op::DropIndex { .. } => "drop_index",
        Op::Insert { .. } => "insert",
        Op::Upsert { .. } => "upsert",
        Op::Update { .. } => "update",
        Op::Delete { .. } => "delete",
        Op::AlterTable { .. } => "alter_table",
        _ => "op",
    }
}

/// The op among `ops` (one table's, in order) that made the row's last change: the last row op
/// naming its key (a key of several columns computed from the row's parts), else the last
/// table-level op.
fn changing_op(ops: &[Op], def: Option<&TableDef>, key: &Value) -> &'static str {
    let key_of = |row: &Row| -> Option<Value> {
        let def = def?;
        match def.key_of_parts(row) {
            Ok(Some(computed)) => Some(computed),
            _ => row.get(&def.primary_key).cloned(),
        }
    };
    let names_key = |op: &Op| match op {
        Op::Insert { row, .. } | Op::Upsert { row, .. } => key_of(row).as_ref() == Some(key),
        Op::Update { key: k, .. } | Op::Delete { key: k, .. } => k == key,
        _ => false,
    };
    let table_level = |op: &&Op| {
        !matches!(
            op,
            Op::Insert { .. } | Op::Upsert { .. } | Op::Update { .. } | Op::Delete { .. }
        )
    };
    ops.iter()
        .rev()
        .find(|op| names_key(op))
        .or_else(|| ops.iter().rev().find(table_level))
        .map_or("op", op_name)
}

/// The log's `Pruned` as the engine's, for the point asked for; other log errors whole.
pub(crate) fn pruned(error: tabula_wal::Error, requested: Lsn) -> Error {
    match error {
        tabula_wal::Error::Pruned {
            oldest_available, ..
        } => Error::Pruned {
            requested,
            oldest_available,
        },
        other => Error::Wal(other),
    }
}

impl Inner {
    fn stores(&self) -> Option<(HistoryLog<'_>, &tabula_snapshot::SnapshotStore)> {
        self.history_log().zip(self.snapshots())
    }

    /// The first LSN the log can still read, or the one after `visible` if it holds none.
    fn log_oldest(&self, log: HistoryLog<'_>, visible: Lsn) -> Result<Lsn> {
        Ok(log.oldest_lsn()?.unwrap_or(visible.next()))
    }

    /// The oldest state that can be rebuilt, and how: the snapshot LSN to start from (`None`:
    /// the empty database).
    fn oldest_base(&self, visible: Lsn) -> Result<Option<Lsn>> {
        let Some((log, store)) = self.stores() else {
            return Ok(Some(visible));
        };
        let oldest = self.log_oldest(log, visible)?;
        if oldest <= Lsn(1) {
            return Ok(None);
        }
        let snapshots = store.list()?;
        Ok(Some(
            snapshots
                .iter()
                .map(|s| s.lsn)
                .find(|&lsn| oldest <= lsn.next())
                .unwrap_or(visible),
        ))
    }

    /// The database at `target`: the nearest usable snapshot at or before it plus replay.
    pub(crate) fn state_at(&self, target: Lsn) -> Result<State> {
        let visible = self.visible();
        if target == visible.lsn() {
            return Ok(visible);
        }
        if target > visible.lsn() {
            return Err(Error::NotCommitted {
                requested: target,
                last: visible.lsn(),
            });
        }
        let Some((log, store)) = self.stores() else {
            return Err(Error::Pruned {
                requested: target,
                oldest_available: visible.lsn(),
            });
        };
        let oldest = self.log_oldest(log, visible.lsn())?;
        let load = LoadOptions::with_limits(self.options().limits);
        for snapshot in store.list()?.iter().rev().filter(|s| s.lsn <= target) {
            if snapshot.lsn < target && oldest > snapshot.lsn.next() {
                break;
            }
            // A damaged snapshot is passed over for an older one, as at open.
            if let Ok(loaded) = store.load(snapshot.lsn, &load) {
                return replay_until(log, loaded.database, target, |_, _| {});
            }
        }
        if oldest <= Lsn(1) {
            return replay_until(
                log,
                State::with_limits(self.options().limits),
                target,
                |_, _| {},
            );
        }
        let oldest_available = self.oldest_base(visible.lsn())?.unwrap_or(Lsn::ZERO);
        Err(Error::Pruned {
            requested: target,
            oldest_available,
        })
    }

    /// When the transaction at `lsn` was committed, if the log still holds it.
    pub(crate) fn commit_time(&self, lsn: Lsn) -> Option<Timestamp> {
        let Some(log) = self.history_log() else {
            return self.last_timestamp();
        };
        match log.timestamps_from(lsn).ok()?.next()? {
            Ok((at_lsn, time)) if at_lsn == lsn => Some(time),
            _ => None,
        }
    }

    /// The LSN a point names.
    pub(crate) fn resolve(&self, at: &At) -> Result<Lsn> {
        match at {
            At::Lsn(lsn) => Ok(*lsn),
            At::Tag(tag) => {
                tag_lsn(&self.visible(), tag).ok_or_else(|| Error::UnknownTag { tag: tag.clone() })
            }
            At::Time(time) => self.resolve_time(*time),
        }
    }

    fn resolve_time(&self, time: Timestamp) -> Result<Lsn> {
        let visible = self.visible_lsn();
        if self.last_timestamp().is_some_and(|last| time >= last) {
            return Ok(visible);
        }
        let Some(log) = self.history_log() else {
            return Err(Error::Pruned {
                requested: Lsn::ZERO,
                oldest_available: visible,
            });
        };
        let oldest = self.log_oldest(log, visible)?;
        // The state after the last commit stamped at or before `time`. Commit times only go
        // back where the clock had run ahead (see `Inner::next_timestamp`), so usually that is
        // the commit before the first one stamped later; but after such a commit, commits
        // stamped earlier may follow, and they are found too: what was committed before them,
        // the commit from the clock that ran ahead included, had happened by then. The log
        // always holds every transaction after the newest snapshot, so the scan reaches the
        // visible state.
        let mut found = oldest.0.checked_sub(1).map_or(Lsn::ZERO, Lsn);
        for header in log.timestamps_from(oldest).map_err(|e| pruned(e, oldest))? {
            let (lsn, at) = header?;
            if lsn > visible {
                break;
            }
            if at <= time {
                found = lsn;
            }
        }
        Ok(found)
    }
}

/// Applies the logged transactions after `db`'s LSN up to `target` to `db`, calling `each` with
/// every transaction before it is applied (and the state it applies to).
fn replay_until(
    log: HistoryLog<'_>,
    mut db: State,
    target: Lsn,
    mut each: impl FnMut(&State, &Transaction),
) -> Result<State> {
    if db.lsn() >= target {
        return Ok(db);
    }
    let from = db.lsn().next();
    for tx in log.read_from(from).map_err(|e| pruned(e, from))? {
        let tx = tx?;
        if tx.lsn > target {
            break;
        }
        each(&db, &tx);
        let lsn = tx.lsn;
        db.apply_owned(tx).map_err(|error| Error::Replay {
            lsn,
            error: Box::new(error),
        })?;
    }
    if db.lsn() < target {
        return Err(Error::LogEndsEarly {
            log_end: db.lsn(),
            needed: target,
        });
    }
    Ok(db)
}

impl Engine {
    /// The LSN a point names: itself, the last transaction committed at or before a time, or
    /// a tag's LSN.
    ///
    /// # Errors
    /// [`Error::UnknownTag`]; log read errors.
    pub fn resolve(&self, at: &At) -> Result<Lsn> {
        self.inner.resolve(at)
    }

    /// The database as it was at `at`, read-only (a value: later commits do not change it).
    /// Rows past their time to live at that point are left out, as reads then left them out: the
    /// point's time is the time given, or the commit time of the LSN or tag.
    ///
    /// ```
    /// use tabula_core::{Lsn, Op, TableDef, Value};
    /// use tabula_engine::{Engine, Options};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let (engine, _) = Engine::open(dir.path(), Options::new())?;
    /// engine.commit(vec![Op::CreateTable(TableDef::new("kv", "k"))])?;
    /// let row = |v: i64| [("k".to_owned(), Value::from("a")), ("v".to_owned(), Value::Int(v))].into();
    /// let first = engine.commit(vec![Op::Upsert { table: "kv".into(), row: row(1) }])?;
    /// engine.commit(vec![Op::Upsert { table: "kv".into(), row: row(2) }])?;
    /// let then = engine.as_of(first.lsn)?;
    /// assert_eq!(then.get("kv", &Value::from("a"))?.unwrap().get("v"), Some(Value::Int(1)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Pruned`] before the retained history, [`Error::NotCommitted`] after the last
    /// visible commit, [`Error::UnknownTag`].
    pub fn as_of(&self, at: impl Into<At>) -> Result<ReadView> {
        let at = at.into();
        let lsn = self.inner.resolve(&at)?;
        let db = self.inner.state_at(lsn)?;
        // Rows past their time to live then are left out, as reads then left them out.
        let time = match at {
            At::Time(time) => Some(time.min(self.inner.now())),
            At::Lsn(_) | At::Tag(_) => self.inner.commit_time(lsn),
        };
        Ok(match time {
            Some(time) => self.inner.view(db, || time),
            None => ReadView::new(db, Vec::new()),
        })
    }

    /// The oldest point [`Engine::as_of`] can still rebuild.
    ///
    /// # Errors
    /// Reading the log or snapshot directories.
    pub fn oldest_available(&self) -> Result<Lsn> {
        let visible = self.inner.visible_lsn();
        Ok(self.inner.oldest_base(visible)?.unwrap_or(Lsn::ZERO))
    }

    /// The retained transactions `filter` selects, oldest first, with their causes.
    ///
    /// # Errors
    /// [`Error::Pruned`] if `filter.after` is before the retained log; an unknown tag.
    pub fn log(&self, filter: LogFilter) -> Result<LogEntries> {
        let inner = &self.inner;
        let visible = inner.visible_lsn();
        let until = match &filter.until {
            Some(at) => inner.resolve(at)?.min(visible),
            None => visible,
        };
        let Some(log) = inner.history_log() else {
            return Err(Error::NoHistory { what: "log" });
        };
        let from = match &filter.after {
            Some(at) => inner.resolve(at)?.next(),
            None => inner.log_oldest(log, visible)?,
        };
        let transactions = if from <= until {
            Some(log.read_from(from).map_err(|e| pruned(e, from))?)
        } else {
            None
        };
        Ok(LogEntries {
            transactions,
            until,
            filter,
        })
    }

    /// Every retained version of the row `key` of `table`, oldest first: what each transaction
    /// that changed it made of it, with its LSN, time, op and cause.
    ///
    /// Versions before the retained history are not listed; the first version's `before` is the
    /// row as the oldest retained state had it.
    ///
    /// # Errors
    /// Reading the log or the snapshots.
    pub fn history(&self, table: &str, key: &Value) -> Result<Vec<Version>> {
        let inner = &self.inner;
        let visible = inner.visible();
        let Some((log, store)) = inner.stores() else {
            return Err(Error::NoHistory { what: "history" });
        };
        let base = match inner.oldest_base(visible.lsn())? {
            None => State::with_limits(inner.options().limits),
            Some(lsn) if lsn == visible.lsn() => return Ok(Vec::new()),
            Some(lsn) => {
                store
                    .load(lsn, &LoadOptions::with_limits(inner.options().limits))?
                    .database
            }
        };
        // Only this table's ops change this table's rows, so the replay keeps only them.
        let only_table = State::from_tables(
            base.lsn(),
            base.table(table).cloned(),
            inner.options().limits,
        )?;
        let mut versions = Vec::new();
        let mut db = only_table;
        let from = db.lsn().next();
        for tx in log.read_from(from).map_err(|e| pruned(e, from))? {
            let tx = tx?;
            if tx.lsn > visible.lsn() {
                break;
            }
            let ops: Vec<Op> = tx
                .ops
                .iter()
                .filter(|op| op.table() == table)
                .cloned()
                .collect();
            if ops.is_empty() {
                continue;
            }
            let row_of = |db: &State| db.get(table, key).ok().flatten().cloned();
            let before = row_of(&db);
            let def = db.table(table).map(|t| t.def().clone());
            let lsn = tx.lsn;
            let op = changing_op(&ops, def.as_ref(), key);
            let filtered = Transaction {
                lsn,
                timestamp: tx.timestamp,
                cause: None,
                ops,
            };
            db.apply_owned(filtered).map_err(|error| Error::Replay {
                lsn,
                error: Box::new(error),
            })?;
            let after = row_of(&db);
            if before != after {
                let kind = match (&before, &after) {
                    (None, _) => VersionKind::Inserted,
                    (Some(_), None) => VersionKind::Deleted,
                    (Some(_), Some(_)) => VersionKind::Updated,
                };
                versions.push(Version {
                    lsn,
                    timestamp: tx.timestamp,
                    kind,
                    op,
                    before,
                    after,
                    cause: tx.cause,
                });
            }
        }
        Ok(versions)
    }

    /// Names the current state `name`, for [`At::Tag`]; returns the LSN named. Tags are kept in
    /// the database (`_tabula_tags`), so they survive reopen, snapshots and backups, and are
    /// never moved: tagging an existing name is [`Error::TagExists`].
    ///
    /// # Errors
    /// An invalid name (a table name's rules), [`Error::TagExists`], commit errors.
    pub fn tag(&self, name: &str) -> Result<Lsn> {
        let mut named = Lsn::ZERO;
        self.inner.commit_built(|db| {
            db.limits().check_name(tabula_core::NameKind::Tag, name)?;
            if let Some(existing) = tag_lsn(db, name) {
                return Err(Error::TagExists {
                    tag: name.to_owned(),
                    lsn: existing,
                });
            }
            named = db.lsn();
            let row = system::tag_row(name, named.0, self.inner.now());
            let cause = Cause::new().what("tag").why(format!("tag {name:?}"));
            Ok((system::upsert(db, system::tags(), row), Some(cause)))
        })?;
        Ok(named)
    }

    /// Removes the tag `name`.
    ///
    /// # Errors
    /// [`Error::UnknownTag`], commit errors.
    pub fn delete_tag(&self, name: &str) -> Result<()> {
        self.inner.commit_built(|db| {
            if tag_lsn(db, name).is_none() {
                return Err(Error::UnknownTag {
                    tag: name.to_owned(),
                });
            }
            let op = Op::Delete {
                table: TAGS_TABLE.to_owned(),
                key: Value::Text(name.to_owned()),
            };
            Ok((vec![op], Some(Cause::new().what("delete tag"))))
        })?;
        Ok(())
    }

    /// The tags, by name: each name with the LSN it names and when it was made.
    #[must_use]
    pub fn tags(&self) -> Vec<(String, Lsn, Timestamp)> {
        let db = self.inner.visible();
        let Some(table) = db.table(TAGS_TABLE) else {
            return Vec::new();
        };
        table
            .iter()
            .filter_map(|(key, row)| match (key, row.get("lsn"), row.get("at")) {
                (Value::Text(name), Some(Value::Int(lsn)), Some(Value::Timestamp(at))) => {
                    Some((name, Lsn(u64::try_from(lsn).ok()?), at))
                }
                _ => None,
            })
            .collect()
    }
}

fn tag_lsn(db: &State, name: &str) -> Option<Lsn> {
    match db
        .get(TAGS_TABLE, &Value::Text(name.to_owned()))
        .ok()
        .flatten()?
        .get("lsn")
    {
        Some(Value::Int(lsn)) => u64::try_from(lsn).ok().map(Lsn),
        _ => None,
    }
}
