//! The `ap_fixed`/`ap_int` arithmetic model with runtime widths. Bottom floor: imports nothing of
//! ours.
//!
//! Values are exact dyadic rationals `raw * 2^-frac` (`raw: i128`), either free-standing pairs or
//! [`Fixed`] values of a [`FixedType`]. [`cast`] converts them into a type as an `ap_fixed`
//! assignment does; [`from_f64`]/[`to_f64`] and [`to_decimal`]/[`parse_decimal`] convert to and
//! from doubles and exact decimal text.

mod bignum;
mod cast;
mod decimal;
mod error;
mod float;
mod parse;
mod raws;
mod rules;
mod types;
mod value;

pub use cast::{cast, cast_i64, Cast};
pub use decimal::{parse_decimal, to_decimal, write_decimal};
pub use error::FixedError;
pub use float::{from_f64, to_f64};
pub use raws::Raws;
pub use types::*;
pub use value::Fixed;
