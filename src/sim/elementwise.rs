//! `Elementwise`: `y = cast(x_0 op x_1 op ... op x_{n-1})` over the node's inputs, or
//! `y = cast(x op c)` with a constant `c` broadcast onto the single input `x`. Every operation is
//! exact: sums, differences, maxima and minima at `F = max` of the operands' fractional bits
//! (each operand shifted there), products at the sum of the operands' fractional bits, so the
//! order of an n-ary operation does not matter. Only the final cast rounds or overflows.

use super::cast::{fits_i64, frac, CastOp, Int};
use super::constant::{frac32, too_wide, Bcast, Need, Raw};
use super::plan::{Ctx, Scratch};
use super::SimError;
use crate::fixed::FixedType;
use crate::ir::{BinaryOp, Elementwise};

#[derive(Debug)]
pub(crate) enum ElementwiseKernel {
    I64(Merge<i64>),
    I128(Merge<i128>),
}

#[derive(Debug)]
enum Operand<I> {
    /// The inputs after the first: type and alignment shift of each.
    Inputs(Vec<(FixedType, u32)>),
    /// A constant and its alignment shift.
    Constant(Bcast<I>, u32),
}

#[derive(Debug)]
pub(crate) struct Merge<I: Int> {
    op: BinaryOp,
    x_ty: FixedType,
    /// Alignment shift of the first input (sums, differences, maxima and minima).
    sx: u32,
    rest: Operand<I>,
    elements: usize,
    cast: I::Cast,
    counter: usize,
}

/// What the plan decided, before choosing the integer width.
struct Parts {
    op: BinaryOp,
    x_ty: FixedType,
    sx: u32,
    inputs: Vec<(FixedType, u32)>,
    constant: Option<(Raw, u32)>,
    from: i32,
    t: (i128, i128),
    out: FixedType,
    counter: usize,
}

impl ElementwiseKernel {
    pub(crate) fn build(ctx: &mut Ctx, e: &Elementwise) -> Result<Self, SimError> {
        let x_ty = ctx.in_ty(0)?;
        let out = ctx.out_ty()?;
        let mut need = Need::default();
        let constant = e.constant.as_ref().map(|w| Raw::new(ctx, "constant", w)).transpose()?;
        let mut others: Vec<FixedType> = Vec::new();
        if constant.is_none() {
            for k in 1..ctx.inputs.len() {
                others.push(ctx.in_ty(k)?);
            }
            if others.is_empty() || (e.op == BinaryOp::Sub && others.len() != 1) {
                return Err(ctx.unsupported(format!(
                    "{} inputs do not fit a {}",
                    ctx.inputs.len(),
                    e.op.name()
                )));
            }
        } else if ctx.inputs.len() != 1 {
            return Err(ctx.unsupported("an operation with a constant takes one input"));
        }
        // The operands' fractional bits and raw ranges, the first input's first.
        let mut operands: Vec<(i64, (i128, i128))> = vec![(frac(&x_ty), need.ty(&x_ty))];
        operands.extend(others.iter().map(|ty| (frac(ty), need.ty(ty))));
        if let Some(c) = &constant {
            operands.push((c.frac, need.span(c.span())));
        }
        let plan = (|| -> Option<(i64, Vec<u32>, (i128, i128))> {
            if e.op == BinaryOp::Mul {
                let mut t = operands[0].1;
                for o in &operands[1..] {
                    t = need.mul_span(t, o.1)?;
                }
                return Some((operands.iter().map(|o| o.0).sum(), vec![0; operands.len()], t));
            }
            let f = operands.iter().map(|o| o.0).max()?;
            let mut shifts = Vec::with_capacity(operands.len());
            let mut t: Option<(i128, i128)> = None;
            for (k, &(fo, span)) in operands.iter().enumerate() {
                let sh = need.shift(f - fo)?;
                shifts.push(sh);
                let v = need.shl_span(span, sh)?;
                t = Some(match (t, e.op) {
                    (None, _) => v,
                    (Some(a), BinaryOp::Add) => need.add_span(a, v)?,
                    (Some(a), BinaryOp::Sub) if k == 1 => need.add_span(a, (-v.1, -v.0))?,
                    (Some(_), BinaryOp::Sub) => return None,
                    (Some(a), BinaryOp::Max) => (a.0.max(v.0), a.1.max(v.1)),
                    (Some(a), BinaryOp::Min) => (a.0.min(v.0), a.1.min(v.1)),
                    (Some(_), BinaryOp::Mul) => return None,
                });
            }
            Some((f, shifts, t?))
        })();
        let (f, shifts, t) = plan.ok_or_else(|| too_wide(ctx))?;
        let from = frac32(ctx, f)?;
        let counter = ctx.counter("output", ctx.elements());
        let loads_fit = fits_i64(&x_ty) && others.iter().all(fits_i64);
        let inputs: Vec<(FixedType, u32)> = others.iter().copied().zip(shifts[1..].iter().copied()).collect();
        let constant = constant.map(|c| (c, shifts.last().copied().unwrap_or(0)));
        let parts = Parts { op: e.op, x_ty, sx: shifts[0], inputs, constant, from, t, out, counter };
        Ok(if need.use_i64(ctx, loads_fit) {
            ElementwiseKernel::I64(Merge::new(ctx, parts)?)
        } else {
            ElementwiseKernel::I128(Merge::new(ctx, parts)?)
        })
    }

