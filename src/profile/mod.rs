//! Profiling a lowered model on calibration inputs: per layer and per tensor (weights, bias,
//! accumulator, output), the observed range, a log2-magnitude histogram, the casts that overflowed
//! the tensor's type and the bits of the type no value used; plus the agreement of the fixed-point
//! outputs with the `f64` reference ([`profile`]). [`auto`] proposes per-layer types from such a
//! profile; [`html`] renders it as a self-contained page.
//!
//! Contract:
//! * `output` statistics are over the bit-accurate simulator's trace of the layer (the values the
//!   firmware holds); `float_min`/`float_max` over the `f64` reference's trace of the layer of the
//!   same name, when the reference has one;
//! * `weight` and `bias` statistics are over the lowered (quantized) constants; their overflow
//!   count is the number of the reference model's values that do not fit the type;
//! * `accumulator` overflow counts are the simulator's; its values are, for Dense layers, the
//!   exact `bias + x·W` of every traced input (the simulator's own sums where its kernel has them,
//!   [`crate::sim::SimResult::dense_sums`], else summed here in `f64`) and left out for other
//!   layers;
//! * every number is a pure function of the model, the configuration and the inputs.

pub mod auto;
pub mod html;
pub mod svg;

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::Serialize;
use thiserror::Error;

use crate::estimate::Estimate;
use crate::fixed::{self, FixedType};
use crate::flow::FlowError;
use crate::ir::{Graph, ImportedGraph, Layer, LoweredGraph, NodeId};
use crate::sim::{LayerOverflow, RunOptions, SimError, SimResult, Simulator, TraceTensor};

#[derive(Debug, Error)]
pub enum ProfileError {
    #[error(transparent)]
    Sim(#[from] SimError),
    #[error(transparent)]
    Flow(#[from] FlowError),
    #[error("automatic precision: {0}")]
    Search(String),
}

/// Log2 histogram bins run over `[HIST_MIN, HIST_MAX]`; magnitudes outside fall in the end bins.
pub const HIST_MIN: i32 = -32;
pub const HIST_MAX: i32 = 32;

/// How the magnitudes of a tensor's values are spread: `bins[k]` counts the nonzero values with
/// `floor(log2 |v|) == HIST_MIN + k` (clamped into the range).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Histogram {
    pub zeros: u64,
    pub bins: Vec<u64>,
}

impl Histogram {
    fn new() -> Self {
        Histogram { zeros: 0, bins: vec![0; (HIST_MAX - HIST_MIN + 1) as usize] }
    }

    fn add(&mut self, v: f64) {
        if v == 0.0 {
            self.zeros += 1;
            return;
        }
        let e = floor_log2(v).clamp(HIST_MIN, HIST_MAX);
        self.bins[(e - HIST_MIN) as usize] += 1;
    }
}

/// `floor(log2 |v|)` as `v.abs().log2().floor()` computes it, for a nonzero `v`. A normal `v`
/// whose mantissa is at least `2^-30` away from both powers of two around it has `log2 |v|` that
/// far from an integer, so no rounding of `log2` can cross one and the exponent field is the
/// answer; other values (powers of two, subnormals, mantissas of nearly all ones) take `log2`.
fn floor_log2(v: f64) -> i32 {
    const MARGIN: u64 = 1 << 22;
    const MANTISSA: u64 = (1 << 52) - 1;
    let bits = v.to_bits();
    let (exponent, mantissa) = ((bits >> 52) & 0x7ff, bits & MANTISSA);
    if exponent != 0 && exponent != 0x7ff && (MARGIN..=MANTISSA - MARGIN).contains(&mantissa) {
        exponent as i32 - 1023
    } else {
        v.abs().log2().floor().clamp(i32::MIN as f64, i32::MAX as f64) as i32
    }
}

/// One tensor of one layer over the calibration inputs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TensorStats {
    /// `weight`, `bias`, `accumulator` or `output`.
    pub tensor: &'static str,
    /// The type the lowered model gives the tensor.
    pub ty: Option<FixedType>,
    /// `ty` as C++ spells it.
    pub type_name: Option<String>,
    /// Smallest and largest value the type holds.
    pub type_min: Option<f64>,
    pub type_max: Option<f64>,
    /// Number of values the statistics cover (0 when the values are not recorded).
    pub values: u64,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// The reference model's range of the same tensor.
    pub float_min: Option<f64>,
    pub float_max: Option<f64>,
    pub histogram: Histogram,
    /// Casts to `ty` that overflowed (saturated, wrapped or zeroed), of `casts`.
    pub overflows: Option<u64>,
    pub casts: Option<u64>,
    /// High bits of `ty` no value needed (sign included for signed types).
    pub unused_msb: Option<u32>,
    /// Low bits of `ty` that are zero in every value.
    pub unused_lsb: Option<u32>,
}

