//! The Slurm engine: the points to run go to one `sbatch` job array per submission, each array
//! task running `hls-gen sweep run-point` on its points (one point per task, or
//! `points_per_task`); the state of every point comes from its result file and `squeue`.
//! No daemon of ours: Slurm schedules, the workers write the results, `status` and `wait` read
//! them.
//!
//! Files in `DIR/slurm/`: `job-<k>.sh` (the k-th submission's script), `tasks-<k>.txt` (line `t`
//! lists the point ids of array task `t`), `job-<k>_<t>.out` (the task's output) and `jobs.json`
//! (every submission's job id and task list).
//!
//! A point's state ([`PointState`]): `done` or `failed` from its `result.json` (written before the
//! task exits, so it is read after the queue); otherwise `pending` or `running` while its array
//! task is in `squeue`; otherwise `failed` (the task ended without a result, with the state
//! `sacct` reports when the cluster keeps accounting) if a submission holds it, else `not run`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{io, read_json, to_json, write_atomic, Sweep, SweepError};

/// Slurm's largest job array by default (`MaxArraySize` 1001 allows indices 0..=1000).
const MAX_ARRAY_TASKS: usize = 1000;

/// How jobs are submitted.
#[derive(Debug, Clone, Default)]
pub struct SlurmOptions {
    pub partition: Option<String>,
    pub time: Option<String>,
    pub mem: Option<String>,
    pub account: Option<String>,
    /// Extra `#SBATCH` options (`--qos=short`), one line each.
    pub extra: Vec<String>,
    /// Points run one after the other by one array task (at least 1).
    pub points_per_task: usize,
}

/// One `sbatch` submission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    pub job_id: String,
    pub tasks: PathBuf,
}

/// Every point's state, in id order.
pub type Status = Vec<(String, PointState)>;

/// Where a point is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PointState {
    NotRun,
    Pending,
    Running,
    Done,
    /// With the reason: the point's error, or how its task ended.
    Failed(String),
}

impl PointState {
    pub fn name(&self) -> &'static str {
        match self {
            PointState::NotRun => "not run",
            PointState::Pending => "pending",
            PointState::Running => "running",
            PointState::Done => "done",
            PointState::Failed(_) => "failed",
        }
    }

    /// Pending or running.
    pub fn active(&self) -> bool {
        matches!(self, PointState::Pending | PointState::Running)
    }
}

fn quote(p: &Path) -> Result<String, SweepError> {
    let s = p.display().to_string();
    if s.contains('\'') || s.contains('\n') {
        return Err(SweepError::Slurm(format!(
            "path '{s}' holds a quote or a newline; use a plainer --out or binary path"
        )));
    }
    Ok(format!("'{s}'"))
}

/// The job script of submission `k` with `tasks` array tasks.
pub fn job_script(
    sweep: &Sweep,
    exe: &Path,
    k: usize,
    tasks: usize,
    o: &SlurmOptions,
) -> Result<String, SweepError> {
    let slurm = sweep.dir.join("slurm");
    let mut s = String::from("#!/bin/bash\n#SBATCH --job-name=hls-gen-sweep\n");
    s.push_str(&format!("#SBATCH --array=0-{}\n", tasks.saturating_sub(1)));
    s.push_str(&format!("#SBATCH --output={}\n", slurm.join(format!("job-{k}_%a.out")).display()));
    for (flag, v) in
        [("partition", &o.partition), ("time", &o.time), ("mem", &o.mem), ("account", &o.account)]
    {
        if let Some(v) = v {
            s.push_str(&format!("#SBATCH --{flag}={v}\n"));
        }
    }
    for line in &o.extra {
        let line = line.trim().trim_start_matches("#SBATCH").trim();
        s.push_str(&format!("#SBATCH {line}\n"));
    }
    let list = quote(&slurm.join(format!("tasks-{k}.txt")))?;
    let points = quote(&sweep.dir.join("points"))?;
    s.push_str(&format!(
        "ids=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" {list})\nrc=0\nfor id in $ids; do\n  {} sweep run-point {points}/\"$id\"/point.json || rc=1\ndone\nexit $rc\n",
        quote(exe)?
    ));
    Ok(s)
}

fn submissions_file(sweep: &Sweep) -> PathBuf {
    sweep.dir.join("slurm").join("jobs.json")
}

/// The submissions made so far.
pub fn submissions(sweep: &Sweep) -> Result<Vec<Submission>, SweepError> {
    let f = submissions_file(sweep);
    if f.exists() {
        read_json(&f)
    } else {
        Ok(Vec::new())
    }
}

