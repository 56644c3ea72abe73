//! [`Hook`]: how a feature takes part in the hub's commits, reads and publishing without the hub
//! knowing it, as lsm-tree's compaction filter makes TTL a plug-in. The composition root
//! (`open.rs`) installs the hooks when the engine is built; a feature finds its own hook (and
//! the state it keeps there) again with [`Inner::part`](super::Inner::part).
//!
//! Every method has a default that does nothing, so a hook implements only what it needs: time
//! to live adds deletes around commits and hides expired rows from reads; the change feed
//! receives published transactions; the checkpoint state only lives here.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use tabula_core::{Filter, Op, State, Timestamp, Transaction};

use super::Inner;

/// A part of the engine that the hub calls at fixed points.
pub(crate) trait Hook: Any + fmt::Debug + Send + Sync {
    /// The ops a commit of the caller's `ops` on `db` at `at` runs around them, in the same
    /// transaction: at most `room` before them, any after. The hub gives the caller back the
    /// changes of its own ops only.
    fn around(&self, db: &State, ops: &[Op], at: Timestamp, room: usize) -> Around {
        let _ = (db, ops, at, room);
        Around::default()
    }

    /// The ops (at most `room`) an interactive transaction that started at `at` runs before it
    /// first reads or writes `table`, as a commit runs [`Hook::around`]'s `before`.
    fn first_touch(&self, db: &State, table: &str, at: Timestamp, room: usize) -> Vec<Op> {
        let _ = (db, table, at, room);
        Vec::new()
    }

    /// The op that must follow a drop of `table` in an interactive transaction (`db` is the
    /// state before the drop), as a commit runs [`Hook::around`]'s `after`.
    fn after_drop(&self, db: &State, table: &str) -> Option<Op> {
        let _ = (db, table);
        None
    }

    /// Whether a read of `db` may leave rows out: only then does the hub read the clock and
    /// ask [`Hook::hidden`], so that a read stays O(1) and clock-free without such rows.
    fn may_hide(&self, db: &State) -> bool {
        let _ = db;
        false
    }

    /// The rows a read of `db` at `at` leaves out: per table, a filter matching them.
    fn hidden(&self, db: &State, at: Timestamp) -> Vec<Hidden> {
        let _ = (db, at);
        Vec::new()
    }

    /// Whether [`Hook::published`] would do anything now: without any listener the hub skips
    /// wrapping the transactions.
    fn listening(&self) -> bool {
        false
    }

    /// Transactions of `inner` that just became visible, in LSN order. Called with the
    /// pending states' lock held: it must not block.
    fn published(&self, inner: &Inner, transactions: &[Arc<Transaction>]) {
        let _ = (inner, transactions);
    }
}

/// The ops a [`Hook`] runs around a commit.
#[derive(Debug, Default)]
pub(crate) struct Around {
    /// Before the caller's ops.
    pub(crate) before: Vec<Op>,
    /// After them.
    pub(crate) after: Vec<Op>,
}

/// Rows of one table a read leaves out.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Hidden {
    /// The table.
    pub(crate) table: String,
    /// Matches the rows left out.
    pub(crate) rows: Filter,
}
