//! `hls-gen sim`: runs the bit-accurate simulator (or the f64 reference with `--float`) on a batch
//! of inputs from `.npy` files (or an `.npz`), writes the outputs as float64 `.npy`, prints a per-layer overflow
//! summary, and with `--trace DIR` writes every layer's output.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use super::{npy, npy_rows, npz, print_runs, print_warnings, quiet, sim_stream, CliError, ModelArgs};
use crate::backend::namer::Namer;
use crate::flow::{load_and_lower, load_float, take_inputs};
use crate::ir::{layout, Graph};
use crate::sim::{LayerOverflow, OutputTensor, RunOptions, SimResult, Simulator};

pub(super) struct SimArgs<'a> {
    /// One file per model input.
    pub input: &'a [PathBuf],
    /// One file per model output.
    pub output: &'a [PathBuf],
    pub float: bool,
    pub trace: Option<&'a PathBuf>,
}

/// Runs the simulator with a progress bar on stderr that appears once a run lasts over a second.
pub(super) fn run_with_progress(
    sim: &Simulator,
    inputs: &[f64],
    n: usize,
    trace: bool,
) -> Result<SimResult, CliError> {
    let start = Instant::now();
    let bar: Mutex<Option<ProgressBar>> = Mutex::new(None);
    let progress = |done: usize| show_progress(&bar, start, done, n);
    let result = sim.run(inputs, n, &RunOptions { trace, dense_sums: false, progress: Some(&progress) });
    if let Ok(Some(b)) = bar.into_inner() {
        b.finish_and_clear();
    }
    Ok(result?)
}

/// Sets the progress bar in `bar` to `done` of `n` samples, creating it once a run has lasted a
/// second (never with `-q`).
pub(super) fn show_progress(bar: &Mutex<Option<ProgressBar>>, start: Instant, done: usize, n: usize) {
    if quiet() || start.elapsed() < Duration::from_secs(1) {
        return;
    }
    let Ok(mut slot) = bar.lock() else { return };
    let b = slot.get_or_insert_with(|| {
        let b = ProgressBar::new(n as u64);
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} samples ({per_sec}, {eta})") {
            b.set_style(style);
        }
        b
    });
    b.set_position(done as u64);
}

pub(super) fn run(args: &ModelArgs, s: &SimArgs<'_>) -> Result<i32, CliError> {
    let flow = args.flow()?;
    // One plain `.npy` without `--trace` is streamed: its first rows are read while the model
    // loads, and reading, simulating and writing then overlap piece by piece.
    let rows = match (s.trace, s.input) {
        (None, [path]) => npy_rows::Rows::open(path),
        _ => None,
    };
    std::thread::scope(|scope| {
        let reader = rows.map(|r| sim_stream::Reader::start(scope, r, PIECE));
        let (sim, g) = load(args, s, &flow)?;
        let reader = reader.filter(|r| r.fits(&g, sim.input_elements()));
        let (overflows, n, start) = match reader {
            Some(r) => {
                check_outputs(&g, s.output)?;
                let start = Instant::now();
                let (overflows, n) = sim_stream::run(&sim, &g, r, s.output)?;
                (overflows, n, start)
            }
            None => {
                let (inputs, n) = take_inputs(&g, npz::read_all(s.input)?)?;
                check_outputs(&g, s.output)?;
                let start = Instant::now();
                (run_whole(&sim, &g, &inputs, n, s)?, n, start)
            }
        };
        summarize(&g, s, n, start, &overflows)
    })
}

/// The simulator of the model (bit-accurate, or the f64 reference with `--float`) and its graph,
/// with the lowering's warnings and notes printed.
fn load(
    args: &ModelArgs,
    s: &SimArgs<'_>,
    flow: &crate::flow::FlowOptions,
) -> Result<(Simulator, Graph), CliError> {
    Ok(if s.float {
        let lowered = load_float(&args.model, flow)?;
        print_warnings(&lowered.config, &lowered.warnings);
        print_runs(&lowered.runs);
        (Simulator::new_float(&lowered.graph)?, lowered.graph.into_graph())
    } else {
        let lowered = load_and_lower(&args.model, flow)?;
        print_warnings(&lowered.config, &lowered.warnings);
        print_runs(&lowered.runs);
        (Simulator::new(&lowered.graph)?, lowered.graph.into_graph())
    })
}

/// Fails unless one `--output` file is given per model output.
fn check_outputs(g: &Graph, output: &[PathBuf]) -> Result<(), CliError> {
    if output.len() != g.outputs().len() {
        let names: Vec<String> = g.outputs().iter().map(|&o| format!("'{}'", g.node(o).name)).collect();
        return Err(CliError::msg(format!(
            "the model has {} output(s) ({}) but {} --output file(s) were given; give one per output, in this order",
            g.outputs().len(),
            names.join(", "),
            output.len()
        )));
    }
    Ok(())
}

