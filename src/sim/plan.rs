//! Compiles a lowered graph into an execution plan and runs it on blocks of samples.
//!
//! The plan lists the layers in topological order, each with a kernel built for its exact types:
//! constants converted to raw integers and pre-aligned, tables converted, the integer width and
//! the casts chosen from the value ranges the types allow (see [`super::cast`]). Activations live
//! in buffer slots shared by layers whose lifetimes do not overlap; a block of up to
//! [`Plan::block`] samples runs through every layer before the next block starts, so a worker
//! touches a small, hot working set. Running a block fails only on input data a layer refuses (an
//! index out of range).

use std::collections::HashMap;

use super::activation::ActivationKernel;
use super::batch_norm::BatchNormKernel;
use super::concatenate::ConcatenateKernel;
use super::conv::ConvKernel;
use super::dense::DenseKernel;
use super::elementwise::ElementwiseKernel;
use super::gather_rows::RowKernel;
use super::input::InputKernel;
use super::madd::{Narrow, Out};
use super::pad::PadKernel;
use super::pool::PoolKernel;
use super::quantize::QuantizeKernel;
use super::reduce::ReduceKernel;
use super::reshape::ReshapeKernel;
use super::softmax::SoftmaxKernel;
use super::transpose::TransposeKernel;
use super::upsample::UpSampleKernel;
use super::{SimError, SimOptions};
use crate::fixed::FixedType;
use crate::ir::{Layer, LoweredGraph, Node, NodeId, Shape};

/// Per-block working memory of one worker.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    pub(crate) i64s: [Vec<i64>; 3],
    pub(crate) i128s: [Vec<i128>; 2],
    pub(crate) i16s: Vec<i16>,
    pub(crate) i32s: Vec<i32>,
    pub(crate) f64s: [Vec<f64>; 2],
    /// Values gathered by layers that read their input out of order (`Conv` windows, `Pad`,
    /// `UpSample`, `Transpose`), and a group's products of a grouped `Conv`.
    pub(crate) gather: Vec<i64>,
    pub(crate) staged: Vec<i64>,
}

/// A worker's buffers: one per slot of the plan (and the slot's narrow rows, for the steps that
/// hand theirs over narrow), and scratch space for the kernels.
#[derive(Debug, Default)]
pub(crate) struct Work {
    buffers: Vec<Vec<i64>>,
    narrow: Vec<Vec<i16>>,
    scratch: Scratch,
}

/// One overflow counter: a cast of kind `kind` in layer `layer`, done `per_sample` times a sample.
#[derive(Debug, Clone)]
pub(crate) struct Counter {
    pub(crate) layer: String,
    pub(crate) kind: &'static str,
    pub(crate) per_sample: u64,
}

/// Collects counters while kernels are built.
#[derive(Debug, Default)]
pub(crate) struct Counters(pub(crate) Vec<Counter>);

impl Counters {
    pub(crate) fn add(&mut self, layer: &str, kind: &'static str, per_sample: usize) -> usize {
        self.0.push(Counter { layer: layer.to_string(), kind, per_sample: per_sample as u64 });
        self.0.len() - 1
    }
}

/// What a kernel builder gets: the node, its inputs, the options and the counters.
pub(crate) struct Ctx<'a> {
    pub(crate) node: &'a Node,
    pub(crate) inputs: Vec<&'a Node>,
    /// The name of the node each input comes from through layers of one input (for messages).
    pub(crate) origins: Vec<String>,
    pub(crate) opts: &'a SimOptions,
    pub(crate) counters: &'a mut Counters,
}

impl Ctx<'_> {
    pub(crate) fn out_ty(&self) -> Result<FixedType, SimError> {
        Ok(self.node.out_ty()?)
    }

    /// Type of input `k`.
    pub(crate) fn in_ty(&self, k: usize) -> Result<FixedType, SimError> {
        match self.inputs.get(k) {
            Some(n) => Ok(n.out_ty()?),
            None => Err(self.unsupported(format!("input {k} is missing"))),
        }
    }

    pub(crate) fn elements(&self) -> usize {
        self.node.shape.elements()
    }

    pub(crate) fn counter(&mut self, kind: &'static str, per_sample: usize) -> usize {
        let name = self.node.name.clone();
        self.counters.add(&name, kind, per_sample)
    }

    pub(crate) fn unsupported(&self, what: impl Into<String>) -> SimError {
        SimError::Unsupported { layer: self.node.name.clone(), what: what.into() }
    }
}

