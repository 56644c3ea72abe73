//! [`Error`]: everything the `tabula` crate can fail with. The engine's errors (and through them
//! the data model's, the log's and the snapshots') come whole in [`Error::Engine`]; the typed
//! layer adds conversion and schema errors that name the table and field.

/// What went wrong.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use tabula::{Database, Error, Record};
///
/// #[derive(Serialize, Deserialize, Record)]
/// struct User {
///     #[tabula(primary_key)]
///     id: i64,
///     #[tabula(unique)]
///     email: String,
/// }
///
/// let db = Database::open_in_memory();
/// let users = db.table::<User>()?;
/// users.insert(&User { id: 1, email: "a@x".into() })?;
/// match users.insert(&User { id: 2, email: "a@x".into() }) {
///     Err(Error::Engine(e)) => assert!(e.to_string().contains("unique")),
///     other => panic!("{:?}", other.map(|_| ())),
/// }
/// # Ok::<(), Error>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The engine's error: a refused transaction, I/O, corruption, ...
    #[error(transparent)]
    Engine(#[from] tabula_engine::Error),
    /// A record did not convert to a row, or a row to a record.
    #[error("table {table:?}: {message}")]
    Convert {
        /// The table.
        table: String,
        /// What did not convert, in serde's words.
        message: String,
    },
    /// The struct and the stored table differ: a migration is needed.
    #[error("table {table:?} does not match its struct at {field:?}: {detail}")]
    SchemaMismatch {
        /// The table.
        table: String,
        /// The field (or `primary key`, `index <name>`, ...) that differs.
        field: String,
        /// How it differs and what migration would fix it.
        detail: String,
    },
    /// [`crate::Database::close`] while other handles (clones, tables) still use it.
    #[error("the database has {handles} other open handles (clones or tables); drop them first")]
    InUse {
        /// How many.
        handles: usize,
    },
    /// A compare-and-set (`update_if`, `delete_if`) found the row changed since the caller
    /// read it (or gone): nothing was written. Read it again and retry.
    #[error(
        "table {table:?}: the row with key {key} changed since it was read; nothing was written"
    )]
    Conflict {
        /// The table.
        table: String,
        /// The row's key.
        key: tabula_core::Value,
        /// The row as it is now (`None` if there is none), as the table stores it.
        current: Option<Box<tabula_core::Row>>,
    },
    /// A transaction's closure gave up ([`Error::abort`]): nothing was committed.
    /// The reason is the caller's own error, whose own causes are in its `source()` chain, so
    /// it is this error's source (and not repeated in its message).
    #[error("the transaction was aborted")]
    Aborted(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
    /// A call run on the async runtime's blocking pool did not finish (it panicked, or the
    /// runtime shut down).
    #[error("a background task failed: {0}")]
    Background(String),
}

impl Error {
    /// The error a [`crate::Database::transaction`] closure returns to give up for its own
    /// reason (a message or any error): nothing is committed, and the reason is the
    /// [`Error::Aborted`]'s source.
    ///
    /// ```
    /// use tabula::{Database, Error};
    /// let db = Database::open_in_memory();
    /// let result: Result<(), Error> = db.transaction(|_| Err(Error::abort("not today")));
    /// let Err(Error::Aborted(reason)) = result else { panic!("aborted") };
    /// assert_eq!(reason.to_string(), "not today");
    /// ```
    pub fn abort(reason: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Error {
        Error::Aborted(reason.into())
    }
}

impl From<tabula_core::Error> for Error {
    fn from(error: tabula_core::Error) -> Self {
        Error::Engine(error.into())
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
