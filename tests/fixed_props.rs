//! Property tests of the fixed-point model against a reference written independently on exact
//! rationals (`num-rational`): rounding straight from the mode definitions, then range handling
//! by the overflow mode definitions. Every generated input is checked under all 28 mode pairs.

use hls_gen::fixed::{
    cast, cast_i64, from_f64, parse_decimal, to_decimal, to_f64, FixedError, FixedType,
    OverflowMode, QuantMode,
};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use proptest::prelude::*;

mod reference {
    use super::*;

    pub fn pow2(exp: i64) -> BigRational {
        let p = BigInt::one() << exp.unsigned_abs();
        if exp >= 0 {
            BigRational::from_integer(p)
        } else {
            BigRational::new(BigInt::one(), p)
        }
    }

    /// `raw * 2^-frac`.
    pub fn value(raw: i128, frac: i64) -> BigRational {
        BigRational::from_integer(BigInt::from(raw)) * pow2(-frac)
    }

    pub fn bounds(ty: &FixedType) -> (BigInt, BigInt) {
        let w = ty.width as usize;
        if ty.signed {
            let half = BigInt::one() << (w - 1);
            (-half.clone(), half - 1)
        } else {
            (BigInt::zero(), (BigInt::one() << w) - 1)
        }
    }

    /// `x` rounded to an integer as `mode` says.
    pub fn round(x: &BigRational, mode: QuantMode) -> BigInt {
        let floor = x.floor().to_integer();
        let rest = x - BigRational::from_integer(floor.clone());
        let half = BigRational::new(BigInt::one(), BigInt::from(2));
        let up = floor.clone() + 1;
        let toward_zero = x.trunc().to_integer();
        match mode {
            QuantMode::Trn => floor,
            QuantMode::TrnZero => toward_zero,
            _ if rest < half => floor,
            _ if rest > half => up,
            QuantMode::Rnd => up,
            QuantMode::RndMinInf => floor,
            QuantMode::RndZero => toward_zero,
            QuantMode::RndInf => {
                if x.is_positive() {
                    up
                } else {
                    floor
                }
            }
            QuantMode::RndConv => {
                if (&floor % BigInt::from(2)).is_zero() {
                    floor
                } else {
                    up
                }
            }
        }
    }

    /// Converts the exact value `x` to `ty`: (raw, overflow).
    pub fn convert(x: &BigRational, ty: &FixedType) -> (BigInt, bool) {
        let scaled = x * pow2(ty.frac_bits() as i64);
        let q = round(&scaled, ty.quant);
        let (lo, hi) = bounds(ty);
        let symmetric = ty.overflow == OverflowMode::SatSym && ty.signed && ty.width > 1;
        let low_limit = if symmetric { -hi.clone() } else { lo.clone() };
        if q >= low_limit && q <= hi {
            return (q, false);
        }
        let out = match ty.overflow {
            OverflowMode::Wrap => {
                let modulus = BigInt::one() << ty.width as usize;
                let low_bits = ((&q % &modulus) + &modulus) % &modulus;
                if ty.signed && low_bits > hi {
                    low_bits - modulus
                } else {
                    low_bits
                }
            }
            OverflowMode::SatZero => BigInt::zero(),
            OverflowMode::Sat | OverflowMode::SatSym if q > hi => hi,
            OverflowMode::Sat | OverflowMode::SatSym => low_limit,
        };
        (out, true)
    }

    /// The value `ap_fixed`'s double constructor reads: exact for normal doubles, with subnormals
    /// taken as `(2^52 + mantissa) * 2^-1075` like the headers.
    pub fn double_value(x: f64) -> BigRational {
        let bits = x.to_bits();
        let mantissa = bits & ((1 << 52) - 1);
        let exponent = (bits >> 52) & 0x7ff;
        let magnitude = if x == 0.0 {
            BigRational::zero()
        } else if exponent == 0 {
            BigRational::from_integer(BigInt::from(mantissa + (1 << 52))) * pow2(-1075)
        } else {
            BigRational::from_float(x.abs()).unwrap_or_else(BigRational::zero)
        };
        if x.is_sign_negative() {
            -magnitude
        } else {
            magnitude
        }
    }

    pub fn all_modes(base: FixedType) -> impl Iterator<Item = FixedType> {
        QuantMode::ALL.into_iter().flat_map(move |q| {
            OverflowMode::ALL
                .into_iter()
                .map(move |o| base.with_modes(q, o))
        })
    }
}

