//! Estimate of the resource-optimized design of a graph model (`--edge-parallelism N`,
//! [`crate::arch::rows`]): every process costed as the HLS emitter builds it.
//!
//! * A row process is its layer's throughput-form cost ([`super::layer_cost`]) on `N` rows: one
//!   shared copy of the row-wise operators, `N / rows` of the throughput form's.
//! * A gather: its table of data chunks, `N` banks (`ram_1wnr`, one per gathered row) of
//!   `ceil(n_rows / N)` words of a chunk's bits each, in LUTRAM (one LUT per bit per 64 words) or
//!   block RAM by [`crate::arch::hls::rom_storage`]'s rule; one read cycle, then an `N`:1 lane
//!   multiplexer per gathered value.
//! * A scatter: the exact sums in registers (`n_rows · row` of the sum's width); per chunk every
//!   sum compares the `N` indices with its row, adds the selected values in a tree of `N - 1`
//!   adders and the tree's result to itself; the written chunk selects its sums
//!   (`ceil(n_rows / N)`:1 multiplexers) and casts them.
//! * A stream channel is a FIFO as deep as its tensor has chunks, a chunk wide: shift-register
//!   LUTs (32 chunks per LUT and bit) up to 32 chunks, deeper ones a memory by
//!   [`crate::arch::hls::rom_storage`]'s rule (block RAM when it fills half its RAMB18s, else
//!   LUTRAM); an array channel is a ping-pong pair of registers.
//!
//! Timing: every tensor has the cycle its first and its last chunk is ready. A row process
//! passes chunks on after its pipeline depth; a gather starts after the last data chunk; a
//! scatter writes after the last message chunk. The latency is the cycle after the last chunk
//! of the last output; the II is the slowest process's loop count ([`RowsDesign::ii`]). No
//! synthesis calibrates these processes: every layer is marked uncalibrated.

use std::collections::BTreeMap;

use super::arith::{add_delay, add_lut, bit_len, cast, cmp_lut, lutrom_luts, mux_lut, tree_depth};
use super::gather_rows::mux_levels;
use super::pipeline::{self, Stage};
use super::{layer_cost, Ctx, Estimate, EstimateError, LayerCost, LayerEstimate, Options, Setup, Totals};
use crate::arch::hls::{bram18_for, rom_storage, Storage};
use crate::arch::rows::{self, chunk_node, chunk_shape, Mode, RowsDesign};
use crate::fixed::FixedType;
use crate::ir::{LayerDef, LoweredGraph, NodeId, Shape};

/// FIFOs up to this many chunks deep are shift-register LUTs.
const SRL_MAX_DEPTH: u64 = 32;
/// Bits one shift-register LUT holds.
const SRL_BITS: u64 = 32;

