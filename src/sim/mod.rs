//! Runs a layer graph on input data: bit-accurate fixed-point simulation, and an `f64` reference.
//!
//! [`Simulator::new`] takes a [`LoweredGraph`] and compiles it into a plan (`plan.rs`);
//! [`Simulator::run`] executes it on any number of samples. A sample's input row holds the values
//! of every model input, in input order. Each layer computes exactly the arithmetic `ir::layer`
//! defines (the kernel files are named after the layer kinds; `matmul.rs` holds the exact matrix
//! products layers share), so outputs equal the emitted HLS C++ and the RTL bit for bit.
//! Guarantees:
//!
//! * every cast that overflows (wraps, saturates or zeroes), in any layer, is counted: the input
//!   conversion, Dense accumulators, table indices and every output cast ([`LayerOverflow`]);
//! * results are identical for any number of threads (samples are independent, counts are sums);
//! * no panic on a validated graph or on any input data; a graph whose types need exact
//!   intermediates wider than 126 bits is refused with [`SimError::Unsupported`].
//!
//! [`Simulator::new_float`] runs an [`ImportedGraph`] in `f64` (`float.rs`):
//! the weights as stored, true math functions instead of tables, and casts only where the model
//! itself fixed a type (`Quantize` nodes and nodes with `ty_from_model`).

mod activation;
mod batch_norm;
mod cast;
mod cast32;
mod concatenate;
mod constant;
mod conv;
mod dense;
mod elementwise;
mod float;
mod gather;
mod gather_rows;
mod input;
mod madd;
mod matmul;
mod pad;
mod plan;
mod pool;
mod quantize;
mod reduce;

/// For each output of a reduction over `axes` of `x`, the flat indices of the input elements it
/// reduces, row-major over the reduced coordinates (`None` past `u32` indices).
mod reshape;
mod scatter_add;
mod simd;
mod softmax;
mod transpose;
mod upsample;

use std::sync::Mutex;

use rayon::prelude::*;
use thiserror::Error;

use crate::fixed::{self, FixedType};
use crate::ir::{ImportedGraph, IrError, LoweredGraph, Shape};
use float::FloatPlan;
use plan::Plan;
pub(crate) use simd::has_avx2_fma;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum SimError {
    #[error("the graph cannot be simulated: {0}")]
    Invalid(#[from] IrError),
    #[error("layer '{layer}': {what}")]
    Unsupported { layer: String, what: String },
    #[error("expected {expected} input values ({n_samples} samples of {per_sample}), got {got}")]
    InputLength { expected: usize, got: usize, n_samples: usize, per_sample: usize },
    #[error("input '{input}', sample {sample}, index {index:?} is {value}; inputs must be finite")]
    NonFiniteInput { input: String, sample: usize, index: Vec<usize>, value: f64 },
    #[error("input '{input}', sample {sample}, index {index:?} is {value}, but the model declares '{input}' as integers")]
    NotInteger { input: String, sample: usize, index: Vec<usize>, value: f64 },
    #[error("layer '{layer}': sample {sample} reached a non-finite value, which {ty} cannot hold")]
    NonFinite { layer: String, sample: usize, ty: FixedType },
    #[error(
        "layer '{layer}': index input '{input}', sample {sample}, position {position}: index {value} is \
         outside 0..{rows}"
    )]
    Index { layer: String, input: String, sample: usize, position: usize, value: i64, rows: usize },
}

impl SimError {
    /// The error of a run whose samples start at sample `first` of a larger batch: sample
    /// numbers counted from the batch's start.
    pub fn from_sample(self, first: usize) -> SimError {
        match self {
            SimError::NonFiniteInput { input, sample, index, value } => {
                SimError::NonFiniteInput { input, sample: sample + first, index, value }
            }
            SimError::NotInteger { input, sample, index, value } => {
                SimError::NotInteger { input, sample: sample + first, index, value }
            }
            SimError::NonFinite { layer, sample, ty } => {
                SimError::NonFinite { layer, sample: sample + first, ty }
            }
            SimError::Index { layer, input, sample, position, value, rows } => {
                SimError::Index { layer, input, sample: sample + first, position, value, rows }
            }
            other => other,
        }
    }
}

/// How a graph is compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimOptions {
    /// Use the specialised kernels (integer-valued `f64` GEMM, `i64` arithmetic, specialised
    /// casts) wherever the plan proves them exact. When false, every layer runs the general
    /// `i128` path; results are the same either way.
    pub fast_paths: bool,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions { fast_paths: true }
    }
}

