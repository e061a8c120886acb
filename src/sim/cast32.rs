//! [`Cast32`]: a [`Cast64`] of `i32` intermediates computed in 32-bit lanes.
//!
//! Kernels whose sums are proven to fit `i32` (the `i16` pair-product kernel of `matmul.rs`) cast
//! them with this. It exists only where every step of the `i64` cast stays inside `i32` for
//! inputs in the cast's range: the quantizing shift (and the `AP_RND` addend), the wrap width
//! (at most 32 bits), the clamp bounds. Then each step gives the same integer in 32 bits as in 64,
//! so the result and the overflow count equal [`Cast64`]'s, and AVX2 runs eight lanes an
//! instruction (it has no 64-bit arithmetic right shift, which the `i64` wrap needs).

use super::cast::{bits, Cast64, Fit, Quant};
use super::simd;

/// A cast of `i32` values in a range fixed at plan time, exactly as its [`Cast64`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cast32 {
    quant: Q32,
    fit: F32,
    avx2: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Q32 {
    Keep,
    Shl(u32),
    /// Arithmetic right shift by at most 31 (a larger `AP_TRN` shift gives the same on `i32`).
    Trn(u32),
    /// Adds `half`, then shifts right; the sum stays in `i32`.
    Rnd(u32, i32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum F32 {
    Keep,
    WrapSigned(u32),
    WrapUnsigned(i32),
    Sat(i32, i32),
    Zero(i32, i32),
}

impl Cast32 {
    /// The 32-bit form of `c`, a cast of values in `[lo, hi]` (inside `i32`); `None` when a step
    /// of `c` leaves `i32`.
    pub(crate) fn new(c: &Cast64, lo: i128, hi: i128) -> Option<Cast32> {
        let in32 = |v: i128| i32::try_from(v).ok();
        in32(lo)?;
        in32(hi)?;
        let (quant, fit) = c.steps()?;
        let quant = match quant {
            Quant::Keep => Q32::Keep,
            Quant::Shl(s) if bits(lo).max(bits(hi)) + s <= 31 => Q32::Shl(s),
            Quant::Shl(_) => return None,
            Quant::Trn(s) => Q32::Trn(s.min(31)),
            Quant::Rnd(s) if s <= 30 => {
                let half = 1i32 << (s - 1);
                in32(hi + i128::from(half))?;
                Q32::Rnd(s, half)
            }
            Quant::Rnd(_) => return None,
        };
        let fit = match fit {
            Fit::Keep => F32::Keep,
            Fit::WrapSigned(unused) if unused >= 32 => F32::WrapSigned(unused - 32),
            Fit::WrapSigned(_) => return None,
            Fit::WrapUnsigned(mask) => F32::WrapUnsigned(i32::try_from(mask).ok()?),
            Fit::Sat(a, b) => F32::Sat(i32::try_from(a).ok()?, i32::try_from(b).ok()?),
            Fit::Zero(a, b) => F32::Zero(i32::try_from(a).ok()?, i32::try_from(b).ok()?),
        };
        Some(Cast32 { quant, fit, avx2: simd::has_avx2_fma() })
    }

    /// Converts `src` into `dst` (same length); returns the number of overflows. With `relu`,
    /// each result `y` is stored as `max(y, 0)`: a following ReLU whose own cast keeps every
    /// value, in the same pass. `i16` results must fit (a reader of 16-bit values checks that
    /// its input type does).
    pub(crate) fn run_then<T: Lane>(&self, src: &[i32], dst: &mut [T], relu: bool) -> u64 {
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `avx2` is true only when the CPU reported AVX2.
            return unsafe {
                if relu {
                    self.run_avx2::<true, T>(src, dst)
                } else {
                    self.run_avx2::<false, T>(src, dst)
                }
            };
        }
        if relu {
            self.run_body::<true, T>(src, dst)
        } else {
            self.run_body::<false, T>(src, dst)
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn run_avx2<const RELU: bool, T: Lane>(&self, src: &[i32], dst: &mut [T]) -> u64 {
        self.run_body::<RELU, T>(src, dst)
    }

    #[inline(always)]
    fn run_body<const RELU: bool, T: Lane>(&self, src: &[i32], dst: &mut [T]) -> u64 {
        match self.quant {
            Q32::Keep => self.fit_each::<RELU, T>(src, dst, |v| v),
            Q32::Shl(s) => self.fit_each::<RELU, T>(src, dst, |v| v << s),
            Q32::Trn(s) => self.fit_each::<RELU, T>(src, dst, |v| v >> s),
            Q32::Rnd(s, half) => self.fit_each::<RELU, T>(src, dst, |v| (v + half) >> s),
        }
    }

    #[inline(always)]
    fn fit_each<const RELU: bool, T: Lane>(&self, src: &[i32], dst: &mut [T], q: impl Fn(i32) -> i32) -> u64 {
        match self.fit {
            F32::Keep => each::<RELU, T, _>(src, dst, |v| (q(v), false)),
            F32::WrapSigned(u) => each::<RELU, T, _>(src, dst, |v| {
                let q = q(v);
                let y = (q << u) >> u;
                (y, y != q)
            }),
            F32::WrapUnsigned(mask) => each::<RELU, T, _>(src, dst, |v| {
                let q = q(v);
                let y = q & mask;
                (y, y != q)
            }),
            F32::Sat(a, b) => each::<RELU, T, _>(src, dst, |v| {
                let q = q(v);
                let y = q.clamp(a, b);
                (y, y != q)
            }),
            F32::Zero(a, b) => each::<RELU, T, _>(src, dst, |v| {
                let q = q(v);
                let out = q < a || q > b;
                (if out { 0 } else { q }, out)
            }),
        }
    }
}

/// A result lane: `i64` for the plan's buffers, `i16` for the narrow rows of the `i16` kernel.
pub(crate) trait Lane: Copy {
    fn from_i32(v: i32) -> Self;
}

impl Lane for i64 {
    #[inline(always)]
    fn from_i32(v: i32) -> i64 {
        i64::from(v)
    }
}

impl Lane for i16 {
    #[inline(always)]
    fn from_i32(v: i32) -> i16 {
        v as i16
    }
}

#[inline(always)]
fn each<const RELU: bool, T: Lane, F: Fn(i32) -> (i32, bool)>(src: &[i32], dst: &mut [T], f: F) -> u64 {
    // Counted in 32-bit lanes per slice of at most 2^31 elements.
    let mut total = 0u64;
    for (s, d) in src.chunks(1 << 30).zip(dst.chunks_mut(1 << 30)) {
        let mut n = 0u32;
        for (d, &v) in d.iter_mut().zip(s) {
            let (y, o) = f(v);
            *d = T::from_i32(if RELU { y.max(0) } else { y });
            n += u32::from(o);
        }
        total += u64::from(n);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixed::{FixedType, OverflowMode, QuantMode};
    use crate::sim::cast::CastOp;

    #[test]
    fn cast32_equals_cast64_wherever_it_exists() {
        let mut next = crate::test_rng::below(0x2545_f491_4f6c_dd1du64);
        let mut built = 0;
        for _ in 0..20_000 {
            let width = 1 + next(40) as u32;
            let integer = next(2 * u64::from(width) + 8) as i32 - width as i32 / 2 - 4;
            let to = FixedType::new(width, integer, next(2) == 0).with_modes(
                QuantMode::ALL[next(QuantMode::ALL.len() as u64) as usize],
                OverflowMode::ALL[next(OverflowMode::ALL.len() as u64) as usize],
            );
            let from = next(40) as i32 - 8;
            let b = 1 + next(31) as u32;
            let (lo, hi) =
                if next(2) == 0 { (-(1i128 << b), (1i128 << b) - 1) } else { (0, (1i128 << b) - 1) };
            let Some(c64) = Cast64::new(from, lo, hi, &to) else { continue };
            let Some(c32) = Cast32::new(&c64, lo, hi) else { continue };
            built += 1;
            let src: Vec<i32> = (0..37)
                .map(|k| match k {
                    0 => lo as i32,
                    1 => hi as i32,
                    _ => (lo + i128::from(next((hi - lo + 1) as u64))) as i32,
                })
                .collect();
            let wide: Vec<i64> = src.iter().map(|&v| i64::from(v)).collect();
            let (mut a, mut b64) = (vec![0; src.len()], vec![0; src.len()]);
            let n32 = c32.run_then(&src, &mut a, false);
            let n64 = c64.run(&wide, &mut b64);
            assert_eq!((n32, &a), (n64, &b64), "{to:?} from {from} in [{lo}, {hi}]: {c32:?}");
            let plain = Cast32 { avx2: false, ..c32 };
            let mut p = vec![0; src.len()];
            assert_eq!((plain.run_then(&src, &mut p, false), &p), (n32, &a));
            let relu: Vec<i64> = a.iter().map(|&v| v.max(0)).collect();
            for c in [c32, plain] {
                let mut r = vec![0; src.len()];
                assert_eq!((c.run_then(&src, &mut r, true), &r), (n32, &relu), "{c:?} then ReLU");
            }
        }
        assert!(built > 5_000, "only {built} casts had a 32-bit form");
    }
}
