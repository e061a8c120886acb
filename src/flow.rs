//! What the commands do, without the terminal: read a model, apply the configuration, run a pass
//! pipeline ([`load_and_lower`], [`load_float`]), after appending an anomaly score when asked
//! ([`score`]); and for `compile`, simulate the testbench vectors
//! and build the project with its estimate ([`compile`]). Shared by the CLI, the tests and the benchmarks so all
//! of them lower and compile models the same way.

pub mod score;

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::arch::rtl_stream::Depths;
use crate::backend::rtl::{self, RtlOptions};
use crate::backend::testbench::TestbenchData;
use crate::backend::vitis::{self, IoType, VitisOptions};
use crate::backend::{BackendError, Project};
use crate::config::{Config, ConfigError, IoStyle};
use crate::estimate::stream::FifoDepth;
use crate::estimate::{self, report, Estimate, EstimateError};
use crate::fixed::{FixedError, FixedType};
use crate::frontend::{self, FrontendError, LoadOptions};
use crate::ir::{ImportedGraph, Layer, LoweredGraph, Strategy};
use crate::passes::{self, PassContext, PassError, PassRun};
use crate::profile::Profile;
use crate::sim::{RunOptions, SimError, SimResult, Simulator};
use crate::testvec;

pub use score::{Score, ScoreError};