/// Options of one run.
#[derive(Clone, Copy, Default)]
pub struct RunOptions<'a> {
    /// Keep every layer's output in [`SimResult::trace`].
    pub trace: bool,
    /// Keep the exact Dense sums in [`SimResult::dense_sums`].
    pub dense_sums: bool,
    /// Called now and then with the number of samples done (non-decreasing, last with all).
    pub progress: Option<&'a (dyn Fn(usize) + Sync)>,
}

/// One graph output for all samples, row-major `n_samples x shape.elements()`.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputTensor {
    pub name: String,
    pub shape: Shape,
    /// The fixed-point type of the values; `None` in float mode unless the model fixed it.
    pub ty: Option<FixedType>,
    /// The values (exact for types of at most 53 bits, else the nearest double).
    pub values: Vec<f64>,
    /// Raw integers when `ty` is known (an unsigned 64-bit type keeps its bit pattern).
    pub raw: Vec<i64>,
}

/// One layer's output for all samples, row-major `n_samples x shape.elements()`.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceTensor {
    pub name: String,
    pub shape: Shape,
    pub values: Vec<f64>,
}

/// Overflows of one kind of cast in one layer over a run.
///
/// Kinds: `output` (the cast to the layer's type, for `Input` the conversion from float),
/// `accumulator` (Dense, including the bias cast), `index` (an activation's table index),
/// `exp_index` and `inv_index` (Softmax table indices).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerOverflow {
    pub layer: String,
    pub kind: &'static str,
    /// Casts that overflowed.
    pub count: u64,
    /// Casts of this kind performed.
    pub elements: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SimResult {
    /// One per graph output, in the graph's order.
    pub outputs: Vec<OutputTensor>,
    /// Every cast site in topological order, including those that never overflowed.
    pub overflows: Vec<LayerOverflow>,
    /// Every layer's output in topological order, when asked for.
    pub trace: Option<Vec<TraceTensor>>,
    /// When asked for, in topological order: for each Dense layer whose kernel computes the exact
    /// `bias + x·W` before a single cast (every partial sum fits the accumulator type and stays
    /// below `2^51` at the product's fractional bits), those sums as exact values, named after
    /// the layer; the other Dense layers are left out. Always `None` in float mode.
    pub dense_sums: Option<Vec<TraceTensor>>,
}

/// A compiled graph, ready to run.
#[derive(Debug)]
pub struct Simulator {
    engine: Engine,
    inputs: Vec<InputInfo>,
}

/// A model input, as its values sit in each row of the simulator's inputs.
#[derive(Debug)]
struct InputInfo {
    name: String,
    shape: Shape,
    /// The model's layout (`ir::layout`), when it differs from the IR's.
    perm: Option<Vec<usize>>,
    integer: bool,
    offset: usize,
}

impl InputInfo {
    fn of(g: &crate::ir::Graph) -> Vec<InputInfo> {
        let mut offset = 0;
        g.inputs()
            .into_iter()
            .map(|i| {
                let node = g.node(i);
                let info = InputInfo {
                    name: node.name.clone(),
                    shape: node.shape.clone(),
                    perm: g.input_layout(i).map(<[usize]>::to_vec),
                    integer: matches!(&node.layer, crate::ir::Layer::Input(x) if x.integer),
                    offset,
                };
                offset += node.shape.elements();
                info
            })
            .collect()
    }

    /// The input holding element `element` of a row, and that element's model-layout index.
    fn locate(inputs: &[InputInfo], element: usize) -> (String, Vec<usize>) {
        match inputs.iter().rev().find(|i| i.offset <= element) {
            Some(i) => (
                i.name.clone(),
                crate::ir::layout::model_index(&i.shape, i.perm.as_deref(), element - i.offset),
            ),
            None => (String::new(), vec![element]),
        }
    }
}

#[derive(Debug)]
enum Engine {
    /// The plan, and the workers' buffers kept from one run to the next.
    Fixed(Plan, Pool<plan::Work>),
    Float(FloatPlan, Pool<Vec<Vec<f64>>>),
}

/// Worker states handed out to the tasks of a run and taken back when each task ends, so that a
/// run's many tasks (and the next runs) reuse the buffers the first ones allocated.
#[derive(Debug, Default)]
struct Pool<W>(Mutex<Vec<W>>);

/// A worker state out of its [`Pool`], returned to it when dropped.
struct Lent<'a, W: Default> {
    pool: &'a Pool<W>,
    work: W,
}

impl<W: Default> Pool<W> {
    fn lend(&self) -> Lent<'_, W> {
        let work = self.0.lock().ok().and_then(|mut v| v.pop()).unwrap_or_default();
        Lent { pool: self, work }
    }
}

