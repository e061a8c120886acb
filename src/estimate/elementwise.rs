//! Cost of [`ir::Layer::Elementwise`](crate::ir::Layer::Elementwise), per element: an adder or
//! subtracter of the output width (nothing when adding a zero constant), a constant
//! multiplication ([`arith::const_mul`]) or a multiplication of two variable operands
//! ([`arith::var_mul`]), then the output cast. A merge of `n` tensors costs `n - 1` such
//! operations per element, in a tree of `ceil(log2 n)` levels.

use super::arith::{self, add_delay, add_lut, cast, cmp_lut, sel_lut, tree_depth};
use super::pipeline::Stage;
use super::{Ctx, LayerCost};
use crate::fixed::FixedType;
use crate::ir::{BinaryOp, Elementwise, Shape};

pub(super) fn cost(
    e: &Elementwise,
    ins: &[FixedType],
    out: &FixedType,
    shape: &Shape,
    cx: &Ctx,
) -> LayerCost {
    let k = &cx.k;
    let Some(x) = ins.first() else { return LayerCost::new(1) };
    let r = ins.get(1);
    let ops = ins.len().saturating_sub(1).max(1);
    let levels = f64::from(tree_depth(ins.len() as u64 + u64::from(e.constant.is_some())).max(1));
    let n = shape.elements();
    let mut c = LayerCost::new(1);
    let bits = n as u64 * u64::from(x.width);
    let exact_width = |rw: u32| x.width.max(rw) + 1;
    let mut delay: f64 = 0.0;
    let mut exact = *out;
    for i in 0..n {
        let cval = e.constant.as_ref().map(|w| {
            let v = w.values.get(w.shape.broadcast_index(shape, i)).copied().unwrap_or(0.0);
            (v, w.ty.unwrap_or(*x))
        });
        match (e.op, cval, r) {
            (BinaryOp::Add | BinaryOp::Sub, Some((v, ty)), _) => {
                if arith::raw(v, &ty) != 0 {
                    let w = exact_width(ty.width);
                    c.lut += add_lut(w, k);
                    delay = delay.max(add_delay(w, k));
                }
            }
            (BinaryOp::Add | BinaryOp::Sub, None, rt) => {
                let w = exact_width(rt.map_or(x.width, |t| t.width));
                c.lut += add_lut(w, k);
                delay = delay.max(add_delay(w, k));
                exact = FixedType::new(w, x.integer + 1, true);
            }
            (BinaryOp::Max | BinaryOp::Min, cv, rt) => {
                let w = exact_width(cv.map_or(rt.map_or(x.width, |t| t.width), |(_, ty)| ty.width));
                c.lut += cmp_lut(w, k) + sel_lut(w);
                delay = delay.max(add_delay(w, k) + k.delay.mux);
            }
            (BinaryOp::Mul, Some((v, ty)), _) => {
                let m = arith::const_mul(x, arith::raw(v, &ty), cx.part.dsp_kind, k);
                c.dsp += m.dsp();
                c.lut += m.lut(k);
                delay = delay.max(m.delay(k));
                exact = FixedType::new(x.width + ty.width, x.integer + ty.integer, true);
            }
            (BinaryOp::Mul, None, rt) => {
                let rw = rt.map_or(x.width, |t| t.width);
                let m = arith::var_mul(x.width, rw, cx.part.dsp_kind, k);
                c.dsp += m.dsp();
                c.lut += m.lut(k);
                delay = delay.max(m.delay(k));
                exact = FixedType::new(x.width + rw, x.integer + rt.map_or(x.integer, |t| t.integer), true);
            }
        }
    }
    c.lut *= ops as f64;
    c.dsp *= ops as u64;
    let out_cast = cast(&exact, out, k);
    c.lut += n as f64 * out_cast.lut;
    c.stages.push(Stage::Comb { ns: delay * levels, bits_in: bits * ins.len() as u64 });
    c.stages.push(Stage::Comb { ns: out_cast.delay, bits_in: n as u64 * u64::from(exact.width) });
    c
}
