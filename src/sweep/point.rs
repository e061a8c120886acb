//! One sweep point, as a worker runs it ([`run`]): compile the model with the point's settings
//! into `points/<id>/project/` ([`crate::flow::compile`]), keep the estimate's totals, with
//! accuracy inputs run the bit-accurate simulator against the float model (argmax agreement on the
//! first output, largest absolute output difference), and optionally synthesize (Yosys on the RTL
//! backend's Verilog, or Vitis HLS), then write `result.json` atomically.
//!
//! A failure of any step is the point's result (`error` set, the figures measured before it kept),
//! not a worker failure: the sweep goes on, and `--resubmit-failed` runs it again. A point that
//! already has a result is left alone ([`Outcome::Skipped`]).

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::{io, read_json, to_json, write_atomic, AxisValues, Common, SweepError, SynthTool};
use crate::flow::{self, BackendChoice, CompileOptions, FlowOptions, InputArray};
use crate::ir::{LoweredGraph, Strategy};
use crate::profile::{agreement, argmax, Agreement};
use crate::sim::{RunOptions, Simulator};

pub const POINT_SCHEMA: &str = "hls-gen-sweep-point/1";
pub const RESULT_SCHEMA: &str = "hls-gen-sweep-result/1";
/// The result file's name in the point's directory.
pub const RESULT: &str = "result.json";

/// `points/<id>/point.json`: everything a worker needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointSpec {
    pub schema: String,
    pub id: String,
    pub values: AxisValues,
    pub common: Common,
    /// The point's merged hls4ml configuration, when it has one.
    pub config: Option<PathBuf>,
}

/// The estimate's design totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EstimateTotals {
    pub latency_cycles: u64,
    pub latency_ns: f64,
    pub ii: u64,
    pub lut: u64,
    pub dsp: u64,
    pub ff: u64,
    pub bram18: u64,
}

/// Accuracy of the bit-accurate model against the float model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Accuracy {
    pub samples: usize,
    /// Fraction of samples whose first output has the float model's argmax.
    pub argmax: Option<f64>,
    /// Largest absolute output difference; `None` when the design drops the output softmax.
    pub max_abs_error: Option<f64>,
}

/// Measured synthesis figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SynthFigures {
    pub tool: SynthTool,
    pub lut: Option<u64>,
    pub ff: Option<u64>,
    pub dsp: Option<u64>,
    pub bram18: Option<u64>,
    /// Yosys' carry cells (CARRY4/CARRY8).
    pub carry: Option<u64>,
    /// Vitis HLS' worst-case latency in cycles.
    pub latency_cycles: Option<u64>,
}

/// `points/<id>/result.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointResult {
    pub schema: String,
    pub id: String,
    pub values: AxisValues,
    pub estimate: Option<EstimateTotals>,
    pub accuracy: Option<Accuracy>,
    pub synth: Option<SynthFigures>,
    /// Why the point failed, when it did.
    pub error: Option<String>,
    /// Wall time of the worker, seconds (not collected: it differs from run to run).
    pub elapsed_s: f64,
}

/// What [`run`] did.
#[derive(Debug)]
pub enum Outcome {
    Ran(Box<PointResult>),
    Skipped,
}

/// Reads a point file.
pub fn read_spec(path: &Path) -> Result<PointSpec, SweepError> {
    let spec: PointSpec = read_json(path)?;
    if spec.schema != POINT_SCHEMA {
        return Err(SweepError::Json {
            path: path.to_path_buf(),
            message: format!("schema '{}', expected '{POINT_SCHEMA}'", spec.schema),
        });
    }
    Ok(spec)
}

/// Reads a `.npy` file into an array, or an `.npz` into its arrays keyed by input name (the
/// command line's reader).
pub type NpyReader<'a> = &'a dyn Fn(&Path) -> Result<Vec<InputArray>, String>;

