//! Exact decimal text for fixed-point values.
//!
//! Every dyadic value `raw * 2^-frac` has a finite decimal expansion. [`to_decimal`] writes the
//! shortest exact one: an optional `-`, the integer digits, and a fractional part only when it is
//! non-zero, without trailing zeros or exponent (`-0.3125`, `3`, `0`, `0.0009765625`). Its length
//! grows linearly with `|frac|`. [`parse_decimal`] reads such text (also with a leading `+`,
//! surrounding whitespace, or trailing fractional zeros) back into a raw value of a given type,
//! refusing values it cannot hold exactly.

use super::bignum::BigUint;
use super::error::FixedError;
use super::types::FixedType;

/// `5^13`, the largest power of five below 2^32.
const FIVE_POW_CHUNK: (u32, u32) = (1_220_703_125, 13);

/// The exact decimal value of `raw * 2^-frac`, shortest form.
pub fn to_decimal(raw: i128, frac: i32) -> String {
    if raw == 0 {
        return "0".to_string();
    }
    let sign = if raw < 0 { "-" } else { "" };
    let mut magnitude = raw.unsigned_abs();
    let mut frac = frac as i64;
    // Cancel powers of two first, so an odd magnitude remains whenever frac stays positive.
    let cancel = (magnitude.trailing_zeros() as i64).min(frac.max(0));
    magnitude >>= cancel;
    frac -= cancel;
    let mut digits = BigUint::from_u128(magnitude);
    if frac <= 0 {
        digits.shl(frac.unsigned_abs());
        return format!("{sign}{}", digits.to_decimal_digits());
    }
    // magnitude / 2^frac == magnitude * 5^frac / 10^frac; an odd magnitude times 5^frac ends in 5,
    // so exactly `frac` fractional digits are significant.
    mul_pow5(&mut digits, frac.unsigned_abs());
    let text = digits.to_decimal_digits();
    let frac_len = frac as usize;
    let (int_part, frac_part) = if text.len() > frac_len {
        let split = text.len() - frac_len;
        (text[..split].to_string(), text[split..].to_string())
    } else {
        (
            "0".to_string(),
            format!("{}{text}", "0".repeat(frac_len - text.len())),
        )
    };
    format!("{sign}{int_part}.{frac_part}")
}

/// Reads a decimal number (`[+-]digits[.digits]`, either side of the point may be empty but not
/// both) and returns the raw value of `to` that holds it exactly. Fails when the text is not a
/// number, when the value is not a multiple of the type's LSB, or when it lies outside the raw
/// range `min_raw()..=max_raw()`.
pub fn parse_decimal(s: &str, to: &FixedType) -> Result<i128, FixedError> {
    to.validate()?;
    let text = s.trim();
    let bad = |reason: &str| FixedError::ParseDecimal {
        input: s.to_string(),
        reason: reason.to_string(),
    };
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        Some(_) => (false, text),
        None => return Err(bad("it is empty")),
    };
    let (int_digits, frac_digits) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if int_digits.is_empty() && frac_digits.is_empty() {
        return Err(bad("it has no digits"));
    }
    if let Some(c) = int_digits
        .chars()
        .chain(frac_digits.chars())
        .find(|c| !c.is_ascii_digit())
    {
        let reason = match c {
            'e' | 'E' => "exponent notation is not supported".to_string(),
            '.' => "it has more than one decimal point".to_string(),
            _ => format!("unexpected character `{c}`"),
        };
        return Err(bad(&reason));
    }
    let frac_digits = frac_digits.trim_end_matches('0');
    let mut value = BigUint::from_u128(0);
    for digit in int_digits.bytes().chain(frac_digits.bytes()) {
        value.mul_add_small(10, u32::from(digit - b'0'));
    }
    if value.is_zero() {
        return Ok(0);
    }
    let not_representable = || FixedError::NotRepresentable {
        value: text.to_string(),
        ty: *to,
    };
    let out_of_range = || FixedError::OutOfRange {
        value: text.to_string(),
        ty: *to,
    };
    // value / 10^d == (value / 5^d) / 2^d, and 5^d must divide it exactly.
    let decimals = frac_digits.len() as u64;
    if !div_pow5_exact(&mut value, decimals) {
        return Err(not_representable());
    }
    // raw = value * 2^(F - d)
    let shift = to.frac_bits_i64() as i128 - decimals as i128;
    if shift < 0 {
        let drop = u64::try_from(-shift).unwrap_or(u64::MAX);
        if value.trailing_zeros() < drop {
            return Err(not_representable());
        }
        value.shr(drop);
    } else if value.bit_len() as i128 + shift > 128 {
        return Err(out_of_range());
    } else {
        value.shl(shift as u64);
    }
    let magnitude = value.to_u128().ok_or_else(out_of_range)?;
    let raw = if negative {
        if magnitude > to.min_raw().unsigned_abs() {
            return Err(out_of_range());
        }
        0i128.wrapping_sub_unsigned(magnitude)
    } else {
        i128::try_from(magnitude).map_err(|_| out_of_range())?
    };
    if raw > to.max_raw() {
        return Err(out_of_range());
    }
    Ok(raw)
}

fn mul_pow5(value: &mut BigUint, mut exponent: u64) {
    let (chunk, chunk_exp) = FIVE_POW_CHUNK;
    while exponent >= u64::from(chunk_exp) {
        value.mul_add_small(chunk, 0);
        exponent -= u64::from(chunk_exp);
    }
    value.mul_add_small(5u32.pow(exponent as u32), 0);
}

/// Divides by `5^exponent` if that leaves no remainder; returns false (value unspecified)
/// otherwise.
fn div_pow5_exact(value: &mut BigUint, mut exponent: u64) -> bool {
    let (chunk, chunk_exp) = FIVE_POW_CHUNK;
    while exponent > 0 {
        let step = exponent.min(u64::from(chunk_exp));
        let divisor = if step == u64::from(chunk_exp) {
            chunk
        } else {
            5u32.pow(step as u32)
        };
        if value.div_small(divisor) != 0 {
            return false;
        }
        exponent -= step;
    }
    true
}
