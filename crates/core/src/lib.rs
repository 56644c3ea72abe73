//! `tabula-core`: tabula's pure in-memory data model.
//!
//! This crate owns what a database *is*, independent of how it is stored: [`Value`]s and their
//! total order, [`TableDef`]s with optional [`Schema`]s and [`IndexDef`]s, [`TableState`]s with their
//! indexes kept in step, [`Filter`]s and [`Query`]s with a small planner, and the [`Op`]s and
//! [`Transaction`]s that are the only way a [`State`] changes.
//!
//! It does no I/O, starts no threads and reads no clock: [`State::apply`] is a deterministic
//! function of the state and the transaction, which is what lets the write-ahead log, recovery,
//! time travel and the change feed replay history exactly. Encoding lives in `tabula-codec`,
//! durability in `tabula-wal` and `tabula-snapshot`, concurrency in `tabula-engine`.
//!
//! State is held in `imbl` persistent maps, so cloning a [`State`] for a reader or a snapshot
//! is O(1) and copies no rows; a writer then copies only the tree nodes it changes.
//!
//! ```
//! use tabula_core::{State, Lsn, Op, TableDef, Timestamp, Transaction, Value};
//!
//! let mut db = State::new();
//! let tx = Transaction::new(Lsn(1), Timestamp::EPOCH)
//!     .with(Op::CreateTable(TableDef::new("users", "id")))
//!     .with(Op::Insert {
//!         table: "users".into(),
//!         row: [("id".into(), Value::Int(1)), ("name".into(), Value::from("Alice"))].into(),
//!     });
//! db.apply(&tx).unwrap();
//! assert_eq!(db.get("users", &Value::Int(1)).unwrap().unwrap().get("name"), Some(Value::from("Alice")));
//! ```

#![deny(missing_docs)]

mod draft;
mod error;
mod filter;
mod hashed;
mod index;
mod key;
mod limits;
mod op;
mod path;
mod query;
mod row;
mod schema;
mod state;
mod table;
mod value;

pub use draft::Draft;
pub use error::{Error, NameKind};
pub use filter::{Filter, ParseFilterError};
pub use index::Index;
pub use limits::Limits;
pub use op::{Cause, Lsn, Op, SchemaChange, Transaction};
pub use path::Path;
pub use query::{OrderBy, Plan, Query, QueryResult};
pub use row::{Fields, MAX_NAMES, Names, RowRef, from_row_ref};
pub use schema::{Column, ColumnType, IndexDef, Schema, TableDef};
pub use state::State;
pub use table::{RowChange, RowDiff, TableMemory, TableState};
pub use value::{
    ConvertError, ParseTimestampError, from_map_ref, from_value, to_value, wide_json_integer,
};
pub use value::{Map, Measure, Row, StrictRow, Timestamp, TypeClass, Value};
