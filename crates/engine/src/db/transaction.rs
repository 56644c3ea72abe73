//! [`Engine::transaction`] and [`WriteTx`]: the interactive write transaction. It holds the
//! writer lock from its first read to its commit, so it is serialized with every other writer
//! and every read-modify-write inside it is atomic (no update is ever lost); it reads its own
//! writes; it commits as one logged transaction with one LSN and one cause, or not at all.
//!
//! Why a closure rather than a `begin_write()` object (redb, rusqlite): the writer lock cannot
//! outlive the closure, so a transaction that was forgotten, leaked or held across an `.await`
//! cannot stall every writer, and the three ways out are exactly the three outcomes: the
//! closure returns `Ok` (commit), returns `Err` (nothing is committed) or panics (the lock is
//! released while unwinding and nothing is committed).
//!
//! Inside, each op is applied as it is added ([`tabula_core::Draft`]): an op that fails
//! (a duplicate key, a unique value, a type) returns its error and changes nothing, and the
//! transaction goes on if the closure handles the error, as a failed statement inside an SQLite
//! transaction does; propagating it with `?` commits nothing.
//!
//! Time to live: the first time a transaction reads or writes a table with a rule, it deletes
//! that table's rows expired at its start, in the same logged transaction, so that it sees and
//! writes what [`Engine::read`] shows (a commit does the same for the tables it writes).
//!
//! A closure that starts another write on the same engine from inside (a commit, a
//! transaction, a tag) would wait for the lock it holds itself; it gets
//! [`Error::NestedTransaction`] instead.

use std::cell::RefCell;
use std::sync::Arc;

use tabula_core::{Cause, Draft, Op, Query, QueryResult, RowChange, RowRef, State, Value};

use super::hook::Hook;
use super::{Committed, Engine, Inner, ReadView, is_reserved};
use crate::{Error, Result};

