//! Cost of [`ir::Layer::GatherRows`](crate::ir::Layer::GatherRows), unrolled: every output value
//! is an `n`:1 multiplexer of the input's width over the `n` rows, a tree of 2:1 selects on the
//! low bits of its row's index (`templates/hlsgen/gather_rows.h`), then a select that gives row 0
//! when a range check of the index (one per output row, beside the tree) fails, then the cast to
//! the output type. Pairs of tree levels fit a LUT6 as a 4:1 multiplexer: each LUT takes four
//! candidates to one, so one bit of an `n`:1 multiplexer takes `ceil((n-1)/3)` LUTs in
//! `ceil(log4 n)` levels.

use super::arith::{add_delay, bit_len, cast, cmp_lut, sel_lut};
use super::pipeline::Stage;
use super::{Ctx, LayerCost};
use crate::fixed::FixedType;
use crate::ir::Shape;

/// The levels of 4:1 LUT multiplexers that select one of `n` inputs.
pub(super) fn mux_levels(n: u64) -> u32 {
    bit_len(n.saturating_sub(1)).div_ceil(2)
}

pub(super) fn cost(
    x: &FixedType,
    index: &FixedType,
    out: &FixedType,
    inputs: &[&Shape],
    out_shape: &Shape,
    cx: &Ctx,
) -> LayerCost {
    let k = &cx.k;
    let rows = inputs.first().and_then(|s| s.dims().first()).copied().unwrap_or(1) as u64;
    let m = out_shape.dims().first().copied().unwrap_or(1) as u64;
    let values = out_shape.elements() as u64;
    let c_out = cast(x, out, k);
    let mut c = LayerCost::new(1);
    let mux = f64::from(x.width) * rows.saturating_sub(1).div_ceil(3) as f64;
    c.lut += values as f64 * (mux + sel_lut(x.width) + c_out.lut);
    c.lut += m as f64 * cmp_lut(index.width, k);
    let bits_in = rows * (values / m.max(1)) * u64::from(x.width) + m * u64::from(index.width);
    let tree = f64::from(mux_levels(rows)) * k.delay.mux;
    let ns = tree.max(add_delay(index.width, k)) + k.delay.mux + c_out.delay;
    c.stages.push(Stage::Comb { ns, bits_in });
    c
}
