//! `Pool` (max, average, global) fully parallel: per output position and channel, the window's
//! input values that lie inside the input ([`Window`], the geometry of `ir::Pool`) are combined
//! exactly as `Reduce` combines its groups ([`extreme`], [`sum`]): `Max` a tree of selections;
//! `Average` the exact sum times the raw reciprocal of the position's count
//! ([`Pool::reciprocal_raw`], the whole window with `count_pad`) as shift-and-add. Then the output
//! cast and a register: one cycle ([`crate::arch::rtl`]).

use super::elementwise::{magnitude_bits, too_wide, MAX_BITS};
use super::netlist::{Module, Val};
use super::pointwise::{finish, times, Exact};
use super::reduce::{extreme, sum};
use crate::backend::BackendError;
use crate::fixed::FixedType;
use crate::ir::window::{Window, PAD};
use crate::ir::{Pool, PoolOp, Shape};

/// Builds every output element of `p` on input `x` (shape `shape`, fractional bits `fx`), in
/// row-major order.
#[allow(clippy::too_many_arguments)]
pub fn build(
    m: &mut Module,
    layer: &str,
    p: &Pool,
    shape: &Shape,
    out_shape: &Shape,
    xs: &[Val],
    fx: i64,
    out: &FixedType,
) -> Result<Vec<Val>, BackendError> {
    let misfit = || BackendError::layer(layer, "the input and output shapes do not fit the window");
    let window = Window::of_pool(p, shape, out_shape).ok_or_else(misfit)?;
    if xs.len() != shape.elements() {
        return Err(misfit());
    }
    let table = window.table().ok_or_else(misfit)?;
    let (taps, c) = (window.taps(), shape.channels());
    let mut ys = Vec::with_capacity(window.positions() * c);
    for taps_of in table.chunks(taps.max(1)) {
        let inside: Vec<usize> = taps_of.iter().filter(|&&i| i != PAD).map(|&i| i as usize).collect();
        if inside.is_empty() {
            return Err(BackendError::layer(layer, "a pooling window lies entirely in the padding"));
        }
        for k in 0..c {
            let values: Vec<Val> = inside.iter().map(|&i| xs[i * c + k].clone()).collect();
            ys.push(one(m, layer, p, values, taps, fx, out)?);
        }
    }
    Ok(ys)
}

/// One output of `p` from the window's `values` that lie inside the input (of `taps` in the
/// whole window): the combination, the output cast and a register.
pub fn one(
    m: &mut Module,
    layer: &str,
    p: &Pool,
    values: Vec<Val>,
    taps: usize,
    fx: i64,
    out: &FixedType,
) -> Result<Val, BackendError> {
    let n = values.len();
    let t = match p.op {
        PoolOp::Max => {
            let val = extreme(m, values, false)
                .ok_or_else(|| BackendError::layer(layer, "a pooling window lies entirely in the padding"))?;
            Exact { val, frac: fx }
        }
        PoolOp::Average => {
            let rty =
                p.reciprocal.ok_or_else(|| BackendError::layer(layer, "the reciprocal type is unknown"))?;
            let count = if p.count_pad { taps } else { n };
            let r = Pool::reciprocal_raw(count, &rty);
            let total = sum(m, layer, values)?;
            if magnitude_bits(&total) + (128 - r.unsigned_abs().leading_zeros()) > MAX_BITS {
                return Err(too_wide(layer));
            }
            Exact { val: times(m, &total, r), frac: fx + i64::from(rty.frac_bits()) }
        }
    };
    Ok(finish(m, &t, out))
}
