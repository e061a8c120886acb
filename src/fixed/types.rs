//! Fixed-point type descriptors mirroring Xilinx `ap_fixed<W,I,Q,O>`, `ap_ufixed`, `ap_int<W>` and
//! `ap_uint<W>`.
//!
//! A value of type `FixedType { width: W, integer: I, signed, .. }` is `raw * 2^-(W - I)` where `raw`
//! is a `W`-bit two's-complement (signed) or unsigned integer. `I` may be negative or larger than `W`,
//! as in the HLS types. Integer types are fixed types with `integer == width` and the defaults
//! `AP_TRN`/`AP_WRAP`; [`FixedType::is_integer_type`] tells which spelling to emit.

use super::error::FixedError;
use serde::{Deserialize, Serialize};

/// The largest width a value may have. Intermediate results are held in `i128`.
pub const MAX_WIDTH: u32 = 64;

/// Quantization (rounding) mode applied when fractional bits are dropped.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
pub enum QuantMode {
    /// `AP_RND`: round to nearest, ties toward plus infinity.
    Rnd,
    /// `AP_RND_ZERO`: round to nearest, ties toward zero.
    RndZero,
    /// `AP_RND_MIN_INF`: round to nearest, ties toward minus infinity.
    RndMinInf,
    /// `AP_RND_INF`: round to nearest, ties away from zero.
    RndInf,
    /// `AP_RND_CONV`: round to nearest, ties to even.
    RndConv,
    /// `AP_TRN`: truncate toward minus infinity (the HLS default).
    #[default]
    Trn,
    /// `AP_TRN_ZERO`: truncate toward zero.
    TrnZero,
}

/// Overflow mode applied when integer bits are dropped.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
pub enum OverflowMode {
    /// `AP_WRAP`: keep the low bits (the HLS default).
    #[default]
    Wrap,
    /// `AP_SAT`: clamp to the largest or smallest value.
    Sat,
    /// `AP_SAT_ZERO`: overflow gives zero.
    SatZero,
    /// `AP_SAT_SYM`: clamp symmetrically (signed types never hold the most negative value after
    /// an overflow).
    SatSym,
}

/// A fixed-point or integer type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FixedType {
    /// Total bits `W`, 1..=[`MAX_WIDTH`].
    pub width: u32,
    /// Integer bits `I` (including the sign bit for signed types); may be negative or exceed `W`.
    pub integer: i32,
    pub signed: bool,
    pub quant: QuantMode,
    pub overflow: OverflowMode,
}

impl FixedType {
    /// `ap_fixed<width, integer>` / `ap_ufixed<width, integer>` with the default `AP_TRN, AP_WRAP`.
    pub const fn new(width: u32, integer: i32, signed: bool) -> Self {
        FixedType {
            width,
            integer,
            signed,
            quant: QuantMode::Trn,
            overflow: OverflowMode::Wrap,
        }
    }

    /// `ap_int<width>` / `ap_uint<width>`.
    pub const fn int(width: u32, signed: bool) -> Self {
        Self::new(width, width as i32, signed)
    }

    pub const fn with_modes(self, quant: QuantMode, overflow: OverflowMode) -> Self {
        FixedType {
            quant,
            overflow,
            ..self
        }
    }

    /// Fractional bits `W - I` (negative when the LSB weighs more than 1), saturated to the `i32`
    /// range for absurd descriptors.
    pub const fn frac_bits(&self) -> i32 {
        let f = self.width as i64 - self.integer as i64;
        if f > i32::MAX as i64 {
            i32::MAX
        } else if f < i32::MIN as i64 {
            i32::MIN
        } else {
            f as i32
        }
    }

    /// True when the type is spelled `ap_int`/`ap_uint` (integer bits equal width, default modes).
    pub fn is_integer_type(&self) -> bool {
        self.integer == self.width as i32
            && self.quant == QuantMode::Trn
            && self.overflow == OverflowMode::Wrap
    }
}

impl FixedType {
    /// `W - I` without any saturation; the shift arithmetic works on this.
    pub(crate) const fn frac_bits_i64(&self) -> i64 {
        self.width as i64 - self.integer as i64
    }

    /// Checks what the arithmetic needs: a width of 1..=[`MAX_WIDTH`] bits, and `W - I` within
    /// `i32` so that [`FixedType::frac_bits`] is exact.
    pub fn validate(&self) -> Result<(), FixedError> {
        if !(1..=MAX_WIDTH).contains(&self.width) {
            return Err(FixedError::InvalidWidth { width: self.width });
        }
        if i32::try_from(self.frac_bits_i64()).is_err() {
            return Err(FixedError::InvalidInteger {
                integer: self.integer,
            });
        }
        Ok(())
    }

    /// The most negative raw value the `W` bits hold (`0` when unsigned). Also the result of
    /// saturating at the bottom, except under `AP_SAT_SYM` (see [`FixedType::sat_min_raw`]).
    /// Widths too large for `i128` saturate to `i128::MIN`.
    pub const fn min_raw(&self) -> i128 {
        if !self.signed || self.width == 0 {
            0
        } else if self.width >= 128 {
            i128::MIN
        } else {
            -(1i128 << (self.width - 1))
        }
    }

    /// The largest raw value the `W` bits hold, saturated to `i128::MAX` for widths beyond it.
    pub const fn max_raw(&self) -> i128 {
        let magnitude_bits = if self.signed {
            self.width.saturating_sub(1)
        } else {
            self.width
        };
        if magnitude_bits >= 127 {
            i128::MAX
        } else {
            (1i128 << magnitude_bits) - 1
        }
    }

    /// The smallest raw value an assignment to this type can produce. Under `AP_SAT_SYM` a signed
    /// type of two or more bits never takes its most negative value: the headers turn it into
    /// `-max_raw()`, even when the source value is exactly that minimum.
    pub const fn sat_min_raw(&self) -> i128 {
        if self.signed && self.width > 1 && matches!(self.overflow, OverflowMode::SatSym) {
            -self.max_raw()
        } else {
            self.min_raw()
        }
    }

    /// The weight of one LSB, `2^-(W - I)` (0 or infinity when beyond the `f64` range).
    pub fn lsb(&self) -> f64 {
        super::float::pow2(-self.frac_bits_i64())
    }
}
