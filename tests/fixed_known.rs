//! Hand-computed examples of the fixed-point model: one per rounding and overflow rule, the
//! decimal forms quoted in the specification, and the edge cases of shifts and widths.

use hls_gen::fixed::{
    cast, cast_i64, from_f64, parse_decimal, to_decimal, to_f64, Cast, Fixed, FixedError,
    FixedType, OverflowMode as O, QuantMode as Q,
};

fn t(s: &str) -> FixedType {
    match s.parse() {
        Ok(ty) => ty,
        Err(e) => panic!("{e}"),
    }
}

/// Casts `value_times_4 / 4` to `ty`, returning the result in units of the target LSB.
fn quarter(value_times_4: i128, ty: &FixedType) -> Cast {
    cast(value_times_4, 2, ty)
}

#[test]
fn rounding_modes_on_ties_and_near_ties() {
    // Inputs in quarters: 2.5, -2.5, 0.5, -0.5, 2.75, -2.25.
    let inputs = [10, -10, 2, -2, 11, -9];
    let expected = [
        (Q::Rnd, [3, -2, 1, 0, 3, -2]),
        (Q::RndZero, [2, -2, 0, 0, 3, -2]),
        (Q::RndMinInf, [2, -3, 0, -1, 3, -2]),
        (Q::RndInf, [3, -3, 1, -1, 3, -2]),
        (Q::RndConv, [2, -2, 0, 0, 3, -2]),
        (Q::Trn, [2, -3, 0, -1, 2, -3]),
        (Q::TrnZero, [2, -2, 0, 0, 2, -2]),
    ];
    for (mode, want) in expected {
        let ty = FixedType::int(8, true).with_modes(mode, O::Wrap);
        let got = inputs.map(|x| quarter(x, &ty).raw);
        assert_eq!(got, want, "{ty}");
    }
    let conv = FixedType::int(8, true).with_modes(Q::RndConv, O::Wrap);
    assert_eq!(
        [6, -6, 14].map(|x| quarter(x, &conv).raw),
        [2, -2, 4],
        "1.5, -1.5, 3.5 to even"
    );
}

#[test]
fn overflow_modes() {
    let base = t("ap_fixed<8,4>"); // raw -128..=127, LSB 1/16
    let sat = base.with_modes(Q::Trn, O::Sat);
    let zero = base.with_modes(Q::Trn, O::SatZero);
    let sym = base.with_modes(Q::Trn, O::SatSym);
    assert_eq!(
        cast(8, 0, &base),
        Cast {
            raw: -128,
            overflow: true
        },
        "8.0 wraps to -8.0"
    );
    assert_eq!(
        cast(100, 0, &sat),
        Cast {
            raw: 127,
            overflow: true
        }
    );
    assert_eq!(
        cast(-100, 0, &sat),
        Cast {
            raw: -128,
            overflow: true
        }
    );
    assert_eq!(
        cast(9, 0, &zero),
        Cast {
            raw: 0,
            overflow: true
        }
    );
    assert_eq!(
        cast(-100, 0, &sym),
        Cast {
            raw: -127,
            overflow: true
        }
    );
    // The headers never give -8.0 under AP_SAT_SYM, even for an input of exactly -8.0.
    assert_eq!(
        cast(-8, 0, &sym),
        Cast {
            raw: -127,
            overflow: true
        }
    );
    assert_eq!(
        cast(-127, 4, &sym),
        Cast {
            raw: -127,
            overflow: false
        }
    );
    assert_eq!(sym.sat_min_raw(), -127);
    assert_eq!(sym.min_raw(), -128);
    // Rounding can push a value over the top: 7.96875 rounds to 8.0.
    let rnd_sat = base.with_modes(Q::Rnd, O::Sat);
    assert_eq!(
        cast(255, 5, &rnd_sat),
        Cast {
            raw: 127,
            overflow: true
        }
    );
    // A one-bit signed AP_SAT_SYM type keeps its only negative value -1.
    let bit = t("ap_fixed<1,1,AP_TRN,AP_SAT_SYM>");
    assert_eq!(
        cast(-5, 0, &bit),
        Cast {
            raw: -1,
            overflow: true
        }
    );
    assert_eq!(
        cast(-1, 0, &bit),
        Cast {
            raw: -1,
            overflow: false
        }
    );
}

