//! Casts compiled at plan time, and the integer widths kernels compute in.
//!
//! A kernel computes each exact intermediate as an integer `t` at a fractional-bit count fixed by
//! the plan, then converts it to a type with a cast. The plan knows the range `t` can reach, so it
//! picks the narrowest exact representation: [`i64`] when every intermediate stays below
//! [`LIMIT_I64`] in magnitude, else [`i128`] (below [`LIMIT_I128`]). For `i64`, [`Cast64`]
//! specialises the conversion to the pair (quantization, overflow) at hand: a plain shift,
//! truncation or `AP_RND` rounding, then wrap, clamp or zeroing, so slices convert in tight loops.
//! Every other combination calls [`fixed::cast_i64`]; `i128` intermediates always call
//! [`fixed::cast`]. The specialisations are checked against `fixed::cast` in this file's tests.
//!
//! Raw values are stored in `i64`. An unsigned 64-bit type keeps its bit pattern there (as
//! `fixed::cast_i64` returns it); [`load`] gives the exact integer back.

use std::fmt::Debug;
use std::ops::{Add, Mul, Shl, Sub};

use super::plan::Scratch;
use super::simd;
use crate::fixed::{self, FixedType, OverflowMode, QuantMode};

/// Intermediates of `i64` kernels stay strictly below `2^LIMIT_I64` in magnitude, so the sum or
/// difference of two of them still fits.
pub(crate) const LIMIT_I64: u32 = 62;
/// The same bound for `i128` kernels.
pub(crate) const LIMIT_I128: u32 = 126;

/// The exact integer a stored raw value of type `ty` stands for.
#[inline]
pub(crate) fn load(raw: i64, ty: &FixedType) -> i128 {
    if !ty.signed && ty.width >= 64 {
        raw as u64 as i128
    } else {
        raw as i128
    }
}

/// Fractional bits of a type, without saturation.
pub(crate) fn frac(ty: &FixedType) -> i64 {
    ty.width as i64 - ty.integer as i64
}

/// The inclusive range of raw values of `ty`.
pub(crate) fn range(ty: &FixedType) -> (i128, i128) {
    (ty.min_raw(), ty.max_raw())
}

/// Whether every value of `ty` is its own `i64` (false only for 64-bit unsigned types).
pub(crate) fn fits_i64(ty: &FixedType) -> bool {
    ty.signed || ty.width < 64
}

/// Number of magnitude bits of `v`: the smallest `b` with `|v| < 2^b`.
pub(crate) fn bits(v: i128) -> u32 {
    128 - v.unsigned_abs().leading_zeros()
}

/// `v * 2^s` when it stays below `2^LIMIT_I128` in magnitude and `s` is a usable shift.
pub(crate) fn shl(v: i128, s: i64) -> Option<i128> {
    if !(0..LIMIT_I128 as i64).contains(&s) || bits(v) + s as u32 > LIMIT_I128 {
        return None;
    }
    Some(v << s)
}

/// `a * b` when it stays below `2^LIMIT_I128` in magnitude.
pub(crate) fn mul(a: i128, b: i128) -> Option<i128> {
    a.checked_mul(b).filter(|p| bits(*p) <= LIMIT_I128)
}

/// `a + b` when it stays below `2^LIMIT_I128` in magnitude.
pub(crate) fn add(a: i128, b: i128) -> Option<i128> {
    a.checked_add(b).filter(|s| bits(*s) <= LIMIT_I128)
}

/// The integer a kernel computes in.
pub(crate) trait Int:
    Copy
    + Ord
    + Debug
    + Default
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Shl<u32, Output = Self>
{
    const ZERO: Self;
    type Cast: CastOp<Self>;

    /// The exact value of a stored raw of type `ty` (for `i64`, plans only load types that fit).
    fn load(raw: i64, ty: &FixedType) -> Self;
    /// A plan-time constant already checked to fit (see [`Need`](super::constant::Need)).
    fn from_i128(v: i128) -> Self;
    /// A cast from values at `from` fractional bits in `[lo, hi]` to `to`.
    fn cast(from: i32, lo: i128, hi: i128, to: &FixedType) -> Option<Self::Cast>;
    /// Two work vectors of this integer and one of raw values.
    fn scratch(s: &mut Scratch) -> (&mut Vec<Self>, &mut Vec<Self>, &mut Vec<i64>);
}

