//! `hls-gen sweep`: starts or resumes a design-space sweep ([`crate::sweep`]) with the local or
//! the Slurm engine, and its subcommands: `run-point FILE` (what the workers run), `status DIR`
//! and `collect DIR`. A finished local sweep (or a Slurm one with `--wait`) is collected at once
//! and its Pareto-optimal points printed.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use super::{npz, parse_reuse_factor, quiet, BackendArg, CliError, StrategyArg, TargetArgs};
use crate::config::{Config, IoStyle};
use crate::sweep::axes::{self, Axes, FileSettings};
use crate::sweep::collect::{self, Results};
use crate::sweep::engine_slurm::{self, PointState, SlurmOptions};
use crate::sweep::point::{self, Outcome};
use crate::sweep::{engine_local, Common, Sweep, SweepSpec, SynthTool, SWEEP_SCHEMA};

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub(super) struct SweepCommand {
    #[command(subcommand)]
    action: Option<SweepAction>,
    #[command(flatten)]
    start: StartArgs,
}

#[derive(Subcommand)]
enum SweepAction {
    /// Run one point from its point file (what the engines' workers run).
    RunPoint {
        /// DIR/points/<id>/point.json
        file: PathBuf,
    },
    /// Show every point's state: not run, pending, running, done or failed.
    Status {
        /// The sweep directory.
        dir: PathBuf,
    },
    /// Write results.csv, results.json and results.html with the Pareto fronts marked.
    Collect {
        /// The sweep directory.
        dir: PathBuf,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum EngineArg {
    Local,
    Slurm,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SynthArg {
    Yosys,
    Vitis,
}

#[derive(Args)]
struct StartArgs {
    /// The model: .onnx, Keras .h5, .json (with --weights) or .keras.
    #[arg(required = true)]
    model: Option<PathBuf>,
    /// The sweep directory (created, or resumed when it holds the same sweep).
    #[arg(long, required = true)]
    out: Option<PathBuf>,
    /// Weights file for a Keras architecture JSON.
    #[arg(long)]
    weights: Option<PathBuf>,
    /// Base hls4ml configuration for every point (the sweep file's `config` otherwise).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Sweep file (YAML): base configuration, axes, per-point overrides, Slurm settings.
    #[arg(long, value_name = "FILE")]
    sweep_file: Option<PathBuf>,
    #[command(flatten)]
    target: TargetArgs,
    /// Precision axis: comma-separated types ("ap_fixed<16,6>,ap_fixed<8,3>").
    #[arg(long)]
    precision: Option<String>,
    /// Reuse factor axis, comma-separated.
    #[arg(long, value_delimiter = ',', value_parser = parse_reuse_factor)]
    reuse_factor: Vec<usize>,
    /// Strategy axis, comma-separated.
    #[arg(long, value_delimiter = ',', value_enum)]
    strategy: Vec<StrategyArg>,
    /// Pruning axis: Dense weights below each threshold in magnitude set to zero (0: none).
    #[arg(long, value_delimiter = ',')]
    prune_below: Vec<f64>,
    /// Accuracy inputs (.npy, batch on axis 0), one per model input, or one .npz keyed by input
    /// name: each point's bit-accurate
    /// model against the float model.
    #[arg(long)]
    input: Vec<PathBuf>,
    /// The float model's outputs for --input (first model output, .npy); default: hls-gen's f64
    /// reference simulation.
    #[arg(long, requires = "input")]
    reference: Option<PathBuf>,
    /// Synthesize each point: yosys (the RTL backend's Verilog) or vitis (vitis_hls on the node).
    #[arg(long, value_enum)]
    synth: Option<SynthArg>,
    #[arg(long, value_enum, default_value = "vitis")]
    backend: BackendArg,
    /// Remove a softmax that produces an output (the design outputs the logits).
    #[arg(long)]
    drop_output_softmax: bool,
    /// Generated testbench vectors per project (at least 1).
    #[arg(long, default_value_t = 100, value_parser = super::parse_tb_samples)]
    tb_samples: usize,
    #[arg(long, value_enum, default_value = "local")]
    engine: EngineArg,
    /// Worker processes at once (local engine); default: the number of CPUs.
    #[arg(short, long)]
    jobs: Option<usize>,
    /// Slurm: wait until every point has finished, then collect.
    #[arg(long)]
    wait: bool,
    /// Run the failed points again (their results are replaced).
    #[arg(long)]
    resubmit_failed: bool,
    #[arg(long)]
    slurm_partition: Option<String>,
    /// Slurm time limit per array task (e.g. 00:30:00).
    #[arg(long)]
    slurm_time: Option<String>,
    /// Slurm memory per array task (e.g. 4G).
    #[arg(long)]
    slurm_mem: Option<String>,
    #[arg(long)]
    slurm_account: Option<String>,
    /// Points run one after the other by each Slurm array task.
    #[arg(long, default_value_t = 1)]
    points_per_task: usize,
    /// Seconds between two looks at the queue with --wait.
    #[arg(long, default_value_t = 5.0)]
    poll: f64,
}

pub(super) fn run(cmd: SweepCommand) -> Result<i32, CliError> {
    match cmd.action {
        Some(SweepAction::RunPoint { file }) => run_point(&file),
        Some(SweepAction::Status { dir }) => status(&dir),
        Some(SweepAction::Collect { dir }) => {
            let sweep = Sweep::open(&dir)?;
            let r = collect::collect(&sweep)?;
            print_summary(&sweep, &r);
            Ok(0)
        }
        None => start(&cmd.start),
    }
}

fn run_point(file: &Path) -> Result<i32, CliError> {
    let read = |p: &Path| npz::read(p).map_err(|e| e.0);
    match point::run(file, &read)? {
        Outcome::Skipped => {
            if !quiet() {
                println!("{}: already finished", file.display());
            }
            Ok(0)
        }
        Outcome::Ran(r) => match &r.error {
            Some(e) => Err(CliError::msg(format!("point {}: {e}", r.id))),
            None => {
                if !quiet() {
                    println!("point {} done in {:.1} s", r.id, r.elapsed_s);
                }
                Ok(0)
            }
        },
    }
}

fn abs(p: &Path) -> Result<PathBuf, CliError> {
    let a = axes::absolute(p)?;
    if !a.exists() {
        return Err(CliError::msg(format!("{}: no such file", p.display())));
    }
    Ok(a)
}

/// The sweep the command line describes.
fn spec(a: &StartArgs, file: &FileSettings) -> Result<SweepSpec, CliError> {
    let model = abs(a.model.as_deref().unwrap_or(Path::new("")))?;
    let base_config = match &a.config {
        Some(p) => {
            Some(std::fs::read_to_string(p).map_err(|e| CliError::msg(format!("{}: {e}", p.display())))?)
        }
        None => file.base_config.clone(),
    };
    let cfg = match &base_config {
        Some(t) => Config::from_yaml_str(t, "base configuration")?,
        None => Config::default(),
    };
    let t = a.target.resolve(&cfg)?;
    crate::estimate::lookup_part(&t.part)?;
    let rtl = a.backend == BackendArg::Rtl;
    let synth = a.synth.map(|s| match s {
        SynthArg::Yosys => SynthTool::Yosys,
        SynthArg::Vitis => SynthTool::Vitis,
    });
    match synth {
        Some(SynthTool::Yosys) if !rtl => {
            return Err(CliError::msg(
                "--synth yosys synthesizes the RTL backend's Verilog: add --backend rtl",
            ))
        }
        Some(SynthTool::Vitis) if rtl => {
            return Err(CliError::msg("--synth vitis builds the Vitis HLS project: leave out --backend rtl"))
        }
        _ => {}
    }
    let mut axes = file.axes.clone();
    if let Some(p) = &a.precision {
        axes.precision = axes::split_list(p);
    }
    if !a.reuse_factor.is_empty() {
        axes.reuse_factor = a.reuse_factor.clone();
    }
    if !a.strategy.is_empty() {
        axes.strategy = a
            .strategy
            .iter()
            .map(|s| match s {
                StrategyArg::Latency => "latency".to_string(),
                StrategyArg::Resource => "resource".to_string(),
            })
            .collect();
    }
    if !a.prune_below.is_empty() {
        axes.prune_below = a.prune_below.clone();
    }
    axes::check_axes(&axes, "sweep axes")?;
    if axes == Axes::default() {
        return Err(CliError::msg(
            "no axis to sweep: give --precision, --reuse-factor, --strategy or --prune-below (or axes in --sweep-file)",
        ));
    }
    let common = Common {
        model,
        weights: a.weights.as_deref().map(abs).transpose()?,
        part: t.part,
        clock_ns: t.clock_ns,
        io_type: match t.io {
            IoStyle::Parallel => "io_parallel",
            IoStyle::Stream => "io_stream",
        }
        .to_string(),
        fifo_depth: t.fifo_depth.map(|f| f.to_string()),
        hls_tool: t.tool.name().to_string(),
        rtl,
        drop_output_softmax: a.drop_output_softmax,
        tb_samples: a.tb_samples,
        input: a.input.iter().map(|p| abs(p)).collect::<Result<_, _>>()?,
        reference: a.reference.as_deref().map(abs).transpose()?,
        synth,
    };
    Ok(SweepSpec {
        schema: SWEEP_SCHEMA.to_string(),
        common,
        axes,
        base_config,
        overrides: file.overrides.clone(),
    })
}

fn bar(n: usize, what: &str) -> Option<ProgressBar> {
    if quiet() {
        return None;
    }
    let b = ProgressBar::new(n as u64);
    if let Ok(style) =
        ProgressStyle::with_template(&format!("{{bar:40}} {{pos}}/{{len}} {what} ({{elapsed}})"))
    {
        b.set_style(style);
    }
    Some(b)
}

fn start(a: &StartArgs) -> Result<i32, CliError> {
    let file = match &a.sweep_file {
        Some(p) => axes::read_file(p)?,
        None => FileSettings::default(),
    };
    let spec = spec(a, &file)?;
    let out = a.out.as_deref().unwrap_or(Path::new("sweep"));
    let sweep = Sweep::create(out, spec)?;
    let exe =
        std::env::current_exe().map_err(|e| CliError::msg(format!("cannot find the hls-gen binary: {e}")))?;
    let started = Instant::now();
    match a.engine {
        EngineArg::Local => {
            let ids = sweep.to_run(a.resubmit_failed)?;
            let files: Vec<PathBuf> = ids.iter().map(|id| sweep.point_file(id)).collect();
            for id in &ids {
                point::clean(&sweep.point_dir(id))?;
            }
            if !quiet() {
                println!("{}: {} points, {} to run here", sweep.dir.display(), sweep.ids.len(), ids.len());
            }
            let jobs = a.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            let b = bar(files.len(), "points");
            engine_local::run(&exe, &files, jobs, &|_| {
                if let Some(b) = &b {
                    b.inc(1);
                }
            })?;
            if let Some(b) = b {
                b.finish_and_clear();
            }
            finish(&sweep, started)
        }
        EngineArg::Slurm => {
            let o = SlurmOptions {
                partition: a.slurm_partition.clone().or(file.slurm.partition.clone()),
                time: a.slurm_time.clone().or(file.slurm.time.clone()),
                mem: a.slurm_mem.clone().or(file.slurm.mem.clone()),
                account: a.slurm_account.clone().or(file.slurm.account.clone()),
                extra: file.slurm.sbatch.clone(),
                points_per_task: a.points_per_task,
            };
            let before = engine_slurm::status(&sweep)?;
            let active: Vec<&String> = before.iter().filter(|(_, s)| s.active()).map(|(id, _)| id).collect();
            let ids: Vec<String> =
                sweep.to_run(a.resubmit_failed)?.into_iter().filter(|id| !active.contains(&id)).collect();
            for id in &ids {
                point::clean(&sweep.point_dir(id))?;
            }
            if ids.is_empty() {
                if !quiet() {
                    println!("{}: nothing to submit ({} points queued)", sweep.dir.display(), active.len());
                }
            } else {
                let s = engine_slurm::submit(&sweep, &exe, &ids, &o)?;
                if !quiet() {
                    println!(
                        "submitted Slurm job {} for {} of {} points",
                        s.job_id,
                        ids.len(),
                        sweep.ids.len()
                    );
                }
            }
            if !a.wait {
                if !quiet() {
                    println!("follow it with: hls-gen sweep status {}", sweep.dir.display());
                }
                return Ok(0);
            }
            let b = bar(sweep.ids.len(), "points finished");
            engine_slurm::wait(&sweep, Duration::from_secs_f64(a.poll.max(0.1)), &|st| {
                if let Some(b) = &b {
                    b.set_position(
                        st.iter().filter(|(_, s)| !s.active() && *s != PointState::NotRun).count() as u64,
                    );
                }
            })?;
            if let Some(b) = b {
                b.finish_and_clear();
            }
            finish(&sweep, started)
        }
    }
}

/// Collects a finished run, prints the summary; exit status 1 when a point failed.
fn finish(sweep: &Sweep, started: Instant) -> Result<i32, CliError> {
    let r = collect::collect(sweep)?;
    if !quiet() {
        println!("ran in {:.1} s", started.elapsed().as_secs_f64());
    }
    print_summary(sweep, &r);
    let failed: Vec<&str> = r.points.iter().filter(|p| p.status != "ok").map(|p| p.id.as_str()).collect();
    if failed.is_empty() {
        return Ok(0);
    }
    Err(CliError::msg(format!(
        "{} point(s) did not finish ({}); `hls-gen sweep status {}` says why; re-run with --resubmit-failed",
        failed.len(),
        failed.join(", "),
        sweep.dir.display()
    )))
}

fn describe(v: &crate::sweep::AxisValues) -> String {
    let mut parts = Vec::new();
    parts.extend(v.precision.clone());
    parts.extend(v.reuse_factor.map(|x| format!("reuse {x}")));
    parts.extend(v.strategy.clone());
    parts.extend(v.prune_below.map(|x| format!("prune < {x}")));
    parts.join(", ")
}

fn print_summary(sweep: &Sweep, r: &Results) {
    let ok = r.points.iter().filter(|p| p.status == "ok").count();
    println!(
        "{} of {} points finished; wrote {}/results.{{csv,json,html}}",
        ok,
        r.points.len(),
        sweep.dir.display()
    );
    for (name, on) in [("LUT+DSP", true), ("latency", false)] {
        println!("Pareto-optimal (accuracy vs {name}):");
        for p in r.points.iter().filter(|p| if on { p.pareto_cost } else { p.pareto_latency }) {
            let acc = p.accuracy.as_ref().and_then(|a| a.argmax).map_or("-".to_string(), |a| format!("{a}"));
            println!(
                "  {}  {}  LUT+DSP {}  latency {} cycles  agreement {acc}",
                p.id,
                describe(&p.values),
                p.cost.map_or("-".into(), |c| c.to_string()),
                p.latency_cycles.map_or("-".into(), |c| c.to_string())
            );
        }
    }
}

fn status(dir: &Path) -> Result<i32, CliError> {
    let sweep = Sweep::open(dir)?;
    let st = engine_slurm::status(&sweep)?;
    let planned = axes::points(&sweep.spec)?;
    let mut counts = std::collections::BTreeMap::new();
    for ((id, s), p) in st.iter().zip(&planned) {
        *counts.entry(s.name()).or_insert(0usize) += 1;
        let planned = describe(&p.values);
        match s {
            PointState::Failed(why) => println!("{id}  failed  {planned}  {why}"),
            _ => println!("{id}  {}  {planned}", s.name()),
        }
    }
    let line: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    println!("{} points: {}", st.len(), line.join(", "));
    Ok(0)
}
