//! [`Draft`]: a transaction written op by op against a state, each op applied as it is added,
//! so that whoever writes it reads its own writes (an interactive write transaction).
//!
//! The invariant that makes a draft safe to log: finishing a draft gives exactly the state that
//! [`State::apply`] of the draft's [`Transaction`] gives on the same base. `apply` applies ops
//! one after another, each seeing the ones before it, and a draft does the same; an op that
//! fails changes nothing and is not kept, so the logged transaction holds only the ops that
//! succeeded (as a failed statement inside an SQLite transaction leaves the transaction going).
//!
//! Core holds no locks: the engine keeps the base from changing while a draft is open.

use crate::error::Error;
use crate::op::{Cause, Lsn, Op, Transaction};
use crate::state::State;
use crate::table::RowChange;
use crate::value::Timestamp;

/// A transaction being written against a state.
///
/// ```
/// use tabula_core::{State, Draft, Lsn, Op, Row, TableDef, Timestamp, Value};
///
/// let base = State::new();
/// let mut draft = Draft::new(base.clone());
/// draft.push(Op::CreateTable(TableDef::new("t", "id")))?;
/// let row = Row::from([("id".to_owned(), Value::Int(1)), ("n".to_owned(), Value::Int(5))]);
/// draft.push(Op::Insert { table: "t".into(), row: row.clone() })?;
/// // It reads its own writes.
/// assert_eq!(draft.state().get("t", &Value::Int(1))?.unwrap().get("n"), Some(Value::Int(5)));
/// // A failing op changes nothing and is not kept.
/// assert!(draft.push(Op::Insert { table: "t".into(), row }).is_err());
/// assert_eq!(draft.ops().len(), 2);
///
/// let (state, tx) = draft.finish(Lsn(1), Timestamp::EPOCH, None)?;
/// let mut replayed = base;
/// replayed.apply(&tx)?;
/// assert_eq!(replayed, state);
/// # Ok::<(), tabula_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Draft {
    state: State,
    ops: Vec<Op>,
}

impl Draft {
    /// A draft on `base` (an O(1) copy of a database), with no ops yet.
    #[must_use]
    pub fn new(base: State) -> Draft {
        Draft {
            state: base,
            ops: Vec::new(),
        }
    }

    /// The state with every op so far applied; its LSN is still the base's.
    #[must_use]
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The ops that succeeded so far, in order.
    #[must_use]
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    /// Applies `op` and keeps it. Returns the row it changed (`None` for table-level ops).
    ///
    /// # Errors
    /// The op's error, as [`State::apply`] would give it, or [`Error::LimitExceeded`] past
    /// [`crate::Limits::max_ops_per_transaction`] ops; the draft is unchanged then.
    pub fn push(&mut self, op: Op) -> Result<Option<RowChange>, Error> {
        let limit = self.state.limits().max_ops_per_transaction;
        if self.ops.len() >= limit {
            return Err(Error::LimitExceeded {
                what: "ops in a transaction".into(),
                limit,
                actual: self.ops.len().saturating_add(1),
            });
        }
        let change = self.state.apply_draft_op(&op)?;
        self.ops.push(op);
        Ok(change)
    }

    /// The state and the transaction to log, at `lsn`.
    ///
    /// # Errors
    /// [`Error::LsnNotIncreasing`] if `lsn` is not after the base's LSN.
    pub fn finish(
        self,
        lsn: Lsn,
        timestamp: Timestamp,
        cause: Option<Cause>,
    ) -> Result<(State, Transaction), Error> {
        let Draft { mut state, ops } = self;
        if lsn <= state.lsn() {
            return Err(Error::LsnNotIncreasing {
                last: state.lsn(),
                got: lsn,
            });
        }
        state.set_lsn(lsn);
        let tx = Transaction {
            lsn,
            timestamp,
            cause,
            ops,
        };
        Ok((state, tx))
    }
}
