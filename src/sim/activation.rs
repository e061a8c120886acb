//! `Activation`: each element through its function, exactly, then `cast` to the node's type.
//!
//! Pointwise functions compute `t` exactly at a common fractional-bit count `F` (the finest of
//! the operands, and at least 0 for `HardSigmoid` and `HardSwish` so that 1 is an integer):
//!
//! * `Linear`: `t = x`; `Relu`: `t = max(x, 0)`, both at `F = F_x`;
//! * `LeakyRelu`/`PRelu`: `t = x` or `alpha * x`, at `F = F_x + max(F_alpha, 0)`;
//! * `HardSigmoid`: `t = min(max(alpha * x + beta, 0), 1)`;
//! * `HardSwish`: `t = x * h`, `h` the `HardSigmoid` clip at its `F_h`, so `t` is at `F_x + F_h`;
//! * `ThresholdedRelu`: `t = x` when `x > theta` (compared at `max(F_x, F_theta)`), else 0, at
//!   `F_x`;
//! * `Clip`: `t = min(max(x, min), max)` with the bounds that are present.
//!
//! `Sigmoid`, `Tanh`, `Softplus` and `Softsign` cast `x` to the table's index type (counted as
//! `index` overflows) and read the entry; every entry's cast to the output type is computed once
//! when the plan is built. `Elu` and `Selu` read their table only for `x < 0` (so only those
//! index casts can count an `index` overflow; the counter's element count is every element) and
//! give `cast(x)`, respectively `cast(scale * x)` with the product exact, for `x >= 0`.

use super::cast::{fits_i64, frac, CastOp, Int};
use super::constant::{frac32, too_wide, Bcast, Lut, Need, Raw};
use super::plan::{Ctx, Scratch};
use super::SimError;
use crate::fixed::FixedType;
use crate::ir::{Activation, Table};

#[derive(Debug)]
pub(crate) struct ActivationKernel {
    imp: Imp,
}

#[derive(Debug)]
enum Imp {
    Pointwise64(Pointwise<i64>),
    Pointwise128(Pointwise<i128>),
    Table64(Lookup<i64>),
    Table128(Lookup<i128>),
    Branch64(Branch<i64>),
    Branch128(Branch<i128>),
}

/// A pointwise function with its constants as plan-time integers.
#[derive(Debug, Clone)]
enum Spec {
    Linear,
    Relu,
    Leaky { alpha: Raw, pos: u32, neg: u32 },
    HardSigmoid { alpha: i128, beta: i128, shift: u32, one: i128 },
    Clip { lo: Option<i128>, hi: Option<i128>, shift: u32 },
    HardSwish { alpha: i128, beta: i128, shift: u32, one: i128 },
    Thresholded { theta: i128, shift: u32 },
}

#[derive(Debug)]
enum Func<I> {
    Linear,
    Relu,
    /// `x >= 0 ? x << pos : (alpha * x) << neg`.
    Leaky {
        alpha: Bcast<I>,
        pos: u32,
        neg: u32,
    },
    /// `min(max(((alpha * x) << shift) + beta, 0), one)`, `beta` already aligned.
    HardSigmoid {
        alpha: I,
        beta: I,
        shift: u32,
        one: I,
    },
    Clip {
        lo: Option<I>,
        hi: Option<I>,
        shift: u32,
    },
    /// `x * min(max(((alpha * x) << shift) + beta, 0), one)`.
    HardSwish {
        alpha: I,
        beta: I,
        shift: u32,
        one: I,
    },
    /// `(x << shift) > theta ? x : 0`, `theta` already aligned.
    Thresholded {
        theta: I,
        shift: u32,
    },
}

#[derive(Debug)]
struct Pointwise<I: Int> {
    x_ty: FixedType,
    elements: usize,
    func: Func<I>,
    cast: I::Cast,
    counter: usize,
}

#[derive(Debug)]
struct Lookup<I: Int> {
    x_ty: FixedType,
    index: I::Cast,
    offset: i64,
    /// Each entry cast to the output type, and whether that cast overflowed.
    entries: Vec<(i64, bool)>,
    index_counter: usize,
    counter: usize,
}

