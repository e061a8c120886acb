//! Automatic precision: per-layer fixed-point types chosen from a profile and checked by
//! simulation ([`search`]), written as an hls4ml `LayerName` configuration ([`yaml`]).
//!
//! Integer bits come from the observed range (the reference's and the fixed-point model's, plus
//! `margin` bits), grown one at a time for the layers whose output casts still overflow.
//! Fractional bits are then shrunk, first uniformly and then tensor by tensor, while every
//! candidate still meets the criteria: at most `max_overflow` overflowing casts, argmax agreement
//! with the reference at or above `target_accuracy` (checked against a lower bound, the observed
//! agreement minus two binomial standard deviations, so that it also holds on other inputs from
//! the same distribution) and, when given, a largest output error at most `max_error`.
//! With an estimate, no step may raise the estimated LUT + DSP, and a chosen type is finally
//! dropped when the model costs less without it.
//! Accumulators are left `auto` (exact). Every candidate is lowered from the YAML text this module
//! writes, through the same path as `compile --config`, so the chosen file reproduces what was
//! measured. Types the model fixes (QKeras, QONNX, QDQ) are kept, and their casts (the model's
//! own clipping) do not count against `max_overflow`, nor do table indices clamped at the
//! table's domain edge; both are reported.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;

use serde::Serialize;

use super::{agreement, Agreement, Profile, ProfileError};
use crate::config::Config;
use crate::fixed::FixedType;
use crate::flow::{self, FlowError, FlowOptions};
use crate::ir::{LoweredGraph, Strategy};
use crate::sim::{RunOptions, SimResult, Simulator};

/// What the search aims for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AutoOptions {
    /// Least argmax agreement with the reference (fraction of samples).
    pub target_accuracy: f64,
    /// Most overflowing casts allowed over the calibration inputs.
    pub max_overflow: u64,
    /// Largest absolute output difference allowed, if bounded.
    pub max_error: Option<f64>,
    /// Integer bits added above the observed range.
    pub margin: i32,
    /// Fractional bits the search starts from.
    pub max_frac: i32,
}

impl Default for AutoOptions {
    fn default() -> Self {
        AutoOptions { target_accuracy: 0.99, max_overflow: 0, max_error: None, margin: 0, max_frac: 16 }
    }
}

/// Cast kinds that count against the overflow budget: values that lose their magnitude. A table
/// index past the table's end (`index`, `exp_index`, `inv_index`) reads the table's last entry,
/// which is the function's value at the domain edge by design (`exp(-8)`, a saturated sigmoid).
const VALUE_CASTS: &[&str] = &["output", "accumulator"];

/// Layer kinds whose result type the search sets.
const TUNED_KINDS: &[&str] =
    &["input", "dense", "conv", "batch_norm", "activation", "softmax", "elementwise", "pool", "reduce"];

/// One tensor type the search sets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Choice {
    pub layer: String,
    /// `result`, `weight` or `bias` (the configuration's keys).
    pub tensor: &'static str,
    /// Observed range.
    pub lo: f64,
    pub hi: f64,
    pub signed: bool,
    pub frac: i32,
    /// Integer bits added to the range's after overflows (margin included).
    pub extra_int: i32,
    /// The chosen type.
    pub ty: FixedType,
}

impl Choice {
    fn retype(&mut self, modes: &FixedType) {
        let i = int_bits(self.lo, self.hi, self.frac, self.signed) + self.extra_int;
        let i = i.max(1 - self.frac);
        let w = (i + self.frac).clamp(1, 64) as u32;
        self.ty =
            FixedType::new(w, w as i32 - self.frac, self.signed).with_modes(modes.quant, modes.overflow);
    }
}

/// The fewest integer bits (at least 0) that hold `lo..=hi` rounded to `frac` fractional bits.
pub fn int_bits(lo: f64, hi: f64, frac: i32, signed: bool) -> i32 {
    let q = 2f64.powi(-frac);
    let (lo, hi) = ((lo / q).round() * q, (hi / q).round() * q);
    (0..64)
        .find(|&i| {
            let (min, max) =
                if signed { (-(2f64.powi(i - 1)), 2f64.powi(i - 1) - q) } else { (0.0, 2f64.powi(i) - q) };
            lo >= min && hi <= max
        })
        .unwrap_or(64)
}

