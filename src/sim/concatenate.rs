//! `Concatenate`: for every outer index, each input's block in input order, every element `cast`
//! from its input's type to the output type (one conversion per input, one `output` counter).

use super::cast::Convert;
use super::constant::too_wide;
use super::plan::{Ctx, Scratch};
use super::SimError;
use crate::ir::{Concatenate, Shape};

#[derive(Debug)]
pub(crate) struct ConcatenateKernel {
    /// Product of the axes before the joined one.
    outer: usize,
    /// Each input's block length and conversion.
    parts: Vec<(usize, Convert)>,
    counter: usize,
}

impl ConcatenateKernel {
    pub(crate) fn build(ctx: &mut Ctx, c: &Concatenate) -> Result<Self, SimError> {
        let shapes: Vec<&Shape> = ctx.inputs.iter().map(|n| &n.shape).collect();
        let (outer, lens) = c.blocks(&shapes);
        let out = ctx.out_ty()?;
        let mut parts = Vec::with_capacity(lens.len());
        for (k, len) in lens.into_iter().enumerate() {
            let convert =
                Convert::new(&ctx.in_ty(k)?, &out, ctx.opts.fast_paths).ok_or_else(|| too_wide(ctx))?;
            parts.push((len, convert));
        }
        let counter = ctx.counter("output", ctx.elements());
        Ok(ConcatenateKernel { outer, parts, counter })
    }

    pub(crate) fn describe(&self) -> &'static str {
        if self.parts.iter().all(|(_, c)| matches!(c, Convert::Copy)) {
            "copy"
        } else {
            "convert"
        }
    }

    /// `args[k]` holds the block's samples of input `k`; `out` the block's results.
    pub(crate) fn run(&self, args: &[&[i64]], out: &mut [i64], s: &mut Scratch, counts: &mut [u64]) {
        let row: usize = self.parts.iter().map(|(len, _)| len).sum();
        let per_sample = row * self.outer;
        let n = out.len() / per_sample.max(1);
        let mut overflows = 0;
        for sample in 0..n {
            for o in 0..self.outer {
                let mut at = sample * per_sample + o * row;
                for ((len, convert), x) in self.parts.iter().zip(args) {
                    let from = (sample * self.outer + o) * len;
                    overflows += convert.run(&x[from..from + len], &mut out[at..at + len], s);
                    at += len;
                }
            }
        }
        counts[self.counter] += overflows;
    }
}