fn any_type() -> impl Strategy<Value = FixedType> {
    (1u32..=64, -70i32..=140, any::<bool>()).prop_map(|(w, i, s)| FixedType::new(w, i, s))
}

fn raw_value() -> impl Strategy<Value = i128> {
    prop_oneof![
        any::<i128>(),
        any::<i64>().prop_map(i128::from),
        -2000i128..=2000,
        (any::<i16>(), 0u32..128).prop_map(|(m, k)| i128::from(m).wrapping_shl(k)),
        Just(i128::MIN),
        Just(i128::MAX),
    ]
}

/// A target type, an input raw, and an input `frac` that is either anywhere in -80..150 or close to
/// the target's LSB (where rounding and ties happen).
fn cast_input() -> impl Strategy<Value = (FixedType, i128, i32)> {
    (
        any_type(),
        raw_value(),
        -80i32..150,
        -70i32..=70,
        any::<bool>(),
    )
        .prop_map(|(ty, raw, absolute, delta, near)| {
            let frac = if near {
                ty.frac_bits() + delta
            } else {
                absolute
            };
            (ty, raw, frac)
        })
}

fn check_cast(raw: i128, frac: i32, base: FixedType) -> Result<(), TestCaseError> {
    let x = reference::value(raw, frac as i64);
    for ty in reference::all_modes(base) {
        let (want_raw, want_overflow) = reference::convert(&x, &ty);
        let got = cast(raw, frac, &ty);
        prop_assert_eq!(
            BigInt::from(got.raw),
            want_raw,
            "cast({}, {}, {})",
            raw,
            frac,
            ty
        );
        prop_assert_eq!(
            got.overflow,
            want_overflow,
            "overflow flag of cast({}, {}, {})",
            raw,
            frac,
            ty
        );
        if let Ok(small) = i64::try_from(raw) {
            let (fast, fast_overflow) = cast_i64(small, frac, &ty);
            prop_assert_eq!(
                (fast as i128, fast_overflow),
                (got.raw as i64 as i128, got.overflow)
            );
        }
    }
    Ok(())
}

/// An odd multiple of half a target LSB: an exact tie for every rounding mode.
fn tie_input() -> impl Strategy<Value = (FixedType, i128, i32)> {
    (any_type(), any::<i32>(), 0i32..90).prop_map(|(ty, m, k)| {
        let raw = (i128::from(m) * 2 + 1) << k;
        (ty, raw, ty.frac_bits() + k + 1)
    })
}

fn finite_double() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<u64>()
            .prop_map(f64::from_bits)
            .prop_filter("finite", |x| x.is_finite()),
        (any::<i32>(), -60i32..60).prop_map(|(m, e)| f64::from(m) * 2f64.powi(e)),
        (any::<i16>(), 0i32..8).prop_map(|(m, e)| (f64::from(m) + 0.5) * 2f64.powi(-e)),
        Just(0.0),
        Just(-0.0),
        Just(f64::MIN_POSITIVE / 4.0),
        Just(-f64::MAX),
    ]
}

