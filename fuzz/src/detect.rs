//! `detect`: [`Codec::detect`] never panics, a format it names reads the input, and it names the
//! format its documentation promises.
//!
//! The whole input is detected as a stream of `Value`, `Transaction`, `Row` and `TableDef`
//! records, with the default limits. For each the check asserts:
//! - `detect` returns `Ok` or `Err`, never panics;
//! - when it returns `Ok(format)`, `Codec::new(format).slice_reader(bytes).read()` gives a record;
//! - it agrees with the rule it documents, computed here from the slice readers: a format is a
//!   candidate when the first record decodes in it; when several are, those that decode the whole
//!   input remain; `detect` names a format exactly when one remains, and that one.

use tabula_codec::{Codable, Codec, CodecLimits, Format};
use tabula_core::{Row, TableDef, Transaction, Value};

/// Detects `data` as each record type and checks the result.
pub fn check(data: &[u8]) {
    check_as::<Value>(data, "Value");
    check_as::<Transaction>(data, "Transaction");
    check_as::<Row>(data, "Row");
    check_as::<TableDef>(data, "TableDef");
}

fn check_as<T: Codable>(data: &[u8], ty: &str) {
    let limits = CodecLimits::default();
    let detected = Codec::detect::<T>(data, limits);
    if let Ok(format) = &detected {
        let first = Codec::new(*format)
            .with_limits(limits)
            .slice_reader(data)
            .read::<T>();
        assert!(
            matches!(first, Ok(Some(_))),
            "{ty}: detected as {format}, but its first record does not read: {:?}",
            first.map(|r| r.is_some())
        );
    }

    // The documented rule, from the readers themselves.
    let codec = |format| Codec::new(format).with_limits(limits);
    let candidates: Vec<Format> = Format::ALL
        .into_iter()
        .filter(|&f| matches!(codec(f).slice_reader(data).read::<T>(), Ok(Some(_))))
        .collect();
    let remaining: Vec<Format> = if candidates.len() > 1 {
        candidates
            .iter()
            .copied()
            .filter(|&f| codec(f).slice_reader(data).iter::<T>().all(|r| r.is_ok()))
            .collect()
    } else {
        candidates.clone()
    };
    match (&detected, remaining.as_slice()) {
        (Ok(format), [one]) => assert_eq!(
            format, one,
            "{ty}: detected as {format}, but only {one} fits (first record decodes in \
             {candidates:?})"
        ),
        (Ok(format), _) => panic!(
            "{ty}: detected as {format}, but the first record decodes in {candidates:?} and the \
             whole input in {remaining:?}"
        ),
        (Err(e), [one]) => panic!(
            "{ty}: only {one} fits (first record decodes in {candidates:?}), but detection \
             fails: {e}"
        ),
        (Err(_), _) => {}
    }
}
