//! Text form of [`FixedType`]: parsing of the HLS and hls4ml spellings, and the canonical
//! `Display`.
//!
//! Accepted: `ap_fixed<W,I>`, `ap_ufixed<W,I>` with optionally a quantization mode, an overflow
//! mode and the saturation-bits count `N` (only `0` is supported); `ap_int<W>`, `ap_uint<W>`;
//! hls4ml's `fixed`, `ufixed`, `int`, `uint`; modes with or without the `AP_` prefix; spaces
//! anywhere between tokens. Display writes `ap_int<W>`/`ap_uint<W>` for integer types, else
//! `ap_fixed<W,I>` with default modes, else `ap_fixed<W,I,Q,O>`; parsing the output gives back the
//! same type.

use super::error::FixedError;
use super::types::{FixedType, OverflowMode, QuantMode};
use std::fmt;
use std::str::FromStr;

impl FromStr for FixedType {
    type Err = FixedError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let fail = |reason: String| FixedError::ParseType {
            input: s.to_string(),
            reason,
        };
        let text = s.trim();
        let (name, rest) = text
            .split_once('<')
            .ok_or_else(|| fail("expected `<` after the type name".to_string()))?;
        let (signed, is_int) = match name.trim() {
            "ap_fixed" | "fixed" => (true, false),
            "ap_ufixed" | "ufixed" => (false, false),
            "ap_int" | "int" => (true, true),
            "ap_uint" | "uint" => (false, true),
            other => {
                return Err(fail(format!(
                    "unknown type name `{other}` (expected ap_fixed, ap_ufixed, ap_int, ap_uint, \
                     fixed, ufixed, int or uint)"
                )))
            }
        };
        let inner = rest
            .trim_end()
            .strip_suffix('>')
            .ok_or_else(|| fail("expected the parameter list to end with `>`".to_string()))?;
        let args: Vec<&str> = inner.split(',').map(str::trim).collect();
        if let Some(position) = args.iter().position(|a| a.is_empty()) {
            return Err(fail(format!("parameter {} is empty", position + 1)));
        }
        let accepted = if is_int { 1..=1 } else { 2..=5 };
        if !accepted.contains(&args.len()) {
            let expected = if is_int {
                "exactly 1 (the width)"
            } else {
                "2 to 5 (W, I[, Q[, O[, N]]])"
            };
            return Err(fail(format!(
                "{} parameters given, expected {expected}",
                args.len()
            )));
        }
        let width: u32 = args[0]
            .parse()
            .map_err(|_| fail(format!("width `{}` is not a non-negative integer", args[0])))?;
        let ty = if is_int {
            FixedType::int(width, signed)
        } else {
            let integer: i32 = args[1]
                .parse()
                .map_err(|_| fail(format!("integer bits `{}` is not an integer", args[1])))?;
            let quant = args
                .get(2)
                .map_or(Ok(QuantMode::Trn), |a| parse_quant(a))
                .map_err(fail)?;
            let overflow = args
                .get(3)
                .map_or(Ok(OverflowMode::Wrap), |a| parse_overflow(a))
                .map_err(fail)?;
            if let Some(n) = args.get(4) {
                if n.parse::<u32>() != Ok(0) {
                    return Err(fail(format!(
                        "saturation bits N = `{n}` are not supported (only 0)"
                    )));
                }
            }
            FixedType::new(width, integer, signed).with_modes(quant, overflow)
        };
        ty.validate().map_err(|e| fail(e.to_string()))?;
        Ok(ty)
    }
}

fn parse_quant(text: &str) -> Result<QuantMode, String> {
    Ok(match text.strip_prefix("AP_").unwrap_or(text) {
        "RND" => QuantMode::Rnd,
        "RND_ZERO" => QuantMode::RndZero,
        "RND_MIN_INF" => QuantMode::RndMinInf,
        "RND_INF" => QuantMode::RndInf,
        "RND_CONV" => QuantMode::RndConv,
        "TRN" => QuantMode::Trn,
        "TRN_ZERO" => QuantMode::TrnZero,
        _ => {
            return Err(format!(
                "unknown quantization mode `{text}` (expected AP_RND, AP_RND_ZERO, AP_RND_MIN_INF, \
                 AP_RND_INF, AP_RND_CONV, AP_TRN or AP_TRN_ZERO)"
            ))
        }
    })
}

fn parse_overflow(text: &str) -> Result<OverflowMode, String> {
    Ok(match text.strip_prefix("AP_").unwrap_or(text) {
        "WRAP" => OverflowMode::Wrap,
        "SAT" => OverflowMode::Sat,
        "SAT_ZERO" => OverflowMode::SatZero,
        "SAT_SYM" => OverflowMode::SatSym,
        "WRAP_SM" => return Err("overflow mode AP_WRAP_SM is not supported".to_string()),
        _ => {
            return Err(format!(
            "unknown overflow mode `{text}` (expected AP_WRAP, AP_SAT, AP_SAT_ZERO or AP_SAT_SYM)"
        ))
        }
    })
}