/// A candidate's measurements.
pub struct Evaluation {
    pub graph: LoweredGraph,
    /// Overflowing value casts ([`VALUE_CASTS`]) that count against the budget (not in layers
    /// whose type the model fixes).
    pub overflows: u64,
    /// Every overflowing cast, including the model's own clipping.
    pub all_overflows: u64,
    /// Output-cast overflows per layer.
    pub by_layer: BTreeMap<String, u64>,
    /// Every cast site that overflowed: layer, kind, count.
    pub sites: Vec<(String, &'static str, u64)>,
    pub agreement: Agreement,
}

/// The search's outcome.
pub struct AutoResult {
    pub choices: Vec<Choice>,
    pub yaml: String,
    pub evaluations: usize,
    pub last: Evaluation,
}

impl AutoResult {
    /// The report rows, with each tensor's type in `before` (the profile of the starting
    /// configuration).
    pub fn report(&self, before: &Profile, config: Option<String>) -> super::AutoReport {
        let choices = self
            .choices
            .iter()
            .map(|c| {
                let tensor = if c.tensor == "result" { "output" } else { c.tensor };
                let old = before
                    .layers
                    .iter()
                    .find(|l| l.name == c.layer)
                    .and_then(|l| l.tensors.iter().find(|t| t.tensor == tensor))
                    .and_then(|t| t.type_name.clone());
                super::ChoiceRow {
                    layer: c.layer.clone(),
                    tensor: c.tensor.to_string(),
                    before: old,
                    ty: c.ty.to_string(),
                }
            })
            .collect();
        super::AutoReport {
            config,
            choices,
            overflows: self.last.overflows,
            all_overflows: self.last.all_overflows,
            agreement: self.last.agreement,
            before: before.cost.clone(),
            after: None,
            evaluations: self.evaluations,
        }
    }
}

/// The estimated LUT + DSP of a lowered model (`None` when it cannot be estimated).
pub type CostFn<'a> = dyn Fn(&LoweredGraph) -> Option<u64> + 'a;

/// What a search runs on.
pub struct Search<'a> {
    pub model: &'a Path,
    /// The lowering options the user gave (their configuration is the starting point).
    pub flow: &'a FlowOptions,
    pub config: &'a Config,
    /// Row-major calibration inputs, `n` samples.
    pub inputs: &'a [f64],
    pub n: usize,
    /// The reference model's run on the inputs.
    pub reference: &'a SimResult,
    pub opts: AutoOptions,
    /// Told about each step (for progress display).
    pub on_step: &'a dyn Fn(&str),
    /// The estimated cost (LUT + DSP) of a candidate, when there is an estimate: a chosen type
    /// that costs more than the layer's starting type (an exact result replaced by a narrower
    /// one that rounds and saturates) is then dropped.
    pub cost: Option<&'a CostFn<'a>>,
}

