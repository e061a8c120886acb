//! The `hls-gen` command line: the only place that prints or exits.
//!
//! Every command returns `Result<ExitCode-like i32, CliError>`; errors are rendered once, here,
//! as `error: ...` with their causes, and give exit status 1 (2 for usage errors, from clap).

mod estimate;
mod inspect;
mod npy;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::fixed::FixedType;
use crate::flow::FlowOptions;
use crate::ir::Strategy;

#[derive(Parser)]
#[command(name = "hls-gen", version, about = "Compile trained neural networks into bit-exact FPGA firmware")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the typed layer graph: layers, shapes, types, reuse factors, MACs.
    Inspect {
        #[command(flatten)]
        model: ModelArgs,
        /// Reuse factor for every Dense layer (overridden per layer by the configuration).
        #[arg(long)]
        reuse_factor: Option<usize>,
    },
    /// Estimate latency, II and resources without writing a project; one row per reuse factor.
    Estimate {
        #[command(flatten)]
        model: ModelArgs,
        #[command(flatten)]
        target: TargetArgs,
        /// Reuse factors to compare (comma-separated); the configuration's when absent.
        #[arg(long, value_delimiter = ',')]
        reuse_factor: Vec<usize>,
        /// Print report.json instead of the table.
        #[arg(long)]
        json: bool,
    },
}

/// The FPGA target.
#[derive(Args, Clone)]
struct TargetArgs {
    /// FPGA part, short (xcvu9p) or full (xcvu9p-flga2104-2L-e).
    #[arg(long)]
    part: String,
    /// Clock period in ns.
    #[arg(long, default_value_t = 5.0)]
    clock_period: f64,
}

/// Arguments shared by every command that reads a model.
#[derive(Args, Clone)]
struct ModelArgs {
    /// The model: .onnx, Keras .h5, .json (architecture, with --weights) or .keras.
    model: PathBuf,
    /// Weights file for a Keras architecture JSON (default: <stem>_weights.h5 beside it).
    #[arg(long)]
    weights: Option<PathBuf>,
    /// YAML configuration with hls4ml keys (Model, LayerType, LayerName).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Default precision for everything the model does not fix, e.g. ap_fixed<16,6>.
    #[arg(long)]
    precision: Option<FixedType>,
    #[arg(long, value_enum)]
    strategy: Option<StrategyArg>,
    /// Set Dense weights smaller in magnitude than this to zero.
    #[arg(long)]
    prune_below: Option<f64>,
    /// Print the IR after the named pass ('all' for every pass).
    #[arg(long = "dump-ir-after", value_name = "PASS")]
    dump_ir_after: Vec<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum StrategyArg {
    Latency,
    Resource,
}

impl ModelArgs {
    fn flow(&self, reuse_factor: Option<usize>) -> FlowOptions {
        FlowOptions {
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
        }
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

/// Prints the IR dumps and pass notes a lowering produced.
fn print_runs(runs: &[crate::passes::PassRun]) {
    for r in runs {
        if let Some(d) = &r.dump {
            println!("# IR after {}\n{d}", r.pass);
        }
        for n in &r.report.notes {
            eprintln!("note: {}: {n}", r.pass);
        }
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
    let result = match cli.command {
        Command::Inspect { model, reuse_factor } => inspect::run(&model, reuse_factor),
        Command::Estimate { model, target, reuse_factor, json } => {
            estimate::run(&model, &target, &reuse_factor, json)
        }
    };
    match result {
        Ok(code) => code,
        Err(CliError(msg)) => {
            eprintln!("error: {msg}");
            1
        }
    }
}
