//! Fuzz target `timestamp_parse`: see [`tabula_fuzz::timestamp_parse`] for what it checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tabula_fuzz::timestamp_parse::check(data));
