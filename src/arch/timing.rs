//! The RTL backend's timing model: the logic depth of every register stage and its estimated
//! delay on a device family, and the placement of a constant matrix's pipeline registers so that
//! each stage meets a clock period.
//!
//! # Model
//!
//! A stage's critical path is a [`Path`]: how many LUTs, carry chains (and carry bits along them),
//! wide multiplexers and DSP slices a signal crosses between two registers. [`Path::delay`] turns
//! it into ns with the family's per-cell delays ([`CellDelays`]: clock to output, one routing hop
//! per LUT or DSP input and one into the capturing flip-flop, the cells themselves, setup).
//!
//! * An adder level is one LUT (the operand bits' sum) and one carry chain. A stage of `L` levels
//!   of a shift-and-add plan ([`crate::arch::mcm`]) whose widest adder has `W` adding bits crosses
//!   `L` LUTs and `L` chains but only `W` carry bits plus one carry cell per further level: in
//!   ripple-carry adders feeding each other, bit `k` of a sum is ready when bit `k` of its
//!   operands is, so the carries of successive levels overlap instead of adding up. A stage of two
//!   levels or more also crosses the compressor cells Yosys makes of merged additions
//!   ([`MERGED_ADDER_LUTS`]: one LUT, a `MUXF` per two levels).
//! * A matrix's last stage adds the output cast ([`cast_tail`]): a comparison (one LUT and a
//!   carry chain over the sum) and a multiplexer LUT when it saturates, an incrementer when it
//!   rounds.
//! * Other layers are one stage each, estimated per kind by [`layer_path`] (coarse: the adder or
//!   comparison tree's levels, table lookups as LUT6 + `MUXF7`/`MUXF8` trees, products of two
//!   signals as one DSP slice); a `Dense` or `Conv` layer with a reuse factor above 1 by
//!   [`reuse_segment`].
//!
//! # Contract
//!
//! [`MatrixTiming::cuts`] returns exactly `k - 1` cut depths (the input of
//! `backend::rtl::matrix::build`, non-decreasing, possibly repeated at the deepest level) whose
//! worst stage delay is the least any `k`-stage cut of the plan reaches; [`MatrixTiming::stages_for`]
//! the least `k` whose worst stage meets a period (or the deepest pipelining when none does).
//! Results depend only on the arguments.

use serde::{Deserialize, Serialize};

use super::mcm::{bit_width, Node, Plan};
use crate::estimate::coeffs::{
    CellDelays, CELL_DELAYS_SERIES7, CELL_DELAYS_ULTRASCALE_PLUS, MERGED_ADDER_LEVELS_PER_MUXF,
    MERGED_ADDER_LUTS,
};
use crate::estimate::part::Family;
use crate::fixed::{FixedType, OverflowMode, QuantMode};
use crate::ir::{Activation, BinaryOp, Layer, LoweredGraph, NodeId, PoolOp, ReduceOp};

/// The per-cell delays of a family: UltraScale and UltraScale+ share the UltraScale+ numbers;
/// Versal has none (its CLB differs; the RTL flow does not target it).
pub fn cell_delays(family: Family) -> Option<&'static CellDelays> {
    match family {
        Family::UltraScalePlus | Family::UltraScale => Some(&CELL_DELAYS_ULTRASCALE_PLUS),
        Family::Series7 => Some(&CELL_DELAYS_SERIES7),
        Family::Versal => None,
    }
}

/// The cells a register-to-register path crosses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Path {
    pub luts: u32,
    /// Carry chains entered.
    pub carry_chains: u32,
    /// Carry bits travelled along them.
    pub carry_bits: u32,
    pub muxf: u32,
    pub dsp: u32,
}

impl Path {
    /// One adder (or comparison) of `bits` adding bits: a LUT and a carry chain.
    pub fn adder(bits: u32) -> Path {
        Path { luts: 1, carry_chains: 1, carry_bits: bits.max(1), ..Path::default() }
    }

    /// `n` LUT levels.
    pub fn luts(n: u32) -> Path {
        Path { luts: n, ..Path::default() }
    }

