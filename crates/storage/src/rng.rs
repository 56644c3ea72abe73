//! [`SplitMix64`]: the one seedable random source of tabula's simulations, tests and
//! benchmarks (Sebastiano Vigna's splitmix64), so that a seed replays a run exactly wherever it
//! is used. It lives here, at the bottom of the workspace, because the simulated disk picks its
//! tear points with it and every crate that simulates or measures sits above this one.
//!
//! Not for anything secret: it is predictable by design.

/// The splitmix64 finalizer: a bijection on `u64` that scatters its input, so distinct inputs
/// give distinct outputs (fixed-seed keys need no bookkeeping).
#[must_use]
pub const fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The increment of the splitmix64 sequence (2^64 / φ).
pub const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// A seeded splitmix64 generator.
///
/// ```
/// use tabula_storage::SplitMix64;
/// let (mut a, mut b) = (SplitMix64::new(7), SplitMix64::new(7));
/// assert_eq!(a.next_u64(), b.next_u64());
/// assert!(a.below(10) < 10);
/// assert_eq!(a.below(0), 0);
/// ```
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose stream is fixed by `seed`.
    #[must_use]
    pub const fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        mix64(self.state)
    }

    /// A number in `0..n` by remainder (0 when `n` is 0); the small bias is irrelevant to
    /// picking fault points and test data.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }
}
