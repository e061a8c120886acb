//! Cost of [`ir::Layer::Softmax`](crate::ir::Layer::Softmax) over the last axis, following the
//! five steps of its definition, for each row of `n` classes:
//!
//! 1. the maximum: `n - 1` comparisons and selects in a tree of `ceil(log2 n)` levels;
//! 2. `d_i = m - x_i`: `n` subtracters;
//! 3. `n` exp-table reads after casting `d_i` to the index type ([`activation::table_lookups`]);
//! 4. the sum of the `n` entries (adder tree) and one inverse-table read;
//! 5. `n` products `e_i * r` (variable operands: DSPs when wider than the fabric limit) and the
//!    output cast.

use super::activation;
use super::arith::{self, add_delay, add_lut, cast, cmp_lut, sel_lut, tree_depth};
use super::pipeline::Stage;
use super::{Ctx, LayerCost};
use crate::arch::hls::LayerDesign;
use crate::fixed::FixedType;
use crate::ir::{Shape, Softmax};

pub(super) fn cost(
    s: &Softmax,
    x: &FixedType,
    out: &FixedType,
    shape: &Shape,
    design: &LayerDesign,
    cx: &Ctx,
) -> LayerCost {
    let k = &cx.k;
    let n = shape.channels().max(1) as u64;
    let rows = (shape.elements() as u64 / n).max(1);
    let mut c = LayerCost::new(1);
    let wx = x.width;
    let in_bits = rows * n * u64::from(wx);
    let max_depth = f64::from(tree_depth(n));
    c.lut += (rows * (n - 1)) as f64 * (cmp_lut(wx, k) + sel_lut(wx));
    c.stages.push(Stage::Comb { ns: max_depth * (add_delay(wx, k) + k.delay.mux), bits_in: in_bits });
    let diff = FixedType::new(wx + 1, x.integer + 1, false);
    c.lut += (rows * n) as f64 * add_lut(diff.width, k);
    c.stages.push(Stage::Comb { ns: add_delay(diff.width, k), bits_in: in_bits });
    activation::table_lookups(&mut c, &s.exp_table, design.rom("exp_table"), &diff, rows * n, cx);

    let we = s.exp_table.ty.width;
    let grow = arith::bit_len(n.saturating_sub(1));
    let sum_ty = FixedType::new(we + grow, s.exp_table.ty.integer + grow as i32, false);
    c.lut += (rows * (n - 1)) as f64 * add_lut(sum_ty.width, k);
    c.stages
        .push(Stage::Comb { ns: max_depth * add_delay(sum_ty.width, k), bits_in: rows * n * u64::from(we) });
    activation::table_lookups(&mut c, &s.inv_table, design.rom("inv_table"), &sum_ty, rows, cx);

    let wi = s.inv_table.ty.width;
    let m = arith::var_mul(we, wi, cx.part.dsp_kind, k);
    c.dsp += rows * n * m.dsp();
    c.lut += (rows * n) as f64 * m.lut(k);
    let prod = FixedType::new(we + wi, s.exp_table.ty.integer + s.inv_table.ty.integer, false);
    let out_cast = cast(&prod, out, k);
    c.lut += (rows * n) as f64 * out_cast.lut;
    c.stages.push(Stage::Comb { ns: m.delay(k), bits_in: rows * (n * u64::from(we) + u64::from(wi)) });
    c.stages.push(Stage::Comb { ns: out_cast.delay, bits_in: rows * n * u64::from(prod.width) });
    c
}
