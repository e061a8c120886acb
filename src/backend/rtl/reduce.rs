//! `Reduce` as combinational trees: for each output position, its `n` input values (row-major
//! order of the reduced coordinates, as `ir::Reduce` orders them) become leaves, a balanced tree
//! combines them exactly, and the output cast and a register finish it (one cycle,
//! [`crate::arch::rtl`]).
//!
//! * `Sum`, `Mean`, `SumSquare`, `L1`, `L2`: a tree of minimal-width adders over the values, their
//!   squares (a multiplier of the square's exact range) or their magnitudes (the sign selects
//!   `-v` or `v`); `Mean` multiplies the exact sum by the reciprocal's raw value
//!   (`ir::Pool::reciprocal_raw`) as shift-and-add; `L2` indexes the square-root table with the
//!   sum of squares through a ROM of entries already cast to the output type (as `Activation`'s
//!   tables);
//! * `Max`, `Min`: a tree of selections, each by the sign of an exact difference.
//!
//! Every intermediate is exact, so the tree's shape does not change the result.

use super::activation::{lookup, rom};
use super::elementwise::{magnitude_bits, product, select, too_wide, MAX_BITS};
use super::netlist::{Module, Val};
use super::pointwise::{finish, times, Exact};
use crate::backend::BackendError;
use crate::fixed::FixedType;
use crate::ir::{Pool, Reduce, ReduceOp, Shape};

/// Builds every output of a reduction of input `x` (shape `shape`, fractional bits `fx`).
pub fn build(
    m: &mut Module,
    layer: &str,
    r: &Reduce,
    shape: &Shape,
    xs: &[Val],
    fx: i64,
    out: &FixedType,
) -> Result<Vec<Val>, BackendError> {
    if xs.len() != shape.elements() {
        return Err(BackendError::layer(layer, "input size does not match its shape"));
    }
    let table = match r.op {
        ReduceOp::L2 => {
            let t = r.table.as_ref().ok_or_else(|| BackendError::layer(layer, "has no square-root table"))?;
            Some((t, rom(m, layer, "lut", t, out)?))
        }
        _ => None,
    };
    let mut ys = Vec::new();
    for group in r.sources(shape) {
        let values: Vec<&Val> = group.iter().map(|&i| &xs[i]).collect();
        let t = match r.op {
            ReduceOp::Sum => Exact { val: sum(m, layer, values.into_iter().cloned().collect())?, frac: fx },
            ReduceOp::SumSquare => {
                let squares = values.iter().map(|v| square(m, layer, v)).collect::<Result<_, _>>()?;
                Exact { val: sum(m, layer, squares)?, frac: 2 * fx }
            }
            ReduceOp::L1 => {
                let mags = values.iter().map(|v| magnitude(m, v)).collect();
                Exact { val: sum(m, layer, mags)?, frac: fx }
            }
            ReduceOp::Mean => {
                let rty = r
                    .reciprocal
                    .ok_or_else(|| BackendError::layer(layer, "the reciprocal type is unknown"))?;
                let s = sum(m, layer, values.into_iter().cloned().collect())?;
                let k = Pool::reciprocal_raw(r.count, &rty);
                let bits = 128 - k.unsigned_abs().leading_zeros();
                if magnitude_bits(&s) + bits > MAX_BITS {
                    return Err(too_wide(layer));
                }
                Exact { val: times(m, &s, k), frac: fx + i64::from(rty.frac_bits()) }
            }
            ReduceOp::Max | ReduceOp::Min => {
                let values = values.into_iter().cloned().collect();
                let val = extreme(m, values, r.op == ReduceOp::Min)
                    .ok_or_else(|| BackendError::layer(layer, "reduces no value"))?;
                Exact { val, frac: fx }
            }
            ReduceOp::L2 => {
                let squares = values.iter().map(|v| square(m, layer, v)).collect::<Result<_, _>>()?;
                let s = sum(m, layer, squares)?;
                let (t, f) =
                    table.as_ref().ok_or_else(|| BackendError::layer(layer, "has no square-root table"))?;
                let y = lookup(m, f, t, &s, 2 * fx, out);
                ys.push(m.reg(&y));
                continue;
            }
        };
        ys.push(finish(m, &t, out));
    }
    Ok(ys)
}

/// The maximum (or the minimum when `min`) of `level` in a balanced tree of selections; `None`
/// for no value.
pub fn extreme(m: &mut Module, mut level: Vec<Val>, min: bool) -> Option<Val> {
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|p| match p {
                [a, b] => select(m, a, b, min),
                [a] => a.clone(),
                _ => m.constant(0),
            })
            .collect();
    }
    level.pop()
}

/// The exact sum of `leaves` in a balanced tree of minimal-width adders.
pub fn sum(m: &mut Module, layer: &str, mut level: Vec<Val>) -> Result<Val, BackendError> {
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|p| match p {
                [a, b] => m.add(a, b, false, None),
                [a] => a.clone(),
                _ => m.constant(0),
            })
            .collect();
    }
    let s = level.pop().unwrap_or_else(|| m.constant(0));
    if magnitude_bits(&s) > MAX_BITS {
        return Err(too_wide(layer));
    }
    Ok(s)
}

/// `v * v`, with the square's exact range.
fn square(m: &mut Module, layer: &str, v: &Val) -> Result<Val, BackendError> {
    let (lo, hi) = (v.lo, v.hi);
    let range = if lo >= 0 {
        (lo * lo, hi * hi)
    } else if hi <= 0 {
        (hi * hi, lo * lo)
    } else {
        (0, (lo * lo).max(hi * hi))
    };
    if magnitude_bits(v) * 2 > MAX_BITS {
        return Err(too_wide(layer));
    }
    product(m, layer, v, v, Some(range))
}

/// `|v|`: the sign selects `-v` or `v`.
fn magnitude(m: &mut Module, v: &Val) -> Val {
    let (lo, hi) = v.range();
    if lo >= 0 {
        return v.clone();
    }
    let n = m.neg(v);
    if hi <= 0 {
        return n;
    }
    let sign = m.sign(v);
    m.mux(&sign, &n, v, 0, (-lo).max(hi))
}
