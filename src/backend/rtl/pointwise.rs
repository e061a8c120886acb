//! What the pointwise layers share (`Activation`, `BatchNorm`, `Quantize`, `Reshape`,
//! `Concatenate`): each element's exact intermediate `t` (see `ir::Layer`) at a fractional-bit
//! count of its own, then [`finish`]: the cast to the output type and one register. Constants
//! are read as raw integers of their types.

use super::cast::cast;
use super::netlist::{Module, Val};
use crate::backend::BackendError;
use crate::fixed::FixedType;
use crate::ir::Weights;

/// Raw integers of a typed constant.
pub fn raws(layer: &str, role: &str, w: &Weights) -> Result<(Vec<i128>, i64), BackendError> {
    let ty = w.ty.ok_or_else(|| BackendError::layer(layer, format!("{role} has no type")))?;
    let f = i64::from(ty.frac_bits());
    let scale = 2f64.powi(ty.frac_bits());
    let values = w.values.iter().map(|&v| (v * scale) as i128).collect();
    Ok((values, f))
}

/// `v * 2^k`, refusing values beyond what the builder's `i128` ranges hold.
pub fn shl(layer: &str, v: i128, k: i64) -> Result<i128, BackendError> {
    let too_wide =
        || BackendError::layer(layer, "intermediate values are too wide for the RTL backend (over 100 bits)");
    if !(0..100).contains(&k) {
        return Err(too_wide());
    }
    let r = v.checked_mul(1i128 << k).ok_or_else(too_wide)?;
    if r.unsigned_abs() >= 1u128 << 100 {
        return Err(too_wide());
    }
    Ok(r)
}

/// Which element of which layer a pointwise function is built for.
#[derive(Debug, Clone, Copy)]
pub struct Site<'a> {
    pub layer: &'a str,
    /// Row-major element index.
    pub e: usize,
    /// Size of the last axis, which per-channel constants follow.
    pub channels: usize,
    pub elements: usize,
}

/// A value together with its fractional-bit count.
pub struct Exact {
    pub val: Val,
    pub frac: i64,
}

/// `x * c` for any constant `c` (a shared odd multiple would not help a single product).
pub fn times(m: &mut Module, x: &Val, c: i128) -> Val {
    if c == 0 {
        return m.constant(0);
    }
    let k = c.unsigned_abs().trailing_zeros();
    let p = m.mul_odd(x, c.unsigned_abs() >> k).shifted(k);
    if c < 0 {
        m.neg(&p)
    } else {
        p
    }
}

/// The constant of `w` applying to element `e` of a tensor with `channels` on its last axis.
pub fn per_element(
    layer: &str,
    role: &str,
    values: &[i128],
    e: usize,
    channels: usize,
    elements: usize,
) -> Result<i128, BackendError> {
    let k = match values.len() {
        1 => 0,
        n if n == channels => e % channels,
        n if n == elements => e,
        n => {
            return Err(BackendError::layer(
                layer,
                format!("{role} has {n} values, which do not broadcast per channel"),
            ))
        }
    };
    Ok(values[k])
}

/// Elementwise constants as raw integers and their fractional bits.
pub fn constants(layer: &str, role: &str, w: &Weights) -> Result<(Vec<i128>, i64), BackendError> {
    let (v, f) = raws(layer, role, w)?;
    if v.is_empty() {
        return Err(BackendError::layer(layer, format!("{role} is empty")));
    }
    Ok((v, f))
}

/// The output cast and register of a pointwise result.
pub fn finish(m: &mut Module, t: &Exact, out: &FixedType) -> Val {
    let y = cast(m, &t.val, t.frac, out);
    m.reg(&y)
}
