//! [`State`]: the whole in-memory state (tables by name, the last applied LSN) and
//! [`State::apply`], the one way it changes.
//!
//! `apply` is all-or-nothing without copying: ops change the tables in place, each op checking
//! everything before it writes, and an undo log of the successful ops' before-images puts the
//! tables back if a later op fails. Cloning a `State` is O(number of tables) and shares all
//! rows, so a reader or a snapshot takes a consistent copy while the writer goes on.
//!
//! Core bounds the depth of every value before it compares, formats or indexes it. Values too deep
//! for the stack cannot even be cloned or dropped by Rust's derived code, so the producers of
//! values from untrusted bytes (the decoders of `tabula-codec`) must bound depth as they decode;
//! [`State::apply`] clones each op's values before measuring them.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::Arc;

use imbl::OrdMap;

use crate::error::Error;
use crate::limits::Limits;
use crate::op::{Lsn, Op, SchemaChange, Transaction};
use crate::query::{Query, QueryResult};
use crate::row::RowRef;
use crate::schema::TableDef;
use crate::table::{RowChange, TableState};
use crate::value::{Row, Value};

/// What to put back if a transaction fails.
enum Undo {
    /// A row write: the row before it and the table's auto-increment counter before it.
    Row {
        table: Arc<str>,
        key: Value,
        before: Option<RowRef>,
        next_auto: Option<i64>,
    },
    /// A table-level change: the whole table before it (`None` if it did not exist).
    Table {
        name: String,
        before: Option<TableState>,
    },
}

/// The undo steps of the transaction being applied. Recording is off for one-op transactions:
/// each op is atomic by itself, so they need no log (and the common case allocates nothing).
struct UndoLog {
    enabled: bool,
    steps: Vec<Undo>,
}

impl UndoLog {
    fn push(&mut self, step: Undo) {
        if self.enabled {
            self.steps.push(step);
        }
    }
}

/// The state of a database: tables by name and the LSN of the last applied transaction.
///
/// ```
/// use tabula_core::{Column, ColumnType, State, Filter, Lsn, Op, Query, TableDef, Timestamp, Transaction, Value};
///
/// let mut db = State::new();
/// let def = TableDef::new("students", "id")
///     .auto_increment()
///     .column(Column::new("id", ColumnType::Int))
///     .column(Column::new("name", ColumnType::Text).not_null())
///     .column(Column::new("gpa", ColumnType::Float))
///     .index("by_gpa", "gpa");
/// let mut tx = Transaction::new(Lsn(1), Timestamp::EPOCH).with(Op::CreateTable(def));
/// for (name, gpa) in [("Alice", 3.8), ("Bob", 3.1)] {
///     let row = [("name".to_string(), Value::from(name)), ("gpa".to_string(), Value::from(gpa))];
///     tx = tx.with(Op::Insert { table: "students".into(), row: row.into_iter().collect() });
/// }
/// db.apply(&tx).unwrap();
///
/// let good = db.query("students", &Query::new().filter(Filter::ge("gpa", 3.5))).unwrap();
/// assert_eq!(good.rows.len(), 1);
/// assert_eq!(good.rows[0].get("name"), Some(Value::from("Alice")));
/// assert_eq!(good.rows[0].get("id"), Some(Value::Int(1)));
/// ```
#[derive(Debug, Clone, Default)]
pub struct State {
    tables: OrdMap<String, TableState>,
    lsn: Lsn,
    limits: Limits,
}

impl State {
    /// An empty database with default limits.
    #[must_use]
    pub fn new() -> Self {
        State::default()
    }

    /// An empty database with the given limits.
    #[must_use]
    pub fn with_limits(limits: Limits) -> Self {
        State {
            limits,
            ..State::default()
        }
    }

    /// A database made of already built tables at `lsn` (as a snapshot loader produces them).
    ///
    /// # Errors
    /// [`Error::TableExists`] if two tables share a name.
    pub fn from_tables(
        lsn: Lsn,
        tables: impl IntoIterator<Item = TableState>,
        limits: Limits,
    ) -> Result<Self, Error> {
        let mut map = OrdMap::new();
        for table in tables {
            let name = table.name().to_owned();
            if map.insert(name.clone(), table).is_some() {
                return Err(Error::TableExists { table: name });
            }
        }
        Ok(State {
            tables: map,
            lsn,
            limits,
        })
    }

