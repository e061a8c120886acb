//! Helpers shared by the backend integration tests: seeded random numbers, graph building with
//! exactly representable constants, table filling, an exact integer reference of the layer
//! arithmetic in `src/ir/layer.rs`, exact decimal text, and locating the ap_types headers.
#![allow(dead_code)]

pub mod bin;
pub mod cnn;
pub mod reference;
pub mod windows;

use std::path::{Path, PathBuf};

use hls_gen::fixed::{FixedType, OverflowMode, QuantMode};
use hls_gen::ir::{layout, Graph, NodeId, Shape, Strategy, Table, Weights};
use hls_gen::sim::OutputTensor;

/// splitmix64: small, seeded, reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i128, hi: i128) -> i128 {
        let span = (hi - lo + 1) as u128;
        lo + (self.next_u64() as u128 % span) as i128
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}

pub fn fx(width: u32, integer: i32) -> FixedType {
    FixedType::new(width, integer, true)
}

pub fn ufx(width: u32, integer: i32) -> FixedType {
    FixedType::new(width, integer, false)
}

pub fn modes(ty: FixedType, q: QuantMode, o: OverflowMode) -> FixedType {
    ty.with_modes(q, o)
}

/// Smallest and largest raw values of `ty`.
pub fn raw_range(ty: &FixedType) -> (i128, i128) {
    let w = ty.width;
    if ty.signed {
        (-(1i128 << (w - 1)), (1i128 << (w - 1)) - 1)
    } else {
        (0, (1i128 << w) - 1)
    }
}

pub fn value_of(raw: i128, ty: &FixedType) -> f64 {
    raw as f64 * 2f64.powi(-ty.frac_bits())
}

pub fn raw_of(v: f64, ty: &FixedType) -> i128 {
    let r = v * 2f64.powi(ty.frac_bits());
    assert!(r.fract() == 0.0, "{v} is not exact in {ty:?}");
    r as i128
}

/// A typed constant from raw values.
pub fn weights(shape: &[usize], raws: &[i128], ty: FixedType) -> Weights {
    let mut w = Weights::new(Shape::new(shape.to_vec()), raws.iter().map(|&r| value_of(r, &ty)).collect());
    w.ty = Some(ty);
    w
}

/// A typed constant of random raw values, `zero_percent` of them zero.
pub fn random_weights(rng: &mut Rng, shape: &[usize], ty: FixedType, zero_percent: u64) -> Weights {
    let (lo, hi) = raw_range(&ty);
    let n: usize = shape.iter().product();
    let raws: Vec<i128> =
        (0..n).map(|_| if rng.chance(zero_percent) { 0 } else { rng.range(lo, hi) }).collect();
    weights(shape, &raws, ty)
}

pub fn scalar(value: f64, ty: FixedType) -> Weights {
    let mut w = Weights::scalar(value);
    w.ty = Some(ty);
    w
}

/// Fills a table with `f` of each index's value, rounded to nearest (ties up) and saturated.
pub fn fill_table(mut t: Table, f: impl Fn(f64) -> f64) -> Table {
    let w = t.index_ty.width;
    let (lo, hi) = raw_range(&t.ty);
    t.values = (0..(1i128 << w))
        .map(|k| {
            let raw_index = if t.index_ty.signed { k - (1i128 << (w - 1)) } else { k };
            let x = value_of(raw_index, &t.index_ty);
            let y = f(x) * 2f64.powi(t.ty.frac_bits());
            let raw = if y.is_nan() { 0 } else { (y + 0.5).floor().clamp(lo as f64, hi as f64) as i128 };
            value_of(raw, &t.ty)
        })
        .collect();
    t
}

pub fn sigmoid_table() -> Table {
    fill_table(Table::sigmoid_default(), |x| 1.0 / (1.0 + (-x).exp()))
}

pub fn tanh_table() -> Table {
    fill_table(Table::tanh_default(), f64::tanh)
}

pub fn softmax_tables(n: usize) -> hls_gen::ir::Softmax {
    let s = hls_gen::ir::Softmax::default_for(n);
    hls_gen::ir::Softmax {
        exp_table: fill_table(s.exp_table, |d| (-d).exp()),
        inv_table: fill_table(s.inv_table, |s| 1.0 / s),
    }
}

/// Adds a typed node, checking that the layer gives it `shape`.
pub fn add(
    g: &mut Graph,
    name: &str,
    layer: hls_gen::ir::Layer,
    shape: &[usize],
    ty: FixedType,
    inputs: &[NodeId],
) -> NodeId {
    let id = g.add(name, layer, inputs).expect("the layer fits its inputs");
    assert_eq!(g.node(id).shape.dims(), shape, "shape of {name}");
    g.node_mut(id).ty = Some(ty);
    id
}

/// Adds a typed model input of shape `shape`.
pub fn input(g: &mut Graph, name: &str, shape: &[usize], ty: FixedType) -> NodeId {
    let layer = hls_gen::ir::Layer::Input(hls_gen::ir::Input::new(Shape::new(shape.to_vec())));
    add(g, name, layer, shape, ty, &[])
}