/// Conversion of exact intermediates to a type, counting overflows.
pub(crate) trait CastOp<I: Copy>: Debug + Clone + Send + Sync {
    /// The raw result and whether the overflow mode acted.
    fn apply(&self, v: I) -> (i64, bool);

    /// Converts `src` into `dst` (same length) and returns the number of overflows.
    fn run(&self, src: &[I], dst: &mut [i64]) -> u64 {
        self.run_map(src, dst, |v| v)
    }

    /// Converts `f(x)` for every `x` of `src` into `dst`, returning the number of overflows.
    fn run_map<T: Copy>(&self, src: &[T], dst: &mut [i64], f: impl Fn(T) -> I) -> u64 {
        let mut n = 0;
        for (d, &s) in dst.iter_mut().zip(src) {
            let (y, o) = self.apply(f(s));
            *d = y;
            n += o as u64;
        }
        n
    }
}

impl Int for i64 {
    const ZERO: Self = 0;
    type Cast = Cast64;

    #[inline(always)]
    fn load(raw: i64, _ty: &FixedType) -> Self {
        raw
    }

    fn from_i128(v: i128) -> Self {
        v as i64
    }

    fn cast(from: i32, lo: i128, hi: i128, to: &FixedType) -> Option<Cast64> {
        Cast64::new(from, lo, hi, to)
    }

    fn scratch(s: &mut Scratch) -> (&mut Vec<i64>, &mut Vec<i64>, &mut Vec<i64>) {
        let [a, b, c] = &mut s.i64s;
        (a, b, c)
    }
}

impl Int for i128 {
    const ZERO: Self = 0;
    type Cast = WideCast;

    #[inline(always)]
    fn load(raw: i64, ty: &FixedType) -> Self {
        load(raw, ty)
    }

    fn from_i128(v: i128) -> Self {
        v
    }

    fn cast(from: i32, _lo: i128, _hi: i128, to: &FixedType) -> Option<WideCast> {
        Some(WideCast { from, to: *to })
    }

    fn scratch(s: &mut Scratch) -> (&mut Vec<i128>, &mut Vec<i128>, &mut Vec<i64>) {
        let [a, b] = &mut s.i128s;
        (a, b, &mut s.i64s[2])
    }
}

/// The general conversion: [`fixed::cast`] on an `i128`.
#[derive(Debug, Clone)]
pub(crate) struct WideCast {
    from: i32,
    to: FixedType,
}

impl CastOp<i128> for WideCast {
    #[inline]
    fn apply(&self, v: i128) -> (i64, bool) {
        let c = fixed::cast(v, self.from, &self.to);
        (c.raw as i64, c.overflow)
    }
}

/// Quantization of an `i64` by a shift fixed at plan time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Quant {
    /// The target is at least as fine: nothing is dropped, no shift.
    Keep,
    /// The target is finer by this many bits.
    Shl(u32),
    /// `AP_TRN` dropping this many bits (1..=63).
    Trn(u32),
    /// `AP_RND` dropping this many bits (1..=63); the rounding addend never overflows.
    Rnd(u32),
}

impl Quant {
    #[inline(always)]
    fn apply(self, v: i64) -> i64 {
        match self {
            Quant::Keep => v,
            Quant::Shl(s) => v << s,
            Quant::Trn(s) => v >> s,
            Quant::Rnd(s) => (v + (1 << (s - 1))) >> s,
        }
    }
}

/// The overflow step of a cast on an already quantized `i64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fit {
    /// Every quantized value is in range.
    Keep,
    /// `AP_WRAP` to a signed type: sign-extend from bit `64 - unused`.
    WrapSigned(u32),
    /// `AP_WRAP` to an unsigned type narrower than 64 bits: keep the bits of the mask.
    WrapUnsigned(i64),
    /// `AP_SAT`, and `AP_SAT_SYM` with the symmetric lower bound.
    Sat(i64, i64),
    /// `AP_SAT_ZERO`.
    Zero(i64, i64),
}

