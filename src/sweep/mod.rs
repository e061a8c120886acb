//! Design-space sweeps: one model compiled at every combination of precision, reuse factor,
//! strategy and pruning threshold, each point estimated, optionally simulated for accuracy against
//! the float model and synthesized, by worker processes on this machine or on a Slurm cluster.
//!
//! # Layout of a sweep directory
//!
//! ```text
//! DIR/sweep.json                 the sweep (SweepSpec): what every point shares, the axes
//! DIR/points/<id>/point.json     one point (PointSpec): all a worker needs, absolute paths
//! DIR/points/<id>/config.yml     the point's merged hls4ml configuration, with overrides
//! DIR/points/<id>/project/       the compiled project
//! DIR/points/<id>/result.json    the point's result (PointResult), written once, atomically
//! DIR/points/<id>/worker.log     the worker's output
//! DIR/slurm/                     job scripts, task lists and submitted job ids (slurm engine)
//! DIR/results.{csv,json,html}    `sweep collect`
//! ```
//!
//! # Contract
//!
//! * Point ids (`p000`, `p001`, ...) number the Cartesian product of the axes in a fixed order
//!   (precision, reuse factor, strategy, pruning threshold; each axis in the order given), so the
//!   same sweep has the same ids everywhere.
//! * A point is finished when `result.json` exists. It is written to a temporary file in the same
//!   directory and renamed, so a killed worker leaves no result; a worker never overwrites one
//!   ([`point::run`] skips a finished point). Re-running a sweep runs only unfinished points (and
//!   failed ones with `--resubmit-failed`).
//! * Everything collected (results.csv, results.json, results.html) is a pure function of the
//!   results' contents, ordered by point id: the same sweep run by either engine collects to the
//!   same bytes. Wall times stay in the points' `result.json`.

pub mod axes;
pub mod collect;
pub mod engine_local;
pub mod engine_slurm;
pub mod html;
pub mod pareto;
pub mod point;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use axes::{Axes, AxisValues};
pub use point::{PointResult, PointSpec};

#[derive(Debug, Error)]
pub enum SweepError {
    #[error("'{}': {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("'{}': {message}", path.display())]
    Json { path: PathBuf, message: String },
    #[error("{0}")]
    Spec(String),
    #[error("{0}")]
    Slurm(String),
}

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SweepError + '_ {
    move |source| SweepError::Io { path: path.to_path_buf(), source }
}

/// What each point does after compiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SynthTool {
    /// The RTL backend's Verilog through Yosys ([`crate::synth`]).
    Yosys,
    /// `vitis_hls -f build_prj.tcl` in the project, then its csynth report.
    Vitis,
}

/// What every point of a sweep shares; paths are absolute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Common {
    pub model: PathBuf,
    pub weights: Option<PathBuf>,
    pub part: String,
    pub clock_ns: f64,
    /// `io_parallel` or `io_stream`.
    pub io_type: String,
    /// io_stream FIFO depths (`auto`, `max` or a number); the configuration's when `None`.
    pub fifo_depth: Option<String>,
    /// The HLS tool whose csynth report the estimate predicts (`vitis-hls` or `vivado-hls`).
    pub hls_tool: String,
    /// The RTL backend (`--backend rtl`) instead of the Vitis HLS project.
    pub rtl: bool,
    pub drop_output_softmax: bool,
    /// Generated testbench vectors per project.
    pub tb_samples: usize,
    /// Accuracy inputs, one .npy per model input.
    pub input: Vec<PathBuf>,
    /// Reference outputs of the float model for `input` (first model output); the f64 reference
    /// simulation when `None`.
    pub reference: Option<PathBuf>,
    pub synth: Option<SynthTool>,
}

/// `DIR/sweep.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepSpec {
    pub schema: String,
    pub common: Common,
    pub axes: Axes,
    /// The base hls4ml configuration (YAML text), when given.
    pub base_config: Option<String>,
    /// Per-point configuration overrides, in order.
    pub overrides: Vec<axes::Override>,
}

pub const SWEEP_SCHEMA: &str = "hls-gen-sweep/1";

