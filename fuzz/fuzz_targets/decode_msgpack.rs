//! Fuzz target `decode_msgpack`: see [`tabula_fuzz::decode`] for what it checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tabula_fuzz::decode::msgpack(data));