/// `Elu`/`Selu`: `cast(scale * x)` for `x >= 0` (`scale` 1 for ELU), the table's entry otherwise.
#[derive(Debug)]
struct Branch<I: Int> {
    x_ty: FixedType,
    scale: I,
    /// The cast of `scale * x`, at `F_x + F_scale`.
    pos: I::Cast,
    lookup: Lookup<I>,
}

impl ActivationKernel {
    pub(crate) fn build(ctx: &mut Ctx, a: &Activation) -> Result<Self, SimError> {
        let x_ty = ctx.in_ty(0)?;
        let out = ctx.out_ty()?;
        let fx = frac(&x_ty);
        let mut need = Need::default();
        let x = need.ty(&x_ty);
        let scalar = |raw: &Raw| raw.values.first().copied().unwrap_or(0);
        let (spec, f, t) = match a {
            Activation::Sigmoid(table)
            | Activation::Tanh(table)
            | Activation::Softplus(table)
            | Activation::Softsign(table) => return Self::lookup(ctx, table, x_ty, need),
            Activation::Elu(table) => return Self::branch(ctx, table, None, x_ty, need),
            Activation::Selu { scale, table } => {
                let scale = Raw::new(ctx, "scale", scale)?;
                return Self::branch(ctx, table, Some(scale), x_ty, need);
            }
            Activation::ThresholdedRelu { theta } => {
                let theta = Raw::new(ctx, "theta", theta)?;
                let f = fx.max(theta.frac);
                let spec = (|| {
                    let shift = need.shift(f - fx)?;
                    let st = need.shift(f - theta.frac)?;
                    need.shl_span(x, shift)?;
                    let theta = need.shl(scalar(&theta), st)?;
                    Some(Spec::Thresholded { theta, shift })
                })();
                let spec = spec.ok_or_else(|| too_wide(ctx))?;
                (spec, fx, (x.0.min(0), x.1.max(0)))
            }
            Activation::HardSwish { alpha, beta } => {
                let alpha = Raw::new(ctx, "alpha", alpha)?;
                let beta = Raw::new(ctx, "beta", beta)?;
                let fh = (fx + alpha.frac).max(beta.frac).max(0);
                let spec = (|| {
                    let shift = need.shift(fh - fx - alpha.frac)?;
                    let sb = need.shift(fh - beta.frac)?;
                    let (a, b) = (scalar(&alpha), scalar(&beta));
                    let sf = need.shift(fh)?;
                    let one = need.shl(1, sf)?;
                    let beta = need.shl(b, sb)?;
                    let p = need.mul_span((a, a), x)?;
                    let p = need.shl_span(p, shift)?;
                    let h = need.add_span(p, (beta, beta))?;
                    let clamp = |v: i128| v.max(0).min(one);
                    let t = need.mul_span(x, (clamp(h.0), clamp(h.1)))?;
                    Some((Spec::HardSwish { alpha: a, beta, shift, one }, t))
                })();
                let (spec, t) = spec.ok_or_else(|| too_wide(ctx))?;
                (spec, fx + fh, t)
            }
            Activation::Linear => (Spec::Linear, fx, x),
            Activation::Relu => (Spec::Relu, fx, (x.0.max(0), x.1.max(0))),
            Activation::LeakyRelu { alpha } | Activation::PRelu { alpha } => {
                let alpha = Raw::new(ctx, "alpha", alpha)?;
                let pos = need.shift(alpha.frac.max(0)).ok_or_else(|| too_wide(ctx))?;
                let neg = need.shift((-alpha.frac).max(0)).ok_or_else(|| too_wide(ctx))?;
                let mut t = (0, 0);
                if x.1 >= 0 {
                    t = need.shl_span((x.0.max(0), x.1), pos).ok_or_else(|| too_wide(ctx))?;
                }
                if x.0 < 0 {
                    let p = need.mul_span(alpha.span(), (x.0, x.1.min(-1))).ok_or_else(|| too_wide(ctx))?;
                    let p = need.shl_span(p, neg).ok_or_else(|| too_wide(ctx))?;
                    t = if x.1 >= 0 { (t.0.min(p.0), t.1.max(p.1)) } else { p };
                }
                (Spec::Leaky { alpha, pos, neg }, fx + pos as i64, t)
            }
            Activation::HardSigmoid { alpha, beta } => {
                let alpha = Raw::new(ctx, "alpha", alpha)?;
                let beta = Raw::new(ctx, "beta", beta)?;
                let f = (fx + alpha.frac).max(beta.frac).max(0);
                let spec = (|| {
                    let shift = need.shift(f - fx - alpha.frac)?;
                    let sb = need.shift(f - beta.frac)?;
                    let (a, b) = (scalar(&alpha), scalar(&beta));
                    let sf = need.shift(f)?;
                    let one = need.shl(1, sf)?;
                    let beta = need.shl(b, sb)?;
                    let p = need.mul_span((a, a), x)?;
                    let p = need.shl_span(p, shift)?;
                    let t = need.add_span(p, (beta, beta))?;
                    let clamp = |v: i128| v.max(0).min(one);
                    Some((Spec::HardSigmoid { alpha: a, beta, shift, one }, (clamp(t.0), clamp(t.1))))
                })();
                let (spec, t) = spec.ok_or_else(|| too_wide(ctx))?;
                (spec, f, t)
            }
            Activation::Clip { min, max } => {
                let lo = min.as_ref().map(|w| Raw::new(ctx, "min", w)).transpose()?;
                let hi = max.as_ref().map(|w| Raw::new(ctx, "max", w)).transpose()?;
                let f = [Some(fx), lo.as_ref().map(|r| r.frac), hi.as_ref().map(|r| r.frac)]
                    .into_iter()
                    .flatten()
                    .max()
                    .unwrap_or(fx);
                let spec = (|| {
                    let shift = need.shift(f - fx)?;
                    let mut align = |r: &Option<Raw>| -> Option<Option<i128>> {
                        match r {
                            Some(r) => {
                                let s = need.shift(f - r.frac)?;
                                Some(Some(need.shl(scalar(r), s)?))
                            }
                            None => Some(None),
                        }
                    };
                    let (lo, hi) = (align(&lo)?, align(&hi)?);
                    let mut t = need.shl_span(x, shift)?;
                    if let Some(lo) = lo {
                        t = (t.0.max(lo), t.1.max(lo));
                    }
                    if let Some(hi) = hi {
                        t = (t.0.min(hi), t.1.min(hi));
                    }
                    Some((Spec::Clip { lo, hi, shift }, t))
                })();
                let (spec, t) = spec.ok_or_else(|| too_wide(ctx))?;
                (spec, f, t)
            }
        };
        let from = frac32(ctx, f)?;
        let counter = ctx.counter("output", ctx.elements());
        let imp = if need.use_i64(ctx, fits_i64(&x_ty)) {
            Imp::Pointwise64(Pointwise::new(ctx, &spec, x_ty, from, t, &out, counter)?)
        } else {
            Imp::Pointwise128(Pointwise::new(ctx, &spec, x_ty, from, t, &out, counter)?)
        };
        Ok(ActivationKernel { imp })
    }

