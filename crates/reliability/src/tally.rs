//! [`Tally`]: what one part of the suite tried and what it found, as the report prints it.

use serde::{Deserialize, Serialize};

/// Counts of one part of the suite, and its failures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    /// What was tried, by name (for example `"crash points"`, `"images checked"`).
    pub counts: Vec<(String, u64)>,
    /// Each failure: what broke and the one-line command that replays it.
    pub failures: Vec<Failure>,
    /// Panics caught (each is also a failure).
    pub panics: u64,
    /// Seconds the part took.
    pub seconds: f64,
}

/// One broken guarantee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// What broke.
    pub what: String,
    /// The command that replays it.
    pub replay: String,
}

/// How many failures a tally keeps in full (the count goes on).
const KEEP_FAILURES: usize = 20;

impl Tally {
    /// Adds `n` to the count `name`.
    pub fn add(&mut self, name: &str, n: u64) {
        match self.counts.iter_mut().find(|(count, _)| count == name) {
            Some((_, value)) => *value += n,
            None => self.counts.push((name.to_owned(), n)),
        }
    }

    /// The count `name` (0 if never added).
    #[must_use]
    pub fn count(&self, name: &str) -> u64 {
        self.counts
            .iter()
            .find(|(count, _)| count == name)
            .map_or(0, |(_, value)| *value)
    }

    /// Records a failure.
    pub fn fail(&mut self, what: impl Into<String>, replay: impl Into<String>) {
        self.add("failures", 1);
        if self.failures.len() < KEEP_FAILURES {
            self.failures.push(Failure {
                what: what.into(),
                replay: replay.into(),
            });
        }
    }

    /// Adds another tally's counts and failures to this one.
    pub fn merge(&mut self, other: Tally) {
        for (name, n) in other.counts {
            self.add(&name, n);
        }
        for failure in other.failures {
            if self.failures.len() < KEEP_FAILURES {
                self.failures.push(failure);
            }
        }
        self.panics += other.panics;
        self.seconds += other.seconds;
    }

    /// Whether nothing failed.
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.count("failures") == 0 && self.panics == 0
    }
}

/// Runs `f`, turning a panic into `Err` with its message.
pub(crate) fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "a panic".to_owned())
    })
}
