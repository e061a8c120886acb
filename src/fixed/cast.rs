//! Conversion of an exact value `raw * 2^-frac` into a fixed-point type, as an `ap_fixed`
//! assignment performs it: first the quantization mode drops the fractional bits the target lacks,
//! then the overflow mode deals with a result outside the target's `W` bits.
//!
//! Contract (checked against the Xilinx headers by `tests/fixed_vs_ap_types.rs`):
//! * quantization rounds the exact value to a multiple of the target LSB as its mode says, with
//!   ties decided by the exact value (never by an intermediate rounding);
//! * a quantized value inside the target range is kept; otherwise `AP_WRAP` keeps its low `W`
//!   bits (two's complement), `AP_SAT` clamps to the nearest end, `AP_SAT_ZERO` gives 0 and
//!   `AP_SAT_SYM` clamps to `max_raw` or `-max_raw` (for signed types of two or more bits the most
//!   negative raw value is itself treated as out of range, as the headers do);
//! * `Cast::overflow` is set exactly when the overflow mode had to act.
//!
//! Integer targets are modelled as `ap_fixed<W,W>`. The C++ `ap_int<W> i = fixed;` differs: it
//! truncates toward zero whatever the source (see [`FixedType::ap_fixed_spelling`]).
//!
//! Every input is accepted without panicking: any `raw`, any `frac`, shifts of any size. The
//! target should pass [`FixedType::validate`]; widths outside 1..=64 are clamped into that range.

use super::types::{FixedType, OverflowMode, QuantMode, MAX_WIDTH};

/// The result of a conversion: the target's raw value and whether it overflowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cast {
    /// Raw value of the target type (a `W`-bit integer, sign-extended when signed).
    pub raw: i128,
    /// The quantized value did not fit and the overflow mode changed it (wrapped, saturated or
    /// zeroed).
    pub overflow: bool,
}

/// Converts the exact value `raw * 2^-frac` to `to`, as `ap_fixed` assignment does.
///
/// Fastest for a `raw` that fits an `i64` with the target LSB fewer than 64 positions away; also
/// fast for any `raw` when fewer than 128 low bits are dropped (narrowing a wide accumulator).
#[inline]
pub fn cast(raw: i128, frac: i32, to: &FixedType) -> Cast {
    let shift = to.frac_bits_i64() - frac as i64;
    if let Ok(small) = i64::try_from(raw) {
        if shift.unsigned_abs() < 64 {
            return cast_small(small, shift, to);
        }
    }
    if (-127..0).contains(&shift) {
        return fit(round_right(raw, shift.unsigned_abs() as u32, to.quant), to);
    }
    cast_wide(raw, shift, to)
}

/// Hot-path conversion for inputs held in an `i64`.
///
/// Same result as [`cast`] for the same exact value. It is fastest when the target LSB is within
/// 63 bit positions of the input LSB (`|(W - I) - frac| < 64`) and otherwise takes the general
/// path. The returned raw is the target's `W`-bit pattern sign-extended into an `i64`; for an
/// unsigned 64-bit target whose value exceeds `i64::MAX` read it back with `as u64`.
#[inline]
pub fn cast_i64(raw: i64, frac: i32, to: &FixedType) -> (i64, bool) {
    let shift = to.frac_bits_i64() - frac as i64;
    let out = if shift.unsigned_abs() < 64 {
        cast_small(raw, shift, to)
    } else {
        cast_wide(i128::from(raw), shift, to)
    };
    (out.raw as i64, out.overflow)
}

/// [`cast`] for `|shift| < 64` and an `i64` input, where the quantized value fits an `i128`.
#[inline(always)]
fn cast_small(raw: i64, shift: i64, to: &FixedType) -> Cast {
    let q = if shift >= 0 {
        i128::from(raw) << shift
    } else {
        i128::from(round_right_i64(raw, shift.unsigned_abs() as u32, to.quant))
    };
    fit(q, to)
}

/// `raw * 2^-s` rounded as `quant` says, for `1 <= s <= 63` (the `i64` twin of [`round_right`]).
#[inline(always)]
fn round_right_i64(raw: i64, s: u32, quant: QuantMode) -> i64 {
    let floor = raw >> s;
    let half_bit = (raw >> (s - 1)) & 1 != 0;
    let below_half = raw & ((1i64 << (s - 1)) - 1) != 0;
    let odd = floor & 1 != 0;
    floor + i64::from(increment(quant, half_bit, below_half, raw < 0, odd))
}

/// `raw * 2^-s` rounded to an integer as `quant` says, for `1 <= s <= 127`.
#[inline(always)]
fn round_right(raw: i128, s: u32, quant: QuantMode) -> i128 {
    let floor = raw >> s;
    let half_bit = (raw >> (s - 1)) & 1 != 0;
    let below_half = raw & ((1i128 << (s - 1)) - 1) != 0;
    let odd = floor & 1 != 0;
    floor + i128::from(increment(quant, half_bit, below_half, raw < 0, odd))
}

