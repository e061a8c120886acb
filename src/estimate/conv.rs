//! Cost of [`ir::Layer::Conv`](crate::ir::Layer::Conv) in its sliding design
//! ([`crate::arch::hls::Kernel::Sliding`]): one output position per `R` cycles, each the dot
//! product of the window with every filter.
//!
//! The dot product of one position costs what a Dense layer of `n_in` = window inputs and
//! `n_out` = filters costs in the same kernel ([`super::dense`]): at reuse factor 1 the weights are
//! constants (the same at every position), so each product is a constant multiplication; at `R > 1`
//! `filters * window / R` multipliers are shared. On top of it, each window lane (every input
//! channel at every kernel tap at `R = 1`; `groups * window / R` lanes at `R > 1`) reads its value
//! through a `(positions * R)`:1 multiplexer over the completely partitioned input, and the loop
//! adds `positions * R - 1` cycles before the last position's datapath. II = `positions * R`.

use super::arith::{mux_lut, tree_depth};
use super::pipeline::Stage;
use super::{dense, Ctx, LayerCost};
use crate::arch::hls::{Kernel, LayerDesign};
use crate::fixed::FixedType;
use crate::ir::{Conv, Dense, Shape, Weights};

pub(super) fn cost(cv: &Conv, x: &FixedType, out: &FixedType, design: &LayerDesign, cx: &Ctx) -> LayerCost {
    let (positions, reuse, per_cycle) = match design.kernel {
        Kernel::Sliding { positions, reuse, per_cycle } => (positions, reuse, per_cycle),
        Kernel::Unrolled | Kernel::Multiplexed { .. } => (1, 1, cv.window()),
    };
    let window = cv.window();
    let as_dense = Dense {
        weights: Weights { shape: Shape::new([window, cv.filters()]), ..cv.weights.clone() },
        bias: cv.bias.clone(),
        accum: cv.accum,
    };
    let inner = LayerDesign {
        kernel: if reuse > 1 { Kernel::Multiplexed { reuse, per_cycle } } else { Kernel::Unrolled },
        roms: design.roms.clone(),
    };
    let mut c = dense::cost(&as_dense, x, out, &inner, cx);
    let sources = (positions * reuse) as u64;
    let lanes = if reuse > 1 { cv.groups * per_cycle } else { cv.groups * window };
    c.lut += lanes as f64 * mux_lut(x.width, sources, &cx.k);
    c.ii = sources.max(1);
    let gather = Stage::Comb {
        ns: cx.k.delay.mux * f64::from(tree_depth(sources)),
        bits_in: lanes as u64 * u64::from(x.width),
    };
    let steps = Stage::Fixed { cycles: (sources - 1) as u32, ff_bits: 0 };
    c.stages.splice(0..0, [steps, gather]);
    c
}