impl Search<'_> {
    /// Lowers and simulates the configuration `choices` make.
    pub fn evaluate(&self, choices: &[Choice], accum: &BTreeSet<String>) -> Result<Evaluation, ProfileError> {
        let text = yaml(choices, accum, self.config, "candidate");
        let mut file = tempfile::Builder::new().suffix(".yml").tempfile().map_err(io_error)?;
        file.write_all(text.as_bytes()).map_err(io_error)?;
        let opts = FlowOptions { config: Some(file.path().to_path_buf()), ..self.flow.clone() };
        let lowered = flow::load_and_lower(self.model, &opts)?;
        let result = Simulator::new(&lowered.graph)?.run(self.inputs, self.n, &RunOptions::default())?;
        let g = &lowered.graph;
        let from_model: BTreeSet<&str> = g
            .node_ids()
            .into_iter()
            .map(|i| g.node(i))
            .filter(|n| n.ty_from_model)
            .map(|n| n.name.as_str())
            .collect();
        let mut by_layer = BTreeMap::new();
        let mut sites = Vec::new();
        let (mut overflows, mut all_overflows) = (0, 0);
        for o in &result.overflows {
            all_overflows += o.count;
            if o.count > 0 {
                sites.push((o.layer.clone(), o.kind, o.count));
            }
            if VALUE_CASTS.contains(&o.kind) && !from_model.contains(o.layer.as_str()) {
                overflows += o.count;
            }
            if o.kind == "output" && o.count > 0 {
                *by_layer.entry(o.layer.clone()).or_insert(0) += o.count;
            }
        }
        let agreement = agreement(&result, self.reference, self.n);
        Ok(Evaluation { graph: lowered.graph, overflows, all_overflows, by_layer, sites, agreement })
    }

    /// Whether `e` meets the criteria.
    pub fn accepts(&self, e: &Evaluation) -> bool {
        let o = &self.opts;
        let accuracy = match e.agreement.argmax {
            Some(a) => lower_bound(a, self.n) >= o.target_accuracy,
            None => true,
        };
        e.overflows <= o.max_overflow
            && accuracy
            && o.max_error.is_none_or(|m| e.agreement.max_abs_error <= m)
    }
}

fn io_error(e: std::io::Error) -> ProfileError {
    ProfileError::Flow(FlowError::Options(format!("temporary configuration file: {e}")))
}

/// The agreement `a` observed on `n` samples less two binomial standard deviations: what the
/// criteria compare with the target, so that it also holds on other inputs.
fn lower_bound(a: f64, n: usize) -> f64 {
    a - 2.0 * (a * (1.0 - a) / n.max(1) as f64).sqrt()
}

