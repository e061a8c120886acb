//! Cost of [`ir::Layer::GatherRows`](crate::ir::Layer::GatherRows), unrolled: every output value
//! is an `n`:1 multiplexer of the input's width over the `n` rows, selected by its row's index
//! (one comparison of the index per row and output row, shared by the row's values), then the
//! cast to the output type. The multiplexer is a tree of LUT6 used as 4:1 multiplexers: each
//! LUT takes four candidates to one, so one bit of an `n`:1 multiplexer takes `ceil((n-1)/3)`
//! LUTs in `ceil(log4 n)` levels.

use super::arith::{bit_len, cast, cmp_lut};
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
    let sel_bits = bit_len(rows.saturating_sub(1)).min(index.width);
    let c_out = cast(x, out, k);
    let mut c = LayerCost::new(1);
    let mux = f64::from(x.width) * rows.saturating_sub(1).div_ceil(3) as f64;
    c.lut += values as f64 * (mux + c_out.lut);
    c.lut += (m * rows) as f64 * cmp_lut(sel_bits, k) / 2.0;
    let bits_in = rows * (values / m.max(1)) * u64::from(x.width) + m * u64::from(index.width);
    c.stages.push(Stage::Comb { ns: f64::from(mux_levels(rows)) * k.delay.mux + c_out.delay, bits_in });
    c
}
