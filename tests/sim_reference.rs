//! Differential test: the simulator against a slow reference in exact rational arithmetic, written
//! here from the definitions in `ir::layer` and the `ap_fixed` assignment rules, on seeded random
//! graphs covering every layer kind, every quantization and overflow mode, narrow types and
//! non-exact accumulators. Outputs must match bit for bit and overflow counts exactly, with the
//! fast paths on and off.

mod common;
mod sim_support;

use std::collections::BTreeMap;

/// Layer kinds that read an integer index input, which the random graphs do not have: the graph
/// models of `tests/gnn.rs` check them against onnxruntime and the C simulation.
const GRAPH_KINDS: &[&str] = &["gather_rows", "scatter_add"];

use hls_gen::fixed::{FixedType, OverflowMode, QuantMode};
use hls_gen::ir::{Activation, BinaryOp, Graph, Layer, LoweredGraph, PoolOp, ReduceOp, Table, Weights};
use hls_gen::sim::{RunOptions, SimOptions, SimResult, Simulator};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};
use sim_support::*;

type Q = BigRational;

fn pow2(e: i64) -> Q {
    if e >= 0 {
        Q::from_integer(BigInt::one() << e as usize)
    } else {
        Q::new(BigInt::one(), BigInt::one() << (-e) as usize)
    }
}

fn q(x: f64) -> Q {
    Q::from_float(x).expect("finite")
}

fn frac(ty: &FixedType) -> i64 {
    ty.width as i64 - ty.integer as i64
}

/// `ap_fixed` assignment of the exact value `v` to `ty`: the raw result and whether the overflow
/// mode acted.
fn cast(v: &Q, ty: &FixedType) -> (BigInt, bool) {
    let y = v * pow2(frac(ty));
    let floor = y.floor();
    let rest = &y - &floor;
    let floor = floor.to_integer();
    let half = Q::new(BigInt::one(), BigInt::from(2));
    let negative = y.is_negative();
    let odd = (&floor % 2u32) != BigInt::zero();
    let up = match ty.quant {
        QuantMode::Trn => false,
        QuantMode::TrnZero => negative && !rest.is_zero(),
        QuantMode::Rnd => rest >= half,
        QuantMode::RndZero => rest > half || (rest == half && negative),
        QuantMode::RndMinInf => rest > half,
        QuantMode::RndInf => rest > half || (rest == half && !negative),
        QuantMode::RndConv => rest > half || (rest == half && odd),
    };
    let q = if up { floor + 1 } else { floor };
    let w = ty.width as usize;
    let (min, max) = if ty.signed {
        (-(BigInt::one() << (w - 1)), (BigInt::one() << (w - 1)) - 1)
    } else {
        (BigInt::zero(), (BigInt::one() << w) - 1)
    };
    // AP_SAT_SYM never lets a signed type of two or more bits hold its most negative value.
    let sym = ty.overflow == OverflowMode::SatSym && ty.signed && w > 1;
    if q <= max && (q > min || (q == min && !sym)) {
        return (q, false);
    }
    let raw = match ty.overflow {
        OverflowMode::Wrap => {
            let m = BigInt::one() << w;
            let mut r = (&q - &min) % &m;
            if r.is_negative() {
                r += &m;
            }
            r + &min
        }
        OverflowMode::Sat if q > max => max,
        OverflowMode::Sat => min,
        OverflowMode::SatSym if q > max => max,
        OverflowMode::SatSym if sym => -max,
        OverflowMode::SatSym => min,
        OverflowMode::SatZero => BigInt::zero(),
    };
    (raw, true)
}

fn val(raw: &BigInt, ty: &FixedType) -> Q {
    Q::from_integer(raw.clone()) * pow2(-frac(ty))
}

