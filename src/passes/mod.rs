//! Graph passes and the manager that runs them in named pipelines.
//!
//! A pass is a struct implementing [`Pass`]: a kebab-case name, a one-line description, the passes
//! that must have run before it when both are in a pipeline, and `run`. Pipelines are data
//! ([`pipeline`]); [`PassManager::new`] checks their ordering constraints. In debug builds and tests
//! the graph is validated after every pass; [`lower`] runs the `default` pipeline and returns the
//! [`LoweredGraph`] every later stage takes, [`lower_float`] the `float` one.

mod fold_constants;
mod fold_transpose;
mod fuse;
mod fuse_batch_norm;
mod fuse_bias;
mod infer_precision;
mod lut_tables;
mod prune;
mod quantize;
mod reuse_factor;
mod typing;

pub use fold_constants::FoldConstants;
pub use fold_transpose::FoldTranspose;
pub use fuse_batch_norm::FuseBatchNorm;
pub use fuse_bias::FuseBias;
pub use infer_precision::InferPrecision;
pub use lut_tables::LutTables;
pub use prune::Prune;
pub use quantize::Quantize;
pub use reuse_factor::ReuseFactor;

use thiserror::Error;

use crate::config::Config;
use crate::ir::{self, Graph, ImportedGraph, IrError, LoweredGraph, Stage};

#[derive(Debug, Error)]
pub enum PassError {
    #[error("pass {pass}: {source}")]
    Ir { pass: &'static str, source: IrError },
    #[error("layer '{layer}': {message}")]
    Layer { layer: String, message: String },
    #[error("unknown pipeline '{0}' (known: default, float)")]
    UnknownPipeline(String),
    #[error("unknown pass '{0}' (known: {1})")]
    UnknownPass(String, String),
    #[error("pipeline '{pipeline}': pass '{pass}' must run after '{needs}'")]
    Order { pipeline: String, pass: &'static str, needs: &'static str },
}

impl PassError {
    pub fn layer(layer: &str, message: impl Into<String>) -> Self {
        PassError::Layer { layer: layer.to_string(), message: message.into() }
    }
}

/// What the passes read besides the graph.
#[derive(Debug, Clone, Default)]
pub struct PassContext {
    pub config: Config,
    /// `--prune-below X`: weights with magnitude below X become zero.
    pub prune_below: Option<f64>,
}

/// What a pass did, for `--dump-ir-after` and the CLI's summary.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PassReport {
    /// Number of nodes or values changed.
    pub changes: usize,
    /// Notes worth showing the user (pruned counts, saturated weights).
    pub notes: Vec<String>,
}

pub trait Pass {
    fn name(&self) -> &'static str;
    fn description(&self) -> &'static str;
    /// Passes that must precede this one in any pipeline containing both.
    fn after(&self) -> &'static [&'static str] {
        &[]
    }
    fn run(&self, g: &mut Graph, ctx: &PassContext) -> Result<PassReport, PassError>;
}

/// Every pass, in the order of the default pipeline.
pub fn all_passes() -> Vec<Box<dyn Pass>> {
    vec![
        Box::new(FoldConstants),
        Box::new(FoldTranspose),
        Box::new(FuseBias),
        Box::new(FuseBatchNorm),
        Box::new(Quantize),
        Box::new(Prune),
        Box::new(InferPrecision),
        Box::new(ReuseFactor),
        Box::new(LutTables),
    ]
}

/// The pass names of a named pipeline: `default` lowers to a fully typed graph; `float` only
/// restructures, for the f64 reference simulation.
pub fn pipeline(name: &str) -> Result<Vec<&'static str>, PassError> {
    match name {
        "default" => Ok(vec![
            "fold-constants",
            "fold-transpose",
            "fuse-bias",
            "fuse-batch-norm",
            "quantize",
            "prune",
            "infer-precision",
            "reuse-factor",
            "lut-tables",
        ]),
        "float" => Ok(vec!["fold-constants", "fold-transpose", "fuse-bias", "fuse-batch-norm"]),
        other => Err(PassError::UnknownPipeline(other.to_string())),
    }
}

/// The outcome of one pass in a run.
#[derive(Debug, Clone)]
pub struct PassRun {
    pub pass: &'static str,
    pub report: PassReport,
    /// The printed IR after the pass, when requested.
    pub dump: Option<String>,
}

