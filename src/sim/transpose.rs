//! `Transpose`: `y[j] = cast(x[i])` with `i[perm[k]] = j_k`, the element map from
//! [`Transpose::source_indices`]. A [`GatherKernel`].

use super::gather::{GatherKernel, ZERO};
use super::plan::Ctx;
use super::SimError;
use crate::ir::Transpose;

pub(crate) use super::gather::GatherKernel as TransposeKernel;

pub(crate) fn build(ctx: &mut Ctx, t: &Transpose) -> Result<GatherKernel, SimError> {
    let x = ctx.inputs.first().map(|n| n.shape.clone()).unwrap_or_default();
    if x.elements() >= ZERO as usize {
        return Err(ctx.unsupported("the input has too many elements to index"));
    }
    let mut sorted = t.perm.clone();
    sorted.sort_unstable();
    if sorted != (0..x.rank()).collect::<Vec<_>>() {
        return Err(ctx.unsupported("the permutation does not fit the input"));
    }
    let source = t.source_indices(&x).into_iter().map(|i| i as u32).collect();
    GatherKernel::build(ctx, source)
}
