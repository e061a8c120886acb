//! The `f64` reference mode: the model's own float semantics.
//!
//! Every layer computes in `f64` with the weights' values as stored: Dense sums `b_j` then
//! `x_i * w_ij` for `i` in order, and Conv sums `b_f` then its window's products in the
//! contract's order (kernel taps row-major, then the group's channels; padding adds nothing), with
//! no fused multiply-add, so results do not depend on the CPU; average pooling sums the counted
//! positions in window order and divides by their number (`count_pad` counts the padding); max
//! pooling, padding, upsampling and transposition move values unchanged; n-ary merges fold left
//! over the inputs in order. Activations use the true functions (`1 / (1 + e^-x)`, `tanh`,
//! `exp(x_i - m) / sum`, `ln(1 + e^x)`, `x / (1 + |x|)`, ELU `alpha * (e^x - 1)` for `x < 0`,
//! SELU `scale * x` (the layer's `scale`) or `SELU_SCALE * SELU_ALPHA * (e^x - 1)`,
//! `x > theta ? x : 0`, `x * clip(alpha * x + beta, 0, 1)`) instead of
//! tables, and nothing is rounded except where the model fixed a type: `Quantize` nodes and nodes
//! with `ty_from_model` cast their result to that type (its rounding and overflow modes, counted
//! as `output` overflows) and read it back as a double. Such outputs carry their type and raw
//! integers in the result; other outputs carry only values.

use std::collections::HashMap;

use super::gather_rows::IndexCheck;
use super::plan::Counters;
use super::{overflows, OutputTensor, SimError, SimResult, TraceTensor};
use crate::fixed::{self, FixedType};
use crate::ir::window::{Window, PAD};
use crate::ir::{
    Activation, BinaryOp, Conv, ImportedGraph, Layer, NodeId, Pool, PoolOp, ReduceOp, Shape, TableFn,
    Transpose, Weights, SELU_ALPHA, SELU_SCALE,
};

#[derive(Debug)]
pub(crate) struct FloatPlan {
    steps: Vec<Step>,
    pub(crate) input_elements: usize,
    outputs: Vec<usize>,
    counters: Counters,
    pub(crate) block: usize,
}

#[derive(Debug)]
struct Step {
    name: String,
    kind: &'static str,
    shape: Shape,
    args: Vec<usize>,
    op: Op,
    /// The type the model fixed, and its overflow counter.
    cast: Option<(FixedType, usize)>,
}

#[derive(Debug)]
enum Op {
    /// A model input: its values start at `offset` in a sample's row of all inputs.
    Input {
        offset: usize,
    },
    Dense {
        n_in: usize,
        n_out: usize,
        w: Vec<f64>,
        b: Vec<f64>,
    },
    /// Per-channel scale and bias.
    BatchNorm {
        scale: Vec<f64>,
        bias: Vec<f64>,
    },
    Linear,
    Relu,
    /// `alpha` per element of a sample.
    Leaky {
        alpha: Vec<f64>,
    },
    HardSigmoid {
        alpha: f64,
        beta: f64,
    },
    Clip {
        min: Option<f64>,
        max: Option<f64>,
    },
    Sigmoid,
    Tanh,
    Softplus,
    Softsign,
    /// `x >= 0 ? x : alpha * (e^x - 1)`.
    Elu {
        alpha: f64,
    },
    /// `x >= 0 ? scale * x : SELU_SCALE * SELU_ALPHA * (e^x - 1)`, `scale` as stored.
    Selu {
        scale: f64,
    },
    ThresholdedRelu {
        theta: f64,
    },
    HardSwish {
        alpha: f64,
        beta: f64,
    },
    Softmax {
        row: usize,
    },
    /// Rows of `row` values picked by the index (the second input).
    GatherRows {
        check: IndexCheck,
        row: usize,
    },
    /// Rows of `row` values summed into the rows the index names, in input order.
    ScatterAdd {
        check: IndexCheck,
        row: usize,
    },
    /// `constant` per element of a sample, or the fold over the inputs.
    Elementwise {
        op: BinaryOp,
        constant: Option<Vec<f64>>,
    },
    /// Per group, output position and filter: the bias, then the window's taps inside the input.
    Conv {
        in_elements: usize,
        c_in: usize,
        c_g: usize,
        taps: usize,
        filters: usize,
        /// `[taps * c_g, filters]`, row-major.
        w: Vec<f64>,
        b: Vec<f64>,
        /// Input position of each output position's taps ([`PAD`] in the padding).
        index: Vec<u32>,
    },
    Pool {
        op: PoolOp,
        in_elements: usize,
        channels: usize,
        taps: usize,
        index: Vec<u32>,
        /// Average: the divisor of each output position.
        count: Vec<f64>,
    },
    /// Per output position, its `n` input elements (`index`, output-major) reduced by `op`.
    Reduce {
        op: ReduceOp,
        in_elements: usize,
        n: usize,
        index: Vec<u32>,
    },
    /// Output element `e` of a sample is input element `source[e]`, or zero for [`PAD`].
    Gather {
        in_elements: usize,
        source: Vec<u32>,
    },
    Copy,
    /// For each outer index, each input's block of the given length in turn.
    Concatenate {
        outer: usize,
        lens: Vec<usize>,
    },
}

