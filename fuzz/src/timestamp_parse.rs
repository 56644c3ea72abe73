//! `timestamp_parse`: `Timestamp::from_str` never panics, and what it accepts prints back to text
//! that parses to the same instant.
//!
//! Two properties, on two views of the input:
//! - the input as text: if it parses, `to_string` parses back to the same `Timestamp`, and printing
//!   that again gives the same text (the printed form is canonical);
//! - the first 8 bytes as microseconds: every `Timestamp`, including those outside years
//!   0000..=9999 that print as `@<micros>`, survives `to_string` and `parse`.

use std::str::FromStr;

use tabula_core::Timestamp;

/// Runs both properties on `data`.
pub fn check(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        check_text(text);
    }
    if let Some(bytes) = data.first_chunk::<8>() {
        round_trip(Timestamp::from_micros(i64::from_le_bytes(*bytes)), "micros");
    }
}

fn check_text(text: &str) {
    let Ok(parsed) = Timestamp::from_str(text) else {
        return;
    };
    let printed = round_trip(parsed, text);
    // Accepted text that is already canonical must print as itself.
    if printed == text {
        return;
    }
    // Every accepted spelling of the same instant agrees: the separator and the `Z` may be lower
    // case, the date-time separator a space (RFC 3339 section 5.6 note).
    let variant: String = text
        .char_indices()
        .map(|(i, c)| match (i, c) {
            (10, 't' | ' ') => 'T',
            (_, 'z') => 'Z',
            _ => c,
        })
        .collect();
    if let Ok(again) = Timestamp::from_str(&variant) {
        assert_eq!(
            again, parsed,
            "{text:?} and {variant:?} differ only in letter case or separator but parse differently"
        );
    }
}

/// Prints `t`, parses the text back and asserts it is `t`; returns the text.
fn round_trip(t: Timestamp, from: &str) -> String {
    let printed = t.to_string();
    let back = Timestamp::from_str(&printed).unwrap_or_else(|e| {
        panic!("{t:?} (from {from:?}) prints as {printed:?}, which does not parse: {e}")
    });
    assert_eq!(
        back, t,
        "{t:?} (from {from:?}) prints as {printed:?}, which parses to {back:?}"
    );
    let reprinted = back.to_string();
    assert_eq!(
        reprinted, printed,
        "{t:?} printed twice gives {printed:?} then {reprinted:?}"
    );
    printed
}
