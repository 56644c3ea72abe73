//! Fuzz target `wal_recover`: see [`tabula_fuzz::wal_recover`] for what it checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tabula_fuzz::wal_recover::check(data));