/// A block's results: output and traced values, raw integers of cast outputs, counts.
#[derive(Debug)]
pub(crate) struct Block {
    outputs: Vec<Vec<f64>>,
    raws: Vec<Vec<i64>>,
    trace: Vec<Vec<f64>>,
    counts: Vec<u64>,
}

const MAX_BLOCK: usize = 64;

/// Values of a constant broadcast onto one sample of `target`.
fn expand(w: &Weights, target: &Shape) -> Vec<f64> {
    (0..target.elements())
        .map(|e| w.values.get(w.shape.broadcast_index(target, e)).copied().unwrap_or(0.0))
        .collect()
}

fn scalar(w: &Weights) -> f64 {
    w.values.first().copied().unwrap_or(0.0)
}

fn per_channel(w: &Weights, channels: usize) -> Vec<f64> {
    (0..channels).map(|c| w.values.get(c).or(w.values.first()).copied().unwrap_or(0.0)).collect()
}

fn unsupported(layer: &str, what: impl Into<String>) -> SimError {
    SimError::Unsupported { layer: layer.to_string(), what: what.into() }
}

fn first_shape<'a>(layer: &str, inputs: &[&'a Shape]) -> Result<&'a Shape, SimError> {
    inputs.first().copied().ok_or_else(|| unsupported(layer, "input 0 is missing"))
}

/// The input of a layer that gathers its output through a `u32` element map.
fn gather_input<'a>(layer: &str, inputs: &[&'a Shape]) -> Result<&'a Shape, SimError> {
    let x = first_shape(layer, inputs)?;
    if x.elements() >= PAD as usize {
        return Err(unsupported(layer, "the input has too many elements to index"));
    }
    Ok(x)
}

/// The source element of every output element of a layer that maps spatial positions one to one
/// and keeps the channels: `at(d, o_d)` is the input coordinate on axis `d`, or `None` (zero).
fn spatial_map(x: &Shape, out: &Shape, at: impl Fn(usize, usize) -> Option<usize>) -> Vec<u32> {
    let s = out.rank().saturating_sub(1);
    let c = out.channels();
    let (xd, od) = (x.dims(), out.dims());
    let positions: usize = od[..s].iter().product();
    let mut source = Vec::with_capacity(positions * c);
    let mut o = vec![0usize; s];
    for _ in 0..positions {
        let mut flat = Some(0usize);
        for d in 0..s {
            let i = at(d, o[d]).filter(|&i| d < xd.len() && i < xd[d]);
            flat = flat.zip(i).map(|(f, i)| f * xd[d] + i);
        }
        match flat {
            Some(f) => source.extend((0..c).map(|k| (f * c + k) as u32)),
            None => source.extend(std::iter::repeat_n(PAD, c)),
        }
        for d in (0..s).rev() {
            o[d] += 1;
            if o[d] < od[d] {
                break;
            }
            o[d] = 0;
        }
    }
    source
}

fn transpose(layer: &str, t: &Transpose, x: &Shape) -> Result<Vec<u32>, SimError> {
    let mut sorted = t.perm.clone();
    sorted.sort_unstable();
    if sorted != (0..x.rank()).collect::<Vec<_>>() {
        return Err(unsupported(layer, "the permutation does not fit the input"));
    }
    Ok(t.source_indices(x).into_iter().map(|i| i as u32).collect())
}

