//! Calibration of the estimator against real HLS csynth results (`golden/calibration/points.csv`).
//!
//! Each used point's design is rebuilt as an IR graph from its `design` column, estimated for the
//! point's part, clock and tool, and compared with the reported latency, II, DSP, LUT, FF and
//! BRAM. The test prints every point and the median absolute relative error per quantity, then
//! asserts the targets: median |rel. error| <= 20 % for DSP and for LUT, and latency within
//! 2 cycles or 20 % (median over the points of the absolute cycle error <= 2, or median
//! |rel. error| <= 20 %). Skipped points are listed with their reason.
//!
//! The trained weights of the reference designs were not published (tutorial models) or are not
//! read yet (the Keras importer is written in parallel), so weights are drawn from a seeded
//! Laplace distribution per layer whose scale is the mean |w| of the corresponding layer of
//! `KERAS_3layer_weights.h5` (the hls4ml jet-tagging MLP: 0.480, 0.119, 0.179, 0.253; an L1-trained
//! network's weights are close to Laplace, and this reproduces the distribution of significant
//! bits of the real weights), or from Keras' `lecun_uniform` (U(±sqrt(3 / fan_in))) for the unit
//! tests built with it. Pruned points zero the stated fraction of each layer's weights, chosen by
//! a seeded shuffle.
//!
//! Points that measure hls4ml's shared-multiplier design (one pipeline with II = 2 and an
//! `ALLOCATION` limit on multipliers) are skipped: the reuse-factor-2 points, and the pruned
//! points that hls4ml's multiplier limit pushed to II = 2 at reuse factor 1. hls-gen builds an
//! unrolled pipeline at reuse factor 1 and a dataflow design of multiplexed dense layers above it
//! (`arch::hls`); the shared-multiplier design shares only its multiplier count with the latter.

use std::collections::BTreeMap;

use hls_gen::estimate::{self, lookup_part, HlsTool, Options};
use hls_gen::fixed::{FixedType, OverflowMode, QuantMode};
use hls_gen::ir::{Activation, Dense, Graph, Input, Layer, LoweredGraph, Shape, Softmax, Table, Weights};

const POINTS: &str = include_str!("../golden/calibration/points.csv");

/// Mean |w| per layer of KERAS_3layer_weights.h5 (fc1, fc2, fc3, output).
const TRAINED_SCALE: [f64; 4] = [0.480, 0.119, 0.179, 0.253];
/// Laplace scale of the biases (the same file's biases lie within about ±1).
const BIAS_SCALE: f64 = 0.3;

fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => row.push(std::mem::take(&mut field)),
            ('\n', false) => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            ('\r', false) => {}
            (c, _) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

/// splitmix64: a small, well-mixed, seedable generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1).
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn laplace(&mut self, scale: f64) -> f64 {
        let u = self.unit() - 0.5;
        -scale * u.signum() * (1.0 - 2.0 * u.abs()).ln()
    }
}

/// `W,I` or `W,I,rnd,sat`.
fn ty(spec: &str) -> FixedType {
    let p: Vec<&str> = spec.split(',').collect();
    let t = FixedType::new(p[0].parse().unwrap(), p[1].parse().unwrap(), true);
    if p.len() > 2 {
        t.with_modes(QuantMode::Rnd, OverflowMode::Sat)
    } else {
        t
    }
}

/// Floors `v` onto the grid of `t` and clamps it into range (an `ap_fixed` conversion with
/// truncation and saturation).
fn quantize(v: f64, t: &FixedType) -> f64 {
    let step = 2f64.powi(-t.frac_bits());
    let half = 2f64.powi(t.width as i32 - 1);
    let raw = (v / step).floor().clamp(-half, half - 1.0);
    raw * step
}

fn filled(mut t: Table) -> Table {
    t.values = vec![0.0; t.len()];
    t
}