#[derive(Debug, Error)]
pub enum FlowError {
    #[error(transparent)]
    Frontend(#[from] FrontendError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Pass(#[from] PassError),
    #[error(transparent)]
    Score(#[from] ScoreError),
    #[error(transparent)]
    Sim(#[from] SimError),
    #[error(transparent)]
    Estimate(#[from] EstimateError),
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error("testbench input: {0}")]
    Fixed(#[from] FixedError),
    #[error("{0}")]
    Testbench(String),
    #[error("inputs: {0}")]
    Inputs(String),
    #[error("{0}")]
    Options(String),
}

/// Everything that decides how a model is lowered.
#[derive(Debug, Clone, Default)]
pub struct FlowOptions {
    pub weights: Option<PathBuf>,
    pub config: Option<PathBuf>,
    pub precision: Option<FixedType>,
    pub reuse_factor: Option<usize>,
    pub strategy: Option<Strategy>,
    pub prune_below: Option<f64>,
    /// Pass names after which to capture the IR text (`all` for every pass).
    pub dump_ir_after: Vec<String>,
    /// An anomaly score appended to the imported model, which becomes its only output.
    pub score: Option<Score>,
}

impl FlowOptions {
    pub fn config(&self) -> Result<Config, ConfigError> {
        let mut cfg = match &self.config {
            Some(p) => Config::from_yaml_file(p)?,
            None => Config::default(),
        };
        cfg.override_model(self.precision, self.reuse_factor, self.strategy);
        Ok(cfg)
    }
}

/// A model after a pass pipeline: the graph (a [`LoweredGraph`], or an [`ImportedGraph`] after the
/// `float` pipeline), the configuration and what each pass reported.
pub struct Lowered<G = LoweredGraph> {
    pub graph: G,
    pub config: Config,
    pub runs: Vec<PassRun>,
    /// Configured precisions of tensors the addressed layers do not have
    /// ([`Config::tensor_warnings`]); the file's own warnings are in `config.warnings`.
    pub warnings: Vec<String>,
}

fn load(model: &Path, opts: &FlowOptions) -> Result<(crate::ir::Graph, Config, PassContext), FlowError> {
    let config = opts.config()?;
    let mut graph = frontend::load(model, &LoadOptions { weights: opts.weights.clone() })?;
    if let Some(s) = &opts.score {
        score::append(&mut graph, s)?;
    }
    let ctx = PassContext { config: config.clone(), prune_below: opts.prune_below };
    Ok((graph, config, ctx))
}

/// Reads `model` and lowers it with the `default` pipeline.
pub fn load_and_lower(model: &Path, opts: &FlowOptions) -> Result<Lowered, FlowError> {
    let (graph, config, ctx) = load(model, opts)?;
    let (graph, runs) = passes::lower(graph, &ctx, &opts.dump_ir_after)?;
    let warnings = config.tensor_warnings(&graph);
    Ok(Lowered { graph, config, runs, warnings })
}

/// Reads `model` and runs the `float` pipeline, for the `f64` reference simulation.
pub fn load_float(model: &Path, opts: &FlowOptions) -> Result<Lowered<ImportedGraph>, FlowError> {
    let (graph, config, ctx) = load(model, opts)?;
    let (graph, runs) = passes::lower_float(graph, &ctx, &opts.dump_ir_after)?;
    let warnings = config.tensor_warnings(&graph);
    Ok(Lowered { graph, config, runs, warnings })
}

/// The values given for one model input, as read from a file: its name (for messages), the model
/// input it is for when the file says so (an `.npz` member's key), its shape (batch on axis 0, or
/// one sample without it) and its values, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct InputArray {
    pub source: String,
    pub key: Option<String>,
    pub shape: Vec<usize>,
    pub values: Vec<f64>,
}

impl InputArray {
    /// The number of samples it holds of an input whose samples have shape `sample` (the model's
    /// layout): `[N, ...sample]` or `[N, values per sample]`, or one sample given without its
    /// batch axis (its own shape, or flat). Any other shape, even one with as many values per
    /// sample (axes swapped, an axis missing), is refused.
    fn samples(&self, input: &str, sample: &[usize]) -> Result<usize, FlowError> {
        let per_sample: usize = sample.iter().product();
        let n = match self.shape.as_slice() {
            s if s == sample => Some(1),
            [len] if *len == per_sample => Some(1),
            [first, rest @ ..] if *first > 0 && (rest == sample || rest == [per_sample]) => Some(*first),
            _ => None,
        };
        n.ok_or_else(|| {
            let dims = sample.iter().map(usize::to_string).collect::<Vec<_>>().join(", ");
            FlowError::Inputs(format!(
                "{}: array of shape {:?} does not hold samples of input '{input}', of shape [{dims}] in the \
                 model's layout (expected [N, {dims}], or [{dims}] for one sample)",
                self.source, self.shape
            ))
        })
    }
}

/// The shape of one sample of input `i` in the model's layout.
fn model_dims(g: &crate::ir::Graph, i: crate::ir::NodeId) -> crate::ir::Shape {
    let ir = &g.node(i).shape;
    g.input_layout(i).map_or_else(|| ir.clone(), |perm| crate::ir::layout::model_shape(ir, perm))
}

/// The arrays in the model's input order: unkeyed arrays are taken in the order given, keyed ones
/// (all or none) are matched to the inputs by name, each input exactly once.
fn in_input_order<'a>(
    g: &crate::ir::Graph,
    arrays: &'a [InputArray],
) -> Result<Vec<&'a InputArray>, FlowError> {
    let Some(keyed) = arrays.iter().find(|a| a.key.is_some()) else {
        return Ok(arrays.iter().collect());
    };
    if let Some(plain) = arrays.iter().find(|a| a.key.is_none()) {
        return Err(FlowError::Inputs(format!(
            "{} is keyed by input name but {} is not; give one .npz, or one .npy per input in the model's order",
            keyed.source, plain.source
        )));
    }
    let names: Vec<&str> = g.inputs().iter().map(|&i| g.node(i).name.as_str()).collect();
    let quoted = names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ");
    for a in arrays {
        let key = a.key.as_deref().unwrap_or_default();
        if !names.contains(&key) {
            return Err(FlowError::Inputs(format!(
                "{}: key '{key}' is not an input of the model (its inputs are {quoted})",
                a.source
            )));
        }
        if let Some(twin) = arrays.iter().find(|b| b.key == a.key && !std::ptr::eq(*b, a)) {
            return Err(FlowError::Inputs(format!(
                "input '{key}' is given twice: {} and {}",
                a.source, twin.source
            )));
        }
    }
    let missing: Vec<String> = names
        .iter()
        .filter(|n| !arrays.iter().any(|a| a.key.as_deref() == Some(**n)))
        .map(|n| format!("'{n}'"))
        .collect();
    if !missing.is_empty() {
        let given: Vec<&str> = arrays.iter().map(|a| a.source.as_str()).collect();
        return Err(FlowError::Inputs(format!(
            "no array for input(s) {} among {} (the model's inputs are {quoted})",
            missing.join(", "),
            given.join(", ")
        )));
    }
    Ok(names.iter().filter_map(|n| arrays.iter().find(|a| a.key.as_deref() == Some(*n))).collect())
}

/// Joins one array per model input (in input order, or keyed by input name) into rows of every
/// input's values, as the simulator and the testbenches take them; returns the rows and the number
/// of samples. Each array is in the model's own layout (NCHW for a channels-first ONNX model) and
/// is converted to the IR's channels-last order ([`crate::ir::layout`]).
pub fn join_inputs(g: &crate::ir::Graph, arrays: &[InputArray]) -> Result<(Vec<f64>, usize), FlowError> {
    let inputs = g.inputs();
    let arrays = in_input_order(g, arrays)?;
    if arrays.len() != inputs.len() {
        let names: Vec<String> = inputs.iter().map(|&i| format!("'{}'", g.node(i).name)).collect();
        return Err(FlowError::Inputs(format!(
            "the model has {} input(s) ({}) but {} input array(s) were given; give one per input, in this order",
            inputs.len(),
            names.join(", "),
            arrays.len()
        )));
    }
    let mut n = None;
    let mut elements = Vec::with_capacity(inputs.len());
    for (a, &i) in arrays.iter().zip(&inputs) {
        let ir_shape = &g.node(i).shape;
        let e = ir_shape.elements();
        let k = a.samples(&g.node(i).name, model_dims(g, i).dims())?;
        if n.is_some_and(|n| n != k) {
            return Err(FlowError::Inputs(format!(
                "{}: {k} samples, but {} has {}",
                a.source,
                arrays[0].source,
                n.unwrap_or(0)
            )));
        }
        n = Some(k);
        elements.push(e);
    }
    let n = n.unwrap_or(0);
    let mut rows = Vec::with_capacity(n * elements.iter().sum::<usize>());
    for s in 0..n {
        for ((a, &e), &i) in arrays.iter().zip(&elements).zip(&inputs) {
            let sample = &a.values[s * e..(s + 1) * e];
            match g.input_layout(i) {
                Some(perm) => rows.extend(crate::ir::layout::from_model(sample, &g.node(i).shape, perm)),
                None => rows.extend_from_slice(sample),
            }
        }
    }
    Ok((rows, n))
}

/// [`join_inputs`] that takes the arrays: a model's single input given in the IR's layout is
/// moved into the rows, not copied.
pub fn take_inputs(
    g: &crate::ir::Graph,
    mut arrays: Vec<InputArray>,
) -> Result<(Vec<f64>, usize), FlowError> {
    if let ([a], &[i]) = (arrays.as_slice(), g.inputs().as_slice()) {
        let e = g.node(i).shape.elements();
        let n = a.samples(&g.node(i).name, model_dims(g, i).dims())?;
        let named = a.key.as_ref().is_none_or(|k| *k == g.node(i).name);
        if named && g.input_layout(i).is_none() && a.values.len() == n * e {
            return Ok((arrays.swap_remove(0).values, n));
        }
    }
    join_inputs(g, &arrays)
}

/// Each model input's type and number of values, in input order.
pub fn input_ports(g: &LoweredGraph) -> Result<Vec<(FixedType, usize)>, FlowError> {
    g.inputs()
        .iter()
        .map(|&i| {
            let n = g.node(i);
            Ok((n.out_ty().map_err(|e| FlowError::Testbench(e.to_string()))?, n.shape.elements()))
        })
        .collect()
}

/// The rows an index input may name: the fewest rows of the `GatherRows` data and `ScatterAdd`
/// outputs its values select (`None` for an input that is no index).
fn index_rows(g: &LoweredGraph, input: crate::ir::NodeId) -> Option<usize> {
    g.node_ids()
        .into_iter()
        .filter_map(|id| {
            let ins = g.inputs_of(id);
            let layer = &g.node(id).layer;
            let rows = if let Layer::ScatterAdd(s) = layer {
                s.rows
            } else if matches!(layer, Layer::GatherRows(_)) {
                *g.node(*ins.first()?).shape.dims().first()?
            } else {
                return None;
            };
            (g.origin(*ins.get(1)?) == input).then_some(rows)
        })
        .min()
}

/// `samples` generated testbench inputs ([`testvec::generate_inputs`]) with every index input's
/// values folded into the rows it may name, so that the simulator accepts them.
pub fn generated_inputs(g: &LoweredGraph, samples: usize) -> Result<Vec<f64>, FlowError> {
    let ports = input_ports(g)?;
    let mut values = testvec::generate_inputs(&ports, samples);
    let per_sample: usize = ports.iter().map(|p| p.1).sum();
    let mut offset = 0;
    for (&id, (_, elements)) in g.inputs().iter().zip(&ports) {
        if let Some(rows) = index_rows(g, id) {
            for row in values.chunks_mut(per_sample.max(1)) {
                for v in &mut row[offset..offset + elements] {
                    *v = ((v.abs() * 1024.0).floor() as usize % rows.max(1)) as f64;
                }
            }
        }
        offset += elements;
    }
    Ok(values)
}

/// Testbench vectors: `inputs` (row-major, whole samples, each row every model input's values
/// in input order) or, when `None`, `samples` generated edge-case inputs; expected outputs are the
/// simulator's, as exact decimals.
pub fn testbench(
    g: &LoweredGraph,
    inputs: Option<&[f64]>,
    samples: usize,
) -> Result<TestbenchData, FlowError> {
    Ok(testbench_run(g, inputs, samples, false)?.0)
}

/// [`testbench`] with the simulator's run that computed the expected outputs, which holds every
/// layer's output when `trace`.
pub fn testbench_run(
    g: &LoweredGraph,
    inputs: Option<&[f64]>,
    samples: usize,
    trace: bool,
) -> Result<(TestbenchData, SimResult), FlowError> {
    // The inputs are generated while the simulator is built, and converted to the ports' raws
    // while they are simulated; errors come in the order of a sequential run.
    let (sim, generated) =
        rayon::join(|| Simulator::new(g), || inputs.is_none().then(|| generated_inputs(g, samples)));
    let sim = sim?;
    let elements = sim.input_elements();
    let ports = input_ports(g)?;
    let generated = generated.transpose()?;
    let (inputs, n) = match inputs {
        Some(given) if elements > 0 && given.len() % elements == 0 && !given.is_empty() => {
            (given, given.len() / elements)
        }
        Some(given) => {
            return Err(FlowError::Testbench(format!(
                "{} values do not make whole samples of {elements} inputs",
                given.len()
            )))
        }
        None => (generated.as_deref().unwrap_or_default(), samples),
    };
    let (result, in_raws) = rayon::join(
        || sim.run(inputs, n, &RunOptions { trace, dense_sums: trace, progress: None }),
        || testvec::input_raws(&inputs[..(n * elements).min(inputs.len())], &ports),
    );
    let (result, in_raws) = (result?, in_raws?);
    let in_types: Vec<FixedType> = ports.iter().flat_map(|&(ty, e)| std::iter::repeat_n(ty, e)).collect();
    let mut out_types = Vec::new();
    for out in &result.outputs {
        let ty = out.ty.ok_or_else(|| FlowError::Testbench(format!("output '{}' has no type", out.name)))?;
        out_types.extend(std::iter::repeat_n(ty, out.shape.elements()));
    }
    let mut expected = Vec::with_capacity(n * out_types.len());
    for s in 0..n {
        for out in &result.outputs {
            let e = out.shape.elements();
            expected.extend(out.raw[s * e..(s + 1) * e].iter().map(|&r| i128::from(r)));
        }
    }
    let tb = TestbenchData::from_raw(n, in_types, in_raws, out_types, expected)
        .map_err(|e| FlowError::Testbench(e.to_string()))?;
    Ok((tb, result))
}

/// The backend `compile` emits with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackendChoice {
    /// A Vitis HLS project (C++).
    #[default]
    Vitis,
    /// Verilog with II 1 and `pipeline_stages` register stages per Dense and Conv layer.
    Rtl { pipeline_stages: u32 },
    /// Verilog with II 1 whose Dense and Conv pipeline registers are placed so that every stage's
    /// estimated delay meets the clock period ([`crate::arch::timing`]).
    RtlClocked,
}

