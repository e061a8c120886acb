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

/// Most fractional digits the `u128` path of [`write_decimal`] and [`parse_decimal`] handles:
/// `x * 5^d < 10^d` for `x < 2^d`, and `10^38 < 2^128`.
const FAST_DIGITS: u32 = 38;

/// The exact decimal value of `raw * 2^-frac`, shortest form.
pub fn to_decimal(raw: i128, frac: i32) -> String {
    let mut s = String::new();
    write_decimal(&mut s, raw, frac);
    s
}

/// Appends [`to_decimal`]'s text of `raw * 2^-frac` to `out`.
pub fn write_decimal(out: &mut String, raw: i128, frac: i32) {
    if let (Ok(small), 0..=19) = (i64::try_from(raw), frac) {
        return write_small(out, small, frac as u32);
    }
    if raw == 0 {
        out.push('0');
        return;
    }
    let negative = raw < 0;
    let mut magnitude = raw.unsigned_abs();
    let mut frac = frac as i64;
    // Cancel powers of two first, so an odd magnitude remains whenever frac stays positive.
    let cancel = (magnitude.trailing_zeros() as i64).min(frac.max(0));
    magnitude >>= cancel;
    frac -= cancel;
    if (1..=19).contains(&frac) && magnitude >> frac <= u128::from(u64::MAX) {
        // The same digits as below in 64-bit arithmetic: `rem * 5^frac < 10^frac <= 10^19`.
        let f = frac as u32;
        let fraction = (magnitude & ((1u128 << f) - 1)) as u64 * POW5[f as usize] as u64;
        return push_point(out, negative, (magnitude >> f) as u64, fraction, f as usize);
    }
    if negative {
        out.push('-');
    }
    if frac <= 0 && frac.unsigned_abs() < u64::from(magnitude.leading_zeros()) {
        push_digits(out, magnitude << frac.unsigned_abs(), 0);
    } else if (1..=i64::from(FAST_DIGITS)).contains(&frac) {
        // The fraction `rem / 2^frac` is `rem * 5^frac / 10^frac`: exactly `frac` digits.
        let f = frac as u32;
        push_digits(out, magnitude >> f, 0);
        out.push('.');
        push_digits(out, (magnitude & ((1u128 << f) - 1)) * POW5[f as usize], f as usize);
    } else {
        out.push_str(&big_decimal(magnitude, frac));
    }
}

/// [`write_decimal`] of an `i64` raw with 0 to 19 fractional bits, in 64-bit arithmetic (as the
/// 64-bit path there: `rem * 5^frac < 10^frac <= 10^19`).
#[inline]
fn write_small(out: &mut String, raw: i64, frac: u32) {
    let magnitude = raw.unsigned_abs();
    if magnitude == 0 {
        out.push('0');
        return;
    }
    let cancel = magnitude.trailing_zeros().min(frac);
    let (magnitude, f) = (magnitude >> cancel, frac - cancel);
    let fraction = (magnitude & ((1 << f) - 1)) * POW5[f as usize] as u64;
    push_point(out, raw < 0, magnitude >> f, fraction, f as usize);
}

/// `5^k` for `k = 0..=FAST_DIGITS`.
const POW5: [u128; FAST_DIGITS as usize + 1] = {
    let mut t = [1u128; FAST_DIGITS as usize + 1];
    let mut k = 1;
    while k < t.len() {
        t[k] = t[k - 1] * 5;
        k += 1;
    }
    t
};