fn build(id: &str, spec: &str) -> Graph {
    let kv: BTreeMap<&str, &str> = spec.split_whitespace().filter_map(|f| f.split_once('=')).collect();
    let get = |k: &str| *kv.get(k).unwrap_or_else(|| panic!("{id}: design has no '{k}'"));
    let n_in: usize = get("in").parse().unwrap();
    let widths: Vec<usize> = get("layers").split(',').map(|w| w.parse().unwrap()).collect();
    let (x, wt, acc, y, a) = (ty(get("x")), ty(get("w")), ty(get("acc")), ty(get("y")), ty(get("a")));
    let rf: usize = kv.get("rf").map_or(1, |r| r.parse().unwrap());
    let prune: f64 = kv.get("prune").map_or(0.0, |p| p.parse().unwrap());
    let trained = get("init") == "trained";
    let mut rng = Rng(get("seed").parse().unwrap());

    let mut g = Graph::new(id);
    let mut prev = g.add("input", Layer::Input(Input::new(Shape::new([n_in]))), &[]).unwrap();
    g.node_mut(prev).ty = Some(x);
    let mut fan_in = n_in;
    for (l, &n_out) in widths.iter().enumerate() {
        let limit = (3.0 / fan_in as f64).sqrt();
        let mut w: Vec<f64> = (0..fan_in * n_out)
            .map(|_| {
                let v = if trained {
                    rng.laplace(TRAINED_SCALE[l.min(3)])
                } else {
                    limit * (2.0 * rng.unit() - 1.0)
                };
                quantize(v, &wt)
            })
            .collect();
        let mut order: Vec<usize> = (0..w.len()).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, (rng.next() % (i as u64 + 1)) as usize);
        }
        for &i in order.iter().take((prune * w.len() as f64).round() as usize) {
            w[i] = 0.0;
        }
        let b: Vec<f64> =
            (0..n_out).map(|_| if trained { quantize(rng.laplace(BIAS_SCALE), &wt) } else { 0.0 }).collect();
        let mut weights = Weights::new(Shape::new([fan_in, n_out]), w);
        weights.ty = Some(wt);
        let mut bias = Weights::new(Shape::new([n_out]), b);
        bias.ty = Some(wt);
        let dense = Layer::Dense(Dense { weights, bias, accum: Some(acc) });
        prev = g.add(format!("dense{}", l + 1), dense, &[prev]).unwrap();
        g.node_mut(prev).ty = Some(y);
        g.node_mut(prev).reuse_factor = rf;
        let last = l + 1 == widths.len();
        let act = if last { get("last") } else { "relu" };
        let scalar = |v: f64| {
            let mut s = Weights::scalar(v);
            s.ty = Some(FixedType::new(16, 6, true));
            s
        };
        let (layer, out_ty) = match act.split_once(':').unwrap_or((act, "")) {
            ("relu", _) => (Layer::Activation(Activation::Relu), a),
            ("leaky_relu", v) => {
                (Layer::Activation(Activation::LeakyRelu { alpha: scalar(v.parse().unwrap()) }), a)
            }
            ("prelu", v) => {
                let mut alpha = Weights::new(Shape::new([n_out]), vec![v.parse().unwrap(); n_out]);
                alpha.ty = Some(FixedType::new(16, 6, true));
                (Layer::Activation(Activation::PRelu { alpha }), a)
            }
            ("sigmoid", _) => (Layer::Activation(Activation::Sigmoid(filled(Table::sigmoid_default()))), a),
            ("softmax", _) => {
                let s = Softmax::default_for(n_out);
                let s = Softmax { exp_table: filled(s.exp_table), inv_table: filled(s.inv_table) };
                (Layer::Softmax(s), y)
            }
            (other, _) => panic!("{id}: unknown activation {other}"),
        };
        prev = g.add(format!("{act}{}", l + 1), layer, &[prev]).unwrap();
        g.node_mut(prev).ty = Some(out_ty);
        fan_in = n_out;
    }
    g.set_outputs(vec![prev]);
    g
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => 0.5 * (v[n / 2 - 1] + v[n / 2]),
    }
}

fn rel(est: f64, reference: f64) -> Option<f64> {
    (reference != 0.0).then(|| (est - reference) / reference)
}

