//! Mistakes the derive refuses at compile time, each with a message that names the field
//! (issue 26: `auto_increment` on a plain integer compiled and stored key 0; serde attributes
//! that change what is stored compiled and failed at run time). The expected messages are in
//! `tests/compile_fail/*.stderr` (regenerate with `TRYBUILD=overwrite` after reading them).

#[test]
fn the_derive_refuses_what_would_fail_at_run_time() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/compile_fail/*.rs");
}