/// A model input: its kernel and where its values lie in a sample's row of all inputs.
#[derive(Debug)]
pub(crate) struct InputSlot {
    kernel: InputKernel,
    offset: usize,
}

#[derive(Debug)]
pub(crate) enum Kernel {
    Input(InputSlot),
    Dense(DenseKernel),
    BatchNorm(BatchNormKernel),
    Activation(ActivationKernel),
    Softmax(SoftmaxKernel),
    Elementwise(ElementwiseKernel),
    Concatenate(ConcatenateKernel),
    Reshape(ReshapeKernel),
    Quantize(QuantizeKernel),
    Conv(ConvKernel),
    Pool(PoolKernel),
    Pad(PadKernel),
    UpSample(UpSampleKernel),
    Transpose(TransposeKernel),
    Reduce(ReduceKernel),
    GatherRows(RowKernel),
    ScatterAdd(RowKernel),
}

#[derive(Debug)]
pub(crate) struct Step {
    pub(crate) name: String,
    pub(crate) shape: Shape,
    pub(crate) ty: FixedType,
    args: Vec<usize>,
    out: usize,
    kernel: Kernel,
    /// A Dense step whose one reader is the next step, a plain ReLU
    /// ([`ActivationKernel::is_plain_relu`]) sharing its buffer slot: without a trace, the Dense
    /// writes the ReLU's output and the ReLU step is skipped.
    relu_next: bool,
    /// That ReLU step: its output is its input's slot, made non-negative in place when traced.
    in_place: bool,
    /// A Dense step whose output (after its ReLU, when `relu_next`) is read only by one Dense
    /// step that reads [`Narrow`] rows: without a trace, it writes them into its slot's narrow
    /// rows instead of its buffer ([`Out::Narrow`]).
    narrow_out: bool,
    /// That reader: the stride of the narrow rows it reads from its input's slot.
    narrow_in: Option<usize>,
}

/// A graph output: which step produces it.
#[derive(Debug, Clone)]
pub(crate) struct OutputSpec {
    pub(crate) step: usize,
}

#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) steps: Vec<Step>,
    /// Elements per sample of each buffer slot.
    slots: Vec<usize>,
    /// Values per sample of all model inputs together (each input's values in input order).
    pub(crate) input_elements: usize,
    pub(crate) outputs: Vec<OutputSpec>,
    pub(crate) counters: Vec<Counter>,
    /// Samples per block.
    pub(crate) block: usize,
}

/// The raw results of one block: outputs and (when traced) every step's output, `n x elements`
/// each, (when asked for) every step's exact Dense sums (empty for the other steps), and the
/// overflow counts.
#[derive(Debug)]
pub(crate) struct BlockOut {
    pub(crate) outputs: Vec<Vec<i64>>,
    pub(crate) trace: Vec<Vec<i64>>,
    pub(crate) sums: Vec<Vec<i64>>,
    pub(crate) counts: Vec<u64>,
}

/// Bytes of activations a block aims to keep in a worker's cache.
const BLOCK_BYTES: usize = 1 << 19;
const MAX_BLOCK: usize = 64;

