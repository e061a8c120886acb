//! Compile-time estimates of latency, initiation interval and FPGA resources of the design our
//! backend emits for a validated graph, without running HLS.
//!
//! # What is predicted
//!
//! Every quantity predicts the **HLS C-synthesis (csynth) report** of the emitted project for the
//! `io_parallel` interface: latency in cycles (worst case) and in ns at the target clock, the
//! interval (II), DSP slices, LUTs, flip-flops, 18 Kb block RAMs and UltraRAMs. csynth is what most
//! public reference points give and what users see first; Vivado post-synthesis LUT counts are
//! typically well below csynth's (the test report in `tests/data/reports/hls4ml-test_report`:
//! 2,532 csynth vs 1,526 synthesized LUTs), DSP counts close to it. [`HlsTool`] chooses between
//! Vivado HLS and Vitis HLS (default), which treat small constant multiplications differently.
//!
//! # The design being modelled
//!
//! The top function is one pipeline; each layer is its own datapath whose arithmetic is that of
//! [`crate::ir::Layer`]. Weights are compile-time constants, so HLS sees constant multiplications
//! and removes pruned products. Per layer, `<layer>.rs` gives the cost formula; [`arith`] the
//! operator costs (constant multiplications, DSP tiling per DSP kind, adders, casts, ROMs);
//! [`pipeline`] places registers from operator delays and the clock; [`coeffs`] holds every
//! coefficient with its source. II is the largest reuse factor of a layer (II = R for both
//! strategies); the latency of a layer is the number of cycle boundaries its datapath adds.
//!
//! The estimator reads only the lowered IR ([`LoweredGraph`]) and the architecture decided for it
//! ([`crate::arch`]); it never panics.

mod activation;
pub mod arith;
mod batch_norm;
pub mod coeffs;
mod concatenate;
mod dense;
mod elementwise;
pub mod part;
pub mod pipeline;
mod quantize;
pub mod report;
mod reshape;
pub mod rtl;
mod softmax;
pub mod synth_report;
mod xml;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use coeffs::{Coeffs, HlsTool};
pub use part::{lookup as lookup_part, DspKind, Part};
pub use synth_report::{
    compare, compare_totals, read_project, read_report, Comparison, SynthReport, SynthReportError,
};

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
}

impl LayerCost {
    pub fn new(ii: u64) -> Self {
        LayerCost { ii: ii.max(1), ..Default::default() }
    }
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
    if !(clock_ns.is_finite() && clock_ns > 0.0) {
        return Err(EstimateError::BadClock(clock_ns));
    }
    let k = Coeffs::for_tool(opts.tool);
    let u = opts.clock_uncertainty.unwrap_or(k.clock_uncertainty);
    if !(0.0..1.0).contains(&u) {
        return Err(EstimateError::BadUncertainty(u));
    }
    let cx = Ctx { part, k };
    let period = clock_ns * (1.0 - u);
    let speed = part.speed_factor();

    let mut ends: BTreeMap<NodeId, Time> = BTreeMap::new();
    let mut layers = Vec::new();
    let mut latency = 0u64;
    for id in g.topo_order()? {
        let node = g.node(id);
        let inputs = g.inputs_of(id);
        let in_tys: Vec<FixedType> = inputs.iter().map(|&i| g.node(i).out_ty()).collect::<Result<_, _>>()?;
        let cost = layer_cost(g, id, &in_tys, &cx)?;
        let start = inputs.iter().filter_map(|i| ends.get(i)).fold(Time::default(), |a, &b| a.max(b));
        let (end, ff_bits) = pipeline::schedule(start, &cost.stages, period, speed);
        ends.insert(id, end);
        if g.outputs().contains(&id) {
            latency = latency.max(end.cycle);
        }
        let cycles = end.cycle - start.cycle;
        layers.push(LayerEstimate {
            name: node.name.clone(),
            kind: node.layer.qualified_kind(),
            reuse_factor: node.reuse_factor as u64,
            strategy: node.strategy.name().to_string(),
            latency_cycles: cycles,
            latency_ns: cycles as f64 * clock_ns,
            ii: cost.ii,
            dsp: cost.dsp,
            lut: cost.lut.round() as u64,
            ff: (ff_bits as f64 * cx.k.ff_per_bit).round() as u64,
            bram18: cost.bram18,
            uram: cost.uram,
        });
    }
    let sum = |f: fn(&LayerEstimate) -> u64| layers.iter().map(f).sum::<u64>();
    let total = Totals {
        latency_cycles: latency,
        latency_ns: latency as f64 * clock_ns,
        ii: crate::arch::hls::design_ii(g) as u64,
        dsp: sum(|l| l.dsp),
        lut: sum(|l| l.lut),
        ff: sum(|l| l.ff),
        bram18: sum(|l| l.bram18),
        uram: sum(|l| l.uram),
    };
    let (available, warnings) = fit(&total, part);
    Ok(Estimate {
        part: part.name.clone(),
        clock_ns,
        clock_uncertainty_ns: clock_ns * u,
        tool: opts.tool,
        stage: "hls-csynth",
        dsp_kind: part.dsp_kind,
        available,
        total,
        layers,
        warnings,
    })
}

fn layer_cost(
    g: &LoweredGraph,
    id: NodeId,
    in_tys: &[FixedType],
    cx: &Ctx,
) -> Result<LayerCost, EstimateError> {
    let node = g.node(id);
    let out = node.out_ty()?;
    let missing = || EstimateError::Layer { layer: node.name.clone(), what: "has no input".into() };
    let x = in_tys.first();
    Ok(match &node.layer {
        Layer::Input(_) => LayerCost::new(1),
        Layer::Reshape(_) => reshape::cost(x.ok_or_else(missing)?, &out, &node.shape, cx),
        Layer::Quantize(_) => quantize::cost(x.ok_or_else(missing)?, &out, &node.shape, cx),
        Layer::Dense(d) => dense::cost(d, x.ok_or_else(missing)?, &out, node.reuse_factor, node.strategy, cx),
        Layer::BatchNorm(b) => batch_norm::cost(b, x.ok_or_else(missing)?, &out, &node.shape, cx),
        Layer::Activation(a) => activation::cost(a, x.ok_or_else(missing)?, &out, &node.shape, cx),
        Layer::Softmax(s) => softmax::cost(s, x.ok_or_else(missing)?, &out, &node.shape, cx),
        Layer::Elementwise(e) => {
            elementwise::cost(e, x.ok_or_else(missing)?, in_tys.get(1), &out, &node.shape, cx)
        }
        Layer::Concatenate(c) => {
            let shapes: Vec<&crate::ir::Shape> = g.inputs_of(id).iter().map(|&i| &g.node(i).shape).collect();
            concatenate::cost(c, &shapes, in_tys, &out, cx)
        }
    })
}
