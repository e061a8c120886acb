//! `Quantize`: `y = cast(x)`, an explicit conversion whose type the model fixed (QONNX `Quant`,
//! QDQ pairs, QKeras quantizers).

use super::cast::Convert;
use super::constant::too_wide;
use super::plan::{Ctx, Scratch};
use super::SimError;

#[derive(Debug)]
pub(crate) struct QuantizeKernel {
    convert: Convert,
    counter: usize,
}

impl QuantizeKernel {
    pub(crate) fn build(ctx: &mut Ctx) -> Result<Self, SimError> {
        let convert =
            Convert::new(&ctx.in_ty(0)?, &ctx.out_ty()?, ctx.opts.fast_paths).ok_or_else(|| too_wide(ctx))?;
        let counter = ctx.counter("output", ctx.elements());
        Ok(QuantizeKernel { convert, counter })
    }

    pub(crate) fn describe(&self) -> &'static str {
        self.convert.describe()
    }

    pub(crate) fn run(&self, x: &[i64], out: &mut [i64], s: &mut Scratch, counts: &mut [u64]) {
        counts[self.counter] += self.convert.run(x, out, s);
    }
}