fn check_from_f64(x: f64, base: FixedType) -> Result<(), TestCaseError> {
    let exact = reference::double_value(x);
    for ty in reference::all_modes(base) {
        let (want_raw, want_overflow) = reference::convert(&exact, &ty);
        let got = from_f64(x, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(BigInt::from(got.raw), want_raw, "from_f64({:e}, {})", x, ty);
        prop_assert_eq!(
            got.overflow,
            want_overflow,
            "overflow flag of from_f64({:e}, {})",
            x,
            ty
        );
    }
    Ok(())
}

/// Types whose LSB lies among the subnormal doubles (2^-1000 .. 2^-1140).
fn subnormal_lsb_type() -> impl Strategy<Value = FixedType> {
    (1u32..=64, 1000i64..=1140, any::<bool>())
        .prop_map(|(w, f, s)| FixedType::new(w, (w as i64 - f) as i32, s))
}

/// Subnormal doubles and the smallest normal ones.
fn tiny_double() -> impl Strategy<Value = f64> {
    const SIGN_AND_MANTISSA: u64 = 0x800f_ffff_ffff_ffff;
    (any::<u64>(), prop_oneof![Just(0u64), 1u64..60])
        .prop_map(|(bits, exp)| f64::from_bits((bits & SIGN_AND_MANTISSA) | (exp << 52)))
}

fn next_toward(x: f64, up: bool) -> f64 {
    if x == 0.0 {
        let tiny = f64::from_bits(1);
        return if up { tiny } else { -tiny };
    }
    let bits = x.to_bits();
    let away_from_zero = up == (x > 0.0);
    f64::from_bits(if away_from_zero { bits + 1 } else { bits - 1 })
}

fn decimal_text() -> impl Strategy<Value = String> {
    ("[-+]?", "[0-9]{0,24}", proptest::option::of("[0-9]{0,40}"))
        .prop_filter("has digits", |(_, i, f)| {
            !i.is_empty() || f.as_ref().is_some_and(|f| !f.is_empty())
        })
        .prop_map(|(sign, int, frac)| match frac {
            Some(frac) => format!("{sign}{int}.{frac}"),
            None => format!("{sign}{int}"),
        })
}

fn decimal_as_rational(text: &str) -> BigRational {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits: BigInt = format!("0{int}{frac}").parse().unwrap_or_default();
    let magnitude = BigRational::new(digits, BigInt::from(10).pow(frac.len() as u32));
    if negative {
        -magnitude
    } else {
        magnitude
    }
}

fn type_value(ty: FixedType) -> impl Strategy<Value = i128> {
    let (lo, hi) = (ty.min_raw(), ty.max_raw());
    prop_oneof![lo..=hi, Just(lo), Just(hi), Just(0i128)]
}

fn fits_exactly(x: &BigRational, ty: &FixedType) -> bool {
    let scaled = x * reference::pow2(ty.frac_bits() as i64);
    let (lo, hi) = reference::bounds(ty);
    scaled.is_integer() && scaled.to_integer() >= lo && scaled.to_integer() <= hi
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn cast_matches_reference((ty, raw, frac) in cast_input()) {
        check_cast(raw, frac, ty)?;
    }

    #[test]
    fn cast_matches_reference_on_ties((ty, raw, frac) in tie_input()) {
        check_cast(raw, frac, ty)?;
    }

    #[test]
    fn from_f64_matches_reference(x in finite_double(), base in any_type()) {
        check_from_f64(x, base)?;
    }

    #[test]
    fn from_f64_matches_reference_near_subnormals(x in tiny_double(), base in subnormal_lsb_type()) {
        check_from_f64(x, base)?;
    }

    #[test]
    fn from_f64_rejects_non_finite(x in prop_oneof![Just(f64::INFINITY), Just(f64::NEG_INFINITY), Just(f64::NAN)], ty in any_type()) {
        let rejected = matches!(from_f64(x, &ty), Err(FixedError::NotFinite { .. }));
        prop_assert!(rejected, "{} accepted", x);
    }

    #[test]
    fn to_f64_is_correctly_rounded(raw in raw_value(), frac in -1200i32..1250) {
        let exact = reference::value(raw, frac as i64);
        let got = to_f64(raw, frac);
        if got.is_infinite() {
            // Beyond MAX + half an ULP, i.e. at least (2 - 2^-53) * 2^1023 in magnitude.
            let threshold = (reference::pow2(1024) - reference::pow2(970)).abs();
            prop_assert!(exact.abs() >= threshold, "{} * 2^-{} gave {}", raw, frac, got);
            prop_assert_eq!(got.is_sign_negative(), exact.is_negative());
            return Ok(());
        }
        let got_exact = BigRational::from_float(got).unwrap_or_else(BigRational::zero);
        let error = (&exact - &got_exact).abs();
        for neighbour in [next_toward(got, true), next_toward(got, false)] {
            if let Some(n) = BigRational::from_float(neighbour) {
                let other = (&exact - n).abs();
                prop_assert!(error <= other, "{} * 2^-{}: {} is farther than {}", raw, frac, got, neighbour);
                if error == other {
                    prop_assert_eq!(got.to_bits() & 1, 0, "tie not to even for {} * 2^-{}", raw, frac);
                }
            }
        }
        if raw == 0 {
            prop_assert_eq!(got.to_bits(), 0);
        }
    }

    #[test]
    fn to_decimal_is_exact_and_shortest(raw in raw_value(), frac in -150i32..200) {
        let text = to_decimal(raw, frac);
        prop_assert_eq!(decimal_as_rational(&text), reference::value(raw, frac as i64), "{}", text);
        let body = text.strip_prefix('-').unwrap_or(&text);
        prop_assert!(text != "-0" && !body.is_empty(), "{}", text);
        prop_assert!(body.chars().all(|c| c.is_ascii_digit() || c == '.'), "{}", text);
        prop_assert!(!body.starts_with('0') || body == "0" || body.starts_with("0."), "{}", text);
        if body.contains('.') {
            prop_assert!(!body.ends_with('0') && !body.ends_with('.'), "{}", text);
        }
    }

    #[test]
    fn decimal_round_trips(ty in any_type(), seed in any::<u64>()) {
        let (lo, hi) = (ty.min_raw(), ty.max_raw());
        let span = (hi - lo) as u128;
        let raw = lo + (u128::from(seed) % (span + 1).max(1)) as i128;
        for raw in [raw, lo, hi] {
            let text = to_decimal(raw, ty.frac_bits());
            prop_assert_eq!(parse_decimal(&text, &ty), Ok(raw), "{} in {}", text, ty);
        }
    }

    #[test]
    fn parse_decimal_matches_reference(text in decimal_text(), ty in any_type()) {
        let exact = decimal_as_rational(&text);
        let scaled = &exact * reference::pow2(ty.frac_bits() as i64);
        let (lo, hi) = reference::bounds(&ty);
        match parse_decimal(&text, &ty) {
            Ok(raw) => prop_assert_eq!(BigRational::from_integer(BigInt::from(raw)), scaled, "{} in {}", text, ty),
            Err(FixedError::NotRepresentable { .. }) => prop_assert!(!scaled.is_integer(), "{} in {}", text, ty),
            Err(FixedError::OutOfRange { .. }) => {
                prop_assert!(scaled.to_integer() < lo || scaled.to_integer() > hi, "{} in {}", text, ty)
            }
            Err(e) => prop_assert!(false, "unexpected error {}", e),
        }
    }

    #[test]
    fn exact_result_types_hold_results(
        (a, x) in any_type().prop_flat_map(|t| (Just(t), type_value(t))),
        (b, y) in any_type().prop_flat_map(|t| (Just(t), type_value(t))),
    ) {
        let xv = reference::value(x, a.frac_bits() as i64);
        let yv = reference::value(y, b.frac_bits() as i64);
        prop_assert!(fits_exactly(&(&xv + &yv), &a.exact_add_type(&b)), "{} + {} in {}", a, b, a.exact_add_type(&b));
        prop_assert!(fits_exactly(&(&xv - &yv), &a.exact_sub_type(&b)), "{} - {} in {}", a, b, a.exact_sub_type(&b));
        prop_assert!(fits_exactly(&(&xv * &yv), &a.exact_mul_type(&b)), "{} * {} in {}", a, b, a.exact_mul_type(&b));
        prop_assert!(fits_exactly(&-xv.clone(), &a.neg_type()), "-{} in {}", a, a.neg_type());
        let union = a.union_type(&b);
        prop_assert!(fits_exactly(&xv, &union) && fits_exactly(&yv, &union), "{} and {} in {}", a, b, union);
    }
}

#[test]
fn exact_result_types_follow_ap_fixed_rules() {
    let s = |w, i| FixedType::new(w, i, true);
    let u = |w, i| FixedType::new(w, i, false);
    assert_eq!(s(16, 6).exact_add_type(&s(8, 2)), s(17, 7));
    assert_eq!(s(16, 6).exact_add_type(&u(8, 6)), s(18, 8));
    assert_eq!(u(8, 6).exact_sub_type(&u(8, 6)), s(9, 7));
    assert_eq!(s(16, 6).exact_mul_type(&u(8, -2)), s(24, 4));
    assert_eq!(u(8, 3).neg_type(), s(9, 4));
    assert_eq!(s(8, 3).union_type(&u(8, 3)), s(9, 4));
    assert_eq!(s(8, -3).union_type(&s(4, 10)), s(21, 10));
}

#[test]
fn reference_rounds_as_documented() {
    let half = |n: i64| BigRational::new(BigInt::from(n), BigInt::from(2));
    let cases = [
        (QuantMode::Rnd, [3, -2, 1]),
        (QuantMode::RndZero, [2, -2, 0]),
        (QuantMode::RndMinInf, [2, -3, 0]),
        (QuantMode::RndInf, [3, -3, 1]),
        (QuantMode::RndConv, [2, -2, 0]),
        (QuantMode::Trn, [2, -3, 0]),
        (QuantMode::TrnZero, [2, -2, 0]),
    ];
    for (mode, want) in cases {
        let got = [5, -5, 1].map(|n| reference::round(&half(n), mode));
        assert_eq!(got, want.map(BigInt::from), "{mode}");
    }
}
