//! Test vectors for generated testbenches: seeded inputs that exercise a design's corners, and the
//! exact decimal text of fixed-point values that every testbench (C-simulation, Verilator) reads.
//!
//! [`generate_inputs`] is deterministic for a given input type, size and count: most samples are
//! standard normal; the rest sit on the input type's extremes, beyond its range (so the input
//! conversion saturates or wraps, and downstream layers overflow and hit table edges), exactly
//! halfway between two representable values (rounding ties), or are scaled up to drive the
//! hidden layers' accumulators and activations into saturation.

use rayon::prelude::*;

use crate::fixed::{self, FixedType};

/// A small deterministic generator (SplitMix64), so vectors are the same on every machine. Its
/// state after `d` draws is the seed plus `d` times the increment, so any draw can be started at.
struct Rng(u64);

const INCREMENT: u64 = 0x9E37_79B9_7F4A_7C15;

impl Rng {
    /// The generator of `seed` after `draws` draws.
    fn after(seed: u64, draws: u64) -> Rng {
        Rng(seed.wrapping_add(INCREMENT.wrapping_mul(draws)))
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(INCREMENT);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(f64::MIN_POSITIVE);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// `n` samples for model inputs of the given types and sizes, row-major: each sample's row holds
/// every input's values in input order.
pub fn generate_inputs(inputs: &[(FixedType, usize)], n: usize) -> Vec<f64> {
    let mut parts: Vec<Vec<f64>> =
        inputs.iter().enumerate().map(|(k, (ty, elements))| generate_input(k, ty, *elements, n)).collect();
    if parts.len() == 1 {
        return parts.swap_remove(0);
    }
    interleave(&parts, inputs.iter().map(|i| i.1), n)
}

/// Rows of all inputs from each input's `n` rows.
fn interleave(parts: &[Vec<f64>], elements: impl Iterator<Item = usize> + Clone, n: usize) -> Vec<f64> {
    let total: usize = elements.clone().sum();
    let mut out = Vec::with_capacity(n * total);
    for s in 0..n {
        for (part, e) in parts.iter().zip(elements.clone()) {
            out.extend_from_slice(&part[s * e..(s + 1) * e]);
        }
    }
    out
}

/// Samples of [`generate_input`] a task generates.
const SAMPLES_PER_TASK: usize = 64;

/// What sample `s` is (`s % 20`, see [`generate_input`]).
const KINDS: usize = 20;

/// The draws a sample of `kind` takes for `elements` values: a normal value takes two, a uniform
/// one, a zero none; the hot feature of kind 19 one.
fn draws(kind: usize, elements: usize) -> u64 {
    let e = elements as u64;
    match kind {
        14 | 15 => e,
        19 => 1,
        _ => 2 * e,
    }
}

/// The draws samples `0..s` take.
fn draws_before(s: usize, elements: usize) -> u64 {
    let period: u64 = (0..KINDS).map(|k| draws(k, elements)).sum();
    (s / KINDS) as u64 * period + (0..s % KINDS).map(|k| draws(k, elements)).sum::<u64>()
}

/// `n` samples of input `k`, `elements` values each, row-major. Slices of samples are generated
/// in parallel, each from the generator's state at its first sample, so the values are those of
/// one sequential pass.
fn generate_input(k: usize, ty: &FixedType, elements: usize, n: usize) -> Vec<f64> {
    let seed = 0x0005_eed0_f4c5 ^ (elements as u64) << 20 ^ u64::from(ty.width) << 8 ^ (k as u64) << 44;
    let lsb = ty.lsb();
    let max = ty.max_raw() as f64 * lsb;
    let min = ty.min_raw() as f64 * lsb;
    let span = (max - min).max(lsb);
    let mut out = vec![0.0; n * elements];
    out.par_chunks_mut(SAMPLES_PER_TASK * elements.max(1)).enumerate().for_each(|(task, rows)| {
        let first = task * SAMPLES_PER_TASK;
        let mut rng = Rng::after(seed, draws_before(first, elements));
        for (i, row) in rows.chunks_mut(elements).enumerate() {
            let kind = (first + i) % KINDS;
            for v in row.iter_mut() {
                *v = match kind {
                    // Extremes of the input type.
                    14 => {
                        if rng.uniform() < 0.5 {
                            max
                        } else {
                            min
                        }
                    }
                    // Beyond the range: the input conversion saturates or wraps.
                    15 => (rng.uniform() - 0.5) * 4.0 * span,
                    // Rounding ties: halfway between two representable values.
                    16 => ((rng.normal() / lsb).floor() + 0.5) * lsb,
                    // Large activations everywhere: accumulators and tables reach their edges.
                    17 | 18 => rng.normal() * span / 8.0,
                    // A single hot feature on a quiet background.
                    19 => 0.0,
                    _ => rng.normal(),
                };
            }
            if kind == 19 {
                let i = (rng.next_u64() % elements as u64) as usize;
                row[i] = max;
            }
        }
    });
    out
}

/// The exact decimal text of a raw value of `ty`.
pub fn decimal(raw: i64, ty: &FixedType) -> String {
    fixed::to_decimal(i128::from(raw), ty.frac_bits())
}

/// Converts float inputs (rows of every input's values, as [`generate_inputs`] makes them) to the
/// raw values each input's type holds (as the design's input conversion rounds them), row-major,
/// samples converted in parallel.
pub fn input_raws(inputs: &[f64], ports: &[(FixedType, usize)]) -> Result<Vec<i128>, fixed::FixedError> {
    let types: Vec<&FixedType> = ports.iter().flat_map(|(ty, e)| std::iter::repeat_n(ty, *e)).collect();
    let rows: Vec<Result<Vec<i128>, fixed::FixedError>> = inputs
        .par_chunks((64 * types.len()).max(1))
        .map(|rows| {
            rows.iter()
                .zip(types.iter().cycle())
                .map(|(&x, ty)| fixed::from_f64(x, ty).map(|c| c.raw))
                .collect()
        })
        .collect();
    let mut raws = Vec::with_capacity(inputs.len());
    for r in rows {
        raws.extend(r?);
    }
    Ok(raws)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_covering() {
        let ty = FixedType::new(16, 6, true);
        let a = generate_inputs(&[(ty, 16)], 1000);
        assert_eq!(a, generate_inputs(&[(ty, 16)], 1000));
        assert_eq!(a.len(), 16_000);
        assert!(a.iter().any(|&v| v == 32.0 - ty.lsb()));
        assert!(a.iter().any(|&v| v == -32.0));
        assert!(a.iter().any(|&v| v > 40.0) && a.iter().any(|&v| v < -40.0));
        assert!(a.iter().any(|&v| (v / ty.lsb()).fract().abs() == 0.5));
    }

    /// One generator drawn in sample order, as the parallel slices must reproduce.
    fn sequential(k: usize, ty: &FixedType, elements: usize, n: usize) -> Vec<f64> {
        let seed = 0x0005_eed0_f4c5 ^ (elements as u64) << 20 ^ u64::from(ty.width) << 8 ^ (k as u64) << 44;
        let mut rng = Rng(seed);
        let lsb = ty.lsb();
        let (max, min) = (ty.max_raw() as f64 * lsb, ty.min_raw() as f64 * lsb);
        let span = (max - min).max(lsb);
        let mut out = Vec::new();
        for s in 0..n {
            for _ in 0..elements {
                out.push(match s % 20 {
                    14 => {
                        if rng.uniform() < 0.5 {
                            max
                        } else {
                            min
                        }
                    }
                    15 => (rng.uniform() - 0.5) * 4.0 * span,
                    16 => ((rng.normal() / lsb).floor() + 0.5) * lsb,
                    17 | 18 => rng.normal() * span / 8.0,
                    19 => 0.0,
                    _ => rng.normal(),
                });
            }
            if s % 20 == 19 {
                let i = (rng.next_u64() % elements as u64) as usize;
                out[s * elements + i] = max;
            }
        }
        out
    }

    #[test]
    fn parallel_slices_draw_the_sequential_values() {
        for (k, elements, n) in [(0, 16, 1000), (1, 3, 129), (0, 1, 64), (2, 784, 70), (0, 5, 0)] {
            let ty = FixedType::new(8 + k as u32, 3, true);
            let got = generate_input(k, &ty, elements, n);
            let want = sequential(k, &ty, elements, n);
            assert_eq!(
                got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                want.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn several_inputs_interleave_per_sample() {
        let (t, u) = (FixedType::new(16, 6, true), FixedType::new(8, 3, true));
        let both = generate_inputs(&[(t, 3), (u, 2)], 50);
        let first = generate_input(0, &t, 3, 50);
        let second = generate_input(1, &u, 2, 50);
        assert_eq!(both.len(), 250);
        assert_eq!(&both[5..8], &first[3..6]);
        assert_eq!(&both[8..10], &second[2..4]);
        assert_ne!(generate_input(1, &t, 3, 50), first);
        let raws = input_raws(&both[..10], &[(t, 3), (u, 2)]).unwrap();
        let types = [t, t, t, u, u, t, t, t, u, u];
        let expected: Vec<i128> = both[..10]
            .iter()
            .zip(&types)
            .map(|(&x, ty)| crate::fixed::from_f64(x, ty).unwrap().raw)
            .collect();
        assert_eq!(raws, expected);
    }
}
