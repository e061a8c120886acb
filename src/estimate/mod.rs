//! Compile-time estimates of latency, initiation interval and FPGA resources of the design our
//! backend emits for a validated graph, without running HLS.
//!
//! # What is predicted
//!
//! Every quantity predicts the **HLS C-synthesis (csynth) report** of the emitted project for the
//! `io_parallel` interface ([`stream`] for io_stream): latency in cycles (worst case) and in ns at the target clock, the
//! interval (II), DSP slices, LUTs, flip-flops, 18 Kb block RAMs and UltraRAMs. csynth is what most
//! public reference points give and what users see first; Vivado post-synthesis LUT counts are
//! typically well below csynth's (the test report in `tests/data/reports/hls4ml-test_report`:
//! 2,532 csynth vs 1,526 synthesized LUTs), DSP counts close to it. [`HlsTool`] chooses between
//! Vivado HLS and Vitis HLS (default), which differ in constant multiplications, adder and
//! comparison LUTs, pipeline registers, ROM reads and stream logic ([`coeffs`]). Layers of a kind
//! no calibration point covers are flagged ([`calibrated`], [`LayerEstimate::calibrated`]).
//! io_parallel estimates also predict the design after logic synthesis ([`AfterSynthesis`]) where
//! they can: the DSP products beyond the part's DSPs built in LUTs, and for Vivado HLS the LUTs
//! scaled to synthesized ones by a coefficient three public pairs of reports calibrate.
//!
//! # The design being modelled
//!
//! The design is the one [`crate::arch::hls::design`] decides and the HLS backend emits: with
//! every reuse factor 1 the top function is one pipeline and a layer's latency is the number of
//! cycle boundaries its datapath adds to the chain; otherwise the top is a dataflow region whose
//! processes each take their own datapath's cycles (at least one) and whose channels are
//! ping-pong buffers. Each layer's arithmetic is that of [`crate::ir::Layer`]; unrolled weights
//! are compile-time constants, so HLS sees constant multiplications and removes pruned products;
//! a multiplexed dense layer shares `n_out · n_in / R` multipliers over `R` steps. Per layer,
//! `<layer>.rs` gives the cost formula; [`arith`] the operator costs (constant multiplications,
//! DSP tiling per DSP kind, adders, casts, LUT ROMs); [`pipeline`] places registers from operator
//! delays and the clock; [`coeffs`] holds every coefficient with its source. II is the design's
//! (the largest reuse factor). [`Estimate::assumptions`] states what is assumed of the tool.
//!
//! The estimator reads only the lowered IR ([`LoweredGraph`]) and the architecture decided for it
//! ([`crate::arch`]); it never panics.

mod activation;
pub mod arith;
mod batch_norm;
pub mod calibrated;
pub mod coeffs;
mod concatenate;
mod conv;
mod dense;
mod elementwise;
mod gather_rows;
mod pad;
pub mod part;
pub mod pipeline;
mod pool;
mod quantize;
mod reduce;
pub mod report;
mod reshape;
pub mod rows;
pub mod rtl;
pub mod rtl_stream;
mod scatter_add;
mod softmax;
pub mod stream;
pub mod synth_report;
mod transpose;
mod upsample;
mod xml;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use coeffs::{Coeffs, HlsTool};
pub use part::{lookup as lookup_part, DspKind, Part};
pub use synth_report::{
    compare, compare_totals, read_project, read_report, Comparison, SynthReport, SynthReportError,
};

use crate::arch::hls::{self, Schedule};
use crate::fixed::FixedType;
use crate::ir::{IrError, Layer, LoweredGraph, NodeId};
use pipeline::{Stage, Time};

