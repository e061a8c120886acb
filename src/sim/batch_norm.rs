//! `BatchNorm`: `y = cast(x * scale[c] + bias[c])` with `c` the index on the last axis (or one
//! value shared by every channel). The exact value is computed at `F = max(F_x + F_scale, F_bias)`
//! with both constants aligned there when the plan is built.

use super::cast::{fits_i64, frac, CastOp, Int};
use super::constant::{frac32, too_wide, Need, Raw};
use super::plan::{Ctx, Scratch};
use super::SimError;
use crate::fixed::FixedType;
use crate::ir::BatchNorm;

#[derive(Debug)]
pub(crate) enum BatchNormKernel {
    I64(Affine<i64>),
    I128(Affine<i128>),
}

#[derive(Debug)]
pub(crate) struct Affine<I: Int> {
    x_ty: FixedType,
    /// `scale << shift` and the aligned bias, one of each per channel.
    scale: Vec<I>,
    bias: Vec<I>,
    shift: u32,
    cast: I::Cast,
    counter: usize,
}

impl BatchNormKernel {
    pub(crate) fn build(ctx: &mut Ctx, b: &BatchNorm) -> Result<Self, SimError> {
        let x_ty = ctx.in_ty(0)?;
        let out = ctx.out_ty()?;
        let scale = Raw::new(ctx, "scale", &b.scale)?;
        let bias = Raw::new(ctx, "bias", &b.bias)?;
        let channels = ctx.node.shape.channels();
        let fx = frac(&x_ty);
        let f = (fx + scale.frac).max(bias.frac);
        let mut need = Need::default();
        let x = need.ty(&x_ty);
        let per_channel = |r: &Raw| -> Vec<i128> {
            (0..channels).map(|c| r.values.get(c).or(r.values.first()).copied().unwrap_or(0)).collect()
        };
        let aligned = (|| {
            let shift = need.shift(f - fx - scale.frac)?;
            let sb = need.shift(f - bias.frac)?;
            let bias: Vec<i128> =
                per_channel(&bias).into_iter().map(|v| need.shl(v, sb)).collect::<Option<_>>()?;
            let p = need.mul_span(x, scale.span())?;
            let p = need.shl_span(p, shift)?;
            let lo = bias.iter().copied().min().unwrap_or(0);
            let hi = bias.iter().copied().max().unwrap_or(0);
            let t = need.add_span(p, (lo, hi))?;
            Some((shift, bias, t))
        })();
        let (shift, bias, t) = aligned.ok_or_else(|| too_wide(ctx))?;
        let scale = per_channel(&scale);
        let from = frac32(ctx, f)?;
        let counter = ctx.counter("output", ctx.elements());
        Ok(if need.use_i64(ctx, fits_i64(&x_ty)) {
            BatchNormKernel::I64(Affine::new(ctx, x_ty, &scale, &bias, shift, from, t, &out, counter)?)
        } else {
            BatchNormKernel::I128(Affine::new(ctx, x_ty, &scale, &bias, shift, from, t, &out, counter)?)
        })
    }

    pub(crate) fn describe(&self) -> &'static str {
        match self {
            BatchNormKernel::I64(_) => "i64",
            BatchNormKernel::I128(_) => "i128",
        }
    }

    /// `out` holds the block's `n * elements` results; `x` at least as many inputs.
    pub(crate) fn run(&self, x: &[i64], out: &mut [i64], s: &mut Scratch, counts: &mut [u64]) {
        match self {
            BatchNormKernel::I64(k) => k.run(x, out, s, counts),
            BatchNormKernel::I128(k) => k.run(x, out, s, counts),
        }
    }
}

impl<I: Int> Affine<I> {
    #[allow(clippy::too_many_arguments)]
    fn new(
        ctx: &Ctx,
        x_ty: FixedType,
        scale: &[i128],
        bias: &[i128],
        shift: u32,
        from: i32,
        t: (i128, i128),
        out: &FixedType,
        counter: usize,
    ) -> Result<Self, SimError> {
        Ok(Affine {
            x_ty,
            scale: scale.iter().map(|&v| I::from_i128(v)).collect(),
            bias: bias.iter().map(|&v| I::from_i128(v)).collect(),
            shift,
            cast: I::cast(from, t.0, t.1, out).ok_or_else(|| too_wide(ctx))?,
            counter,
        })
    }

    fn run(&self, x: &[i64], out: &mut [i64], s: &mut Scratch, counts: &mut [u64]) {
        let (t, _, _) = I::scratch(s);
        t.clear();
        for row in x[..out.len()].chunks(self.scale.len()) {
            t.extend(
                row.iter()
                    .zip(&self.scale)
                    .zip(&self.bias)
                    .map(|((&r, &m), &b)| ((I::load(r, &self.x_ty) * m) << self.shift) + b),
            );
        }
        counts[self.counter] += self.cast.run(t, out);
    }
}