    fn lookup(ctx: &mut Ctx, table: &Table, x_ty: FixedType, need: Need) -> Result<Self, SimError> {
        let imp = match Self::table(ctx, table, x_ty, need)? {
            Ok(k) => Imp::Table64(k),
            Err(k) => Imp::Table128(k),
        };
        Ok(ActivationKernel { imp })
    }

    /// `Elu` (no `scale`) and `Selu`.
    fn branch(
        ctx: &mut Ctx,
        table: &Table,
        scale: Option<Raw>,
        x_ty: FixedType,
        mut need: Need,
    ) -> Result<Self, SimError> {
        let out = ctx.out_ty()?;
        let x = need.ty(&x_ty);
        let (s, fs) = match &scale {
            Some(r) => (r.values.first().copied().unwrap_or(0), r.frac),
            None => (1, 0),
        };
        let t = need.mul_span((0, x.1.max(0)), (s, s)).ok_or_else(|| too_wide(ctx))?;
        let from = frac32(ctx, frac(&x_ty) + fs)?;
        let imp = match Self::table(ctx, table, x_ty, need)? {
            Ok(lookup) => {
                let pos = i64::cast(from, t.0, t.1, &out).ok_or_else(|| too_wide(ctx))?;
                Imp::Branch64(Branch { x_ty, scale: s as i64, pos, lookup })
            }
            Err(lookup) => {
                let pos = i128::cast(from, t.0, t.1, &out).ok_or_else(|| too_wide(ctx))?;
                Imp::Branch128(Branch { x_ty, scale: s, pos, lookup })
            }
        };
        Ok(ActivationKernel { imp })
    }

