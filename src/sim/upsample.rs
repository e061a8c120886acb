//! `UpSample`: nearest neighbour, `y[o, c] = cast(x[floor(o / f), c])` per spatial axis. A
//! [`GatherKernel`] over [`UpSample::source_indices`].

use super::gather::{GatherKernel, ZERO};
use super::plan::Ctx;
use super::SimError;
use crate::ir::UpSample;

pub(crate) use super::gather::GatherKernel as UpSampleKernel;

pub(crate) fn build(ctx: &mut Ctx, u: &UpSample) -> Result<GatherKernel, SimError> {
    let x = ctx.inputs.first().map(|n| n.shape.clone()).unwrap_or_default();
    if x.elements() >= ZERO as usize {
        return Err(ctx.unsupported("the input has too many elements to index"));
    }
    let source = u.source_indices(&x).into_iter().map(|i| i as u32).collect();
    GatherKernel::build(ctx, source)
}
