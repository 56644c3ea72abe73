//! The change feed: [`Engine::subscribe`] delivers committed transactions in LSN order, first
//! the retained history after a chosen LSN (read back from the log), then live commits, with no
//! gap and no duplicate between the two.
//!
//! # How the hand-over works
//!
//! A subscription reads the log from its next LSN up to the visible LSN. When it has caught up,
//! it registers a live channel while holding the lock under which transactions become visible
//! (`Inner::with_visible_frozen`): if more became visible meanwhile it goes back to the log,
//! otherwise every later transaction is sent to its channel by `publish`, in LSN order. So each
//! LSN reaches it exactly once, from the log or from the channel.
//!
//! # A slow subscriber
//!
//! Commits never wait for subscribers. Each live channel holds `buffer` transactions; when a
//! subscriber is that far behind, it receives [`Error::Lagged`] (naming the first LSN it missed)
//! and its subscription ends, as Redis drops a client past its output buffer limit. It can
//! subscribe again from that LSN and catch up from the log, while the log retains it.
//!
//! Only visible transactions are delivered: under `SyncPolicy::Always`, durable ones, so a
//! subscriber never sees a transaction a crash could take back.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError};
use tabula_core::{Lsn, Transaction};
use tabula_wal::Transactions;

use crate::db::{Engine, Hook, Inner, Level, OrderedMutex};
use crate::{Error, Result};

/// Where a subscription starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// With the first transaction committed after subscribing.
    Now,
    /// With the transaction after this LSN (`After(Lsn(0))`: the whole retained history).
    After(Lsn),
}

/// What a subscription receives: which tables, and how far it may fall behind.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FeedOptions {
    /// Only transactions touching one of these tables (each delivered whole); empty: all.
    pub tables: Vec<String>,
    /// How many live transactions may wait for the subscriber before it gets
    /// [`Error::Lagged`]. Default 1024.
    pub buffer: usize,
}

impl Default for FeedOptions {
    fn default() -> Self {
        FeedOptions {
            tables: Vec::new(),
            buffer: 1024,
        }
    }
}

impl FeedOptions {
    /// Every transaction, a buffer of 1024.
    #[must_use]
    pub fn new() -> FeedOptions {
        FeedOptions::default()
    }

    /// Also deliver transactions touching `table` (the first call narrows the feed to it).
    #[must_use]
    pub fn table(mut self, table: impl Into<String>) -> FeedOptions {
        self.tables.push(table.into());
        self
    }

    /// Lets `buffer` live transactions wait (at least 1).
    #[must_use]
    pub fn buffer(mut self, buffer: usize) -> FeedOptions {
        self.buffer = buffer.max(1);
        self
    }

    fn matches(&self, tx: &Transaction) -> bool {
        self.tables.is_empty()
            || tx
                .ops
                .iter()
                .any(|op| self.tables.iter().any(|t| t == op.table()))
    }
}

type Item = Result<Arc<Transaction>>;

/// The live subscribers, owned by the engine and fed by `publish`.
#[derive(Debug, Default)]
pub(crate) struct Subscribers {
    live: Vec<Live>,
}

#[derive(Debug)]
struct Live {
    sender: Sender<Item>,
    options: FeedOptions,
}

impl Subscribers {
    /// Sends newly visible transactions, in LSN order, to every live subscriber that wants
    /// them; drops subscribers that lag or are gone. Never blocks.
    fn publish(&mut self, transactions: &[Arc<Transaction>]) {
        if self.live.is_empty() {
            return;
        }
        for tx in transactions {
            self.live.retain(|sub| {
                if !sub.options.matches(tx) {
                    return true;
                }
                // The channel holds `buffer + 1`: the last place is kept for the lag error.
                if sub.sender.len() >= sub.options.buffer {
                    let lagged = Error::Lagged {
                        buffer: sub.options.buffer,
                        next: tx.lsn,
                    };
                    let _gone_or_sent = sub.sender.try_send(Err(lagged));
                    return false;
                }
                match sub.sender.try_send(Ok(Arc::clone(tx))) {
                    Ok(()) => true,
                    Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
                }
            });
        }
    }

    fn register(&mut self, options: FeedOptions) -> Receiver<Item> {
        let (sender, receiver) = crossbeam_channel::bounded(options.buffer.saturating_add(1));
        self.live.push(Live { sender, options });
        receiver
    }
}

/// The change feed's part in the hub: it receives every transaction as it becomes visible and
/// sends it to the live subscribers.
#[derive(Debug)]
pub(crate) struct Feed {
    subscribers: OrderedMutex<Subscribers>,
    /// How many live subscribers there are, readable without the lock: with none, the hub
    /// skips handing transactions over.
    live: AtomicUsize,
}

