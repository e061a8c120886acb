//! Cost of [`ir::Layer::BatchNorm`](crate::ir::Layer::BatchNorm): per element a constant
//! multiplication by its channel's scale ([`arith::const_mul`]), an adder for a nonzero bias and
//! the output cast.

use super::arith::{self, add_delay, add_lut, cast};
use super::pipeline::Stage;
use super::{Ctx, LayerCost};
use crate::fixed::FixedType;
use crate::ir::{BatchNorm, Shape};

pub(super) fn cost(b: &BatchNorm, x: &FixedType, out: &FixedType, shape: &Shape, cx: &Ctx) -> LayerCost {
    let k = &cx.k;
    let n = shape.elements();
    let sty = b.scale.ty.unwrap_or(*x);
    let bty = b.bias.ty.unwrap_or(*out);
    let mut c = LayerCost::new(1);
    let mut mul_delay: f64 = 0.0;
    let mut adds = 0u64;
    for i in 0..n {
        let s = b.scale.values.get(b.scale.shape.broadcast_index(shape, i)).copied().unwrap_or(0.0);
        let m = arith::const_mul(x, arith::raw(s, &sty), cx.part.dsp_kind, k);
        c.dsp += m.dsp();
        c.lut += m.lut(k);
        mul_delay = mul_delay.max(m.delay(k));
        let bias = b.bias.values.get(b.bias.shape.broadcast_index(shape, i)).copied().unwrap_or(0.0);
        adds += u64::from(arith::raw(bias, &bty) != 0);
    }
    let width = out.width + 1;
    c.lut += adds as f64 * add_lut(width, k);
    let prod = FixedType::new(x.width + sty.width, x.integer + sty.integer, true);
    let out_cast = cast(&prod, out, k);
    c.lut += n as f64 * out_cast.lut;
    let bits = n as u64 * u64::from(x.width);
    c.stages.push(Stage::Comb { ns: mul_delay, bits_in: bits });
    if adds > 0 {
        c.stages.push(Stage::Comb { ns: add_delay(width, k), bits_in: n as u64 * u64::from(prod.width) });
    }
    c.stages.push(Stage::Comb { ns: out_cast.delay, bits_in: n as u64 * u64::from(prod.width) });
    c
}
