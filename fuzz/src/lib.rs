//! The checks behind tabula's cargo-fuzz targets, one module per target (the three `decode_*`
//! targets share [`decode`], one function each).
//!
//! Each target binary in `fuzz_targets/` is one line that calls a check here. Every check asserts
//! properties of what it decodes (round trips, order laws, agreement with a model), so a run finds
//! wrong answers and not only panics. A failing assertion prints what was decoded; libFuzzer saves
//! the input under `fuzz/artifacts/<target>/`.

pub mod apply_ops;
pub mod decode;
pub mod detect;
pub mod engine_model;
pub mod filter_parse;
pub mod json_sources;
pub mod snapshot_read;
pub mod timestamp_parse;
pub mod value_order;
pub mod wal_recover;