#[test]
fn unsigned_targets() {
    let wrap = t("ap_ufixed<8,4>");
    let sat = t("ap_ufixed<8,4,AP_TRN,AP_SAT>");
    let sym = t("ap_ufixed<8,4,AP_RND,AP_SAT_SYM>");
    assert_eq!(
        cast(-1, 0, &wrap),
        Cast {
            raw: 240,
            overflow: true
        }
    );
    assert_eq!(
        cast(-1, 0, &sat),
        Cast {
            raw: 0,
            overflow: true
        }
    );
    assert_eq!(
        cast(-1, 0, &sym),
        Cast {
            raw: 0,
            overflow: true
        }
    );
    assert_eq!(
        cast(16, 0, &sym),
        Cast {
            raw: 255,
            overflow: true
        }
    );
    // -1/64 rounds to zero under AP_RND: no overflow.
    assert_eq!(
        cast(-1, 6, &sym),
        Cast {
            raw: 0,
            overflow: false
        }
    );
    assert_eq!(t("ap_uint<64>").max_raw(), u64::MAX as i128);
    assert_eq!(
        cast_i64(-1, 0, &t("ap_uint<64>")),
        (-1, true),
        "bit pattern of 2^64 - 1"
    );
}

#[test]
fn negative_and_oversized_integer_bits() {
    // ap_fixed<4,-2>: LSB 2^-6, range [-1/8, 7/64].
    let small = t("ap_fixed<4,-2,AP_RND,AP_SAT>");
    assert_eq!(
        cast(1, 4, &small),
        Cast {
            raw: 4,
            overflow: false
        }
    );
    assert_eq!(
        cast(1, 1, &small),
        Cast {
            raw: 7,
            overflow: true
        }
    );
    // ap_ufixed<4,10>: LSB 64, range [0, 960].
    let coarse = t("ap_ufixed<4,10,AP_RND_CONV,AP_WRAP>");
    assert_eq!(
        cast(96, 0, &coarse),
        Cast {
            raw: 2,
            overflow: false
        },
        "1.5 LSB to even"
    );
    assert_eq!(
        cast(1024, 0, &coarse),
        Cast {
            raw: 0,
            overflow: true
        }
    );
}

#[test]
fn huge_shifts() {
    let ty = t("ap_fixed<16,8,AP_RND_INF,AP_SAT>");
    assert_eq!(cast(i128::MAX, 10_000, &ty).raw, 0);
    assert_eq!(
        cast(i128::MIN, 136, &ty),
        Cast {
            raw: -1,
            overflow: false
        },
        "exactly -1/2 LSB"
    );
    assert_eq!(cast(i128::MIN, 137, &ty).raw, 0);
    assert_eq!(
        cast(1, -10_000, &ty),
        Cast {
            raw: 32767,
            overflow: true
        }
    );
    assert_eq!(
        cast(-3, i32::MIN, &ty),
        Cast {
            raw: -32768,
            overflow: true
        }
    );
    assert_eq!(cast(3, i32::MAX, &t("ap_fixed<8,4,AP_TRN>")).raw, 0);
    assert_eq!(cast(-3, i32::MAX, &t("ap_fixed<8,4,AP_TRN>")).raw, -1);
    assert_eq!(
        cast(0b1011, -200, &t("ap_fixed<8,4>")),
        Cast {
            raw: 0,
            overflow: true
        }
    );
    assert_eq!(
        cast(1 << 120, -10, &t("ap_fixed<8,8>")),
        Cast {
            raw: 0,
            overflow: true
        }
    );
    let extreme = FixedType::new(64, i32::MIN, true);
    assert!(extreme.validate().is_err());
    let _ = cast(i128::MIN, i32::MIN, &extreme);
    let _ = cast(i128::MAX, i32::MAX, &FixedType::new(64, i32::MAX, false));
}

#[test]
fn doubles() {
    let ty = t("ap_fixed<8,4,AP_RND_CONV,AP_SAT>");
    assert_eq!(
        from_f64(2.53125, &ty).map(|c| c.raw),
        Ok(40),
        "2.53125 = 40.5 LSB, to even"
    );
    assert_eq!(
        from_f64(2.59375, &ty).map(|c| c.raw),
        Ok(42),
        "41.5 LSB, to even"
    );
    assert_eq!(
        from_f64(-1e9, &ty),
        Ok(Cast {
            raw: -128,
            overflow: true
        })
    );
    assert_eq!(
        from_f64(-0.0, &ty),
        Ok(Cast {
            raw: 0,
            overflow: false
        })
    );
    assert_eq!(
        from_f64(2.53125, &t("ap_fixed<8,4>")).map(|c| c.raw),
        Ok(40),
        "default mode truncates"
    );
    // The headers read the subnormal 2^-1023 as 1.5 * 2^-1023 (implicit one kept, exponent -1023).
    let fine = t("ap_fixed<64,-1011>");
    assert_eq!(
        from_f64(2f64.powi(-1022), &fine).map(|c| c.raw),
        Ok(1 << 53)
    );
    assert_eq!(
        from_f64(2f64.powi(-1022) / 2.0, &fine).map(|c| c.raw),
        Ok(3 << 51)
    );
    assert!(matches!(
        from_f64(f64::NAN, &ty),
        Err(FixedError::NotFinite { .. })
    ));
    assert!(from_f64(f64::NEG_INFINITY, &ty).is_err());
    assert_eq!(to_f64(-5, 4), -0.3125);
    assert_eq!(to_f64(3, -1022), 3.0 * 2f64.powi(1022) * 1.0);
    assert_eq!(to_f64(1, 1074), f64::from_bits(1));
    assert_eq!(
        to_f64(1, 1075),
        0.0,
        "half the smallest subnormal ties to even zero"
    );
    assert_eq!(
        to_f64(3, 1076),
        f64::from_bits(1),
        "3/4 of the smallest subnormal"
    );
    assert_eq!(to_f64(1, -1024), f64::INFINITY);
    assert_eq!(to_f64((1 << 53) + 1, 0), 9007199254740992.0, "tie to even");
    assert_eq!(to_f64((1 << 53) + 3, 0), 9007199254740996.0, "tie to even");
    assert_eq!(to_f64(i128::MIN, 0), -(2f64.powi(127)));
}

