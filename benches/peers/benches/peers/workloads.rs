//! The workloads, each written once against [`Store`] and run for every contender, and the
//! per-contender measurement loops they share (commit rate with N writers, bulk load, reads,
//! latency percentiles).
//!
//! Each function returns a figure and a detail line or an error; the caller files it in the
//! report, so one engine's failure is a reported error, not the end of the run.

use std::ops::Range;
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tabula_peers::data::Probes;
use tabula_peers::report::{count, number};

use crate::Result;
use crate::store::Store;

/// Commits `per_writer` single-row transactions from each of `writers` threads, each with its
/// own handle, rows numbered from `first`; commits per second over the whole run.
pub fn commit_rate(
    store: &dyn Store,
    writers: usize,
    per_writer: usize,
    first: usize,
) -> Result<f64> {
    let handles = (0..writers)
        .map(|_| store.handle())
        .collect::<Result<Vec<_>>>()?;
    let barrier = Barrier::new(writers + 1);
    let results = std::thread::scope(|scope| {
        let threads: Vec<_> = handles
            .into_iter()
            .enumerate()
            .map(|(t, mut handle)| {
                let barrier = &barrier;
                scope.spawn(move || -> Result<()> {
                    barrier.wait();
                    let base = first + t * per_writer;
                    for i in base..base + per_writer {
                        handle.put(i)?;
                    }
                    Ok(())
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        let results: Vec<Result<()>> = threads
            .into_iter()
            .map(|t| {
                t.join()
                    .unwrap_or_else(|_| Err("a writer thread panicked".into()))
            })
            .collect();
        (start.elapsed(), results)
    });
    let (elapsed, results) = results;
    for r in results {
        r?;
    }
    Ok((writers * per_writer) as f64 / elapsed.as_secs_f64())
}

/// Loads rows `rows` in commits of `batch`; rows per second.
pub fn bulk_load(store: &dyn Store, rows: Range<usize>, batch: usize) -> Result<f64> {
    let mut handle = store.handle()?;
    let n = rows.len();
    let start = Instant::now();
    let mut at = rows.start;
    while at < rows.end {
        let end = (at + batch).min(rows.end);
        handle.put_batch(at..end)?;
        at = end;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// `count` point reads of random rows among the first `loaded`; reads per second. Every read
/// must find its row.
pub fn point_reads(store: &dyn Store, loaded: usize, count: usize) -> Result<f64> {
    let mut handle = store.handle()?;
    let probes: Vec<usize> = Probes::new(loaded).take(count).collect();
    // The first read opens the read view or transaction; it is not part of the figure.
    handle.get(0)?;
    let start = Instant::now();
    for &i in &probes {
        if !handle.get(i)? {
            return Err(format!("row {i} not found").into());
        }
    }
    Ok(count as f64 / start.elapsed().as_secs_f64())
}

/// `count` range scans of `len` rows from random keys; scans per second. Scans that start near
/// the end read fewer rows; all of them must read at least one (their own).
pub fn range_scans(
    store: &dyn Store,
    loaded: usize,
    count: usize,
    len: usize,
) -> Result<(f64, usize)> {
    let mut handle = store.handle()?;
    let probes: Vec<usize> = Probes::new(loaded).skip(7).take(count).collect();
    handle.get(0)?;
    let mut rows = 0;
    let start = Instant::now();
    for &i in &probes {
        let read = handle.scan(i, len)?;
        if read == 0 {
            return Err(format!("scan from row {i} read nothing").into());
        }
        rows += read;
    }
    Ok((count as f64 / start.elapsed().as_secs_f64(), rows))
}

/// Percentiles of a set of latencies.
#[derive(Debug, Clone, Copy)]
pub struct Latency {
    /// Median.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Samples taken.
    pub samples: usize,
}

impl Latency {
    fn of(mut samples: Vec<Duration>) -> Latency {
        samples.sort();
        let at = |p: f64| {
            samples
                .get(((samples.len().saturating_sub(1)) as f64 * p) as usize)
                .copied()
                .unwrap_or_default()
        };
        Latency {
            p50: at(0.5),
            p99: at(0.99),
            samples: samples.len(),
        }
    }

    /// `p50 12.3 µs, p99 45.6 µs (2,000 commits)`.
    pub fn describe(&self) -> String {
        format!(
            "p50 {} µs, p99 {} µs ({} commits)",
            number(self.p50.as_secs_f64() * 1e6),
            number(self.p99.as_secs_f64() * 1e6),
            count(self.samples)
        )
    }
}

/// Latencies of `samples` single-row commits numbered from `first`, while `background` runs in
/// another thread over and over (when given). Sampling goes on until `background` has finished
/// at least twice, so the samples cover every phase of it; `(latency, background runs)`.
pub fn commit_latency(
    store: &dyn Store,
    first: usize,
    samples: usize,
    background: Option<&(dyn Fn() -> Result<()> + Sync)>,
) -> Result<(Latency, usize)> {
    let mut handle = store.handle()?;
    let running = AtomicBool::new(true);
    let runs = std::sync::atomic::AtomicUsize::new(0);
    let outcome = std::thread::scope(|scope| -> Result<Vec<Duration>> {
        let worker = background.map(|work| {
            let (running, runs) = (&running, &runs);
            scope.spawn(move || -> Result<()> {
                while running.load(Ordering::Relaxed) {
                    work()?;
                    runs.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            })
        });
        let mut times = Vec::with_capacity(samples);
        let mut i = first;
        let deadline = Instant::now() + Duration::from_secs(600);
        let result = loop {
            let enough =
                times.len() >= samples && (worker.is_none() || runs.load(Ordering::Relaxed) >= 2);
            if enough {
                break Ok(());
            }
            if Instant::now() > deadline {
                break Err("the background work did not finish twice within 600 s".into());
            }
            if worker
                .as_ref()
                .is_some_and(std::thread::ScopedJoinHandle::is_finished)
            {
                break Err("the background work stopped".into());
            }
            let start = Instant::now();
            if let Err(e) = handle.put(i) {
                break Err(e);
            }
            times.push(start.elapsed());
            i += 1;
        };
        running.store(false, Ordering::Relaxed);
        if let Some(w) = worker {
            w.join()
                .unwrap_or_else(|_| Err("the background thread panicked".into()))?;
        }
        result.map(|()| times)
    })?;
    Ok((Latency::of(outcome), runs.load(Ordering::Relaxed)))
}
