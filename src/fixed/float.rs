//! Conversions between `f64` and exact fixed-point values.
//!
//! * [`from_f64`] behaves as `ap_fixed<...> v = (double)x;`: the double's exact value is converted
//!   with the target's own quantization and overflow modes, exactly like an assignment from
//!   another fixed-point value (see [`cast`]). One header quirk is reproduced: a subnormal double
//!   is read as if its exponent field were a normal one, i.e. `(2^52 + mantissa) * 2^-1075`
//!   instead of `mantissa * 2^-1074`. It only shows for targets with more than ~1020 fractional
//!   bits. Integer types are modelled as `ap_fixed<W,W>`: the C++ `ap_int<W> v = x;` instead
//!   truncates toward zero and turns every x in (-0.5, 0) into +1 (declare such variables with
//!   [`FixedType::ap_fixed_spelling`]).
//! * [`to_f64`] is exact when the value is representable and otherwise correctly rounded (to
//!   nearest, ties to even), including subnormal results and overflow to infinity. The headers'
//!   `to_double()` agrees in the normal range; below it, it returns garbage (a wrapped exponent),
//!   which is not reproduced.

use super::cast::{cast, increment, Cast};
use super::error::FixedError;
use super::types::{FixedType, OverflowMode};

const MANTISSA_BITS: u32 = 52;
const EXPONENT_BIAS: i64 = 1023;
/// Exponent of the LSB of the smallest subnormal double.
const MIN_LSB_EXP: i64 = -1074;
const MAX_EXP: i64 = 1023;

/// Converts `x` to `to` as the `ap_fixed` constructor from `double` does. NaN and infinities are
/// rejected (the headers only warn and then produce garbage).
#[inline]
pub fn from_f64(x: f64, to: &FixedType) -> Result<Cast, FixedError> {
    if let Some(c) = scaled(x, to) {
        return Ok(c);
    }
    general(x, to)
}

/// [`from_f64`] through the exact value of the double's mantissa, for any finite `x`.
#[inline(never)]
fn general(x: f64, to: &FixedType) -> Result<Cast, FixedError> {
    if !x.is_finite() {
        return Err(FixedError::NotFinite { value: x });
    }
    let bits = x.to_bits();
    if bits << 1 == 0 {
        return Ok(cast(0, 0, to));
    }
    Ok(from_bits(bits, to))
}

/// [`from_f64`] of a finite nonzero double's bits, through the exact value of its mantissa.
fn from_bits(bits: u64, to: &FixedType) -> Cast {
    let biased_exp = ((bits >> MANTISSA_BITS) & 0x7ff) as i64;
    // The implicit leading one is set for subnormals too, as the headers do.
    let mantissa = ((bits & ((1 << MANTISSA_BITS) - 1)) | (1 << MANTISSA_BITS)) as i128;
    let signed_mantissa = if bits >> 63 == 1 { -mantissa } else { mantissa };
    // x = signed_mantissa * 2^(biased_exp - bias - 52); frac is that exponent negated.
    let frac = EXPONENT_BIAS + MANTISSA_BITS as i64 - biased_exp;
    cast(signed_mantissa, frac as i32, to)
}