fn conv(layer: &str, c: &Conv, inputs: &[&Shape], out: &Shape) -> Result<Op, SimError> {
    let x = first_shape(layer, inputs)?;
    let bad = || unsupported(layer, "the input, weights and output shapes do not fit together");
    if c.groups == 0 || !c.filters().is_multiple_of(c.groups) {
        return Err(bad());
    }
    let window = Window::of_conv(c, x, out).ok_or_else(bad)?;
    let index = window.table().ok_or_else(bad)?;
    let (c_g, filters) = (c.group_channels(), c.filters());
    if x.channels() != c_g * c.groups || c.weights.values.len() != window.taps() * c_g * filters {
        return Err(bad());
    }
    Ok(Op::Conv {
        in_elements: x.elements(),
        c_in: x.channels(),
        c_g,
        taps: window.taps(),
        filters,
        w: c.weights.values.clone(),
        b: c.bias.values.clone(),
        index,
    })
}

fn pool(layer: &str, p: &Pool, inputs: &[&Shape], out: &Shape) -> Result<Op, SimError> {
    let x = first_shape(layer, inputs)?;
    let bad = || unsupported(layer, "the input and output shapes do not fit the window");
    let window = Window::of_pool(p, x, out).ok_or_else(bad)?;
    let index = window.table().ok_or_else(bad)?;
    let taps = window.taps();
    let count: Vec<f64> = index
        .chunks(taps.max(1))
        .map(|w| if p.count_pad { taps } else { w.iter().filter(|&&i| i != PAD).count() } as f64)
        .collect();
    if count.contains(&0.0) {
        return Err(unsupported(layer, "a pooling window lies entirely in the padding"));
    }
    Ok(Op::Pool { op: p.op, in_elements: x.elements(), channels: x.channels(), taps, index, count })
}

/// `ln(1 + e^x)` without overflow for large `x`.
fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

