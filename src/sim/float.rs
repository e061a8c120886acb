//! The `f64` reference mode: the model's own float semantics.
//!
//! Every layer computes in `f64` with the weights' values as stored: Dense sums `b_j` then
//! `x_i * w_ij` for `i` in order (no fused multiply-add, so results do not depend on the CPU),
//! activations use the true functions (`1 / (1 + e^-x)`, `tanh`, `exp(x_i - m) / sum`) instead of
//! tables, and nothing is rounded except where the model fixed a type: `Quantize` nodes and nodes
//! with `ty_from_model` cast their result to that type (its rounding and overflow modes, counted
//! as `output` overflows) and read it back as a double. Such outputs carry their type and raw
//! integers in the result; other outputs carry only values.

use std::collections::HashMap;

use super::plan::Counters;
use super::{overflows, OutputTensor, SimError, SimResult, TraceTensor};
use crate::fixed::{self, FixedType};
use crate::ir::{Activation, BinaryOp, ImportedGraph, Layer, NodeId, Shape, Weights};

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
    Softmax {
        row: usize,
    },
    /// `constant` per element of a sample, or the second input.
    Elementwise {
        op: BinaryOp,
        constant: Option<Vec<f64>>,
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
            step.compute(x, self.input_elements, &args, n, &mut out);
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
        }
    }
}

impl Step {
    /// Appends the `n` samples' results to `out`; `input` holds the samples' rows of
    /// `input_elements` model input values, `args` the samples of each of the step's inputs.
    fn compute(&self, input: &[f64], input_elements: usize, args: &[&[f64]], n: usize, out: &mut Vec<f64>) {
        let elements = self.shape.elements();
        let (a, b) = (args.first().copied().unwrap_or(&[]), args.get(1).copied().unwrap_or(&[]));
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
                for xr in a.chunks(*n_in).take(n) {
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
                };
                match constant {
                    Some(c) => {
                        for row in a[..n * elements].chunks(elements) {
                            out.extend(row.iter().zip(c).map(|(&x, &r)| f(x, r)));
                        }
                    }
                    None => out.extend(a[..n * elements].iter().zip(b).map(|(&x, &r)| f(x, r))),
                }
            }
        }
    }
}