/// What `compile` needs beyond the lowering options.
#[derive(Debug, Clone)]
pub struct CompileOptions<'a> {
    pub backend: BackendChoice,
    /// Remove a Softmax that produces a graph output, so the design outputs its logits (the
    /// argmax is unchanged); for backends or budgets without a softmax.
    pub drop_output_softmax: bool,
    pub part: &'a str,
    pub clock_ns: f64,
    pub project_name: &'a str,
    /// Testbench inputs, one array per model input; generated when `None`.
    pub tb_inputs: Option<&'a [InputArray]>,
    /// How many inputs to generate.
    pub tb_samples: usize,
    /// io_parallel or io_stream; the configuration's `IOType` when `None`.
    pub io_type: Option<IoStyle>,
    /// The HLS tool the estimate predicts; the configuration's `Backend` when `None`, else Vitis
    /// HLS.
    pub hls_tool: Option<estimate::HlsTool>,
    /// io_stream FIFO depths (the configuration's `FifoDepth`, else [`FifoDepth::Auto`], when
    /// `None`); an error for io_parallel.
    pub fifo_depth: Option<FifoDepth>,
    /// Graph models: the resource-optimized design at this many rows per cycle
    /// ([`crate::arch::rows`]); the throughput form when `None`.
    pub edge_parallelism: Option<usize>,
}

