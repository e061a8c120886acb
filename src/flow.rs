//! The front half of every command: read a model, apply the configuration, run a pass pipeline.
//! Shared by the CLI, the tests and the benchmarks so all of them lower models the same way.

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::config::{Config, ConfigError};
use crate::fixed::FixedType;
use crate::frontend::{self, FrontendError, LoadOptions};
use crate::ir::{Graph, Strategy};
use crate::passes::{PassContext, PassError, PassManager, PassRun};

#[derive(Debug, Error)]
pub enum FlowError {
    #[error(transparent)]
    Frontend(#[from] FrontendError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Pass(#[from] PassError),
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
