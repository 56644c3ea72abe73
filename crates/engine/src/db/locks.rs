//! The engine's locks and their order. Every lock of one engine has a [`Level`]; a thread may
//! only take a lock at a higher level than every lock of the same engine it already holds, so
//! no two threads can wait for each other. Debug builds (every test) assert it at each
//! acquisition, naming both locks; release builds pay nothing.
//!
//! The order, outermost first:
//!
//! | level | lock | taken for |
//! |---|---|---|
//! | [`Level::Writer`] | the writers' state; serializes commits | `db/inner.rs` |
//! | [`Level::Maintenance`] | one checkpoint or archive copy at a time | `maintenance/` |
//! | [`Level::Pending`] | states accepted but not yet visible | publishing |
//! | [`Level::Visible`] | what readers see | reads, publishing |
//! | [`Level::Feed`] | the change feed's live subscribers | `history/feed.rs` |
//! | [`Level::Leaf`] | small state nothing else is taken under (poison, last checkpoint) | |
//!
//! Two engines' locks are unrelated (a transaction on one may commit to another); the
//! thread-local record keys each held lock by its engine.

use std::ops::{Deref, DerefMut};

use parking_lot::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// A lock's place in the order: a thread takes locks in increasing level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    /// The writers' state (held through an interactive transaction's closure, which may take a
    /// checkpoint).
    Writer,
    /// One maintenance job (checkpoint, archive copy) at a time.
    Maintenance,
    /// The pending states.
    Pending,
    /// The visible state.
    Visible,
    /// The change feed's subscribers.
    Feed,
    /// Taken last, with nothing taken under it.
    Leaf,
}

#[cfg(debug_assertions)]
mod held {
    use std::cell::RefCell;

    use super::Level;

    thread_local! {
        /// The locks this thread holds: (engine, level), in the order taken.
        static HELD: RefCell<Vec<(usize, Level)>> = const { RefCell::new(Vec::new()) };
    }

    /// Records that the thread takes `level` of `engine`, asserting the order.
    #[expect(
        clippy::panic,
        reason = "debug builds only: a lock taken out of order is a tabula bug that could deadlock"
    )]
    pub(super) fn enter(engine: usize, level: Level) {
        HELD.with_borrow_mut(|held| {
            if let Some(&(_, above)) = held.iter().find(|&&(e, l)| e == engine && l >= level) {
                panic!("lock order: {level:?} taken while holding {above:?} (see db/locks.rs)");
            }
            held.push((engine, level));
        });
    }

    /// Records that the thread released `level` of `engine`.
    pub(super) fn exit(engine: usize, level: Level) {
        HELD.with_borrow_mut(|held| {
            if let Some(at) = held.iter().rposition(|&h| h == (engine, level)) {
                held.remove(at);
            }
        });
    }
}

#[cfg(not(debug_assertions))]
mod held {
    use super::Level;

    pub(super) fn enter(_engine: usize, _level: Level) {}

    pub(super) fn exit(_engine: usize, _level: Level) {}
}

/// The record of one held lock: released (in the record) when dropped.
#[derive(Debug)]
struct Held {
    engine: usize,
    level: Level,
}

impl Held {
    fn enter(engine: usize, level: Level) -> Held {
        held::enter(engine, level);
        Held { engine, level }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        held::exit(self.engine, self.level);
    }
}

/// A mutex with a place in the lock order.
#[derive(Debug)]
pub(crate) struct OrderedMutex<T> {
    level: Level,
    lock: Mutex<T>,
}

/// A lock on an [`OrderedMutex`].
pub(crate) struct OrderedGuard<'a, T> {
    // Declared first so that it is dropped first: the mutex is released before the record.
    guard: MutexGuard<'a, T>,
    _held: Held,
}

impl<T> OrderedMutex<T> {
    pub(crate) fn new(level: Level, value: T) -> Self {
        OrderedMutex {
            level,
            lock: Mutex::new(value),
        }
    }

    /// Locks it, as a lock of `engine` (the address of the engine's state).
    pub(crate) fn lock(&self, engine: usize) -> OrderedGuard<'_, T> {
        let held = Held::enter(engine, self.level);
        OrderedGuard {
            guard: self.lock.lock(),
            _held: held,
        }
    }
}

impl<T> Deref for OrderedGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> DerefMut for OrderedGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

/// A reader-writer lock with a place in the lock order.
#[derive(Debug)]
pub(crate) struct OrderedRwLock<T> {
    level: Level,
    lock: RwLock<T>,
}

/// A shared lock on an [`OrderedRwLock`].
pub(crate) struct OrderedReadGuard<'a, T> {
    guard: RwLockReadGuard<'a, T>,
    _held: Held,
}

/// An exclusive lock on an [`OrderedRwLock`].
pub(crate) struct OrderedWriteGuard<'a, T> {
    guard: RwLockWriteGuard<'a, T>,
    _held: Held,
}

impl<T> OrderedRwLock<T> {
    pub(crate) fn new(level: Level, value: T) -> Self {
        OrderedRwLock {
            level,
            lock: RwLock::new(value),
        }
    }

    pub(crate) fn read(&self, engine: usize) -> OrderedReadGuard<'_, T> {
        let held = Held::enter(engine, self.level);
        OrderedReadGuard {
            guard: self.lock.read(),
            _held: held,
        }
    }

    pub(crate) fn write(&self, engine: usize) -> OrderedWriteGuard<'_, T> {
        let held = Held::enter(engine, self.level);
        OrderedWriteGuard {
            guard: self.lock.write(),
            _held: held,
        }
    }
}

impl<T> Deref for OrderedReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> Deref for OrderedWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> DerefMut for OrderedWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_is_allowed_and_released_locks_are_forgotten() {
        let writer = OrderedMutex::new(Level::Writer, ());
        let visible = OrderedRwLock::new(Level::Visible, ());
        {
            let _w = writer.lock(1);
            let _v = visible.read(1);
        }
        // Both released: taking them in either order alone is fine.
        drop(visible.write(1));
        drop(writer.lock(1));
        // Another engine's locks are unrelated.
        let _v = visible.read(1);
        let _w = writer.lock(2);
    }

    #[test]
    #[cfg(debug_assertions)]
    fn out_of_order_is_caught_and_the_record_survives_the_panic() {
        let writer = OrderedMutex::new(Level::Writer, ());
        let visible = OrderedRwLock::new(Level::Visible, ());
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _v = visible.read(1);
            let _w = writer.lock(1);
        }));
        let payload = caught.expect_err("taking Writer under Visible must panic");
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .unwrap_or_default();
        assert!(
            message.contains("lock order: Writer taken while holding Visible"),
            "{message}"
        );
        // The unwinding released `Visible` from the record: the right order works again.
        let _w = writer.lock(1);
        let _v = visible.read(1);
    }
}