#[test]
fn calibration_targets() {
    let rows = parse_csv(POINTS);
    let header = &rows[0];
    let col =
        |name: &str| header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
    let (c_id, c_tool, c_skip, c_design) = (col("id"), col("tool"), col("skip"), col("design"));
    let (c_part, c_clock) = (col("part"), col("clock_ns"));
    let quantities = ["latency_cycles", "ii", "dsp", "lut", "ff", "bram"];
    let cols: Vec<usize> = quantities.iter().map(|q| col(q)).collect();

    let mut errors: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut latency_abs = Vec::new();
    let mut within = 0;
    let mut used = 0;
    let mut skipped = Vec::new();
    println!(
        "{:<34} {:>17} {:>11} {:>22} {:>24} {:>22} {:>11}",
        "point", "latency e/r", "II e/r", "DSP e/r (err)", "LUT e/r (err)", "FF e/r (err)", "BRAM e/r"
    );
    for r in rows.iter().skip(1).filter(|r| r.len() == header.len()) {
        if !r[c_skip].is_empty() {
            skipped.push(format!("{}: {}", r[c_id], r[c_skip]));
            continue;
        }
        used += 1;
        let g = LoweredGraph::new(build(&r[c_id], &r[c_design])).expect("a valid design");
        let part_name = r[c_part].split_whitespace().next().unwrap();
        let part = lookup_part(part_name).unwrap();
        let tool = if r[c_tool] == "vivado" { HlsTool::VivadoHls } else { HlsTool::VitisHls };
        let clock: f64 = r[c_clock].parse().unwrap();
        let est = estimate::estimate_with(&g, &part, clock, &Options { tool, clock_uncertainty: None })
            .unwrap_or_else(|e| panic!("{}: {e}", r[c_id]));
        let t = &est.total;
        let values = [t.latency_cycles, t.ii, t.dsp, t.lut, t.ff, t.bram18].map(|v| v as f64);
        let refs: Vec<Option<f64>> = cols.iter().map(|&c| r[c].parse::<f64>().ok()).collect();
        let mut cells = Vec::new();
        for (i, q) in quantities.iter().enumerate() {
            let Some(reference) = refs[i] else {
                cells.push(format!("{}/?", values[i]));
                continue;
            };
            let e = rel(values[i], reference);
            if let Some(e) = e {
                errors.entry(q).or_default().push(e.abs());
            }
            let pct = e.map_or("   n/a".to_string(), |e| format!("{:+6.1}%", 100.0 * e));
            cells.push(match *q {
                "dsp" | "lut" | "ff" => format!("{}/{} ({pct})", values[i], reference),
                _ => format!("{}/{}", values[i], reference),
            });
            if *q == "latency_cycles" {
                let d = (values[i] - reference).abs();
                latency_abs.push(d);
                if d <= 2.0 || e.is_some_and(|e| e.abs() <= 0.2) {
                    within += 1;
                }
            }
        }
        println!(
            "{:<34} {:>17} {:>11} {:>22} {:>24} {:>22} {:>11}",
            r[c_id], cells[0], cells[1], cells[2], cells[3], cells[4], cells[5]
        );
    }
    println!("\nmedian |relative error| over {used} points:");
    for (q, v) in &errors {
        println!(
            "  {q:<15} {:6.1} %  ({} points with a nonzero reference)",
            100.0 * median(v.clone()),
            v.len()
        );
    }
    let lat_abs = median(latency_abs.clone());
    println!(
        "  latency: median |error| {lat_abs} cycles; {within}/{} points within 2 cycles or 20 %",
        latency_abs.len()
    );
    println!("\nskipped {} rows:", skipped.len());
    for s in &skipped {
        println!("  {s}");
    }
    let m = |q: &str| median(errors.get(q).cloned().unwrap_or_default());
    assert!(used >= 20, "only {used} usable points");
    assert!(m("dsp") <= 0.20, "median DSP error {:.1} % > 20 %", 100.0 * m("dsp"));
    assert!(m("lut") <= 0.20, "median LUT error {:.1} % > 20 %", 100.0 * m("lut"));
    assert!(
        lat_abs <= 2.0 || m("latency_cycles") <= 0.20,
        "median latency error {lat_abs} cycles / {:.1} %",
        100.0 * m("latency_cycles")
    );
}