impl FloatPlan {
    pub(crate) fn new(g: &ImportedGraph) -> Result<FloatPlan, SimError> {
        let order = g.topo_order()?;
        let index: HashMap<NodeId, usize> = order.iter().enumerate().map(|(k, &id)| (id, k)).collect();
        let position = |id: NodeId| index.get(&id).copied();
        let mut counters = Counters::default();
        let mut steps = Vec::with_capacity(order.len());
        let mut input_elements = 0;
        for &id in &order {
            let node = g.node(id);
            let args = g.inputs_of(id).into_iter().filter_map(position).collect();
            let shape = node.shape.clone();
            let op = match &node.layer {
                Layer::Input(_) => {
                    let op = Op::Input { offset: input_elements };
                    input_elements += shape.elements();
                    op
                }
                Layer::Dense(d) => Op::Dense {
                    n_in: d.n_in(),
                    n_out: d.n_out(),
                    w: d.weights.values.clone(),
                    b: d.bias.values.clone(),
                },
                Layer::BatchNorm(b) => Op::BatchNorm {
                    scale: per_channel(&b.scale, shape.channels()),
                    bias: per_channel(&b.bias, shape.channels()),
                },
                Layer::Activation(a) => match a {
                    Activation::Linear => Op::Linear,
                    Activation::Relu => Op::Relu,
                    Activation::LeakyRelu { alpha } | Activation::PRelu { alpha } => {
                        Op::Leaky { alpha: expand(alpha, &shape) }
                    }
                    Activation::HardSigmoid { alpha, beta } => {
                        Op::HardSigmoid { alpha: scalar(alpha), beta: scalar(beta) }
                    }
                    Activation::Clip { min, max } => {
                        Op::Clip { min: min.as_ref().map(scalar), max: max.as_ref().map(scalar) }
                    }
                    Activation::Sigmoid(_) => Op::Sigmoid,
                    Activation::Tanh(_) => Op::Tanh,
                    Activation::Softplus(_) => Op::Softplus,
                    Activation::Softsign(_) => Op::Softsign,
                    Activation::Elu(t) => match t.function {
                        TableFn::EluNegative { alpha } => Op::Elu { alpha },
                        other => {
                            return Err(unsupported(&node.name, format!("an ELU table holds {other:?}")))
                        }
                    },
                    Activation::Selu { scale, .. } => Op::Selu { scale: scalar(scale) },
                    Activation::ThresholdedRelu { theta } => Op::ThresholdedRelu { theta: scalar(theta) },
                    Activation::HardSwish { alpha, beta } => {
                        Op::HardSwish { alpha: scalar(alpha), beta: scalar(beta) }
                    }
                },
                Layer::Softmax(_) => Op::Softmax { row: shape.channels().max(1) },
                Layer::Elementwise(e) => {
                    Op::Elementwise { op: e.op, constant: e.constant.as_ref().map(|c| expand(c, &shape)) }
                }
                Layer::Concatenate(c) => {
                    let shapes: Vec<&Shape> = g.inputs_of(id).iter().map(|&i| &g.node(i).shape).collect();
                    let (outer, lens) = c.blocks(&shapes);
                    Op::Concatenate { outer, lens }
                }
                Layer::Reshape(_) | Layer::Quantize(_) => Op::Copy,
                Layer::Conv(c) => conv(&node.name, c, &g.input_shapes(id), &shape)?,
                Layer::Pool(p) => pool(&node.name, p, &g.input_shapes(id), &shape)?,
                Layer::Pad(p) => {
                    let x = gather_input(&node.name, &g.input_shapes(id))?;
                    let s = p.begin.len();
                    if x.rank() != s + 1 || shape.rank() != s + 1 || p.end.len() != s {
                        return Err(unsupported(&node.name, "the padding does not fit the input"));
                    }
                    let source = spatial_map(x, &shape, |d, o| {
                        let i = o as i64 - p.begin[d];
                        (0..x.dims()[d] as i64).contains(&i).then_some(i as usize)
                    });
                    Op::Gather { in_elements: x.elements(), source }
                }
                Layer::UpSample(u) => {
                    let x = gather_input(&node.name, &g.input_shapes(id))?;
                    let s = u.factors.len();
                    if x.rank() != s + 1 || shape.rank() != s + 1 || u.factors.contains(&0) {
                        return Err(unsupported(&node.name, "the factors do not fit the input"));
                    }
                    let source = spatial_map(x, &shape, |d, o| Some(o / u.factors[d]));
                    Op::Gather { in_elements: x.elements(), source }
                }
                Layer::Transpose(t) => {
                    let x = gather_input(&node.name, &g.input_shapes(id))?;
                    let source = transpose(&node.name, t, x)?;
                    Op::Gather { in_elements: x.elements(), source }
                }
                Layer::Reduce(r) => {
                    let x = gather_input(&node.name, &g.input_shapes(id))?;
                    let index: Vec<u32> = r.sources(x).into_iter().flatten().map(|i| i as u32).collect();
                    if r.count == 0
                        || index.len() != r.count * shape.elements()
                        || u32::try_from(x.elements()).is_err()
                    {
                        return Err(unsupported(&node.name, "the reduced values do not fit the output"));
                    }
                    Op::Reduce { op: r.op, in_elements: x.elements(), n: r.count, index }
                }
                Layer::GatherRows(_) => {
                    let ins = g.inputs_of(id);
                    let (x, index) = (&g.node(ins[0]).shape, &g.node(ins[1]).shape);
                    let rows = x.dims().first().copied().unwrap_or(1);
                    let origin = &g.node(g.origin(ins[1])).name;
                    Op::GatherRows {
                        check: IndexCheck::new(&node.name, origin, rows, index),
                        row: x.elements() / rows.max(1),
                    }
                }
                Layer::ScatterAdd(sa) => {
                    let ins = g.inputs_of(id);
                    let index = &g.node(ins[1]).shape;
                    let origin = &g.node(g.origin(ins[1])).name;
                    Op::ScatterAdd {
                        check: IndexCheck::new(&node.name, origin, sa.rows, index),
                        row: shape.elements() / sa.rows.max(1),
                    }
                }
            };
            let cast = if node.ty_from_model || matches!(node.layer, Layer::Quantize(_)) {
                let ty = node.out_ty()?;
                Some((ty, counters.add(&node.name, "output", shape.elements())))
            } else {
                None
            };
            steps.push(Step { name: node.name.clone(), kind: node.layer.kind(), shape, args, op, cast });
        }
        let outputs = g.outputs().iter().filter_map(|&o| position(o)).collect();
        let widest = steps.iter().map(|s| s.shape.elements()).max().unwrap_or(1).max(1);
        let block = ((1 << 16) / widest).clamp(1, MAX_BLOCK);
        Ok(FloatPlan { steps, input_elements, outputs, counters, block })
    }

