//! `Input`: converts each float of a sample to the node's type as `ap_fixed v = (double)x;` does
//! ([`fixed::from_f64`]), counting the values its overflow mode changed.
//!
//! The fast conversion handles `AP_TRN` and `AP_RND` for normal doubles whose scaled value
//! `v = x * 2^F` is a normal double below `2^51` in magnitude: scaling by a power of two is then
//! exact, `floor` is exact, and the dropped fraction `v - floor(v)` is exact, so the rounding
//! decision is the exact one. Everything else goes through `fixed::from_f64`.

use super::cast::{frac, Fit};
use super::simd;
use super::SimError;
use crate::fixed::{self, FixedType, QuantMode};

#[derive(Debug, Clone)]
pub(crate) struct InputKernel {
    name: String,
    ty: FixedType,
    fast: Option<Fast>,
    avx2: bool,
    pub(crate) counter: usize,
}

#[derive(Debug, Clone, Copy)]
struct Fast {
    scale: f64,
    round: bool,
    fit: Fit,
}

/// `2^51`, below which the fast conversion applies.
const LIMIT: f64 = 2_251_799_813_685_248.0;

impl InputKernel {
    pub(crate) fn new(name: &str, ty: FixedType, fast: bool, counter: usize) -> Self {
        let f = frac(&ty);
        let fast = if fast && (-900..=900).contains(&f) { Fast::new(&ty, f as i32) } else { None };
        InputKernel { name: name.to_string(), ty, fast, avx2: simd::has_avx2_fma(), counter }
    }

    pub(crate) fn describe(&self) -> &'static str {
        if self.fast.is_some() {
            "fast from_f64"
        } else {
            "from_f64"
        }
    }

    /// Converts `x` (finite values) into `out`; returns the number of overflows.
    pub(crate) fn run(&self, x: &[f64], out: &mut [i64]) -> Result<u64, SimError> {
        let x = &x[..out.len()];
        let Some(fast) = self.fast else {
            return self.generic(x, out, |_| true);
        };
        let (overflows, missed) = fast.run(self.avx2, x, out);
        if missed {
            return Ok(overflows + self.generic(x, out, |v| !fast.covers(v))?);
        }
        Ok(overflows)
    }

    /// Converts with `fixed::from_f64` the elements `pick` selects.
    fn generic(&self, x: &[f64], out: &mut [i64], pick: impl Fn(f64) -> bool) -> Result<u64, SimError> {
        let mut overflows = 0;
        for (o, &v) in out.iter_mut().zip(x).filter(|(_, &v)| pick(v)) {
            let c = fixed::from_f64(v, &self.ty)
                .map_err(|e| SimError::Unsupported { layer: self.name.clone(), what: e.to_string() })?;
            *o = c.raw as i64;
            overflows += c.overflow as u64;
        }
        Ok(overflows)
    }
}

impl Fast {
    fn new(ty: &FixedType, f: i32) -> Option<Fast> {
        let round = match ty.quant {
            QuantMode::Trn => false,
            QuantMode::Rnd => true,
            _ => return None,
        };
        let fit = Fit::new(-simd::MAGIC_LIMIT, simd::MAGIC_LIMIT, ty)?;
        Some(Fast { scale: 2f64.powi(f), round, fit })
    }

    /// Whether the fast conversion is exact for `x`: zero, or a normal double whose scaled value
    /// is normal and below `2^51` in magnitude.
    #[inline(always)]
    fn covers(self, x: f64) -> bool {
        let v = (x * self.scale).abs();
        (x == 0.0) | ((x.abs() >= f64::MIN_POSITIVE) & (f64::MIN_POSITIVE..LIMIT).contains(&v))
    }

