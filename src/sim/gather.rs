//! Layers that move values without arithmetic (`Pad`, `UpSample`, `Transpose`): each output
//! element is `cast(x[source])` or, where it has no source (padding), `cast(0)`, which is 0 in
//! every type and never overflows. The source of every output element is a table built with the
//! plan by the layer's file; a run gathers the block through it and converts with the same
//! [`Convert`] as `Reshape` (a plain copy when the cast keeps every input value).

use super::cast::Convert;
use super::constant::too_wide;
use super::plan::{Ctx, Scratch};
use super::SimError;

/// An output element with no source: it holds zero.
pub(crate) const ZERO: u32 = u32::MAX;

#[derive(Debug)]
pub(crate) struct GatherKernel {
    /// Input values per sample.
    in_elements: usize,
    /// Source element of each output element of a sample, or [`ZERO`].
    source: Vec<u32>,
    convert: Convert,
    counter: usize,
}

impl GatherKernel {
    /// `source` has one entry per output element of a sample.
    pub(crate) fn build(ctx: &mut Ctx, source: Vec<u32>) -> Result<Self, SimError> {
        let in_elements = ctx.inputs.first().map_or(0, |n| n.shape.elements());
        if source.len() != ctx.elements() || source.iter().any(|&i| i != ZERO && i as usize >= in_elements) {
            return Err(ctx.unsupported("the element map does not fit the input and output shapes"));
        }
        let convert =
            Convert::new(&ctx.in_ty(0)?, &ctx.out_ty()?, ctx.opts.fast_paths).ok_or_else(|| too_wide(ctx))?;
        let counter = ctx.counter("output", ctx.elements());
        Ok(GatherKernel { in_elements, source, convert, counter })
    }

    pub(crate) fn describe(&self) -> &'static str {
        self.convert.describe()
    }

    /// `x` holds at least the block's `n * in_elements` inputs, `out` its results.
    pub(crate) fn run(&self, x: &[i64], out: &mut [i64], s: &mut Scratch, counts: &mut [u64]) {
        let per_sample = self.source.len();
        let gather = |dst: &mut [i64]| {
            for (sample, d) in dst.chunks_exact_mut(per_sample.max(1)).enumerate() {
                let xs = &x[sample * self.in_elements..(sample + 1) * self.in_elements];
                for (v, &i) in d.iter_mut().zip(&self.source) {
                    *v = if i == ZERO { 0 } else { xs[i as usize] };
                }
            }
        };
        if let Convert::Copy = self.convert {
            gather(out);
            return;
        }
        let mut staged = std::mem::take(&mut s.gather);
        staged.resize(out.len(), 0);
        gather(&mut staged);
        counts[self.counter] += self.convert.run(&staged, out, s);
        s.gather = staged;
    }
}