    pub(crate) fn kernels(&self) -> Vec<(String, String)> {
        self.steps.iter().map(|s| (s.name.clone(), format!("{}: f64", s.kind))).collect()
    }

    /// Runs `n` samples starting at sample `first`.
    pub(crate) fn run_block(
        &self,
        x: &[f64],
        first: usize,
        n: usize,
        trace: bool,
        bufs: &mut Vec<Vec<f64>>,
    ) -> Result<Block, SimError> {
        bufs.resize(self.steps.len(), Vec::new());
        let mut counts = vec![0u64; self.counters.0.len()];
        let mut raws: Vec<Vec<i64>> = vec![Vec::new(); self.steps.len()];
        for (k, step) in self.steps.iter().enumerate() {
            let mut out = std::mem::take(&mut bufs[k]);
            out.clear();
            let args: Vec<&[f64]> = step.args.iter().map(|&a| bufs[a].as_slice()).collect();
            step.compute(x, self.input_elements, &args, n, &mut out)?;
            if let Some((ty, counter)) = &step.cast {
                let f = ty.frac_bits();
                for (e, v) in out.iter_mut().enumerate() {
                    let c = fixed::from_f64(*v, ty).map_err(|_| SimError::NonFinite {
                        layer: step.name.clone(),
                        sample: first + e / step.shape.elements().max(1),
                        ty: *ty,
                    })?;
                    counts[*counter] += c.overflow as u64;
                    raws[k].push(c.raw as i64);
                    *v = fixed::to_f64(c.raw, f);
                }
            }
            bufs[k] = out;
        }
        let outputs = self.outputs.iter().map(|&o| bufs[o].clone()).collect();
        let out_raws = self.outputs.iter().map(|&o| raws[o].clone()).collect();
        let trace = if trace { bufs.clone() } else { Vec::new() };
        Ok(Block { outputs, raws: out_raws, trace, counts })
    }

    pub(crate) fn assemble(&self, blocks: Vec<Block>, n_samples: usize, trace: bool) -> SimResult {
        let concat =
            |f: &dyn Fn(&Block) -> &[f64]| blocks.iter().flat_map(|b| f(b).iter().copied()).collect();
        let outputs = self
            .outputs
            .iter()
            .enumerate()
            .map(|(k, &o)| {
                let step = &self.steps[o];
                OutputTensor {
                    name: step.name.clone(),
                    shape: step.shape.clone(),
                    ty: step.cast.map(|c| c.0),
                    values: concat(&|b| &b.outputs[k]),
                    raw: blocks.iter().flat_map(|b| b.raws[k].iter().copied()).collect(),
                }
            })
            .collect();
        let trace = trace.then(|| {
            self.steps
                .iter()
                .enumerate()
                .map(|(k, step)| TraceTensor {
                    name: step.name.clone(),
                    shape: step.shape.clone(),
                    values: concat(&|b| &b.trace[k]),
                })
                .collect()
        });
        SimResult {
            outputs,
            overflows: overflows(&self.counters.0, &blocks, |b| &b.counts, n_samples),
            trace,
            dense_sums: None,
        }
    }
}

