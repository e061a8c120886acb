//! The `hls-gen` command line: the only place that prints or exits.
//!
//! Every command returns `Result<ExitCode-like i32, CliError>`; errors are rendered once, here,
//! as `error: ...` with their causes, and give exit status 1 (2 for usage errors, from clap).
//!
//! How much is said follows the global `-q`/`-v` flags, as in cargo: by default, the data a command
//! exists to print, its summaries, one line counting the passes' notes, warnings and errors; `-v`
//! adds every pass note; `-q` keeps only the command's data, warnings and errors. Each warning is
//! printed once; errors always print.

mod compile;
mod csim;
mod estimate;
mod inspect;
mod npy;
mod npy_rows;
mod npz;
mod profile;
mod report;
mod rtlsim;
mod sim;
mod sim_stream;
mod sweep;
mod synth;
mod table;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, Ordering};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::fixed::FixedType;
use crate::flow::{FlowOptions, Score};
use crate::ir::Strategy;

#[derive(Parser)]
#[command(name = "hls-gen", version, about = "Compile trained neural networks into bit-exact FPGA firmware")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Print only the command's data, warnings and errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Print every note the passes make.
    #[arg(short, long, global = true)]
    verbose: bool,
}

/// How much the commands say, set once from `-q`/`-v` before the command runs.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Verbosity {
    Quiet = 0,
    Normal = 1,
    Verbose = 2,
}

static VERBOSITY: AtomicU8 = AtomicU8::new(Verbosity::Normal as u8);

fn verbosity() -> Verbosity {
    match VERBOSITY.load(Ordering::Relaxed) {
        0 => Verbosity::Quiet,
        1 => Verbosity::Normal,
        _ => Verbosity::Verbose,
    }
}

/// True under `-q`: summaries and progress are left out.
fn quiet() -> bool {
    verbosity() == Verbosity::Quiet
}