/// Writes `contents` to `path` through a temporary file in the same directory and a rename.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), SweepError> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir).map_err(io(dir))?;
    std::io::Write::write_all(&mut tmp, contents).map_err(io(path))?;
    tmp.as_file().sync_all().map_err(io(path))?;
    tmp.persist(path).map_err(|e| SweepError::Io { path: path.to_path_buf(), source: e.error })?;
    Ok(())
}

pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, SweepError> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    serde_json::from_str(&text)
        .map_err(|e| SweepError::Json { path: path.to_path_buf(), message: e.to_string() })
}

pub(crate) fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}")) + "\n"
}

/// A sweep directory.
#[derive(Debug, Clone)]
pub struct Sweep {
    pub dir: PathBuf,
    pub spec: SweepSpec,
    /// Point ids in order.
    pub ids: Vec<String>,
}

impl Sweep {
    /// Creates the sweep in `dir`, or opens it when `dir` already holds the same sweep (resuming);
    /// a different sweep there is an error. Writes `sweep.json` and every point's files that are
    /// missing.
    pub fn create(dir: &Path, spec: SweepSpec) -> Result<Sweep, SweepError> {
        let dir = std::path::absolute(dir).map_err(io(dir))?;
        let file = dir.join("sweep.json");
        if file.exists() {
            let old: SweepSpec = read_json(&file)?;
            if old != spec {
                return Err(SweepError::Spec(format!(
                    "'{}' holds a different sweep (its sweep.json differs in model, target, axes or \
                     settings); give another --out, or the same arguments to resume it",
                    dir.display()
                )));
            }
        }
        let points = axes::points(&spec)?;
        std::fs::create_dir_all(dir.join("points")).map_err(io(&dir))?;
        for p in &points {
            let pdir = dir.join("points").join(&p.id);
            std::fs::create_dir_all(&pdir).map_err(io(&pdir))?;
            if let Some(cfg) = &p.config_text {
                let path = pdir.join("config.yml");
                if !path.exists() {
                    write_atomic(&path, cfg.as_bytes())?;
                }
            }
            let spec_file = pdir.join("point.json");
            if !spec_file.exists() {
                let ps = p.spec(&spec.common, &pdir);
                write_atomic(&spec_file, to_json(&ps).as_bytes())?;
            }
        }
        if !file.exists() {
            write_atomic(&file, to_json(&spec).as_bytes())?;
        }
        Ok(Sweep { dir, spec, ids: points.into_iter().map(|p| p.id).collect() })
    }

    /// Opens the sweep in `dir`.
    pub fn open(dir: &Path) -> Result<Sweep, SweepError> {
        let dir = std::path::absolute(dir).map_err(io(dir))?;
        let file = dir.join("sweep.json");
        if !file.exists() {
            return Err(SweepError::Spec(format!(
                "'{}' is not a sweep directory (no sweep.json); start one with `hls-gen sweep MODEL --out DIR`",
                dir.display()
            )));
        }
        let spec: SweepSpec = read_json(&file)?;
        let ids = axes::points(&spec)?.into_iter().map(|p| p.id).collect();
        Ok(Sweep { dir, spec, ids })
    }

    pub fn point_dir(&self, id: &str) -> PathBuf {
        self.dir.join("points").join(id)
    }

    pub fn point_file(&self, id: &str) -> PathBuf {
        self.point_dir(id).join("point.json")
    }

    /// The point's result, when it has finished.
    pub fn result(&self, id: &str) -> Result<Option<PointResult>, SweepError> {
        let path = self.point_dir(id).join(point::RESULT);
        if !path.exists() {
            return Ok(None);
        }
        read_json(&path).map(Some)
    }

    /// The points to run: those without a result, and with `retry_failed` also those whose result
    /// is an error (their result is removed).
    pub fn to_run(&self, retry_failed: bool) -> Result<Vec<String>, SweepError> {
        let mut out = Vec::new();
        for id in &self.ids {
            match self.result(id)? {
                None => out.push(id.clone()),
                Some(r) if retry_failed && r.error.is_some() => {
                    let path = self.point_dir(id).join(point::RESULT);
                    std::fs::remove_file(&path).map_err(io(&path))?;
                    out.push(id.clone());
                }
                Some(_) => {}
            }
        }
        Ok(out)
    }
}