impl Plan {
    pub(crate) fn new(g: &LoweredGraph, opts: &SimOptions) -> Result<Plan, SimError> {
        let order = g.topo_order()?;
        let index: HashMap<NodeId, usize> = order.iter().enumerate().map(|(k, &id)| (id, k)).collect();
        let position = |id: NodeId| index.get(&id).copied();
        // The last step reading each node; graph outputs are read after the last step.
        let mut last_use = vec![0usize; order.len()];
        for (k, &id) in order.iter().enumerate() {
            last_use[k] = k;
            for user in g.users_of(id) {
                if let Some(p) = position(user) {
                    last_use[k] = last_use[k].max(p);
                }
            }
            if g.outputs().contains(&id) {
                last_use[k] = usize::MAX;
            }
        }
        let mut counters = Counters::default();
        let mut steps: Vec<Step> = Vec::with_capacity(order.len());
        let mut slots: Vec<usize> = Vec::new();
        let mut free: Vec<usize> = Vec::new();
        let mut slot_of: Vec<usize> = Vec::with_capacity(order.len());
        let mut input_elements = 0;
        for (k, &id) in order.iter().enumerate() {
            let node = g.node(id);
            let input_ids = g.inputs_of(id);
            let args: Vec<usize> = input_ids
                .iter()
                .map(|&i| position(i).map(|p| slot_of[p]))
                .collect::<Option<_>>()
                .ok_or_else(|| SimError::Unsupported {
                    layer: node.name.clone(),
                    what: "an input is not in the graph".into(),
                })?;
            let mut ctx = Ctx {
                node,
                inputs: input_ids.iter().map(|&i| g.node(i)).collect(),
                origins: input_ids.iter().map(|&i| g.node(g.origin(i)).name.clone()).collect(),
                opts,
                counters: &mut counters,
            };
            let kernel = build(&mut ctx, input_elements)?;
            if let Kernel::Input(_) = kernel {
                input_elements += node.shape.elements();
            }
            let elements = node.shape.elements();
            // A plain ReLU of the Dense just before it, read by nothing else, takes over its slot.
            let in_place = match (&kernel, steps.last_mut(), &input_ids[..]) {
                (Kernel::Activation(a), Some(prev), &[i])
                    if a.is_plain_relu()
                        && matches!(prev.kernel, Kernel::Dense(_))
                        && position(i) == Some(k - 1)
                        && last_use[k - 1] == k
                        && g.users_of(i).len() == 1 =>
                {
                    prev.relu_next = true;
                    true
                }
                _ => false,
            };
            let out = if in_place {
                slot_of[k - 1]
            } else {
                match free.iter().position(|&s| slots[s] >= elements) {
                    Some(f) => free.swap_remove(f),
                    None => {
                        slots.push(elements);
                        slots.len() - 1
                    }
                }
            };
            slot_of.push(out);
            for &i in &input_ids {
                if let Some(p) = position(i) {
                    if last_use[p] == k && !free.contains(&slot_of[p]) && slot_of[p] != out {
                        free.push(slot_of[p]);
                    }
                }
            }
            if last_use[k] == k {
                free.push(out);
            }
            steps.push(Step {
                name: node.name.clone(),
                shape: node.shape.clone(),
                ty: node.out_ty()?,
                args,
                out,
                kernel,
                relu_next: false,
                in_place,
                narrow_out: false,
                narrow_in: None,
            });
        }
        for k in 0..steps.len() {
            let Kernel::Dense(d) = &steps[k].kernel else { continue };
            let Some(stride) = d.narrow_stride() else { continue };
            let v = if steps[k].relu_next { k + 1 } else { k };
            if last_use[v] == usize::MAX {
                continue;
            }
            if let [user] = g.users_of(order[v])[..] {
                let reader = position(user).filter(|&c| match &steps[c].kernel {
                    Kernel::Dense(d) => d.reads_narrow() && steps[c].args == [steps[v].out],
                    _ => false,
                });
                if let Some(c) = reader {
                    steps[k].narrow_out = true;
                    steps[c].narrow_in = Some(stride);
                }
            }
        }
        let outputs = g
            .outputs()
            .iter()
            .map(|&o| position(o).map(|step| OutputSpec { step }))
            .collect::<Option<Vec<_>>>()
            .ok_or(SimError::Invalid(crate::ir::IrError::NoOutput))?;
        let per_sample: usize = slots.iter().sum::<usize>().max(1);
        let block = (BLOCK_BYTES / (8 * per_sample)).clamp(1, MAX_BLOCK);
        Ok(Plan { steps, slots, input_elements, outputs, counters: counters.0, block })
    }