/// The estimate of `g`'s resource-optimized design at `n` rows per cycle.
pub fn estimate(
    g: &LoweredGraph,
    part: &super::Part,
    clock_ns: f64,
    opts: &Options,
    n: usize,
) -> Result<Estimate, EstimateError> {
    let Setup { cx, u, period, speed } = Setup::new(part, clock_ns, opts)?;
    let d = rows::design(g, n)?;
    // (first, last) cycle a tensor's chunks are ready.
    let mut ready: BTreeMap<NodeId, (u64, u64)> = BTreeMap::new();
    let mut layers = Vec::new();
    let mut latency = 0u64;
    for id in g.topo_order()? {
        let node = g.node(id);
        let rn = &d.nodes[&id];
        let inputs = g.inputs_of(id);
        let in_tys: Vec<FixedType> = inputs.iter().map(|&i| g.node(i).out_ty()).collect::<Result<_, _>>()?;
        let in_ready: Vec<(u64, u64)> = inputs.iter().map(|i| ready[i]).collect();
        let first_in = in_ready.iter().map(|r| r.0).max().unwrap_or(0);
        let last_in = in_ready.iter().map(|r| r.1).max().unwrap_or(0);
        let chunks = rn.chunks as u64;
        let unrolled = rows::layer_design(g, &d, id)?;
        let mut held_ff = 0.0;
        let (cost, (first, last)) = match rn.mode {
            Mode::Port => (LayerCost::new(1), (1, chunks.max(1))),
            Mode::Array => {
                let shapes: Vec<&Shape> = inputs.iter().map(|&i| &g.node(i).shape).collect();
                let cost = layer_cost(node, &shapes, &in_tys, &unrolled, &cx)?;
                let depth = depth(&cost, period, speed);
                let first = last_in + depth;
                (cost, (first, first + chunks.saturating_sub(1)))
            }
            Mode::Rows => {
                let chunk = chunk_node(node, n);
                let shapes: Vec<Shape> = inputs.iter().map(|&i| chunk_shape(&g.node(i).shape, n)).collect();
                let refs: Vec<&Shape> = shapes.iter().collect();
                let cost = layer_cost(&chunk, &refs, &in_tys, &unrolled, &cx)?;
                let depth = depth(&cost, period, speed);
                (cost, (first_in + depth, last_in + depth))
            }
            Mode::Gather => {
                let data = &d.nodes[&inputs[0]];
                let cost = gather_cost(&in_tys, &node.out_ty()?, data.rows, data.row, n, &cx);
                let depth = depth(&cost, period, speed);
                let first = in_ready[0].1.max(in_ready[1].0) + depth;
                (cost, (first, (first + chunks.saturating_sub(1)).max(in_ready[1].1 + depth)))
            }
            Mode::Scatter => {
                let crate::ir::Layer::ScatterAdd(l) = &node.layer else {
                    return Err(EstimateError::Layer {
                        layer: node.name.clone(),
                        what: "is no scatter".into(),
                    });
                };
                let sum = l
                    .exact_type("result", &in_tys)
                    .map_err(|what| EstimateError::Layer { layer: node.name.clone(), what })?;
                let (cost, sums_ff) = scatter_cost(&in_tys, &sum, &node.out_ty()?, rn.rows, rn.row, n, &cx);
                held_ff = sums_ff;
                let depth = depth(&cost, period, speed);
                let first = last_in + depth + 1;
                (cost, (first, first + chunks.saturating_sub(1)))
            }
        };
        ready.insert(id, (first, last));
        let (_, regs) = pipeline::schedule(pipeline::Time::default(), &cost.stages, period, speed);
        let mut ff = regs.ff(cx.k.ff_per_bit) + held_ff;
        let mut cost = cost;
        ff += buffers(g, &d, id, &mut cost)?;
        if g.outputs().contains(&id) {
            latency = latency.max(last + 1);
        }
        let cycles = last.saturating_sub(first_in);
        let ii = d.process_cycles(g, id) as u64;
        layers.push(LayerEstimate::hls(node, "io_rows", clock_ns, cycles, ii, &cost, ff));
    }
    let sum = |f: fn(&LayerEstimate) -> u64| layers.iter().map(f).sum::<u64>();
    let total = Totals {
        latency_cycles: latency,
        latency_ns: latency as f64 * clock_ns,
        ii: d.ii as u64,
        dsp: sum(|l| l.dsp),
        lut: sum(|l| l.lut),
        ff: sum(|l| l.ff),
        bram18: sum(|l| l.bram18),
        uram: sum(|l| l.uram),
    };
    let assumptions = vec![
        format!(
            "Resource-optimized graph design (--edge-parallelism {n}): a dataflow region of one process per layer; \
             each row-wise layer is one copy of its operators for {n} rows, fed a chunk of {n} rows per cycle; \
             the II is the slowest process's loop count ({} cycles).",
            d.ii
        ),
        "Gathers keep the data in ram_1wnr tables (a bank per gathered row); scatters keep their exact sums in \
         registers; each stream is a FIFO as deep as its tensor has chunks. No synthesis calibrates this form."
            .to_string(),
        format!(
            "Multiplications by constant weights become DSPs, shift-and-add logic or nothing as {} does for the \
             operand widths; the clock uncertainty is {:.3} ns.",
            opts.tool.name(),
            clock_ns * u
        ),
    ];
    Ok(Estimate::new(part, clock_ns, clock_ns * u, opts.tool, "hls-csynth", total, layers, assumptions))
}