impl<W: Default> Drop for Lent<'_, W> {
    fn drop(&mut self) {
        if let Ok(mut v) = self.pool.0.lock() {
            v.push(std::mem::take(&mut self.work));
        }
    }
}

impl Simulator {
    /// Compiles a lowered graph.
    pub fn new(g: &LoweredGraph) -> Result<Simulator, SimError> {
        Self::with_options(g, &SimOptions::default())
    }

    pub fn with_options(g: &LoweredGraph, opts: &SimOptions) -> Result<Simulator, SimError> {
        Ok(Simulator {
            engine: Engine::Fixed(Plan::new(g, opts)?, Pool::default()),
            inputs: InputInfo::of(g),
        })
    }

    /// Compiles an imported graph for the `f64` reference mode.
    pub fn new_float(g: &ImportedGraph) -> Result<Simulator, SimError> {
        Ok(Simulator { engine: Engine::Float(FloatPlan::new(g)?, Pool::default()), inputs: InputInfo::of(g) })
    }

    /// Each layer's name and the kernel the plan chose for it (`kind: kernel`, e.g.
    /// `dense: exact f64 gemm`), in topological order; float mode reports `kind: f64`.
    pub fn kernels(&self) -> Vec<(String, String)> {
        match &self.engine {
            Engine::Fixed(p, _) => p.kernels(),
            Engine::Float(p, _) => p.kernels(),
        }
    }

    /// Number of input values per sample: every model input's elements, in input order.
    pub fn input_elements(&self) -> usize {
        match &self.engine {
            Engine::Fixed(p, _) => p.input_elements,
            Engine::Float(p, _) => p.input_elements,
        }
    }

    /// Runs `n_samples` samples; `inputs` is row-major `n_samples x input_elements()`, each row
    /// the values of every model input in input order.
    pub fn run(&self, inputs: &[f64], n_samples: usize, opts: &RunOptions) -> Result<SimResult, SimError> {
        let per_sample = self.input_elements();
        let expected = n_samples.checked_mul(per_sample);
        if expected != Some(inputs.len()) {
            return Err(SimError::InputLength {
                expected: expected.unwrap_or(usize::MAX),
                got: inputs.len(),
                n_samples,
                per_sample,
            });
        }
        // Whole slices per task: a per-element parallel search costs more than the test.
        const SLICE: usize = 1 << 14;
        // Branch-free over short runs (vectorised), stopping at the first run with a bad value.
        let finite = |c: &[f64]| c.chunks(64).all(|r| r.iter().fold(true, |ok, v| ok & v.is_finite()));
        let bad = inputs.par_chunks(SLICE).position_first(|c| !finite(c));
        let first =
            bad.and_then(|c| Some(c * SLICE + inputs[c * SLICE..].iter().position(|v| !v.is_finite())?));
        if let Some(k) = first {
            let (sample, element) = (k / per_sample.max(1), k % per_sample.max(1));
            let (input, index) = InputInfo::locate(&self.inputs, element);
            return Err(SimError::NonFiniteInput { input, sample, index, value: inputs[k] });
        }
        for i in self.inputs.iter().filter(|i| i.integer) {
            let n = i.shape.elements();
            for (sample, row) in inputs.chunks(per_sample.max(1)).enumerate() {
                if let Some(p) = row[i.offset..i.offset + n].iter().position(|v| v.fract() != 0.0) {
                    let index = crate::ir::layout::model_index(&i.shape, i.perm.as_deref(), p);
                    let value = row[i.offset + p];
                    return Err(SimError::NotInteger { input: i.name.clone(), sample, index, value });
                }
            }
        }
        match &self.engine {
            Engine::Fixed(p, pool) => {
                let blocks = drive(pool, p.block, per_sample, inputs, n_samples, opts, |x, _, n, work| {
                    p.run_block(x, n, opts.trace, opts.dense_sums, work)
                })?;
                Ok(assemble_fixed(p, blocks, n_samples, opts))
            }
            Engine::Float(p, pool) => {
                let blocks =
                    drive(pool, p.block, per_sample, inputs, n_samples, opts, |x, first, n, work| {
                        p.run_block(x, first, n, opts.trace, work)
                    })?;
                Ok(p.assemble(blocks, n_samples, opts.trace))
            }
        }
    }
}

