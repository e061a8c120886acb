//! `hls-gen report DIR`: the synthesis reports of a project that Vitis/Vivado HLS built (csynth,
//! and Vivado's utilization when present) beside the estimate the project's `report.json` holds,
//! with the relative error of each quantity.
//!
//! `--json` prints one object (schema `hls-gen-report-comparison/1`): `estimate_file`,
//! `csynth_file`, `vivado_synth_file` (or null), `tool`, `part`, `clock_ns` (the report's, or
//! null) and `rows`, each `{quantity, stage, estimate, reference, rel_error}` where `stage` is
//! `hls-csynth` or `vivado-synth` and `rel_error` is `(estimate - reference) / reference`, null
//! when the reference is zero.

use std::path::Path;

use serde::Serialize;

use super::table;
use super::CliError;
use crate::estimate::synth_report::ComparisonRow;
use crate::estimate::{compare_totals, read_project, report};

#[derive(Serialize)]
struct JsonOut<'a> {
    schema: &'static str,
    estimate_file: String,
    csynth_file: &'a str,
    vivado_synth_file: Option<&'a str>,
    tool: Option<&'a str>,
    part: Option<&'a str>,
    clock_ns: Option<f64>,
    rows: &'a [ComparisonRow],
}

pub(super) fn run(dir: &Path, json: bool) -> Result<i32, CliError> {
    if !dir.is_dir() {
        return Err(CliError::msg(format!("{}: not a project directory", dir.display())));
    }
    let est_path = dir.join("report.json");
    let est = report::read_json(&est_path)?;
    let rep = read_project(dir)?;
    let cmp = compare_totals(&est.total, &rep);
    if json {
        let out = JsonOut {
            schema: "hls-gen-report-comparison/1",
            estimate_file: est_path.display().to_string(),
            csynth_file: &rep.csynth_file,
            vivado_synth_file: rep.vivado_synth_file.as_deref(),
            tool: rep.tool.as_deref(),
            part: rep.part.as_deref(),
            clock_ns: rep.clock_ns,
            rows: &cmp.rows,
        };
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(0);
    }
    println!("estimate: {} ({} at {} ns)", est_path.display(), est.part, est.clock_ns);
    let tool = rep.tool.as_deref().unwrap_or("unknown tool");
    let part = rep.part.as_deref().unwrap_or("unknown part");
    let clock = rep.clock_ns.map_or_else(|| "unknown clock".to_string(), |c| format!("{c} ns"));
    println!("csynth:   {} ({tool}, {part} at {clock})", rep.csynth_file);
    if let Some(v) = &rep.vivado_synth_file {
        println!("vivado:   {v}");
    }
    let canonical = |p: &str| p.to_ascii_lowercase().replace('-', "");
    if rep.part.as_deref().is_some_and(|p| canonical(p) != canonical(&est.part)) {
        eprintln!("warning: the estimate is for {} but the report for {part}", est.part);
    }
    print!("{}", table::comparison(&cmp.rows, &[]));
    Ok(0)
}