/// Proposes types for the layers of `profile` (of the user's configuration) that meet the
/// criteria of `s`.
pub fn search(s: &Search<'_>, profile: &Profile, base: &LoweredGraph) -> Result<AutoResult, ProfileError> {
    let modes = s.config.default_precision;
    let mut choices = initial_choices(profile, &s.opts, &modes);
    let accum: BTreeSet<String> = base
        .node_ids()
        .into_iter()
        .map(|i| base.node(i))
        .filter(|n| n.layer.internal_types().iter().any(|(r, _)| *r == "accumulator"))
        .map(|n| n.name.clone())
        .collect();
    if s.opts.max_error.is_none() && profile.agreement.is_some_and(|a| a.argmax.is_none()) {
        return Err(ProfileError::Search(
            "the first output holds one value, so argmax agreement means nothing: give --max-error".into(),
        ));
    }
    let mut evaluations = 0;
    let mut eval = |c: &[Choice], what: &str| {
        evaluations += 1;
        (s.on_step)(what);
        s.evaluate(c, &accum)
    };
    let mut e = eval(&choices, "checking the starting types")?;
    // Tensors whose types the model fixes keep them: drop the choices the lowering did not apply.
    let before = choices.len();
    choices.retain(|c| applied(&e.graph, c));
    if choices.len() != before {
        e = eval(&choices, "checking the starting types")?;
    }
    for _ in 0..16 {
        if e.overflows <= s.opts.max_overflow {
            break;
        }
        let mut grew = false;
        for c in choices.iter_mut().filter(|c| c.tensor == "result") {
            if e.by_layer.get(&c.layer).is_some_and(|&k| k > 0) {
                c.extra_int += 1;
                c.retype(&modes);
                grew = true;
            }
        }
        if !grew {
            break;
        }
        e = eval(&choices, "widening layers that overflow")?;
    }
    if !s.accepts(&e) {
        return Err(ProfileError::Search(format!(
            "even with {} fractional bits the criteria are not met: {} overflow(s) (at most {} allowed{}), argmax agreement {}, \
             largest output error {}",
            s.opts.max_frac,
            e.overflows,
            s.opts.max_overflow,
            overflow_places(&e),
            e.agreement.argmax.map_or_else(|| "n/a".to_string(), |a| {
                let bound = lower_bound(a, s.n);
                format!(
                    "{a:.4} on {} samples, whose lower bound {bound:.4} (two binomial standard deviations below) must \
                     reach --target-accuracy {}",
                    s.n, s.opts.target_accuracy
                )
            }),
            e.agreement.max_abs_error
        )));
    }
    // With an estimate, a step must not raise the cost (fewer bits can move a product from DSPs
    // to more LUTs than it saves).
    let cost_of = |e: &Evaluation| s.cost.and_then(|c| c(&e.graph));
    let mut cost = cost_of(&e);
    let mut no_dearer = |t: &Evaluation| {
        let c = cost_of(t);
        let ok = match (c, cost) {
            (Some(c), Some(now)) => c <= now,
            _ => true,
        };
        if ok {
            cost = c;
        }
        ok
    };
    // Uniform fractional bits: the fewest that still meet the criteria (bisection).
    let (mut lo, mut hi) = (0, s.opts.max_frac);
    while lo < hi {
        let mid = (lo + hi) / 2;
        let trial = with_frac(&choices, |_| mid, &modes);
        let t = eval(&trial, &format!("trying {mid} fractional bits everywhere"))?;
        if s.accepts(&t) && no_dearer(&t) {
            hi = mid;
            choices = trial;
            e = t;
        } else {
            lo = mid + 1;
        }
    }
    // Then each tensor on its own, widest first.
    let mut order: Vec<usize> = (0..choices.len()).collect();
    order.sort_by_key(|&k| std::cmp::Reverse(choices[k].ty.width));
    for k in order {
        while choices[k].frac > 0 && choices[k].ty.width > 1 {
            let mut trial = choices.clone();
            trial[k].frac -= 1;
            trial[k].retype(&modes);
            let label =
                format!("{} {} with {} fractional bits", trial[k].layer, trial[k].tensor, trial[k].frac);
            let t = eval(&trial, &label)?;
            if !s.accepts(&t) || !no_dearer(&t) {
                break;
            }
            choices = trial;
            e = t;
        }
    }
    // Drop each choice whose layer costs less with its starting type.
    if let Some(cost) = s.cost {
        let mut best = cost(&e.graph);
        let mut changed = true;
        while changed {
            changed = false;
            for k in (0..choices.len()).rev() {
                let mut trial = choices.clone();
                let dropped = trial.remove(k);
                let t =
                    eval(&trial, &format!("{} {} with its starting type", dropped.layer, dropped.tensor))?;
                let c = cost(&t.graph);
                if s.accepts(&t) && c.zip(best).is_some_and(|(c, b)| c < b) {
                    choices = trial;
                    e = t;
                    best = c;
                    changed = true;
                }
            }
        }
    }
    let header = format!(
        "Chosen by hls-gen profile --auto-precision from {} calibration inputs of {}",
        s.n,
        s.model.display()
    );
    Ok(AutoResult { yaml: yaml(&choices, &accum, s.config, &header), choices, evaluations, last: e })
}

fn overflow_places(e: &Evaluation) -> String {
    if e.sites.is_empty() {
        return String::new();
    }
    let places: Vec<String> = e.sites.iter().map(|(l, kind, k)| format!("'{l}' {kind}: {k}")).collect();
    format!("; at {}", places.join(", "))
}

fn with_frac(choices: &[Choice], frac: impl Fn(&Choice) -> i32, modes: &FixedType) -> Vec<Choice> {
    choices
        .iter()
        .map(|c| {
            let mut c = c.clone();
            c.frac = frac(&c);
            c.retype(modes);
            c
        })
        .collect()
}

/// Whether the lowered graph gives the tensor the chosen type.
fn applied(g: &LoweredGraph, c: &Choice) -> bool {
    let Some(node) = g.find(&c.layer).map(|i| g.node(i)) else { return false };
    match c.tensor {
        "result" => node.ty == Some(c.ty),
        tensor => {
            let is_bias = tensor == "bias";
            node.layer
                .constants()
                .iter()
                .filter(|(r, _)| (*r == "bias") == is_bias)
                .all(|(_, w)| w.ty == Some(c.ty))
        }
    }
}