/// Estimated cost of one layer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerCost {
    pub lut: u64,
    pub dsp: u64,
    pub ff: u64,
    pub bram18: u64,
    pub latency_cycles: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerProfile {
    pub name: String,
    pub kind: String,
    /// True when the model itself fixed the output type (QKeras, QONNX, QDQ).
    pub type_from_model: bool,
    pub tensors: Vec<TensorStats>,
    pub cost: Option<LayerCost>,
}

/// One cast site of the simulator (see [`LayerOverflow`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OverflowRow {
    pub layer: String,
    pub kind: String,
    pub count: u64,
    pub casts: u64,
}

/// How the fixed-point outputs compare with the reference's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Agreement {
    /// Fraction of samples whose first output has the same argmax (`None` for one-value outputs).
    pub argmax: Option<f64>,
    /// Largest absolute difference over every output value.
    pub max_abs_error: f64,
}

/// Design totals of an estimate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostTotals {
    pub part: String,
    pub lut: u64,
    pub dsp: u64,
    pub ff: u64,
    pub bram18: u64,
    pub latency_cycles: u64,
}

impl CostTotals {
    pub fn of(e: &Estimate) -> Self {
        CostTotals {
            part: e.part.clone(),
            lut: e.total.lut,
            dsp: e.total.dsp,
            ff: e.total.ff,
            bram18: e.total.bram18,
            latency_cycles: e.total.latency_cycles,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    pub model: String,
    pub samples: usize,
    pub layers: Vec<LayerProfile>,
    /// Every cast site, in topological order.
    pub overflows: Vec<OverflowRow>,
    /// `None` without a reference run.
    pub agreement: Option<Agreement>,
    pub cost: Option<CostTotals>,
    /// What automatic precision chose, when it ran (the profile is then of the chosen types).
    pub auto: Option<AutoReport>,
}

/// One type automatic precision set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChoiceRow {
    pub layer: String,
    /// `result`, `weight` or `bias`.
    pub tensor: String,
    pub before: Option<String>,
    pub ty: String,
}

/// Automatic precision's outcome, for the reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AutoReport {
    /// Where the configuration was written.
    pub config: Option<String>,
    pub choices: Vec<ChoiceRow>,
    /// Overflowing casts outside the model's own quantizers, and all of them.
    pub overflows: u64,
    pub all_overflows: u64,
    pub agreement: Agreement,
    pub before: Option<CostTotals>,
    pub after: Option<CostTotals>,
    /// Candidate configurations simulated.
    pub evaluations: usize,
}

impl Profile {
    /// The profile as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// Adds the estimate's per-layer costs and totals.
    pub fn set_cost(&mut self, e: &Estimate) {
        for l in &mut self.layers {
            l.cost = e.layers.iter().find(|c| c.name == l.name).map(|c| LayerCost {
                lut: c.lut,
                dsp: c.dsp,
                ff: c.ff,
                bram18: c.bram18,
                latency_cycles: c.latency_cycles,
            });
        }
        self.cost = Some(CostTotals::of(e));
    }
}

