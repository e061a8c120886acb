//! `Elementwise` as pointwise logic: for each element, the exact `t = x_0 op x_1 op ... op
//! x_{n-1}` over the inputs in input order (or `t = x op c` with the constant broadcast onto the
//! element, `ir::Shape::broadcast_index`), then the output cast and a register ([`finish`]).
//!
//! * `Add`, `Sub`: operands aligned at `F = max` of their fractional bits (the alignment is
//!   wiring: trailing zero bits are never built), minimal-width adders;
//! * `Mul`: a product of two signals is a multiplier of the exact product's width (operands
//!   extended to it); a product by the constant is shift-and-add; `F` is the sum of the operands'
//!   fractional bits;
//! * `Max`, `Min`: the sign of the exact difference selects one operand.
//!
//! Every intermediate is exact, so the input order matters only for `Sub`, which takes two.

use super::netlist::{Module, Val};
use super::pointwise::{constants, finish, shl, times, Exact, Site};
use crate::backend::BackendError;
use crate::fixed::FixedType;
use crate::ir::{BinaryOp, Elementwise, Shape};

/// Builds every element of an elementwise layer on its inputs `xs[k]` (fractional bits `fx[k]`);
/// `shape` is the output's.
pub fn build(
    m: &mut Module,
    at: &Site,
    e: &Elementwise,
    shape: &Shape,
    xs: &[Vec<Val>],
    fx: &[i64],
    out: &FixedType,
) -> Result<Vec<Val>, BackendError> {
    let constant =
        e.constant.as_ref().map(|w| constants(at.layer, "constant", w).map(|c| (w, c))).transpose()?;
    let mut ys = Vec::with_capacity(at.elements);
    for el in 0..at.elements {
        let mut operands: Vec<(Val, i64)> = xs.iter().zip(fx).map(|(x, &f)| (x[el].clone(), f)).collect();
        if let Some((w, (values, fc))) = &constant {
            let c = values[w.shape.broadcast_index(shape, el)];
            operands.push((m.constant(c), *fc));
        }
        let t = combine(m, at.layer, e.op, &operands)?;
        ys.push(finish(m, &t, out));
    }
    Ok(ys)
}

/// Largest magnitude (bits) of an exact intermediate the builder's `i128` ranges hold.
pub const MAX_BITS: u32 = 100;

pub fn too_wide(layer: &str) -> BackendError {
    BackendError::layer(
        layer,
        format!("intermediate values are too wide for the RTL backend (over {MAX_BITS} bits)"),
    )
}

/// Bits of the largest magnitude in `v`'s range.
pub fn magnitude_bits(v: &Val) -> u32 {
    let (lo, hi) = v.range();
    128 - lo.unsigned_abs().max(hi.unsigned_abs()).leading_zeros()
}

/// `a * b`, exact, refusing products beyond [`MAX_BITS`].
pub fn product(
    m: &mut Module,
    layer: &str,
    a: &Val,
    b: &Val,
    range: Option<(i128, i128)>,
) -> Result<Val, BackendError> {
    if magnitude_bits(a) + magnitude_bits(b) > MAX_BITS {
        return Err(too_wide(layer));
    }
    Ok(m.mul(a, b, range))
}

/// `max(a, b)` (or `min` when `min`), exact.
pub fn select(m: &mut Module, a: &Val, b: &Val, min: bool) -> Val {
    let (alo, ahi) = a.range();
    let (blo, bhi) = b.range();
    let (lo, hi) = if min { (alo.min(blo), ahi.min(bhi)) } else { (alo.max(blo), ahi.max(bhi)) };
    // a < b: the maximum is b, the minimum a.
    let below = m.less(a, b);
    if min {
        m.mux(&below, a, b, lo, hi)
    } else {
        m.mux(&below, b, a, lo, hi)
    }
}

/// The exact `o_0 op o_1 op ...` of operands `(value, fractional bits)`, in order.
fn combine(
    m: &mut Module,
    layer: &str,
    op: BinaryOp,
    operands: &[(Val, i64)],
) -> Result<Exact, BackendError> {
    let Some((first, rest)) = operands.split_first() else {
        return Err(BackendError::layer(layer, "has no operand"));
    };
    if op == BinaryOp::Mul {
        let (mut acc, mut f) = first.clone();
        for (v, fv) in rest {
            acc = match constant_of(v) {
                Some(c) => {
                    if magnitude_bits(&acc) + magnitude_bits(v) > MAX_BITS {
                        return Err(too_wide(layer));
                    }
                    times(m, &acc, c)
                }
                None => product(m, layer, &acc, v, None)?,
            };
            f += fv;
        }
        return Ok(Exact { val: acc, frac: f });
    }
    let f = operands.iter().map(|o| o.1).max().unwrap_or(0);
    let aligned = |v: &Val, fv: i64| -> Result<Val, BackendError> {
        let k = f - fv;
        shl(layer, 1, k)?;
        if magnitude_bits(v) + k as u32 > MAX_BITS {
            return Err(too_wide(layer));
        }
        Ok(v.shifted(k as u32))
    };
    let mut acc = aligned(&first.0, first.1)?;
    for (v, fv) in rest {
        let v = aligned(v, *fv)?;
        acc = match op {
            BinaryOp::Add => m.add(&acc, &v, false, None),
            BinaryOp::Sub => m.add(&acc, &v, true, None),
            BinaryOp::Max => select(m, &acc, &v, false),
            BinaryOp::Min => select(m, &acc, &v, true),
            BinaryOp::Mul => return Err(BackendError::layer(layer, "a product is not a sum")),
        };
        if magnitude_bits(&acc) > MAX_BITS {
            return Err(too_wide(layer));
        }
    }
    Ok(Exact { val: acc, frac: f })
}

/// The value of a constant signal (a single-valued range).
fn constant_of(v: &Val) -> Option<i128> {
    let (lo, hi) = v.range();
    (lo == hi).then_some(lo)
}
