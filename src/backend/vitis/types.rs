//! C++ spellings of fixed-point types.

use crate::fixed::FixedType;

/// The C++ spelling of a type: always `ap_[u]fixed<..>` (an `ap_int<W>` target converts by
/// truncating toward zero, unlike the IR's `ap_fixed<W,W>` semantics).
pub fn cpp_type(ty: &FixedType) -> String {
    ty.ap_fixed_spelling()
}

/// The raw values of constants that validation found exactly representable in a type, its scale
/// computed once.
#[derive(Debug, Clone, Copy)]
pub struct Raws {
    scale: f64,
}

impl Raws {
    pub fn new(ty: &FixedType) -> Self {
        Raws { scale: 2f64.powi(ty.frac_bits()) }
    }

    /// The raw value of `v`: `v` scaled to the LSB when that is an integer below `2^64` in
    /// magnitude.
    #[inline]
    pub fn of(&self, v: f64) -> Option<i128> {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixed::{OverflowMode, QuantMode};

    #[test]
    fn spells_types() {
        assert_eq!(cpp_type(&FixedType::new(16, 6, true)), "ap_fixed<16,6>");
        let t = FixedType::new(18, 1, false).with_modes(QuantMode::Rnd, OverflowMode::Sat);
        assert_eq!(cpp_type(&t), "ap_ufixed<18,1,AP_RND,AP_SAT>");
        let t = FixedType::new(8, -2, true).with_modes(QuantMode::RndConv, OverflowMode::Wrap);
        assert_eq!(cpp_type(&t), "ap_fixed<8,-2,AP_RND_CONV,AP_WRAP>");
        assert_eq!(cpp_type(&FixedType::int(8, true)), "ap_fixed<8,8>");
        assert_eq!(cpp_type(&FixedType::int(3, false)), "ap_ufixed<3,3>");
        let t = FixedType::int(8, true).with_modes(QuantMode::Trn, OverflowMode::Sat);
        assert_eq!(cpp_type(&t), "ap_fixed<8,8,AP_TRN,AP_SAT>");
    }

    /// `Raws::of` is the definition: the scaled value when it is an integer below `2^64`.
    #[test]
    fn raws_are_the_scaled_integers() {
        let by_definition = |v: f64, ty: &FixedType| {
            let raw = v * 2f64.powi(ty.frac_bits());
            (raw.is_finite() && raw.fract() == 0.0 && raw.abs() < 2f64.powi(64)).then_some(raw as i128)
        };
        let mut next = crate::test_rng::below(0x1405_7b7e_f767_814fu64);
        let specials = [0.0, -0.0, f64::NAN, f64::INFINITY, -f64::INFINITY, 1e-310, 1.5];
        for _ in 0..100_000 {
            let ty = FixedType::new(1 + next(53) as u32, next(120) as i32 - 60, next(2) == 0);
            let raw = (next(u64::MAX) as i64 >> next(64)) as f64;
            let v = match next(5) {
                0 => raw * 2f64.powi(next(200) as i32 - 100),
                1 => specials[next(specials.len() as u64) as usize],
                _ => raw * 2f64.powi(-ty.frac_bits()),
            };
            let got = Raws::new(&ty).of(v);
            assert_eq!(got, by_definition(v, &ty), "{v} in {ty}");
        }
    }
}
