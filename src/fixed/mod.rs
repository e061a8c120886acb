//! The `ap_fixed`/`ap_int` arithmetic model with runtime widths. Bottom floor: imports nothing of ours.

mod types;

pub use types::*;
