//! Estimates of the `io_stream` design ([`crate::arch::stream`]): every layer's datapath is costed
//! as in io_parallel for the node its process computes (one pixel for per-pixel layers, one
//! window for convolutions and pooling, the whole tensor for frame layers), its pipeline depth
//! placed by [`super::pipeline`], and the network is timed by the dataflow model
//! ([`crate::arch::dataflow`]) over [`FRAMES`] frames: the latency, the II and every FIFO's
//! maximum occupancy come from that run. FIFO depths follow [`FifoDepth`].
//!
//! Memory: a line buffer is `EH - 1` rows of the padded width, one memory per row of words of a
//! pixel; an upsampling row buffer one memory of the input width; a FIFO of `depth` words of a
//! pixel's bits is a shift register (SRL) when `depth <= 2` or `depth * bits <= 1024` (Vitis HLS
//! `config_storage fifo` defaults `auto_srl_max_depth` 2 and `auto_srl_max_bits` 1024, UG1399),
//! a RAM otherwise, in block RAM by [`crate::arch::hls::rom_storage`]'s rule, else LUTRAM.

use std::collections::BTreeMap;

use serde::Serialize;

use super::arith::{lutrom_luts, mux_lut};
use super::pipeline::{self, Time};
use super::{
    conv, layer_cost, pool, tensor_bits, Ctx, Estimate, EstimateError, LayerCost, LayerEstimate, Options,
    Setup, Totals,
};
use crate::arch::dataflow::{self, DataflowError};
use crate::arch::hls::{bram18_for, rom_storage, LayerDesign, Storage};
use crate::arch::stream::{self, Form, StreamLayer};
use crate::estimate::Part;
use crate::fixed::FixedType;
use crate::ir::{Layer, LoweredGraph, NodeId, Shape};

/// Frames the dataflow model runs: the II is the distance between the last two.
pub const FRAMES: usize = 3;
/// Largest SRL FIFO in bits and depth always kept in SRLs (`config_storage fifo` defaults).
const SRL_MAX_BITS: u64 = 1024;
const SRL_MAX_DEPTH: u64 = 2;

/// How FIFO depths are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FifoDepth {
    /// Each FIFO's maximum occupancy in the dataflow model (at least 1): the schedule never blocks.
    #[default]
    Auto,
    /// Each FIFO as deep as its tensor has pixels (hls4ml's default), or its peak occupancy when
    /// that is larger (a one-pixel tensor streamed every cycle needs two places): never blocks.
    Max,
    /// Every FIFO this deep; the model then times the design with writes blocking.
    Fixed(u64),
}

impl std::str::FromStr for FifoDepth {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(FifoDepth::Auto),
            "max" => Ok(FifoDepth::Max),
            n => match n.parse::<u64>() {
                Ok(d) if d >= 1 => Ok(FifoDepth::Fixed(d)),
                _ => Err(format!("'{s}' is not a FIFO depth: give auto, max or a number of at least 1")),
            },
        }
    }
}

impl std::fmt::Display for FifoDepth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FifoDepth::Auto => write!(f, "auto"),
            FifoDepth::Max => write!(f, "max"),
            FifoDepth::Fixed(d) => write!(f, "{d}"),
        }
    }
}

/// The memory of one buffer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Memory {
    /// `srl`, `lutram` or `bram`.
    pub storage: &'static str,
    pub bits: u64,
    pub lut: u64,
    pub bram18: u64,
}

impl Memory {
    /// A FIFO of `depth` words of `width` bits.
    pub fn fifo(depth: u64, width: u64) -> Memory {
        let bits = depth * width;
        if depth <= SRL_MAX_DEPTH || bits <= SRL_MAX_BITS {
            // SRL32: one LUT per bit per 32 words.
            return Memory { storage: "srl", bits, lut: width * depth.div_ceil(32), bram18: 0 };
        }
        Memory::ram(depth, width)
    }

    /// A RAM of `depth` words of `width` bits.
    pub fn ram(depth: u64, width: u64) -> Memory {
        let bits = depth * width;
        match rom_storage(depth, width) {
            Storage::Bram => Memory { storage: "bram", bits, lut: 0, bram18: bram18_for(depth, width) },
            Storage::Lutram | Storage::Constants => {
                Memory { storage: "lutram", bits, lut: lutrom_luts(depth, width) as u64, bram18: 0 }
            }
        }
    }
}

/// One FIFO between two processes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fifo {
    /// `writer -> reader`.
    pub name: String,
    /// Bits of one pixel.
    pub width: u64,
    /// Pixels of the tensor per frame.
    pub transfers: u64,
    /// The largest number of pixels the model saw in it.
    pub occupancy: u64,
    pub depth: u64,
    pub memory: Memory,
    /// The memory at the `max` depth.
    pub max_memory: Memory,
}