pub struct PassManager {
    name: String,
    passes: Vec<Box<dyn Pass>>,
    validate_each: bool,
}

impl PassManager {
    /// Builds a pipeline by name, checking its ordering constraints.
    pub fn new(pipeline_name: &str) -> Result<Self, PassError> {
        let names = pipeline(pipeline_name)?;
        let mut all = all_passes();
        let mut passes: Vec<Box<dyn Pass>> = Vec::new();
        for n in &names {
            let i = all.iter().position(|p| p.name() == *n).ok_or_else(|| {
                PassError::UnknownPass(
                    n.to_string(),
                    all_passes().iter().map(|p| p.name()).collect::<Vec<_>>().join(", "),
                )
            })?;
            passes.push(all.remove(i));
        }
        for (i, p) in passes.iter().enumerate() {
            for needs in p.after() {
                if let Some(j) = passes.iter().position(|q| q.name() == *needs) {
                    if j > i {
                        return Err(PassError::Order {
                            pipeline: pipeline_name.to_string(),
                            pass: p.name(),
                            needs,
                        });
                    }
                }
            }
        }
        Ok(PassManager { name: pipeline_name.to_string(), passes, validate_each: cfg!(debug_assertions) })
    }

    pub fn with_validation(mut self, on: bool) -> Self {
        self.validate_each = on;
        self
    }

    pub fn pass_names(&self) -> Vec<&'static str> {
        self.passes.iter().map(|p| p.name()).collect()
    }

    /// Runs the pipeline. `dump_after` names passes after which the IR text is captured (`"all"`
    /// captures every pass). The final graph is validated for the pipeline's stage.
    pub fn run(
        &self,
        g: &mut Graph,
        ctx: &PassContext,
        dump_after: &[String],
    ) -> Result<Vec<PassRun>, PassError> {
        let runs = self.run_passes(g, ctx, dump_after)?;
        ir::validate(g, self.stage()).map_err(|source| PassError::Ir { pass: self.last(), source })?;
        Ok(runs)
    }

    /// The stage the pipeline's result satisfies.
    fn stage(&self) -> Stage {
        if self.name == "float" {
            Stage::Imported
        } else {
            Stage::Lowered
        }
    }

    fn last(&self) -> &'static str {
        self.passes.last().map(|p| p.name()).unwrap_or("none")
    }

    /// Runs every pass, validating in between when asked, without the final check.
    fn run_passes(
        &self,
        g: &mut Graph,
        ctx: &PassContext,
        dump_after: &[String],
    ) -> Result<Vec<PassRun>, PassError> {
        for d in dump_after {
            if d != "all" && !self.passes.iter().any(|p| p.name() == d) {
                return Err(PassError::UnknownPass(d.clone(), self.pass_names().join(", ")));
            }
        }
        let mut runs = Vec::new();
        for p in &self.passes {
            let report = p.run(g, ctx)?;
            if self.validate_each {
                ir::validate(g, Stage::Imported)
                    .map_err(|source| PassError::Ir { pass: p.name(), source })?;
            }
            let dump = dump_after.iter().any(|d| d == "all" || d == p.name()).then(|| ir::print(g));
            runs.push(PassRun { pass: p.name(), report, dump });
        }
        Ok(runs)
    }
}

/// Runs the `default` pipeline: the result is a [`LoweredGraph`], validated once.
pub fn lower(
    mut g: Graph,
    ctx: &PassContext,
    dump_after: &[String],
) -> Result<(LoweredGraph, Vec<PassRun>), PassError> {
    let pm = PassManager::new("default")?;
    let runs = pm.run_passes(&mut g, ctx, dump_after)?;
    let g = LoweredGraph::new(g).map_err(|source| PassError::Ir { pass: pm.last(), source })?;
    Ok((g, runs))
}

/// Runs the `float` pipeline: the result is an [`ImportedGraph`] for the `f64` reference.
pub fn lower_float(
    mut g: Graph,
    ctx: &PassContext,
    dump_after: &[String],
) -> Result<(ImportedGraph, Vec<PassRun>), PassError> {
    let pm = PassManager::new("float")?;
    let runs = pm.run_passes(&mut g, ctx, dump_after)?;
    let g = ImportedGraph::new(g).map_err(|source| PassError::Ir { pass: pm.last(), source })?;
    Ok((g, runs))
}