/// Runs the point whose file is `point_file` unless it has a result (see the module
/// documentation). Errors are only those of reading the point file and writing the result.
pub fn run(point_file: &Path, read_npy: NpyReader<'_>) -> Result<Outcome, SweepError> {
    let spec = read_spec(point_file)?;
    let dir = point_file.parent().unwrap_or(Path::new(".")).to_path_buf();
    let result_path = dir.join(RESULT);
    if result_path.exists() {
        return Ok(Outcome::Skipped);
    }
    let start = Instant::now();
    let mut r = PointResult {
        schema: RESULT_SCHEMA.to_string(),
        id: spec.id.clone(),
        values: spec.values.clone(),
        estimate: None,
        accuracy: None,
        synth: None,
        error: None,
        elapsed_s: 0.0,
    };
    if let Err(e) = measure(&spec, &dir, read_npy, &mut r) {
        r.error = Some(e);
    }
    r.elapsed_s = start.elapsed().as_secs_f64();
    if result_path.exists() {
        return Ok(Outcome::Skipped);
    }
    write_atomic(&result_path, to_json(&r).as_bytes())?;
    Ok(Outcome::Ran(Box::new(r)))
}

fn flow_options(spec: &PointSpec) -> Result<FlowOptions, String> {
    let v = &spec.values;
    let precision =
        v.precision.as_deref().map(str::parse).transpose().map_err(|e| format!("precision: {e}"))?;
    let strategy = match v.strategy.as_deref() {
        None => None,
        Some("latency") => Some(Strategy::Latency),
        Some("resource") => Some(Strategy::Resource),
        Some(s) => return Err(format!("strategy '{s}': expected latency or resource")),
    };
    Ok(FlowOptions {
        weights: spec.common.weights.clone(),
        config: spec.config.clone(),
        precision,
        reuse_factor: v.reuse_factor,
        strategy,
        prune_below: v.prune_below.filter(|&t| t > 0.0),
        ..FlowOptions::default()
    })
}

/// Fills `r` step by step; the first failure is returned as the point's error.
fn measure(spec: &PointSpec, dir: &Path, read_npy: NpyReader<'_>, r: &mut PointResult) -> Result<(), String> {
    let c = &spec.common;
    let opts = flow_options(spec)?;
    let fifo_depth = c.fifo_depth.as_deref().map(str::parse).transpose()?;
    let copts = CompileOptions {
        backend: if c.rtl { BackendChoice::Rtl { pipeline_stages: 1 } } else { BackendChoice::Vitis },
        drop_output_softmax: c.drop_output_softmax,
        part: &c.part,
        clock_ns: c.clock_ns,
        project_name: "myproject",
        tb_inputs: None,
        tb_samples: c.tb_samples,
        io_type: Some(c.io_type.parse()?),
        hls_tool: Some(c.hls_tool.parse()?),
        fifo_depth,
        edge_parallelism: None,
    };
    let compiled = flow::compile(&c.model, &opts, &copts).map_err(|e| e.to_string())?;
    let t = &compiled.estimate.total;
    r.estimate = Some(EstimateTotals {
        latency_cycles: t.latency_cycles,
        latency_ns: t.latency_ns,
        ii: t.ii,
        lut: t.lut,
        dsp: t.dsp,
        ff: t.ff,
        bram18: t.bram18,
    });
    let project = dir.join("project");
    compiled.project.write(&project, true).map_err(|e| e.to_string())?;
    if !c.input.is_empty() {
        r.accuracy = Some(accuracy(spec, &compiled.lowered.graph, read_npy)?);
    }
    r.synth = match c.synth {
        None => None,
        Some(SynthTool::Yosys) => Some(yosys(&project)?),
        Some(SynthTool::Vitis) => Some(vitis(&project)?),
    };
    Ok(())
}