/// [`from_f64`] in `f64` and `i64` arithmetic, or `None` where that is not shown exact: a normal
/// `x` whose scaled value `s = x * 2^F` is normal and below `2^62` in magnitude, converted to a
/// type of at most 62 bits.
///
/// Scaling by a normal power of two is then exact, and so are `|s|`'s integer part `t` (a
/// truncating conversion) and fraction `r = |s| - t` (Sterbenz: `t <= |s| < 2t` once `t >= 1`).
/// The floor of `s` and the dropped bits [`cast`] rounds by follow from them: for `s >= 0` the
/// floor is `t` and the fraction `r`; for `s < 0` with `r > 0` the floor is `-t - 1` and the
/// fraction `1 - r`, whose half bit is `r <= 1/2` and whose lower bits are nonzero unless
/// `r == 1/2`. The rounded integer is then fitted as `cast` fits it.
#[inline(always)]
fn scaled(x: f64, to: &FixedType) -> Option<Cast> {
    const LIMIT: f64 = (1u64 << 62) as f64;
    let f = to.frac_bits_i64();
    if !(-1000..=1000).contains(&f) || !(1..=62).contains(&to.width) {
        return None;
    }
    // 2^f, a normal double.
    let s = x * f64::from_bits(((f + EXPONENT_BIAS) as u64) << MANTISSA_BITS);
    let a = s.abs();
    // Also false for NaN and infinities.
    if !((f64::MIN_POSITIVE..LIMIT).contains(&a) && x.abs() >= f64::MIN_POSITIVE) {
        return None;
    }
    let t = a as i64;
    let r = a - t as f64;
    let negative = s < 0.0;
    let q = if r == 0.0 {
        // Exact: every mode keeps it.
        if negative {
            -t
        } else {
            t
        }
    } else {
        let (floor, half_bit, below_half) =
            if negative { (-t - 1, r <= 0.5, r != 0.5) } else { (t, r >= 0.5, r != 0.5) };
        floor + i64::from(increment(to.quant, half_bit, below_half, negative, floor & 1 != 0))
    };
    Some(fit_i64(q, to))
}

/// [`fit`] in `i64` arithmetic, for targets of 1 to 62 bits and `|q| < 2^63`.
#[inline(always)]
fn fit_i64(q: i64, to: &FixedType) -> Cast {
    let w = to.width;
    let (lo, hi) = if to.signed { (-(1i64 << (w - 1)), (1i64 << (w - 1)) - 1) } else { (0, (1i64 << w) - 1) };
    let low = lo + i64::from(to.signed && w > 1 && to.overflow == OverflowMode::SatSym);
    let overflow = q < low || q > hi;
    let raw = match to.overflow {
        OverflowMode::Wrap if to.signed => (q << (64 - w)) >> (64 - w),
        OverflowMode::Wrap => q & hi,
        OverflowMode::Sat | OverflowMode::SatSym => q.clamp(low, hi),
        OverflowMode::SatZero if overflow => 0,
        OverflowMode::SatZero => q,
    };
    Cast { raw: i128::from(raw), overflow }
}

/// The value `raw * 2^-frac` as the nearest `f64` (ties to even); exact when representable.
pub fn to_f64(raw: i128, frac: i32) -> f64 {
    // A raw of at most 53 bits converts exactly; scaled by a power of two that keeps every such
    // nonzero value normal, the product is exact too.
    if raw.unsigned_abs() < 1u128 << (MANTISSA_BITS + 1) && (-900..=1000).contains(&frac) {
        return raw as i64 as f64 * pow2(-i64::from(frac));
    }
    rounded_f64(raw, frac)
}

/// [`to_f64`] through the bit length of `raw`, for any `raw` and `frac`.
fn rounded_f64(raw: i128, frac: i32) -> f64 {
    if raw == 0 {
        return 0.0;
    }
    let magnitude = raw.unsigned_abs();
    let bit_len = 128 - magnitude.leading_zeros() as i64;
    let msb_exp = bit_len - 1 - frac as i64;
    let result = if msb_exp > MAX_EXP {
        f64::INFINITY
    } else {
        let lsb_exp = (msb_exp - MANTISSA_BITS as i64).max(MIN_LSB_EXP);
        let dropped = lsb_exp + frac as i64;
        // Fewer than 54 significant bits remain, so the conversion to f64 is exact; the final
        // product is exact too unless it overflows, where infinity is the right rounding.
        let significand = if dropped <= 0 {
            magnitude << dropped.unsigned_abs()
        } else {
            round_half_even(magnitude, dropped.unsigned_abs())
        };
        significand as f64 * pow2(lsb_exp)
    };
    if raw < 0 {
        -result
    } else {
        result
    }
}

