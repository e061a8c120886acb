//! [`Fixed`]: a raw value together with its type, for code that prefers not to carry the two
//! apart. Invariant (enforced by the constructors, not by the public fields): the type is valid
//! and `ty.min_raw() <= raw <= ty.max_raw()`.

use super::cast::cast;
use super::decimal::{parse_decimal, to_decimal};
use super::error::FixedError;
use super::float::{from_f64, to_f64};
use super::types::FixedType;
use std::fmt;

/// A value of a fixed-point type: `raw * 2^-(W - I)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fixed {
    pub raw: i128,
    pub ty: FixedType,
}

impl Fixed {
    /// Checks that `ty` is valid and that `raw` fits its `W` bits.
    pub fn new(raw: i128, ty: FixedType) -> Result<Self, FixedError> {
        ty.validate()?;
        if raw < ty.min_raw() || raw > ty.max_raw() {
            return Err(FixedError::OutOfRange {
                value: format!("raw {raw}"),
                ty,
            });
        }
        Ok(Fixed { raw, ty })
    }

    pub fn zero(ty: FixedType) -> Result<Self, FixedError> {
        Self::new(0, ty)
    }

    /// `ty v = (double)x;` — see [`from_f64`]. The overflow flag is dropped.
    pub fn from_f64(x: f64, ty: FixedType) -> Result<Self, FixedError> {
        ty.validate()?;
        Ok(Fixed {
            raw: from_f64(x, &ty)?.raw,
            ty,
        })
    }

    /// The value of an exact decimal string, which must be representable in `ty`.
    pub fn from_decimal(s: &str, ty: FixedType) -> Result<Self, FixedError> {
        Ok(Fixed {
            raw: parse_decimal(s, &ty)?,
            ty,
        })
    }

    /// Number of fractional bits of the raw value, `W - I`.
    pub fn frac(&self) -> i32 {
        self.ty.frac_bits()
    }

    /// Assignment to another type; the flag says whether it overflowed.
    pub fn cast(&self, to: FixedType) -> Result<(Fixed, bool), FixedError> {
        to.validate()?;
        let out = cast(self.raw, self.frac(), &to);
        Ok((
            Fixed {
                raw: out.raw,
                ty: to,
            },
            out.overflow,
        ))
    }

    pub fn to_f64(&self) -> f64 {
        to_f64(self.raw, self.frac())
    }

    pub fn to_decimal(&self) -> String {
        to_decimal(self.raw, self.frac())
    }
}

/// The exact decimal value.
impl fmt::Display for Fixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_decimal())
    }
}