/// Simulates inputs read whole: with `--trace`, every layer's output is written too.
fn run_whole(
    sim: &Simulator,
    g: &Graph,
    inputs: &[f64],
    n: usize,
    s: &SimArgs<'_>,
) -> Result<Vec<LayerOverflow>, CliError> {
    let Some(dir) = s.trace else {
        return run_in_pieces(sim, g, inputs, n, s.output);
    };
    let result = run_with_progress(sim, inputs, n, true)?;
    let mut writers = output_writers(g, s.output, n)?;
    for (k, out) in result.outputs.iter().enumerate() {
        write_outputs(g, k, out, &mut writers[k])?;
    }
    writers.into_iter().try_for_each(npy::Writer::finish)?;
    if let Some(trace) = &result.trace {
        std::fs::create_dir_all(dir).map_err(|e| CliError::msg(format!("{}: {e}", dir.display())))?;
        let mut namer = Namer::new();
        let mut index = String::from("file\tlayer\n");
        for t in trace {
            let mut shape = vec![n];
            shape.extend(t.shape.dims());
            let file = format!("{}.npy", namer.name(&t.name));
            npy::write(&dir.join(&file), &shape, &t.values)?;
            index += &format!("{file}\t{}\n", t.name);
        }
        let path = dir.join("layers.tsv");
        std::fs::write(&path, index).map_err(|e| CliError::msg(format!("{}: {e}", path.display())))?;
    }
    Ok(result.overflows)
}

/// Prints the run's summary and overflow table (nothing under `-q` when nothing overflowed).
fn summarize(
    g: &Graph,
    s: &SimArgs<'_>,
    n: usize,
    start: Instant,
    overflows: &[LayerOverflow],
) -> Result<i32, CliError> {
    let elapsed = start.elapsed();
    let overflowing: Vec<_> = overflows.iter().filter(|o| o.count > 0).collect();
    if quiet() && overflowing.is_empty() {
        return Ok(0);
    }
    println!(
        "simulated {n} samples of {} ({}) in {:.3} s; outputs written to {}",
        g.name,
        if s.float { "f64 reference" } else { "bit-accurate" },
        elapsed.as_secs_f64(),
        s.output.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    );
    if overflowing.is_empty() {
        println!("no overflow in any layer");
    } else {
        println!("overflows (values that wrapped or saturated):");
        for o in overflowing {
            println!(
                "  {:<40} {:<12} {:>10} of {:>10} ({:.2}%)",
                o.layer,
                o.kind,
                o.count,
                o.elements,
                100.0 * o.count as f64 / o.elements.max(1) as f64
            );
        }
    }
    Ok(0)
}

/// Samples simulated per piece of a run without a trace: the outputs of one piece are written
/// before the next runs, so memory stays bounded and the buffers are reused.
pub(super) const PIECE: usize = 1 << 15;

/// Runs the samples piece by piece, appending each piece's outputs to the output files; returns
/// the overflow counts of the whole run.
fn run_in_pieces(
    sim: &Simulator,
    g: &Graph,
    inputs: &[f64],
    n: usize,
    output: &[PathBuf],
) -> Result<Vec<LayerOverflow>, CliError> {
    let per = sim.input_elements();
    let mut writers = output_writers(g, output, n)?;
    let start = Instant::now();
    let bar: Mutex<Option<ProgressBar>> = Mutex::new(None);
    let mut total: Vec<LayerOverflow> = Vec::new();
    let pieces: Vec<usize> = if n == 0 { vec![0] } else { (0..n).step_by(PIECE).collect() };
    for first in pieces {
        let m = PIECE.min(n - first);
        let progress = |done: usize| show_progress(&bar, start, first + done, n);
        let x = &inputs[first * per..(first + m) * per];
        let run = sim.run(x, m, &RunOptions { trace: false, dense_sums: false, progress: Some(&progress) });
        let result = run.map_err(|e| e.from_sample(first))?;
        for (k, out) in result.outputs.iter().enumerate() {
            write_outputs(g, k, out, &mut writers[k])?;
        }
        add_overflows(&mut total, first == 0, result.overflows);
    }
    if let Ok(Some(b)) = bar.into_inner() {
        b.finish_and_clear();
    }
    writers.into_iter().try_for_each(npy::Writer::finish)?;
    Ok(total)
}

/// Adds a piece's overflow counts to the run's (the `first` piece's are the run's so far).
pub(super) fn add_overflows(total: &mut Vec<LayerOverflow>, first: bool, piece: Vec<LayerOverflow>) {
    if first {
        *total = piece;
    } else {
        for (t, o) in total.iter_mut().zip(piece) {
            t.count += o.count;
            t.elements += o.elements;
        }
    }
}

/// One `.npy` writer per graph output, shaped `[n, model's shape]`.
pub(super) fn output_writers(g: &Graph, output: &[PathBuf], n: usize) -> Result<Vec<npy::Writer>, CliError> {
    output
        .iter()
        .enumerate()
        .map(|(k, path)| {
            let o = g.outputs()[k];
            let node_shape = &g.node(o).shape;
            let mut shape = vec![n];
            match g.output_layout(k) {
                Some(perm) => shape.extend(layout::model_shape(node_shape, perm).dims()),
                None => shape.extend(node_shape.dims()),
            }
            npy::Writer::create(path, &shape)
        })
        .collect()
}

/// Appends output `k`'s values to its file, in the model's own layout (channels-first where the
/// model is).
pub(super) fn write_outputs(
    g: &Graph,
    k: usize,
    out: &OutputTensor,
    w: &mut npy::Writer,
) -> Result<(), CliError> {
    match g.output_layout(k) {
        Some(perm) => {
            let per = out.shape.elements().max(1);
            let values: Vec<f64> =
                out.values.chunks(per).flat_map(|s| layout::to_model(s, &out.shape, perm)).collect();
            w.append(&values)
        }
        None => w.append(&out.values),
    }
}