impl Default for Feed {
    fn default() -> Self {
        Feed {
            subscribers: OrderedMutex::new(Level::Feed, Subscribers::default()),
            live: AtomicUsize::new(0),
        }
    }
}

impl Hook for Feed {
    fn listening(&self) -> bool {
        self.live.load(Ordering::Relaxed) > 0
    }

    fn published(&self, inner: &Inner, transactions: &[Arc<Transaction>]) {
        let mut subscribers = inner.lock(&self.subscribers);
        subscribers.publish(transactions);
        self.live.store(subscribers.live.len(), Ordering::Relaxed);
    }
}

impl Feed {
    /// Registers a live subscriber of `inner` (under the hub's pending lock, from
    /// `with_visible_frozen`).
    fn register(&self, inner: &Inner, options: FeedOptions) -> Receiver<Item> {
        let mut subscribers = inner.lock(&self.subscribers);
        let receiver = subscribers.register(options);
        self.live.store(subscribers.live.len(), Ordering::Relaxed);
        receiver
    }
}

/// `inner`'s feed.
fn feed(inner: &Inner) -> Result<&Feed> {
    inner.part::<Feed>().ok_or_else(|| Error::Bug {
        what: "the engine has no change feed".to_owned(),
    })
}

/// How many live subscribers `inner` has.
pub(crate) fn subscribers(inner: &Inner) -> usize {
    inner
        .part::<Feed>()
        .map_or(0, |feed| feed.live.load(Ordering::Relaxed))
}

/// A change feed subscription, from [`Engine::subscribe`]: an iterator of committed
/// transactions in LSN order. It ends (`None`) when the engine is closed or dropped, and after
/// an error.
#[derive(Debug)]
pub struct Subscription {
    engine: Weak<Inner>,
    options: FeedOptions,
    phase: Phase,
    stop: Arc<Stop>,
    /// Woken by [`FeedStop::stop`], so a subscriber blocked on a quiet feed ends at once.
    woken: Receiver<()>,
}

/// What a [`FeedStop`] shares with its subscription.
#[derive(Debug)]
struct Stop {
    stopped: AtomicBool,
    /// Held here too, so the wake channel never disconnects while the subscription lives.
    wake: Sender<()>,
}

/// Ends a [`Subscription`] from any thread (from [`Subscription::stopper`]): a subscriber
/// blocked waiting for the next commit returns `None` at once, as after the engine closed. A
/// transaction arriving as the stop is seen is not delivered: a subscriber that must not miss
/// one resumes from the last LSN it handled (`Start::After`).
#[derive(Debug, Clone)]
pub struct FeedStop {
    stop: Arc<Stop>,
}

impl FeedStop {
    /// Ends the subscription: its next (or current) wait returns `None`.
    pub fn stop(&self) {
        self.stop.stopped.store(true, Ordering::SeqCst);
        // One pending wake is enough; a full channel already wakes the subscriber.
        let _full_or_woken = self.stop.wake.try_send(());
    }
}

#[derive(Debug)]
enum Phase {
    /// Reading the log: the next LSN to deliver, and a reader up to a visible LSN.
    CatchUp {
        next: Lsn,
        reading: Option<Box<(Transactions, Lsn)>>,
    },
    Live(Receiver<Item>),
    Done,
}

enum Wait {
    Forever,
    Until(Instant),
}

impl Subscription {
    /// The next transaction, waiting at most `timeout` for a live one; `None` if none came in
    /// time or the feed ended (see [`Subscription::is_closed`]).
    pub fn next_timeout(&mut self, timeout: Duration) -> Option<Item> {
        self.receive(&Wait::Until(Instant::now() + timeout))
    }

