//! `UpSample`: nearest neighbour, `y[o, c] = cast(x[floor(o / f), c])` per spatial axis. A
//! [`GatherKernel`] over the element map built here.

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
    let out = ctx.node.shape.clone();
    let s = u.factors.len();
    if x.rank() != s + 1 || out.rank() != s + 1 || u.factors.contains(&0) {
        return Err(ctx.unsupported("the factors do not fit the input and output shapes"));
    }
    let c = x.channels();
    let (xd, od) = (&x.dims()[..s], &out.dims()[..s]);
    let positions: usize = od.iter().product();
    let mut source = Vec::with_capacity(positions * c);
    let mut o = vec![0usize; s];
    for _ in 0..positions {
        let flat = (0..s).fold(0usize, |f, d| f * xd[d] + (o[d] / u.factors[d]).min(xd[d].saturating_sub(1)));
        source.extend((0..c).map(|k| (flat * c + k) as u32));
        for d in (0..s).rev() {
            o[d] += 1;
            if o[d] < od[d] {
                break;
            }
            o[d] = 0;
        }
    }
    GatherKernel::build(ctx, source)
}