    /// This path followed by `o`.
    pub fn then(self, o: Path) -> Path {
        Path {
            luts: self.luts + o.luts,
            carry_chains: self.carry_chains + o.carry_chains,
            carry_bits: self.carry_bits + o.carry_bits,
            muxf: self.muxf + o.muxf,
            dsp: self.dsp + o.dsp,
        }
    }

    /// `levels` adder levels whose widest adder has `widest` bits (see the module documentation).
    pub fn adder_levels(levels: u32, widest: u32, d: &CellDelays) -> Path {
        if levels == 0 {
            return Path::default();
        }
        let cell = d.carry_cell_bits;
        Path {
            luts: levels,
            carry_chains: levels,
            carry_bits: widest.max(1).div_ceil(cell) * cell + (levels - 1) * cell,
            ..Path::default()
        }
    }

    /// Register to register, ns.
    pub fn delay(&self, d: &CellDelays) -> f64 {
        d.cko
            + d.setup
            + d.net * f64::from(self.luts + self.dsp + 1)
            + d.lut * f64::from(self.luts)
            + d.carry_entry * f64::from(self.carry_chains)
            + d.carry_per_bit * f64::from(self.carry_bits)
            + d.muxf * f64::from(self.muxf)
            + d.dsp * f64::from(self.dsp)
    }
}

/// The output cast of a value `width_in` bits wide: an incrementer of `round_bits` bits when it
/// rounds, a comparison over the value and a selecting LUT when it saturates.
pub fn cast_tail(width_in: u32, round_bits: Option<u32>, saturates: bool) -> Path {
    let mut p = Path::default();
    if let Some(b) = round_bits {
        p = p.then(Path::adder(b));
    }
    if saturates {
        p = p.then(Path::adder(width_in)).then(Path::luts(1));
    }
    p
}

/// [`cast_tail`] of a conversion between two types: it rounds when it drops fractional bits in a
/// rounding mode, saturates when the target has fewer integer bits (or loses the sign) in a
/// saturating mode.
pub fn type_cast(from: &FixedType, to: &FixedType) -> Path {
    let drops = to.frac_bits() < from.frac_bits();
    let rounds = (drops && to.quant != QuantMode::Trn).then_some(to.width + 1);
    let narrower = to.integer < from.integer || (from.signed && !to.signed);
    cast_tail(from.width, rounds, narrower && to.overflow != OverflowMode::Wrap)
}

/// A ROM read with an index of `bits` bits: one LUT6 covers 6 index bits, `MUXF7` and `MUXF8` two
/// more, each further LUT level (4:1 multiplexers) two more.
pub fn rom(bits: u32) -> Path {
    let muxf = bits.saturating_sub(6).min(2);
    let extra = bits.saturating_sub(8).div_ceil(2);
    Path { luts: 1 + extra, muxf, ..Path::default() }
}

fn log2_ceil(n: usize) -> u32 {
    if n <= 1 {
        0
    } else {
        usize::BITS - (n - 1).leading_zeros()
    }
}

