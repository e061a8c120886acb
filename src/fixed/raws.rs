//! [`Raws`]: the raw integers (`value * 2^frac_bits`) of many values of one type, the type's scale
//! computed once. Two readings: [`Raws::exact`] for constants validation found representable, and
//! [`Raws::rounded`] for a nearest integer.

use super::FixedType;

/// Raw integers of values of one type.
#[derive(Debug, Clone, Copy)]
pub struct Raws {
    scale: f64,
}

impl Raws {
    pub fn new(ty: &FixedType) -> Self {
        Raws { scale: 2f64.powi(ty.frac_bits()) }
    }

    /// The scaled value when it is an integer below `2^64` in magnitude.
    #[inline]
    pub fn exact(&self, v: f64) -> Option<i128> {
        const INTEGRAL: f64 = (1u64 << 52) as f64;
        const I64: f64 = (1u64 << 63) as f64;
        let raw = v * self.scale;
        let a = raw.abs();
        // Every double of magnitude 2^52 or more is an integer; below, truncation tells.
        if a < INTEGRAL {
            let r = raw as i64;
            (r as f64 == raw).then_some(i128::from(r))
        } else if a < I64 {
            Some(i128::from(raw as i64))
        } else {
            // Also false for infinities and NaN.
            (a < 2f64.powi(64)).then_some(raw as i128)
        }
    }

    /// The scaled value rounded half away from zero (as `f64::round`), converted as `as i64`
    /// does (saturating; NaN gives 0).
    #[inline]
    pub fn rounded(&self, v: f64) -> i64 {
        const INTEGRAL: f64 = (1u64 << 52) as f64;
        let s = v * self.scale;
        if s.abs() >= INTEGRAL || s.is_nan() {
            // Already an integer (or NaN).
            return s as i64;
        }
        // `t` truncates toward zero and the remainder `s - t` is exact.
        let t = s as i64;
        let r = s - t as f64;
        t + i64::from(r >= 0.5) - i64::from(r <= -0.5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A seeded value of the kinds the readings must get right, for a random type.
    fn case(next: &mut impl FnMut(u64) -> u64, specials: &[f64]) -> (FixedType, f64) {
        let ty = FixedType::new(1 + next(53) as u32, next(120) as i32 - 60, next(2) == 0);
        let raw = (next(u64::MAX) as i64 >> next(64)) as f64;
        let lsb = 2f64.powi(-ty.frac_bits());
        let v = match next(5) {
            0 => raw * 2f64.powi(next(200) as i32 - 100),
            1 => specials[next(specials.len() as u64) as usize] * lsb,
            2 => (raw + 0.5) * lsb,
            _ => raw * lsb,
        };
        (ty, v)
    }

    /// `exact` is the definition: the scaled value when it is an integer below `2^64`.
    #[test]
    fn exact_raws_are_the_scaled_integers() {
        let by_definition = |v: f64, ty: &FixedType| {
            let raw = v * 2f64.powi(ty.frac_bits());
            (raw.is_finite() && raw.fract() == 0.0 && raw.abs() < 2f64.powi(64)).then_some(raw as i128)
        };
        let mut next = crate::test_rng::below(0x1405_7b7e_f767_814fu64);
        let specials = [0.0, -0.0, f64::NAN, f64::INFINITY, -f64::INFINITY, 1e-310, 1.5, 2f64.powi(70)];
        for _ in 0..100_000 {
            let (ty, v) = case(&mut next, &specials);
            assert_eq!(Raws::new(&ty).exact(v), by_definition(v, &ty), "{v} in {ty}");
        }
    }

    /// `rounded` is `f64::round` of the scaled value, converted as `as i64` does.
    #[test]
    fn rounded_raws_round_as_f64_round() {
        let mut next = crate::test_rng::below(0x6a09_e667_f3bc_c909u64);
        let specials = [0.0, -0.0, 0.5, -0.5, 2.5, -2.5, f64::NAN, f64::INFINITY, -f64::INFINITY, 1e300];
        for _ in 0..100_000 {
            let (ty, v) = case(&mut next, &specials);
            let expected = (v * 2f64.powi(ty.frac_bits())).round() as i64;
            assert_eq!(Raws::new(&ty).rounded(v), expected, "{v} in {ty}");
        }
    }
}
