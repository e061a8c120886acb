//! A seeded xorshift64 generator for the crate's unit tests: reproducible cases without a
//! dependency. Not for anything emitted or simulated.

/// Draws in `0..n` from the xorshift64 sequence of `seed` (nonzero).
pub(crate) fn below(seed: u64) -> impl FnMut(u64) -> u64 {
    let mut state = seed;
    move |n| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    }
}