/// The starting point: every tunable tensor with `max_frac` fractional bits and the integer bits
/// of its observed range plus the margin.
fn initial_choices(profile: &Profile, opts: &AutoOptions, modes: &FixedType) -> Vec<Choice> {
    let mut out = Vec::new();
    for l in &profile.layers {
        for t in &l.tensors {
            let tensor = match t.tensor {
                "output" if !l.type_from_model && TUNED_KINDS.contains(&l.kind.as_str()) => "result",
                "weight" => "weight",
                "bias" => "bias",
                _ => continue,
            };
            let ends = [t.min, t.max, t.float_min, t.float_max];
            let lo = ends.iter().flatten().copied().fold(0f64, f64::min);
            let hi = ends.iter().flatten().copied().fold(0f64, f64::max);
            let mut c = Choice {
                layer: l.name.clone(),
                tensor,
                lo,
                hi,
                signed: lo < 0.0,
                frac: opts.max_frac,
                extra_int: if tensor == "result" { opts.margin } else { 0 },
                ty: *modes,
            };
            c.retype(modes);
            out.push(c);
        }
    }
    out
}

/// YAML string quoting.
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The hls4ml configuration of `choices`: the model-wide settings of `base` (the model-level
/// precisions it sets, and no `default`, which would also fix the types left exact), and under `LayerName`
/// each chosen layer's `Precision` (`accum: auto` for the layers in `accum`) with the layer's own
/// reuse factor and strategy from `base`.
pub fn yaml(choices: &[Choice], accum: &BTreeSet<String>, base: &Config, header: &str) -> String {
    let mut out = format!("# {header}\nModel:\n");
    let p = &base.model.precision;
    let set = [("result", p.result), ("weight", p.weight), ("bias", p.bias), ("accum", p.accum)];
    if set.iter().any(|(_, v)| v.is_some()) {
        out += "  Precision:\n";
        for (key, v) in set {
            if let Some(v) = v {
                out += &format!("    {key}: {}\n", quoted(&v.to_string()));
            }
        }
    }
    out += &format!("  ReuseFactor: {}\n", base.model.reuse_factor.unwrap_or(1));
    let strategy = |s: Strategy| match s {
        Strategy::Latency => "Latency",
        Strategy::Resource => "Resource",
    };
    if let Some(st) = base.model.strategy {
        out += &format!("  Strategy: {}\n", strategy(st));
    }
    let mut layers: Vec<&str> = Vec::new();
    for c in choices {
        if !layers.contains(&c.layer.as_str()) {
            layers.push(&c.layer);
        }
    }
    if layers.is_empty() {
        return out;
    }
    out += "LayerName:\n";
    for layer in layers {
        out += &format!("  {}:\n", quoted(layer));
        if let Some(s) = base.layer_name.get(layer) {
            if let Some(r) = s.reuse_factor {
                out += &format!("    ReuseFactor: {r}\n");
            }
            if let Some(st) = s.strategy {
                out += &format!("    Strategy: {}\n", strategy(st));
            }
        }
        out += "    Precision:\n";
        for c in choices.iter().filter(|c| c.layer == layer) {
            out += &format!("      {}: {}\n", c.tensor, quoted(&c.ty.to_string()));
        }
        if accum.contains(layer) {
            out += "      accum: auto\n";
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_bits_hold_the_rounded_range() {
        assert_eq!(int_bits(-3.0, 2.5, 4, true), 3);
        assert_eq!(int_bits(0.0, 3.99, 8, false), 2);
        // 3.99 rounds to 4.0 with one fractional bit.
        assert_eq!(int_bits(0.0, 3.99, 1, false), 3);
        assert_eq!(int_bits(-4.0, 0.0, 4, true), 3);
        assert_eq!(int_bits(0.0, 0.2, 8, false), 0);
    }
}
