//! `Reshape`: the same values in row-major order, `cast` to the output type. Activations are
//! stored row-major per sample, so only the cast remains.

use super::cast::Convert;
use super::constant::too_wide;
use super::plan::{Ctx, Scratch};
use super::SimError;

#[derive(Debug)]
pub(crate) struct ReshapeKernel {
    convert: Convert,
    counter: usize,
}

impl ReshapeKernel {
    pub(crate) fn build(ctx: &mut Ctx) -> Result<Self, SimError> {
        let convert =
            Convert::new(&ctx.in_ty(0)?, &ctx.out_ty()?, ctx.opts.fast_paths).ok_or_else(|| too_wide(ctx))?;
        let counter = ctx.counter("output", ctx.elements());
        Ok(ReshapeKernel { convert, counter })
    }

    pub(crate) fn describe(&self) -> &'static str {
        self.convert.describe()
    }

    pub(crate) fn run(&self, x: &[i64], out: &mut [i64], s: &mut Scratch, counts: &mut [u64]) {
        counts[self.counter] += self.convert.run(x, out, s);
    }
}
