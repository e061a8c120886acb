//! `Elementwise`: `y = cast(x op r)` with `r` the second input or a constant broadcast onto `x`.
//! Sums and differences are exact at `F = max(F_x, F_r)`, products at `F_x + F_r`.

use super::cast::{fits_i64, frac, CastOp, Int};
use super::constant::{frac32, too_wide, Bcast, Need, Raw};
use super::plan::{Ctx, Scratch};
use super::SimError;
use crate::fixed::FixedType;
use crate::ir::{BinaryOp, Elementwise};

#[derive(Debug)]
pub(crate) enum ElementwiseKernel {
    I64(Binary<i64>),
    I128(Binary<i128>),
}

#[derive(Debug)]
enum Operand<I> {
    Input(FixedType),
    Constant(Bcast<I>),
}

#[derive(Debug)]
pub(crate) struct Binary<I: Int> {
    op: BinaryOp,
    x_ty: FixedType,
    r: Operand<I>,
    /// Alignment shifts of `x` and `r` for sums and differences.
    sx: u32,
    sr: u32,
    elements: usize,
    cast: I::Cast,
    counter: usize,
}

impl ElementwiseKernel {
    pub(crate) fn build(ctx: &mut Ctx, e: &Elementwise) -> Result<Self, SimError> {
        let x_ty = ctx.in_ty(0)?;
        let out = ctx.out_ty()?;
        let mut need = Need::default();
        let x = need.ty(&x_ty);
        let (r_frac, r, r_fits, constant) = match &e.constant {
            Some(w) => {
                let raw = Raw::new(ctx, "constant", w)?;
                (raw.frac, need.span(raw.span()), true, Some(raw))
            }
            None => {
                let r_ty = ctx.in_ty(1)?;
                (frac(&r_ty), need.ty(&r_ty), fits_i64(&r_ty), None)
            }
        };
        let fx = frac(&x_ty);
        let exact = (|| match e.op {
            BinaryOp::Mul => Some((fx + r_frac, 0, 0, need.mul_span(x, r)?)),
            BinaryOp::Add | BinaryOp::Sub => {
                let f = fx.max(r_frac);
                let (sx, sr) = (need.shift(f - fx)?, need.shift(f - r_frac)?);
                let (x, r) = (need.shl_span(x, sx)?, need.shl_span(r, sr)?);
                let t = if e.op == BinaryOp::Add {
                    need.add_span(x, r)?
                } else {
                    need.add_span(x, (-r.1, -r.0))?
                };
                Some((f, sx, sr, t))
            }
        })();
        let (f, sx, sr, t) = exact.ok_or_else(|| too_wide(ctx))?;
        let from = frac32(ctx, f)?;
        let counter = ctx.counter("output", ctx.elements());
        let parts = Parts { op: e.op, x_ty, constant, sx, sr, from, t, out, counter };
        Ok(if need.use_i64(ctx, fits_i64(&x_ty) && r_fits) {
            ElementwiseKernel::I64(Binary::new(ctx, parts)?)
        } else {
            ElementwiseKernel::I128(Binary::new(ctx, parts)?)
        })
    }

    pub(crate) fn describe(&self) -> &'static str {
        match self {
            ElementwiseKernel::I64(_) => "i64",
            ElementwiseKernel::I128(_) => "i128",
        }
    }

    /// `args` are the inputs (one or two); `out` holds the block's `n * elements` results.
    pub(crate) fn run(&self, args: &[&[i64]], out: &mut [i64], s: &mut Scratch, counts: &mut [u64]) {
        match self {
            ElementwiseKernel::I64(k) => k.run(args, out, s, counts),
            ElementwiseKernel::I128(k) => k.run(args, out, s, counts),
        }
    }
}

/// What the plan decided, before choosing the integer width.
struct Parts {
    op: BinaryOp,
    x_ty: FixedType,
    constant: Option<Raw>,
    sx: u32,
    sr: u32,
    from: i32,
    t: (i128, i128),
    out: FixedType,
    counter: usize,
}

impl<I: Int> Binary<I> {
    fn new(ctx: &Ctx, p: Parts) -> Result<Self, SimError> {
        let r = match &p.constant {
            Some(c) => Operand::Constant(Bcast::new(&c.shape, &c.values, &ctx.node.shape)),
            None => Operand::Input(ctx.in_ty(1)?),
        };
        Ok(Binary {
            op: p.op,
            x_ty: p.x_ty,
            r,
            sx: p.sx,
            sr: p.sr,
            elements: ctx.elements(),
            cast: I::cast(p.from, p.t.0, p.t.1, &p.out).ok_or_else(|| too_wide(ctx))?,
            counter: p.counter,
        })
    }

    fn run(&self, args: &[&[i64]], out: &mut [i64], s: &mut Scratch, counts: &mut [u64]) {
        let (t, _, _) = I::scratch(s);
        t.clear();
        let x = &args[0][..out.len()];
        let (sx, sr) = (self.sx, self.sr);
        match (&self.r, self.op) {
            (Operand::Input(r_ty), op) => {
                let r = &args[args.len() - 1][..out.len()];
                let pairs = x.iter().zip(r).map(|(&a, &b)| (I::load(a, &self.x_ty), I::load(b, r_ty)));
                match op {
                    BinaryOp::Add => t.extend(pairs.map(|(a, b)| (a << sx) + (b << sr))),
                    BinaryOp::Sub => t.extend(pairs.map(|(a, b)| (a << sx) - (b << sr))),
                    BinaryOp::Mul => t.extend(pairs.map(|(a, b)| a * b)),
                }
            }
            (Operand::Constant(c), BinaryOp::Add) => {
                c.map(x, &self.x_ty, self.elements, t, |a, b| (a << sx) + (b << sr))
            }
            (Operand::Constant(c), BinaryOp::Sub) => {
                c.map(x, &self.x_ty, self.elements, t, |a, b| (a << sx) - (b << sr))
            }
            (Operand::Constant(c), BinaryOp::Mul) => c.map(x, &self.x_ty, self.elements, t, |a, b| a * b),
        }
        counts[self.counter] += self.cast.run(t, out);
    }
}
