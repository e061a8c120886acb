//! `ScatterAdd`: `y[r, ...] = cast(sum of x[k, ...] with index[k] = r)`. The sums are exact in
//! the layer's exact result type (the input type with the integer bits of `m` terms, at most 63
//! bits here: the raw input values add as they are), then converted to the output type; indices
//! are checked as for `GatherRows` ([`RowKernel`]).

use super::constant::too_wide;
use super::gather_rows::RowKernel;
use super::plan::Ctx;
use super::SimError;
use crate::ir::{LayerDef, ScatterAdd};

/// Builds the kernel of a `ScatterAdd` layer.
pub(crate) fn build(ctx: &mut Ctx, l: &ScatterAdd, origin: &str) -> Result<RowKernel, SimError> {
    let (x_ty, index_ty) = (ctx.in_ty(0)?, ctx.in_ty(1)?);
    let sum = l.exact_type("result", &[x_ty, index_ty]).map_err(|e| ctx.unsupported(e))?;
    if sum.width > 63 {
        return Err(too_wide(ctx));
    }
    RowKernel::build(ctx, origin, l.rows, &sum)
}

/// `ScatterAdd`: row `k` of `x` is added to output row `picked[k]`.
pub(crate) fn scatter(staged: &mut [i64], picked: &[usize], x: &[i64], row: usize) {
    for (k, &r) in picked.iter().enumerate() {
        for (y, &v) in staged[r * row..(r + 1) * row].iter_mut().zip(&x[k * row..(k + 1) * row]) {
            *y += v;
        }
    }
}