/// Overflow counts per (layer, kind), and the order and sizes of the cast sites.
#[derive(Default)]
struct Counts {
    counts: BTreeMap<(String, &'static str), u64>,
}

impl Counts {
    /// Casts `v` to `ty`, counting an overflow for `layer`/`kind`; returns the exact result.
    fn cast(&mut self, layer: &str, kind: &'static str, v: &Q, ty: &FixedType) -> (BigInt, Q) {
        let (raw, over) = cast(v, ty);
        *self.counts.entry((layer.to_string(), kind)).or_default() += over as u64;
        let value = val(&raw, ty);
        (raw, value)
    }
}

fn lookup(c: &mut Counts, layer: &str, kind: &'static str, t: &Table, x: &Q) -> Q {
    let (raw, _) = c.cast(layer, kind, x, &t.index_ty);
    let offset =
        if t.index_ty.signed { BigInt::one() << (t.index_ty.width as usize - 1) } else { BigInt::zero() };
    let index = (raw + offset).to_usize().expect("index in range");
    q(t.values[index])
}

/// `1 / n` rounded to `r_ty`, ties upward, at most its largest value (average pooling, mean).
fn reciprocal(n: usize, r_ty: &FixedType) -> Q {
    let scaled = pow2(frac(r_ty)) / Q::from_integer(BigInt::from(n)) + Q::new(BigInt::one(), BigInt::from(2));
    val(&scaled.floor().to_integer().min(BigInt::from(r_ty.max_raw())), r_ty)
}

/// Row-major coordinates of flat index `i` in `dims`.
fn unflatten(mut i: usize, dims: &[usize]) -> Vec<usize> {
    let mut c = vec![0; dims.len()];
    for d in (0..dims.len()).rev() {
        c[d] = i % dims[d];
        i /= dims[d];
    }
    c
}

/// Flat row-major index of coordinates `c` (only the first `dims.len()` are read).
fn flatten(c: &[usize], dims: &[usize]) -> usize {
    dims.iter().zip(c).fold(0, |f, (&d, &x)| f * d + x)
}

fn consts(w: &Weights) -> Vec<Q> {
    w.values.iter().map(|&v| q(v)).collect()
}

/// Every node's exact output for one sample (raw integers and values), by node, in topological
/// order; `input` holds every model input's values, in input order.
fn reference(g: &Graph, input: &[f64], c: &mut Counts) -> BTreeMap<usize, (Vec<BigInt>, Vec<Q>)> {
    let mut out: BTreeMap<usize, (Vec<BigInt>, Vec<Q>)> = BTreeMap::new();
    let mut next_input = 0;
    for id in g.topo_order().unwrap() {
        let node = g.node(id);
        let name = node.name.as_str();
        let ty = node.ty.unwrap();
        let args: Vec<&Vec<Q>> = g.inputs_of(id).iter().map(|i| &out[&i.index()].1).collect();
        let shape = &node.shape;
        let elements = shape.elements();
        let channels = shape.channels();
        let mut exact: Vec<Q> = Vec::with_capacity(elements);
        match &node.layer {
            Layer::Input(_) => {
                exact = input[next_input..next_input + elements].iter().map(|&x| q(x)).collect();
                next_input += elements;
            }
            Layer::Dense(d) => {
                let acc_ty = d.accum.unwrap();
                let (w, b) = (consts(&d.weights), consts(&d.bias));
                let (n_in, n_out) = (d.n_in(), d.n_out());
                for j in 0..n_out {
                    let mut acc = c.cast(name, "accumulator", &b[j], &acc_ty).1;
                    for i in 0..n_in {
                        let sum = &acc + &args[0][i] * &w[i * n_out + j];
                        acc = c.cast(name, "accumulator", &sum, &acc_ty).1;
                    }
                    exact.push(acc);
                }
            }
            Layer::BatchNorm(bn) => {
                let (s, b) = (consts(&bn.scale), consts(&bn.bias));
                for (e, x) in args[0].iter().enumerate() {
                    let k = e % channels;
                    exact.push(x * &s[k.min(s.len() - 1)] + &b[k.min(b.len() - 1)]);
                }
            }
            Layer::Activation(a) => {
                for (e, x) in args[0].iter().enumerate() {
                    let zero = Q::zero();
                    exact.push(match a {
                        Activation::Linear => x.clone(),
                        Activation::Relu => x.max(&zero).clone(),
                        Activation::LeakyRelu { alpha } | Activation::PRelu { alpha } => {
                            let k = alpha.shape.broadcast_index(shape, e);
                            if *x >= zero {
                                x.clone()
                            } else {
                                q(alpha.values[k]) * x
                            }
                        }
                        Activation::HardSigmoid { alpha, beta } => {
                            let t = q(alpha.values[0]) * x + q(beta.values[0]);
                            t.max(zero).min(Q::one())
                        }
                        Activation::Clip { min, max } => {
                            let mut t = x.clone();
                            if let Some(m) = min {
                                t = t.max(q(m.values[0]));
                            }
                            if let Some(m) = max {
                                t = t.min(q(m.values[0]));
                            }
                            t
                        }
                        Activation::Sigmoid(t)
                        | Activation::Tanh(t)
                        | Activation::Softplus(t)
                        | Activation::Softsign(t) => lookup(c, name, "index", t, x),
                        Activation::Elu(t) => {
                            if *x >= zero {
                                x.clone()
                            } else {
                                lookup(c, name, "index", t, x)
                            }
                        }
                        Activation::Selu { scale, table } => {
                            if *x >= zero {
                                q(scale.values[0]) * x
                            } else {
                                lookup(c, name, "index", table, x)
                            }
                        }
                        Activation::ThresholdedRelu { theta } => {
                            if *x > q(theta.values[0]) {
                                x.clone()
                            } else {
                                zero
                            }
                        }
                        Activation::HardSwish { alpha, beta } => {
                            let h = (q(alpha.values[0]) * x + q(beta.values[0])).max(zero).min(Q::one());
                            x * h
                        }
                    });
                }
            }
            Layer::Softmax(sm) => {
                let mut exps = Vec::new();
                let mut invs = Vec::new();
                for row in args[0].chunks(channels) {
                    let m = row.iter().max().unwrap().clone();
                    let e: Vec<Q> =
                        row.iter().map(|x| lookup(c, name, "exp_index", &sm.exp_table, &(&m - x))).collect();
                    let s = e.iter().fold(Q::zero(), |a, b| a + b);
                    exps.push(e);
                    invs.push(s);
                }
                for (e, s) in exps.iter().zip(&invs) {
                    let r = lookup(c, name, "inv_index", &sm.inv_table, s);
                    exact.extend(e.iter().map(|v| v * &r));
                }
            }
            Layer::Elementwise(ew) => {
                for e in 0..elements {
                    let mut operands: Vec<Q> = args.iter().map(|a| a[e].clone()).collect();
                    if let Some(k) = &ew.constant {
                        operands.push(q(k.values[k.shape.broadcast_index(shape, e)]));
                    }
                    let first = operands[0].clone();
                    exact.push(operands[1..].iter().fold(first, |a, r| match ew.op {
                        BinaryOp::Add => a + r,
                        BinaryOp::Sub => a - r,
                        BinaryOp::Mul => a * r,
                        BinaryOp::Max => a.max(r.clone()),
                        BinaryOp::Min => a.min(r.clone()),
                    }));
                }
            }
            Layer::Concatenate(cat) => {
                let dims: Vec<&[usize]> = g.inputs_of(id).iter().map(|&i| g.node(i).shape.dims()).collect();
                let outer: usize = shape.dims()[..cat.axis].iter().product();
                for o in 0..outer {
                    for (k, d) in dims.iter().enumerate() {
                        let block: usize = d[cat.axis..].iter().product();
                        exact.extend(args[k][o * block..(o + 1) * block].iter().cloned());
                    }
                }
            }
            Layer::Reshape(_) | Layer::Quantize(_) => exact = args[0].clone(),
            Layer::Conv(cv) => {
                let acc_ty = cv.accum.unwrap();
                let x_dims = g.node(g.inputs_of(id)[0]).shape.dims().to_vec();
                let s = cv.spatial();
                let (cg, filters) = (cv.group_channels(), cv.filters());
                let per_group = filters / cv.groups;
                let kernel = cv.kernel().to_vec();
                let (w, b) = (consts(&cv.weights), consts(&cv.bias));
                for e in 0..elements {
                    let f = e % filters;
                    let o = unflatten(e / filters, &shape.dims()[..s]);
                    let mut acc = c.cast(name, "accumulator", &b[f], &acc_ty).1;
                    for t in 0..kernel.iter().product() {
                        let tap = unflatten(t, &kernel);
                        let p: Option<Vec<usize>> = (0..s)
                            .map(|d| {
                                let p = (o[d] * cv.strides[d] + tap[d] * cv.dilations[d]) as i64
                                    - cv.pads_begin[d] as i64;
                                usize::try_from(p).ok().filter(|&p| p < x_dims[d])
                            })
                            .collect();
                        let Some(p) = p else { continue };
                        let base = flatten(&p, &x_dims[..s]) * x_dims[s] + (f / per_group) * cg;
                        for ch in 0..cg {
                            let sum = &acc + &args[0][base + ch] * &w[(t * cg + ch) * filters + f];
                            acc = c.cast(name, "accumulator", &sum, &acc_ty).1;
                        }
                    }
                    exact.push(acc);
                }
            }
            Layer::Pool(pl) => {
                let x_dims = g.node(g.inputs_of(id)[0]).shape.dims().to_vec();
                let s = pl.spatial();
                let window: usize = pl.kernel.iter().product();
                for e in 0..elements {
                    let ch = e % channels;
                    let o = unflatten(e / channels, &shape.dims()[..s]);
                    let mut vals: Vec<Q> = Vec::new();
                    for t in 0..window {
                        let tap = unflatten(t, &pl.kernel);
                        let p: Option<Vec<usize>> = (0..s)
                            .map(|d| {
                                let p = (o[d] * pl.strides[d] + tap[d]) as i64 - pl.pads_begin[d] as i64;
                                usize::try_from(p).ok().filter(|&p| p < x_dims[d])
                            })
                            .collect();
                        if let Some(p) = p {
                            vals.push(args[0][flatten(&p, &x_dims[..s]) * channels + ch].clone());
                        }
                    }
                    exact.push(match pl.op {
                        PoolOp::Max => vals.iter().max().unwrap().clone(),
                        PoolOp::Average => {
                            let n = if pl.count_pad { window } else { vals.len() };
                            vals.iter().fold(Q::zero(), |a, v| a + v) * reciprocal(n, &pl.reciprocal.unwrap())
                        }
                    });
                }
            }
            Layer::Pad(pd) => {
                let x_dims = g.node(g.inputs_of(id)[0]).shape.dims().to_vec();
                let s = pd.begin.len();
                for e in 0..elements {
                    let mut at = unflatten(e, shape.dims());
                    let inside = (0..s).all(|d| {
                        let i = at[d] as i64 - pd.begin[d];
                        at[d] = i.max(0) as usize;
                        i >= 0 && (i as usize) < x_dims[d]
                    });
                    exact.push(if inside { args[0][flatten(&at, &x_dims)].clone() } else { Q::zero() });
                }
            }
            Layer::UpSample(u) => {
                let x_dims = g.node(g.inputs_of(id)[0]).shape.dims().to_vec();
                for e in 0..elements {
                    let mut at = unflatten(e, shape.dims());
                    for (d, f) in u.factors.iter().enumerate() {
                        at[d] /= f;
                    }
                    exact.push(args[0][flatten(&at, &x_dims)].clone());
                }
            }
            Layer::Transpose(t) => {
                let x_dims = g.node(g.inputs_of(id)[0]).shape.dims().to_vec();
                for e in 0..elements {
                    let j = unflatten(e, shape.dims());
                    let mut i = vec![0; j.len()];
                    for (k, &p) in t.perm.iter().enumerate() {
                        i[p] = j[k];
                    }
                    exact.push(args[0][flatten(&i, &x_dims)].clone());
                }
            }
            Layer::Reduce(r) => {
                let x_shape = g.node(g.inputs_of(id)[0]).shape.clone();
                for src in r.sources(&x_shape) {
                    let v: Vec<&Q> = src.iter().map(|&i| &args[0][i]).collect();
                    let total = |f: &dyn Fn(&Q) -> Q| v.iter().fold(Q::zero(), |a, x| a + f(x));
                    exact.push(match r.op {
                        ReduceOp::Sum => total(&|x| x.clone()),
                        ReduceOp::SumSquare => total(&|x| x * x),
                        ReduceOp::L1 => total(&|x| x.abs()),
                        ReduceOp::Max => (*v.iter().max().unwrap()).clone(),
                        ReduceOp::Min => (*v.iter().min().unwrap()).clone(),
                        ReduceOp::Mean => total(&|x| x.clone()) * reciprocal(r.count, &r.reciprocal.unwrap()),
                        ReduceOp::L2 => {
                            lookup(c, name, "index", r.table.as_ref().unwrap(), &total(&|x| x * x))
                        }
                    });
                }
            }
            Layer::GatherRows(_) | Layer::ScatterAdd(_) => {
                panic!("{name}: graph layers are checked in tests/gnn.rs")
            }
        }
        let (raws, values) = exact.iter().map(|v| c.cast(name, "output", v, &ty)).unzip();
        out.insert(id.index(), (raws, values));
    }
    out
}

/// The cast sites of a graph in topological order, with casts per sample, as the simulator
/// reports them.
fn sites(g: &Graph) -> Vec<(String, &'static str, u64)> {
    let mut v = Vec::new();
    for id in g.topo_order().unwrap() {
        let node = g.node(id);
        let name = node.name.clone();
        let n = node.shape.elements() as u64;
        match &node.layer {
            Layer::Dense(d) => v.push((name.clone(), "accumulator", (d.n_out() * (d.n_in() + 1)) as u64)),
            Layer::Conv(cv) => {
                // Per output position and filter: the bias cast and one cast per product of an
                // input position inside the input. Inside-ness is decided axis by axis, so the
                // inside taps of a position are the product of the inside taps of each axis.
                let x_dims = g.node(g.inputs_of(id)[0]).shape.dims().to_vec();
                let s = cv.spatial();
                let mut casts = 0u64;
                for pos in 0..node.shape.dims()[..s].iter().product() {
                    let o = unflatten(pos, &node.shape.dims()[..s]);
                    let inside: u64 = (0..s)
                        .map(|d| {
                            (0..cv.kernel()[d])
                                .filter(|&t| {
                                    let p = (o[d] * cv.strides[d] + t * cv.dilations[d]) as i64
                                        - cv.pads_begin[d] as i64;
                                    p >= 0 && p < x_dims[d] as i64
                                })
                                .count() as u64
                        })
                        .product();
                    casts += (1 + inside * cv.group_channels() as u64) * cv.filters() as u64;
                }
                v.push((name.clone(), "accumulator", casts));
            }
            Layer::Activation(a) => {
                let table = match a {
                    Activation::Sigmoid(_)
                    | Activation::Tanh(_)
                    | Activation::Softplus(_)
                    | Activation::Softsign(_)
                    | Activation::Elu(_)
                    | Activation::Selu { .. } => true,
                    Activation::Linear
                    | Activation::Relu
                    | Activation::LeakyRelu { .. }
                    | Activation::PRelu { .. }
                    | Activation::HardSigmoid { .. }
                    | Activation::Clip { .. }
                    | Activation::ThresholdedRelu { .. }
                    | Activation::HardSwish { .. } => false,
                };
                if table {
                    v.push((name.clone(), "index", n));
                }
            }
            Layer::Softmax(_) => {
                v.push((name.clone(), "exp_index", n));
                v.push((name.clone(), "inv_index", n / node.shape.channels() as u64));
            }
            Layer::Input(_)
            | Layer::BatchNorm(_)
            | Layer::Elementwise(_)
            | Layer::Concatenate(_)
            | Layer::Reshape(_)
            | Layer::Quantize(_)
            | Layer::Pool(_)
            | Layer::Pad(_)
            | Layer::UpSample(_)
            | Layer::Transpose(_)
            | Layer::GatherRows(_)
            | Layer::ScatterAdd(_) => {}
            Layer::Reduce(r) => {
                if r.table.is_some() {
                    v.push((name.clone(), "index", n));
                }
            }
        }
        v.push((name, "output", n));
    }
    v
}

fn check(g: &Graph, inputs: &[f64], n: usize, result: &SimResult, what: &str) {
    let mut counts = Counts::default();
    let per_sample = inputs.len() / n;
    let mut expected: Vec<Vec<BigInt>> = vec![Vec::new(); g.outputs().len()];
    for s in 0..n {
        let nodes = reference(g, &inputs[s * per_sample..(s + 1) * per_sample], &mut counts);
        for (k, o) in g.outputs().iter().enumerate() {
            expected[k].extend(nodes[&o.index()].0.iter().cloned());
        }
    }
    assert_eq!(result.outputs.len(), expected.len());
    for (out, exp) in result.outputs.iter().zip(&expected) {
        let ty = out.ty.unwrap();
        assert_eq!(out.raw.len(), exp.len(), "{what}: output {}", out.name);
        for (e, (&raw, want)) in out.raw.iter().zip(exp).enumerate() {
            assert_eq!(
                BigInt::from(raw),
                *want,
                "{what}: output {} element {e}\n{}",
                out.name,
                hls_gen::ir::print(g)
            );
            let v = val(want, &ty).to_f64().unwrap();
            assert_eq!(out.values[e], v, "{what}: value of output {} element {e}", out.name);
        }
    }
    let want: Vec<(String, &str, u64, u64)> = sites(g)
        .into_iter()
        .map(|(layer, kind, per)| {
            let count = counts.counts.get(&(layer.clone(), kind)).copied().unwrap_or(0);
            (layer, kind, count, per * n as u64)
        })
        .collect();
    let got: Vec<(String, &str, u64, u64)> =
        result.overflows.iter().map(|o| (o.layer.clone(), o.kind, o.count, o.elements)).collect();
    assert_eq!(got, want, "{what}: overflow counts\n{}", hls_gen::ir::print(g));
}

fn run(g: &Graph, fast: bool, inputs: &[f64], n: usize, used: &mut BTreeMap<String, usize>) -> SimResult {
    let g = LoweredGraph::new(g.clone()).expect("a valid graph");
    let sim = Simulator::with_options(&g, &SimOptions { fast_paths: fast }).unwrap();
    for (_, kernel) in sim.kernels() {
        *used.entry(kernel).or_default() += 1;
    }
    sim.run(inputs, n, &RunOptions::default()).unwrap()
}

#[test]
fn random_graphs_match_the_exact_reference() {
    let mut rng = Rng(2024);
    let mut overflowed = 0;
    let mut kinds = BTreeMap::new();
    let mut used = BTreeMap::new();
    for case in 0..300 {
        let g = random_graph(&mut rng, 24);
        for id in g.node_ids() {
            *kinds.entry(g.node(id).layer.kind()).or_insert(0) += 1;
        }
        let n = 12;
        let inputs = random_rows(&mut rng, &g, n);
        for fast in [true, false] {
            let result = run(&g, fast, &inputs, n, &mut used);
            check(&g, &inputs, n, &result, &format!("case {case}, fast paths {fast}"));
            overflowed += result.overflows.iter().filter(|o| o.count > 0).count();
        }
    }
    for kind in hls_gen::ir::Layer::KINDS.iter().filter(|k| !GRAPH_KINDS.contains(k)) {
        assert!(kinds.get(kind).copied().unwrap_or(0) >= 20, "too few {kind} layers: {kinds:?}");
    }
    assert!(overflowed > 300, "overflows should be common in these graphs, saw {overflowed}");
    for kernel in [
        "input: fast from_f64",
        "input: from_f64",
        "dense: exact i16 madd",
        "dense: exact f64 gemm",
        "dense: exact sparse f64",
        "dense: sequential i64",
        "dense: sequential i128",
        "activation: i64",
        "activation: i128",
        "activation: table i64",
        "activation: table i128",
        "softmax: i64",
        "batch_norm: i64",
        "elementwise: i64",
        "reshape: copy",
        "quantize: i64",
        "concatenate: copy",
        "concatenate: convert",
        "conv: exact i16 madd",
        "conv: exact f64 gemm",
        "conv: exact sparse f64",
        "conv: sequential i64",
        "conv: sequential i128",
        "pool: i64",
        "pad: i64",
        "pad: copy",
        "upsample: i64",
        "upsample: copy",
        "transpose: i64",
        "transpose: copy",
        "activation: table branch i64",
    ] {
        assert!(used.get(kernel).copied().unwrap_or(0) >= 3, "kernel {kernel} is hardly tested: {used:#?}");
    }
}

#[test]
fn wide_types_match_the_exact_reference() {
    let mut rng = Rng(99);
    let mut used = BTreeMap::new();
    let mut refused = 0;
    for case in 0..80 {
        let g = random_graph(&mut rng, 48);
        if !within_simulator_limits(&g) {
            refused += 1;
            continue;
        }
        let n = 6;
        let inputs = random_rows(&mut rng, &g, n);
        for fast in [true, false] {
            let result = run(&g, fast, &inputs, n, &mut used);
            check(&g, &inputs, n, &result, &format!("wide case {case}, fast paths {fast}"));
        }
    }
    assert!(refused <= 8, "{refused} of 80 graphs refused");
    for kernel in ["softmax: i128", "batch_norm: i128", "elementwise: i128", "quantize: i128"] {
        assert!(used.get(kernel).copied().unwrap_or(0) >= 1, "kernel {kernel} is not tested: {used:#?}");
    }
}

#[test]
fn an_mlp_matches_the_exact_reference() {
    let g = mlp(&[8, 12, 6, 4], FixedType::new(16, 6, true), 5);
    let mut rng = Rng(3);
    let n = 40;
    let inputs = inputs(&mut rng, n, 8, 2.0);
    let mut used = BTreeMap::new();
    for fast in [true, false] {
        check(&g, &inputs, n, &run(&g, fast, &inputs, n, &mut used), &format!("mlp, fast paths {fast}"));
    }
    let madd = |k: &str| used.get(&format!("dense: exact i16 madd{k}")).copied();
    let chain = [madd(", i16 rows out"), madd(", i16 rows in, i16 rows out"), madd(", i16 rows in")];
    assert_eq!(chain, [Some(1); 3], "{used:?}");
}

/// A layer whose exact sums exceed 53 bits but not 62: the `i64` dot product.
#[test]
fn a_wide_dense_layer_matches_the_exact_reference() {
    use hls_gen::ir::{Dense, Input, Shape};
    let mut rng = Rng(17);
    let x_ty = FixedType::new(40, 12, true);
    let w_ty = FixedType::new(14, 2, true);
    let mut g = Graph::new("wide");
    let x = add(
        &mut g,
        "in",
        Layer::Input(Input::new(Shape::new([24]))),
        x_ty.with_modes(QuantMode::Rnd, OverflowMode::Sat),
        &[],
    );
    let dense = Dense {
        weights: random_const(&mut rng, &[24, 10], w_ty, 0.2),
        bias: random_const(&mut rng, &[10], w_ty, 0.0),
        accum: Some(exact_accum(&x_ty, &w_ty, 24)),
    };
    let out_ty = FixedType::new(36, 20, true).with_modes(QuantMode::RndConv, OverflowMode::Wrap);
    let d = add(&mut g, "dense", Layer::Dense(dense), out_ty, &[x]);
    g.set_outputs(vec![d]);
    let n = 30;
    let inputs = random_inputs(&mut rng, &x_ty, n * 24);
    let mut used = BTreeMap::new();
    for fast in [true, false] {
        check(
            &g,
            &inputs,
            n,
            &run(&g, fast, &inputs, n, &mut used),
            &format!("wide dense, fast paths {fast}"),
        );
    }
    assert_eq!(used.get("dense: exact i64"), Some(&1), "{used:?}");
}

/// `x` exactly, as the integer reference holds it.
fn exact_val(x: f64) -> common::reference::Val {
    if x == 0.0 {
        return common::reference::Val::zero();
    }
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    let mut m = (bits & ((1u64 << 52) - 1)) as i128;
    let mut e = if exp == 0 { -1074 } else { exp - 1075 };
    if exp != 0 {
        m |= 1 << 52;
    }
    while m % 2 == 0 {
        m /= 2;
        e += 1;
    }
    common::reference::Val { raw: if x < 0.0 { -m } else { m }, frac: -e }
}

/// The integer reference of `tests/common` (the oracle of the backend tests) agrees with the
/// simulator, and so with the rational reference above, on random graphs of every kind.
#[test]
fn the_integer_reference_agrees_on_random_graphs() {
    let mut rng = Rng(77);
    let mut kinds = BTreeMap::new();
    for case in 0..200 {
        let g = random_graph(&mut rng, 16);
        for id in g.node_ids() {
            *kinds.entry(g.node(id).layer.kind()).or_insert(0) += 1;
        }
        let n = 4;
        let inputs = random_rows(&mut rng, &g, n);
        let result = run(&g, true, &inputs, n, &mut BTreeMap::new());
        let per_sample = inputs.len() / n;
        let in_types: Vec<FixedType> = g
            .inputs()
            .iter()
            .flat_map(|&i| std::iter::repeat_n(g.node(i).ty.unwrap(), g.node(i).shape.elements()))
            .collect();
        for s in 0..n {
            let row = &inputs[s * per_sample..(s + 1) * per_sample];
            let raws: Vec<i128> =
                row.iter().zip(&in_types).map(|(&x, ty)| common::reference::cast(exact_val(x), ty)).collect();
            let want = common::reference::run(&g, &raws);
            let got: Vec<i128> = result
                .outputs
                .iter()
                .flat_map(|o| {
                    let e = o.shape.elements();
                    o.raw[s * e..(s + 1) * e].iter().map(|&r| r as i128)
                })
                .collect();
            assert_eq!(got, want, "case {case}, sample {s}\n{}", hls_gen::ir::print(&g));
        }
    }
    for kind in hls_gen::ir::Layer::KINDS.iter().filter(|k| !GRAPH_KINDS.contains(k)) {
        assert!(kinds.get(kind).copied().unwrap_or(0) >= 10, "too few {kind} layers: {kinds:?}");
    }
}

/// A convolution whose saturating accumulator makes the order of the products matter: the
/// contract's order (tap by tap, channels within a tap) gives 0, the channel-major order -7. The
/// simulator must give the contract's value, and the reference agrees with it bit for bit.
#[test]
fn convolutions_accumulate_in_the_contract_order() {
    use hls_gen::ir::{Conv, Input, Shape};
    let int8 = FixedType::new(8, 8, true);
    let acc_ty = FixedType::new(4, 4, true).with_modes(QuantMode::Trn, OverflowMode::Sat);
    let typed = |shape: &[usize], values: Vec<f64>| {
        let mut w = Weights::new(Shape::new(shape.to_vec()), values);
        w.ty = Some(FixedType::new(2, 2, true));
        w
    };
    let conv = Conv {
        weights: typed(&[2, 2, 1], vec![1.0; 4]),
        bias: typed(&[1], vec![0.0]),
        strides: vec![1],
        dilations: vec![1],
        pads_begin: vec![0],
        pads_end: vec![0],
        groups: 1,
        accum: Some(acc_ty),
    };
    let mut g = Graph::new("order");
    let x = add(&mut g, "in", Layer::Input(Input::new(Shape::new([2, 2]))), int8, &[]);
    let y = add(&mut g, "conv", Layer::Conv(conv), int8, &[x]);
    g.set_outputs(vec![y]);
    let row = [7.0, -7.0, 7.0, -7.0];
    let sat = |v: i64| v.clamp(-8, 7);
    let contract = row.iter().fold(0, |acc, &v| sat(acc + v as i64));
    let channel_major = [row[0], row[2], row[1], row[3]].iter().fold(0, |acc, &v| sat(acc + v as i64));
    assert_eq!((contract, channel_major), (0, -7), "the order must matter in this case");
    let mut used = BTreeMap::new();
    for fast in [true, false] {
        let result = run(&g, fast, &row, 1, &mut used);
        assert_eq!(result.outputs[0].raw, [contract]);
        check(&g, &row, 1, &result, &format!("order, fast paths {fast}"));
    }
}
