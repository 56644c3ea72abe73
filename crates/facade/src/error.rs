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

/// What kind of failure an [`Error`] is, for callers that act on it without matching the
/// layers underneath ([`Error::kind`]). Like `std::io::ErrorKind`, new kinds may be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A row with that primary key exists already.
    DuplicateKey,
    /// A unique column already holds that value in another row.
    UniqueViolation,
    /// A compare-and-set found the row changed since it was read, or a repair found the
    /// database changed since its check.
    Conflict,
    /// No such table, column, index, tag or row.
    NotFound,
    /// The call or its data does not fit: a schema, a name, a filter, an option or a limit.
    Invalid,
    /// Another process (or handle) has the database open for writing, or handles are in use.
    Busy,
    /// The database is open read-only.
    ReadOnly,
    /// A point in history that is no longer kept, or not yet committed.
    History,
    /// Damage on disk: a checksum, a missing log segment, a MANIFEST that does not read.
    Corrupted,
    /// A file operation failed, the disk is full, or a sync failed (the engine then refuses
    /// writes until reopened).
    Io,
    /// A transaction's closure gave up ([`Error::abort`]).
    Aborted,
    /// Anything else (a tabula bug among them).
    Other,
}

impl Error {
    /// What kind of failure this is.
    ///
    /// ```
    /// use serde::{Deserialize, Serialize};
    /// use tabula::{Database, ErrorKind, Record};
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
    /// let again = users.insert(&User { id: 1, email: "b@x".into() }).unwrap_err();
    /// assert_eq!(again.kind(), ErrorKind::DuplicateKey);
    /// let taken = users.insert(&User { id: 2, email: "a@x".into() }).unwrap_err();
    /// assert!(taken.is_unique_violation());
    /// # Ok::<(), tabula::Error>(())
    /// ```
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Engine(error) => engine_kind(error),
            Error::Convert { .. } | Error::SchemaMismatch { .. } => ErrorKind::Invalid,
            Error::InUse { .. } => ErrorKind::Busy,
            Error::Conflict { .. } => ErrorKind::Conflict,
            Error::Aborted(_) => ErrorKind::Aborted,
            Error::Background(_) => ErrorKind::Other,
        }
    }

    /// True when a value that must be unique is taken: a duplicate primary key or a value of a
    /// unique column (SQLite's `SQLITE_CONSTRAINT_PRIMARYKEY` and `_UNIQUE`).
    #[must_use]
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self.kind(),
            ErrorKind::DuplicateKey | ErrorKind::UniqueViolation
        )
    }

    /// True for [`ErrorKind::Conflict`]: read again and retry.
    #[must_use]
    pub fn is_conflict(&self) -> bool {
        self.kind() == ErrorKind::Conflict
    }

    /// True for [`ErrorKind::NotFound`].
    #[must_use]
    pub fn is_not_found(&self) -> bool {
        self.kind() == ErrorKind::NotFound
    }
}

fn core_kind(error: &tabula_core::Error) -> ErrorKind {
    use tabula_core::Error as E;
    match error {
        E::DuplicateKey { .. } => ErrorKind::DuplicateKey,
        E::UniqueViolation { .. } => ErrorKind::UniqueViolation,
        E::UnknownTable { .. }
        | E::UnknownColumn { .. }
        | E::UnknownIndex { .. }
        | E::KeyNotFound { .. } => ErrorKind::NotFound,
        _ => ErrorKind::Invalid,
    }
}

fn engine_kind(error: &tabula_engine::Error) -> ErrorKind {
    use tabula_engine::Error as E;
    match error {
        E::Rejected(core) => core_kind(core),
        E::Wal(wal) => match wal {
            tabula_wal::Error::Corrupted { .. } | tabula_wal::Error::TornTail { .. } => {
                ErrorKind::Corrupted
            }
            tabula_wal::Error::AlreadyOpen { .. } => ErrorKind::Busy,
            tabula_wal::Error::Pruned { .. } => ErrorKind::History,
            tabula_wal::Error::InvalidOption(_) | tabula_wal::Error::RecordTooLarge { .. } => {
                ErrorKind::Invalid
            }
            _ => ErrorKind::Io,
        },
        E::Snapshot(snapshot) => match snapshot {
            tabula_snapshot::Error::Io { .. } => ErrorKind::Io,
            tabula_snapshot::Error::NotFound { .. } => ErrorKind::NotFound,
            tabula_snapshot::Error::InvalidOption(_) => ErrorKind::Invalid,
            _ => ErrorKind::Corrupted,
        },
        E::AlreadyOpen { .. } => ErrorKind::Busy,
        E::Manifest { .. }
        | E::MissingSegments { .. }
        | E::LogEndsEarly { .. }
        | E::LogGap { .. }
        | E::Replay { .. }
        | E::EmptyArchive { .. } => ErrorKind::Corrupted,
        E::ChangedSinceCheck { .. } => ErrorKind::Conflict,
        E::Io { .. } | E::Poisoned { .. } => ErrorKind::Io,
        E::Pruned { .. } | E::NotCommitted { .. } | E::Lagged { .. } => ErrorKind::History,
        E::UnknownTag { .. } => ErrorKind::NotFound,
        E::ReadOnly { .. } => ErrorKind::ReadOnly,
        E::Bug { .. } => ErrorKind::Other,
        _ => ErrorKind::Invalid,
    }
}

impl From<tabula_core::Error> for Error {
    fn from(error: tabula_core::Error) -> Self {
        Error::Engine(error.into())
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