fn accuracy(spec: &PointSpec, g: &LoweredGraph, read_npy: NpyReader<'_>) -> Result<Accuracy, String> {
    let c = &spec.common;
    let mut arrays = Vec::with_capacity(c.input.len());
    for p in &c.input {
        arrays.extend(read_npy(p)?);
    }
    let (rows, n) = flow::join_inputs(g, &arrays).map_err(|e| e.to_string())?;
    let run = RunOptions::default();
    let fixed = Simulator::new(g).and_then(|s| s.run(&rows, n, &run)).map_err(|e| e.to_string())?;
    let a = match &c.reference {
        Some(path) => {
            let y = match <[InputArray; 1]>::try_from(read_npy(path)?) {
                Ok([y]) => y,
                Err(_) => return Err(format!("{}: the reference must be one array", path.display())),
            };
            against_reference(&fixed, &y, n)?
        }
        None => {
            let float_opts = FlowOptions { weights: c.weights.clone(), ..FlowOptions::default() };
            let float = flow::load_float(&c.model, &float_opts).map_err(|e| e.to_string())?;
            let reference = Simulator::new_float(&float.graph)
                .and_then(|s| s.run(&rows, n, &run))
                .map_err(|e| e.to_string())?;
            agreement(&fixed, &reference, n)
        }
    };
    let exact_outputs = !c.drop_output_softmax;
    Ok(Accuracy { samples: n, argmax: a.argmax, max_abs_error: exact_outputs.then_some(a.max_abs_error) })
}

/// Agreement of the first output with reference values of the same shape (row-major).
fn against_reference(fixed: &crate::sim::SimResult, y: &InputArray, n: usize) -> Result<Agreement, String> {
    let out = fixed.outputs.first().ok_or("the model has no output")?;
    if y.values.len() != out.values.len() {
        return Err(format!(
            "{}: {} values, but the model's first output gives {} ({n} samples of {})",
            y.source,
            y.values.len(),
            out.values.len(),
            out.shape.elements()
        ));
    }
    let max_abs_error = out.values.iter().zip(&y.values).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    let e = out.shape.elements();
    let argmax_share = (e > 1 && n > 0).then(|| {
        let same =
            out.values.chunks(e).zip(y.values.chunks(e)).filter(|(a, b)| argmax(a) == argmax(b)).count();
        same as f64 / n as f64
    });
    Ok(Agreement { argmax: argmax_share, max_abs_error })
}

fn yosys(project: &Path) -> Result<SynthFigures, String> {
    let out = crate::synth::run(project, &crate::synth::Options::default()).map_err(|e| e.to_string())?;
    let c = &out.utilization.counts;
    Ok(SynthFigures {
        tool: SynthTool::Yosys,
        lut: Some(c.lut),
        ff: Some(c.ff),
        dsp: Some(c.dsp),
        bram18: Some(c.bram18),
        carry: Some(c.carry),
        latency_cycles: None,
    })
}

fn vitis(project: &Path) -> Result<SynthFigures, String> {
    let log = project.join("vitis_hls.log");
    let file = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let err = file.try_clone().map_err(|e| e.to_string())?;
    let status = std::process::Command::new("vitis_hls")
        .args(["-f", "build_prj.tcl"])
        .current_dir(project)
        .stdout(file)
        .stderr(err)
        .status()
        .map_err(|e| format!("cannot run 'vitis_hls' on this node ({e}); set up Vitis HLS (settings64.sh) in the job's environment"))?;
    if !status.success() {
        return Err(format!("vitis_hls -f build_prj.tcl failed ({status}); see {}", log.display()));
    }
    let rep = crate::estimate::read_project(project).map_err(|e| e.to_string())?;
    Ok(SynthFigures {
        tool: SynthTool::Vitis,
        lut: rep.csynth.lut,
        ff: rep.csynth.ff,
        dsp: rep.csynth.dsp,
        bram18: rep.csynth.bram18,
        carry: None,
        latency_cycles: rep.latency_worst,
    })
}

/// Removes temporary files a killed worker left in the point's directory.
pub fn clean(dir: &Path) -> Result<(), SweepError> {
    for e in std::fs::read_dir(dir).map_err(io(dir))? {
        let p = e.map_err(io(dir))?.path();
        let name = p.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        if name.starts_with(".tmp-") && p.is_file() {
            std::fs::remove_file(&p).map_err(io(&p))?;
        }
    }
    Ok(())
}
