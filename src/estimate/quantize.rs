//! Cost of [`ir::Layer::Quantize`](crate::ir::Layer::Quantize): one [`arith::cast`] per element
//! (wiring unless the output type rounds or saturates).

use super::arith::cast;
use super::pipeline::Stage;
use super::{Ctx, LayerCost};
use crate::fixed::FixedType;
use crate::ir::Shape;

pub(super) fn cost(x: &FixedType, out: &FixedType, shape: &Shape, cx: &Ctx) -> LayerCost {
    let n = shape.elements();
    let cs = cast(x, out, &cx.k);
    let mut c = LayerCost::new(1);
    c.lut += n as f64 * cs.lut;
    c.stages.push(Stage::Comb { ns: cs.delay, bits_in: n as u64 * u64::from(x.width) });
    c
}