    /// Each step's layer name and the kernel chosen for it (`kind: kernel`, and whether it takes
    /// or gives narrow rows without a trace).
    pub(crate) fn kernels(&self) -> Vec<(String, String)> {
        self.steps
            .iter()
            .map(|s| {
                let (kind, how) = match &s.kernel {
                    Kernel::Input(k) => ("input", k.kernel.describe()),
                    Kernel::Dense(k) => ("dense", k.describe()),
                    Kernel::BatchNorm(k) => ("batch_norm", k.describe()),
                    Kernel::Activation(k) => ("activation", k.describe()),
                    Kernel::Softmax(k) => ("softmax", k.describe()),
                    Kernel::Elementwise(k) => ("elementwise", k.describe()),
                    Kernel::Concatenate(k) => ("concatenate", k.describe()),
                    Kernel::Reshape(k) => ("reshape", k.describe()),
                    Kernel::Quantize(k) => ("quantize", k.describe()),
                    Kernel::Conv(k) => ("conv", k.describe()),
                    Kernel::Pool(k) => ("pool", k.describe()),
                    Kernel::Pad(k) => ("pad", k.describe()),
                    Kernel::UpSample(k) => ("upsample", k.describe()),
                    Kernel::Transpose(k) => ("transpose", k.describe()),
                    Kernel::Reduce(k) => ("reduce", k.describe()),
                    Kernel::GatherRows(k) => ("gather_rows", k.describe()),
                    Kernel::ScatterAdd(k) => ("scatter_add", k.describe()),
                };
                let narrow_in = if s.narrow_in.is_some() { ", i16 rows in" } else { "" };
                let narrow_out = if s.narrow_out { ", i16 rows out" } else { "" };
                (s.name.clone(), format!("{kind}: {how}{narrow_in}{narrow_out}"))
            })
            .collect()
    }

    /// The exact sums' fractional bits of every step whose kernel gives them
    /// ([`DenseKernel::sums_frac`]), `None` for the others.
    pub(crate) fn sums_fracs(&self) -> Vec<Option<i32>> {
        self.steps
            .iter()
            .map(|s| match &s.kernel {
                Kernel::Dense(k) => k.sums_frac(),
                _ => None,
            })
            .collect()
    }

    /// Runs `n` samples (`x` holds `n * input_elements` finite values, a row per sample), keeping
    /// every step's output when `trace` and the Dense steps' exact sums when `sums`.
    pub(crate) fn run_block(
        &self,
        x: &[f64],
        n: usize,
        trace: bool,
        sums: bool,
        work: &mut Work,
    ) -> Result<BlockOut, SimError> {
        if work.buffers.len() != self.slots.len() {
            work.buffers = self.slots.iter().map(|&e| vec![0; e * self.block]).collect();
            work.narrow = vec![Vec::new(); self.slots.len()];
        }
        let mut counts = vec![0u64; self.counters.len()];
        let mut traced = Vec::with_capacity(if trace { self.steps.len() } else { 0 });
        let mut summed = vec![Vec::new(); if sums { self.steps.len() } else { 0 }];
        for (k, step) in self.steps.iter().enumerate() {
            let len = n * step.shape.elements();
            if step.in_place {
                // The Dense before wrote this step's output already, unless traced.
                if trace {
                    let values = &mut work.buffers[step.out][..len];
                    ActivationKernel::relu_in_place(values);
                    traced.push(values.to_vec());
                }
                continue;
            }
            let mut out = std::mem::take(&mut work.buffers[step.out]);
            let args: Vec<&[i64]> = step.args.iter().map(|&a| work.buffers[a].as_slice()).collect();
            let dst = &mut out[..len];
            let scratch = &mut work.scratch;
            let mut result = Ok(());
            match &step.kernel {
                Kernel::Input(k) => {
                    result = self.run_input(k, x, n, dst, scratch).map(|o| counts[k.kernel.counter] += o)
                }
                Kernel::Dense(d) => {
                    // Narrow rows only without a trace, which keeps every step's values.
                    let mut rows = std::mem::take(&mut work.narrow[step.out]);
                    let x = match step.narrow_in.filter(|_| !trace) {
                        Some(stride) => Ok(Narrow { values: &work.narrow[step.args[0]], stride }),
                        None => Err(args[0]),
                    };
                    let out = if step.narrow_out && !trace { Out::Narrow(&mut rows) } else { Out::Wide(dst) };
                    let relu = step.relu_next && !trace;
                    d.run(x, len, out, scratch, &mut counts, summed.get_mut(k), relu);
                    work.narrow[step.out] = rows;
                }
                Kernel::BatchNorm(k) => k.run(args[0], dst, scratch, &mut counts),
                Kernel::Activation(k) => k.run(args[0], dst, scratch, &mut counts),
                Kernel::Softmax(k) => k.run(args[0], dst, scratch, &mut counts),
                Kernel::Elementwise(k) => k.run(&args, dst, scratch, &mut counts),
                Kernel::Concatenate(k) => k.run(&args, dst, scratch, &mut counts),
                Kernel::Reshape(k) => k.run(args[0], dst, scratch, &mut counts),
                Kernel::Quantize(k) => k.run(args[0], dst, scratch, &mut counts),
                Kernel::Conv(k) => k.run(args[0], dst, scratch, &mut counts),
                Kernel::Pool(k) => k.run(args[0], dst, scratch, &mut counts),
                Kernel::Reduce(k) => k.run(args[0], dst, scratch, &mut counts),
                Kernel::GatherRows(k) => {
                    result = k.run(&args, dst, scratch, &mut counts, super::gather_rows::gather)
                }
                Kernel::ScatterAdd(k) => {
                    result = k.run(&args, dst, scratch, &mut counts, super::scatter_add::scatter)
                }
                Kernel::Pad(k) | Kernel::UpSample(k) | Kernel::Transpose(k) => {
                    k.run(args[0], dst, scratch, &mut counts)
                }
            }
            if trace {
                traced.push(dst.to_vec());
            }
            work.buffers[step.out] = out;
            result?;
        }
        let outputs = self
            .outputs
            .iter()
            .map(|o| {
                let step = &self.steps[o.step];
                work.buffers[step.out][..n * step.shape.elements()].to_vec()
            })
            .collect();
        Ok(BlockOut { outputs, trace: traced, sums: summed, counts })
    }
}

