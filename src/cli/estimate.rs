//! `hls-gen estimate`: the estimator's report without writing a project, or one summary row per
//! reuse factor when several are given.

use super::{print_runs, print_warnings, CliError, ModelArgs, TargetArgs};
use crate::estimate::{self, report};
use crate::flow::load_and_lower;

pub(super) fn run(args: &ModelArgs, target: &TargetArgs, json: bool) -> Result<i32, CliError> {
    let cfg = args.flow_with(None)?.config()?;
    let t = target.resolve(&cfg)?;
    let part = estimate::lookup_part(&t.part)?;
    let reuse = &args.reuse_factor;
    let factors: Vec<Option<usize>> =
        if reuse.is_empty() { vec![None] } else { reuse.iter().map(|&r| Some(r)).collect() };
    let estimate = |g: &crate::ir::LoweredGraph| t.estimate(g, &part);
    if factors.len() == 1 {
        let lowered = load_and_lower(&args.model, &args.flow_with(factors[0])?)?;
        print_warnings(&cfg, &lowered.warnings);
        print_runs(&lowered.runs);
        let est = estimate(&lowered.graph)?;
        if json {
            println!("{}", report::to_json(&est));
        } else {
            print!("{}", report::to_text(&est));
        }
        return Ok(0);
    }
    // One row per reuse factor: a factor some layer cannot take gives its row the error, not the run.
    let mut rows = Vec::new();
    for (i, rf) in factors.into_iter().enumerate() {
        let row =
            load_and_lower(&args.model, &args.flow_with(rf)?).map_err(CliError::from).and_then(|lowered| {
                if i == 0 {
                    print_warnings(&cfg, &lowered.warnings);
                }
                Ok(estimate(&lowered.graph)?)
            });
        rows.push((rf.unwrap_or(1), row));
    }
    if rows.iter().all(|(_, r)| r.is_err()) {
        return Err(rows
            .into_iter()
            .find_map(|(_, r)| r.err())
            .unwrap_or_else(|| CliError::msg("no reuse factor")));
    }
    if json {
        let items: Vec<String> = rows
            .iter()
            .map(|(rf, r)| match r {
                Ok(e) => report::to_json(e),
                Err(err) => serde_json::json!({ "reuse_factor": rf, "error": err.0 }).to_string(),
            })
            .collect();
        println!("[{}]", items.join(",\n"));
        return Ok(0);
    }
    println!(
        "{} at {} ns on {} ({} csynth prediction)",
        args.model.display(),
        t.clock_ns,
        part.name,
        t.tool.name()
    );
    println!(
        "{:>6} {:>8} {:>10} {:>6} {:>8} {:>10} {:>10} {:>7}",
        "reuse", "latency", "latency_ns", "II", "DSP", "LUT", "FF", "BRAM18"
    );
    let mut rough = false;
    for (rf, row) in &rows {
        match row {
            Ok(e) => {
                let t = &e.total;
                let m = if report::uncalibrated_note(e).is_some() { "~" } else { "" };
                rough |= !m.is_empty();
                let c = |v: u64| format!("{m}{v}");
                println!(
                    "{rf:>6} {:>8} {:>10.1} {:>6} {:>8} {:>10} {:>10} {:>7}",
                    c(t.latency_cycles),
                    t.latency_ns,
                    t.ii,
                    c(t.dsp),
                    c(t.lut),
                    c(t.ff),
                    c(t.bram18)
                );
            }
            Err(err) => println!("{rf:>6} {}", err.0),
        }
    }
    if rough {
        println!(
            "~ marks rows with layers no calibration point covers (`--reuse-factor N` alone lists them)"
        );
    }
    Ok(0)
}