/// The one stage of a layer other than Dense and Conv (see the module documentation). Wiring
/// layers (no cycle) give an empty path.
pub fn layer_path(g: &LoweredGraph, id: NodeId, d: &CellDelays) -> Path {
    let node = g.node(id);
    let Ok(out) = node.out_ty() else { return Path::default() };
    let ins: Vec<FixedType> = g.inputs_of(id).iter().filter_map(|&i| g.node(i).out_ty().ok()).collect();
    let x = ins.first().copied().unwrap_or(out);
    let in_shape = g.inputs_of(id).first().map(|&i| g.node(i).shape.clone());
    let tree = |n: usize, w: u32| Path::adder_levels(log2_ceil(n), w + log2_ceil(n), d);
    let compare_select = |n: usize, w: u32| {
        let l = log2_ceil(n);
        Path { luts: 2 * l, carry_chains: l, carry_bits: l * w, ..Path::default() }
    };
    let sum_ty = || x.exact_add_type(&x);
    match &node.layer {
        Layer::Input(_) | Layer::Dense(_) | Layer::Conv(_) => Path::default(),
        // The index's range comparison (its select bits go through a shorter tree of 4:1
        // selects, one LUT level per two bits, beside it), the in-range select, the cast.
        Layer::GatherRows(_) => {
            let iw = ins.get(1).map_or(1, |t| t.width);
            Path::adder(iw).then(Path::luts(1)).then(type_cast(&x, &out))
        }
        // The index decode (range comparison and row match), the masked terms' adder tree, the
        // cast of the exact sum.
        Layer::ScatterAdd(_) => {
            let iw = ins.get(1).map_or(1, |t| t.width);
            let m = in_shape.as_ref().and_then(|s| s.dims().first().copied()).unwrap_or(1);
            let grow = log2_ceil(m);
            let sum = FixedType { width: x.width + grow, integer: x.integer + grow as i32, ..x };
            Path::adder(iw).then(Path::luts(1)).then(tree(m, x.width)).then(type_cast(&sum, &out))
        }
        Layer::Reshape(_)
        | Layer::Concatenate(_)
        | Layer::Pad(_)
        | Layer::UpSample(_)
        | Layer::Transpose(_) => {
            if ins.iter().all(|t| *t == out) {
                Path::default()
            } else {
                type_cast(&x, &out)
            }
        }
        Layer::Quantize(_) => type_cast(&x, &out),
        Layer::Activation(a) => match a {
            Activation::Linear => type_cast(&x, &out),
            Activation::Relu | Activation::Clip { .. } => Path::luts(1).then(type_cast(&x, &out)),
            Activation::LeakyRelu { .. } | Activation::PRelu { .. } | Activation::HardSigmoid { .. } => {
                Path::adder(x.width + 4).then(Path::luts(1)).then(type_cast(&x, &out))
            }
            Activation::Sigmoid(_)
            | Activation::Tanh(_)
            | Activation::Softplus(_)
            | Activation::Softsign(_)
            | Activation::Elu(_)
            | Activation::Selu { .. } => Path::adder(x.width).then(rom(x.width.min(10))),
            Activation::ThresholdedRelu { .. } => {
                Path::adder(x.width).then(Path::luts(1)).then(type_cast(&x, &out))
            }
            Activation::HardSwish { .. } => Path::adder(x.width + 4)
                .then(Path::luts(1))
                .then(Path { dsp: 1, ..Path::default() })
                .then(type_cast(&x, &out)),
        },
        Layer::BatchNorm(_) => {
            Path::adder(x.width + 8).then(Path::adder(x.width + 8)).then(type_cast(&x, &out))
        }
        Layer::Elementwise(e) => {
            let n = ins.len().max(2);
            let step = match e.op {
                BinaryOp::Mul => Path { dsp: 1, ..Path::default() },
                BinaryOp::Max | BinaryOp::Min => Path::adder(x.width + 1).then(Path::luts(1)),
                _ => Path::adder(x.width + 1),
            };
            let mut p = Path::default();
            for _ in 1..n {
                p = p.then(step);
            }
            p.then(type_cast(&sum_ty(), &out))
        }
        Layer::Reduce(r) => {
            let n = in_shape.map_or(1, |s| s.elements() / node.shape.elements().max(1));
            match r.op {
                ReduceOp::Max | ReduceOp::Min => compare_select(n, x.width + 1),
                ReduceOp::SumSquare | ReduceOp::L2 => {
                    Path { dsp: 1, ..Path::default() }.then(tree(n, 2 * x.width))
                }
                _ => tree(n, x.width),
            }
            .then(type_cast(&sum_ty(), &out))
        }
        Layer::Pool(p) => {
            let n: usize = p.kernel.iter().product();
            match p.op {
                PoolOp::Max => compare_select(n, x.width + 1),
                PoolOp::Average => tree(n, x.width).then(Path::adder(x.width + 8)),
            }
            .then(type_cast(&sum_ty(), &out))
        }
        Layer::Softmax(_) => {
            let n = node.shape.channels().max(1);
            compare_select(n, x.width + 1)
                .then(Path::adder(x.width + 1))
                .then(rom(x.width.min(10)))
                .then(tree(n, 18))
                .then(rom(10))
                .then(Path { dsp: 1, ..Path::default() })
                .then(type_cast(&sum_ty(), &out))
        }
    }
}