#[derive(Debug, Error)]
pub enum EstimateError {
    #[error("unknown part '{name}'; known parts: {known}")]
    UnknownPart { name: String, known: String },
    #[error("clock period must be a positive number of ns, got {0}")]
    BadClock(f64),
    #[error("clock uncertainty must be a fraction in [0, 1), got {0}")]
    BadUncertainty(f64),
    #[error("the graph is not ready for estimation: {0}")]
    Invalid(#[from] IrError),
    #[error(transparent)]
    Arch(#[from] crate::arch::ArchError),
    #[error("layer '{layer}': {what}")]
    Layer { layer: String, what: String },
}

/// Estimation settings beyond the part and the clock.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Options {
    pub tool: HlsTool,
    /// Clock uncertainty as a fraction of the period; the tool's default when `None`.
    pub clock_uncertainty: Option<f64>,
}

/// One layer's estimate. Field names are the `report.json` keys (see [`report`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerEstimate {
    pub name: String,
    pub kind: String,
    /// The output shape, extents joined by `×` (height × width × channels).
    pub shape: String,
    pub reuse_factor: u64,
    pub strategy: String,
    pub latency_cycles: u64,
    pub latency_ns: f64,
    pub ii: u64,
    pub dsp: u64,
    pub lut: u64,
    pub ff: u64,
    pub bram18: u64,
    pub uram: u64,
    /// HLS estimates: whether a calibration point covers this layer's kind in its io type,
    /// strategy and reuse class, or its estimate is all zero ([`calibrated`]); `false` marks
    /// numbers that come from the cost model alone. Absent for the RTL model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calibrated: Option<bool>,
}

impl LayerEstimate {
    /// The estimate of `node`'s layer in the `io` design (`io_parallel`, `io_stream`), flagged
    /// as [`LayerEstimate::calibrated`] says.
    pub(crate) fn hls(
        node: &crate::ir::Node,
        io: &str,
        clock_ns: f64,
        cycles: u64,
        ii: u64,
        cost: &LayerCost,
        ff: f64,
    ) -> Self {
        LayerEstimate {
            name: node.name.clone(),
            kind: node.layer.qualified_kind(),
            shape: node.shape.extents(),
            reuse_factor: node.reuse_factor as u64,
            strategy: node.strategy.name().to_string(),
            latency_cycles: cycles,
            latency_ns: cycles as f64 * clock_ns,
            ii,
            dsp: cost.dsp,
            lut: cost.lut.round() as u64,
            ff: ff.round() as u64,
            bram18: cost.bram18,
            uram: cost.uram,
            calibrated: None,
        }
        .with_calibration(io)
    }

    fn with_calibration(mut self, io: &str) -> Self {
        let zero = [self.latency_cycles, self.dsp, self.lut, self.ff, self.bram18, self.uram]
            .iter()
            .all(|&v| v == 0);
        let covered = calibrated::is_calibrated(io, &self.strategy, self.reuse_factor, &self.kind);
        self.calibrated = Some(zero || covered);
        self
    }
}

/// Design totals: resources add up; latency is that of the longest path; II is the largest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub latency_cycles: u64,
    pub latency_ns: f64,
    pub ii: u64,
    pub dsp: u64,
    pub lut: u64,
    pub ff: u64,
    pub bram18: u64,
    pub uram: u64,
}

/// What the part offers, for utilization percentages.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Available {
    pub dsp: u64,
    pub lut: u64,
    pub ff: u64,
    pub bram18: u64,
    pub uram: u64,
}

/// A resource the design needs more of than the part has.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitWarning {
    pub resource: String,
    pub used: u64,
    pub available: u64,
}

impl std::fmt::Display for FitWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pct = if self.available == 0 {
            f64::INFINITY
        } else {
            100.0 * self.used as f64 / self.available as f64
        };
        write!(f, "{} {} exceeds the part's {} ({pct:.0} %)", self.resource, self.used, self.available)
    }
}