impl QuantMode {
    /// The C++ enumerator, e.g. `AP_RND_CONV`.
    pub const fn hls_name(self) -> &'static str {
        match self {
            QuantMode::Rnd => "AP_RND",
            QuantMode::RndZero => "AP_RND_ZERO",
            QuantMode::RndMinInf => "AP_RND_MIN_INF",
            QuantMode::RndInf => "AP_RND_INF",
            QuantMode::RndConv => "AP_RND_CONV",
            QuantMode::Trn => "AP_TRN",
            QuantMode::TrnZero => "AP_TRN_ZERO",
        }
    }

    /// All seven modes.
    pub const ALL: [QuantMode; 7] = [
        QuantMode::Rnd,
        QuantMode::RndZero,
        QuantMode::RndMinInf,
        QuantMode::RndInf,
        QuantMode::RndConv,
        QuantMode::Trn,
        QuantMode::TrnZero,
    ];
}

impl OverflowMode {
    /// The C++ enumerator, e.g. `AP_SAT_SYM`.
    pub const fn hls_name(self) -> &'static str {
        match self {
            OverflowMode::Wrap => "AP_WRAP",
            OverflowMode::Sat => "AP_SAT",
            OverflowMode::SatZero => "AP_SAT_ZERO",
            OverflowMode::SatSym => "AP_SAT_SYM",
        }
    }

    /// All four supported modes.
    pub const ALL: [OverflowMode; 4] = [
        OverflowMode::Wrap,
        OverflowMode::Sat,
        OverflowMode::SatZero,
        OverflowMode::SatSym,
    ];
}

impl fmt::Display for QuantMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.hls_name())
    }
}

impl fmt::Display for OverflowMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.hls_name())
    }
}

impl fmt::Display for FixedType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_integer_type() {
            let u = if self.signed { "" } else { "u" };
            return write!(f, "ap_{u}int<{}>", self.width);
        }
        f.write_str(&self.ap_fixed_spelling())
    }
}

