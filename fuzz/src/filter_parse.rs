//! `filter_parse`: [`Filter::parse`] (the `--where` language, the one parser of untrusted text
//! outside the decoders) never panics, and what it returns is consistent:
//! - an error points at a column within the text (1 to its length in characters + 1);
//! - an accepted filter that passes [`Filter::validate`] with the default limits (the parser
//!   leaves names and the total depth to core, so not every accepted filter does) evaluates on
//!   an empty row and on a row of every word in the text without panicking, and survives a JSON
//!   round trip as it is logged;
//! - parsing is deterministic.

use tabula_core::{Filter, Limits, Row, Value};

/// Runs the properties on `data` as text.
pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = Filter::parse(text);
    assert_eq!(
        parsed,
        Filter::parse(text),
        "parsing {text:?} twice differs"
    );
    let filter = match parsed {
        Ok(filter) => filter,
        Err(error) => {
            let chars = text.chars().count();
            assert!(
                (1..=chars + 1).contains(&error.column()),
                "{text:?}: column {} outside 1..={}",
                error.column(),
                chars + 1
            );
            assert!(!error.message().is_empty(), "{text:?}: an empty message");
            return;
        }
    };
    if filter.validate(&Limits::default()).is_err() {
        // A name core does not accept (the parser leaves names to core): refused when a query
        // runs, never evaluated.
        return;
    }
    let _ = filter.matches(&Row::new());
    let row: Row = text
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|word| !word.is_empty())
        .map(|word| (word.to_owned(), Value::from(word)))
        .collect();
    let _ = filter.matches(&row);
    let json = serde_json::to_string(&filter).unwrap_or_else(|e| panic!("{filter:?}: {e}"));
    let back: Filter = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{json}: {e}"));
    assert_eq!(
        back, filter,
        "{text:?}: the JSON round trip changed the filter"
    );
}