#[derive(Subcommand)]
enum Command {
    /// Print the typed layer graph: layers, shapes, types, reuse factors, MACs.
    Inspect {
        #[command(flatten)]
        model: ModelArgs,
    },
    /// Run the bit-accurate simulator (or the f64 reference) on a batch of inputs.
    Sim {
        #[command(flatten)]
        model: ModelArgs,
        /// Inputs as .npy, batch on axis 0; one file per model input, in the model's input order,
        /// or one .npz keyed by input name.
        #[arg(long, required = true)]
        input: Vec<PathBuf>,
        /// Where to write the outputs (.npy, float64 holding the exact fixed-point values); one
        /// file per model output, in the model's output order.
        #[arg(long, required = true)]
        output: Vec<PathBuf>,
        /// Run the f64 reference instead of the fixed-point model.
        #[arg(long)]
        float: bool,
        /// Write every layer's output to DIR/<layer>.npy (the layer's name as a C identifier, as
        /// in the firmware; DIR/layers.tsv pairs each file with the layer's name).
        #[arg(long, value_name = "DIR")]
        trace: Option<PathBuf>,
    },
    /// Write a Vitis HLS project (default) or pipelined Verilog (--backend rtl) whose simulation
    /// matches the simulator bit for bit.
    Compile {
        #[command(flatten)]
        model: ModelArgs,
        #[command(flatten)]
        target: TargetArgs,
        /// Output directory (default: the configuration's OutputDir, else <model stem>_hls).
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
        /// Project and top-function name (default: the configuration's ProjectName, else myproject).
        #[arg(long)]
        project_name: Option<String>,
        /// Testbench inputs as .npy, one file per model input in the model's input order, or one
        /// .npz keyed by input name (default: 1000 generated inputs with edge cases).
        #[arg(long)]
        tb_input: Vec<PathBuf>,
        /// Number of generated testbench inputs (at least 1; default 1000); not with --tb-input,
        /// whose samples are all used.
        #[arg(long, value_parser = parse_tb_samples, conflicts_with = "tb_input")]
        tb_samples: Option<usize>,
        /// Replace an existing non-empty output directory, if it is a project hls-gen wrote.
        #[arg(long)]
        force: bool,
        /// What to emit: a Vitis HLS project, or Verilog (at reuse factor 1 every constant
        /// product is shift-and-add logic and the interval is 1; at R > 1 layers share DSPs).
        #[arg(long, value_enum, default_value = "vitis")]
        backend: BackendArg,
        /// Register stages per dense and convolution layer (rtl backend only; default 1). With
        /// --backend rtl, --clock-period NS instead places them so that every stage's estimated
        /// delay meets NS.
        #[arg(long, value_name = "N")]
        pipeline_stages: Option<u32>,
        /// Remove a softmax that produces an output: the design outputs the logits.
        #[arg(long)]
        drop_output_softmax: bool,
    },
    /// Build a project's Verilator testbench and run it on the project's RTL: rtl/ (rtl backend)
    /// or the Verilog of Vitis HLS C synthesis (NAME_prj/solution1/syn/verilog).
    Rtlsim {
        /// The project directory written by `compile`.
        dir: PathBuf,
    },
    /// Build and run a project's C-simulation testbench with g++ against ap_types.
    Csim {
        /// The project directory written by `compile`.
        dir: PathBuf,
        /// ap_types headers (default: $HLS_GEN_AP_TYPES).
        #[arg(long)]
        ap_types: Option<PathBuf>,
        /// Compile as C++17 instead of C++14.
        #[arg(long)]
        cpp17: bool,
    },
    /// Estimate latency, II and resources without writing a project; with several reuse factors
    /// (`--reuse-factor 1,2,4`), one row per reuse factor.
    Estimate {
        #[command(flatten)]
        model: ModelArgs,
        #[command(flatten)]
        target: TargetArgs,
        /// Print report.json instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// Profile the model on calibration inputs: per-layer ranges, log2 histograms, overflows and
    /// unused bits against the f64 reference; with --auto-precision, choose per-layer types.
    Profile {
        #[command(flatten)]
        model: ModelArgs,
        #[command(flatten)]
        target: TargetArgs,
        /// Calibration inputs as .npy, batch on axis 0; one file per model input, in input order,
        /// or one .npz keyed by input name.
        #[arg(long, required = true)]
        input: Vec<PathBuf>,
        /// Choose per-layer types (result, weight, bias; exact accumulators) and write them as an
        /// hls4ml configuration.
        #[arg(long)]
        auto_precision: bool,
        /// Least argmax agreement with the f64 reference, held with a two-sigma margin on the
        /// calibration inputs.
        #[arg(long, default_value_t = 0.99, requires = "auto_precision")]
        target_accuracy: f64,
        /// Most overflowing casts allowed on the calibration inputs (the model's own quantizers
        /// excepted).
        #[arg(long, default_value_t = 0, requires = "auto_precision")]
        max_overflow: u64,
        /// Largest absolute difference from the f64 reference's outputs allowed.
        #[arg(long, requires = "auto_precision")]
        max_error: Option<f64>,
        /// Integer bits added above each layer's observed output range.
        #[arg(long, default_value_t = 0, requires = "auto_precision")]
        margin: i32,
        /// Fractional bits the search starts from.
        #[arg(long, default_value_t = 16, requires = "auto_precision")]
        max_frac: i32,
        /// Where to write the chosen configuration (default: <model stem>_auto.yml).
        #[arg(long, value_name = "FILE", requires = "auto_precision")]
        write_config: Option<PathBuf>,
        /// Write the report as a self-contained HTML page.
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        /// Write the report as JSON.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
    },
    /// Compare a built project's HLS (and Vivado) synthesis reports with its estimate.
    Report {
        /// The project directory written by `compile`, after Vitis HLS ran in it.
        dir: PathBuf,
        /// The HLS tool that wrote the reports (vivado or vitis), when they do not say; a warning
        /// follows when the estimate predicted the other one.
        #[arg(long, value_parser = ["vivado", "vitis"])]
        hls_tool: Option<String>,
        /// Print the comparison as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Compile, estimate, simulate and optionally synthesize a model at every combination of
    /// precision, reuse factor, strategy and pruning threshold, on this machine or on Slurm.
    Sweep(sweep::SweepCommand),
    /// Synthesize a project's RTL (DIR/rtl/*.v) with Yosys and compare the counts with its estimate.
    Synth {
        /// The project directory: rtl/*.v and report.json.
        dir: PathBuf,
        /// Top module (default: report.json's, else the module no other module instantiates).
        #[arg(long)]
        top: Option<String>,
        /// The Yosys executable.
        #[arg(long, default_value = "yosys")]
        yosys: PathBuf,
        /// Stop Yosys after this many seconds with a message saying so (0: no limit).
        #[arg(long, value_name = "SECONDS", default_value_t = crate::synth::DEFAULT_TIME_LIMIT.as_secs())]
        time_limit: u64,
        /// Print DIR/synth/utilization.json instead of the table.
        #[arg(long)]
        json: bool,
    },
}

/// The FPGA target.
#[derive(Args, Clone)]
struct TargetArgs {
    /// FPGA part, short (xcvu9p) or full (xcvu9p-flga2104-2L-e); default: the configuration's Part.
    #[arg(long)]
    part: Option<String>,
    /// Clock period in ns (default: the configuration's ClockPeriod, else 5).
    #[arg(long)]
    clock_period: Option<f64>,
    /// How tensors move: io_parallel (partitioned arrays) or io_stream (pixel streams through a
    /// dataflow pipeline); default: the configuration's IOType, else io_parallel.
    #[arg(long, value_parser = ["io_parallel", "io_stream"])]
    io_type: Option<String>,
    /// io_stream FIFO depths: auto (each FIFO's peak occupancy in the dataflow model; default),
    /// max (as deep as its tensor, hls4ml's default) or a number for every FIFO.
    #[arg(long)]
    fifo_depth: Option<crate::estimate::stream::FifoDepth>,
    /// The HLS tool whose csynth report the estimate predicts: vivado (Vivado HLS 2018-2020.1) or
    /// vitis (Vitis HLS); default: the configuration's Backend (Vivado -> vivado), else vitis.
    #[arg(long, value_parser = ["vivado", "vitis"])]
    hls_tool: Option<String>,
    /// Graph models: the resource-optimized design, N edge (and node) rows per cycle through one
    /// copy of each row-wise layer (io_parallel, Vitis HLS); default: the throughput form.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    edge_parallelism: Option<u64>,
}

/// The target with the configuration file applied under the command line.
struct Target {
    part: String,
    clock_ns: f64,
    io: crate::config::IoStyle,
    fifo_depth: Option<crate::estimate::stream::FifoDepth>,
    tool: crate::estimate::HlsTool,
    edge_parallelism: Option<usize>,
}

impl Target {
    /// The estimate of `g` for this target on `part`: the resource-optimized form of a graph
    /// model at `edge_parallelism` rows per cycle when set, else the design in the io type, as
    /// the chosen HLS tool synthesizes it.
    fn estimate(
        &self,
        g: &crate::ir::LoweredGraph,
        part: &crate::estimate::Part,
    ) -> Result<crate::estimate::Estimate, crate::flow::FlowError> {
        let (est, _) = match self.edge_parallelism {
            Some(n) => crate::flow::estimate_rows(g, part, self.clock_ns, self.tool, n)?,
            None => crate::flow::estimate_design_for(
                g,
                part,
                self.clock_ns,
                self.io,
                self.fifo_depth.unwrap_or_default(),
                self.tool,
            )?,
        };
        Ok(est)
    }
}

impl TargetArgs {
    /// The command line over the configuration's `Part`, `ClockPeriod`, `IOType`, `FifoDepth` and
    /// `EdgeParallelism`.
    fn resolve(&self, cfg: &crate::config::Config) -> Result<Target, CliError> {
        use crate::config::IoStyle;
        let part = self.part.clone().or_else(|| cfg.part.clone()).ok_or_else(|| {
            CliError::msg("no FPGA part: give --part PART (e.g. --part xcvu9p) or Part in the --config file")
        })?;
        let io = match &self.io_type {
            Some(t) => t.parse().map_err(CliError::msg)?,
            None => cfg.io_type.unwrap_or_default(),
        };
        let fifo_depth = match (self.fifo_depth, io) {
            (Some(_), IoStyle::Parallel) => {
                return Err(CliError::msg(
                    "FIFO depths apply to io_stream designs: --fifo-depth needs --io-type io_stream or IOType io_stream in the configuration",
                ))
            }
            (Some(d), IoStyle::Stream) => Some(d),
            (None, IoStyle::Stream) => cfg.fifo_depth,
            (None, IoStyle::Parallel) => None,
        };
        let tool = match self.hls_tool.as_deref() {
            Some(t) => t.parse().map_err(CliError::msg)?,
            None => cfg.hls_tool.unwrap_or_default(),
        };
        let edge_parallelism = self.edge_parallelism.map(|n| n as usize).or(cfg.edge_parallelism);
        if edge_parallelism.is_some() && io == IoStyle::Stream {
            return Err(CliError::msg(
                "--edge-parallelism (or EdgeParallelism in the configuration) builds the resource-optimized io_parallel design of a graph model; it does not combine with io_stream",
            ));
        }
        Ok(Target {
            part,
            clock_ns: self.clock_period.or(cfg.clock_period).unwrap_or(5.0),
            io,
            fifo_depth,
            tool,
            edge_parallelism,
        })
    }
}

/// Arguments shared by every command that reads a model.
#[derive(Args, Clone)]
struct ModelArgs {
    /// The model: .onnx, Keras .h5, .json (architecture, with --weights) or .keras.
    model: PathBuf,
    /// Weights file for a Keras architecture JSON (default: <stem>_weights.h5 beside it).
    #[arg(long)]
    weights: Option<PathBuf>,
    /// hls4ml YAML configuration: a project's hls4ml_config.yml, an HLSConfig-rooted file or bare
    /// Model/LayerType/LayerName keys; the command line overrides it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Default precision for everything the model does not fix, e.g. ap_fixed<16,6> (default:
    /// the configuration's, else ap_fixed<16,6,AP_RND,AP_SAT>; hls4ml's is AP_TRN, AP_WRAP).
    #[arg(long)]
    precision: Option<FixedType>,
    /// Reuse factor of every layer that has one (overridden per layer by the configuration);
    /// `estimate` compares several, comma-separated.
    #[arg(long, value_delimiter = ',', value_parser = parse_reuse_factor)]
    reuse_factor: Vec<usize>,
    /// hls4ml's Strategy at reuse factor R > 1: latency keeps the weights as constant
    /// multiplexers, resource stores them as R words of a ROM (LUTRAM or block RAM).
    #[arg(long, value_enum)]
    strategy: Option<StrategyArg>,
    /// Set Dense weights smaller in magnitude than this to zero.
    #[arg(long)]
    prune_below: Option<f64>,
    /// Print the IR after the named pass ('all' for every pass): fold-constants, fold-transpose,
    /// fuse-bias, fuse-batch-norm, quantize, prune, infer-precision, reuse-factor, lut-tables.
    #[arg(long = "dump-ir-after", value_name = "PASS")]
    dump_ir_after: Vec<String>,
    /// Append an anomaly score, which becomes the model's only output: mse (mean of the squared
    /// input-output differences), mae (their sum of absolute values, n times the mean) or
    /// latent-l2 (sum of squares of the layer named by --score-tensor).
    #[arg(long, value_enum)]
    score: Option<ScoreArg>,
    /// The layer whose output latent-l2 scores (a name as `inspect` prints it).
    #[arg(long, value_name = "NAME", required_if_eq("score", "latent-l2"))]
    score_tensor: Option<String>,
}

/// A `--reuse-factor` value: a whole number of at least 1.
fn parse_reuse_factor(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("reuse factor must be at least 1".into()),
        Ok(v) => Ok(v),
        Err(_) => Err(format!("'{s}' is not a whole number (a reuse factor is at least 1)")),
    }
}

fn parse_tb_samples(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("a testbench needs at least 1 sample".into()),
        Ok(v) => Ok(v),
        Err(_) => Err(format!("'{s}' is not a whole number")),
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ScoreArg {
    Mse,
    Mae,
    #[value(name = "latent-l2")]
    LatentL2,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BackendArg {
    Vitis,
    Rtl,
}

#[derive(Clone, Copy, ValueEnum)]
enum StrategyArg {
    Latency,
    Resource,
}

impl ModelArgs {
    /// The lowering options, with the one reuse factor given (if any).
    fn flow(&self) -> Result<FlowOptions, CliError> {
        match self.reuse_factor[..] {
            [] => self.flow_with(None),
            [rf] => self.flow_with(Some(rf)),
            _ => Err(CliError::msg("--reuse-factor takes one value here (estimate compares several)")),
        }
    }

    fn flow_with(&self, reuse_factor: Option<usize>) -> Result<FlowOptions, CliError> {
        let score = match (self.score, &self.score_tensor) {
            (None, None) => None,
            (Some(ScoreArg::Mse), None) => Some(Score::Mse),
            (Some(ScoreArg::Mae), None) => Some(Score::Mae),
            (Some(ScoreArg::LatentL2), Some(t)) => Some(Score::LatentL2 { tensor: t.clone() }),
            (Some(ScoreArg::LatentL2), None) => {
                return Err(CliError::msg("--score latent-l2 needs --score-tensor NAME"))
            }
            (_, Some(_)) => return Err(CliError::msg("--score-tensor applies to --score latent-l2")),
        };
        Ok(FlowOptions {
            weights: self.weights.clone(),
            config: self.config.clone(),
            precision: self.precision,
            reuse_factor,
            strategy: self.strategy.map(|s| match s {
                StrategyArg::Latency => Strategy::Latency,
                StrategyArg::Resource => Strategy::Resource,
            }),
            prune_below: self.prune_below,
            dump_ir_after: self.dump_ir_after.clone(),
            score,
        })
    }
}

/// An error on its way to the user: a message and its causes.
#[derive(Debug)]
pub struct CliError(String);

impl<E: std::error::Error> From<E> for CliError {
    fn from(e: E) -> Self {
        let mut msg = e.to_string();
        let mut src = e.source();
        while let Some(s) = src {
            let text = s.to_string();
            if !msg.contains(&text) {
                msg.push_str(&format!("\n  caused by: {text}"));
            }
            src = s.source();
        }
        CliError(msg)
    }
}

impl CliError {
    pub fn msg(m: impl Into<String>) -> Self {
        CliError(m.into())
    }
}

/// Prints the IR dumps a lowering produced (asked for, so always) and its pass notes: each one
/// under `-v`, one line counting them by default, none under `-q`.
fn print_runs(runs: &[crate::passes::PassRun]) {
    let level = verbosity();
    let mut hidden = 0;
    let mut passes: Vec<&str> = Vec::new();
    for r in runs {
        if let Some(d) = &r.dump {
            println!("# IR after {}\n{d}", r.pass);
        }
        for n in &r.report.notes {
            if level == Verbosity::Verbose {
                eprintln!("note: {}: {n}", r.pass);
            } else {
                hidden += 1;
                if !passes.contains(&r.pass) {
                    passes.push(r.pass);
                }
            }
        }
    }
    if hidden > 0 && level == Verbosity::Normal {
        eprintln!("note: {hidden} note(s) from {} (-v shows them)", passes.join(", "));
    }
}

/// Prints the configuration's warnings: hls4ml keys without effect, then `more` (those found
/// against the model).
fn print_warnings(cfg: &crate::config::Config, more: &[String]) {
    for w in cfg.warnings.iter().chain(more) {
        eprintln!("warning: {w}");
    }
}

/// Parses the arguments, runs the command and returns the process exit status.
pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let level = match (cli.quiet, cli.verbose) {
        (true, _) => Verbosity::Quiet,
        (false, true) => Verbosity::Verbose,
        (false, false) => Verbosity::Normal,
    };
    VERBOSITY.store(level as u8, Ordering::Relaxed);
    let result = match cli.command {
        Command::Inspect { model } => inspect::run(&model),
        Command::Sim { model, input, output, float, trace } => {
            sim::run(&model, &sim::SimArgs { input: &input, output: &output, float, trace: trace.as_ref() })
        }
        Command::Compile {
            model,
            target,
            output,
            project_name,
            tb_input,
            tb_samples,
            force,
            backend,
            pipeline_stages,
            drop_output_softmax,
        } => compile::run(
            &model,
            &target,
            &compile::CompileArgs {
                output: output.as_ref(),
                project_name: project_name.as_deref(),
                tb_input: &tb_input,
                tb_samples: tb_samples.unwrap_or(1000),
                force,
                rtl: backend == BackendArg::Rtl,
                pipeline_stages,
                drop_output_softmax,
            },
        ),
        Command::Rtlsim { dir } => rtlsim::run(&dir),
        Command::Csim { dir, ap_types, cpp17 } => csim::run(&dir, ap_types.as_ref(), cpp17),
        Command::Estimate { model, target, json } => estimate::run(&model, &target, json),
        Command::Profile {
            model,
            target,
            input,
            auto_precision,
            target_accuracy,
            max_overflow,
            max_error,
            margin,
            max_frac,
            write_config,
            html,
            json,
        } => profile::run(
            &model,
            &target,
            &profile::ProfileArgs {
                input: &input,
                auto: auto_precision.then_some(crate::profile::auto::AutoOptions {
                    target_accuracy,
                    max_overflow,
                    max_error,
                    margin,
                    max_frac,
                }),
                write_config: write_config.as_ref(),
                html: html.as_ref(),
                json: json.as_ref(),
            },
        ),
        Command::Report { dir, json, hls_tool } => report::run(&dir, json, hls_tool.as_deref()),
        Command::Synth { dir, top, yosys, time_limit, json } => {
            synth::run(&dir, top.as_ref(), &yosys, time_limit, json)
        }
        Command::Sweep(cmd) => sweep::run(cmd),
    };
    match result {
        Ok(code) => code,
        Err(CliError(msg)) => {
            eprintln!("error: {msg}");
            1
        }
    }
}
