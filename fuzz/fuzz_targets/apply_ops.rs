//! Fuzz target `apply_ops`: see [`tabula_fuzz::apply_ops`] for what it checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tabula_fuzz::apply_ops::check(data));