    /// A table lookup in `i64` when the plan allows it (`Ok`), else in `i128` (`Err`); adds the
    /// `index` and `output` counters.
    #[allow(clippy::type_complexity)]
    fn table(
        ctx: &mut Ctx,
        table: &Table,
        x_ty: FixedType,
        mut need: Need,
    ) -> Result<Result<Lookup<i64>, Lookup<i128>>, SimError> {
        let out = ctx.out_ty()?;
        let lut = Lut::new(ctx, "table", table)?;
        let entries = lut.cast_entries(ctx, &out)?;
        let fx = frac32(ctx, frac(&x_ty))?;
        let x = need.ty(&x_ty);
        let index_counter = ctx.counter("index", ctx.elements());
        let counter = ctx.counter("output", ctx.elements());
        let offset = lut.offset;
        let fast =
            if need.use_i64(ctx, fits_i64(&x_ty)) { i64::cast(fx, x.0, x.1, &lut.index_ty) } else { None };
        Ok(match fast {
            Some(index) => Ok(Lookup { x_ty, index, offset, entries, index_counter, counter }),
            None => {
                let index = i128::cast(fx, x.0, x.1, &lut.index_ty).ok_or_else(|| too_wide(ctx))?;
                Err(Lookup { x_ty, index, offset, entries, index_counter, counter })
            }
        })
    }

    pub(crate) fn describe(&self) -> &'static str {
        match &self.imp {
            Imp::Pointwise64(_) => "i64",
            Imp::Pointwise128(_) => "i128",
            Imp::Table64(_) => "table i64",
            Imp::Table128(_) => "table i128",
            Imp::Branch64(_) => "table branch i64",
            Imp::Branch128(_) => "table branch i128",
        }
    }

    /// Whether the kernel is `max(x, 0)` on `i64` raws with a cast that keeps every value: it
    /// then never counts an overflow, and its producer may compute it ([`Self::relu_in_place`]).
    pub(crate) fn is_plain_relu(&self) -> bool {
        matches!(&self.imp, Imp::Pointwise64(p) if matches!(p.func, Func::Relu) && p.cast.is_identity())
    }

    /// The output of a plain ReLU ([`Self::is_plain_relu`]) computed in place on its input.
    pub(crate) fn relu_in_place(values: &mut [i64]) {
        for v in values {
            *v = (*v).max(0);
        }
    }

    /// `out` holds the block's `n * elements` results; `x` at least as many inputs.
    pub(crate) fn run(&self, x: &[i64], out: &mut [i64], s: &mut Scratch, counts: &mut [u64]) {
        match &self.imp {
            Imp::Pointwise64(p) => p.run(x, out, s, counts),
            Imp::Pointwise128(p) => p.run(x, out, s, counts),
            Imp::Table64(t) => t.run(x, out, counts),
            Imp::Table128(t) => t.run(x, out, counts),
            Imp::Branch64(b) => b.run(x, out, counts),
            Imp::Branch128(b) => b.run(x, out, counts),
        }
    }
}