/// The estimate of a whole design. Serializes to the `report.json` schema of [`report`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    pub part: String,
    pub clock_ns: f64,
    pub clock_uncertainty_ns: f64,
    pub tool: HlsTool,
    /// `hls-csynth` for the HLS design (the report stage the numbers predict), `rtl-model` for the
    /// RTL backend's design ([`rtl`]).
    pub stage: &'static str,
    pub dsp_kind: DspKind,
    pub available: Available,
    pub total: Totals,
    pub layers: Vec<LayerEstimate>,
    pub warnings: Vec<FitWarning>,
    /// What the estimate assumes about the tool and the design, one sentence each.
    pub assumptions: Vec<String>,
    /// The io_stream design's FIFOs (absent for io_parallel and the RTL backend).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<stream::StreamSummary>,
    /// The RTL design's timing model (absent for the HLS designs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timing: Option<crate::arch::timing::TimingSummary>,
    /// The design after logic synthesis, when the tool's coefficients predict it or the DSPs do not
    /// fit the part.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_synthesis: Option<AfterSynthesis>,
}

/// The design after Vivado logic synthesis: limited to the part's DSPs (`-max_dsp`, the part's
/// count by default), it builds `moved` of the `asked` DSP products as shift-and-add logic of
/// `lut_added` csynth LUTs, each layer giving up the same share of its DSPs; `lut_scale`, where a
/// pair of reports calibrates it ([`coeffs::Coeffs::synth_lut_per_csynth_lut`]), turns csynth LUTs
/// into synthesized ones (1 where none does).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AfterSynthesis {
    pub asked: u64,
    pub moved: u64,
    pub lut_added: u64,
    pub lut_scale: f64,
    /// The design's DSPs and LUTs after logic synthesis.
    pub dsp: u64,
    pub lut: u64,
}

impl Estimate {
    /// An estimate of `total` over `layers` on `part`, with the part's fit of the totals; `stage`
    /// names the report it predicts, `uncertainty_ns` the clock uncertainty it assumed.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        part: &Part,
        clock_ns: f64,
        uncertainty_ns: f64,
        tool: HlsTool,
        stage: &'static str,
        total: Totals,
        layers: Vec<LayerEstimate>,
        assumptions: Vec<String>,
    ) -> Estimate {
        let (available, warnings) = fit(&total, part);
        Estimate {
            part: part.name.clone(),
            clock_ns,
            clock_uncertainty_ns: uncertainty_ns,
            tool,
            stage,
            dsp_kind: part.dsp_kind,
            available,
            total,
            layers,
            warnings,
            assumptions,
            stream: None,
            timing: None,
            after_synthesis: None,
        }
    }
}

/// What every estimate derives from the part, the clock and the options.
pub(crate) struct Setup<'a> {
    pub cx: Ctx<'a>,
    /// Clock uncertainty, a fraction of the period.
    pub u: f64,
    /// Usable ns per cycle.
    pub period: f64,
    pub speed: f64,
}

impl<'a> Setup<'a> {
    pub fn new(part: &'a Part, clock_ns: f64, opts: &Options) -> Result<Self, EstimateError> {
        if !(clock_ns.is_finite() && clock_ns > 0.0) {
            return Err(EstimateError::BadClock(clock_ns));
        }
        let k = Coeffs::for_tool(opts.tool);
        let u = opts.clock_uncertainty.unwrap_or(k.clock_uncertainty);
        if !(0.0..1.0).contains(&u) {
            return Err(EstimateError::BadUncertainty(u));
        }
        Ok(Setup { cx: Ctx { part, k }, u, period: clock_ns * (1.0 - u), speed: part.speed_factor() })
    }
}

/// Bits of the tensor `id` produces.
pub(crate) fn tensor_bits(g: &LoweredGraph, id: NodeId) -> Result<u64, EstimateError> {
    let node = g.node(id);
    Ok(node.shape.elements() as u64 * u64::from(node.out_ty()?.width))
}

/// Evaluation context shared by the per-layer cost functions.
pub(crate) struct Ctx<'a> {
    pub part: &'a Part,
    pub k: Coeffs,
}

