//! Fuzz target `filter_parse`: see [`tabula_fuzz::filter_parse`] for what it checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tabula_fuzz::filter_parse::check(data));