/// The one stage of a `Dense` or `Conv` layer with reuse factor `R > 1` (`backend/rtl/reuse.rs`),
/// its last phase, the longest: the phase counter selects each slot's input (an `R`-to-1 select,
/// a LUT level per two select bits) and each multiplier's weight (in parallel, shorter), the
/// product of two signals (a DSP), the adder tree over the `n_in / R` slots' products, the
/// accumulator's restart select (the bias in phase 0) and adder, the cast into the output
/// register.
pub fn reuse_segment(g: &LoweredGraph, id: NodeId, d: &CellDelays) -> Segment {
    let node = g.node(id);
    let r = node.reuse_factor.max(1);
    let (n_in, wty, accum) = match &node.layer {
        Layer::Dense(l) => (l.n_in(), l.weights.ty, l.accum),
        Layer::Conv(l) => (l.window(), l.weights.ty, l.accum),
        Layer::Input(_)
        | Layer::GatherRows(_)
        | Layer::ScatterAdd(_)
        | Layer::Reshape(_)
        | Layer::Concatenate(_)
        | Layer::Pad(_)
        | Layer::UpSample(_)
        | Layer::Transpose(_)
        | Layer::Quantize(_)
        | Layer::Activation(_)
        | Layer::BatchNorm(_)
        | Layer::Elementwise(_)
        | Layer::Reduce(_)
        | Layer::Pool(_)
        | Layer::Softmax(_) => return Segment::default(),
    };
    let Ok(out) = node.out_ty() else { return Segment::default() };
    let x = g.inputs_of(id).first().and_then(|&i| g.node(i).out_ty().ok()).unwrap_or(out);
    let accum = accum.unwrap_or(out);
    let product = x.width + wty.map_or(x.width, |t| t.width);
    let slots = (n_in / r).max(1);
    let path = Path::luts(log2_ceil(r).div_ceil(2))
        .then(Path { dsp: 1, ..Path::default() })
        .then(Path::adder_levels(log2_ceil(slots), product + log2_ceil(slots), d))
        .then(Path::luts(1))
        .then(Path::adder(accum.width))
        .then(type_cast(&accum, &out));
    Segment { path, adder_levels: log2_ceil(slots) + 1, widest_adder: accum.width }
}

/// The stages of a constant matrix's plan: adder depths `1..=D` and the output cast as a last
/// pseudo-level `D + 1`; a cut at depth `c` registers every value of depth at most `c`.
pub struct MatrixTiming<'a> {
    d: &'a CellDelays,
    depth: u32,
    /// The widest adder (adding bits) at each depth, index 0 unused.
    widest: Vec<u32>,
    tail: Path,
}

/// One stage: its path and what it is made of.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Segment {
    pub path: Path,
    pub adder_levels: u32,
    pub widest_adder: u32,
}

impl<'a> MatrixTiming<'a> {
    /// The timing of `plan` whose outputs go through `tail` before their register.
    pub fn new(plan: &Plan, tail: Path, d: &'a CellDelays) -> Self {
        let depth = plan.max_depth();
        let mut widest = vec![0u32; depth as usize + 1];
        for (id, n) in plan.nodes.iter().enumerate() {
            if let Node::Add { a, b, .. } = n {
                let (lo, hi) = plan.ranges[id];
                let bits = bit_width(lo, hi).saturating_sub(a.shift.abs_diff(b.shift)).max(1);
                let k = plan.depth[id] as usize;
                if k < widest.len() {
                    widest[k] = widest[k].max(bits);
                }
            }
        }
        MatrixTiming { d, depth, widest, tail }
    }

