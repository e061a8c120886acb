//! Fixed-point type descriptors mirroring Xilinx `ap_fixed<W,I,Q,O>`, `ap_ufixed`, `ap_int<W>` and
//! `ap_uint<W>`.
//!
//! A value of type `FixedType { width: W, integer: I, signed, .. }` is `raw * 2^-(W - I)` where `raw`
//! is a `W`-bit two's-complement (signed) or unsigned integer. `I` may be negative or larger than `W`,
//! as in the HLS types. Integer types are fixed types with `integer == width` and the defaults
//! `AP_TRN`/`AP_WRAP`; [`FixedType::is_integer_type`] tells which spelling to emit.

use serde::{Deserialize, Serialize};

/// The largest width a value may have. Intermediate results are held in `i128`.
pub const MAX_WIDTH: u32 = 64;

/// Quantization (rounding) mode applied when fractional bits are dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
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
        FixedType { width, integer, signed, quant: QuantMode::Trn, overflow: OverflowMode::Wrap }
    }

    /// `ap_int<width>` / `ap_uint<width>`.
    pub const fn int(width: u32, signed: bool) -> Self {
        Self::new(width, width as i32, signed)
    }

    pub const fn with_modes(self, quant: QuantMode, overflow: OverflowMode) -> Self {
        FixedType { quant, overflow, ..self }
    }

    /// Fractional bits `W - I` (negative when the LSB weighs more than 1).
    pub const fn frac_bits(&self) -> i32 {
        self.width as i32 - self.integer
    }

    /// True when the type is spelled `ap_int`/`ap_uint` (integer bits equal width, default modes).
    pub fn is_integer_type(&self) -> bool {
        self.integer == self.width as i32
            && self.quant == QuantMode::Trn
            && self.overflow == OverflowMode::Wrap
    }
}