impl Fit {
    /// The overflow step for quantized values in `[qlo, qhi]`; `None` for 64-bit unsigned
    /// targets whose range is not an `i64` range.
    pub(crate) fn new(qlo: i128, qhi: i128, to: &FixedType) -> Option<Fit> {
        let (min, max) = range(to);
        if max > i64::MAX as i128 {
            return None;
        }
        // AP_SAT_SYM treats the most negative value of a signed type as an overflow too.
        let sym = to.overflow == OverflowMode::SatSym && to.signed && to.width > 1;
        let lo = if sym { -max } else { min };
        if qlo >= lo && qhi <= max {
            return Some(Fit::Keep);
        }
        let (lo, min, max) = (lo as i64, min as i64, max as i64);
        Some(match to.overflow {
            OverflowMode::Wrap if to.signed => Fit::WrapSigned(64 - to.width),
            OverflowMode::Wrap => Fit::WrapUnsigned(max),
            OverflowMode::Sat | OverflowMode::SatSym => Fit::Sat(lo, max),
            OverflowMode::SatZero => Fit::Zero(min, max),
        })
    }

    #[inline(always)]
    pub(crate) fn apply(self, q: i64) -> (i64, bool) {
        match self {
            Fit::Keep => (q, false),
            Fit::WrapSigned(unused) => {
                let y = (q << unused) >> unused;
                (y, y != q)
            }
            Fit::WrapUnsigned(mask) => {
                let y = q & mask;
                (y, y != q)
            }
            Fit::Sat(lo, hi) => {
                let y = q.clamp(lo, hi);
                (y, y != q)
            }
            Fit::Zero(lo, hi) => {
                if q < lo || q > hi {
                    (0, true)
                } else {
                    (q, false)
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Fast(Quant, Fit),
    Generic,
}

/// A cast of `i64` values known to lie in a range, specialised at plan time.
#[derive(Debug, Clone)]
pub(crate) struct Cast64 {
    from: i32,
    to: FixedType,
    kind: Kind,
    avx2: bool,
}

impl Cast64 {
    /// A cast from values at `from` fractional bits in `[lo, hi]` to `to`; `None` when that range
    /// is not an `i64` range.
    pub(crate) fn new(from: i32, lo: i128, hi: i128, to: &FixedType) -> Option<Cast64> {
        if lo < i64::MIN as i128 || hi > i64::MAX as i128 || lo > hi {
            return None;
        }
        let generic = Cast64 { from, to: *to, kind: Kind::Generic, avx2: simd::has_avx2_fma() };
        let shift = frac(to) - from as i64;
        let quantized = if shift == 0 {
            Some((Quant::Keep, lo, hi))
        } else if shift > 0 {
            let s = shift as u32;
            (shift < 63 && bits(lo).max(bits(hi)) + s <= 63).then(|| (Quant::Shl(s), lo << s, hi << s))
        } else if shift > -64 {
            let s = (-shift) as u32;
            let half = 1i128 << (s - 1);
            match to.quant {
                QuantMode::Trn => Some((Quant::Trn(s), lo >> s, hi >> s)),
                QuantMode::Rnd if hi + half <= i64::MAX as i128 => {
                    Some((Quant::Rnd(s), (lo + half) >> s, (hi + half) >> s))
                }
                _ => None,
            }
        } else {
            None
        };
        let Some((quant, qlo, qhi)) = quantized else {
            return Some(generic);
        };
        Some(match Fit::new(qlo, qhi, to) {
            Some(fit) => Cast64 { kind: Kind::Fast(quant, fit), ..generic },
            None => generic,
        })
    }

    /// The specialised steps (quantization, then overflow), when the cast has them.
    pub(crate) fn steps(&self) -> Option<(Quant, Fit)> {
        match self.kind {
            Kind::Fast(q, fit) => Some((q, fit)),
            Kind::Generic => None,
        }
    }

    /// True when the cast is the identity on its input range.
    pub(crate) fn is_identity(&self) -> bool {
        self.kind == Kind::Fast(Quant::Keep, Fit::Keep)
    }

    /// Converts `f(x)` for every `x` of `src`; inlined into the caller's (vectorised) loop.
    #[inline(always)]
    pub(crate) fn run_mapped<T: Copy>(&self, src: &[T], dst: &mut [i64], f: impl Fn(T) -> i64) -> u64 {
        match self.kind {
            Kind::Fast(Quant::Keep, fit) => run_fit(fit, src, dst, f),
            Kind::Fast(Quant::Shl(s), fit) => run_fit(fit, src, dst, |v| f(v) << s),
            Kind::Fast(Quant::Trn(s), fit) => run_fit(fit, src, dst, |v| f(v) >> s),
            Kind::Fast(Quant::Rnd(s), fit) => {
                let half = 1i64 << (s - 1);
                run_fit(fit, src, dst, |v| (f(v) + half) >> s)
            }
            Kind::Generic => each(src, dst, |v| fixed::cast_i64(f(v), self.from, &self.to)),
        }
    }
}

impl Cast64 {
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn run_mapped_avx2<T: Copy>(&self, src: &[T], dst: &mut [i64], f: impl Fn(T) -> i64) -> u64 {
        self.run_mapped(src, dst, f)
    }
}

#[inline(always)]
fn run_fit<T: Copy>(fit: Fit, src: &[T], dst: &mut [i64], q: impl Fn(T) -> i64) -> u64 {
    match fit {
        Fit::Keep => {
            for (d, &s) in dst.iter_mut().zip(src) {
                *d = q(s);
            }
            0
        }
        Fit::WrapSigned(unused) => each(src, dst, |s| Fit::WrapSigned(unused).apply(q(s))),
        Fit::WrapUnsigned(mask) => each(src, dst, |s| Fit::WrapUnsigned(mask).apply(q(s))),
        Fit::Sat(lo, hi) => each(src, dst, |s| Fit::Sat(lo, hi).apply(q(s))),
        Fit::Zero(lo, hi) => each(src, dst, |s| Fit::Zero(lo, hi).apply(q(s))),
    }
}

#[inline(always)]
fn each<T: Copy>(src: &[T], dst: &mut [i64], f: impl Fn(T) -> (i64, bool)) -> u64 {
    let mut n = 0u64;
    for (d, &s) in dst.iter_mut().zip(src) {
        let (y, o) = f(s);
        *d = y;
        n += o as u64;
    }
    n
}

impl CastOp<i64> for Cast64 {
    #[inline]
    fn apply(&self, v: i64) -> (i64, bool) {
        match self.kind {
            Kind::Fast(q, fit) => fit.apply(q.apply(v)),
            Kind::Generic => fixed::cast_i64(v, self.from, &self.to),
        }
    }

    fn run_map<T: Copy>(&self, src: &[T], dst: &mut [i64], f: impl Fn(T) -> i64) -> u64 {
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `avx2` is true only when the CPU reported AVX2 and FMA.
            return unsafe { self.run_mapped_avx2(src, dst, f) };
        }
        self.run_mapped(src, dst, f)
    }
}

/// `y = cast(x)` over a block: the element-wise conversion of layers that move data.
#[derive(Debug, Clone)]
pub(crate) enum Convert {
    /// The cast is the identity on the input's values: a copy.
    Copy,
    I64(Cast64),
    I128(FixedType, WideCast),
}

impl Convert {
    /// A conversion from `x` to `to`; `fast` allows the `i64` specialisations.
    pub(crate) fn new(x: &FixedType, to: &FixedType, fast: bool) -> Option<Convert> {
        let (lo, hi) = range(x);
        let from = i32::try_from(frac(x)).ok()?;
        if fast && fits_i64(x) {
            let c = Cast64::new(from, lo, hi, to)?;
            return Some(if c.is_identity() && fits_i64(to) { Convert::Copy } else { Convert::I64(c) });
        }
        Some(Convert::I128(*x, WideCast { from, to: *to }))
    }

    pub(crate) fn describe(&self) -> &'static str {
        match self {
            Convert::Copy => "copy",
            Convert::I64(_) => "i64",
            Convert::I128(..) => "i128",
        }
    }

    /// Converts `out.len()` values of `x`; returns the number of overflows.
    pub(crate) fn run(&self, x: &[i64], out: &mut [i64], s: &mut Scratch) -> u64 {
        let x = &x[..out.len()];
        match self {
            Convert::Copy => {
                out.copy_from_slice(x);
                0
            }
            Convert::I64(c) => c.run(x, out),
            Convert::I128(ty, c) => {
                let t = &mut s.i128s[0];
                t.clear();
                t.extend(x.iter().map(|&r| load(r, ty)));
                c.run(t, out)
            }
        }
    }
}

/// A layer that is one conversion from its input's type to its own, with an `output` overflow
/// counter: `Reshape` and `Quantize`.
#[derive(Debug)]
pub(crate) struct CastKernel {
    convert: Convert,
    counter: usize,
}

impl CastKernel {
    pub(crate) fn build(ctx: &mut super::plan::Ctx) -> Result<Self, super::SimError> {
        let convert = Convert::new(&ctx.in_ty(0)?, &ctx.out_ty()?, ctx.opts.fast_paths)
            .ok_or_else(|| super::constant::too_wide(ctx))?;
        let counter = ctx.counter("output", ctx.elements());
        Ok(CastKernel { convert, counter })
    }

    pub(crate) fn describe(&self) -> &'static str {
        self.convert.describe()
    }

    pub(crate) fn run(&self, x: &[i64], out: &mut [i64], s: &mut Scratch, counts: &mut [u64]) {
        counts[self.counter] += self.convert.run(x, out, s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SplitMix64: a tiny seeded generator for the tests.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
            xs[self.below(xs.len() as u64) as usize]
        }
    }

    fn random_type(rng: &mut Rng) -> FixedType {
        let width = match rng.below(4) {
            0 => 1 + rng.below(4) as u32,
            1 => 1 + rng.below(64) as u32,
            _ => 4 + rng.below(20) as u32,
        };
        let integer = rng.below(2 * width as u64 + 16) as i32 - width as i32 / 2 - 8;
        FixedType::new(width, integer, rng.below(2) == 0)
            .with_modes(rng.pick(&QuantMode::ALL), rng.pick(&OverflowMode::ALL))
    }

    fn random_in(rng: &mut Rng, lo: i128, hi: i128) -> i64 {
        let span = (hi - lo) as u128;
        let r = match rng.below(4) {
            0 => lo,
            1 => hi,
            _ => lo + (rng.next() as u128 % (span + 1)) as i128,
        };
        r as i64
    }

    #[test]
    fn cast64_matches_fixed_cast() {
        let mut rng = Rng(7);
        let mut fast = 0;
        for _ in 0..20_000 {
            let to = random_type(&mut rng);
            let from = rng.below(80) as i32 - 20;
            let b = 1 + rng.below(62) as u32;
            let (lo, hi) = match rng.below(3) {
                0 => (-(1i128 << b), (1i128 << b) - 1),
                1 => (0, (1i128 << b) - 1),
                _ => (i64::MIN as i128, i64::MAX as i128),
            };
            let Some(c) = Cast64::new(from, lo, hi, &to) else {
                assert!(!fits_i64(&to) || lo < i64::MIN as i128);
                continue;
            };
            fast += matches!(c.kind, Kind::Fast(..)) as usize;
            let src: Vec<i64> = (0..16).map(|_| random_in(&mut rng, lo, hi)).collect();
            let mut dst = vec![0; src.len()];
            let n = c.run(&src, &mut dst);
            let baseline = Cast64 { avx2: false, ..c.clone() };
            let mut plain = vec![0; src.len()];
            assert_eq!((baseline.run(&src, &mut plain), &plain), (n, &dst));
            let mut expected_n = 0;
            for (&s, &d) in src.iter().zip(&dst) {
                let e = fixed::cast(s as i128, from, &to);
                assert_eq!((d, c.apply(s).0), (e.raw as i64, e.raw as i64), "{s} at {from} to {to:?}: {c:?}");
                assert_eq!(c.apply(s).1, e.overflow);
                expected_n += e.overflow as u64;
            }
            assert_eq!(n, expected_n);
        }
        assert!(fast > 5_000, "only {fast} casts were specialised");
    }

    #[test]
    fn wide_cast_keeps_unsigned_64_bit_patterns() {
        let to = FixedType::new(64, 64, false);
        let c = WideCast { from: 0, to };
        let (raw, o) = c.apply((1i128 << 64) - 1);
        assert_eq!((raw, o), (-1, false));
        assert_eq!(load(raw, &to), (1i128 << 64) - 1);
    }

    #[test]
    fn fit_reads_the_type() {
        let t = FixedType::new(8, 8, true).with_modes(QuantMode::Trn, OverflowMode::SatSym);
        assert_eq!(Fit::new(-200, 200, &t), Some(Fit::Sat(-127, 127)));
        assert_eq!(Fit::new(-127, 127, &t), Some(Fit::Keep));
        assert_eq!(Fit::new(-128, 127, &t.with_modes(QuantMode::Trn, OverflowMode::Sat)), Some(Fit::Keep));
        assert_eq!(Fit::new(0, 1, &FixedType::new(64, 0, false)), None);
    }
}