thread_local! {
    /// The engines (by address) whose writer lock this thread holds.
    static WRITING: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// Marks this thread as writing to one engine until dropped.
pub(crate) struct Writing(usize);

impl Writing {
    /// Marks the thread as writing to `inner`.
    ///
    /// # Errors
    /// [`Error::NestedTransaction`] if it already is.
    pub(crate) fn enter(inner: &Inner) -> Result<Writing> {
        let id = inner.id();
        WRITING.with_borrow_mut(|engines| {
            if engines.contains(&id) {
                return Err(Error::NestedTransaction);
            }
            engines.push(id);
            Ok(Writing(id))
        })
    }
}

impl Drop for Writing {
    fn drop(&mut self) {
        WRITING.with_borrow_mut(|engines| engines.retain(|&id| id != self.0));
    }
}

/// An interactive write transaction, inside [`Engine::transaction`]: reads see the state the
/// commit will be applied to, with this transaction's own writes.
#[derive(Debug)]
pub struct WriteTx {
    /// The engine it belongs to (its address), checked at commit: a `&mut WriteTx` swapped
    /// with another engine's (`std::mem::swap` inside two nested transactions) is refused.
    engine: usize,
    /// The engine's hooks: time to live deletes expired rows at a table's first touch.
    hooks: Arc<[Arc<dyn Hook>]>,
    draft: Draft,
    /// How many of the caller's own ops succeeded: without any, nothing is committed (not even
    /// the expiry deletes of the tables it read, which the reaper makes later).
    own_ops: usize,
    /// When the transaction started: rows expired then are deleted at a table's first touch.
    started: tabula_core::Timestamp,
    cause: Option<Cause>,
    /// The tables touched so far (their expired rows deleted).
    touched: Vec<String>,
    /// The row changes of the caller's own ops (not the expiry deletes), in op order.
    changes: Vec<RowChange>,
}

impl WriteTx {
    /// Applies `op` now and keeps it for the commit; returns the row it changed (`None` for
    /// table-level ops), with an auto-increment key filled in.
    ///
    /// # Errors
    /// The op's own error ([`Error::Rejected`]: a duplicate key, a unique value, a type, an
    /// unknown table or key, a limit) or [`Error::ReservedTable`]; the transaction is unchanged
    /// and can go on.
    pub fn push(&mut self, op: Op) -> Result<Option<RowChange>> {
        if is_reserved(op.table()) {
            return Err(Error::ReservedTable {
                table: op.table().to_owned(),
            });
        }
        self.touch(op.table())?;
        let after: Vec<Op> = match &op {
            Op::DropTable { table } => self
                .hooks
                .iter()
                .filter_map(|hook| hook.after_drop(self.draft.state(), table))
                .collect(),
            _ => Vec::new(),
        };
        let change = if after.is_empty() {
            self.draft.push(op)?
        } else {
            // The drop and what follows it go together, or none of them does.
            let saved = self.draft.clone();
            let change = self.draft.push(op)?;
            for op in after {
                if let Err(error) = self.draft.push(op) {
                    self.draft = saved;
                    return Err(error.into());
                }
            }
            change
        };
        self.own_ops += 1;
        if let Some(change) = &change {
            self.changes.push(change.clone());
        }
        Ok(change)
    }

    /// Applies every op of `ops` now, or (on the first error) none of them: the transaction is
    /// then as it was before the call, and can go on. Returns their row changes in op order.
    ///
    /// # Errors
    /// As [`WriteTx::push`], for the first op that fails.
    pub fn push_all(&mut self, ops: impl IntoIterator<Item = Op>) -> Result<Vec<RowChange>> {
        // The draft's state is persistent, so this copy is O(tables + ops so far), and the
        // rows it shares are not copied.
        let saved = (
            self.draft.clone(),
            self.touched.len(),
            self.changes.len(),
            self.own_ops,
        );
        let mut changes = Vec::new();
        for op in ops {
            match self.push(op) {
                Ok(change) => changes.extend(change),
                Err(error) => {
                    let (draft, touched, own, own_ops) = saved;
                    self.draft = draft;
                    self.touched.truncate(touched);
                    self.changes.truncate(own);
                    self.own_ops = own_ops;
                    return Err(error);
                }
            }
        }
        Ok(changes)
    }

    /// The row of `table` with `key`, as this transaction sees it.
    ///
    /// # Errors
    /// An unknown table.
    pub fn get(&mut self, table: &str, key: &Value) -> Result<Option<RowRef>> {
        self.touch(table)?;
        Ok(self.draft.state().get(table, key)?.cloned())
    }

    /// Runs `query` on `table`, as this transaction sees it.
    ///
    /// # Errors
    /// An unknown table; the query's own errors.
    pub fn query(&mut self, table: &str, query: &Query) -> Result<QueryResult> {
        self.touch(table)?;
        Ok(self.draft.state().query(table, query)?)
    }

    /// The whole database as this transaction sees it so far (rows expired at its start are
    /// left out only in the tables it touched; [`WriteTx::get`] and [`WriteTx::query`] touch).
    #[must_use]
    pub fn state(&self) -> &State {
        self.draft.state()
    }

    /// A read view of the database as this transaction sees it so far, leaving out the rows
    /// expired at its start (as [`Engine::read`] does): a copy the caller may keep.
    #[must_use]
    pub fn view(&self) -> ReadView {
        let state = self.draft.state();
        let hidden = self
            .hooks
            .iter()
            .filter(|hook| hook.may_hide(state))
            .flat_map(|hook| hook.hidden(state, self.started))
            .collect();
        ReadView::new(state.clone(), hidden)
    }

    /// Sets the cause recorded with the transaction.
    pub fn cause(&mut self, cause: Cause) -> &mut Self {
        self.cause = Some(cause);
        self
    }

    /// The row changes of the ops pushed so far, in order.
    #[must_use]
    pub fn changes(&self) -> &[RowChange] {
        &self.changes
    }

    /// Runs the hooks' ops for `table` (time to live: deletes its expired rows) the first
    /// time the transaction touches it.
    fn touch(&mut self, table: &str) -> Result<()> {
        if self.touched.iter().any(|t| t == table) {
            return Ok(());
        }
        let max = self.draft.state().limits().max_ops_per_transaction;
        for hook in self.hooks.iter() {
            // Room for at least the op that touches the table.
            let left = max.saturating_sub(self.draft.ops().len()).saturating_sub(1);
            for op in hook.first_touch(self.draft.state(), table, self.started, left) {
                self.draft.push(op)?;
            }
        }
        self.touched.push(table.to_owned());
        Ok(())
    }
}

impl Engine {
    /// Runs `body` as one write transaction and commits what it did: serialized with every
    /// other writer, reading its own writes, all or nothing, one LSN and one cause.
    ///
    /// Returns `body`'s value and what was committed (`None` when none of `body`'s ops
    /// succeeded: nothing is logged then). An `Err` from `body`, or a panic, commits nothing; so does an
    /// error of the commit itself, which is returned.
    ///
    /// The writer lock is held while `body` runs: keep it short, and do no I/O in it that can
    /// wait long. Readers ([`Engine::read`]) are never blocked.
    ///
    /// ```
    /// use tabula_core::{Op, Row, TableDef, Value};
    /// use tabula_engine::{Engine, Error, Options};
    ///
    /// let engine = Engine::in_memory(Options::default());
    /// engine.commit(vec![Op::CreateTable(TableDef::new("accounts", "id"))])?;
    /// let account = |id: i64, balance: i64| {
    ///     Row::from([("id".to_owned(), Value::Int(id)), ("balance".to_owned(), Value::Int(balance))])
    /// };
    /// engine.commit(vec![
    ///     Op::Insert { table: "accounts".into(), row: account(1, 100) },
    ///     Op::Insert { table: "accounts".into(), row: account(2, 0) },
    /// ])?;
    ///
    /// // Move 30 from account 1 to account 2: the read and both writes are one atomic step.
    /// let (moved, committed) = engine.transaction(|tx| {
    ///     let from = tx.get("accounts", &Value::Int(1))?.expect("account 1");
    ///     let Some(Value::Int(balance)) = from.get("balance") else { unreachable!() };
    ///     let amount = balance.min(30);
    ///     for (id, delta) in [(1, -amount), (2, amount)] {
    ///         let row = tx.get("accounts", &Value::Int(id))?.expect("account");
    ///         let Some(Value::Int(b)) = row.get("balance") else { unreachable!() };
    ///         let set = Row::from([("balance".to_owned(), Value::Int(b + delta))]);
    ///         tx.push(Op::Update { table: "accounts".into(), key: Value::Int(id), set })?;
    ///     }
    ///     Ok::<_, Error>(amount)
    /// })?;
    /// assert_eq!(moved, 30);
    /// assert_eq!(committed.expect("it wrote").changes.len(), 2);
    /// assert_eq!(engine.read().get("accounts", &Value::Int(2))?.unwrap().get("balance"), Some(Value::Int(30)));
    ///
    /// // An error commits nothing.
    /// let failed = engine.transaction(|tx| {
    ///     tx.push(Op::Delete { table: "accounts".into(), key: Value::Int(1) })?;
    ///     Err::<(), _>(Error::StepFailed("changed my mind".into()))
    /// });
    /// assert!(failed.is_err());
    /// assert!(engine.read().get("accounts", &Value::Int(1))?.is_some());
    /// # Ok::<(), Error>(())
    /// ```
    ///
    /// # Errors
    /// `body`'s error; [`Error::NestedTransaction`] when called from inside another write on
    /// this engine; [`Error::Poisoned`] and the log's errors, as [`Engine::commit`].
    pub fn transaction<T, E: From<Error>>(
        &self,
        body: impl FnOnce(&mut WriteTx) -> Result<T, E>,
    ) -> Result<(T, Option<Committed>), E> {
        let inner: &Inner = &self.inner;
        inner.check_poison()?;
        let writing = Writing::enter(inner)?;
        let mut state = inner.lock_writer();
        inner.check_poison()?;
        let engine = inner.id();
        let mut tx = WriteTx {
            engine,
            hooks: Arc::clone(inner.hooks()),
            draft: Draft::new(state.clone()),
            own_ops: 0,
            started: inner.now(),
            cause: None,
            touched: Vec::new(),
            changes: Vec::new(),
        };
        let value = body(&mut tx)?;
        if tx.engine != engine || tx.draft.state().lsn() != state.lsn() {
            return Err(Error::ForeignTransaction.into());
        }
        // The caller's code ran under the lock: a commit that failed meanwhile (outside the
        // lock, waiting for its fsync) poisoned the log.
        inner.check_poison()?;
        let WriteTx {
            draft,
            cause,
            changes,
            own_ops,
            ..
        } = tx;
        if own_ops == 0 {
            return Ok((value, None));
        }
        let timestamp = inner.next_timestamp();
        let lsn = state.lsn().next();
        let (staged, logged) = draft.finish(lsn, timestamp, cause).map_err(Error::from)?;
        inner.stage(&mut state, staged, logged)?;
        drop(state);
        drop(writing);
        inner.acknowledge(lsn)?;
        Ok((
            value,
            Some(Committed {
                lsn,
                timestamp,
                changes,
            }),
        ))
    }
}
