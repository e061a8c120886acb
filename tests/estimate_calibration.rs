//! Calibration of the estimator against real HLS csynth results (`golden/calibration/points.csv`).
//!
//! Each used point's design is rebuilt as an IR graph from its `design` column (an MLP, a
//! convolution or a pooling layer, in io_parallel or io_stream), estimated for the point's part,
//! clock and tool, and compared with the reported latency, II, DSP, LUT, FF and BRAM. The tool is
//! read from the point's `notes` (`[HLS csynth ...] Vivado HLS ...` or `Vitis HLS ...`; the
//! `tool` column must agree). The test prints every point and, per tool, the median absolute
//! relative error of each quantity over the points with a nonzero reference (and how many
//! zero references the estimate also gives as zero), then asserts for each tool: median
//! |rel. error| <= 20 % for latency, DSP, LUT and FF. It also checks that
//! `estimate::calibrated::CALIBRATED` lists exactly the layer combinations the used points cover.
//! Skipped points are listed with their reason.
//!
//! The trained weights of the reference designs were not published (tutorial models), so weights
//! are drawn per the design's `init`: `trained` from a seeded Laplace distribution per layer whose
//! scale is the mean |w| of the corresponding layer of `KERAS_3layer_weights.h5` (the hls4ml
//! jet-tagging MLP: 0.480, 0.119, 0.179, 0.253; an L1-trained network's weights are close to
//! Laplace, and this reproduces the distribution of significant bits of the real weights);
//! `lecun` from Keras' `lecun_uniform` (U(±sqrt(3 / fan_in))) for the unit tests built with it;
//! `uniform:LO:HI` from U(LO, HI) (Keras `glorot_uniform` bounds, written out per point, and
//! `RandomUniform(1, 10)`). Pruned points zero the stated fraction of each layer's weights, chosen
//! by a seeded shuffle. Biases are zero except for `trained` designs. io_stream designs are
//! estimated with hls4ml's FIFO depths (each FIFO as deep as its tensor: `FifoDepth::Max`).
//!
//! Points that measure hls4ml's shared-multiplier design (one pipeline with II = 2 and an
//! `ALLOCATION` limit on multipliers) are skipped: the reuse-factor-2 points, and the pruned
//! points that hls4ml's multiplier limit pushed to II = 2 at reuse factor 1. hls-gen builds an
//! unrolled pipeline at reuse factor 1 and a dataflow design of multiplexed dense layers above it
//! (`arch::hls`); the shared-multiplier design shares only its multiplier count with the latter.

use std::collections::{BTreeMap, BTreeSet};

use hls_gen::estimate::stream::FifoDepth;
use hls_gen::estimate::{self, calibrated, lookup_part, HlsTool, Options};
use hls_gen::fixed::{FixedType, OverflowMode, QuantMode};
use hls_gen::ir::{
    Activation, Conv, Dense, Graph, Input, Layer, LoweredGraph, NodeId, Pool, PoolOp, Shape, Softmax,
    Strategy, Table, Weights,
};

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

/// The design's key-value pairs.
struct Spec<'a> {
    id: &'a str,
    kv: BTreeMap<&'a str, &'a str>,
}

impl<'a> Spec<'a> {
    fn new(id: &'a str, spec: &'a str) -> Self {
        Spec { id, kv: spec.split_whitespace().filter_map(|f| f.split_once('=')).collect() }
    }

    fn get(&self, k: &str) -> &'a str {
        self.kv.get(k).copied().unwrap_or_else(|| panic!("{}: design has no '{k}'", self.id))
    }

    fn list(&self, k: &str) -> Vec<usize> {
        self.get(k).split(',').map(|w| w.parse().unwrap()).collect()
    }

    fn io_stream(&self) -> bool {
        self.kv.get("io") == Some(&"stream")
    }
}

/// Draws `n` weights as the design's `init` says (`trained`, `lecun`, `uniform:LO:HI`), quantized to
/// `wt`, and zeroes the fraction `prune` of them.
fn draw(s: &Spec, rng: &mut Rng, layer: usize, fan_in: usize, n: usize, wt: &FixedType) -> Vec<f64> {
    let init = s.get("init");
    let prune: f64 = s.kv.get("prune").map_or(0.0, |p| p.parse().unwrap());
    let (lo, hi) = match init.split(':').collect::<Vec<_>>()[..] {
        ["uniform", lo, hi] => (lo.parse().unwrap(), hi.parse().unwrap()),
        ["lecun"] => {
            let limit = (3.0 / fan_in as f64).sqrt();
            (-limit, limit)
        }
        ["trained"] => (0.0, 0.0),
        _ => panic!("{}: unknown init {init}", s.id),
    };
    let mut w: Vec<f64> = (0..n)
        .map(|_| {
            let v = if init == "trained" {
                rng.laplace(TRAINED_SCALE[layer.min(3)])
            } else {
                lo + (hi - lo) * rng.unit()
            };
            quantize(v, wt)
        })
        .collect();
    let mut order: Vec<usize> = (0..w.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, (rng.next() % (i as u64 + 1)) as usize);
    }
    for &i in order.iter().take((prune * w.len() as f64).round() as usize) {
        w[i] = 0.0;
    }
    w
}

