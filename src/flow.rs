//! What the commands do, without the terminal: read a model, apply the configuration, run a pass
//! pipeline ([`load_and_lower`]); and for `compile`, simulate the testbench vectors and build the
//! project with its estimate ([`compile`]). Shared by the CLI, the tests and the benchmarks so all
//! of them lower and compile models the same way.

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::backend::rtl::{self, RtlOptions};
use crate::backend::vitis::{self, IoType, TestbenchData, VitisOptions};
use crate::backend::{BackendError, Project};
use crate::config::{Config, ConfigError};
use crate::estimate::{self, report, Estimate, EstimateError};
use crate::fixed::{FixedError, FixedType};
use crate::frontend::{self, FrontendError, LoadOptions};
use crate::ir::{Graph, Strategy};
use crate::passes::{PassContext, PassError, PassManager, PassRun};
use crate::sim::{RunOptions, SimError, Simulator};
use crate::testvec;

#[derive(Debug, Error)]
pub enum FlowError {
    #[error(transparent)]
    Frontend(#[from] FrontendError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Pass(#[from] PassError),
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

/// A lowered model and what each pass reported.
pub struct Lowered {
    pub graph: Graph,
    pub config: Config,
    pub runs: Vec<PassRun>,
}

/// Reads `model` and runs the named pipeline (`default` or `float`) on it.
pub fn load_and_lower(model: &Path, opts: &FlowOptions, pipeline: &str) -> Result<Lowered, FlowError> {
    let config = opts.config()?;
    let mut graph = frontend::load(model, &LoadOptions { weights: opts.weights.clone() })?;
    let ctx = PassContext { config: config.clone(), prune_below: opts.prune_below };
    let runs = PassManager::new(pipeline)?.run(&mut graph, &ctx, &opts.dump_ir_after)?;
    Ok(Lowered { graph, config, runs })
}

/// Testbench vectors: `inputs` (row-major, whole samples) or, when `None`, `samples` generated
/// edge-case inputs; expected outputs are the simulator's, as exact decimals.
pub fn testbench(g: &Graph, inputs: Option<&[f64]>, samples: usize) -> Result<TestbenchData, FlowError> {
    let sim = Simulator::new(g)?;
    let elements = sim.input_elements();
    let input_ty = g
        .inputs()
        .first()
        .and_then(|&i| g.node(i).ty)
        .ok_or_else(|| FlowError::Testbench("the model's input has no type".into()))?;
    let generated;
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
        None => {
            generated = testvec::generate_inputs(&input_ty, elements, samples);
            (&generated[..], samples)
        }
    };
    let result = sim.run(inputs, n, &RunOptions::default())?;
    let input_lines = testvec::input_lines(inputs, elements, &input_ty)?;
    let mut expected = vec![Vec::new(); n];
    for out in &result.outputs {
        let ty = out.ty.ok_or_else(|| FlowError::Testbench(format!("output '{}' has no type", out.name)))?;
        for (s, row) in out.raw.chunks(out.shape.elements().max(1)).enumerate() {
            expected[s].extend(row.iter().map(|&r| testvec::decimal(r, &ty)));
        }
    }
    Ok(TestbenchData { inputs: input_lines, expected })
}

/// The backend `compile` emits with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackendChoice {
    /// A Vitis HLS project (C++).
    #[default]
    Vitis,
    /// Verilog with II 1 and `pipeline_stages` register stages per Dense layer.
    Rtl { pipeline_stages: u32 },
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
    /// Testbench inputs (row-major, whole samples); generated when `None`.
    pub tb_inputs: Option<&'a [f64]>,
    /// How many inputs to generate.
    pub tb_samples: usize,
}

/// A compiled model: the project in memory (not yet written), its estimate and how it was made.
pub struct Compiled {
    pub lowered: Lowered,
    pub project: Project,
    pub estimate: Estimate,
    pub tb_samples: usize,
}

/// Lowers `model`, simulates the testbench vectors, emits the project with the chosen backend
/// and adds the estimate's `report.json` and `report.md` to it.
pub fn compile(model: &Path, opts: &FlowOptions, c: &CompileOptions<'_>) -> Result<Compiled, FlowError> {
    let part = estimate::lookup_part(c.part)?;
    let mut lowered = load_and_lower(model, opts, "default")?;
    if c.drop_output_softmax {
        drop_output_softmax(&mut lowered.graph)?;
    }
    let g = &lowered.graph;
    let tb = testbench(g, c.tb_inputs, c.tb_samples)?;
    let (est, mut project) = match c.backend {
        BackendChoice::Vitis => {
            let est = estimate::estimate(g, &part, c.clock_ns)?;
            let vopts = VitisOptions {
                project_name: c.project_name.to_string(),
                part: part.name.clone(),
                clock_period_ns: c.clock_ns,
                io_type: IoType::Parallel,
            };
            (est, vitis::emit(g, &vopts, &tb)?)
        }
        BackendChoice::Rtl { pipeline_stages } => {
            let ropts = RtlOptions { project_name: c.project_name.to_string(), pipeline_stages };
            let project = rtl::emit(g, &ropts, &tb)?;
            (estimate::rtl::estimate(g, &part, c.clock_ns, pipeline_stages)?, project)
        }
    };
    project.add("report.json", report::to_json(&est))?;
    project.add("report.md", report::to_markdown(&est))?;
    Ok(Compiled { lowered, project, estimate: est, tb_samples: tb.inputs.len() })
}

/// Bypasses every Softmax layer that produces a graph output and is read by no other layer.
pub fn drop_output_softmax(g: &mut Graph) -> Result<(), FlowError> {
    let outputs: Vec<_> = g.outputs().to_vec();
    for o in outputs {
        if matches!(g.node(o).layer, crate::ir::Layer::Softmax(_)) && g.users_of(o).is_empty() {
            g.bypass(o).map_err(|e| FlowError::Backend(e.into()))?;
        }
    }
    Ok(())
}