    /// Whether the feed has ended: the engine is gone, it was stopped, or an error was
    /// delivered.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        matches!(self.phase, Phase::Done)
    }

    /// A handle that ends this subscription from any thread, for a subscriber blocked in
    /// `for tx in subscription` on a quiet database.
    #[must_use]
    pub fn stopper(&self) -> FeedStop {
        FeedStop {
            stop: Arc::clone(&self.stop),
        }
    }

    fn receive(&mut self, wait: &Wait) -> Option<Item> {
        loop {
            if self.stop.stopped.load(Ordering::SeqCst) {
                return self.deliver(None);
            }
            match &mut self.phase {
                Phase::Done => return None,
                Phase::Live(receiver) => {
                    let woken = &self.woken;
                    let item = match wait {
                        Wait::Forever => crossbeam_channel::select! {
                            recv(receiver) -> item => item.ok(),
                            recv(woken) -> _ => continue,
                        },
                        Wait::Until(deadline) => crossbeam_channel::select! {
                            recv(receiver) -> item => item.ok(),
                            recv(woken) -> _ => continue,
                            default(deadline.saturating_duration_since(Instant::now())) => return None,
                        },
                    };
                    if self.stop.stopped.load(Ordering::SeqCst) {
                        return self.deliver(None);
                    }
                    return self.deliver(item);
                }
                Phase::CatchUp { next, reading } => {
                    if let Some(boxed) = reading {
                        let (transactions, until) = &mut **boxed;
                        match transactions.next() {
                            Some(Ok(tx)) if tx.lsn <= *until => {
                                *next = tx.lsn.next();
                                if self.options.matches(&tx) {
                                    return Some(Ok(Arc::new(tx)));
                                }
                                continue;
                            }
                            Some(Err(error)) => return self.deliver(Some(Err(error.into()))),
                            Some(Ok(_)) | None => *reading = None,
                        }
                    }
                    let next = *next;
                    let Some(engine) = self.engine.upgrade() else {
                        return self.deliver(None);
                    };
                    match catch_up_or_register(&engine, next, &self.options) {
                        Ok(Ok(receiver)) => self.phase = Phase::Live(receiver),
                        Ok(Err(reader)) => {
                            self.phase = Phase::CatchUp {
                                next,
                                reading: Some(Box::new(reader)),
                            }
                        }
                        Err(error) => return self.deliver(Some(Err(error))),
                    }
                }
            }
        }
    }

    /// Hands out `item`, ending the feed after an error or at the end.
    fn deliver(&mut self, item: Option<Item>) -> Option<Item> {
        if !matches!(item, Some(Ok(_))) {
            self.phase = Phase::Done;
        }
        item
    }
}

impl Iterator for Subscription {
    type Item = Item;

    /// The next transaction, waiting for one to be committed.
    fn next(&mut self) -> Option<Item> {
        self.receive(&Wait::Forever)
    }
}

/// Registers a live channel if the subscriber has seen everything visible; otherwise a log
/// reader from `next` up to the visible LSN.
fn catch_up_or_register(
    engine: &Arc<Inner>,
    next: Lsn,
    options: &FeedOptions,
) -> Result<Result<Receiver<Item>, (Transactions, Lsn)>> {
    let feed = feed(engine)?;
    let visible = engine.with_visible_frozen(|db| {
        let visible = db.lsn();
        if visible < next {
            Ok(feed.register(engine, options.clone()))
        } else {
            Err(visible)
        }
    });
    let until = match visible {
        Ok(receiver) => return Ok(Ok(receiver)),
        Err(until) => until,
    };
    let Some(log) = engine.log() else {
        // An in-memory engine keeps no history to catch up from.
        return Err(Error::Pruned {
            requested: next,
            oldest_available: until.next(),
        });
    };
    let reader = log
        .read_from(next)
        .map_err(|error| super::pruned(error, next))?;
    Ok(Err((reader, until)))
}

impl Engine {
    /// Subscribes to committed transactions from `start` on, in LSN order, without gap or
    /// duplicate: retained history first (from the log), then live commits.
    ///
    /// # Errors
    /// [`Error::NotCommitted`] for a start after the last visible LSN; the subscription itself
    /// yields [`Error::Pruned`] if the log no longer holds the start, and [`Error::Lagged`] if
    /// it falls `buffer` transactions behind the live commits.
    ///
    /// ```
    /// use tabula_core::{Lsn, Op, TableDef};
    /// use tabula_engine::{Engine, FeedOptions, Options, Start};
    ///
    /// let engine = Engine::in_memory(Options::new());
    /// let mut feed = engine.subscribe(Start::Now, FeedOptions::new())?;
    /// engine.commit(vec![Op::CreateTable(TableDef::new("t", "id"))])?;
    /// let tx = feed.next().unwrap()?;
    /// assert_eq!(tx.lsn, Lsn(1));
    /// # Ok::<(), tabula_engine::Error>(())
    /// ```
    pub fn subscribe(&self, start: Start, options: FeedOptions) -> Result<Subscription> {
        let inner = &self.inner;
        let feed = feed(inner)?;
        let phase = inner.with_visible_frozen(|db| match start {
            Start::Now => Ok(Phase::Live(feed.register(inner, options.clone()))),
            Start::After(lsn) if lsn > db.lsn() => Err(Error::NotCommitted {
                requested: lsn,
                last: db.lsn(),
            }),
            // Nothing to catch up: live from here (an in-memory database has no log to read).
            Start::After(lsn) if lsn == db.lsn() => {
                Ok(Phase::Live(feed.register(inner, options.clone())))
            }
            Start::After(lsn) => Ok(Phase::CatchUp {
                next: lsn.next(),
                reading: None,
            }),
        })?;
        let (wake, woken) = crossbeam_channel::bounded(1);
        Ok(Subscription {
            engine: Arc::downgrade(inner),
            options,
            phase,
            stop: Arc::new(Stop {
                stopped: AtomicBool::new(false),
                wake,
            }),
            woken,
        })
    }
}
