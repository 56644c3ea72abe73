//! Work that keeps the database in shape beside the commits: checkpoints (`checkpoint.rs`),
//! continuous archiving (`archive.rs`), time to live (`ttl.rs`), the background worker that
//! runs them as named jobs (`worker.rs`), and the offline check and repair of a directory
//! (`check.rs`). [`Maintenance`] is their state in the hub.

pub(crate) mod archive;
pub(crate) mod check;
pub(crate) mod checkpoint;
pub(crate) mod ttl;
pub(crate) mod worker;

use crate::db::{Hook, Inner, Level, OrderedMutex};
use crate::{Error, Result};
use checkpoint::CheckpointInfo;

/// The maintenance state an engine keeps: one job at a time, and the last checkpoint.
#[derive(Debug)]
pub(crate) struct Maintenance {
    /// Held by a checkpoint or an archive copy, so that they never overlap.
    one: OrderedMutex<()>,
    /// The last checkpoint taken since open.
    last_checkpoint: OrderedMutex<Option<CheckpointInfo>>,
}

impl Default for Maintenance {
    fn default() -> Self {
        Maintenance {
            one: OrderedMutex::new(Level::Maintenance, ()),
            last_checkpoint: OrderedMutex::new(Level::Leaf, None),
        }
    }
}

impl Hook for Maintenance {}

impl Maintenance {
    /// `inner`'s maintenance state.
    ///
    /// # Errors
    /// [`Error::Bug`] if the engine was built without it (`open.rs` always installs it).
    pub(crate) fn of(inner: &Inner) -> Result<&Maintenance> {
        inner.part::<Maintenance>().ok_or_else(|| Error::Bug {
            what: "the engine has no maintenance state".to_owned(),
        })
    }

    /// Runs `job` as the one maintenance job of `inner` running.
    pub(crate) fn exclusive<T>(inner: &Inner, job: impl FnOnce() -> Result<T>) -> Result<T> {
        let this = Maintenance::of(inner)?;
        let _one = inner.lock(&this.one);
        job()
    }

    /// The last checkpoint taken since open.
    pub(crate) fn last_checkpoint(inner: &Inner) -> Option<CheckpointInfo> {
        let this = inner.part::<Maintenance>()?;
        inner.lock(&this.last_checkpoint).clone()
    }

    /// Records a checkpoint taken.
    pub(crate) fn set_last_checkpoint(inner: &Inner, info: CheckpointInfo) -> Result<()> {
        let this = Maintenance::of(inner)?;
        *inner.lock(&this.last_checkpoint) = Some(info);
        Ok(())
    }
}