/// A layer's cost before scheduling.
#[derive(Debug, Clone, Default)]
pub(crate) struct LayerCost {
    pub dsp: u64,
    pub lut: f64,
    pub bram18: u64,
    pub uram: u64,
    pub ii: u64,
    pub stages: Vec<Stage>,
    /// The LUTs the layer's DSP products would take as shift-and-add logic ([`after_synthesis`]).
    pub dsp_in_fabric_lut: f64,
}

impl LayerCost {
    pub fn new(ii: u64) -> Self {
        LayerCost { ii: ii.max(1), ..Default::default() }
    }

    /// The cost of `copies` copies working side by side (a row-wise Dense on every row).
    pub fn replicated(mut self, copies: u64) -> Self {
        let n = copies.max(1);
        self.dsp *= n;
        self.lut *= n as f64;
        self.bram18 *= n;
        self.uram *= n;
        self.dsp_in_fabric_lut *= n as f64;
        for s in &mut self.stages {
            match s {
                Stage::Comb { bits_in, .. } => *bits_in *= n,
                Stage::Fixed { ff_bits, .. } | Stage::Rom { ff_bits, .. } => *ff_bits *= n,
            }
        }
        self
    }
}

/// The design after logic synthesis ([`AfterSynthesis`]): the DSP products beyond the part's
/// `available` DSPs built in LUTs, each layer giving up the same share of its DSPs (rounded up) and
/// taking that share of its [`LayerCost::dsp_in_fabric_lut`], and the LUTs scaled by `lut_scale`.
/// `None` when the DSPs fit and no scale is known: the csynth totals are then the prediction.
fn after_synthesis(
    layers: &[LayerEstimate],
    fabric_lut: &[f64],
    available: u64,
    lut_scale: Option<f64>,
) -> Option<AfterSynthesis> {
    let asked: u64 = layers.iter().map(|l| l.dsp).sum();
    if asked <= available && lut_scale.is_none() {
        return None;
    }
    let share = asked.saturating_sub(available) as f64 / asked.max(1) as f64;
    let (mut moved, mut added) = (0, 0);
    for (l, &lut) in layers.iter().zip(fabric_lut) {
        if l.dsp == 0 || share == 0.0 {
            continue;
        }
        let m = ((l.dsp as f64 * share).ceil() as u64).min(l.dsp);
        moved += m;
        added += (lut * m as f64 / l.dsp as f64).round() as u64;
    }
    let csynth_lut: u64 = layers.iter().map(|l| l.lut).sum();
    let scale = lut_scale.unwrap_or(1.0);
    Some(AfterSynthesis {
        asked,
        moved,
        lut_added: added,
        lut_scale: scale,
        dsp: asked - moved,
        lut: ((csynth_lut + added) as f64 * scale).round() as u64,
    })
}

/// What `part` offers, and a warning for each resource `total` exceeds.
pub(crate) fn fit(total: &Totals, part: &Part) -> (Available, Vec<FitWarning>) {
    let available =
        Available { dsp: part.dsp, lut: part.lut, ff: part.ff, bram18: part.bram18, uram: part.uram };
    let warnings = [
        ("DSP", total.dsp, part.dsp),
        ("LUT", total.lut, part.lut),
        ("FF", total.ff, part.ff),
        ("BRAM18", total.bram18, part.bram18),
        ("URAM", total.uram, part.uram),
    ]
    .into_iter()
    .filter(|&(_, used, avail)| used > avail)
    .map(|(r, used, available)| FitWarning { resource: r.to_string(), used, available })
    .collect();
    (available, warnings)
}

/// Estimates `g` on `part` at `clock_ns` for Vitis HLS with its default clock uncertainty.
pub fn estimate(g: &LoweredGraph, part: &Part, clock_ns: f64) -> Result<Estimate, EstimateError> {
    estimate_with(g, part, clock_ns, &Options::default())
}

