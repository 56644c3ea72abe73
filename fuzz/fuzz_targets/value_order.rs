//! Fuzz target `value_order`: see [`tabula_fuzz::value_order`] for what it checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tabula_fuzz::value_order::check(data));