impl Step {
    /// Appends the `n` samples' results to `out`; `input` holds the samples' rows of
    /// `input_elements` model input values, `args` the samples of each of the step's inputs.
    fn compute(
        &self,
        input: &[f64],
        input_elements: usize,
        args: &[&[f64]],
        n: usize,
        out: &mut Vec<f64>,
    ) -> Result<(), SimError> {
        let elements = self.shape.elements();
        let a = args.first().copied().unwrap_or(&[]);
        match &self.op {
            Op::Input { offset } => {
                for row in input.chunks(input_elements).take(n) {
                    out.extend_from_slice(&row[*offset..*offset + elements]);
                }
            }
            Op::Concatenate { outer, lens } => {
                for sample in 0..n {
                    for o in 0..*outer {
                        for (x, len) in args.iter().zip(lens) {
                            let from = (sample * outer + o) * len;
                            out.extend_from_slice(&x[from..from + len]);
                        }
                    }
                }
            }
            Op::Dense { n_in, n_out, w, b: bias } => {
                for xr in a.chunks(*n_in).take(n * elements / (*n_out).max(1)) {
                    let start = out.len();
                    out.extend_from_slice(bias);
                    let acc = &mut out[start..];
                    for (&x, row) in xr.iter().zip(w.chunks(*n_out)) {
                        for (y, &w) in acc.iter_mut().zip(row) {
                            *y += x * w;
                        }
                    }
                }
            }
            Op::BatchNorm { scale, bias } => {
                for row in a[..n * elements].chunks(scale.len()) {
                    out.extend(row.iter().zip(scale).zip(bias).map(|((&x, &s), &c)| x * s + c));
                }
            }
            Op::Linear | Op::Copy => out.extend_from_slice(&a[..n * elements]),
            Op::Relu => out.extend(a[..n * elements].iter().map(|&x| if x > 0.0 { x } else { 0.0 })),
            Op::Leaky { alpha } => {
                for row in a[..n * elements].chunks(elements) {
                    out.extend(row.iter().zip(alpha).map(|(&x, &s)| if x >= 0.0 { x } else { s * x }));
                }
            }
            &Op::HardSigmoid { alpha, beta } => {
                out.extend(a[..n * elements].iter().map(|&x| (alpha * x + beta).clamp(0.0, 1.0)))
            }
            &Op::Clip { min, max } => out.extend(a[..n * elements].iter().map(|&x| {
                let x = min.map_or(x, |m| x.max(m));
                max.map_or(x, |m| x.min(m))
            })),
            Op::Sigmoid => out.extend(a[..n * elements].iter().map(|&x| 1.0 / (1.0 + (-x).exp()))),
            Op::Tanh => out.extend(a[..n * elements].iter().map(|&x| x.tanh())),
            Op::Softplus => out.extend(a[..n * elements].iter().map(|&x| softplus(x))),
            Op::Softsign => out.extend(a[..n * elements].iter().map(|&x| x / (1.0 + x.abs()))),
            &Op::Elu { alpha } => {
                out.extend(a[..n * elements].iter().map(|&x| if x >= 0.0 { x } else { alpha * x.exp_m1() }))
            }
            &Op::Selu { scale } => out.extend(a[..n * elements].iter().map(|&x| {
                if x >= 0.0 {
                    scale * x
                } else {
                    SELU_SCALE * SELU_ALPHA * x.exp_m1()
                }
            })),
            &Op::ThresholdedRelu { theta } => {
                out.extend(a[..n * elements].iter().map(|&x| if x > theta { x } else { 0.0 }))
            }
            &Op::HardSwish { alpha, beta } => {
                out.extend(a[..n * elements].iter().map(|&x| x * (alpha * x + beta).clamp(0.0, 1.0)))
            }
            Op::Conv { in_elements, c_in, c_g, taps, filters, w, b: bias, index } => {
                let (c_g, filters) = (*c_g, *filters);
                let groups = c_in / c_g.max(1);
                let f_g = filters / groups.max(1);
                for xs in a.chunks(*in_elements).take(n) {
                    for window in index.chunks(*taps) {
                        let start = out.len();
                        out.extend_from_slice(bias);
                        let acc = &mut out[start..];
                        for (t, &i) in window.iter().enumerate() {
                            if i == PAD {
                                continue;
                            }
                            let pixel = &xs[i as usize * c_in..][..*c_in];
                            for g in 0..groups {
                                for c in 0..c_g {
                                    let v = pixel[g * c_g + c];
                                    let row = &w[(t * c_g + c) * filters + g * f_g..][..f_g];
                                    for (y, &wv) in acc[g * f_g..(g + 1) * f_g].iter_mut().zip(row) {
                                        *y += v * wv;
                                    }
                                }
                            }
                        }
                    }
                }
            }
            Op::Pool { op, in_elements, channels, taps, index, count } => {
                let c = *channels;
                for xs in a.chunks(*in_elements).take(n) {
                    for (window, &cnt) in index.chunks(*taps).zip(count) {
                        let start = out.len();
                        let mut inside =
                            window.iter().filter(|&&i| i != PAD).map(|&i| &xs[i as usize * c..][..c]);
                        out.extend_from_slice(inside.next().unwrap_or(&[]));
                        let acc = &mut out[start..];
                        for vals in inside {
                            for (y, &v) in acc.iter_mut().zip(vals) {
                                *y = match op {
                                    PoolOp::Max => y.max(v),
                                    PoolOp::Average => *y + v,
                                };
                            }
                        }
                        if *op == PoolOp::Average {
                            acc.iter_mut().for_each(|y| *y /= cnt);
                        }
                    }
                }
            }
            Op::Reduce { op, in_elements, n: count, index } => {
                let (samples, n) = (n, count);
                for xs in a.chunks(*in_elements).take(samples) {
                    out.extend(index.chunks(*n).map(|idx| {
                        let vs = idx.iter().map(|&i| xs[i as usize]);
                        match op {
                            ReduceOp::Sum => vs.sum::<f64>(),
                            ReduceOp::Mean => vs.sum::<f64>() / *n as f64,
                            ReduceOp::Max => vs.fold(f64::NEG_INFINITY, f64::max),
                            ReduceOp::Min => vs.fold(f64::INFINITY, f64::min),
                            ReduceOp::SumSquare => vs.map(|v| v * v).sum(),
                            ReduceOp::L1 => vs.map(f64::abs).sum(),
                            ReduceOp::L2 => vs.map(|v| v * v).sum::<f64>().sqrt(),
                        }
                    }));
                }
            }
            Op::Gather { in_elements, source } => {
                for xs in a.chunks(*in_elements).take(n) {
                    out.extend(source.iter().map(|&i| if i == PAD { 0.0 } else { xs[i as usize] }));
                }
            }
            Op::GatherRows { check, row } => {
                let mut picked = Vec::with_capacity(check.m);
                for sample in 0..n {
                    let index = args[1][sample * check.m..(sample + 1) * check.m].iter().map(|&v| v as i64);
                    check.rows_of(sample, index, &mut picked)?;
                    let x = &a[sample * check.rows * row..];
                    for &r in &picked {
                        out.extend_from_slice(&x[r * row..(r + 1) * row]);
                    }
                }
            }
            Op::ScatterAdd { check, row } => {
                let mut picked = Vec::with_capacity(check.m);
                for sample in 0..n {
                    let index = args[1][sample * check.m..(sample + 1) * check.m].iter().map(|&v| v as i64);
                    check.rows_of(sample, index, &mut picked)?;
                    let start = out.len();
                    out.resize(start + check.rows * row, 0.0);
                    let x = &a[sample * check.m * row..];
                    for (k, &r) in picked.iter().enumerate() {
                        for (y, &v) in
                            out[start + r * row..start + (r + 1) * row].iter_mut().zip(&x[k * row..])
                        {
                            *y += v;
                        }
                    }
                }
            }
            Op::Softmax { row } => {
                for xr in a[..n * elements].chunks(*row) {
                    let m = xr.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let start = out.len();
                    out.extend(xr.iter().map(|&x| (x - m).exp()));
                    let s: f64 = out[start..].iter().sum();
                    for y in &mut out[start..] {
                        *y /= s;
                    }
                }
            }
            Op::Elementwise { op, constant } => {
                let f = |x: f64, r: f64| match op {
                    BinaryOp::Add => x + r,
                    BinaryOp::Sub => x - r,
                    BinaryOp::Mul => x * r,
                    BinaryOp::Max => x.max(r),
                    BinaryOp::Min => x.min(r),
                };
                match constant {
                    Some(c) => {
                        for row in a[..n * elements].chunks(elements) {
                            out.extend(row.iter().zip(c).map(|(&x, &r)| f(x, r)));
                        }
                    }
                    None => {
                        let start = out.len();
                        out.extend_from_slice(&a[..n * elements]);
                        for r in &args[1..] {
                            for (y, &v) in out[start..].iter_mut().zip(*r) {
                                *y = f(*y, v);
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }
}