/// Whether rounding moves the truncated (floor) value up by one LSB. `half_bit` is the dropped bit
/// just below the new LSB, `below_half` says whether any dropped bit under it is set, `negative`
/// is the sign of the exact value and `odd` the parity of the floor.
#[inline(always)]
pub(super) fn increment(
    quant: QuantMode,
    half_bit: bool,
    below_half: bool,
    negative: bool,
    odd: bool,
) -> bool {
    match quant {
        QuantMode::Trn => false,
        QuantMode::TrnZero => negative && (half_bit || below_half),
        QuantMode::Rnd => half_bit,
        QuantMode::RndZero => half_bit && (negative || below_half),
        QuantMode::RndMinInf => half_bit && below_half,
        QuantMode::RndInf => half_bit && (!negative || below_half),
        QuantMode::RndConv => half_bit && (odd || below_half),
    }
}

/// Applies the overflow mode to the quantized value `q` (target raw units). Written without
/// data-dependent branches (clamps and selects), since saturating inputs are common.
#[inline(always)]
fn fit(q: i128, to: &FixedType) -> Cast {
    let width = to.width.clamp(1, MAX_WIDTH);
    let (lo, hi) = range(width, to.signed);
    let sym_min = to.signed && width > 1 && to.overflow == OverflowMode::SatSym;
    // The lowest value kept as is: -hi instead of lo under a symmetric saturation.
    let low = lo + i128::from(sym_min);
    let overflow = (q < low) | (q > hi);
    let raw = match to.overflow {
        // Wrapping an in-range value leaves it unchanged.
        OverflowMode::Wrap => wrap(q as u128, width, to.signed),
        OverflowMode::Sat | OverflowMode::SatSym => q.max(low).min(hi),
        OverflowMode::SatZero => {
            if overflow {
                0
            } else {
                q
            }
        }
    };
    Cast { raw, overflow }
}

/// The raw range of a `width`-bit type, `1 <= width <= 64`.
#[inline(always)]
fn range(width: u32, signed: bool) -> (i128, i128) {
    if signed {
        (-(1i128 << (width - 1)), (1i128 << (width - 1)) - 1)
    } else {
        (0, (1i128 << width) - 1)
    }
}

/// The low `width` bits of `bits` (two's complement), sign-extended when `signed`.
#[inline(always)]
fn wrap(bits: u128, width: u32, signed: bool) -> i128 {
    let unused = 128 - width;
    if signed {
        ((bits << unused) as i128) >> unused
    } else {
        (bits << unused >> unused) as i128
    }
}

/// The general path: any `raw`, any shift. `shift` is `F_target - frac`; positive moves left.
#[cold]
fn cast_wide(raw: i128, shift: i64, to: &FixedType) -> Cast {
    if raw == 0 {
        return fit(0, to);
    }
    if shift < 0 {
        let s = shift.unsigned_abs();
        let q = if s <= 127 { round_right(raw, s as u32, to.quant) } else { round_far(raw, s, to.quant) };
        return fit(q, to);
    }
    // The magnitude bits of `raw` (excluding sign copies) must survive the shift to stay exact.
    let magnitude_bits = 128 - if raw < 0 { raw.leading_ones() } else { raw.leading_zeros() };
    if shift + magnitude_bits as i64 <= 127 {
        return fit(raw << shift, to);
    }
    // |q| >= 2^127, far beyond any 64-bit target: only its sign and low bits matter.
    let low_bits = if shift < 128 { (raw as u128) << shift } else { 0 };
    overflow_huge(raw < 0, low_bits, to)
}

/// `raw * 2^-s` rounded, for `s >= 128` and `raw != 0`: the exact value lies in (-1, 1). The half
/// bit (weight 2^(s-1)) is a copy of the sign, and the bits below it are all zero only for
/// `raw == i128::MIN` at `s == 128`, the exact tie -1/2.
fn round_far(raw: i128, s: u64, quant: QuantMode) -> i128 {
    let negative = raw < 0;
    let below_half = s > 128 || raw != i128::MIN;
    let floor = if negative { -1 } else { 0 };
    floor + i128::from(increment(quant, negative, below_half, negative, negative))
}

/// Overflow handling for a quantized value too large in magnitude for an `i128`.
fn overflow_huge(negative: bool, low_bits: u128, to: &FixedType) -> Cast {
    let width = to.width.clamp(1, MAX_WIDTH);
    let (lo, hi) = range(width, to.signed);
    let raw = match to.overflow {
        OverflowMode::Wrap => wrap(low_bits, width, to.signed),
        OverflowMode::SatZero => 0,
        OverflowMode::Sat | OverflowMode::SatSym if !negative => hi,
        OverflowMode::Sat => lo,
        OverflowMode::SatSym if to.signed && width > 1 => -hi,
        OverflowMode::SatSym => lo,
    };
    Cast { raw, overflow: true }
}