    /// Converts the covered elements, vectorised when the CPU allows; returns their overflows and
    /// whether any element was not covered.
    fn run(self, avx2: bool, x: &[f64], out: &mut [i64]) -> (u64, bool) {
        #[cfg(target_arch = "x86_64")]
        if avx2 {
            // SAFETY: `avx2` is true only when the CPU reported AVX2 and FMA.
            return unsafe { self.run_avx2(x, out) };
        }
        let _ = avx2;
        self.convert_any(x, out)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn run_avx2(self, x: &[f64], out: &mut [i64]) -> (u64, bool) {
        self.convert_any(x, out)
    }

    #[inline(always)]
    fn convert_any(self, x: &[f64], out: &mut [i64]) -> (u64, bool) {
        match (self.round, self.fit) {
            (false, fit) => self.convert::<false>(x, out, fit),
            (true, fit) => self.convert::<true>(x, out, fit),
        }
    }

    /// Converts the covered elements; returns their overflows and whether any was not covered.
    /// The overflow step is matched once per slice, so each loop runs one variant.
    #[inline(always)]
    fn convert<const ROUND: bool>(self, x: &[f64], out: &mut [i64], fit: Fit) -> (u64, bool) {
        match fit {
            Fit::Keep => self.convert_fit::<ROUND>(x, out, |q| (q, false)),
            Fit::WrapSigned(u) => self.convert_fit::<ROUND>(x, out, |q| Fit::WrapSigned(u).apply(q)),
            Fit::WrapUnsigned(m) => self.convert_fit::<ROUND>(x, out, |q| Fit::WrapUnsigned(m).apply(q)),
            Fit::Sat(lo, hi) => self.convert_fit::<ROUND>(x, out, |q| Fit::Sat(lo, hi).apply(q)),
            Fit::Zero(lo, hi) => self.convert_fit::<ROUND>(x, out, |q| Fit::Zero(lo, hi).apply(q)),
        }
    }

    #[inline(always)]
    fn convert_fit<const ROUND: bool>(
        self,
        x: &[f64],
        out: &mut [i64],
        fit: impl Fn(i64) -> (i64, bool),
    ) -> (u64, bool) {
        let (mut overflows, mut missed) = (0u64, false);
        for (o, &v) in out.iter_mut().zip(x) {
            let covered = self.covers(v);
            let scaled = v * self.scale;
            let floor = scaled.floor();
            let q = if ROUND && scaled - floor >= 0.5 { floor + 1.0 } else { floor };
            let (y, over) = fit(if covered { simd::to_i64(q) } else { 0 });
            *o = y;
            overflows += (over & covered) as u64;
            missed |= !covered;
        }
        (overflows, missed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixed::OverflowMode;

    #[test]
    fn fast_conversion_matches_from_f64() {
        let mut state = 11u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut checked = 0;
        for t in 0..400 {
            let width = 1 + (next() % 40) as u32;
            let integer = (next() % 40) as i32 - 12;
            let quant = if t % 2 == 0 { QuantMode::Trn } else { QuantMode::Rnd };
            let overflow =
                [OverflowMode::Wrap, OverflowMode::Sat, OverflowMode::SatZero, OverflowMode::SatSym]
                    [(next() % 4) as usize];
            let ty = FixedType::new(width, integer, next() % 2 == 0).with_modes(quant, overflow);
            let k = InputKernel::new("in", ty, true, 0);
            let fast = k.fast.expect("TRN and RND are specialised");
            for _ in 0..200 {
                let mantissa = (next() >> 11) as f64 / (1u64 << 53) as f64;
                let exponent = (next() % 60) as i32 - 30;
                let sign = if next() % 2 == 0 { -1.0 } else { 1.0 };
                let mut x = sign * mantissa * 2f64.powi(exponent);
                if next() % 4 == 0 {
                    // Ties and near-ties of the target resolution.
                    x = sign * ((next() % 4096) as f64 + 0.5) * 2f64.powi(-(width as i32 - integer));
                }
                let expected = fixed::from_f64(x, &ty).unwrap();
                if fast.covers(x) {
                    let mut raw = [0];
                    let over = fast.convert_any(&[x], &mut raw);
                    assert_eq!(
                        (raw[0], over.0 == 1),
                        (expected.raw as i64, expected.overflow),
                        "{x} to {ty:?}"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 50_000);
    }

    #[test]
    fn the_kernel_falls_back_where_the_fast_conversion_does_not_apply() {
        let ty = FixedType::new(12, 4, true).with_modes(QuantMode::Rnd, OverflowMode::Sat);
        let x =
            [0.0, -0.0, 1e-310, -1e-310, 5e-324, 1e300, -1e300, 7.99, -8.01, 0.001953125, -0.001953125, 3.3];
        for (fast, avx2) in [(true, true), (true, false), (false, false)] {
            let k = InputKernel { avx2: avx2 && simd::has_avx2_fma(), ..InputKernel::new("in", ty, fast, 0) };
            let mut out = [0i64; 12];
            let overflows = k.run(&x, &mut out).unwrap();
            let expected: Vec<_> = x.iter().map(|&v| fixed::from_f64(v, &ty).unwrap()).collect();
            assert_eq!(out.to_vec(), expected.iter().map(|c| c.raw as i64).collect::<Vec<_>>());
            assert_eq!(overflows, expected.iter().filter(|c| c.overflow).count() as u64);
        }
    }
}