/// Cycles from a registered chunk in to its result registered out.
fn depth(cost: &LayerCost, period: f64, speed: f64) -> u64 {
    let (t, _) = pipeline::schedule(pipeline::Time::default(), &cost.stages, period, speed);
    t.cycle + u64::from(t.fill > 0.0) + 1
}

/// Adds the memory of node `id`'s output channels to `cost`; their flip-flops.
fn buffers(g: &LoweredGraph, d: &RowsDesign, id: NodeId, cost: &mut LayerCost) -> Result<f64, EstimateError> {
    let node = g.node(id);
    let rn = &d.nodes[&id];
    let w = u64::from(node.out_ty()?.width);
    let mut ff = 0.0;
    for ch in &d.channels[&id] {
        match ch.read {
            crate::arch::hls::Read::Output(_) => {}
            crate::arch::hls::Read::Layer { .. } if ch.stream => {
                let width = (d.parallelism * rn.row) as u64 * w;
                let depth = ch.depth as u64;
                if depth <= SRL_MAX_DEPTH {
                    cost.lut += width as f64 * depth.div_ceil(SRL_BITS) as f64;
                } else {
                    match rom_storage(depth, width) {
                        Storage::Bram => cost.bram18 += bram18_for(depth, width),
                        Storage::Lutram | Storage::Constants => cost.lut += lutrom_luts(depth, width),
                    }
                }
            }
            crate::arch::hls::Read::Layer { .. } => ff += 2.0 * (node.shape.elements() as u64 * w) as f64,
        }
    }
    Ok(ff)
}

/// A gather of `N` rows per cycle from a table of `n_rows` rows of `row` values.
fn gather_cost(
    tys: &[FixedType],
    out: &FixedType,
    n_rows: usize,
    row: usize,
    n: usize,
    cx: &Ctx,
) -> LayerCost {
    let k = &cx.k;
    let x = tys.first().copied().unwrap_or(*out);
    let (n64, row64, w) = (n as u64, row as u64, x.width);
    let depth = n_rows.div_ceil(n) as u64;
    let width = n64 * row64 * u64::from(w);
    let mut c = LayerCost::new(1);
    match rom_storage(depth, width) {
        Storage::Bram => c.bram18 += n64 * bram18_for(depth, width),
        Storage::Lutram | Storage::Constants => c.lut += n64 as f64 * lutrom_luts(depth, width),
    }
    let c_out = cast(&x, out, k);
    let values = n64 * row64;
    c.lut += values as f64 * (mux_lut(w, n64, k) + c_out.lut);
    c.stages.push(Stage::Rom { cycles: 1, ff_bits: n64 * width });
    c.stages.push(Stage::Comb {
        ns: f64::from(mux_levels(n64)) * k.delay.mux + c_out.delay,
        bits_in: values * u64::from(w),
    });
    c
}

/// A scatter of `N` message rows per cycle into `n_rows` sums of `row` values of type `sum`, and
/// the flip-flops of the sums.
fn scatter_cost(
    tys: &[FixedType],
    sum: &FixedType,
    out: &FixedType,
    n_rows: usize,
    row: usize,
    n: usize,
    cx: &Ctx,
) -> (LayerCost, f64) {
    let k = &cx.k;
    let (x, index) = match tys {
        [x, i] => (*x, *i),
        _ => (*sum, *sum),
    };
    let (n64, rows, sums) = (n as u64, n_rows as u64, (n_rows * row) as u64);
    let sel_bits = bit_len(rows.saturating_sub(1)).min(index.width);
    let mut c = LayerCost::new(1);
    c.lut += (rows * n64) as f64 * cmp_lut(sel_bits, k);
    c.lut += (sums * n64) as f64 * add_lut(sum.width, k);
    let c_out = cast(sum, out, k);
    let emitted = n64 * row as u64;
    c.lut += emitted as f64 * (mux_lut(sum.width, rows.div_ceil(n64), k) + c_out.lut);
    let bits_in = n64 * row as u64 * u64::from(x.width) + n64 * u64::from(index.width);
    let ns = add_delay(sel_bits, k) + k.delay.mux + f64::from(tree_depth(n64) + 1) * add_delay(sum.width, k);
    c.stages.push(Stage::Comb { ns, bits_in });
    (c, (sums * u64::from(sum.width)) as f64)
}
