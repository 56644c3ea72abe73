//! [`ReadView`]: what [`Engine::read`](crate::Engine::read) and
//! [`Engine::as_of`](crate::Engine::as_of) return. A database state at one LSN, plus the rows a
//! read at that moment leaves out (rows past their time to live, until the logged deletes that
//! remove them), applied at each access: a get checks the one row, a query skips the rows as it
//! goes. Making a view costs O(1) in the size of the data, and the state underneath is never
//! changed, so a view's LSN always names exactly the state the log reached.

use std::sync::Arc;

use tabula_core::{
    Error, Filter, Index, Limits, Lsn, Query, QueryResult, RowRef, State, TableDef, TableState,
    Value,
};

use super::hook::Hidden;

/// A consistent, immutable view of the database at one LSN; cheap to clone and to keep.
///
/// ```
/// use tabula_core::{Op, Row, TableDef, Value};
/// use tabula_engine::{Engine, Options};
///
/// let engine = Engine::in_memory(Options::default());
/// engine.commit(vec![Op::CreateTable(TableDef::new("t", "id"))])?;
/// let before = engine.read();
/// engine.commit(vec![Op::Insert { table: "t".into(), row: Row::from([("id".to_owned(), Value::Int(1))]) }])?;
/// assert_eq!(before.table("t").map(|t| t.len()), Some(0));
/// assert_eq!(engine.read().table("t").map(|t| t.len()), Some(1));
/// # Ok::<(), tabula_engine::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ReadView {
    db: State,
    /// Per table, the rows left out (sorted by table, at most one entry per table).
    hidden: Arc<[Hidden]>,
}

impl ReadView {
    /// A view of `db` leaving out the `hidden` rows.
    pub(crate) fn new(db: State, mut hidden: Vec<Hidden>) -> ReadView {
        hidden.sort_by(|a, b| a.table.cmp(&b.table));
        hidden.dedup_by(|later, first| {
            if later.table != first.table {
                return false;
            }
            let rows = std::mem::replace(&mut later.rows, Filter::all());
            first.rows = std::mem::replace(&mut first.rows, Filter::all()).or(rows);
            true
        });
        ReadView {
            db,
            hidden: hidden.into(),
        }
    }

    /// The LSN of the last transaction the view includes.
    #[must_use]
    pub fn lsn(&self) -> Lsn {
        self.db.lsn()
    }

    /// The limits the database enforces.
    #[must_use]
    pub fn limits(&self) -> &Limits {
        self.db.limits()
    }

    /// The table `name`.
    #[must_use]
    pub fn table(&self, name: &str) -> Option<ViewTable<'_>> {
        self.db.table(name).map(|table| self.view_of(table))
    }

    /// Every table, by name.
    pub fn tables(&self) -> impl Iterator<Item = ViewTable<'_>> + '_ {
        self.db.tables().map(|table| self.view_of(table))
    }

    /// The row with key `key` in `table`, unless the view leaves it out.
    ///
    /// # Errors
    /// [`Error::UnknownTable`].
    pub fn get(&self, table: &str, key: &Value) -> Result<Option<&RowRef>, Error> {
        self.existing(table).map(|t| t.get(key))
    }

    /// Runs `query` on `table`.
    ///
    /// # Errors
    /// [`Error::UnknownTable`], or the query's own errors.
    pub fn query(&self, table: &str, query: &Query) -> Result<QueryResult, Error> {
        self.existing(table)?.query(query)
    }

    /// The number of rows of `table` matching `filter` (all with `None`).
    ///
    /// # Errors
    /// [`Error::UnknownTable`], or the filter's errors.
    pub fn count(&self, table: &str, filter: Option<&Filter>) -> Result<usize, Error> {
        self.existing(table)?.count(filter)
    }

    /// Whether the view leaves any row out (a table has a time to live).
    #[must_use]
    pub fn hides_rows(&self) -> bool {
        !self.hidden.is_empty()
    }

    /// The state underneath, *including* the rows the view leaves out: exactly what the log
    /// reached at [`ReadView::lsn`]. For tools that work on the stored state (checks, time
    /// travel); reads should go through the view.
    #[must_use]
    pub fn state(&self) -> &State {
        &self.db
    }

    /// The view as a database of its own, without the rows it leaves out: for writing it out
    /// (save, export, backup) and comparing. O(1) when it leaves nothing out; otherwise each
    /// table with rows left out is rebuilt from the rest.
    ///
    /// # Errors
    /// None in practice: the rows kept already satisfied the table's rules.
    pub fn to_database(&self) -> Result<State, Error> {
        if self.hidden.is_empty() {
            return Ok(self.db.clone());
        }
        let tables = self.db.tables().map(|table| {
            let view = self.view_of(table);
            match view.hidden {
                None => Ok(table.clone()),
                Some(_) => TableState::rebuild(
                    table.def().clone(),
                    view.iter().map(|(_, row)| row.to_row()),
                    table.next_auto_increment(),
                    self.db.limits(),
                ),
            }
        });
        let tables = tables.collect::<Result<Vec<_>, Error>>()?;
        State::from_tables(self.db.lsn(), tables, *self.db.limits())
    }

    fn view_of<'v>(&'v self, table: &'v TableState) -> ViewTable<'v> {
        let hidden = self
            .hidden
            .binary_search_by(|h| h.table.as_str().cmp(table.name()))
            .ok()
            .and_then(|at| self.hidden.get(at))
            .map(|h| &h.rows);
        ViewTable {
            table,
            hidden,
            limits: self.db.limits(),
        }
    }

    fn existing(&self, name: &str) -> Result<ViewTable<'_>, Error> {
        self.table(name).ok_or_else(|| Error::UnknownTable {
            table: name.to_owned(),
        })
    }
}

