//! Fuzz target `snapshot_read`: see [`tabula_fuzz::snapshot_read`] for what it checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tabula_fuzz::snapshot_read::check(data));