/// The estimate of graph model `g`'s resource-optimized design at `n` rows per cycle
/// ([`crate::arch::rows`]) and its io type.
pub fn estimate_rows(
    g: &LoweredGraph,
    part: &estimate::Part,
    clock_ns: f64,
    tool: estimate::HlsTool,
    n: usize,
) -> Result<(Estimate, IoType), FlowError> {
    let opts = estimate::Options { tool, clock_uncertainty: None };
    let est = estimate::rows::estimate(g, part, clock_ns, &opts, n)?;
    Ok((est, IoType::Rows { parallelism: n }))
}

/// The estimate of `g`'s Vitis HLS design in `io` as Vitis HLS synthesizes it, and for io_stream
/// the depth of every stream ([`crate::arch::stream::Design::channels`] order) with the design's
/// interval.
pub fn estimate_design(
    g: &LoweredGraph,
    part: &estimate::Part,
    clock_ns: f64,
    io: IoStyle,
    fifo: FifoDepth,
) -> Result<(Estimate, IoType), FlowError> {
    estimate_design_for(g, part, clock_ns, io, fifo, estimate::HlsTool::default())
}

/// [`estimate_design`] predicting `tool`'s csynth report.
pub fn estimate_design_for(
    g: &LoweredGraph,
    part: &estimate::Part,
    clock_ns: f64,
    io: IoStyle,
    fifo: FifoDepth,
    tool: estimate::HlsTool,
) -> Result<(Estimate, IoType), FlowError> {
    let opts = estimate::Options { tool, clock_uncertainty: None };
    Ok(match io {
        IoStyle::Parallel => (estimate::estimate_with(g, part, clock_ns, &opts)?, IoType::Parallel),
        IoStyle::Stream => {
            let (est, summary) = estimate::stream::estimate(g, part, clock_ns, &opts, fifo)?;
            let design = crate::arch::stream::design(g).map_err(EstimateError::from)?;
            let io = IoType::Stream { fifo_depths: summary.depths(&design), interval: est.total.ii };
            (est, io)
        }
    })
}

