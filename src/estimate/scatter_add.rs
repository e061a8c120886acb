//! Cost of [`ir::Layer::ScatterAdd`](crate::ir::Layer::ScatterAdd), unrolled: every output value
//! `y[r, c]` selects each of the `m` input values of its column when `index[k] = r` (a comparison
//! per row and input row, shared by the row's values) and sums the `m` selections in a tree of
//! `m - 1` adders of the exact sum's width, then casts. The select is an AND with the comparison on
//! each operand bit of the first adder level, which fits the adder's own LUTs (a LUT6 per bit with
//! inputs to spare), so it adds no LUTs.

use super::arith::{add_delay, add_lut, bit_len, cast, cmp_lut, tree_depth};
use super::pipeline::Stage;
use super::{Ctx, LayerCost};
use crate::fixed::FixedType;
use crate::ir::{LayerDef, ScatterAdd, Shape};

pub(super) fn cost(
    l: &ScatterAdd,
    x: &FixedType,
    index: &FixedType,
    out: &FixedType,
    out_shape: &Shape,
    cx: &Ctx,
) -> LayerCost {
    let k = &cx.k;
    let sum = l.exact_type("result", &[*x, *index]).unwrap_or(*x);
    let m = l.terms.max(1) as u64;
    let rows = l.rows.max(1) as u64;
    let outputs = out_shape.elements() as u64;
    let sel_bits = bit_len(rows.saturating_sub(1)).min(index.width);
    let c_out = cast(&sum, out, k);
    let mut c = LayerCost::new(1);
    c.lut += (rows * m) as f64 * cmp_lut(sel_bits, k);
    c.lut += (outputs * (m - 1)) as f64 * add_lut(sum.width, k);
    c.lut += outputs as f64 * c_out.lut;
    let bits_in = m * (outputs / rows) * u64::from(x.width) + m * u64::from(index.width);
    let ns = add_delay(sel_bits, k) + k.delay.mux + f64::from(tree_depth(m)) * add_delay(sum.width, k);
    c.stages.push(Stage::Comb { ns: ns + c_out.delay, bits_in });
    c
}
