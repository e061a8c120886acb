//! `Pad`: `y[o, c] = cast(x[o - begin, c])` where that input position exists, `cast(0)` (zero)
//! elsewhere; negative amounts crop. A [`GatherKernel`] over the element map built here.

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
    let out = ctx.node.shape.clone();
    let s = p.begin.len();
    if x.rank() != s + 1 || out.rank() != s + 1 || p.end.len() != s || x.channels() != out.channels() {
        return Err(ctx.unsupported("the padding does not fit the input and output shapes"));
    }
    let c = x.channels();
    let (xd, od) = (&x.dims()[..s], &out.dims()[..s]);
    let positions: usize = od.iter().product();
    let mut source = Vec::with_capacity(positions * c);
    let mut o = vec![0usize; s];
    for _ in 0..positions {
        let mut flat = Some(0usize);
        for d in 0..s {
            let i = o[d] as i64 - p.begin[d];
            flat = flat.filter(|_| (0..xd[d] as i64).contains(&i)).map(|f| f * xd[d] + i as usize);
        }
        match flat {
            Some(f) => source.extend((0..c).map(|k| (f * c + k) as u32)),
            None => source.extend(std::iter::repeat_n(ZERO, c)),
        }
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