/// Estimates `g` with explicit [`Options`].
pub fn estimate_with(
    g: &LoweredGraph,
    part: &Part,
    clock_ns: f64,
    opts: &Options,
) -> Result<Estimate, EstimateError> {
    let Setup { cx, u, period, speed } = Setup::new(part, clock_ns, opts)?;
    let design = hls::design(g)?;
    let dataflow = design.schedule == Schedule::Dataflow;

    let mut ends: BTreeMap<NodeId, Time> = BTreeMap::new();
    let mut layers = Vec::new();
    let mut fabric_lut = Vec::new();
    let mut latency = 0u64;
    for id in g.topo_order()? {
        let node = g.node(id);
        let inputs = g.inputs_of(id);
        let in_tys: Vec<FixedType> = inputs.iter().map(|&i| g.node(i).out_ty()).collect::<Result<_, _>>()?;
        let start = inputs.iter().filter_map(|i| ends.get(i)).fold(Time::default(), |a, &b| a.max(b));
        let (cost, end, mut ff_bits) = match design.layers.get(&id) {
            None => (LayerCost::new(1), start, 0.0),
            Some(ld) => {
                let shapes: Vec<&crate::ir::Shape> = inputs.iter().map(|&i| &g.node(i).shape).collect();
                let cost = layer_cost(node, &shapes, &in_tys, ld, &cx)?;
                if dataflow {
                    // A process of its own: its datapath from a registered start, its output
                    // registered into its channel.
                    let (t, regs) = pipeline::schedule(Time::default(), &cost.stages, period, speed);
                    let own = (t.cycle + u64::from(t.fill > 0.0)).max(1);
                    (cost, Time { cycle: start.cycle + own, fill: 0.0 }, regs.ff(cx.k.ff_per_bit))
                } else {
                    let (end, regs) = pipeline::schedule(start, &cost.stages, period, speed);
                    (cost, end, regs.ff(cx.k.ff_per_bit))
                }
            }
        };
        let mut end = end;
        if matches!(node.layer, Layer::Input(_)) {
            // csynth counts the input ports' registers: the calibration points of depth 0
            // report the input bits plus two (18 FFs for one 16-bit input, 5,810 for 363).
            ff_bits += tensor_bits(g, id)? as f64;
        }
        if dataflow {
            ff_bits += channel_bits(g, &design, id)? as f64;
            if design.splits.contains_key(&id) {
                end.cycle += 1;
            }
        }
        ends.insert(id, end);
        if g.outputs().contains(&id) {
            latency = latency.max(end.cycle + u64::from(end.fill > 0.0 && dataflow));
        }
        let cycles = end.cycle - start.cycle;
        fabric_lut.push(cost.dsp_in_fabric_lut);
        layers.push(LayerEstimate::hls(node, "io_parallel", clock_ns, cycles, cost.ii, &cost, ff_bits));
    }
    let synthesized = after_synthesis(&layers, &fabric_lut, part.dsp, cx.k.synth_lut_per_csynth_lut);
    let sum = |f: fn(&LayerEstimate) -> u64| layers.iter().map(f).sum::<u64>();
    let total = Totals {
        latency_cycles: latency,
        latency_ns: latency as f64 * clock_ns,
        ii: design.ii as u64,
        dsp: sum(|l| l.dsp),
        lut: sum(|l| l.lut),
        ff: sum(|l| l.ff),
        bram18: sum(|l| l.bram18),
        uram: sum(|l| l.uram),
    };
    let mut assumptions = assumptions(g, &design, opts.tool, clock_ns * u);
    if let Some(a) = &synthesized {
        if a.moved > 0 {
            assumptions.push(format!(
                "The constant multiplications take {} DSP slices, more than the part's {}; the totals \
                 keep that demand, as C synthesis reports it. Logic synthesis, limited to the part's \
                 DSPs, would build {} of them in LUTs as shift-and-add logic (about +{} csynth LUTs, \
                 the share of each layer alike): the 'after logic synthesis' row.",
                a.asked, part.dsp, a.moved, a.lut_added
            ));
        }
        if a.lut_scale != 1.0 {
            assumptions.push(format!(
                "The 'after logic synthesis' row counts {:.3} synthesized LUTs per csynth LUT, the \
                 geometric mean of the three Vivado HLS 2020.1 designs whose csynth and Vivado \
                 synthesis reports are both public (0.45 to 0.60); its DSPs are csynth's, within the \
                 part.",
                a.lut_scale
            ));
        }
    }
    let mut est =
        Estimate::new(part, clock_ns, clock_ns * u, opts.tool, "hls-csynth", total, layers, assumptions);
    est.after_synthesis = synthesized;
    Ok(est)
}