    /// The LSN of the last applied transaction.
    #[must_use]
    pub fn lsn(&self) -> Lsn {
        self.lsn
    }

    /// The limits in force.
    #[must_use]
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The table named `name`.
    #[must_use]
    pub fn table(&self, name: &str) -> Option<&TableState> {
        self.tables.get(name)
    }

    /// All tables, by name.
    pub fn tables(&self) -> impl Iterator<Item = &TableState> + '_ {
        self.tables.values()
    }

    /// The row with key `key` in table `table`.
    ///
    /// # Errors
    /// [`Error::UnknownTable`].
    pub fn get(&self, table: &str, key: &Value) -> Result<Option<&RowRef>, Error> {
        Ok(self.existing(table)?.get(key))
    }

    /// Runs a query on one table.
    ///
    /// # Errors
    /// [`Error::UnknownTable`], or the query's own errors (see [`TableState::query`]).
    pub fn query(&self, table: &str, query: &Query) -> Result<QueryResult, Error> {
        self.existing(table)?.query(query, &self.limits)
    }

    /// Applies a transaction: all its ops, or on any error none of them.
    ///
    /// Returns every row change in op order. The transaction's LSN must be greater than the
    /// database's; it becomes the database's LSN.
    ///
    /// # Errors
    /// The first op's error, naming the table, column, key and value; the database is unchanged.
    pub fn apply(&mut self, tx: &Transaction) -> Result<Vec<RowChange>, Error> {
        let all = 0..tx.ops.len();
        self.apply_ops(tx.lsn, tx.ops.iter().cloned(), all)
    }

    /// As [`State::apply`], returning only the changes made by the ops at the indexes in
    /// `own`: for a commit that wraps its caller's ops in ops of its own (the engine's
    /// time-to-live deletes), so that the caller gets back the changes of its ops and no others.
    ///
    /// # Errors
    /// As [`State::apply`].
    pub fn apply_part(
        &mut self,
        tx: &Transaction,
        own: Range<usize>,
    ) -> Result<Vec<RowChange>, Error> {
        self.apply_ops(tx.lsn, tx.ops.iter().cloned(), own)
    }

    /// As [`State::apply`], moving the rows out of the transaction instead of copying them.
    ///
    /// # Errors
    /// As [`State::apply`].
    pub fn apply_owned(&mut self, tx: Transaction) -> Result<Vec<RowChange>, Error> {
        let all = 0..tx.ops.len();
        self.apply_ops(tx.lsn, tx.ops.into_iter(), all)
    }

    /// Applies `ops` at `lsn`, all or none; returns the changes of the ops at the indexes in
    /// `own`.
    fn apply_ops(
        &mut self,
        lsn: Lsn,
        ops: impl ExactSizeIterator<Item = Op>,
        own: Range<usize>,
    ) -> Result<Vec<RowChange>, Error> {
        if lsn <= self.lsn {
            return Err(Error::LsnNotIncreasing {
                last: self.lsn,
                got: lsn,
            });
        }
        if ops.len() > self.limits.max_ops_per_transaction {
            return Err(Error::LimitExceeded {
                what: "ops in a transaction".into(),
                limit: self.limits.max_ops_per_transaction,
                actual: ops.len(),
            });
        }
        let mut undo = UndoLog {
            enabled: ops.len() > 1,
            steps: Vec::new(),
        };
        let mut changes = Vec::with_capacity(ops.len());
        // The changes of the ops in `own` are `changes[first..last]`: the number of changes
        // made before op `own.start`, and before op `own.end`.
        let (mut first, mut last) = (None, None);
        for (index, op) in ops.enumerate() {
            if index == own.start {
                first = Some(changes.len());
            }
            if index == own.end {
                last = Some(changes.len());
            }
            if let Err(e) = self.apply_op(op, &mut undo, &mut changes) {
                self.roll_back(undo.steps);
                return Err(e);
            }
        }
        self.lsn = lsn;
        let last = last.unwrap_or(changes.len());
        let first = first.unwrap_or(changes.len()).min(last);
        if first > 0 || last < changes.len() {
            changes.truncate(last);
            changes.drain(..first);
        }
        Ok(changes)
    }

    /// Applies one op of a [`crate::Draft`]: all of it or, on error, none of it; the LSN
    /// stays (the draft sets it when it is finished).
    pub(crate) fn apply_draft_op(&mut self, op: &Op) -> Result<Option<RowChange>, Error> {
        // One op needs no undo log: each op checks everything before it writes.
        let mut undo = UndoLog {
            enabled: false,
            steps: Vec::new(),
        };
        let limits = self.limits;
        // Rows are written from the op as it is, which the draft keeps for the log: no copy
        // of the row unless the table must complete it (a profile of 1,000-row inserts spent
        // 6% cloning ops here).
        match op {
            Op::Insert { table, row } => self
                .write_row(table, &mut undo, |t| t.insert(Cow::Borrowed(row), &limits))
                .map(Some),
            Op::Upsert { table, row } => self
                .write_row(table, &mut undo, |t| t.upsert(Cow::Borrowed(row), &limits))
                .map(Some),
            other => {
                let mut changes = Vec::with_capacity(1);
                self.apply_op(other.clone(), &mut undo, &mut changes)?;
                Ok(changes.pop())
            }
        }
    }

    /// Sets the LSN of a finished [`crate::Draft`]'s state.
    pub(crate) fn set_lsn(&mut self, lsn: Lsn) {
        self.lsn = lsn;
    }

    fn apply_op(
        &mut self,
        op: Op,
        undo: &mut UndoLog,
        changes: &mut Vec<RowChange>,
    ) -> Result<(), Error> {
        let limits = self.limits;
        let row_change = match op {
            Op::Insert { table, row } => {
                self.write_row(&table, undo, |t| t.insert(Cow::Owned(row), &limits))?
            }
            Op::Upsert { table, row } => {
                self.write_row(&table, undo, |t| t.upsert(Cow::Owned(row), &limits))?
            }
            Op::Update { table, key, set } => {
                self.write_row(&table, undo, |t| t.update(&key, set, &limits))?
            }
            Op::Delete { table, key } => self.write_row(&table, undo, |t| t.delete(&key))?,
            Op::CreateTable(def) => {
                def.validate(&limits)?;
                if self.tables.contains_key(&def.name) {
                    return Err(Error::TableExists { table: def.name });
                }
                let name = def.name.clone();
                self.tables.insert(name.clone(), TableState::new(def));
                undo.push(Undo::Table { name, before: None });
                return Ok(());
            }
            Op::DropTable { table } => {
                let before = self.tables.remove(&table).ok_or(Error::UnknownTable {
                    table: table.clone(),
                })?;
                undo.push(Undo::Table {
                    name: table,
                    before: Some(before),
                });
                return Ok(());
            }
            Op::CreateIndex { table, index } => {
                return self.change_table(&table, undo, |t| t.create_index(index, &limits));
            }
            Op::DropIndex { table, index } => {
                return self.change_table(&table, undo, |t| t.drop_index(&index));
            }
            Op::AlterTable { table, change } => {
                let altered = alter(self.existing(&table)?, change, &limits)?;
                let before = self.tables.insert(table.clone(), altered);
                undo.push(Undo::Table {
                    name: table,
                    before,
                });
                return Ok(());
            }
        };
        changes.push(row_change);
        Ok(())
    }

    /// Runs a row write on `table` and records how to undo it.
    fn write_row(
        &mut self,
        table: &str,
        undo: &mut UndoLog,
        write: impl FnOnce(&mut TableState) -> Result<RowChange, Error>,
    ) -> Result<RowChange, Error> {
        let t = self.existing_mut(table)?;
        let next_auto = t.next_auto_increment();
        let change = write(t)?;
        undo.push(Undo::Row {
            table: Arc::clone(t.shared_name()),
            key: change.key.clone(),
            before: change.before.clone(),
            next_auto,
        });
        Ok(change)
    }

    /// Runs a table-level change on `table`, keeping the table as it was for undo.
    fn change_table(
        &mut self,
        table: &str,
        undo: &mut UndoLog,
        change: impl FnOnce(&mut TableState) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let t = self.existing_mut(table)?;
        let before = t.clone();
        change(t)?;
        undo.push(Undo::Table {
            name: table.to_owned(),
            before: Some(before),
        });
        Ok(())
    }

    fn roll_back(&mut self, undo: Vec<Undo>) {
        for step in undo.into_iter().rev() {
            match step {
                Undo::Row {
                    table,
                    key,
                    before,
                    next_auto,
                } => {
                    // The table exists: anything that removed it later was undone first.
                    if let Some(t) = self.tables.get_mut(&*table) {
                        t.restore(key, before, next_auto);
                    }
                }
                Undo::Table { name, before } => {
                    match before {
                        Some(t) => self.tables.insert(name, t),
                        None => self.tables.remove(&name),
                    };
                }
            }
        }
    }

    fn existing_mut(&mut self, table: &str) -> Result<&mut TableState, Error> {
        self.tables
            .get_mut(table)
            .ok_or_else(|| Error::UnknownTable {
                table: table.to_owned(),
            })
    }

    fn existing(&self, table: &str) -> Result<&TableState, Error> {
        self.tables.get(table).ok_or_else(|| Error::UnknownTable {
            table: table.to_owned(),
        })
    }
}