/// The graph as the stages after the passes take it; panics when it does not validate.
pub fn lowered(g: Graph) -> hls_gen::ir::LoweredGraph {
    hls_gen::ir::LoweredGraph::new(g).expect("the graph validates at the lowered stage")
}

pub fn set_strategy(g: &mut Graph, id: NodeId, strategy: Strategy, reuse_factor: usize) {
    let n = g.node_mut(id);
    n.strategy = strategy;
    n.reuse_factor = reuse_factor;
}

/// The inputs' values joined along `axis` as `ir::Concatenate` defines it: for every index over
/// the axes before `axis`, each input's block in turn.
pub fn concatenate<T: Clone>(axis: usize, shapes: &[&[usize]], parts: &[&Vec<T>]) -> Vec<T> {
    let outer: usize = shapes[0][..axis].iter().product();
    let mut out = Vec::new();
    for o in 0..outer {
        for (shape, part) in shapes.iter().zip(parts) {
            let block: usize = shape[axis..].iter().product();
            out.extend_from_slice(&part[o * block..(o + 1) * block]);
        }
    }
    out
}

/// Exact decimal text of `raw * 2^-frac` (test types keep `raw * 5^frac` within i128).
pub fn decimal(raw: i128, frac: i32) -> String {
    if frac <= 0 {
        return (raw * (1i128 << (-frac))).to_string();
    }
    let scaled = raw.unsigned_abs() * 5u128.pow(frac as u32);
    let digits = format!("{:0>width$}", scaled, width = frac as usize + 1);
    let (int, fraction) = digits.split_at(digits.len() - frac as usize);
    let fraction = fraction.trim_end_matches('0');
    let sign = if raw < 0 { "-" } else { "" };
    if fraction.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{fraction}")
    }
}

/// Where the ap_types headers are: `HLS_GEN_AP_TYPES`, else `target/ap_types` in the crate.
/// Without them, a CI run fails and a local run prints a notice and skips (returns `None`).
pub fn ap_types() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("HLS_GEN_AP_TYPES").map(PathBuf::from),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/ap_types")),
    ];
    if let Some(found) = candidates.into_iter().flatten().find(|p| p.join("ap_fixed.h").is_file()) {
        return Some(found);
    }
    if std::env::var_os("CI").is_some() {
        panic!("ap_types headers not found: set HLS_GEN_AP_TYPES or run scripts/fetch_ap_types.sh");
    }
    eprintln!("notice: ap_types headers not found (HLS_GEN_AP_TYPES, target/ap_types); skipping g++ checks");
    None
}

/// Lowers an imported graph with the default pipeline and simulates one sample; for the fuzzers:
/// every step may refuse the graph with an error, none may panic.
pub fn lower_and_simulate(g: Graph) {
    use hls_gen::passes::PassContext;
    use hls_gen::sim::{RunOptions, Simulator};
    let ctx = PassContext { config: hls_gen::config::Config::default(), prune_below: None };
    let Ok((g, _)) = hls_gen::passes::lower(g, &ctx, &[]) else { return };
    let Ok(sim) = Simulator::new(&g) else { return };
    let elements = sim.input_elements();
    if elements == 0 || elements > 1 << 20 {
        return;
    }
    let _ = sim.run(&vec![0.5; elements], 1, &RunOptions::default());
}

/// A float64 `.npy` file: its shape and values.
pub fn npy(path: &Path) -> (Vec<usize>, Vec<f64>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let f = npyz::NpyFile::new(&bytes[..]).expect("npy header");
    let shape = f.shape().iter().map(|&d| d as usize).collect();
    (shape, f.into_vec::<f64>().expect("float64 data"))
}

/// Whether `verilator` runs; without it, a CI run fails and a local run prints a notice.
pub fn have_verilator() -> bool {
    let found =
        std::process::Command::new("verilator").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var_os("CI").is_none(), "verilator is required in CI");
        eprintln!("notice: verilator not found; skipping the RTL simulation");
    }
    found
}

/// `out`, output 0 of `g` as the simulator gives it, in the model's own layout, sample after sample.
pub fn in_model_layout(g: &Graph, out: OutputTensor) -> Vec<f64> {
    match g.output_layout(0) {
        Some(perm) => out
            .values
            .chunks(out.shape.elements())
            .flat_map(|y| layout::to_model(y, &out.shape, perm))
            .collect(),
        None => out.values,
    }
}

/// Writes `data` as a float64 `.npy` of `shape`.
pub fn write_npy(path: &Path, shape: &[u64], data: &[f64]) {
    use npyz::WriterBuilder;
    let file = std::fs::File::create(path).unwrap();
    let mut w =
        npyz::WriteOptions::<f64>::new().default_dtype().shape(shape).writer(file).begin_nd().unwrap();
    w.extend(data.iter().copied()).unwrap();
    w.finish().unwrap();
}

/// The text of every `<td class="CLASS">` in `html`, in order.
pub fn cells<'a>(html: &'a str, class: &str) -> Vec<&'a str> {
    let open = format!("<td class=\"{class}\">");
    html.match_indices(&open)
        .map(|(k, _)| {
            let rest = &html[k + open.len()..];
            &rest[..rest.find('<').unwrap()]
        })
        .collect()
}
