//! `tabula-engine`: a database a program opens on a directory and uses from many threads.
//!
//! **Status: skeleton.** Its contents arrive with the engine and history issues. It will compose
//! `tabula-core`, `tabula-codec`, `tabula-wal` and `tabula-snapshot`:
//!
//! - `Engine::open(dir, options)`: directory layout, the directory lock, recovery (newest valid
//!   snapshot plus log replay) with a recovery report, and an in-memory mode;
//! - the commit path: validate and apply against the current state, append to the log, publish;
//!   concurrent committers share fsyncs through the log's group commit;
//! - readers that never block writers, each seeing one LSN;
//! - background checkpoints from an O(1) state copy, and log retention after them;
//! - time travel, history and audit causes, tags, diff, rollback, the change feed, backups,
//!   migrations and TTL.

#![deny(missing_docs)]