/// Profiles `g` on `n` samples (`inputs` row-major, as [`Simulator::run`] takes them), comparing
/// with the reference graph `float` when given.
pub fn profile(
    model: &str,
    g: &LoweredGraph,
    float: Option<&ImportedGraph>,
    inputs: &[f64],
    n: usize,
) -> Result<Profile, ProfileError> {
    let opts = RunOptions { trace: true, dense_sums: true, progress: None };
    let fixed = Simulator::new(g)?.run(inputs, n, &opts)?;
    let reference = match float {
        Some(f) => Some(Simulator::new_float(f)?.run(inputs, n, &opts)?),
        None => None,
    };
    Ok(assemble(model, g, float, &fixed, reference.as_ref(), n))
}

/// The profile of the `n` testbench inputs of a compiled model, from the traced run `tb_run`
/// that computed the expected outputs ([`crate::flow::testbench_run`]); without costs until
/// [`Profile::set_cost`].
pub fn of_testbench(model: &str, g: &LoweredGraph, tb_run: &SimResult, n: usize) -> Profile {
    assemble(model, g, None, tb_run, None, n)
}

/// The profile of traced runs of `g` (`fixed`) and of its reference (`reference`).
pub fn assemble(
    model: &str,
    g: &LoweredGraph,
    float: Option<&ImportedGraph>,
    fixed: &SimResult,
    reference: Option<&SimResult>,
    n: usize,
) -> Profile {
    let empty = Vec::new();
    let trace: BTreeMap<&str, &TraceTensor> =
        fixed.trace.as_ref().unwrap_or(&empty).iter().map(|t| (t.name.as_str(), t)).collect();
    let sums: BTreeMap<&str, &TraceTensor> =
        fixed.dense_sums.as_ref().unwrap_or(&empty).iter().map(|t| (t.name.as_str(), t)).collect();
    let float_trace: BTreeMap<&str, &TraceTensor> = reference
        .and_then(|r| r.trace.as_ref())
        .unwrap_or(&empty)
        .iter()
        .map(|t| (t.name.as_str(), t))
        .collect();
    let order = g.topo_order().unwrap_or_else(|_| g.node_ids());
    let layers = order
        .par_iter()
        .map(|&id| {
            let traces = Traces { fixed: &trace, sums: &sums, float: &float_trace };
            layer_profile(g, id, float.map(|f| &**f), &traces, &fixed.overflows, n)
        })
        .collect();
    Profile {
        model: model.to_string(),
        samples: n,
        layers,
        overflows: fixed
            .overflows
            .iter()
            .map(|o| OverflowRow {
                layer: o.layer.clone(),
                kind: o.kind.to_string(),
                count: o.count,
                casts: o.elements,
            })
            .collect(),
        agreement: reference.map(|r| agreement(fixed, r, n)),
        cost: None,
        auto: None,
    }
}

/// The traced tensors of a run, by layer name: outputs, exact Dense sums
/// ([`SimResult::dense_sums`]) and the reference's outputs.
struct Traces<'a> {
    fixed: &'a BTreeMap<&'a str, &'a TraceTensor>,
    sums: &'a BTreeMap<&'a str, &'a TraceTensor>,
    float: &'a BTreeMap<&'a str, &'a TraceTensor>,
}

