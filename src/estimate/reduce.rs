//! Cost of [`ir::Layer::Reduce`](crate::ir::Layer::Reduce), unrolled: every output reduces its
//! `n` values at once (II = 1).
//!
//! * `Sum`, `L1`, `Mean`: `n - 1` adders of the exact sum's width in a tree of `ceil(log2 n)`
//!   levels (`L1` adds or subtracts, one more select of the input's width per value); `Mean`
//!   then multiplies by the constant reciprocal ([`arith::const_mul`]).
//! * `SumSquare`, `L2`: `n` squares ([`arith::var_mul`]), then the adder tree; `L2` reads the
//!   square-root table as activations do ([`super::activation::table_lookups`]).
//! * `Max`, `Min`: `n - 1` comparisons and selects in a tree.
//!
//! Then the cast to the output type.

use super::activation::table_lookups;
use super::arith::{self, add_delay, add_lut, cast, cmp_lut, sel_lut, tree_depth};
use super::pipeline::Stage;
use super::{Ctx, LayerCost};
use crate::arch::hls::LayerDesign;
use crate::fixed::FixedType;
use crate::ir::{Pool, Reduce, ReduceOp, Shape};

pub(super) fn cost(
    r: &Reduce,
    x: &FixedType,
    out: &FixedType,
    out_shape: &Shape,
    design: &LayerDesign,
    cx: &Ctx,
) -> LayerCost {
    let k = &cx.k;
    let outputs = out_shape.elements() as u64;
    let n = outputs as f64;
    let count = r.count.max(1) as u64;
    let levels = f64::from(tree_depth(count));
    let in_bits = outputs * count * u64::from(x.width);
    let mut c = LayerCost::new(1);
    let sum = r.accumulated_type(x);
    let tree = |c: &mut LayerCost, width: u32, bits_in: u64| {
        c.lut += n * (count - 1) as f64 * add_lut(width, k);
        c.stages.push(Stage::Comb { ns: levels * add_delay(width, k), bits_in });
    };
    let exact = match r.op {
        ReduceOp::Max | ReduceOp::Min => {
            c.lut += n * (count - 1) as f64 * (cmp_lut(x.width, k) + sel_lut(x.width));
            c.stages
                .push(Stage::Comb { ns: levels * (add_delay(x.width, k) + k.delay.mux), bits_in: in_bits });
            *x
        }
        ReduceOp::Sum => {
            tree(&mut c, sum.width, in_bits);
            sum
        }
        ReduceOp::L1 => {
            c.lut += n * count as f64 * sel_lut(sum.width);
            tree(&mut c, sum.width, in_bits);
            sum
        }
        ReduceOp::Mean => {
            tree(&mut c, sum.width, in_bits);
            let rt = r.reciprocal.unwrap_or_else(|| Reduce::default_reciprocal(r.count));
            let raw = i64::try_from(Pool::reciprocal_raw(r.count, &rt)).unwrap_or(i64::MAX);
            let m = arith::const_mul(&sum, raw, cx.part.dsp_kind, k);
            c.dsp += outputs * m.dsp();
            c.lut += n * m.lut(k);
            c.stages.push(Stage::Comb { ns: m.delay(k), bits_in: outputs * u64::from(sum.width) });
            sum.exact_mul_type(&rt)
        }
        ReduceOp::SumSquare | ReduceOp::L2 => {
            let m = arith::var_mul(x.width, x.width, cx.part.dsp_kind, k);
            c.dsp += outputs * count * m.dsp();
            c.lut += n * count as f64 * m.lut(k);
            c.stages.push(Stage::Comb { ns: m.delay(k), bits_in: in_bits });
            tree(&mut c, sum.width, outputs * count * u64::from(2 * x.width));
            sum
        }
    };
    if let (ReduceOp::L2, Some(t)) = (r.op, r.table.as_ref()) {
        table_lookups(&mut c, t, design.rom("table"), &exact, outputs, cx);
        let cs = cast(&t.ty, out, k);
        c.lut += n * cs.lut;
        c.stages.push(Stage::Comb { ns: cs.delay, bits_in: outputs * u64::from(t.ty.width) });
        return c;
    }
    let cs = cast(&exact, out, k);
    c.lut += n * cs.lut;
    c.stages.push(Stage::Comb { ns: cs.delay, bits_in: outputs * u64::from(exact.width) });
    c
}