/// Flip-flops of the ping-pong channels a tensor occupies in a dataflow design: two copies of
/// its bits per channel (the array written by its process, and one per copy a split makes for a
/// layer), none for the top's ports.
fn channel_bits(g: &LoweredGraph, design: &hls::Design, id: NodeId) -> Result<u64, EstimateError> {
    let node = g.node(id);
    let bits = tensor_bits(g, id)?;
    let layer_reads =
        hls::reads(g, id).iter().filter(|r| matches!(r, hls::Read::Layer { .. })).count() as u64;
    let written_to_local = !matches!(node.layer, Layer::Input(_));
    let channels = if design.splits.contains_key(&id) {
        u64::from(written_to_local) + layer_reads
    } else {
        u64::from(written_to_local && layer_reads > 0)
    };
    Ok(2 * bits * channels)
}

/// What the estimate assumes the HLS tool does with the emitted design, in words for the report.
fn assumptions(g: &LoweredGraph, design: &hls::Design, tool: HlsTool, uncertainty_ns: f64) -> Vec<String> {
    let mut out = vec![match design.schedule {
        Schedule::Pipeline => "The top function is one pipeline with II = 1 and every layer inlined into it \
            (UG1399 \"Function Pipelining\": all loops below are unrolled). Operations chain within a cycle \
            while their delays fit the clock period minus the uncertainty; the values live at a cycle \
            boundary are registered."
            .to_string(),
        Schedule::Dataflow => format!(
            "The top function is a dataflow region with ap_ctrl_chain (some layer takes more than one cycle: \
             a convolution or a reuse factor > 1): \
             one process per layer, II = {} (the largest process interval). A process starts when all its \
             inputs are complete (ping-pong channels) and takes its own datapath's cycles, at least one \
             (its output is registered); no handshake cycles are added. Each channel costs twice its bits \
             in flip-flops (a ping-pong buffer of a completely partitioned array); a tensor read by several \
             processes or also an output passes a copy process of one cycle.",
            design.ii
        ),
    }];
    for (&id, l) in &design.layers {
        let node = g.node(id);
        let weights = match l.rom("weights") {
            Some(rom) => format!(
                "a ROM of {} words x {} bits in {}",
                rom.depth,
                rom.width,
                rom.storage.bind_impl().unwrap_or("registers")
            ),
            None => "constant multiplexers (Latency strategy)".to_string(),
        };
        let outputs = match &node.layer {
            Layer::Dense(d) => d.n_out(),
            Layer::Conv(c) => c.filters(),
            _ => 1,
        };
        match l.kernel {
            hls::Kernel::Unrolled => {}
            hls::Kernel::Multiplexed { reuse, per_cycle } => out.push(format!(
                "Layer '{}' runs {reuse} steps of {per_cycle} inputs (a loop pipelined with II = 1 and rewound, \
                 UG1399 \"Rewinding Pipelined Loops for Performance\"): {} shared multipliers, weights in {weights}.",
                node.name,
                per_cycle * outputs
            )),
            hls::Kernel::Sliding { positions, reuse, per_cycle } => out.push(format!(
                "Layer '{}' computes its {positions} output positions one after the other, {reuse} step(s) of \
                 {per_cycle} window inputs each (one loop pipelined with II = 1 and rewound): {} multipliers \
                 shared by every position{}, each window input read through a {}:1 multiplexer.",
                node.name,
                per_cycle * outputs,
                if reuse > 1 { format!(", weights in {weights}") } else { String::new() },
                positions * reuse
            )),
        }
    }
    out.push(format!(
        "ROMs read at variable addresses are LUTRAM up to {} bits or when block RAM would be less than {:.0} % full, \
         block RAM otherwise, replicated once per two reads per cycle (as bound by BIND_STORAGE in the emitted code).",
        hls::LUTRAM_MAX_BITS,
        100.0 * hls::BRAM_MIN_FILL
    ));
    out.push(format!(
        "Multiplications by constant weights become DSPs, shift-and-add logic or nothing (zeros, powers of two) as \
         {} does for the operand widths; the clock uncertainty is {uncertainty_ns:.3} ns.",
        tool.name()
    ));
    out
}

