//! [`Reclaimer`]: frees what a commit leaves behind (the state readers saw before it, states
//! that were pending behind it, and the transactions the hooks have been handed) on a thread of
//! its own, off the commit path.
//!
//! Why: a state shares every unchanged node with the next one, so freeing the old one frees
//! exactly the nodes the commit copied, one at a time, each with its rows' reference counts to
//! drop. Profiled on workload 11b (1M rows in inserts of 1,000, `perf record -g`), that freeing
//! was 12% of the writer's time, and dropping the published transactions another 9%, all of it
//! on the committing thread and part of it under the visible state's write lock, where readers
//! wait. Here it runs beside the next commit instead (Redis frees large values lazily on a
//! background thread for the same reason: `lazyfree`).
//!
//! Only commits of many ops send their leftovers there; a small commit's few copied nodes are
//! freed inline, cheaper than waking the thread (which starts with the first large commit). The
//! queue is bounded: when the thread falls behind, the committer frees the garbage itself,
//! so memory held for freeing stays bounded and a commit never blocks on the reclaimer. If the
//! thread cannot be started, everything is freed inline, as before.

use std::sync::OnceLock;
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::thread::JoinHandle;

/// Garbage waiting to be freed: anything, dropped whole on the reclaimer's thread.
type Garbage = Box<dyn Send>;

/// Commits' leftovers queued before a committer frees its own.
const QUEUE: usize = 64;

/// The ops below which a commit's leftovers are freed inline: each item sent wakes the thread,
/// a context switch (a few µs) that costs more than freeing the few nodes a small commit copied.
/// Measured with 64 writers of single-row durable commits (writers example, `perf record -e
/// sched:sched_switch`): sending every commit's leftovers made one extra switch per commit,
/// 10,200 of 47,100 for 12,800 commits.
const WORTH_A_WAKEUP: usize = 64;

/// The engine's reclaimer thread and its queue (see the module docs), started by the first
/// commit large enough to use it: most engines (in-memory caches, read-only opens, tests) never
/// need the thread.
pub(crate) struct Reclaimer {
    /// The queue and the thread, once started; `None` inside if the thread could not be.
    started: OnceLock<Option<(SyncSender<Garbage>, JoinHandle<()>)>>,
}

impl Reclaimer {
    /// A reclaimer whose thread starts when first needed.
    pub(crate) fn new() -> Reclaimer {
        Reclaimer {
            started: OnceLock::new(),
        }
    }

    /// The queue, starting the thread if this is the first use; `None` without a thread.
    fn queue(&self) -> Option<&SyncSender<Garbage>> {
        self.started
            .get_or_init(|| {
                let (queue, garbage) = mpsc::sync_channel::<Garbage>(QUEUE);
                std::thread::Builder::new()
                    .name("tabula-reclaim".into())
                    .spawn(move || {
                        // Each item is dropped as it arrives; the loop ends when the engine goes.
                        for item in garbage {
                            drop(item);
                        }
                    })
                    .ok()
                    .map(|thread| (queue, thread))
            })
            .as_ref()
            .map(|(queue, _)| queue)
    }

    /// Frees `garbage`, left by a commit of `ops` ops: on the reclaimer's thread when there is
    /// enough of it to be worth a wake-up, here otherwise (or when the queue is full).
    pub(crate) fn free<T: Send + 'static>(&self, garbage: T, ops: usize) {
        if ops < WORTH_A_WAKEUP {
            return drop(garbage);
        }
        let Some(queue) = self.queue() else {
            return drop(garbage);
        };
        match queue.try_send(Box::new(garbage)) {
            Ok(()) => {}
            Err(TrySendError::Full(garbage) | TrySendError::Disconnected(garbage)) => {
                drop(garbage);
            }
        }
    }
}

impl Drop for Reclaimer {
    /// Closes the queue and waits for the thread to free what it holds, so that an engine's
    /// memory is given back when it is dropped.
    fn drop(&mut self) {
        if let Some(Some((queue, thread))) = self.started.take() {
            drop(queue);
            // A panic while dropping garbage has nothing left to report to.
            let _ = thread.join();
        }
    }
}

impl std::fmt::Debug for Reclaimer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reclaimer")
            .field("started", &self.started.get().map(Option::is_some))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    struct Counted(Arc<AtomicUsize>);

    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn everything_given_is_freed_by_the_time_the_reclaimer_is_dropped() {
        let freed = Arc::new(AtomicUsize::new(0));
        let reclaimer = Reclaimer::new();
        // More than the queue holds: some are freed inline, none is lost.
        for i in 0..(QUEUE * 4) {
            // Large commits' leftovers and small ones' alike.
            reclaimer.free(Counted(Arc::clone(&freed)), i % 2 * WORTH_A_WAKEUP);
        }
        drop(reclaimer);
        assert_eq!(freed.load(Ordering::SeqCst), QUEUE * 4);
    }
}