#[test]
fn decimals() {
    assert_eq!(to_decimal(-5, 4), "-0.3125");
    assert_eq!(to_decimal(3, 0), "3");
    assert_eq!(to_decimal(0, 17), "0");
    assert_eq!(to_decimal(1, -10), "1024");
    assert_eq!(to_decimal(1, 10), "0.0009765625");
    assert_eq!(to_decimal(48, 4), "3");
    assert_eq!(
        to_decimal(i128::MIN, 0),
        "-170141183460469231731687303715884105728"
    );
    assert_eq!(to_decimal(3, -100), "3802951800684688204490109616128");

    let ty = t("ap_fixed<8,4>");
    assert_eq!(parse_decimal("-0.3125", &ty), Ok(-5));
    assert_eq!(parse_decimal("+7.9375", &ty), Ok(127));
    assert_eq!(parse_decimal("-8", &ty), Ok(-128));
    assert_eq!(parse_decimal(" 3.50000 ", &ty), Ok(56));
    assert_eq!(parse_decimal(".5", &ty), Ok(8));
    assert!(matches!(
        parse_decimal("0.03", &ty),
        Err(FixedError::NotRepresentable { .. })
    ));
    assert!(matches!(
        parse_decimal("8", &ty),
        Err(FixedError::OutOfRange { .. })
    ));
    assert!(matches!(
        parse_decimal("-8.0625", &ty),
        Err(FixedError::OutOfRange { .. })
    ));
    assert!(matches!(
        parse_decimal("-1", &t("ap_uint<4>")),
        Err(FixedError::OutOfRange { .. })
    ));
    assert!(matches!(
        parse_decimal("1e3", &ty),
        Err(FixedError::ParseDecimal { .. })
    ));
    for bad in ["", "-", ".", "1.2.3", "0x10", "1 2", "--1"] {
        assert!(
            matches!(
                parse_decimal(bad, &ty),
                Err(FixedError::ParseDecimal { .. })
            ),
            "`{bad}`"
        );
    }
    let message = parse_decimal("0.03", &ty).map_err(|e| e.to_string());
    assert_eq!(
        message,
        Err("0.03 is not exactly representable in ap_fixed<8,4> (its resolution is 2^-4)".into())
    );
    let message = parse_decimal("9", &ty).map_err(|e| e.to_string());
    assert_eq!(
        message,
        Err("9 is out of range for ap_fixed<8,4>, which holds raw values -128..=127".into())
    );
    assert_eq!(parse_decimal("1024", &t("ap_ufixed<2,12>")), Ok(1));
    assert_eq!(
        parse_decimal(
            "340282366920938463463374607431768211456",
            &t("ap_ufixed<1,129>")
        ),
        Ok(1)
    );
}

#[test]
fn fixed_values() {
    let ty = t("ap_fixed<8,4,AP_RND,AP_SAT>");
    let x = Fixed::from_f64(-1.3, ty).map_err(|e| e.to_string());
    assert_eq!(x.map(|v| v.raw), Ok(-21));
    assert!(Fixed::new(128, ty).is_err());
    assert!(Fixed::new(0, FixedType::new(0, 0, true)).is_err());
    let Ok(v) = Fixed::from_decimal("-1.3125", ty) else {
        panic!("representable")
    };
    assert_eq!(v.to_string(), "-1.3125");
    assert_eq!(v.to_f64(), -1.3125);
    let Ok((narrow, overflow)) = v.cast(t("ap_fixed<4,2,AP_RND_INF,AP_WRAP>")) else {
        panic!()
    };
    assert_eq!((narrow.raw, overflow), (-5, false));
    assert_eq!(t("ap_fixed<8,4>").lsb(), 0.0625);
    assert_eq!(t("ap_ufixed<8,12>").lsb(), 16.0);
}