/// The FIFOs of the design, for `report.json` (`stream`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamSummary {
    /// `auto`, `max` or the fixed depth.
    pub fifo_depth: String,
    pub fifos: Vec<Fifo>,
    /// Sums over the FIFOs at the chosen depths and at the `max` depths.
    pub fifo_bits: u64,
    pub fifo_lut: u64,
    pub fifo_bram18: u64,
    pub max_fifo_bits: u64,
    pub max_fifo_lut: u64,
    pub max_fifo_bram18: u64,
}

impl StreamSummary {
    /// Every channel's depth in [`stream::Design::channels`] order (ports: 0), for the emitter.
    pub fn depths(&self, design: &stream::Design) -> Vec<u64> {
        let mut fifos = self.fifos.iter();
        design
            .channels
            .iter()
            .map(|c| if c.is_port() { 0 } else { fifos.next().map_or(1, |f| f.depth) })
            .collect()
    }
}

/// The cost of one layer's process, its cycles of datapath and its flip-flops.
fn process_cost(
    g: &LoweredGraph,
    id: NodeId,
    l: &StreamLayer,
    cx: &Ctx,
    period: f64,
    speed: f64,
) -> Result<(LayerCost, u64, f64), EstimateError> {
    let node = &l.node;
    let x = g.inputs_of(id).first().map(|&i| g.node(i).out_ty()).transpose()?;
    let out = node.out_ty()?;
    let missing = || EstimateError::Layer { layer: node.name.clone(), what: "has no input".into() };
    let mut ff_bits = 0;
    let mut cost = match (&l.form, &node.layer) {
        (Form::Window(w), Layer::Conv(cv)) => {
            let unrolled = LayerDesign { kernel: crate::arch::hls::Kernel::Unrolled, roms: Vec::new() };
            let mut c = conv::cost(cv, &x.ok_or_else(missing)?, &out, &unrolled, cx);
            let r = l.ii.max(1) as u64;
            if r > 1 {
                let operands = (cv.filters() * cv.window()) as u64;
                c.dsp = c.dsp.div_ceil(r);
                c.lut = c.lut / r as f64 + operands.div_ceil(r) as f64 * mux_lut(16, r, &cx.k);
            }
            line_buffer(&mut c, &mut ff_bits, w, l.input_shapes[0].channels(), x.map_or(0, |t| t.width));
            c
        }
        (Form::Window(w), Layer::Pool(p)) => {
            let x = x.ok_or_else(missing)?;
            let mut c = pool::cost(p, &x, &out, &Shape::new([1, 1, node.shape.channels()]), cx);
            line_buffer(&mut c, &mut ff_bits, w, node.shape.channels(), x.width);
            c
        }
        (Form::Pad(_), _) => LayerCost::new(1),
        (Form::UpSample(u), _) => {
            let mut c = LayerCost::new(1);
            let width = (node.shape.channels() as u64) * u64::from(x.map_or(0, |t| t.width));
            let m = Memory::ram(u.in_width as u64, width);
            c.lut += m.lut as f64;
            c.bram18 += m.bram18;
            c
        }
        (Form::Window(_), _) => {
            return Err(EstimateError::Layer { layer: node.name.clone(), what: "slides no window".into() })
        }
        (Form::Map | Form::Frame, _) => {
            let in_tys: Vec<FixedType> =
                g.inputs_of(id).iter().map(|&i| g.node(i).out_ty()).collect::<Result<_, _>>()?;
            let shapes: Vec<&Shape> = l.input_shapes.iter().collect();
            layer_cost(node, &shapes, &in_tys, &l.design, cx)?
        }
    };
    let mut out_regs = 0.0;
    if matches!(l.form, Form::Frame) {
        for i in g.inputs_of(id) {
            ff_bits += tensor_bits(g, i)?;
        }
        ff_bits += tensor_bits(g, id)?;
    } else {
        out_regs =
            cx.k.ff_per_stream_out_bit * (l.node.shape.channels() as u64 * u64::from(out.width)) as f64;
    }
    let (t, regs) = pipeline::schedule(Time::default(), &cost.stages, period, speed);
    let cycles = (t.cycle + u64::from(t.fill > 0.0)).max(1);
    cost.ii = l.ii.max(1) as u64;
    Ok((cost, cycles, regs.ff(cx.k.ff_per_bit) + ff_bits as f64 + out_regs))
}