fn build(id: &str, spec: &str) -> Graph {
    let s = Spec::new(id, spec);
    match s.kv.get("kind").copied().unwrap_or("mlp") {
        "mlp" => build_mlp(&s),
        "conv" => build_conv(&s),
        "pool" => build_pool(&s),
        other => panic!("{id}: unknown design kind {other}"),
    }
}

/// Keras `padding`: `valid` pads nothing; `same` pads `max((out - 1) * stride + k - in, 0)`, the
/// smaller half before.
fn padding(s: &Spec, input: &[usize], kernel: &[usize], strides: &[usize]) -> (Vec<usize>, Vec<usize>) {
    let same = s.get("pad") == "same";
    let total: Vec<usize> = (0..kernel.len())
        .map(|d| {
            let out = input[d].div_ceil(strides[d]);
            if same {
                ((out - 1) * strides[d] + kernel[d]).saturating_sub(input[d])
            } else {
                0
            }
        })
        .collect();
    (total.iter().map(|t| t / 2).collect(), total.iter().map(|t| t - t / 2).collect())
}

fn input(g: &mut Graph, s: &Spec) -> (NodeId, Vec<usize>) {
    let dims = s.list("in");
    let x = g.add("input", Layer::Input(Input::new(Shape::new(dims.clone()))), &[]).unwrap();
    g.node_mut(x).ty = Some(ty(s.get("x")));
    (x, dims)
}

fn build_conv(s: &Spec) -> Graph {
    let mut g = Graph::new(s.id);
    let (x, dims) = input(&mut g, s);
    let (wt, acc, y) = (ty(s.get("w")), ty(s.get("acc")), ty(s.get("y")));
    let kernel = s.list("kernel");
    let strides = s.list("stride");
    let (filters, groups) = (s.list("filters")[0], s.list("groups")[0]);
    let channels = dims[dims.len() - 1];
    let window: usize = kernel.iter().product::<usize>() * channels / groups;
    let mut rng = Rng(s.get("seed").parse().unwrap());
    let w = draw(s, &mut rng, 0, window, window * filters, &wt);
    let mut wshape = kernel.clone();
    wshape.extend([channels / groups, filters]);
    let (pads_begin, pads_end) = padding(s, &dims, &kernel, &strides);
    let conv = Conv {
        weights: typed(Shape::new(wshape), w, wt),
        bias: typed(Shape::new([filters]), vec![0.0; filters], wt),
        dilations: vec![1; kernel.len()],
        strides,
        pads_begin,
        pads_end,
        groups,
        accum: Some(acc),
    };
    let c = g.add("conv", Layer::Conv(conv), &[x]).unwrap();
    g.node_mut(c).ty = Some(y);
    if s.kv.get("strategy") == Some(&"resource") {
        g.node_mut(c).strategy = Strategy::Resource;
    }
    g.set_outputs(vec![c]);
    g
}

fn build_pool(s: &Spec) -> Graph {
    let mut g = Graph::new(s.id);
    let (x, dims) = input(&mut g, s);
    let kernel = s.list("pool");
    let (pads_begin, pads_end) = padding(s, &dims, &kernel, &kernel);
    let op = if s.get("op") == "max" { PoolOp::Max } else { PoolOp::Average };
    let window = kernel.iter().product();
    let pool = Pool {
        op,
        strides: kernel.clone(),
        kernel,
        pads_begin,
        pads_end,
        count_pad: false,
        reciprocal: (op == PoolOp::Average).then(|| Pool::default_reciprocal(window)),
    };
    let p = g.add("pool", Layer::Pool(pool), &[x]).unwrap();
    g.node_mut(p).ty = Some(ty(s.get("y")));
    g.set_outputs(vec![p]);
    g
}

fn typed(shape: Shape, values: Vec<f64>, t: FixedType) -> Weights {
    let mut w = Weights::new(shape, values);
    w.ty = Some(t);
    w
}

