//! `Pad`: `y[o, c] = cast(x[o - begin, c])` where that input position exists, `cast(0)` (zero)
//! elsewhere; negative amounts crop. A [`GatherKernel`] over [`Pad::source_indices`].

use super::gather::{GatherKernel, ZERO};
use super::plan::Ctx;
use super::SimError;
use crate::ir::Pad;

pub(crate) use super::gather::GatherKernel as PadKernel;

pub(crate) fn build(ctx: &mut Ctx, p: &Pad) -> Result<GatherKernel, SimError> {
    let x = ctx.inputs.first().map(|n| n.shape.clone()).unwrap_or_default();
    if x.elements() >= ZERO as usize {
        return Err(ctx.unsupported("the input has too many elements to index"));
    }
    if x.rank() != p.begin.len() + 1 || ctx.node.shape.channels() != x.channels() {
        return Err(ctx.unsupported("the padding does not fit the input and output shapes"));
    }
    let source = p.source_indices(&x).into_iter().map(|i| i.map_or(ZERO, |i| i as u32)).collect();
    GatherKernel::build(ctx, source)
}