/// `magnitude / 2^shift` rounded to nearest, ties to even, for `shift >= 1`.
fn round_half_even(magnitude: u128, shift: u64) -> u128 {
    if shift > 128 {
        return 0;
    }
    if shift == 128 {
        // Only 2^127 could reach half of 2^128, and it is a tie that rounds to even zero.
        return u128::from(magnitude > 1 << 127);
    }
    let floor = magnitude >> shift;
    let rest = magnitude & ((1u128 << shift) - 1);
    let half = 1u128 << (shift - 1);
    floor + u128::from(rest > half || (rest == half && floor & 1 == 1))
}

/// `2^k` as an `f64`: 0 below the smallest subnormal, infinity above the largest finite power.
pub(crate) fn pow2(k: i64) -> f64 {
    if k > MAX_EXP {
        f64::INFINITY
    } else if k >= 1 - EXPONENT_BIAS {
        f64::from_bits(((k + EXPONENT_BIAS) as u64) << MANTISSA_BITS)
    } else if k >= MIN_LSB_EXP {
        f64::from_bits(1u64 << (k - MIN_LSB_EXP))
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixed::{OverflowMode, QuantMode};

    /// A type of random width, binary point, signedness and modes, and a double near its range:
    /// one of its values, a value between two of them (ties included), just outside, or far
    /// outside.
    fn case(next: &mut impl FnMut(u64) -> u64) -> (FixedType, f64) {
        let width = 1 + next(64) as u32;
        let integer = next(2 * u64::from(width) + 40) as i32 - width as i32 / 2 - 20;
        let to = FixedType::new(width, integer, next(2) == 0).with_modes(
            QuantMode::ALL[next(QuantMode::ALL.len() as u64) as usize],
            OverflowMode::ALL[next(OverflowMode::ALL.len() as u64) as usize],
        );
        let raw = (to.min_raw() - 2).max(-(1 << 55)) + next(1 << 40.min(width + 3)) as i128;
        let f = to.frac_bits();
        let v = rounded_f64(raw, f);
        let x = match next(8) {
            0 => v * (1.0 + f64::EPSILON),
            1 => -v,
            2 => v + rounded_f64(1, f + 1),
            3 => v - rounded_f64(1, f + 1 + next(60) as i32),
            4 => v * 2f64.powi(next(130) as i32 - 65),
            5 => (next(u64::MAX) as i64 as f64) * 2f64.powi(next(200) as i32 - 100),
            _ => v,
        };
        (to, x)
    }

    /// The `f64` path of `from_f64` gives what the conversion of the exact mantissa gives, on
    /// values the types hold, values between and beyond them, in every mode.
    #[test]
    fn scaled_path_agrees_with_the_general_conversion() {
        let mut next = crate::test_rng::below(0x9e37_79b9_7f4a_7c15u64);
        let (mut fast, mut rounded) = (0, 0);
        for _ in 0..200_000 {
            let (to, x) = case(&mut next);
            if x == 0.0 || !x.is_finite() {
                continue;
            }
            let general = from_bits(x.to_bits(), &to);
            if let Some(got) = scaled(x, &to) {
                fast += 1;
                rounded += usize::from(x * pow2(to.frac_bits_i64()) != got.raw as f64);
                assert_eq!((got.raw, got.overflow), (general.raw, general.overflow), "{x} to {to:?}");
            }
            let got = from_f64(x, &to).expect("finite");
            assert_eq!((got.raw, got.overflow), (general.raw, general.overflow), "{x} to {to:?}");
        }
        assert!(
            fast > 100_000 && rounded > 30_000,
            "{fast} values took the f64 path, {rounded} of them rounded"
        );
    }

    /// The exact path of `to_f64` gives the correctly rounded general one's result.
    #[test]
    fn exact_to_f64_agrees_with_the_general_one() {
        let mut next = crate::test_rng::below(0x2545_f491_4f6c_dd1du64);
        for _ in 0..200_000 {
            let raw = (next(u64::MAX) as i64 >> next(64)) as i128;
            let frac = next(2200) as i32 - 1100;
            let general = rounded_f64(raw, frac);
            assert_eq!(to_f64(raw, frac).to_bits(), general.to_bits(), "{raw} * 2^-{frac}");
        }
    }
}