fn layer_cost(
    node: &crate::ir::Node,
    in_shapes: &[&crate::ir::Shape],
    in_tys: &[FixedType],
    design: &hls::LayerDesign,
    cx: &Ctx,
) -> Result<LayerCost, EstimateError> {
    let out = node.out_ty()?;
    let missing = || EstimateError::Layer { layer: node.name.clone(), what: "has no input".into() };
    let x = in_tys.first();
    Ok(match &node.layer {
        Layer::Input(_) => LayerCost::new(1),
        Layer::Reshape(_) => reshape::cost(x.ok_or_else(missing)?, &out, &node.shape, cx),
        Layer::Quantize(_) => quantize::cost(x.ok_or_else(missing)?, &out, &node.shape, cx),
        Layer::Dense(d) => {
            let rows = in_shapes.first().map_or(1, |s| d.rows(s)) as u64;
            dense::cost(d, x.ok_or_else(missing)?, &out, design, cx).replicated(rows)
        }
        Layer::BatchNorm(b) => batch_norm::cost(b, x.ok_or_else(missing)?, &out, &node.shape, cx),
        Layer::Activation(a) => activation::cost(a, x.ok_or_else(missing)?, &out, &node.shape, design, cx),
        Layer::Softmax(s) => softmax::cost(s, x.ok_or_else(missing)?, &out, &node.shape, design, cx),
        Layer::Elementwise(e) => elementwise::cost(e, in_tys, &out, &node.shape, cx),
        Layer::Conv(cv) => conv::cost(cv, x.ok_or_else(missing)?, &out, design, cx),
        Layer::Pool(p) => pool::cost(p, x.ok_or_else(missing)?, &out, &node.shape, cx),
        Layer::Pad(_) => pad::cost(x.ok_or_else(missing)?, &out, &node.shape, cx),
        Layer::UpSample(_) => upsample::cost(x.ok_or_else(missing)?, &out, &node.shape, cx),
        Layer::Transpose(_) => transpose::cost(x.ok_or_else(missing)?, &out, &node.shape, cx),
        Layer::Reduce(r) => reduce::cost(r, x.ok_or_else(missing)?, &out, &node.shape, design, cx),
        Layer::Concatenate(c) => concatenate::cost(c, in_shapes, in_tys, &out, cx),
        Layer::GatherRows(_) => match in_tys {
            [x, index] => gather_rows::cost(x, index, &out, in_shapes, &node.shape, cx),
            _ => return Err(missing()),
        },
        Layer::ScatterAdd(s) => match in_tys {
            [x, index] => scatter_add::cost(s, x, index, &out, &node.shape, cx),
            _ => return Err(missing()),
        },
    })
}