fn layer_profile(
    g: &Graph,
    id: NodeId,
    float: Option<&Graph>,
    traces: &Traces,
    overflows: &[LayerOverflow],
    n: usize,
) -> LayerProfile {
    let (trace, float_trace) = (traces.fixed, traces.float);
    let node = g.node(id);
    let count = |kind: &str| {
        let sites: Vec<&LayerOverflow> =
            overflows.iter().filter(|o| o.layer == node.name && o.kind == kind).collect();
        (!sites.is_empty()).then(|| {
            (sites.iter().map(|o| o.count).sum::<u64>(), sites.iter().map(|o| o.elements).sum::<u64>())
        })
    };
    let float_node = float.and_then(|f| f.find(&node.name).map(|i| f.node(i)));
    let mut tensors = Vec::new();
    for (role, is_bias) in [("weight", false), ("bias", true)] {
        let consts: Vec<_> =
            node.layer.constants().into_iter().filter(|(r, _)| (*r == "bias") == is_bias).collect();
        if consts.is_empty() {
            continue;
        }
        let ty = consts.iter().find_map(|(_, w)| w.ty);
        // One constant's values are read in place; several are joined.
        let values: std::borrow::Cow<[f64]> = match consts.as_slice() {
            [(_, w)] => std::borrow::Cow::Borrowed(&w.values),
            _ => consts.iter().flat_map(|(_, w)| w.values.iter().copied()).collect(),
        };
        let reference: Option<Vec<f64>> = float_node.map(|f| {
            f.layer
                .constants()
                .into_iter()
                .filter(|(r, _)| (*r == "bias") == is_bias)
                .flat_map(|(_, w)| w.values.clone())
                .collect()
        });
        let mut t = stats(role, ty, &values);
        if let Some(r) = reference.filter(|r| !r.is_empty()) {
            t.float_min = r.iter().copied().reduce(f64::min);
            t.float_max = r.iter().copied().reduce(f64::max);
            if let Some(ty) = ty {
                let over =
                    r.iter().filter(|&&v| fixed::from_f64(v, &ty).map_or(true, |c| c.overflow)).count();
                t.overflows = Some(over as u64);
                t.casts = Some(r.len() as u64);
            }
        }
        tensors.push(t);
    }
    let accum_ty = node.layer.internal_types().into_iter().find(|(r, _)| *r == "accumulator").map(|(_, t)| t);
    if let Some(ty) = accum_ty {
        let simulated = traces.sums.get(node.name.as_str()).filter(|_| no_negative_zero(&node.layer));
        let computed;
        let values = match (&node.layer, simulated) {
            (Layer::Dense(_), Some(sums)) => &sums.values[..],
            (Layer::Dense(d), None) => {
                computed = g
                    .inputs_of(id)
                    .first()
                    .and_then(|&i| trace.get(g.node(i).name.as_str()))
                    .map(|x| dense_accumulators(d, &x.values, n))
                    .unwrap_or_default();
                &computed[..]
            }
            _ => &[],
        };
        let mut t = stats("accumulator", ty, values);
        if let Some((c, e)) = count("accumulator") {
            t.overflows = Some(c);
            t.casts = Some(e);
        }
        tensors.push(t);
    }
    let values = trace.get(node.name.as_str()).map(|t| &t.values[..]).unwrap_or(&[]);
    let mut out = stats("output", node.ty, values);
    if let Some(f) = float_trace.get(node.name.as_str()) {
        out.float_min = f.values.iter().copied().reduce(f64::min);
        out.float_max = f.values.iter().copied().reduce(f64::max);
    }
    if let Some((c, e)) = count("output") {
        out.overflows = Some(c);
        out.casts = Some(e);
    }
    tensors.push(out);
    LayerProfile {
        name: node.name.clone(),
        kind: node.layer.kind().to_string(),
        type_from_model: node.ty_from_model,
        tensors,
        cost: None,
    }
}

/// Whether the simulator's exact sums of Dense layer `layer` are the values
/// [`dense_accumulators`] computes: they are whenever no bias is `-0.0` (the sums are exact, and
/// an `f64` sum that starts at a bias other than `-0.0` never becomes `-0.0`).
fn no_negative_zero(layer: &Layer) -> bool {
    match layer {
        Layer::Dense(d) => d.bias.values.iter().all(|b| b.to_bits() != (-0.0f64).to_bits()),
        _ => false,
    }
}

