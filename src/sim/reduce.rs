//! `Reduce`: per output position, over its `n` input values in row-major order of the reduced
//! coordinates (gathered through [`gather`], a table built with the plan), exactly as the layer's
//! contract ([`crate::ir::Reduce`]) states:
//!
//! * `Sum`, `L1`: the exact sum of `v`, respectively `|v|`, at the input's fractional bits `F_x`;
//! * `SumSquare`: the exact sum of `v * v` at `2 F_x`;
//! * `Mean`: the exact sum times the raw reciprocal [`Pool::reciprocal_raw`] of `n`, at
//!   `F_x + F_r`;
//! * `Max`, `Min`: an exact selection at `F_x`;
//! * `L2`: the exact sum of squares at `2 F_x`, cast to the table's index type (counted as
//!   `index` overflows), then the table's entry, whose cast to the output type is computed once
//!   when the plan is built.
//!
//! Nothing else rounds or overflows: one `output` counter (and `index` for `L2`). The plan bounds
//! every intermediate from the input type's range and refuses types whose exact intermediates
//! need more than [`LIMIT_I128`](super::cast::LIMIT_I128) bits; the kernel computes in `i128`.

use super::cast::{frac, load, CastOp, Int, WideCast};
use super::constant::{frac32, too_wide, Lut, Need};
use super::plan::{Ctx, Scratch};
use super::SimError;
use crate::fixed::FixedType;
use crate::ir::{Pool, Reduce, ReduceOp};

#[derive(Debug)]
pub(crate) struct ReduceKernel {
    op: ReduceOp,
    x_ty: FixedType,
    in_elements: usize,
    /// Values reduced into each output.
    n: usize,
    /// The input element of each output's `n` values, output-major.
    index: Vec<u32>,
    /// `Mean`: the raw reciprocal of `n`.
    recip: i128,
    /// The cast of the exact result to the output type (`L2`: to the table's index type).
    cast: WideCast,
    /// `L2`: every table entry cast to the output type, and whether that cast overflowed; the
    /// offset added to the index cast's raw result.
    entries: Vec<(i64, bool)>,
    offset: i64,
    index_counter: usize,
    counter: usize,
}

impl ReduceKernel {
    pub(crate) fn build(ctx: &mut Ctx, r: &Reduce) -> Result<Self, SimError> {
        let x_ty = ctx.in_ty(0)?;
        let out = ctx.out_ty()?;
        let x_shape = &ctx.inputs.first().ok_or_else(|| ctx.unsupported("input 0 is missing"))?.shape;
        let n = r.count;
        if u32::try_from(x_shape.elements()).is_err() {
            return Err(ctx.unsupported("the input has too many elements"));
        }
        let index: Vec<u32> = r.sources(x_shape).into_iter().flatten().map(|i| i as u32).collect();
        if n == 0 || index.len() != n * ctx.elements() {
            return Err(ctx.unsupported("the reduced values do not fit the output shape"));
        }
        let fx = frac(&x_ty);
        let mut need = Need::default();
        let x = need.ty(&x_ty);
        let wide = || too_wide(ctx);
        let nn = n as i128;
        let mut recip = 0;
        let (f, t) = match r.op {
            ReduceOp::Max | ReduceOp::Min => (fx, x),
            ReduceOp::Sum => (fx, (need.mul(x.0, nn).ok_or_else(wide)?, need.mul(x.1, nn).ok_or_else(wide)?)),
            ReduceOp::L1 => {
                let m = x.0.unsigned_abs().max(x.1.unsigned_abs()) as i128;
                (fx, (0, need.mul(m, nn).ok_or_else(wide)?))
            }
            ReduceOp::SumSquare | ReduceOp::L2 => {
                let sq = need.mul_span(x, x).ok_or_else(wide)?;
                let hi = need.mul(sq.1.max(0), nn).ok_or_else(wide)?;
                (2 * fx, (0, hi))
            }
            ReduceOp::Mean => {
                let r_ty = r.reciprocal.ok_or_else(|| ctx.unsupported("the reciprocal type is unknown"))?;
                recip = Pool::reciprocal_raw(n, &r_ty);
                let sum = (need.mul(x.0, nn).ok_or_else(wide)?, need.mul(x.1, nn).ok_or_else(wide)?);
                let r_hi = need.see(recip);
                (fx + frac(&r_ty), need.mul_span(sum, (0, r_hi)).ok_or_else(wide)?)
            }
        };
        let from = frac32(ctx, f)?;
        let (cast_to, entries, offset, index_counter) = match r.op {
            ReduceOp::L2 => {
                let table =
                    r.table.as_ref().ok_or_else(|| ctx.unsupported("the square-root table is missing"))?;
                let lut = Lut::new(ctx, "table", table)?;
                let entries = lut.cast_entries(ctx, &out)?;
                let index_counter = ctx.counter("index", ctx.elements());
                (lut.index_ty, entries, lut.offset, index_counter)
            }
            _ => (out, Vec::new(), 0, usize::MAX),
        };
        let cast = i128::cast(from, t.0, t.1, &cast_to).ok_or_else(|| too_wide(ctx))?;
        let counter = ctx.counter("output", ctx.elements());
        Ok(ReduceKernel {
            op: r.op,
            x_ty,
            in_elements: x_shape.elements(),
            n,
            index,
            recip,
            cast,
            entries,
            offset,
            index_counter,
            counter,
        })
    }

    pub(crate) fn describe(&self) -> &'static str {
        match self.op {
            ReduceOp::L2 => "table i128",
            _ => "i128",
        }
    }

    /// The exact result of one output position's values `vs` (at the fractional bits the plan
    /// chose for the op).
    fn exact(&self, vs: impl Iterator<Item = i128>) -> i128 {
        match self.op {
            ReduceOp::Sum => vs.sum(),
            ReduceOp::L1 => vs.map(|v| v.abs()).sum(),
            ReduceOp::SumSquare | ReduceOp::L2 => vs.map(|v| v * v).sum(),
            ReduceOp::Mean => vs.sum::<i128>() * self.recip,
            ReduceOp::Max => vs.max().unwrap_or(0),
            ReduceOp::Min => vs.min().unwrap_or(0),
        }
    }

    /// `x` holds at least the block's `samples * in_elements` inputs, `out` its results.
    pub(crate) fn run(&self, x: &[i64], out: &mut [i64], _s: &mut Scratch, counts: &mut [u64]) {
        let positions = self.index.len() / self.n;
        let samples = out.len() / positions.max(1);
        let (mut index_overflows, mut overflows) = (0u64, 0u64);
        for (sample, ys) in out.chunks_exact_mut(positions.max(1)).enumerate().take(samples) {
            let xs = &x[sample * self.in_elements..(sample + 1) * self.in_elements];
            for (y, idx) in ys.iter_mut().zip(self.index.chunks_exact(self.n)) {
                let t = self.exact(idx.iter().map(|&i| load(xs[i as usize], &self.x_ty)));
                let (raw, over) = self.cast.apply(t);
                if self.op == ReduceOp::L2 {
                    index_overflows += over as u64;
                    let (e, o) =
                        self.entries.get((raw + self.offset) as usize).copied().unwrap_or((0, false));
                    *y = e;
                    overflows += o as u64;
                } else {
                    *y = raw;
                    overflows += over as u64;
                }
            }
        }
        if self.op == ReduceOp::L2 {
            counts[self.index_counter] += index_overflows;
        }
        counts[self.counter] += overflows;
    }
}