    /// The stage from just after pseudo-level `a` through pseudo-level `b` (`a <= b <= D + 1`).
    pub fn segment(&self, a: u32, b: u32) -> Segment {
        let top = b.min(self.depth);
        let levels = top.saturating_sub(a);
        let widest = (a + 1..=top).map(|k| self.widest[k as usize]).max().unwrap_or(0);
        let mut path = Path::adder_levels(levels, widest, self.d);
        if levels >= 2 {
            let muxf = levels.div_ceil(MERGED_ADDER_LEVELS_PER_MUXF);
            path = path.then(Path { luts: MERGED_ADDER_LUTS, muxf, ..Path::default() });
        }
        if b > self.depth {
            path = path.then(self.tail);
        }
        Segment { path, adder_levels: levels, widest_adder: widest }
    }

    fn delay(&self, a: u32, b: u32) -> f64 {
        self.segment(a, b).path.delay(self.d)
    }

    /// Cuts with every stage at most `limit` ns, each stage as long as it can be; `None` when a
    /// single level exceeds it.
    fn greedy(&self, limit: f64) -> Option<Vec<u32>> {
        let end = self.depth + 1;
        let mut cuts = Vec::new();
        let mut a = 0;
        loop {
            let b = (a + 1..=end).rev().find(|&b| self.delay(a, b) <= limit)?;
            if b == end {
                return Some(cuts);
            }
            cuts.push(b);
            a = b;
        }
    }

    /// Exactly `k - 1` cuts (`k >= 1`) minimizing the slowest stage.
    pub fn cuts(&self, k: u32) -> Vec<u32> {
        let end = self.depth + 1;
        let mut limits: Vec<f64> = Vec::new();
        for a in 0..end {
            for b in a + 1..=end {
                limits.push(self.delay(a, b));
            }
        }
        limits.sort_by(f64::total_cmp);
        let mut cuts = limits
            .iter()
            .find_map(|&t| self.greedy(t).filter(|c| c.len() < k.max(1) as usize))
            .unwrap_or_else(|| (1..=self.depth).collect());
        cuts.truncate(k.max(1) as usize - 1);
        while cuts.len() + 1 < k as usize {
            cuts.push(self.depth);
        }
        cuts
    }

    /// The stages the cuts make.
    pub fn segments(&self, cuts: &[u32]) -> Vec<Segment> {
        let mut out = Vec::with_capacity(cuts.len() + 1);
        let mut a = 0;
        for &c in cuts {
            out.push(self.segment(a, c.max(a)));
            a = c.max(a);
        }
        out.push(self.segment(a, self.depth + 1));
        out
    }

    /// The least stage count whose slowest stage takes at most `period` ns, or one stage per
    /// pseudo-level when no count does.
    pub fn stages_for(&self, period: f64) -> u32 {
        let most = self.depth + 1;
        (1..=most)
            .find(|&k| self.segments(&self.cuts(k)).iter().all(|s| s.path.delay(self.d) <= period))
            .unwrap_or(most)
    }
}

/// One register stage of the design.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageTiming {
    pub layer: String,
    /// 1-based within the layer.
    pub stage: u32,
    pub adder_levels: u32,
    /// Adding bits of the widest adder on the stage (0 when it has none).
    pub widest_adder: u32,
    pub path: Path,
    pub delay_ns: f64,
}

/// The timing of a whole design, for the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimingSummary {
    /// The `synth_xilinx -family` whose cell delays were used.
    pub family: String,
    /// The period the registers were placed for (`--clock-period`), if any.
    pub target_ns: Option<f64>,
    pub latency_cycles: u64,
    /// The slowest stage.
    pub critical: StageTiming,
    /// `1000 / critical.delay_ns`.
    pub fmax_mhz: f64,
    /// Whether every stage meets the target (true without a target).
    pub met: bool,
    /// Every stage with logic, in layer order.
    pub stages: Vec<StageTiming>,
}

