//! The engine's background worker: one thread that runs named [`Job`]s at every tick (at most
//! [`POLICY_TICK`] apart, sooner if the checkpoint interval is shorter), as fjall's worker pool
//! names its messages. Each job's work lives with its feature; this module owns only the
//! thread, the order of the jobs and their state between ticks.
//!
//! A job that fails is retried at the next tick; its last error is kept
//! ([`Worker::last_errors`]) and reported by [`crate::Engine::stats`] until a run succeeds. The thread holds only
//! a weak handle, so it never keeps a dropped engine alive, and [`Worker::stop`] joins it.

use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::Instant;

use parking_lot::{Condvar, Mutex};

use super::Maintenance;
use crate::db::{Background, Inner, POLICY_TICK};
use crate::{Error, Result};

/// The shortest tick, whatever the checkpoint interval.
const MIN_TICK: std::time::Duration = std::time::Duration::from_millis(10);

/// A kind of background work, in the order a tick runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Job {
    /// Delete the rows whose time to live has passed (`ttl.rs`).
    ReapTtl,
    /// Copy sealed segments and snapshots to the archive directory (`archive.rs`).
    Archive,
    /// Take a checkpoint when the policy says so (`checkpoint.rs`).
    Checkpoint,
}

impl Job {
    /// The jobs `inner`'s options ask for.
    fn wanted(inner: &Inner) -> Vec<Job> {
        let mut jobs = vec![Job::ReapTtl];
        if inner.options().archive.is_some() {
            jobs.push(Job::Archive);
        }
        jobs.push(Job::Checkpoint);
        jobs
    }

    /// Runs the job once; `since` is when the last automatic checkpoint ran (or the worker
    /// started), which the checkpoint job moves.
    fn run(self, inner: &Inner, since: &mut Instant) -> Result<()> {
        match self {
            Job::ReapTtl => super::ttl::reap(inner).map(|_| ()),
            Job::Archive => {
                Maintenance::exclusive(inner, || super::archive::copy_new(inner)).map(|_| ())
            }
            Job::Checkpoint => {
                if super::checkpoint::due(inner, *since) {
                    super::checkpoint::run(inner)?;
                    *since = Instant::now();
                }
                Ok(())
            }
        }
    }
}

/// The background thread.
pub(crate) struct Worker {
    stop: Arc<(Mutex<bool>, Condvar)>,
    errors: Arc<Mutex<Vec<(Job, String)>>>,
    handle: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts the thread, unless the options turn background work off.
    pub(crate) fn start(inner: &Arc<Inner>) -> Result<Option<Worker>> {
        if !inner.options().background {
            return Ok(None);
        }
        let jobs = Job::wanted(inner);
        // A floor, so that a zero checkpoint interval cannot make the thread spin.
        let tick = inner
            .options()
            .checkpoint
            .interval
            .map_or(POLICY_TICK, |i| i.clamp(MIN_TICK, POLICY_TICK));
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let errors = Arc::new(Mutex::new(Vec::new()));
        let (thread_stop, thread_errors) = (Arc::clone(&stop), Arc::clone(&errors));
        // A weak handle: the thread must not keep the engine alive.
        let weak = Arc::downgrade(inner);
        let handle = std::thread::Builder::new()
            .name("tabula-background".to_owned())
            .spawn(move || run(&weak, &jobs, tick, &thread_stop, &thread_errors))
            .map_err(|error| Error::Io {
                op: "start the background thread for",
                path: PathBuf::new(),
                error,
            })?;
        Ok(Some(Worker {
            stop,
            errors,
            handle: Some(handle),
        }))
    }

    /// The last error of each job that failed at its last run.
    pub(crate) fn last_errors(&self) -> Vec<(Job, String)> {
        self.errors.lock().clone()
    }

    /// Stops the thread and waits for it.
    pub(crate) fn stop(mut self) {
        let (stopped, cond) = &*self.stop;
        *stopped.lock() = true;
        cond.notify_all();
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

/// The thread's loop: wait a tick (or the stop), then run every job in order.
fn run(
    weak: &Weak<Inner>,
    jobs: &[Job],
    tick: std::time::Duration,
    stop: &(Mutex<bool>, Condvar),
    errors: &Mutex<Vec<(Job, String)>>,
) {
    let (stopped, cond) = stop;
    let mut since = Instant::now();
    let mut stopped = stopped.lock();
    while !*stopped {
        let _ = cond.wait_for(&mut stopped, tick);
        if *stopped {
            return;
        }
        let Some(inner) = weak.upgrade() else { return };
        parking_lot::MutexGuard::unlocked(&mut stopped, || {
            for &job in jobs {
                // A stop asked for during the tick waits for one job at most, not all of them.
                if *stop.0.lock() {
                    return;
                }
                let result = job.run(&inner, &mut since);
                let mut last = errors.lock();
                last.retain(|(failed, _)| *failed != job);
                if let Err(error) = result {
                    last.push((job, error.to_string()));
                }
            }
        });
    }
}

impl Job {
    /// The job's name, as [`crate::Stats::background_errors`] reports it.
    fn name(self) -> &'static str {
        match self {
            Job::ReapTtl => "ReapTtl",
            Job::Archive => "Archive",
            Job::Checkpoint => "Checkpoint",
        }
    }
}

impl Background for Worker {
    fn stop(self: Box<Self>) {
        Worker::stop(*self);
    }

    fn errors(&self) -> Vec<(&'static str, String)> {
        self.last_errors()
            .into_iter()
            .map(|(job, error)| (job.name(), error))
            .collect()
    }
}