impl PartialEq for ReadView {
    /// Two views are equal when they show the same LSN, tables and rows.
    fn eq(&self, other: &ReadView) -> bool {
        match (self.to_database(), other.to_database()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
    }
}

impl PartialEq<State> for ReadView {
    fn eq(&self, other: &State) -> bool {
        self.to_database().is_ok_and(|db| db == *other)
    }
}

/// One table of a [`ReadView`], leaving out the rows the view does.
#[derive(Debug, Clone, Copy)]
pub struct ViewTable<'v> {
    table: &'v TableState,
    hidden: Option<&'v Filter>,
    limits: &'v Limits,
}

impl<'v> ViewTable<'v> {
    /// The table's definition.
    #[must_use]
    pub fn def(&self) -> &'v TableDef {
        self.table.def()
    }

    /// The table's name.
    #[must_use]
    pub fn name(&self) -> &'v str {
        self.table.name()
    }

    /// The number of rows the view shows.
    #[must_use]
    pub fn len(&self) -> usize {
        match self.hidden {
            None => self.table.len(),
            // The hidden filter comes from the engine and is valid; were it not, counting the
            // rows one by one gives the same answer.
            Some(hidden) => match self.table.count(Some(hidden), self.limits) {
                Ok(left_out) => self.table.len().saturating_sub(left_out),
                Err(_) => self.iter().count(),
            },
        }
    }

    /// Whether the view shows no row of it.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The row with key `key`, unless the view leaves it out.
    #[must_use]
    pub fn get(&self, key: &Value) -> Option<&'v RowRef> {
        self.table
            .get(key)
            .filter(|row| self.hidden.is_none_or(|h| !h.matches(row)))
    }

    /// The rows the view shows, in key order, without their keys.
    pub fn rows(&self) -> impl Iterator<Item = &'v RowRef> + use<'v> {
        let hidden = self.hidden;
        self.table
            .rows()
            .filter(move |row| hidden.is_none_or(|h| !h.matches(row)))
    }

    /// The rows the view shows, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (Value, &'v RowRef)> + use<'v> {
        let hidden = self.hidden;
        self.table
            .iter()
            .filter(move |(_, row)| hidden.is_none_or(|h| !h.matches(row)))
    }

    /// The memory the table's structures hold, rows the view leaves out included (they are
    /// still stored until a delete removes them).
    #[must_use]
    pub fn memory(&self) -> tabula_core::TableMemory {
        self.table.memory()
    }

    /// The table's secondary indexes.
    #[must_use]
    pub fn indexes(&self) -> &'v [Index] {
        self.table.indexes()
    }

    /// The key the next auto-increment insert gets, if the table has one.
    #[must_use]
    pub fn next_auto_increment(&self) -> Option<i64> {
        self.table.next_auto_increment()
    }

    /// Runs `query` on the rows the view shows.
    ///
    /// # Errors
    /// The query's errors ([`TableState::query`]).
    pub fn query(&self, query: &Query) -> Result<QueryResult, Error> {
        self.table.query_hiding(query, self.hidden, self.limits)
    }

    /// The number of rows the view shows matching `filter`.
    ///
    /// # Errors
    /// The filter's errors.
    pub fn count(&self, filter: Option<&Filter>) -> Result<usize, Error> {
        self.table.count_hiding(filter, self.hidden, self.limits)
    }

    /// The table underneath, *including* the rows the view leaves out.
    #[must_use]
    pub fn stored(&self) -> &'v TableState {
        self.table
    }
}