/// Runs blocks of `block` samples in parallel, in order, reporting progress; the first failing
/// block (in sample order) gives the error.
fn drive<W: Default + Send, B: Send>(
    pool: &Pool<W>,
    block: usize,
    per_sample: usize,
    inputs: &[f64],
    n_samples: usize,
    opts: &RunOptions,
    run: impl Fn(&[f64], usize, usize, &mut W) -> Result<B, SimError> + Sync,
) -> Result<Vec<B>, SimError> {
    let chunk = block.max(1) * per_sample.max(1);
    let done = Mutex::new((0usize, 0usize));
    let step = (n_samples / 100).max(1);
    let results: Vec<Result<B, SimError>> = inputs
        .par_chunks(chunk)
        .enumerate()
        .map_init(
            || pool.lend(),
            |lent, (k, x)| {
                let n = x.len() / per_sample.max(1);
                let out = run(x, k * block.max(1), n, &mut lent.work);
                if let Some(progress) = opts.progress {
                    if let Ok(mut d) = done.lock() {
                        d.0 += n;
                        if d.0 - d.1 >= step || d.0 == n_samples {
                            d.1 = d.0;
                            progress(d.0);
                        }
                    }
                }
                out
            },
        )
        .collect();
    results.into_iter().collect()
}

fn assemble_fixed(
    p: &Plan,
    mut blocks: Vec<plan::BlockOut>,
    n_samples: usize,
    opts: &RunOptions,
) -> SimResult {
    let concat = |f: &dyn Fn(&plan::BlockOut) -> &Vec<i64>| -> Vec<i64> {
        let mut v = Vec::new();
        for b in &blocks {
            v.extend_from_slice(f(b));
        }
        v
    };
    let values = |raw: &[i64], ty: &FixedType| -> Vec<f64> {
        let f = ty.frac_bits();
        if ty.width <= 53 && (-1000..=1000).contains(&f) {
            // Exact: the raw value fits the mantissa and the scaled value stays normal.
            let scale = 2f64.powi(-f);
            let mut v = vec![0.0; raw.len()];
            v.par_chunks_mut(1 << 14).zip(raw.par_chunks(1 << 14)).for_each(|(v, r)| {
                for (v, &r) in v.iter_mut().zip(r) {
                    *v = r as f64 * scale;
                }
            });
            return v;
        }
        raw.par_iter().map(|&r| fixed::to_f64(cast::load(r, ty), f)).collect()
    };
    let outputs = p
        .outputs
        .iter()
        .enumerate()
        .map(|(k, o)| {
            let step = &p.steps[o.step];
            let raw = concat(&|b| &b.outputs[k]);
            OutputTensor {
                name: step.name.clone(),
                shape: step.shape.clone(),
                ty: Some(step.ty),
                values: values(&raw, &step.ty),
                raw,
            }
        })
        .collect();
    let trace = opts.trace.then(|| {
        p.steps
            .iter()
            .enumerate()
            .map(|(k, step)| TraceTensor {
                name: step.name.clone(),
                shape: step.shape.clone(),
                values: {
                    // Each block's part is freed once copied: a trace can be most of the memory.
                    let mut raw = Vec::with_capacity(blocks.iter().map(|b| b.trace[k].len()).sum());
                    for b in &mut blocks {
                        raw.extend_from_slice(&std::mem::take(&mut b.trace[k]));
                    }
                    values(&raw, &step.ty)
                },
            })
            .collect()
    });
    let dense_sums = opts.dense_sums.then(|| {
        p.sums_fracs()
            .into_iter()
            .enumerate()
            .filter_map(|(k, f)| Some((k, f.filter(|f| (-1000..=1000).contains(f))?)))
            .map(|(k, f)| {
                let step = &p.steps[k];
                let mut raw = Vec::with_capacity(blocks.iter().map(|b| b.sums[k].len()).sum());
                for b in &mut blocks {
                    raw.extend_from_slice(&std::mem::take(&mut b.sums[k]));
                }
                // Exact: every sum is below 2^51 and the scaled value stays normal.
                let scale = 2f64.powi(-f);
                TraceTensor {
                    name: step.name.clone(),
                    shape: step.shape.clone(),
                    values: raw.into_iter().map(|r| r as f64 * scale).collect(),
                }
            })
            .collect()
    });
    let overflows = overflows(&p.counters, &blocks, |b| &b.counts, n_samples);
    SimResult { outputs, overflows, trace, dense_sums }
}

/// Sums the blocks' counts per counter.
fn overflows<B>(
    counters: &[plan::Counter],
    blocks: &[B],
    counts: impl Fn(&B) -> &Vec<u64>,
    n_samples: usize,
) -> Vec<LayerOverflow> {
    counters
        .iter()
        .enumerate()
        .map(|(k, c)| LayerOverflow {
            layer: c.layer.clone(),
            kind: c.kind,
            count: blocks.iter().map(|b| counts(b).get(k).copied().unwrap_or(0)).sum(),
            elements: c.per_sample * n_samples as u64,
        })
        .collect()
}