    pub(crate) fn describe(&self) -> &'static str {
        match self {
            ElementwiseKernel::I64(_) => "i64",
            ElementwiseKernel::I128(_) => "i128",
        }
    }

    /// `args` are the inputs; `out` holds the block's `n * elements` results.
    pub(crate) fn run(&self, args: &[&[i64]], out: &mut [i64], s: &mut Scratch, counts: &mut [u64]) {
        match self {
            ElementwiseKernel::I64(k) => k.run(args, out, s, counts),
            ElementwiseKernel::I128(k) => k.run(args, out, s, counts),
        }
    }
}

impl<I: Int> Merge<I> {
    fn new(ctx: &Ctx, p: Parts) -> Result<Self, SimError> {
        let rest = match p.constant {
            Some((c, sh)) => Operand::Constant(Bcast::new(&c.shape, &c.values, &ctx.node.shape), sh),
            None => Operand::Inputs(p.inputs),
        };
        Ok(Merge {
            op: p.op,
            x_ty: p.x_ty,
            sx: p.sx,
            rest,
            elements: ctx.elements(),
            cast: I::cast(p.from, p.t.0, p.t.1, &p.out).ok_or_else(|| too_wide(ctx))?,
            counter: p.counter,
        })
    }

    fn run(&self, args: &[&[i64]], out: &mut [i64], s: &mut Scratch, counts: &mut [u64]) {
        let (t, _, _) = I::scratch(s);
        t.clear();
        let x = &args[0][..out.len()];
        let (sx, ty) = (self.sx, &self.x_ty);
        match &self.rest {
            Operand::Inputs(rest) => {
                t.extend(x.iter().map(|&a| I::load(a, ty) << sx));
                for ((r_ty, sr), r) in rest.iter().zip(&args[1..]) {
                    let (r_ty, sr) = (*r_ty, *sr);
                    let pairs = t.iter_mut().zip(&r[..out.len()]);
                    match self.op {
                        BinaryOp::Add => pairs.for_each(|(a, &b)| *a = *a + (I::load(b, &r_ty) << sr)),
                        BinaryOp::Sub => pairs.for_each(|(a, &b)| *a = *a - (I::load(b, &r_ty) << sr)),
                        BinaryOp::Mul => pairs.for_each(|(a, &b)| *a = *a * I::load(b, &r_ty)),
                        BinaryOp::Max => pairs.for_each(|(a, &b)| *a = (*a).max(I::load(b, &r_ty) << sr)),
                        BinaryOp::Min => pairs.for_each(|(a, &b)| *a = (*a).min(I::load(b, &r_ty) << sr)),
                    }
                }
            }
            Operand::Constant(c, sr) => {
                let sr = *sr;
                let e = self.elements;
                match self.op {
                    BinaryOp::Add => c.map(x, ty, e, t, |a, b| (a << sx) + (b << sr)),
                    BinaryOp::Sub => c.map(x, ty, e, t, |a, b| (a << sx) - (b << sr)),
                    BinaryOp::Mul => c.map(x, ty, e, t, |a, b| a * b),
                    BinaryOp::Max => c.map(x, ty, e, t, |a, b| (a << sx).max(b << sr)),
                    BinaryOp::Min => c.map(x, ty, e, t, |a, b| (a << sx).min(b << sr)),
                }
            }
        }
        counts[self.counter] += self.cast.run(t, out);
    }
}
