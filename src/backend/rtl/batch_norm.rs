//! `BatchNorm` as pointwise logic: `t = x * scale[c] + bias[c]` for each element (the product by
//! shift-and-add), then the output cast and a register.

use super::netlist::{Module, Val};
use super::pointwise::{constants, finish, per_element, shl, times, Exact, Site};
use crate::backend::BackendError;
use crate::fixed::FixedType;
use crate::ir::BatchNorm;

/// Builds every element of a batch-norm layer: its output values, registered.
pub fn build(
    m: &mut Module,
    at: &Site,
    b: &BatchNorm,
    xs: &[Val],
    fx: i64,
    out: &FixedType,
) -> Result<Vec<Val>, BackendError> {
    let mut ys = Vec::with_capacity(xs.len());
    for (e, x) in xs.iter().enumerate() {
        let t = element(m, &Site { e, ..*at }, b, x, fx)?;
        ys.push(finish(m, &t, out));
    }
    Ok(ys)
}

/// `t = x * scale[c] + bias[c]` for element `e`.
fn element(m: &mut Module, at: &Site, b: &BatchNorm, x: &Val, fx: i64) -> Result<Exact, BackendError> {
    let (layer, e, channels, elements) = (at.layer, at.e, at.channels, at.elements);
    let (sv, fs) = constants(layer, "scale", &b.scale)?;
    let (bv, fb) = constants(layer, "bias", &b.bias)?;
    let s = per_element(layer, "scale", &sv, e, channels, elements)?;
    let c = per_element(layer, "bias", &bv, e, channels, elements)?;
    let f = (fx + fs).max(fb);
    let p = times(m, x, s).shifted(u32::try_from(f - fx - fs).unwrap_or(0));
    let c = shl(layer, c, f - fb)?;
    if c == 0 {
        return Ok(Exact { val: p, frac: f });
    }
    let k = m.constant(c);
    Ok(Exact { val: m.add(&p, &k, false, None), frac: f })
}
