//! Fuzz target `engine_model`: see [`tabula_fuzz::engine_model`] for what it checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tabula_fuzz::engine_model::check(data));
