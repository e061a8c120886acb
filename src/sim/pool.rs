//! `Pool`: per output position and channel, over the window's input positions that lie inside the
//! input (gathered through a [`window`](crate::ir::window) table built with the plan):
//!
//! * `Max`: `y = cast(max)`, the maximum an exact selection at the input's fractional bits;
//! * `Average`: `y = cast(s * r_n)`, `s` the exact sum of the window's values, `r_n` the raw
//!   reciprocal [`Pool::reciprocal_raw`] of the position's count `n` (the values summed, or the
//!   whole window with `count_pad`) in the reciprocal type, computed once per output position;
//!   the product is exact at `F_x + F_r` fractional bits.
//!
//! Nothing but the output cast rounds or overflows (one `output` counter). The plan bounds every
//! intermediate from the input type's range and computes in `i64` when they fit, else `i128`;
//! both give the same bits.

use super::cast::{fits_i64, frac, CastOp, Int};
use super::constant::{frac32, too_wide, Need};
use super::plan::{Ctx, Scratch};
use super::SimError;
use crate::fixed::FixedType;
use crate::ir::window::{Window, PAD};
use crate::ir::{Pool, PoolOp};

#[derive(Debug)]
pub(crate) enum PoolKernel {
    I64(Pooling<i64>),
    I128(Pooling<i128>),
}

#[derive(Debug)]
pub(crate) struct Pooling<I: Int> {
    op: PoolOp,
    x_ty: FixedType,
    in_elements: usize,
    channels: usize,
    taps: usize,
    positions: usize,
    /// Input position of each output position's taps ([`PAD`] outside the input).
    index: Vec<u32>,
    /// Average: the raw reciprocal of each output position's count.
    recip: Vec<I>,
    cast: I::Cast,
    counter: usize,
}

/// What the plan decided, before choosing the integer width.
struct Parts {
    op: PoolOp,
    x_ty: FixedType,
    in_elements: usize,
    channels: usize,
    taps: usize,
    index: Vec<u32>,
    recip: Vec<i128>,
    from: i32,
    t: (i128, i128),
    out: FixedType,
    counter: usize,
}

impl PoolKernel {
    pub(crate) fn build(ctx: &mut Ctx, p: &Pool) -> Result<Self, SimError> {
        let x_ty = ctx.in_ty(0)?;
        let out = ctx.out_ty()?;
        let x_shape = &ctx.inputs.first().ok_or_else(|| ctx.unsupported("input 0 is missing"))?.shape;
        let window = Window::of_pool(p, x_shape, &ctx.node.shape)
            .ok_or_else(|| ctx.unsupported("the input and output shapes do not fit the window"))?;
        let index = window.table().ok_or_else(|| ctx.unsupported("the window does not fit the input"))?;
        let taps = window.taps();
        let counts: Vec<usize> =
            index.chunks(taps.max(1)).map(|w| w.iter().filter(|&&i| i != PAD).count()).collect();
        if counts.contains(&0) {
            return Err(ctx.unsupported("a pooling window lies entirely in the padding"));
        }
        let fx = frac(&x_ty);
        let mut need = Need::default();
        let x = need.ty(&x_ty);
        let (recip, f, t) = match p.op {
            PoolOp::Max => (Vec::new(), fx, x),
            PoolOp::Average => {
                let r_ty = p.reciprocal.ok_or_else(|| ctx.unsupported("the reciprocal type is unknown"))?;
                let recip: Vec<i128> = counts
                    .iter()
                    .map(|&n| Pool::reciprocal_raw(if p.count_pad { taps } else { n }, &r_ty))
                    .collect();
                let r_hi = recip.iter().copied().max().unwrap_or(0);
                let bounds = (|| {
                    let n = taps as i128;
                    let sum = (need.mul(x.0, n)?, need.mul(x.1, n)?);
                    let r_hi = need.see(r_hi);
                    need.mul_span(sum, (0, r_hi))
                })();
                let t = bounds.ok_or_else(|| too_wide(ctx))?;
                (recip, fx + frac(&r_ty), t)
            }
        };
        let from = frac32(ctx, f)?;
        let counter = ctx.counter("output", ctx.elements());
        let parts = Parts {
            op: p.op,
            x_ty,
            in_elements: x_shape.elements(),
            channels: x_shape.channels(),
            taps,
            index,
            recip,
            from,
            t,
            out,
            counter,
        };
        Ok(if need.use_i64(ctx, fits_i64(&x_ty)) {
            PoolKernel::I64(Pooling::new(ctx, parts)?)
        } else {
            PoolKernel::I128(Pooling::new(ctx, parts)?)
        })
    }

    pub(crate) fn describe(&self) -> &'static str {
        match self {
            PoolKernel::I64(_) => "i64",
            PoolKernel::I128(_) => "i128",
        }
    }

    /// `x` holds at least the block's `n * in_elements` inputs, `out` its results.
    pub(crate) fn run(&self, x: &[i64], out: &mut [i64], s: &mut Scratch, counts: &mut [u64]) {
        match self {
            PoolKernel::I64(k) => k.run(x, out, s, counts),
            PoolKernel::I128(k) => k.run(x, out, s, counts),
        }
    }
}

impl<I: Int> Pooling<I> {
    fn new(ctx: &Ctx, p: Parts) -> Result<Self, SimError> {
        let positions = p.index.len() / p.taps.max(1);
        Ok(Pooling {
            op: p.op,
            x_ty: p.x_ty,
            in_elements: p.in_elements,
            channels: p.channels,
            taps: p.taps,
            positions,
            index: p.index,
            recip: p.recip.into_iter().map(I::from_i128).collect(),
            cast: I::cast(p.from, p.t.0, p.t.1, &p.out).ok_or_else(|| too_wide(ctx))?,
            counter: p.counter,
        })
    }

    fn run(&self, x: &[i64], out: &mut [i64], s: &mut Scratch, counts: &mut [u64]) {
        let c = self.channels;
        let n = out.len() / (self.positions * c).max(1);
        let (t, _, _) = I::scratch(s);
        t.clear();
        t.resize(out.len(), I::ZERO);
        let ty = &self.x_ty;
        for (sample, ts) in t.chunks_exact_mut(self.positions * c).enumerate().take(n) {
            let xs = &x[sample * self.in_elements..(sample + 1) * self.in_elements];
            for (pos, (row, taps)) in
                ts.chunks_exact_mut(c).zip(self.index.chunks_exact(self.taps)).enumerate()
            {
                let mut inside = taps.iter().filter(|&&i| i != PAD).map(|&i| &xs[i as usize * c..][..c]);
                let Some(first) = inside.next() else { continue };
                for (r, &v) in row.iter_mut().zip(first) {
                    *r = I::load(v, ty);
                }
                match self.op {
                    PoolOp::Max => {
                        for vals in inside {
                            for (r, &v) in row.iter_mut().zip(vals) {
                                *r = (*r).max(I::load(v, ty));
                            }
                        }
                    }
                    PoolOp::Average => {
                        for vals in inside {
                            for (r, &v) in row.iter_mut().zip(vals) {
                                *r = *r + I::load(v, ty);
                            }
                        }
                        let recip = self.recip[pos];
                        for r in row.iter_mut() {
                            *r = *r * recip;
                        }
                    }
                }
            }
        }
        counts[self.counter] += self.cast.run(t, out);
    }
}