/// Builds a node's kernel; `inputs_before` is the number of model input values of the inputs
/// already built (where this one's values start in a sample's row).
impl Plan {
    /// Converts one model input's values of the block's `n` samples into `dst`.
    fn run_input(
        &self,
        k: &InputSlot,
        x: &[f64],
        n: usize,
        dst: &mut [i64],
        scratch: &mut Scratch,
    ) -> Result<u64, SimError> {
        let elements = dst.len() / n.max(1);
        if elements == self.input_elements {
            return k.kernel.run(x, dst);
        }
        let gathered = &mut scratch.f64s[0];
        gathered.clear();
        for row in x.chunks(self.input_elements).take(n) {
            gathered.extend_from_slice(&row[k.offset..k.offset + elements]);
        }
        k.kernel.run(gathered, dst)
    }
}

fn build(ctx: &mut Ctx, inputs_before: usize) -> Result<Kernel, SimError> {
    let node = ctx.node;
    Ok(match &node.layer {
        Layer::Input(_) => {
            let ty = ctx.out_ty()?;
            let counter = ctx.counter("output", ctx.elements());
            let kernel = InputKernel::new(&node.name, ty, ctx.opts.fast_paths, counter);
            Kernel::Input(InputSlot { kernel, offset: inputs_before })
        }
        Layer::Dense(d) => Kernel::Dense(DenseKernel::build(ctx, d)?),
        Layer::BatchNorm(b) => Kernel::BatchNorm(BatchNormKernel::build(ctx, b)?),
        Layer::Activation(a) => Kernel::Activation(ActivationKernel::build(ctx, a)?),
        Layer::Softmax(s) => Kernel::Softmax(SoftmaxKernel::build(ctx, s)?),
        Layer::Elementwise(e) => Kernel::Elementwise(ElementwiseKernel::build(ctx, e)?),
        Layer::Concatenate(c) => Kernel::Concatenate(ConcatenateKernel::build(ctx, c)?),
        Layer::Reshape(_) => Kernel::Reshape(ReshapeKernel::build(ctx)?),
        Layer::Quantize(_) => Kernel::Quantize(QuantizeKernel::build(ctx)?),
        Layer::Conv(c) => Kernel::Conv(ConvKernel::build(ctx, c)?),
        Layer::Pool(p) => Kernel::Pool(PoolKernel::build(ctx, p)?),
        Layer::Pad(p) => Kernel::Pad(super::pad::build(ctx, p)?),
        Layer::UpSample(u) => Kernel::UpSample(super::upsample::build(ctx, u)?),
        Layer::Transpose(t) => Kernel::Transpose(super::transpose::build(ctx, t)?),
        Layer::Reduce(r) => Kernel::Reduce(ReduceKernel::build(ctx, r)?),
        Layer::GatherRows(_) => {
            let origin = ctx.origins.get(1).cloned().unwrap_or_default();
            Kernel::GatherRows(super::gather_rows::build(ctx, &origin)?)
        }
        Layer::ScatterAdd(s) => {
            let origin = ctx.origins.get(1).cloned().unwrap_or_default();
            Kernel::ScatterAdd(super::scatter_add::build(ctx, s, &origin)?)
        }
    })
}
