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

use super::cast::{cast, Cast};
use super::error::FixedError;
use super::types::FixedType;

const MANTISSA_BITS: u32 = 52;
const EXPONENT_BIAS: i64 = 1023;
/// Exponent of the LSB of the smallest subnormal double.
const MIN_LSB_EXP: i64 = -1074;
const MAX_EXP: i64 = 1023;

/// Converts `x` to `to` as the `ap_fixed` constructor from `double` does. NaN and infinities are
/// rejected (the headers only warn and then produce garbage).
pub fn from_f64(x: f64, to: &FixedType) -> Result<Cast, FixedError> {
    if !x.is_finite() {
        return Err(FixedError::NotFinite { value: x });
    }
    let bits = x.to_bits();
    if bits << 1 == 0 {
        return Ok(cast(0, 0, to));
    }
    if let Some(raw) = exact_raw(x, to) {
        return Ok(Cast { raw, overflow: false });
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

/// The raw value of a nonzero `x` that `to` holds exactly, without quantization or overflow
/// (any mode keeps it as is), for targets of at most 53 bits; `None` when that is not shown.
///
/// `s = x * 2^F` is exact when it is a nonzero integer (a normal double scaled by a normal power
/// of two), and is then `x`'s raw value.
#[inline]
fn exact_raw(x: f64, to: &FixedType) -> Option<i128> {
    let f = to.frac_bits_i64();
    if !(1..=53).contains(&to.width) || !(-900..=900).contains(&f) {
        return None;
    }
    let s = x * pow2(f);
    let r = s as i64;
    // AP_SAT_SYM changes the most negative value of a signed type too.
    let sym = to.signed && to.width > 1 && to.overflow == crate::fixed::OverflowMode::SatSym;
    let low = to.min_raw() + i128::from(sym);
    (s != 0.0 && r as f64 == s && (low..=to.max_raw()).contains(&i128::from(r))).then_some(i128::from(r))
}

/// The value `raw * 2^-frac` as the nearest `f64` (ties to even); exact when representable.
pub fn to_f64(raw: i128, frac: i32) -> f64 {
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

    /// The exact shortcut of `from_f64` gives what the general conversion gives, on values the
    /// types hold (and their neighbours) in every mode.
    #[test]
    fn exact_shortcut_agrees_with_the_general_conversion() {
        let mut next = crate::test_rng::below(0x9e37_79b9_7f4a_7c15u64);
        let mut shortcut = 0;
        for _ in 0..50_000 {
            let width = 1 + next(60) as u32;
            let integer = next(2 * u64::from(width) + 20) as i32 - width as i32 / 2 - 10;
            let to = FixedType::new(width, integer, next(2) == 0).with_modes(
                QuantMode::ALL[next(QuantMode::ALL.len() as u64) as usize],
                OverflowMode::ALL[next(OverflowMode::ALL.len() as u64) as usize],
            );
            let raw = (to.min_raw() - 2).max(-(1 << 55)) + next(1 << 40.min(width + 3)) as i128;
            let x = match next(4) {
                0 => to_f64(raw, to.frac_bits()) * (1.0 + f64::EPSILON),
                1 => -to_f64(raw, to.frac_bits()),
                _ => to_f64(raw, to.frac_bits()),
            };
            if x == 0.0 || !x.is_finite() {
                continue;
            }
            shortcut += exact_raw(x, &to).is_some() as usize;
            let got = from_f64(x, &to).expect("finite");
            let general = from_bits(x.to_bits(), &to);
            assert_eq!((got.raw, got.overflow), (general.raw, general.overflow), "{x} to {to:?}");
        }
        assert!(shortcut > 10_000, "only {shortcut} values took the shortcut");
    }
}