/// The table `table` after a schema change: a new definition, every row rewritten and checked.
fn alter(table: &TableState, change: SchemaChange, limits: &Limits) -> Result<TableState, Error> {
    let mut def: TableDef = table.def().clone();
    let name = def.name.clone();
    let invalid = |reason: String| Error::InvalidDefinition {
        table: name.clone(),
        reason,
    };
    let rows: Vec<Row> = table.iter().map(|(_, r)| r.to_row()).collect();
    let rows: Vec<Row> = match change {
        SchemaChange::AddColumn(column) => {
            let Some(schema) = def.schema.as_mut() else {
                return Err(invalid(
                    "a schemaless table has no columns to add to".into(),
                ));
            };
            if schema.column(&column.name).is_some() {
                return Err(invalid(format!("column {:?} already exists", column.name)));
            }
            schema.columns.push(column);
            rows
        }
        SchemaChange::DropColumn(name) => {
            if def.is_key_column(&name) {
                return Err(invalid(format!("cannot drop the primary key {name:?}")));
            }
            if let Some(schema) = def.schema.as_mut() {
                let before = schema.columns.len();
                schema.columns.retain(|c| c.name != name);
                if schema.columns.len() == before {
                    return Err(Error::UnknownColumn {
                        table: def.name.clone(),
                        column: name,
                    });
                }
            }
            def.indexes.retain(|i| i.path.first() != name);
            rows.into_iter()
                .map(|mut r| {
                    r.remove(&name);
                    r
                })
                .collect()
        }
        SchemaChange::RenameColumn { from, to } => {
            if def.is_key_column(&from) || to == def.primary_key {
                return Err(invalid("cannot rename the primary key".into()));
            }
            if let Some(schema) = def.schema.as_mut() {
                if schema.column(&to).is_some() {
                    return Err(invalid(format!("column {to:?} already exists")));
                }
                let col = schema.columns.iter_mut().find(|c| c.name == from).ok_or(
                    Error::UnknownColumn {
                        table: def.name.clone(),
                        column: from.clone(),
                    },
                )?;
                col.name.clone_from(&to);
            }
            if table.iter().any(|(_, r)| r.contains_key(&to)) {
                return Err(invalid(format!("rows already have a field {to:?}")));
            }
            for index in &mut def.indexes {
                if index.path.first() == from {
                    index.path = index.path.with_first(&to);
                }
            }
            rows.into_iter()
                .map(|mut r| {
                    if let Some(v) = r.remove(&from) {
                        r.insert(to.clone(), v);
                    }
                    r
                })
                .collect()
        }
        SchemaChange::AlterColumn(column) => {
            if def.is_key_column(&column.name) {
                return Err(invalid(format!(
                    "cannot alter the key column {:?}",
                    column.name
                )));
            }
            let Some(slot) = def
                .schema
                .as_mut()
                .and_then(|s| s.columns.iter_mut().find(|c| c.name == column.name))
            else {
                return Err(Error::UnknownColumn {
                    table: def.name.clone(),
                    column: column.name,
                });
            };
            *slot = column;
            // `rebuild` conforms every row to the new column, refusing what it cannot hold.
            rows
        }
    };
    TableState::rebuild(def, rows, table.next_auto_increment(), limits)
}

/// Two databases are equal when they hold equal tables at the same LSN; limits are settings, not
/// state.
impl PartialEq for State {
    fn eq(&self, other: &Self) -> bool {
        self.lsn == other.lsn && self.tables == other.tables
    }
}
