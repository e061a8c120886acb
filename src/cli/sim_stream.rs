//! `hls-gen sim` on one plain `.npy` input without `--trace`: reading, simulating and writing
//! overlap, a piece of samples at a time, on three threads (the simulation itself on all cores).
//!
//! Contract: outputs, overflow counts and errors are those of simulating the whole file in
//! pieces ([`super::sim`]'s `run_in_pieces`): pieces run in sample order (results do not depend
//! on where pieces end), errors name samples from the file's start, and the output files appear
//! only when every piece was simulated and written. The reader starts before the model is loaded
//! and holds at most three pieces' values at a time (one being read, one waiting, one being
//! simulated), each of at most 32,768 samples and [`PIECE_BYTES`].

use std::path::PathBuf;
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender};
use std::sync::Mutex;
use std::thread::Scope;
use std::time::Instant;

use indicatif::ProgressBar;

use super::npy_rows::Rows;
use super::sim::{add_overflows, output_writers, show_progress, write_outputs};
use super::{npy, CliError};
use crate::ir::Graph;
use crate::sim::{LayerOverflow, OutputTensor, RunOptions, Simulator};

/// The rows of an input file, read a piece at a time on a thread of their own.
pub(super) struct Reader {
    rows: usize,
    per_row: usize,
    pieces: Receiver<Result<Vec<f64>, CliError>>,
    /// Buffers handed back for the next pieces.
    spare: Sender<Vec<f64>>,
}

/// Bytes of `f64` values a piece holds at most (8,192 samples of 16 values): the three pieces in
/// flight stay in cache-sized buffers that are reused (fresh pages cost more than the per-piece
/// work saved by larger pieces), and a reader started for a file the model then takes otherwise
/// wastes little.
const PIECE_BYTES: usize = 1 << 20;

impl Reader {
    /// Starts reading `rows`, at most `piece` rows at a time, one piece ahead of the consumer.
    pub(super) fn start<'s>(scope: &'s Scope<'s, '_>, mut rows: Rows, piece: usize) -> Reader {
        let (tx, pieces) = sync_channel(1);
        let (spare, spares) = channel::<Vec<f64>>();
        let (n, per_row) = (rows.rows(), rows.per_row);
        let piece = piece.min(PIECE_BYTES / (8 * per_row)).max(1);
        scope.spawn(move || {
            let mut first = 0;
            while first < n {
                let m = piece.min(n - first);
                let mut buf = spares.try_recv().unwrap_or_default();
                let read = rows.read(m, &mut buf).map(|()| buf);
                let failed = read.is_err();
                if tx.send(read).is_err() || failed {
                    return;
                }
                first += m;
            }
        });
        Reader { rows: n, per_row, pieces, spare }
    }

    /// Whether the rows are the samples of `g`'s one input as the simulator takes them (no layout
    /// change, `per_sample` values a row).
    pub(super) fn fits(&self, g: &Graph, per_sample: usize) -> bool {
        match g.inputs()[..] {
            [i] => {
                g.input_layout(i).is_none()
                    && g.node(i).shape.elements() == self.per_row
                    && per_sample == self.per_row
            }
            _ => false,
        }
    }
}

/// Simulates every row of `reader` into the `output` files; returns the overflow counts of the
/// whole run and the number of samples.
pub(super) fn run(
    sim: &Simulator,
    g: &Graph,
    reader: Reader,
    output: &[PathBuf],
) -> Result<(Vec<LayerOverflow>, usize), CliError> {
    let n = reader.rows;
    let mut writers = output_writers(g, output, n)?;
    std::thread::scope(|scope| {
        // `None` ends the run: the files are finished; a closed channel drops them unwritten.
        let (to_write, written) = sync_channel::<Option<Vec<OutputTensor>>>(1);
        let writer = scope.spawn(move || -> Result<(), CliError> {
            for piece in written {
                let Some(outputs) = piece else {
                    return writers.into_iter().try_for_each(npy::Writer::finish);
                };
                for (k, out) in outputs.iter().enumerate() {
                    write_outputs(g, k, out, &mut writers[k])?;
                }
            }
            Ok(())
        });
        let simulated = simulate(sim, &reader, n, |outputs| to_write.send(Some(outputs)).is_ok());
        let finished = matches!(simulated, Ok(Some(_))) && to_write.send(None).is_ok();
        drop(to_write);
        let wrote = writer.join().map_err(|_| CliError::msg("writing the outputs failed"))?;
        match (simulated?, wrote) {
            (_, Err(e)) => Err(e),
            (Some(total), Ok(())) if finished => Ok((total, n)),
            _ => Err(CliError::msg("writing the outputs stopped early")),
        }
    })
}

/// Runs the pieces as they arrive, handing each one's outputs to `write` (which says whether the
/// writer still takes them); `None` when it stopped taking them.
fn simulate(
    sim: &Simulator,
    reader: &Reader,
    n: usize,
    mut write: impl FnMut(Vec<OutputTensor>) -> bool,
) -> Result<Option<Vec<LayerOverflow>>, CliError> {
    let start = Instant::now();
    let bar: Mutex<Option<ProgressBar>> = Mutex::new(None);
    let mut total: Vec<LayerOverflow> = Vec::new();
    let mut first = 0;
    for piece in &reader.pieces {
        let x = piece?;
        let m = x.len() / reader.per_row;
        let progress = |done: usize| show_progress(&bar, start, first + done, n);
        let run = sim.run(&x, m, &RunOptions { trace: false, dense_sums: false, progress: Some(&progress) });
        let result = run.map_err(|e| e.from_sample(first))?;
        // The reader may have stopped already; the buffer is then simply freed.
        let _ = reader.spare.send(x);
        add_overflows(&mut total, first == 0, result.overflows);
        first += m;
        if !write(result.outputs) {
            return Ok(None);
        }
    }
    if let Ok(Some(b)) = bar.into_inner() {
        b.finish_and_clear();
    }
    if first != n {
        return Err(CliError::msg(format!("reading the input stopped after {first} of {n} samples")));
    }
    Ok(Some(total))
}