/// Adds a line buffer's memory (one RAM per buffered row) and its window registers.
fn line_buffer(c: &mut LayerCost, ff_bits: &mut u64, w: &stream::Window, channels: usize, bits: u32) {
    let (eh, ew) = w.extent();
    let (_, wp) = w.padded();
    let word = channels as u64 * u64::from(bits);
    for _ in 1..eh {
        let m = Memory::ram(wp as u64, word);
        c.lut += m.lut as f64;
        c.bram18 += m.bram18;
    }
    *ff_bits += (eh * ew) as u64 * word;
}

/// Estimates the io_stream design of `g` with FIFO depths `fifo`.
pub fn estimate(
    g: &LoweredGraph,
    part: &Part,
    clock_ns: f64,
    opts: &Options,
    fifo: FifoDepth,
) -> Result<(Estimate, StreamSummary), EstimateError> {
    let Setup { cx, u, period, speed } = Setup::new(part, clock_ns, opts)?;
    let design = stream::design(g)?;

    let mut costs = BTreeMap::new();
    let mut depth = BTreeMap::new();
    for (&id, l) in &design.layers {
        let (cost, cycles, ff_bits) = process_cost(g, id, l, &cx, period, speed)?;
        depth.insert(id, cycles);
        costs.insert(id, (cost, ff_bits));
    }
    let timed = |capacity: &[Option<u64>]| -> Result<(dataflow::Network, dataflow::Timing), EstimateError> {
        let net = stream::network(g, &design, &depth, capacity);
        let timing = dataflow::run(&net, FRAMES).map_err(|e| match e {
            DataflowError::Deadlock { .. } => EstimateError::Layer {
                layer: "FIFO depths".into(),
                what: format!("{e}; give deeper FIFOs (--fifo-depth auto)"),
            },
            DataflowError::Malformed(m) => EstimateError::Layer { layer: "io_stream design".into(), what: m },
        })?;
        Ok((net, timing))
    };
    let unbounded: Vec<Option<u64>> = vec![None; design.channels.len()];
    let (_, free) = timed(&unbounded)?;
    let transfers = |k: usize| design.tensors[&design.channels[k].tensor].transfers as u64;
    let depths: Vec<u64> = (0..design.channels.len())
        .map(|k| match fifo {
            FifoDepth::Auto => free.occupancy[k].max(1),
            FifoDepth::Max => transfers(k).max(free.occupancy[k]).max(1),
            FifoDepth::Fixed(d) => d,
        })
        .collect();
    let capacity: Vec<Option<u64>> =
        design.channels.iter().zip(&depths).map(|(c, &d)| (!c.is_port()).then_some(d)).collect();
    let (net, timing) = timed(&capacity)?;

    let mut fifos = Vec::new();
    for (k, c) in design.channels.iter().enumerate() {
        if c.is_port() {
            continue;
        }
        let node = g.node(c.tensor);
        let width = design.tensors[&c.tensor].width as u64 * u64::from(node.out_ty()?.width);
        fifos.push(Fifo {
            name: net.streams[k].name.clone(),
            width,
            transfers: transfers(k),
            occupancy: timing.occupancy[k],
            depth: depths[k],
            memory: Memory::fifo(depths[k], width),
            max_memory: Memory::fifo(transfers(k).max(free.occupancy[k]).max(1), width),
        });
    }
    let sum = |f: fn(&Fifo) -> u64| fifos.iter().map(f).sum::<u64>();
    let summary = StreamSummary {
        fifo_depth: fifo.to_string(),
        fifo_bits: sum(|f| f.memory.bits),
        fifo_lut: sum(|f| f.memory.lut),
        fifo_bram18: sum(|f| f.memory.bram18),
        max_fifo_bits: sum(|f| f.max_memory.bits),
        max_fifo_lut: sum(|f| f.max_memory.lut),
        max_fifo_bram18: sum(|f| f.max_memory.bram18),
        fifos,
    };

    // Process p of the network: sources first, then the layers in node order.
    let sources = g.inputs().len();
    let mut layers = Vec::new();
    let order: BTreeMap<NodeId, usize> =
        design.layers.keys().enumerate().map(|(k, &id)| (id, sources + k)).collect();
    // Per tensor, the bits of the pixels its streams (FIFOs and ports) carry.
    let mut stream_bits: BTreeMap<NodeId, u64> = BTreeMap::new();
    for c in &design.channels {
        let pixel = design.tensors[&c.tensor].width as u64 * u64::from(g.node(c.tensor).out_ty()?.width);
        *stream_bits.entry(c.tensor).or_default() += pixel;
    }
    // The FIFO crossings on the longest path from an input to an output.
    let mut hops: BTreeMap<NodeId, u64> = BTreeMap::new();
    for id in g.topo_order()? {
        let before = g.inputs_of(id).iter().filter_map(|i| hops.get(i)).max().copied();
        hops.insert(id, before.map_or(0, |h| h + 1));
    }
    let crossings = g.outputs().iter().filter_map(|o| hops.get(o)).max().map_or(0, |h| h + 1);
    for id in g.topo_order()? {
        let node = g.node(id);
        let (mut cost, mut ff_bits, cycles, ii) = match (costs.remove(&id), order.get(&id)) {
            (Some((cost, ff_bits)), Some(&p)) => {
                let span = timing.frame_end[p][0] + 1 - timing.frame_start[p][0];
                let own: u64 = net.processes[p].steps.iter().map(|s| u64::from(s.ii)).sum();
                (cost, ff_bits, span, own)
            }
            _ => (LayerCost::new(1), 0.0, 0, 1),
        };
        let streamed = stream_bits.get(&id).copied().unwrap_or(0) as f64;
        if matches!(node.layer, Layer::Input(_)) {
            // The input port's register (one pixel), as in io_parallel.
            ff_bits += streamed;
        }
        cost.lut += cx.k.lut_per_stream_bit * streamed;
        layers.push(LayerEstimate::hls(node, "io_stream", clock_ns, cycles, ii, &cost, ff_bits));
    }
    // As csynth counts it: from the first input pixel until every process is done with the frame
    // (an output may leave before the last input pixels, which no window uses, are read). The
    // model reads an item the cycle after its write and ends a frame the cycle after its last
    // event; csynth counts neither (the calibration points: 2 cycles for a dense layer and an
    // activation where the model counts 6), so each crossing on the longest path and the final
    // cycle come off, down to the span of the slowest process.
    let start = (0..sources).filter_map(|i| timing.frame_start[i].first()).min().copied().unwrap_or(0);
    let slowest = layers.iter().map(|l| l.latency_cycles).max().unwrap_or(0);
    let latency = timing
        .frame_end
        .iter()
        .filter_map(|f| f.first())
        .max()
        .map_or(0, |&end| (end - start).saturating_sub(crossings).max(slowest).max(1));
    let ii = (0..net.processes.len()).filter_map(|p| timing.interval(p)).max().unwrap_or(0);
    let lsum = |f: fn(&LayerEstimate) -> u64| layers.iter().map(f).sum::<u64>();
    let total = Totals {
        latency_cycles: latency,
        latency_ns: latency as f64 * clock_ns,
        ii,
        dsp: lsum(|l| l.dsp),
        lut: lsum(|l| l.lut) + summary.fifo_lut,
        ff: lsum(|l| l.ff),
        bram18: lsum(|l| l.bram18) + summary.fifo_bram18,
        uram: lsum(|l| l.uram),
    };
    let assumptions = assumptions(&summary, opts.tool.name(), clock_ns * u);
    let mut est =
        Estimate::new(part, clock_ns, clock_ns * u, opts.tool, "hls-csynth", total, layers, assumptions);
    est.stream = Some(summary.clone());
    Ok((est, summary))
}

