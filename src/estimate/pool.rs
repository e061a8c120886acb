//! Cost of [`ir::Layer::Pool`](crate::ir::Layer::Pool), unrolled: every output position and
//! channel reduces its window at once (II = 1; no multiplier to share, so the positions are not
//! multiplexed).
//!
//! * `Max`: `window - 1` comparisons and selects per output, in a tree of `ceil(log2 window)`
//!   levels.
//! * `Average`: `window - 1` adders of the sum's width in a tree, then the product by the constant
//!   reciprocal of the count ([`arith::const_mul`]).
//!
//! Then the cast to the output type.

use super::arith::{self, add_delay, add_lut, cast, cmp_lut, sel_lut, tree_depth};
use super::pipeline::Stage;
use super::{Ctx, LayerCost};
use crate::fixed::FixedType;
use crate::ir::{Pool, PoolOp, Shape};

pub(super) fn cost(p: &Pool, x: &FixedType, out: &FixedType, out_shape: &Shape, cx: &Ctx) -> LayerCost {
    let k = &cx.k;
    let n = out_shape.elements() as f64;
    let window = p.window() as u64;
    let levels = f64::from(tree_depth(window));
    let in_bits = out_shape.elements() as u64 * window * u64::from(x.width);
    let mut c = LayerCost::new(1);
    let exact = match p.op {
        PoolOp::Max => {
            c.lut += n * (window - 1) as f64 * (cmp_lut(x.width, k) + sel_lut(x.width));
            c.stages
                .push(Stage::Comb { ns: levels * (add_delay(x.width, k) + k.delay.mux), bits_in: in_bits });
            *x
        }
        PoolOp::Average => {
            let sum = p.sum_type(x);
            c.lut += n * (window - 1) as f64 * add_lut(sum.width, k);
            c.stages.push(Stage::Comb { ns: levels * add_delay(sum.width, k), bits_in: in_bits });
            let r = p.reciprocal.unwrap_or_else(|| Pool::default_reciprocal(p.window()));
            let raw = i64::try_from(Pool::reciprocal_raw(p.window(), &r)).unwrap_or(i64::MAX);
            let m = arith::const_mul(&sum, raw, cx.part.dsp_kind, k);
            c.dsp += out_shape.elements() as u64 * m.dsp();
            c.lut += n * m.lut(k);
            c.stages.push(Stage::Comb {
                ns: m.delay(k),
                bits_in: out_shape.elements() as u64 * u64::from(sum.width),
            });
            sum.exact_mul_type(&r)
        }
    };
    let cs = cast(&exact, out, k);
    c.lut += n * cs.lut;
    c.stages
        .push(Stage::Comb { ns: cs.delay, bits_in: out_shape.elements() as u64 * u64::from(exact.width) });
    c
}