fn build_mlp(s: &Spec) -> Graph {
    let get = |k: &str| s.get(k);
    let widths = s.list("layers");
    let (wt, acc, y, a) = (ty(get("w")), ty(get("acc")), ty(get("y")), ty(get("a")));
    let rf: usize = s.kv.get("rf").map_or(1, |r| r.parse().unwrap());
    let trained = get("init") == "trained";
    let mut rng = Rng(get("seed").parse().unwrap());

    let mut g = Graph::new(s.id);
    let (mut prev, dims) = input(&mut g, s);
    let mut fan_in = dims[0];
    for (l, &n_out) in widths.iter().enumerate() {
        let w = draw(s, &mut rng, l, fan_in, fan_in * n_out, &wt);
        let b: Vec<f64> =
            (0..n_out).map(|_| if trained { quantize(rng.laplace(BIAS_SCALE), &wt) } else { 0.0 }).collect();
        let dense = Layer::Dense(Dense {
            weights: typed(Shape::new([fan_in, n_out]), w, wt),
            bias: typed(Shape::new([n_out]), b, wt),
            accum: Some(acc),
        });
        prev = g.add(format!("dense{}", l + 1), dense, &[prev]).unwrap();
        g.node_mut(prev).ty = Some(y);
        g.node_mut(prev).reuse_factor = rf;
        let last = l + 1 == widths.len();
        let act = if last { get("last") } else { "relu" };
        let slope = FixedType::new(16, 6, true);
        let (layer, out_ty) = match act.split_once(':').unwrap_or((act, "")) {
            ("relu", _) => (Layer::Activation(Activation::Relu), a),
            ("leaky_relu", v) => {
                let mut alpha = Weights::scalar(v.parse().unwrap());
                alpha.ty = Some(slope);
                (Layer::Activation(Activation::LeakyRelu { alpha }), a)
            }
            ("prelu", v) => {
                let alpha = typed(Shape::new([n_out]), vec![v.parse().unwrap(); n_out], slope);
                (Layer::Activation(Activation::PRelu { alpha }), a)
            }
            ("elu", v) => {
                (Layer::Activation(Activation::Elu(filled(Table::elu_default(v.parse().unwrap())))), a)
            }
            ("sigmoid", _) => (Layer::Activation(Activation::Sigmoid(filled(Table::sigmoid_default()))), a),
            ("softmax", _) => {
                let sm = Softmax::default_for(n_out);
                let sm = Softmax { exp_table: filled(sm.exp_table), inv_table: filled(sm.inv_table) };
                (Layer::Softmax(sm), y)
            }
            (other, _) => panic!("{}: unknown activation {other}", s.id),
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

/// The tool whose csynth report a point gives, from its `notes` (`[HLS csynth ...] Vivado HLS
/// 2019.2`, `... Vitis HLS 2024.1`); `None` for a report of another stage.
fn tool_of(notes: &str) -> Option<HlsTool> {
    if !notes.starts_with("[HLS csynth") {
        return None;
    }
    if notes.contains("Vivado HLS") {
        Some(HlsTool::VivadoHls)
    } else if notes.contains("Vitis HLS") {
        Some(HlsTool::VitisHls)
    } else {
        None
    }
}

const QUANTITIES: [&str; 6] = ["latency_cycles", "ii", "dsp", "lut", "ff", "bram"];

/// One tool's errors.
#[derive(Default)]
struct Errors {
    points: usize,
    /// |relative error| per quantity, over the points with a nonzero reference.
    rel: BTreeMap<&'static str, Vec<f64>>,
    /// Per quantity: points with a zero reference, and how many of them the estimate gives as 0.
    zero_refs: BTreeMap<&'static str, (usize, usize)>,
}

impl Errors {
    fn median(&self, q: &str) -> f64 {
        median(self.rel.get(q).cloned().unwrap_or_default())
    }
}

#[test]
fn calibration_targets() {
    let rows = parse_csv(POINTS);
    let header = &rows[0];
    let col =
        |name: &str| header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
    let (c_id, c_tool, c_skip, c_design) = (col("id"), col("tool"), col("skip"), col("design"));
    let (c_part, c_clock, c_notes) = (col("part"), col("clock_ns"), col("notes"));
    let cols: Vec<usize> = QUANTITIES.iter().map(|q| col(q)).collect();

    let mut by_tool: BTreeMap<&str, Errors> = BTreeMap::new();
    let mut skipped = Vec::new();
    let mut covered = BTreeSet::new();
    println!(
        "{:<34} {:>6} {:>13} {:>11} {:>22} {:>24} {:>24} {:>15}",
        "point",
        "tool",
        "latency e/r",
        "II e/r",
        "DSP e/r (err)",
        "LUT e/r (err)",
        "FF e/r (err)",
        "BRAM e/r (err)"
    );
    for r in rows.iter().skip(1).filter(|r| r.len() == header.len()) {
        let id = &r[c_id];
        let tool = tool_of(&r[c_notes]);
        if let Some(t) = tool {
            let column = if t == HlsTool::VivadoHls { "vivado" } else { "vitis" };
            assert_eq!(r[c_tool], column, "{id}: the tool column disagrees with the notes");
        }
        if !r[c_skip].is_empty() {
            skipped.push(format!("{id}: {}", r[c_skip]));
            continue;
        }
        let tool =
            tool.unwrap_or_else(|| panic!("{id}: a used point must be a Vivado or Vitis HLS csynth report"));
        let spec = Spec::new(id, &r[c_design]);
        let g = LoweredGraph::new(build(id, &r[c_design])).expect("a valid design");
        let part_name = r[c_part].split_whitespace().next().unwrap();
        let part = lookup_part(part_name).unwrap();
        let clock: f64 = r[c_clock].parse().unwrap();
        let opts = Options { tool, clock_uncertainty: None };
        // hls4ml sizes every FIFO to its tensor: the `max` depths.
        let est = if spec.io_stream() {
            estimate::stream::estimate(&g, &part, clock, &opts, FifoDepth::Max).map(|(e, _)| e)
        } else {
            estimate::estimate_with(&g, &part, clock, &opts)
        }
        .unwrap_or_else(|e| panic!("{id}: {e}"));
        let io = if spec.io_stream() { "io_stream" } else { "io_parallel" };
        for l in &est.layers {
            covered.insert(calibrated::key(io, &l.strategy, l.reuse_factor, &l.kind));
        }
        let t = &est.total;
        let values = [t.latency_cycles, t.ii, t.dsp, t.lut, t.ff, t.bram18].map(|v| v as f64);
        let errs = by_tool.entry(tool.name()).or_default();
        errs.points += 1;
        let mut cells = Vec::new();
        for (i, q) in QUANTITIES.iter().enumerate() {
            let Ok(reference) = r[cols[i]].parse::<f64>() else {
                cells.push(format!("{}/?", values[i]));
                continue;
            };
            let e = rel(values[i], reference);
            match e {
                Some(e) => errs.rel.entry(q).or_default().push(e.abs()),
                None => {
                    let z = errs.zero_refs.entry(q).or_default();
                    z.0 += 1;
                    z.1 += usize::from(values[i] == 0.0);
                }
            }
            let pct = e.map_or("   n/a".to_string(), |e| format!("{:+6.1}%", 100.0 * e));
            cells.push(match *q {
                "dsp" | "lut" | "ff" | "bram" => format!("{}/{} ({pct})", values[i], reference),
                _ => format!("{}/{}", values[i], reference),
            });
        }
        println!(
            "{:<34} {:>6} {:>13} {:>11} {:>22} {:>24} {:>24} {:>15}",
            id, r[c_tool], cells[0], cells[1], cells[2], cells[3], cells[4], cells[5]
        );
    }
    let used: usize = by_tool.values().map(|e| e.points).sum();
    println!("\nmedian |relative error| per tool over {used} points (points with a nonzero reference; zero references: how many the estimate also gives as 0):");
    println!(
        "{:<11} {:>6} {:>16} {:>16} {:>16} {:>16} {:>16}",
        "tool", "points", "latency", "DSP", "LUT", "FF", "BRAM"
    );
    for (tool, e) in &by_tool {
        let cell = |q: &str| {
            let n = e.rel.get(q).map_or(0, Vec::len);
            let (z, ok) = e.zero_refs.get(q).copied().unwrap_or_default();
            let zeros = if z > 0 { format!(" {ok}/{z}=0") } else { String::new() };
            format!("{:5.1} % ({n}){zeros}", 100.0 * e.median(q))
        };
        println!(
            "{tool:<11} {:>6} {:>16} {:>16} {:>16} {:>16} {:>16}",
            e.points,
            cell("latency_cycles"),
            cell("dsp"),
            cell("lut"),
            cell("ff"),
            cell("bram")
        );
    }
    println!("\nskipped {} rows:", skipped.len());
    for s in &skipped {
        println!("  {s}");
    }
    assert!(used >= 60, "only {used} usable points");
    let listed: BTreeSet<String> = calibrated::CALIBRATED.iter().map(|k| k.to_string()).collect();
    assert_eq!(covered, listed, "estimate::calibrated::CALIBRATED must list what the used points cover");
    for tool in [HlsTool::VivadoHls, HlsTool::VitisHls] {
        let e = by_tool.get(tool.name()).unwrap_or_else(|| panic!("no {} point", tool.name()));
        for q in ["latency_cycles", "dsp", "lut", "ff"] {
            let m = e.median(q);
            assert!(m <= 0.20, "{}: median {q} error {:.1} % > 20 %", tool.name(), 100.0 * m);
        }
    }
}
