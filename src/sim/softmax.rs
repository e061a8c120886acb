//! `Softmax` over the last axis, the five table-based steps of [`crate::ir::Softmax`]:
//!
//! 1. `m = max_i x_i`, `d_i = m - x_i` (exact, at `F_x`);
//! 2. `e_i = exp_table[index(d_i)]` (`d_i` cast to the index type: `exp_index` overflows);
//! 3. `s = sum_i e_i` (exact, at the table's `F_e`);
//! 4. `r = inv_table[index(s)]` (`inv_index` overflows);
//! 5. `y_i = cast(e_i * r)` (exact product at `F_e + F_r`; `output` overflows).

use super::cast::{fits_i64, frac, CastOp, Int};
use super::constant::{frac32, too_wide, Lut, Need};
use super::plan::{Ctx, Scratch};
use super::SimError;
use crate::fixed::FixedType;
use crate::ir::Softmax;

#[derive(Debug)]
pub(crate) enum SoftmaxKernel {
    I64(Steps<i64>),
    I128(Steps<i128>),
}

#[derive(Debug)]
pub(crate) struct Steps<I: Int> {
    x_ty: FixedType,
    /// Length of the last axis.
    row: usize,
    exp_index: I::Cast,
    exp_offset: i64,
    exp: Vec<I>,
    inv_index: I::Cast,
    inv_offset: i64,
    inv: Vec<I>,
    out: I::Cast,
    counters: [usize; 3],
}

/// Ranges of the intermediates, decided when the plan is built.
struct Ranges {
    d: (i128, i128),
    s: (i128, i128),
    p: (i128, i128),
    fx: i32,
    fe: i32,
    fp: i32,
}

impl SoftmaxKernel {
    pub(crate) fn build(ctx: &mut Ctx, sm: &Softmax) -> Result<Self, SimError> {
        let x_ty = ctx.in_ty(0)?;
        let exp = Lut::new(ctx, "exp_table", &sm.exp_table)?;
        let inv = Lut::new(ctx, "inv_table", &sm.inv_table)?;
        let row = ctx.node.shape.channels();
        let mut need = Need::default();
        let x = need.ty(&x_ty);
        let span = |v: &[i128]| (v.iter().copied().min().unwrap_or(0), v.iter().copied().max().unwrap_or(0));
        let (e, r) = (need.span(span(&exp.values)), need.span(span(&inv.values)));
        let ranges = (|| {
            let d = (0, need.add(x.1, -x.0)?);
            let n = row as i128;
            let s = (need.mul(e.0.min(0), n)?, need.mul(e.1.max(0), n)?);
            let p = need.mul_span(e, r)?;
            Some((d, s, p))
        })();
        let (d, s, p) = ranges.ok_or_else(|| too_wide(ctx))?;
        let (fe, fr) = (frac(&exp.ty), frac(&inv.ty));
        let ranges = Ranges {
            d,
            s,
            p,
            fx: frac32(ctx, frac(&x_ty))?,
            fe: frac32(ctx, fe)?,
            fp: frac32(ctx, fe + fr)?,
        };
        let elements = ctx.elements();
        let counters = [
            ctx.counter("exp_index", elements),
            ctx.counter("inv_index", elements / row.max(1)),
            ctx.counter("output", elements),
        ];
        Ok(if need.use_i64(ctx, fits_i64(&x_ty)) {
            SoftmaxKernel::I64(Steps::new(ctx, x_ty, row, &exp, &inv, &ranges, counters)?)
        } else {
            SoftmaxKernel::I128(Steps::new(ctx, x_ty, row, &exp, &inv, &ranges, counters)?)
        })
    }

    pub(crate) fn describe(&self) -> &'static str {
        match self {
            SoftmaxKernel::I64(_) => "i64",
            SoftmaxKernel::I128(_) => "i128",
        }
    }

    /// `out` holds the block's `n * elements` results; `x` at least as many inputs.
    pub(crate) fn run(&self, x: &[i64], out: &mut [i64], s: &mut Scratch, counts: &mut [u64]) {
        match self {
            SoftmaxKernel::I64(k) => k.run(x, out, s, counts),
            SoftmaxKernel::I128(k) => k.run(x, out, s, counts),
        }
    }
}

impl<I: Int> Steps<I> {
    fn new(
        ctx: &Ctx,
        x_ty: FixedType,
        row: usize,
        exp: &Lut,
        inv: &Lut,
        r: &Ranges,
        counters: [usize; 3],
    ) -> Result<Self, SimError> {
        let out = ctx.out_ty()?;
        let cast = |from, span: (i128, i128), to: &FixedType| {
            I::cast(from, span.0, span.1, to).ok_or_else(|| too_wide(ctx))
        };
        Ok(Steps {
            x_ty,
            row: row.max(1),
            exp_index: cast(r.fx, r.d, &exp.index_ty)?,
            exp_offset: exp.offset,
            exp: exp.values.iter().map(|&v| I::from_i128(v)).collect(),
            inv_index: cast(r.fe, r.s, &inv.index_ty)?,
            inv_offset: inv.offset,
            inv: inv.values.iter().map(|&v| I::from_i128(v)).collect(),
            out: cast(r.fp, r.p, &out)?,
            counters,
        })
    }

    fn run(&self, x: &[i64], out: &mut [i64], s: &mut Scratch, counts: &mut [u64]) {
        let (e, p, index) = I::scratch(s);
        let mut over = [0u64; 3];
        let x = &x[..out.len()];
        // Every element's `max - x` of its row, their exp indices in one cast pass, the entries;
        // then every row's sum, inverse and products, cast in one pass.
        e.clear();
        for xr in x.chunks(self.row) {
            let m = xr.iter().map(|&v| I::load(v, &self.x_ty)).max().unwrap_or(I::ZERO);
            e.extend(xr.iter().map(|&v| m - I::load(v, &self.x_ty)));
        }
        index.resize(e.len(), 0);
        over[0] += self.exp_index.run(e, index);
        for (v, &raw) in e.iter_mut().zip(index.iter()) {
            *v = self.exp.get((raw + self.exp_offset) as usize).copied().unwrap_or(I::ZERO);
        }
        p.clear();
        for er in e.chunks(self.row) {
            let sum = er.iter().fold(I::ZERO, |a, &v| a + v);
            let (raw, o) = self.inv_index.apply(sum);
            over[1] += o as u64;
            let r = self.inv.get((raw + self.inv_offset) as usize).copied().unwrap_or(I::ZERO);
            p.extend(er.iter().map(|&v| v * r));
        }
        over[2] += self.out.run(p, out);
        for (c, o) in self.counters.iter().zip(over) {
            counts[*c] += o;
        }
    }
}
