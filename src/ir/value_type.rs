//! Fixed-point types holding given values exactly: the narrowest type of a set of values, or of
//! a value set `{s * k * 2^exp}` a quantizer's config fixes.

use crate::fixed::FixedType;
use crate::ir::MAX_CONST_WIDTH;

/// `v = mant * 2^exp` with an odd `mant` (`None` for zero).
pub fn decompose(v: f64) -> Option<(i128, i32)> {
    if v == 0.0 {
        return None;
    }
    let bits = v.to_bits();
    let exp_bits = ((bits >> 52) & 0x7ff) as i32;
    let frac = (bits & ((1u64 << 52) - 1)) as i128;
    let (mut mant, mut exp) =
        if exp_bits == 0 { (frac, -1074) } else { (frac | (1i128 << 52), exp_bits - 1075) };
    let tz = mant.trailing_zeros() as i32;
    mant >>= tz;
    exp += tz;
    Some((if v < 0.0 { -mant } else { mant }, exp))
}

pub fn bit_len(v: i128) -> u32 {
    128 - v.max(0).leading_zeros()
}

/// The narrowest type holding the raw integers `lo..=hi` with the LSB weighing `2^lsb`.
pub fn covering_type(lo: i128, hi: i128, lsb: i32) -> Result<FixedType, String> {
    let signed = lo < 0;
    let width = if signed { (bit_len(hi) + 1).max(bit_len(-lo - 1) + 1) } else { bit_len(hi).max(1) };
    if width > MAX_CONST_WIDTH {
        return Err(format!("the quantized values need {width} bits, more than {MAX_CONST_WIDTH}"));
    }
    Ok(FixedType::new(width, width as i32 + lsb, signed))
}

/// The type of the value set `{s * k * 2^exp : s in scales, k in k_lo..=k_hi}`.
pub fn declared_type(k_lo: i128, k_hi: i128, exp: i32, scales: &[f32]) -> Result<FixedType, String> {
    let parts: Vec<(i128, i32)> = scales.iter().filter_map(|&s| decompose(s as f64)).collect();
    let Some(lsb) = parts.iter().map(|&(_, e)| e + exp).min() else {
        return covering_type(0, 0, 0);
    };
    let (mut lo, mut hi) = (0i128, 0i128);
    for (mant, e) in parts {
        let shift = (e + exp - lsb) as u32;
        if shift > 60 || mant.unsigned_abs() > (1u128 << 60) {
            return Err("the scales span too wide a range for one fixed-point type".into());
        }
        let unit = mant << shift;
        for k in [k_lo, k_hi] {
            let r = k.checked_mul(unit).ok_or("the quantized values are too large")?;
            lo = lo.min(r);
            hi = hi.max(r);
        }
    }
    covering_type(lo, hi, lsb)
}

/// The narrowest type holding every value.
pub fn narrowest_type(values: &[f64]) -> Result<FixedType, String> {
    let parts: Vec<(i128, i32)> = values.iter().filter_map(|&v| decompose(v)).collect();
    let Some(lsb) = parts.iter().map(|&(_, e)| e).min() else {
        return covering_type(0, 0, 0);
    };
    let (mut lo, mut hi) = (0i128, 0i128);
    for (mant, e) in parts {
        let shift = (e - lsb) as u32;
        if shift > 60 {
            return Err("the quantized values span too wide a range for one fixed-point type".into());
        }
        let r = mant << shift;
        lo = lo.min(r);
        hi = hi.max(r);
    }
    covering_type(lo, hi, lsb)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_helpers() {
        assert_eq!(covering_type(-32, 31, -5).unwrap(), FixedType::new(6, 1, true));
        assert_eq!(covering_type(0, 0, 0).unwrap(), FixedType::new(1, 1, false));
        assert_eq!(covering_type(-1, 0, 0).unwrap(), FixedType::new(1, 1, true));
        assert_eq!(narrowest_type(&[0.5, -0.25, 3.0]).unwrap(), FixedType::new(5, 3, true));
        assert!(covering_type(0, 1i128 << 60, 0).is_err());
        assert_eq!(decompose(-0.375), Some((-3, -3)));
        assert_eq!(decompose(0.0), None);
    }
}
