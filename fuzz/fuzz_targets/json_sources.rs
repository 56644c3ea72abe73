//! Fuzz target `json_sources`: see [`tabula_fuzz::json_sources`] for what it checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tabula_fuzz::json_sources::check(data));
