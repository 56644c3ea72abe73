//! Fuzz target `detect`: see [`tabula_fuzz::detect`] for what it checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tabula_fuzz::detect::check(data));
