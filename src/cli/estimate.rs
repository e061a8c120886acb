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
    let mut rows = Vec::new();
    for (i, rf) in factors.into_iter().enumerate() {
        let lowered = load_and_lower(&args.model, &args.flow_with(rf)?)?;
        if i == 0 {
            print_warnings(&cfg, &lowered.warnings);
        }
        let est = estimate(&lowered.graph)?;
        rows.push((rf.unwrap_or(1), est));
    }
    if json {
        let items: Vec<String> = rows.iter().map(|(_, e)| report::to_json(e)).collect();
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
    for (rf, e) in &rows {
        let t = &e.total;
        println!(
            "{rf:>6} {:>8} {:>10.1} {:>6} {:>8} {:>10} {:>10} {:>7}",
            t.latency_cycles, t.latency_ns, t.ii, t.dsp, t.lut, t.ff, t.bram18
        );
    }
    Ok(0)
}
