//! The engine and other files: whole-database files in any codec and table exports
//! (`files.rs`), and other databases' saved state read in (`sources.rs`: DictDB, DeltaTraceDB,
//! tabula's own files).

pub(crate) mod files;
pub(crate) mod sources;
