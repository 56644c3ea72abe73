//! Planted bugs: switches that make the log break its own contract on purpose, so that the
//! reliability suite (`crates/reliability`) can prove it notices. Compiled only with the
//! `planted-bugs` feature, and even then off until a test turns one on; without the feature
//! `active` is a constant `false` the compiler removes.

#[cfg(feature = "planted-bugs")]
use std::sync::atomic::{AtomicU8, Ordering};

/// A bug the log can be told to have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
#[non_exhaustive]
pub enum Bug {
    /// A commit is acknowledged without its fsync (`sync_data` of the segment is skipped).
    AckBeforeFsync = 1,
    /// A new segment's name is not made durable (the directory fsync after the rename is skipped).
    SkipRotationDirSync = 2,
}

#[cfg(feature = "planted-bugs")]
static PLANTED: AtomicU8 = AtomicU8::new(0);

/// Turns `bug` on (`Some`) or every bug off (`None`), for the whole process.
#[cfg(feature = "planted-bugs")]
pub fn plant(bug: Option<Bug>) {
    PLANTED.store(bug.map_or(0, |bug| bug as u8), Ordering::SeqCst);
}

/// Whether `bug` is planted.
#[cfg(feature = "planted-bugs")]
pub(crate) fn active(bug: Bug) -> bool {
    PLANTED.load(Ordering::Relaxed) == bug as u8
}

/// Whether `bug` is planted: never, without the `planted-bugs` feature.
#[cfg(not(feature = "planted-bugs"))]
pub(crate) const fn active(_bug: Bug) -> bool {
    false
}