fn run_tool(cmd: &mut Command, what: &str) -> Result<String, SweepError> {
    let out = cmd.output().map_err(|e| {
        SweepError::Slurm(format!(
            "cannot run '{what}': {e}; is this a Slurm submit host (slurm-client installed)?"
        ))
    })?;
    if !out.status.success() {
        return Err(SweepError::Slurm(format!(
            "{what} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Submits `ids` as one job array; returns the submission.
pub fn submit(sweep: &Sweep, exe: &Path, ids: &[String], o: &SlurmOptions) -> Result<Submission, SweepError> {
    let dir = sweep.dir.join("slurm");
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let mut all = submissions(sweep)?;
    let k = all.len();
    let per_task = o.points_per_task.max(1).max(ids.len().div_ceil(MAX_ARRAY_TASKS));
    let lines: Vec<String> = ids.chunks(per_task).map(|c| c.join(" ")).collect();
    let tasks = dir.join(format!("tasks-{k}.txt"));
    write_atomic(&tasks, (lines.join("\n") + "\n").as_bytes())?;
    let script = dir.join(format!("job-{k}.sh"));
    write_atomic(&script, job_script(sweep, exe, k, lines.len(), o)?.as_bytes())?;
    let out = run_tool(Command::new("sbatch").arg("--parsable").arg(&script), "sbatch")?;
    let job_id = out.trim().split(';').next().unwrap_or("").to_string();
    if job_id.is_empty() || !job_id.chars().all(|c| c.is_ascii_digit()) {
        return Err(SweepError::Slurm(format!("sbatch --parsable printed '{}', not a job id", out.trim())));
    }
    let s = Submission { job_id, tasks };
    all.push(s.clone());
    write_atomic(&submissions_file(sweep), to_json(&all).as_bytes())?;
    Ok(s)
}

/// `(job id, array task)` → Slurm state, from `squeue -r` output lines `JOB_TASK STATE`.
pub fn parse_squeue(text: &str) -> BTreeMap<(String, usize), String> {
    let mut m = BTreeMap::new();
    for line in text.lines() {
        let mut f = line.split_whitespace();
        let (Some(id), Some(state)) = (f.next(), f.next()) else { continue };
        if let Some((job, task)) = id.split_once('_') {
            if let Ok(t) = task.parse::<usize>() {
                m.insert((job.to_string(), t), state.to_string());
            }
        }
    }
    m
}

/// `sacct`'s state of each array task of `job`, when the cluster keeps accounting.
fn sacct_states(job: &str) -> BTreeMap<usize, String> {
    let out = Command::new("sacct").args(["-n", "-P", "-X", "-j", job, "-o", "JobID,State"]).output();
    let Some(out) = out.ok().filter(|o| o.status.success()) else { return BTreeMap::new() };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (id, state) = l.split_once('|')?;
            let t = id.split_once('_')?.1.parse().ok()?;
            Some((t, state.trim().to_string()))
        })
        .collect()
}

/// Every point's state ([`Status`]).
pub fn status(sweep: &Sweep) -> Result<Status, SweepError> {
    let subs = submissions(sweep)?;
    // Which array task of which job holds each point (the latest submission wins).
    let mut holder: BTreeMap<String, (String, usize)> = BTreeMap::new();
    for s in &subs {
        let text = std::fs::read_to_string(&s.tasks).map_err(io(&s.tasks))?;
        for (t, line) in text.lines().enumerate() {
            for id in line.split_whitespace() {
                holder.insert(id.to_string(), (s.job_id.clone(), t));
            }
        }
    }
    let queue = if subs.is_empty() {
        BTreeMap::new()
    } else {
        parse_squeue(&run_tool(Command::new("squeue").args(["-h", "-r", "--me", "-o", "%i %T"]), "squeue")?)
    };
    let mut accounting: BTreeMap<String, BTreeMap<usize, String>> = BTreeMap::new();
    let mut out = Vec::with_capacity(sweep.ids.len());
    for id in &sweep.ids {
        let queued = holder.get(id).and_then(|k| queue.get(k).map(|s| (k, s)));
        let state = match (sweep.result(id)?, queued, holder.get(id)) {
            (Some(r), _, _) => match r.error {
                Some(e) => PointState::Failed(e),
                None => PointState::Done,
            },
            (None, Some((_, s)), _) if s == "PENDING" || s == "CONFIGURING" => PointState::Pending,
            (None, Some(_), _) => PointState::Running,
            (None, None, Some((job, t))) => {
                let states = accounting.entry(job.clone()).or_insert_with(|| sacct_states(job));
                let how = states.get(t).map_or("ended", String::as_str);
                PointState::Failed(format!("Slurm job {job}_{t} {how} without a result (see {})", {
                    sweep.dir.join("slurm").display()
                }))
            }
            (None, None, None) => PointState::NotRun,
        };
        out.push((id.clone(), state));
    }
    Ok(out)
}

/// Polls [`status`] every `interval` until no point is pending or running, calling `on_poll`
/// with each status read; returns the last.
pub fn wait(sweep: &Sweep, interval: Duration, on_poll: &dyn Fn(&Status)) -> Result<Status, SweepError> {
    loop {
        let s = status(sweep)?;
        on_poll(&s);
        if !s.iter().any(|(_, st)| st.active()) {
            return Ok(s);
        }
        std::thread::sleep(interval);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squeue_lines_give_task_states() {
        let m = parse_squeue("12_0 RUNNING\n12_3 PENDING\n13 RUNNING\n\n");
        assert_eq!(m.get(&("12".to_string(), 0)).map(String::as_str), Some("RUNNING"));
        assert_eq!(m.get(&("12".to_string(), 3)).map(String::as_str), Some("PENDING"));
        assert_eq!(m.len(), 2);
    }
}