impl<I: Int> Pointwise<I> {
    fn new(
        ctx: &Ctx,
        spec: &Spec,
        x_ty: FixedType,
        from: i32,
        t: (i128, i128),
        out: &FixedType,
        counter: usize,
    ) -> Result<Self, SimError> {
        let func = match spec {
            Spec::Linear => Func::Linear,
            Spec::Relu => Func::Relu,
            Spec::Leaky { alpha, pos, neg } => Func::Leaky {
                alpha: Bcast::new(&alpha.shape, &alpha.values, &ctx.node.shape),
                pos: *pos,
                neg: *neg,
            },
            &Spec::HardSigmoid { alpha, beta, shift, one } => Func::HardSigmoid {
                alpha: I::from_i128(alpha),
                beta: I::from_i128(beta),
                shift,
                one: I::from_i128(one),
            },
            &Spec::Clip { lo, hi, shift } => {
                Func::Clip { lo: lo.map(I::from_i128), hi: hi.map(I::from_i128), shift }
            }
            &Spec::HardSwish { alpha, beta, shift, one } => Func::HardSwish {
                alpha: I::from_i128(alpha),
                beta: I::from_i128(beta),
                shift,
                one: I::from_i128(one),
            },
            &Spec::Thresholded { theta, shift } => Func::Thresholded { theta: I::from_i128(theta), shift },
        };
        let cast = I::cast(from, t.0, t.1, out).ok_or_else(|| too_wide(ctx))?;
        Ok(Pointwise { x_ty, elements: ctx.elements(), func, cast, counter })
    }

    fn run(&self, x: &[i64], out: &mut [i64], s: &mut Scratch, counts: &mut [u64]) {
        let ty = &self.x_ty;
        let x = &x[..out.len()];
        let cast = &self.cast;
        counts[self.counter] += match &self.func {
            Func::Linear => cast.run_map(x, out, |r| I::load(r, ty)),
            Func::Relu => cast.run_map(x, out, |r| I::load(r, ty).max(I::ZERO)),
            &Func::HardSigmoid { alpha, beta, shift, one } => {
                cast.run_map(x, out, |r| (((alpha * I::load(r, ty)) << shift) + beta).max(I::ZERO).min(one))
            }
            &Func::HardSwish { alpha, beta, shift, one } => cast.run_map(x, out, |r| {
                let v = I::load(r, ty);
                v * (((alpha * v) << shift) + beta).max(I::ZERO).min(one)
            }),
            &Func::Thresholded { theta, shift } => cast.run_map(x, out, |r| {
                let v = I::load(r, ty);
                if (v << shift) > theta {
                    v
                } else {
                    I::ZERO
                }
            }),
            &Func::Clip { lo, hi, shift } => cast.run_map(x, out, |r| {
                let mut v = I::load(r, ty) << shift;
                if let Some(lo) = lo {
                    v = v.max(lo);
                }
                if let Some(hi) = hi {
                    v = v.min(hi);
                }
                v
            }),
            Func::Leaky { alpha, pos, neg } => {
                let (pos, neg) = (*pos, *neg);
                let (t, _, _) = I::scratch(s);
                t.clear();
                alpha.map(
                    x,
                    ty,
                    self.elements,
                    t,
                    |v, a| if v >= I::ZERO { v << pos } else { (a * v) << neg },
                );
                cast.run(t, out)
            }
        };
    }
}

impl<I: Int> Lookup<I> {
    fn run(&self, x: &[i64], out: &mut [i64], counts: &mut [u64]) {
        let (mut index_overflows, mut overflows) = (0u64, 0u64);
        for (o, &r) in out.iter_mut().zip(x) {
            let (raw, over) = self.index.apply(I::load(r, &self.x_ty));
            index_overflows += over as u64;
            let (y, o_over) = self.entries.get((raw + self.offset) as usize).copied().unwrap_or((0, false));
            *o = y;
            overflows += o_over as u64;
        }
        counts[self.index_counter] += index_overflows;
        counts[self.counter] += overflows;
    }
}

impl<I: Int> Branch<I> {
    fn run(&self, x: &[i64], out: &mut [i64], counts: &mut [u64]) {
        let l = &self.lookup;
        let (mut index_overflows, mut overflows) = (0u64, 0u64);
        for (o, &r) in out.iter_mut().zip(x) {
            let v = I::load(r, &self.x_ty);
            let (y, over) = if v >= I::ZERO {
                self.pos.apply(v * self.scale)
            } else {
                let (raw, over) = l.index.apply(v);
                index_overflows += over as u64;
                l.entries.get((raw + l.offset) as usize).copied().unwrap_or((0, false))
            };
            *o = y;
            overflows += over as u64;
        }
        counts[l.index_counter] += index_overflows;
        counts[l.counter] += overflows;
    }
}