/// A compiled model: the project in memory (not yet written), its estimate and how it was made.
pub struct Compiled {
    pub lowered: Lowered,
    pub project: Project,
    pub estimate: Estimate,
    pub tb_samples: usize,
    /// The profile of the testbench inputs ([`crate::profile::of_testbench`], from the traced run
    /// that gave the expected outputs) with the estimate's costs.
    pub profile: Profile,
}

/// Lowers `model`, simulates the testbench vectors and profiles that run, emits the project with
/// the chosen backend and adds the estimate's `report.json` and `report.md` to it. The profile
/// is taken before the emission so that the run's trace is freed first.
pub fn compile(model: &Path, opts: &FlowOptions, c: &CompileOptions<'_>) -> Result<Compiled, FlowError> {
    let part = estimate::lookup_part(c.part)?;
    let mut lowered = load_and_lower(model, opts)?;
    if c.drop_output_softmax {
        lowered.graph = drop_output_softmax(lowered.graph)?;
    }
    let g = &lowered.graph;
    let given = c.tb_inputs.map(|a| join_inputs(g, a)).transpose()?;
    let (tb, tb_run) = testbench_run(g, given.as_ref().map(|(rows, _)| &rows[..]), c.tb_samples, true)?;
    let mut profile = crate::profile::of_testbench(&model.display().to_string(), g, &tb_run, tb.samples());
    drop(tb_run);
    let io = c.io_type.or(lowered.config.io_type).unwrap_or_default();
    if io == IoStyle::Parallel && c.fifo_depth.is_some() {
        return Err(FlowError::Options(
            "FIFO depths apply to io_stream designs (--io-type io_stream or IOType in the configuration)"
                .into(),
        ));
    }
    let configured = if io == IoStyle::Stream { lowered.config.fifo_depth } else { None };
    let fifo_depth = c.fifo_depth.or(configured).unwrap_or_default();
    let (est, mut project) = match c.backend {
        BackendChoice::Vitis => {
            let tool = c.hls_tool.or(lowered.config.hls_tool).unwrap_or_default();
            let (est, io_type) =
                match c.edge_parallelism {
                    Some(_) if io == IoStyle::Stream => return Err(FlowError::Options(
                        "--edge-parallelism builds an io_parallel design; it does not combine with io_stream"
                            .into(),
                    )),
                    Some(n) => estimate_rows(g, &part, c.clock_ns, tool, n)?,
                    None => estimate_design_for(g, &part, c.clock_ns, io, fifo_depth, tool)?,
                };
            let vopts = VitisOptions {
                project_name: c.project_name.to_string(),
                part: part.name.clone(),
                clock_period_ns: c.clock_ns,
                io_type,
            };
            (est, vitis::emit(g, &vopts, &tb)?)
        }
        BackendChoice::RtlClocked if io == IoStyle::Stream => {
            return Err(FlowError::Options(
                "--clock-period places registers in io_parallel RTL designs; give --pipeline-stages for io_stream"
                    .into(),
            ))
        }
        BackendChoice::Rtl { pipeline_stages } if io == IoStyle::Stream => {
            let ropts = RtlOptions { project_name: c.project_name.to_string(), pipeline_stages };
            let depths = match fifo_depth {
                FifoDepth::Auto => Depths::Auto,
                FifoDepth::Max => Depths::Max,
                FifoDepth::Fixed(n) => Depths::Fixed(n),
            };
            let (project, plan, figures) = rtl::stream::emit(g, &ropts, depths, &tb)?;
            let est = estimate::rtl_stream::estimate(g, &part, c.clock_ns, pipeline_stages, &plan, &figures)?;
            (est, project)
        }
        BackendChoice::Rtl { .. } | BackendChoice::RtlClocked if c.edge_parallelism.is_some() => {
            return Err(FlowError::Options(
                "--edge-parallelism builds a Vitis HLS design; the RTL backend builds the throughput form only"
                    .into(),
            ))
        }
        BackendChoice::Rtl { .. } | BackendChoice::RtlClocked => {
            let (pipeline_stages, period) = match c.backend {
                BackendChoice::Rtl { pipeline_stages } => (pipeline_stages, None),
                _ => (1, Some(c.clock_ns)),
            };
            let delays = crate::arch::timing::cell_delays(part.family);
            if period.is_some() && delays.is_none() {
                return Err(FlowError::Options(format!(
                    "part {}: the RTL timing model has no cell delays for its family ({:?}); give --pipeline-stages instead of --clock-period",
                    part.name, part.family
                )));
            }
            let ropts = RtlOptions { project_name: c.project_name.to_string(), pipeline_stages };
            let d = delays.unwrap_or(&crate::estimate::coeffs::CELL_DELAYS_ULTRASCALE_PLUS);
            let (project, per_layer, timing) = rtl::emit_timed(g, &ropts, period, d, &tb)?;
            let mut est = estimate::rtl::estimate_with(g, &part, c.clock_ns, pipeline_stages, &per_layer)?;
            est.timing = delays.map(|_| timing);
            (est, project)
        }
    };
    project.add("report.json", report::to_json(&est))?;
    project.add("report.md", report::to_markdown(&est))?;
    profile.set_cost(&est);
    Ok(Compiled { lowered, project, estimate: est, tb_samples: tb.samples(), profile })
}

/// Bypasses every Softmax layer that produces a graph output and is read by no other layer.
pub fn drop_output_softmax(g: LoweredGraph) -> Result<LoweredGraph, FlowError> {
    let mut g = g.into_graph();
    let outputs: Vec<_> = g.outputs().to_vec();
    for o in outputs {
        if matches!(g.node(o).layer, Layer::Softmax(_)) && g.users_of(o).is_empty() {
            g.bypass(o).map_err(|e| FlowError::Backend(e.into()))?;
        }
    }
    LoweredGraph::new(g).map_err(|e| FlowError::Backend(e.into()))
}
