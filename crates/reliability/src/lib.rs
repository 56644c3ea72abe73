//! `tabula-reliability`: tabula's reliability suite, measured. Each part drives the real engine
//! and checks it against what it acknowledged:
//!
//! - [`sim`]: crash points of a deterministic simulation on the fault-injecting disk;
//! - [`faults`]: I/O errors at every operation in turn, once and for good, EIO, fsync and ENOSPC;
//! - [`bytes`]: every cut and every changed byte of every log segment and snapshot;
//! - [`kill`]: SIGKILLs of a real child process committing, checkpointing and backing up;
//! - [`concurrency`]: readers, writers, checkpoints, subscribers and backups at once;
//! - [`operator`]: clocks that jump, deleted log segments and `wal/`, read-only files;
//! - [`builds`]: SIGKILLs of a child restoring, loading or exporting: nothing or the whole result;
//! - [`suite`]: the parts at the CI and full sizes, and RELIABILITY.md from a run.
//!
//! `cargo xtask reliability` runs the full suite plus the fuzz targets and writes RELIABILITY.md;
//! this crate's tests run it at the CI size. Every failure carries a one-line command that
//! replays it (`cargo run --release -p tabula-reliability -- …`).
//!
//! The planted bugs of `tabula_wal::planted` prove the suite can fail: `tests/planted.rs` turns
//! each on and expects the crash sweep to report lost acknowledged commits.

#![deny(missing_docs)]

pub mod builds;
pub mod bytes;
pub mod concurrency;
pub mod faults;
pub mod kill;
pub mod operator;
pub mod rng;
pub mod sim;
pub mod suite;
pub mod tally;
pub mod workload;

pub use tally::{Failure, Tally};