fn assumptions(s: &StreamSummary, tool: &str, uncertainty_ns: f64) -> Vec<String> {
    vec![
        format!(
            "io_stream: the top is a dataflow region with ap_ctrl_chain, one process per layer connected by FIFOs of \
             pixels; latency and II come from a cycle-level model of every process's loop ({FRAMES} frames, inputs \
             arriving one pixel per cycle, outputs drained one pixel per cycle), with each process's pipeline depth \
             from its datapath; handshake and loop-entry cycles are not counted, nor the cycle a FIFO item \
             waits before its reader sees it (csynth does not count it)."
        ),
        format!(
            "FIFO depths: {} ({} bits, {} LUT, {} BRAM18; with every FIFO as deep as its tensor or its peak occupancy if larger ('max'): {} bits, {} LUT, \
             {} BRAM18). A FIFO is a shift register up to depth {SRL_MAX_DEPTH} or {SRL_MAX_BITS} bits, a RAM \
             otherwise (Vitis HLS config_storage fifo defaults).",
            s.fifo_depth, s.fifo_bits, s.fifo_lut, s.fifo_bram18, s.max_fifo_bits, s.max_fifo_lut, s.max_fifo_bram18
        ),
        "Convolutions read one padded position per reuse-factor cycles through line buffers (one RAM per buffered \
         row); at reuse factor R the loop's II = R lets the tool share the window's multipliers R ways."
            .to_string(),
        format!(
            "Multiplications by constant weights become DSPs, shift-and-add logic or nothing (zeros, powers of two) as \
             {tool} does for the operand widths; the clock uncertainty is {uncertainty_ns:.3} ns."
        ),
    ]
}
