//! Errors of the fixed-point model. Every message names the offending input and what is wrong
//! with it, so callers can surface them unchanged.

use super::types::FixedType;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Error)]
pub enum FixedError {
    #[error("fixed-point width {width} is out of range 1..={max}", max = super::types::MAX_WIDTH)]
    InvalidWidth { width: u32 },

    #[error("integer bits {integer} are out of range: the fractional bits W - I must fit an i32")]
    InvalidInteger { integer: i32 },

    #[error("cannot parse fixed-point type `{input}`: {reason}")]
    ParseType { input: String, reason: String },

    #[error("cannot convert {value} to fixed point: only finite values are allowed")]
    NotFinite { value: f64 },

    #[error("`{input}` is not a decimal number: {reason}")]
    ParseDecimal { input: String, reason: String },

    #[error("{value} is not exactly representable in {ty} (its resolution is 2^{lsb_exp})", lsb_exp = -(ty.frac_bits() as i64))]
    NotRepresentable { value: String, ty: FixedType },

    #[error("{value} is out of range for {ty}, which holds raw values {min}..={max}", min = ty.min_raw(), max = ty.max_raw())]
    OutOfRange { value: String, ty: FixedType },
}