/// `bias + x·W` for every row of every sample (`x` holds `n` samples), each output summed in
/// `f64` as bias, then `i = 0, 1, ...` in order. An input of zero adds a product of zero, which
/// changes no sum unless the sum is `-0.0`; a sum starts at the bias and a sum of nonzero terms
/// that cancels is `+0.0`, so with no `-0.0` bias and finite weights zero inputs are skipped.
fn dense_accumulators(d: &crate::ir::Dense, x: &[f64], n: usize) -> Vec<f64> {
    const SAMPLES: usize = 16;
    let (n_in, n_out) = (d.n_in(), d.n_out());
    if n_in == 0 || n == 0 || !x.len().is_multiple_of(n_in) || d.bias.values.len() != n_out {
        return Vec::new();
    }
    let skip_zeros = d.bias.values.iter().all(|b| b.to_bits() != (-0.0f64).to_bits())
        && d.weights.values.iter().all(|w| w.is_finite());
    let w = &d.weights.values;
    let mut out = vec![0.0; x.len() / n_in * n_out];
    out.par_chunks_mut(SAMPLES * n_out).zip(x.par_chunks(SAMPLES * n_in)).for_each(|(acc, x)| {
        #[cfg(target_arch = "x86_64")]
        if crate::sim::has_avx2_fma() {
            // SAFETY: the CPU reported AVX2.
            return unsafe { accumulate_avx2(acc, x, w, &d.bias.values, skip_zeros) };
        }
        accumulate(acc, x, w, &d.bias.values, skip_zeros);
    });
    out
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn accumulate_avx2(acc: &mut [f64], x: &[f64], w: &[f64], bias: &[f64], skip_zeros: bool) {
    accumulate(acc, x, w, bias, skip_zeros)
}

/// The accumulators of the samples in `x` into `acc`, `w` row-major `n_in x n_out`. Each
/// output's sum runs in the same order as a sample-by-sample loop (bias, then `i = 0, 1, ...`);
/// columns are taken in tiles so that a tile of `w` is read once for all the samples in `x`.
#[inline(always)]
fn accumulate(acc: &mut [f64], x: &[f64], w: &[f64], bias: &[f64], skip_zeros: bool) {
    const COLUMNS: usize = 128;
    let n_out = bias.len();
    let n_in = w.len() / n_out;
    for acc in acc.chunks_exact_mut(n_out) {
        acc.copy_from_slice(bias);
    }
    for c0 in (0..n_out).step_by(COLUMNS) {
        let c1 = (c0 + COLUMNS).min(n_out);
        for (i, w_row) in w.chunks_exact(n_out).enumerate() {
            let w_tile = &w_row[c0..c1];
            for (acc, row) in acc.chunks_exact_mut(n_out).zip(x.chunks_exact(n_in)) {
                let xi = row[i];
                if skip_zeros && xi == 0.0 {
                    continue;
                }
                for (a, w) in acc[c0..c1].iter_mut().zip(w_tile) {
                    *a += xi * w;
                }
            }
        }
    }
}

/// Range, histogram and unused bits of `values` held in `ty`, in one pass over slices of the
/// values in parallel.
fn stats(tensor: &'static str, ty: Option<FixedType>, values: &[f64]) -> TensorStats {
    const SLICE: usize = 1 << 14;
    let bits = ty.map(|t| Bits::new(&t));
    let parts: Vec<Summary> = values.par_chunks(SLICE).map(|c| Summary::of(c, bits.as_ref())).collect();
    let mut all = Summary::default();
    for p in &parts {
        all.merge(p);
    }
    let (mut min, mut max) = (all.min, all.max);
    if all.negative_zero && parts.len() > 1 {
        // Which zero `f64::min` and `f64::max` keep depends on the order: the sequential one.
        min = values.iter().copied().reduce(f64::min);
        max = values.iter().copied().reduce(f64::max);
    }
    let (unused_msb, unused_lsb) = match (ty, bits) {
        (Some(ty), Some(b)) if !values.is_empty() => {
            let (msb, lsb) = b.unused(&ty, &all.used);
            (Some(msb), Some(lsb))
        }
        _ => (None, None),
    };
    let frac = ty.map(|t| t.frac_bits());
    TensorStats {
        tensor,
        ty,
        type_name: ty.map(|t| t.to_string()),
        type_min: ty.zip(frac).map(|(t, f)| fixed::to_f64(t.min_raw(), f)),
        type_max: ty.zip(frac).map(|(t, f)| fixed::to_f64(t.max_raw(), f)),
        values: values.len() as u64,
        min,
        max,
        float_min: None,
        float_max: None,
        histogram: all.histogram.unwrap_or_else(Histogram::new),
        overflows: None,
        casts: None,
        unused_msb,
        unused_lsb,
    }
}

/// What one pass over values gathers: their histogram, range (as `reduce(f64::min)` and
/// `reduce(f64::max)` give it), whether a `-0.0` is among them, and the bits their raw values
/// use.
#[derive(Default)]
struct Summary {
    histogram: Option<Histogram>,
    min: Option<f64>,
    max: Option<f64>,
    negative_zero: bool,
    used: Used,
}

impl Summary {
    /// Two passes: the range in four lanes (the same result as `reduce(f64::min)` and
    /// `reduce(f64::max)` when no `-0.0` or NaN is among the values, which are then ranged in
    /// order); then the histogram and the bits. A value its type holds exactly is counted by the
    /// leading zeros of its raw integer's magnitude (below `2^31` the bit length less the fraction
    /// bits is `floor(log2 |v|)` exactly, as [`floor_log2`] finds it), and its raw bits gathered in
    /// `i64` (sign extension commutes with `|` and `!`, so widening at the end gives the same
    /// bits); every other value goes through [`Histogram::add`] and [`Bits::add`].
    fn of(values: &[f64], bits: Option<&Bits>) -> Summary {
        let (min, max, negative_zero) = range(values);
        let mut histogram = Histogram::new();
        let mut used = Used::default();
        // Exact values by the leading zeros of their raw magnitude (64 for zero).
        let mut by_zeros = [0u64; 65];
        let (mut magnitudes, mut raws, mut any) = (0i64, 0i64, false);
        let exact = bits.filter(|b| b.ty.width <= 53);
        let frac = bits.map_or(0, |b| b.ty.frac_bits());
        for &v in values {
            if let Some(b) = exact {
                let s = v * b.scale;
                if s >= b.min && s <= b.max && (s != 0.0 || v == 0.0) && s as i64 as f64 == s {
                    let r = s as i64;
                    any = true;
                    // `!r` for a negative `r` (only signed types have one).
                    magnitudes |= r ^ (r >> 63);
                    raws |= r;
                    let m = r.unsigned_abs();
                    if m < 1 << 31 {
                        by_zeros[m.leading_zeros() as usize] += 1;
                        continue;
                    }
                } else {
                    b.add(&mut used, v);
                }
            } else if let Some(b) = bits {
                b.add(&mut used, v);
            }
            histogram.add(v);
        }
        histogram.zeros += by_zeros[64];
        for (zeros, &count) in by_zeros.iter().enumerate().take(64).filter(|(_, c)| **c > 0) {
            let e = (63 - zeros as i32 - frac).clamp(HIST_MIN, HIST_MAX);
            histogram.bins[(e - HIST_MIN) as usize] += count;
        }
        used.magnitudes |= i128::from(magnitudes);
        used.raws |= i128::from(raws);
        used.any |= any;
        Summary { histogram: Some(histogram), min, max, negative_zero, used }
    }

    /// Adds a summary of the values that follow.
    fn merge(&mut self, next: &Summary) {
        match (&mut self.histogram, &next.histogram) {
            (Some(h), Some(n)) => {
                h.zeros += n.zeros;
                h.bins.iter_mut().zip(&n.bins).for_each(|(a, b)| *a += b);
            }
            (h @ None, n) => *h = n.clone(),
            (Some(_), None) => {}
        }
        self.min = match (self.min, next.min) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.max = match (self.max, next.max) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.negative_zero |= next.negative_zero;
        self.used.magnitudes |= next.used.magnitudes;
        self.used.raws |= next.used.raws;
        self.used.any |= next.used.any;
    }
}

/// `reduce(f64::min)`, `reduce(f64::max)` (`None` for no values) and whether a `-0.0` is among
/// `values`. Without `-0.0` or NaN the smallest and largest value are unique, so they are taken
/// in four independent lanes; otherwise in order.
fn range(values: &[f64]) -> (Option<f64>, Option<f64>, bool) {
    const LANES: usize = 4;
    let Some(&first) = values.first() else { return (None, None, false) };
    let (mut lo, mut hi) = ([first; LANES], [first; LANES]);
    let (mut negative_zero, mut nan) = (false, false);
    let mut lanes = values.chunks_exact(LANES);
    for c in &mut lanes {
        for k in 0..LANES {
            lo[k] = lo[k].min(c[k]);
            hi[k] = hi[k].max(c[k]);
            negative_zero |= c[k].to_bits() == (-0.0f64).to_bits();
            nan |= c[k].is_nan();
        }
    }
    for &v in lanes.remainder() {
        lo[0] = lo[0].min(v);
        hi[0] = hi[0].max(v);
        negative_zero |= v.to_bits() == (-0.0f64).to_bits();
        nan |= v.is_nan();
    }
    if negative_zero || nan {
        let (mut min, mut max) = (first, first);
        for &v in values {
            min = min.min(v);
            max = max.max(v);
        }
        return (Some(min), Some(max), negative_zero);
    }
    (lo.into_iter().reduce(f64::min), hi.into_iter().reduce(f64::max), false)
}

/// The union of the bits of raw values: of their magnitudes (ones' complement of negatives) and
/// of the raw values themselves; `any` once a value was taken.
#[derive(Default, Clone, Copy)]
struct Used {
    magnitudes: i128,
    raws: i128,
    any: bool,
}

/// How values of a type become raw integers, for [`Used`].
#[derive(Clone, Copy)]
struct Bits {
    ty: FixedType,
    scale: f64,
    min: f64,
    max: f64,
}

impl Bits {
    fn new(ty: &FixedType) -> Bits {
        let scale = 2f64.powi(ty.frac_bits());
        Bits { ty: *ty, scale, min: ty.min_raw() as f64, max: ty.max_raw() as f64 }
    }

    #[inline]
    fn add(&self, used: &mut Used, v: f64) {
        let ty = &self.ty;
        // A value the type holds exactly scales to its raw integer, which any cast returns.
        let s = v * self.scale;
        // `s as i64 as f64 == s` tests for an integer in range without a `trunc` call.
        let r = if ty.width <= 53
            && s >= self.min
            && s <= self.max
            && (s != 0.0 || v == 0.0)
            && s as i64 as f64 == s
        {
            s as i64 as i128
        } else {
            let Ok(c) = fixed::from_f64(v, ty) else { return };
            c.raw
        };
        used.any = true;
        used.magnitudes |= if ty.signed && r < 0 { !r } else { r };
        used.raws |= r;
    }

    /// The unused high and low bits of `ty` given the bits `used`.
    fn unused(&self, ty: &FixedType, used: &Used) -> (u32, u32) {
        let width = ty.width;
        let needed = match (used.any, ty.signed) {
            (false, _) => 0,
            (true, true) => 129 - used.magnitudes.leading_zeros(),
            (true, false) => 128 - used.magnitudes.leading_zeros(),
        };
        let trailing = if used.raws == 0 { width } else { used.raws.trailing_zeros() };
        (width.saturating_sub(needed), trailing.min(width))
    }
}

/// The high bits of `ty` that no value needs (a signed value needs its sign bit) and the low bits
/// that are zero in every value, each at most the width.
pub fn unused_bits(ty: &FixedType, values: &[f64]) -> (u32, u32) {
    let bits = Bits::new(ty);
    bits.unused(ty, &Summary::of(values, Some(&bits)).used)
}

/// Argmax agreement on the first output and the largest absolute output difference.
pub fn agreement(fixed: &SimResult, reference: &SimResult, n: usize) -> Agreement {
    let mut max_abs_error = 0f64;
    for (a, b) in fixed.outputs.iter().zip(&reference.outputs) {
        for (x, y) in a.values.iter().zip(&b.values) {
            max_abs_error = max_abs_error.max((x - y).abs());
        }
    }
    let argmax = match (fixed.outputs.first(), reference.outputs.first()) {
        (Some(a), Some(b)) if a.shape.elements() > 1 && n > 0 => {
            let e = a.shape.elements();
            let same =
                a.values.chunks(e).zip(b.values.chunks(e)).filter(|(x, y)| argmax(x) == argmax(y)).count();
            Some(same as f64 / n as f64)
        }
        _ => None,
    };
    Agreement { argmax, max_abs_error }
}

/// Index of the first largest value.
pub fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-pass summary the lanes and leading-zero counts replace.
    fn sequential(values: &[f64], bits: Option<&Bits>) -> Summary {
        let mut histogram = Histogram::new();
        let first = values.first().copied().unwrap_or_default();
        let (mut min, mut max) = (first, first);
        let mut negative_zero = false;
        let mut used = Used::default();
        let (mut magnitudes, mut raws, mut any) = (0i64, 0i64, false);
        let exact = bits.filter(|b| b.ty.width <= 53);
        let frac = bits.map_or(0, |b| b.ty.frac_bits());
        for &v in values {
            min = min.min(v);
            max = max.max(v);
            negative_zero |= v.to_bits() == (-0.0f64).to_bits();
            if let Some(b) = exact {
                let s = v * b.scale;
                if s >= b.min && s <= b.max && (s != 0.0 || v == 0.0) && s as i64 as f64 == s {
                    let r = s as i64;
                    any = true;
                    magnitudes |= if b.ty.signed && r < 0 { !r } else { r };
                    raws |= r;
                    let m = r.unsigned_abs();
                    if m == 0 {
                        histogram.zeros += 1;
                        continue;
                    }
                    if m < 1 << 31 {
                        let e = (63 - m.leading_zeros() as i32 - frac).clamp(HIST_MIN, HIST_MAX);
                        histogram.bins[(e - HIST_MIN) as usize] += 1;
                        continue;
                    }
                } else {
                    b.add(&mut used, v);
                }
            } else if let Some(b) = bits {
                b.add(&mut used, v);
            }
            histogram.add(v);
        }
        used.magnitudes |= i128::from(magnitudes);
        used.raws |= i128::from(raws);
        used.any |= any;
        let range = |x: f64| (!values.is_empty()).then_some(x);
        Summary { histogram: Some(histogram), min: range(min), max: range(max), negative_zero, used }
    }

    #[test]
    fn summaries_equal_the_one_pass_summary() {
        let mut next = crate::test_rng::below(0x3c6e_f372_fe94_f82bu64);
        for case in 0..400 {
            let width = 1 + next(60) as u32;
            let ty = FixedType::new(
                width,
                next(2 * u64::from(width) + 20) as i32 - 10 - width as i32 / 2,
                next(2) == 0,
            );
            let bits = Bits::new(&ty);
            let lsb = ty.lsb();
            let n = next(300) as usize;
            let values: Vec<f64> = (0..n)
                .map(|_| {
                    let raw = ty.min_raw() + i128::from(next(1 << width.min(62)));
                    match next(40) {
                        0 => -0.0,
                        1 if case % 7 == 0 => f64::NAN,
                        2 => 0.0,
                        3 => raw as f64 * lsb * 1.5,
                        4 => (next(u64::MAX) as i64) as f64 * 2f64.powi(next(80) as i32 - 40),
                        _ => raw as f64 * lsb,
                    }
                })
                .collect();
            for b in [Some(&bits), None] {
                let (got, want) = (Summary::of(&values, b), sequential(&values, b));
                assert_eq!(got.histogram, want.histogram, "case {case}");
                // With both zeros among the values, `f64::min` and `f64::max` may return either.
                let same = |a: Option<f64>, b: Option<f64>| match (a, b) {
                    (Some(a), Some(b)) if got.negative_zero && a == 0.0 => a == b,
                    (a, b) => a.map(f64::to_bits) == b.map(f64::to_bits),
                };
                assert!(same(got.min, want.min), "case {case}: {:?} {:?}", got.min, want.min);
                assert!(same(got.max, want.max), "case {case}: {:?} {:?}", got.max, want.max);
                assert_eq!(got.negative_zero, want.negative_zero, "case {case}");
                let (g, w) = (got.used, want.used);
                assert_eq!((g.magnitudes, g.raws, g.any), (w.magnitudes, w.raws, w.any), "case {case}");
            }
        }
    }
}