impl FixedType {
    /// `ap_fixed<W,I>`/`ap_ufixed<W,I>` (with both modes when either is not the default), also for
    /// integer types. Use it to declare C++ variables that receive fractional values: an
    /// `ap_int<W>` target truncates toward zero (and maps doubles in (-0.5, 0) to +1), while
    /// `ap_fixed<W,W>` follows its quantization mode as [`cast`](super::cast) models.
    pub fn ap_fixed_spelling(&self) -> String {
        let u = if self.signed { "" } else { "u" };
        let modes = if self.quant != QuantMode::Trn || self.overflow != OverflowMode::Wrap {
            format!(",{},{}", self.quant, self.overflow)
        } else {
            String::new()
        };
        format!("ap_{u}fixed<{},{}{modes}>", self.width, self.integer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> FixedType {
        match s.parse::<FixedType>() {
            Ok(t) => t,
            Err(e) => panic!("`{s}` should parse: {e}"),
        }
    }

    fn parse_err(s: &str) -> String {
        match s.parse::<FixedType>() {
            Ok(t) => panic!("`{s}` should not parse, got {t:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn parses_hls_spellings() {
        assert_eq!(parse("ap_fixed<16,6>"), FixedType::new(16, 6, true));
        assert_eq!(parse("ap_ufixed<8,-2>"), FixedType::new(8, -2, false));
        assert_eq!(
            parse("ap_fixed<16,6,AP_RND_CONV,AP_SAT>"),
            FixedType::new(16, 6, true).with_modes(QuantMode::RndConv, OverflowMode::Sat)
        );
        assert_eq!(
            parse("ap_fixed<16,6,AP_RND,AP_SAT,0>"),
            FixedType::new(16, 6, true).with_modes(QuantMode::Rnd, OverflowMode::Sat)
        );
        assert_eq!(
            parse("ap_ufixed<4,9,AP_TRN_ZERO>"),
            FixedType::new(4, 9, false).with_modes(QuantMode::TrnZero, OverflowMode::Wrap)
        );
        assert_eq!(parse("ap_int<8>"), FixedType::int(8, true));
        assert_eq!(parse("ap_uint<64>"), FixedType::int(64, false));
    }

    #[test]
    fn parses_hls4ml_spellings_and_spaces() {
        assert_eq!(parse("fixed<16,6>"), FixedType::new(16, 6, true));
        assert_eq!(
            parse("ufixed<16,6,RND_CONV,SAT>"),
            FixedType::new(16, 6, false).with_modes(QuantMode::RndConv, OverflowMode::Sat)
        );
        assert_eq!(parse("int<8>"), FixedType::int(8, true));
        assert_eq!(parse("uint<8>"), FixedType::int(8, false));
        assert_eq!(
            parse("  ap_fixed < 18 , -3 , AP_RND_MIN_INF , AP_SAT_SYM , 0 >  "),
            FixedType::new(18, -3, true).with_modes(QuantMode::RndMinInf, OverflowMode::SatSym)
        );
        assert_eq!(parse("ap_fixed<8,8>"), FixedType::int(8, true));
    }

    #[test]
    fn rejects_bad_strings_naming_the_problem() {
        let cases = [
            ("ap_fixed", "expected `<`"),
            ("ap_float<8,4>", "unknown type name `ap_float`"),
            ("ap_fixed<16,6", "end with `>`"),
            ("ap_fixed<16,6>x", "end with `>`"),
            ("ap_fixed<16>", "1 parameters given"),
            ("ap_int<8,4>", "2 parameters given"),
            ("ap_fixed<16,6,AP_RND,AP_SAT,0,1>", "6 parameters given"),
            ("ap_fixed<16,,AP_RND>", "parameter 2 is empty"),
            ("ap_fixed<x,6>", "width `x`"),
            ("ap_fixed<-4,6>", "width `-4`"),
            ("ap_fixed<16,six>", "integer bits `six`"),
            (
                "ap_fixed<16,6,AP_ROUND>",
                "unknown quantization mode `AP_ROUND`",
            ),
            (
                "ap_fixed<16,6,AP_RND,AP_CLAMP>",
                "unknown overflow mode `AP_CLAMP`",
            ),
            (
                "ap_fixed<16,6,AP_RND,AP_WRAP_SM>",
                "AP_WRAP_SM is not supported",
            ),
            ("ap_fixed<16,6,AP_RND,AP_SAT,2>", "N = `2`"),
            ("ap_fixed<0,0>", "width 0 is out of range 1..=64"),
            ("ap_int<65>", "width 65 is out of range 1..=64"),
            ("", "expected `<`"),
        ];
        for (input, needle) in cases {
            let message = parse_err(input);
            assert!(
                message.contains(needle),
                "error for `{input}` was `{message}`, expected `{needle}`"
            );
        }
    }

    #[test]
    fn displays_canonically() {
        assert_eq!(FixedType::new(16, 6, true).to_string(), "ap_fixed<16,6>");
        assert_eq!(
            FixedType::new(16, -6, false).to_string(),
            "ap_ufixed<16,-6>"
        );
        assert_eq!(FixedType::int(8, true).to_string(), "ap_int<8>");
        assert_eq!(FixedType::int(12, false).to_string(), "ap_uint<12>");
        assert_eq!(
            FixedType::new(16, 6, true)
                .with_modes(QuantMode::Rnd, OverflowMode::Wrap)
                .to_string(),
            "ap_fixed<16,6,AP_RND,AP_WRAP>"
        );
        assert_eq!(
            FixedType::new(16, 6, false)
                .with_modes(QuantMode::Trn, OverflowMode::SatSym)
                .to_string(),
            "ap_ufixed<16,6,AP_TRN,AP_SAT_SYM>"
        );
        assert_eq!(
            FixedType::int(8, true)
                .with_modes(QuantMode::Trn, OverflowMode::Sat)
                .to_string(),
            "ap_fixed<8,8,AP_TRN,AP_SAT>"
        );
    }

    #[test]
    fn ap_fixed_spelling_never_says_int() {
        assert_eq!(FixedType::int(8, true).ap_fixed_spelling(), "ap_fixed<8,8>");
        assert_eq!(
            FixedType::int(3, false).ap_fixed_spelling(),
            "ap_ufixed<3,3>"
        );
        let rounded = FixedType::new(16, 6, true).with_modes(QuantMode::Rnd, OverflowMode::Sat);
        assert_eq!(rounded.ap_fixed_spelling(), rounded.to_string());
        assert_eq!(
            parse(&FixedType::int(8, true).ap_fixed_spelling()),
            FixedType::int(8, true)
        );
    }

    #[test]
    fn display_round_trips_for_every_mode_pair() {
        for quant in QuantMode::ALL {
            for overflow in OverflowMode::ALL {
                for (width, integer, signed) in
                    [(1, 1, true), (16, 6, false), (64, -70, true), (7, 7, false)]
                {
                    let ty = FixedType::new(width, integer, signed).with_modes(quant, overflow);
                    assert_eq!(parse(&ty.to_string()), ty, "round trip of {ty}");
                }
            }
        }
    }
}