impl TimingSummary {
    /// Builds the summary of `stages` (at least one) for a design of `latency_cycles`.
    pub fn new(family: &str, target_ns: Option<f64>, latency_cycles: u64, stages: Vec<StageTiming>) -> Self {
        let critical = stages
            .iter()
            .fold(None::<&StageTiming>, |best, s| match best {
                Some(b) if b.delay_ns >= s.delay_ns => Some(b),
                _ => Some(s),
            })
            .cloned()
            .unwrap_or(StageTiming {
                layer: String::new(),
                stage: 1,
                adder_levels: 0,
                widest_adder: 0,
                path: Path::default(),
                delay_ns: 0.0,
            });
        let met = target_ns.is_none_or(|t| critical.delay_ns <= t);
        let fmax_mhz = if critical.delay_ns > 0.0 { 1000.0 / critical.delay_ns } else { 0.0 };
        TimingSummary {
            family: family.to_string(),
            target_ns,
            latency_cycles,
            critical,
            fmax_mhz,
            met,
            stages,
        }
    }

    /// Latency in ns at the target period, or at the estimated fmax when there is no target or
    /// the design misses it.
    pub fn latency_ns(&self) -> f64 {
        let period = self.target_ns.map_or(self.critical.delay_ns, |t| t.max(self.critical.delay_ns));
        self.latency_cycles as f64 * period
    }

    /// One line for the reports.
    pub fn line(&self) -> String {
        let c = &self.critical;
        let target = match self.target_ns {
            Some(t) if self.met => format!("meets the {t} ns target; "),
            Some(t) => format!("MISSES the {t} ns target; "),
            None => String::new(),
        };
        format!(
            "timing model ({}): {target}latency {} cycles ({:.1} ns); critical stage '{}' stage {}: {} adder levels (widest {} bits), {} LUTs, {} carry bits, {:.2} ns, fmax {:.0} MHz",
            self.family,
            self.latency_cycles,
            self.latency_ns(),
            c.layer,
            c.stage,
            c.adder_levels,
            c.widest_adder,
            c.path.luts,
            c.path.carry_bits,
            c.delay_ns,
            self.fmax_mhz
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::mcm;

    fn plan() -> Plan {
        let (n_in, n_out) = (16, 4);
        let coefs: Vec<i128> = (0..n_in * n_out).map(|k| ((k * 37 + 11) % 61) as i128 - 30).collect();
        mcm::plan(&coefs, &[3, -5, 0, 9], &vec![(0, 63); n_in])
    }

    #[test]
    fn more_stages_never_slow_the_worst_stage_and_periods_are_met() {
        let p = plan();
        let d = &CELL_DELAYS_ULTRASCALE_PLUS;
        let t = MatrixTiming::new(&p, cast_tail(20, None, true), d);
        let worst = |k: u32| {
            let cuts = t.cuts(k);
            assert_eq!(cuts.len() + 1, k as usize);
            assert!(cuts.windows(2).all(|w| w[0] <= w[1]));
            t.segments(&cuts).iter().map(|s| s.path.delay(d)).fold(0.0, f64::max)
        };
        let mut last = f64::MAX;
        for k in 1..=p.max_depth() + 3 {
            let w = worst(k);
            assert!(w <= last + 1e-12, "{k} stages: {w} > {last}");
            last = w;
        }
        for period in [1.0, 1.5, 2.0, 3.0, 5.0] {
            let k = t.stages_for(period);
            let w = worst(k);
            assert!(w <= period || k == p.max_depth() + 1, "{period}: {k} stages, {w} ns");
            if k > 1 {
                assert!(worst(k - 1) > period, "{period}: {k} stages is not the least");
            }
        }
        assert_eq!(t.stages_for(1000.0), 1);
    }

    #[test]
    fn paths_add_cells_and_delays_grow_with_them() {
        let d = &CELL_DELAYS_ULTRASCALE_PLUS;
        let a = Path::adder_levels(3, 17, d);
        assert_eq!((a.luts, a.carry_chains, a.carry_bits), (3, 3, 24 + 16));
        assert!(a.delay(d) > Path::adder_levels(2, 17, d).delay(d));
        assert!(a.then(Path::luts(1)).delay(d) > a.delay(d));
        assert_eq!(rom(6), Path::luts(1));
        assert_eq!(rom(10), Path { luts: 2, muxf: 2, ..Path::default() });
    }
}
