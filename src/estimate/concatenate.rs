//! Cost of [`ir::Layer::Concatenate`](crate::ir::Layer::Concatenate): data movement, so wiring;
//! each input's elements pay the cast from their type to the output type ([`arith::cast`]:
//! nothing unless it rounds or saturates). The inputs' casts run side by side.

use super::arith::cast;
use super::pipeline::Stage;
use super::{Ctx, LayerCost};
use crate::fixed::FixedType;
use crate::ir::{Concatenate, Shape};

pub(super) fn cost(
    c: &Concatenate,
    shapes: &[&Shape],
    in_tys: &[FixedType],
    out: &FixedType,
    cx: &Ctx,
) -> LayerCost {
    let (outer, lens) = c.blocks(shapes);
    let mut cost = LayerCost::new(1);
    let mut delay: f64 = 0.0;
    let mut bits = 0u64;
    for (x, len) in in_tys.iter().zip(lens) {
        let n = outer * len;
        let cs = cast(x, out, &cx.k);
        cost.lut += n as f64 * cs.lut;
        delay = delay.max(cs.delay);
        bits += n as u64 * u64::from(x.width);
    }
    cost.stages.push(Stage::Comb { ns: delay, bits_in: bits });
    cost
}