/// Appends the decimal digits of `v`, left-padded with zeros to `width`.
fn push_digits(out: &mut String, mut v: u128, width: usize) {
    if let (Ok(small), true) = (u64::try_from(v), width <= 20) {
        return push_u64(out, small, width);
    }
    let mut buf = [b'0'; 40];
    let mut at = buf.len();
    // 128-bit division is a library call; most values fit 64 bits.
    while v > u128::from(u64::MAX) {
        at -= 1;
        buf[at] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    let mut v = v as u64;
    while v > 0 || at == buf.len() {
        at -= 1;
        buf[at] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    at = at.min(buf.len() - width.min(buf.len()));
    out.push_str(std::str::from_utf8(&buf[at..]).unwrap_or_default());
}

/// `"00"`, `"01"`, ..., `"99"`.
const PAIRS: [u8; 200] = {
    let mut t = [0u8; 200];
    let mut k = 0;
    while k < 100 {
        t[2 * k] = b'0' + (k / 10) as u8;
        t[2 * k + 1] = b'0' + (k % 10) as u8;
        k += 1;
    }
    t
};

/// Appends the decimal digits of `v`, left-padded with zeros to `width` (at most 20), two
/// digits a division.
fn push_u64(out: &mut String, v: u64, width: usize) {
    const LEN: usize = 20;
    let mut buf = [b'0'; LEN];
    let at = digits_before(&mut buf, LEN, v).min(LEN - width.min(LEN));
    // SAFETY: `buf` holds ASCII digits only.
    out.push_str(unsafe { std::str::from_utf8_unchecked(&buf[at..]) });
}

/// Appends `[-]int.fraction` with `fraction` written in exactly `digits` digits (at most 19), or
/// `[-]int` when `digits` is 0, in one copy.
#[inline]
fn push_point(out: &mut String, negative: bool, int: u64, mut fraction: u64, digits: usize) {
    // A sign, 20 integer digits, the point and 19 fractional digits.
    let mut buf = [b'-'; 41];
    let mut at = buf.len();
    if digits > 0 {
        for _ in 0..digits / 2 {
            let d = (fraction % 100) as usize * 2;
            fraction /= 100;
            at -= 2;
            buf[at..at + 2].copy_from_slice(&PAIRS[d..d + 2]);
        }
        if digits % 2 == 1 {
            at -= 1;
            buf[at] = b'0' + (fraction % 10) as u8;
        }
        at -= 1;
        buf[at] = b'.';
    }
    at = digits_before(&mut buf, at, int);
    // The byte before the digits is already the sign.
    at -= usize::from(negative);
    // SAFETY: `buf` holds ASCII digits, signs and a point only.
    out.push_str(unsafe { std::str::from_utf8_unchecked(&buf[at..]) });
}

/// Writes the decimal digits of `v` (at least one) into `buf` ending before `end`, two digits a
/// division; returns where they start. `buf` must have room for them (20 bytes for any `u64`).
#[inline(always)]
fn digits_before(buf: &mut [u8], end: usize, mut v: u64) -> usize {
    let mut at = end;
    while v >= 100 {
        let d = (v % 100) as usize * 2;
        v /= 100;
        at -= 2;
        buf[at..at + 2].copy_from_slice(&PAIRS[d..d + 2]);
    }
    if v >= 10 {
        at -= 2;
        buf[at..at + 2].copy_from_slice(&PAIRS[v as usize * 2..v as usize * 2 + 2]);
    } else {
        at -= 1;
        buf[at] = b'0' + v as u8;
    }
    at
}

/// [`to_decimal`]'s text of a positive `magnitude * 2^-frac` (odd when `frac > 0`), without sign.
fn big_decimal(magnitude: u128, frac: i64) -> String {
    let mut digits = BigUint::from_u128(magnitude);
    if frac <= 0 {
        digits.shl(frac.unsigned_abs());
        return digits.to_decimal_digits();
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
        ("0".to_string(), format!("{}{text}", "0".repeat(frac_len - text.len())))
    };
    format!("{int_part}.{frac_part}")
}

/// Reads a decimal number (`[+-]digits[.digits]`, either side of the point may be empty but not
/// both) and returns the raw value of `to` that holds it exactly. Fails when the text is not a
/// number, when the value is not a multiple of the type's LSB, or when it lies outside the raw
/// range `min_raw()..=max_raw()`.
pub fn parse_decimal(s: &str, to: &FixedType) -> Result<i128, FixedError> {
    to.validate()?;
    let text = s.trim();
    let bad = |reason: &str| FixedError::ParseDecimal { input: s.to_string(), reason: reason.to_string() };
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
    if let Some(c) = int_digits.chars().chain(frac_digits.chars()).find(|c| !c.is_ascii_digit()) {
        let reason = match c {
            'e' | 'E' => "exponent notation is not supported".to_string(),
            '.' => "it has more than one decimal point".to_string(),
            _ => format!("unexpected character `{c}`"),
        };
        return Err(bad(&reason));
    }
    let frac_digits = frac_digits.trim_end_matches('0');
    let magnitude = match fast_magnitude(text, int_digits, frac_digits, to)? {
        Some(m) => m,
        None => big_magnitude(text, int_digits, frac_digits, to)?,
    };
    if magnitude == 0 {
        return Ok(0);
    }
    let out_of_range = || FixedError::OutOfRange { value: text.to_string(), ty: *to };
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

/// [`parse_decimal`]'s raw magnitude of `int_digits.frac_digits` in `u128` arithmetic, or `None`
/// when the text has more than [`FAST_DIGITS`] digits.
fn fast_magnitude(
    text: &str,
    int_digits: &str,
    frac_digits: &str,
    to: &FixedType,
) -> Result<Option<u128>, FixedError> {
    if int_digits.len() + frac_digits.len() > FAST_DIGITS as usize {
        return Ok(None);
    }
    let mut value = 0u128;
    for digit in int_digits.bytes().chain(frac_digits.bytes()) {
        value = value * 10 + u128::from(digit - b'0');
    }
    if value == 0 {
        return Ok(Some(0));
    }
    let not_representable = || FixedError::NotRepresentable { value: text.to_string(), ty: *to };
    let decimals = frac_digits.len() as u32;
    let five = POW5[decimals as usize];
    // 128-bit division is a library call; most texts fit 64 bits.
    let (quotient, rest) = match (u64::try_from(value), u64::try_from(five)) {
        (Ok(v), Ok(f)) => (u128::from(v / f), v % f != 0),
        _ => (value / five, !value.is_multiple_of(five)),
    };
    if rest {
        return Err(not_representable());
    }
    value = quotient;
    let shift = to.frac_bits_i64() as i128 - i128::from(decimals);
    if shift < 0 {
        if i128::from(value.trailing_zeros()) < -shift {
            return Err(not_representable());
        }
        Ok(Some(value >> (-shift) as u32))
    } else if i128::from(128 - value.leading_zeros()) + shift > 128 {
        Err(FixedError::OutOfRange { value: text.to_string(), ty: *to })
    } else {
        Ok(Some(value << shift as u32))
    }
}

/// [`fast_magnitude`] for any number of digits.
fn big_magnitude(
    text: &str,
    int_digits: &str,
    frac_digits: &str,
    to: &FixedType,
) -> Result<u128, FixedError> {
    let mut value = BigUint::from_u128(0);
    for digit in int_digits.bytes().chain(frac_digits.bytes()) {
        value.mul_add_small(10, u32::from(digit - b'0'));
    }
    if value.is_zero() {
        return Ok(0);
    }
    let not_representable = || FixedError::NotRepresentable { value: text.to_string(), ty: *to };
    let out_of_range = || FixedError::OutOfRange { value: text.to_string(), ty: *to };
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
    value.to_u128().ok_or_else(out_of_range)
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
        let divisor = if step == u64::from(chunk_exp) { chunk } else { 5u32.pow(step as u32) };
        if value.div_small(divisor) != 0 {
            return false;
        }
        exponent -= step;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `u128` paths agree with the `BigUint` ones, on values of every width and scale.
    #[test]
    fn fast_paths_agree_with_the_general_ones() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let ty = FixedType::new(120, 60, true);
        for _ in 0..20_000 {
            let raw = (i128::from(next()) << 64 | i128::from(next())) >> (27 + next() % 100);
            let frac = (next() % 90) as i32 - 30;
            let text = to_decimal(raw, frac);
            let m = raw.unsigned_abs();
            let cancel = m.trailing_zeros().min(frac.max(0) as u32);
            let sign = if raw < 0 { "-" } else { "" };
            let general = big_decimal(m >> cancel, i64::from(frac) - i64::from(cancel));
            let expected = if raw == 0 { "0".to_string() } else { format!("{sign}{general}") };
            assert_eq!(text, expected, "raw {raw}, frac {frac}");
            let unsigned = text.trim_start_matches('-');
            let (int_digits, frac_digits) = unsigned.split_once('.').unwrap_or((unsigned, ""));
            if let Some(fast) = fast_magnitude(&text, int_digits, frac_digits, &ty).transpose() {
                assert_eq!(fast, big_magnitude(&text, int_digits, frac_digits, &ty), "{text}");
            }
        }
        // Weights and test vectors: small raws with a few fractional bits, both signs.
        for _ in 0..20_000 {
            let raw = (next() as i64 >> (40 + next() % 24)) as i128;
            let frac = (next() % 24) as i32;
            let m = raw.unsigned_abs();
            let cancel = m.trailing_zeros().min(frac as u32);
            let sign = if raw < 0 { "-" } else { "" };
            let general = big_decimal(m >> cancel, i64::from(frac) - i64::from(cancel));
            let expected = if raw == 0 { "0".to_string() } else { format!("{sign}{general}") };
            assert_eq!(to_decimal(raw, frac), expected, "raw {raw}, frac {frac}");
        }
    }
}
