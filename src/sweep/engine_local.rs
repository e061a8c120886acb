//! The local engine: a bounded pool of worker processes on this machine. At most `jobs` workers
//! (`hls-gen sweep run-point FILE`, each appending its output to `worker.log` beside its point
//! file: one line per run) run at once; points are started in the order given. The call returns when every point's worker has
//! exited. A worker that exits unsuccessfully without writing a result leaves its point unfinished
//! (the next run retries it).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use super::{io, SweepError};

/// How a worker ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerExit {
    pub point_file: PathBuf,
    /// The worker exited with status 0 (its point has a result).
    pub success: bool,
}

/// The command that runs one point.
pub fn worker_command(exe: &Path, point_file: &Path) -> Command {
    let mut c = Command::new(exe);
    c.args(["sweep", "run-point"]).arg(point_file);
    c
}

/// Runs `points` (point files) with at most `jobs` workers of `exe`, calling `on_exit` as each
/// worker exits.
pub fn run(
    exe: &Path,
    points: &[PathBuf],
    jobs: usize,
    on_exit: &(dyn Fn(&WorkerExit) + Sync),
) -> Result<Vec<WorkerExit>, SweepError> {
    let next = Mutex::new(points.iter());
    let exits = Mutex::new(Vec::with_capacity(points.len()));
    let failure: Mutex<Option<SweepError>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1).min(points.len().max(1)) {
            s.spawn(|| loop {
                let Some(p) = next.lock().map(|mut it| it.next()).ok().flatten() else { return };
                match run_one(exe, p) {
                    Ok(e) => {
                        on_exit(&e);
                        if let Ok(mut v) = exits.lock() {
                            v.push(e);
                        }
                    }
                    Err(e) => {
                        if let Ok(mut f) = failure.lock() {
                            f.get_or_insert(e);
                        }
                        return;
                    }
                }
            });
        }
    });
    if let Some(e) = failure.into_inner().ok().flatten() {
        return Err(e);
    }
    let mut exits = exits.into_inner().unwrap_or_default();
    exits.sort_by(|a, b| a.point_file.cmp(&b.point_file));
    Ok(exits)
}

fn run_one(exe: &Path, point_file: &Path) -> Result<WorkerExit, SweepError> {
    let dir = point_file.parent().unwrap_or(Path::new("."));
    let log_path = dir.join("worker.log");
    let log = std::fs::OpenOptions::new().create(true).append(true).open(&log_path).map_err(io(&log_path))?;
    let err = log.try_clone().map_err(io(&log_path))?;
    let status = worker_command(exe, point_file)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err)
        .status()
        .map_err(|e| SweepError::Spec(format!("cannot start the worker '{}': {e}", exe.display())))?;
    Ok(WorkerExit { point_file: point_file.to_path_buf(), success: status.success() })
}
