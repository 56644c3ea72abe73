//! [`Rng`]: the suite's one random source, [`SplitMix64`] from `tabula-storage` (the same
//! generator the simulated disk uses), with the picks the workloads need, so that a seed replays
//! a run exactly.

use tabula_storage::SplitMix64;

/// A seeded random number generator.
#[derive(Debug, Clone)]
pub struct Rng(SplitMix64);

impl Rng {
    /// A generator from `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Rng {
        Rng(SplitMix64::new(seed))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.0.below(n)
    }

    /// One of `items`, or `fallback` when there are none.
    pub fn pick<T: Copy>(&mut self, items: &[T], fallback: T) -> T {
        items
            .get(self.below(items.len() as u64) as usize)
            .copied()
            .unwrap_or(fallback)
    }

    /// True one time in `n`.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
}
