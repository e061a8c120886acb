//! Exact decimal text of fixed-point values: the spelling of weights, tables and test vectors.
//!
//! `to_decimal(raw, frac)` spells `raw * 2^-frac` with every digit and no exponent (`-0.3125`,
//! `3`, `0`); `parse_decimal` reads `-?[0-9]+(\.[0-9]+)?` into the raw value of a type, refusing
//! values the type cannot hold exactly. Arbitrary precision: digits are kept in decimal vectors.

use crate::fixed::FixedType;

/// Little-endian base-10 digits of a natural number.
#[derive(Debug, Clone, PartialEq)]
struct Natural(Vec<u8>);

impl Natural {
    fn from_u128(mut v: u128) -> Self {
        let mut d = Vec::new();
        while v > 0 {
            d.push((v % 10) as u8);
            v /= 10;
        }
        Natural(d)
    }

    fn mul_small(&mut self, m: u32) {
        let mut carry = 0u32;
        for d in &mut self.0 {
            let v = *d as u32 * m + carry;
            *d = (v % 10) as u8;
            carry = v / 10;
        }
        while carry > 0 {
            self.0.push((carry % 10) as u8);
            carry /= 10;
        }
    }

    /// Divides in place and returns the remainder.
    fn div_small(&mut self, m: u32) -> u32 {
        let mut rem = 0u32;
        for d in self.0.iter_mut().rev() {
            let v = rem * 10 + *d as u32;
            *d = (v / m) as u8;
            rem = v % m;
        }
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
        rem
    }

    fn to_u128(&self) -> Option<u128> {
        self.0.iter().rev().try_fold(0u128, |acc, &d| acc.checked_mul(10)?.checked_add(d as u128))
    }

    fn to_string_padded(&self, min_len: usize) -> String {
        let mut s: String = self.0.iter().rev().map(|d| (b'0' + d) as char).collect();
        let s_trim = s.trim_start_matches('0').to_string();
        s = s_trim;
        while s.len() < min_len {
            s.insert(0, '0');
        }
        s
    }
}

/// The exact decimal spelling of `raw * 2^-frac`.
pub fn to_decimal(raw: i128, frac: i32) -> String {
    if raw == 0 {
        return "0".to_string();
    }
    let mut n = Natural::from_u128(raw.unsigned_abs());
    let sign = if raw < 0 { "-" } else { "" };
    if frac <= 0 {
        for _ in 0..frac.unsigned_abs() {
            n.mul_small(2);
        }
        return format!("{sign}{}", n.to_string_padded(1));
    }
    let frac = frac as usize;
    for _ in 0..frac {
        n.mul_small(5);
    }
    let digits = n.to_string_padded(frac + 1);
    let (int, fraction) = digits.split_at(digits.len() - frac);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{fraction}")
    }
}

/// The raw value of `ty` whose value is exactly `text`.
pub fn parse_decimal(text: &str, ty: &FixedType) -> Result<i128, String> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int, fraction) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let digits_ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits_ok(int) || fraction.is_some_and(|f| !digits_ok(f)) {
        return Err(format!("'{text}' is not a decimal number"));
    }
    let fraction = fraction.unwrap_or("");
    let all: Vec<u8> = int.bytes().chain(fraction.bytes()).rev().map(|b| b - b'0').collect();
    let mut n = Natural(all);
    let frac = ty.frac_bits();
    for _ in 0..frac.max(0) {
        n.mul_small(2);
    }
    let inexact = || format!("'{text}' is not exactly a value of {}", ty);
    for _ in 0..fraction.len() {
        if n.div_small(10) != 0 {
            return Err(inexact());
        }
    }
    for _ in 0..(-frac).max(0) {
        if n.div_small(2) != 0 {
            return Err(inexact());
        }
    }
    let out_of_range = || format!("'{text}' is out of the range of {}", ty);
    let magnitude = n.to_u128().filter(|&m| m <= 1u128 << 64).ok_or_else(out_of_range)? as i128;
    let raw = if negative { -magnitude } else { magnitude };
    let (lo, hi) = raw_range(ty);
    if raw < lo || raw > hi {
        return Err(out_of_range());
    }
    Ok(raw)
}

/// Smallest and largest raw values of `ty`.
pub fn raw_range(ty: &FixedType) -> (i128, i128) {
    let w = ty.width.min(64);
    if ty.signed {
        (-(1i128 << (w - 1)), (1i128 << (w - 1)) - 1)
    } else {
        (0, (1i128 << w) - 1)
    }
}

/// The raw value of a constant that validation found exactly representable in `ty`.
pub fn raw_of(v: f64, ty: &FixedType) -> Option<i128> {
    let raw = v * 2f64.powi(ty.frac_bits());
    (raw.is_finite() && raw.fract() == 0.0 && raw.abs() < 2f64.powi(64)).then_some(raw as i128)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spells_exact_decimals() {
        assert_eq!(to_decimal(0, 5), "0");
        assert_eq!(to_decimal(-5, 4), "-0.3125");
        assert_eq!(to_decimal(48, 4), "3");
        assert_eq!(to_decimal(3, -2), "12");
        assert_eq!(to_decimal(1, 1), "0.5");
        assert_eq!(to_decimal(i64::MIN as i128, 63), "-1");
        assert_eq!(to_decimal(1, 64), "0.0000000000000000000542101086242752217003726400434970855712890625");
    }

    #[test]
    fn parses_exactly_or_refuses() {
        let t = FixedType::new(8, 3, true);
        assert_eq!(parse_decimal("-0.3125", &t), Ok(-10));
        assert_eq!(parse_decimal("3.96875", &t), Ok(127));
        assert_eq!(parse_decimal("-4", &t), Ok(-128));
        assert_eq!(parse_decimal("0.00", &t), Ok(0));
        assert!(parse_decimal("4", &t).is_err());
        assert!(parse_decimal("0.01", &t).is_err());
        for bad in ["", "-", ".5", "1.", "+1", "1e3", " 1", "0x1"] {
            assert!(parse_decimal(bad, &t).is_err(), "{bad}");
        }
        let wide = FixedType::new(64, 1, true);
        let s = to_decimal(i64::MAX as i128, 63);
        assert_eq!(parse_decimal(&s, &wide), Ok(i64::MAX as i128));
        let coarse = FixedType::new(4, 6, false);
        assert_eq!(parse_decimal("12", &coarse), Ok(3));
        assert!(parse_decimal("2", &coarse).is_err());
        assert!(parse_decimal("-4", &coarse).is_err());
    }
}
