//! `hls-gen report DIR`: the synthesis reports of a project that Vitis/Vivado HLS built (csynth,
//! and Vivado's utilization when present) beside the estimate the project's `report.json` holds,
//! with the relative error of each quantity.
//!
//! `--json` prints one object (schema `hls-gen-report-comparison/1`): `estimate_file`,
//! `estimate_tool` (`vivado-hls` or `vitis-hls`, the tool the estimate assumed, or null),
//! `csynth_file`, `vivado_synth_file` (or null), `tool`, `part`, `clock_ns` (the report's, or
//! null) and `rows`, each `{quantity, stage, estimate, reference, rel_error}` where `stage` is
//! `hls-csynth` or `vivado-synth` and `rel_error` is `(estimate - reference) / reference`, null
//! when the reference is zero.

use std::path::Path;

use serde::Serialize;

use super::table;
use super::CliError;
use crate::estimate::synth_report::ComparisonRow;
use crate::estimate::{compare_totals, read_project, report, HlsTool};

#[derive(Serialize)]
struct JsonOut<'a> {
    schema: &'static str,
    estimate_file: String,
    estimate_tool: Option<&'static str>,
    csynth_file: &'a str,
    vivado_synth_file: Option<&'a str>,
    tool: Option<&'a str>,
    part: Option<&'a str>,
    clock_ns: Option<f64>,
    rows: &'a [ComparisonRow],
}

pub(super) fn run(dir: &Path, json: bool, hls_tool: Option<&str>) -> Result<i32, CliError> {
    if !dir.is_dir() {
        return Err(CliError::msg(format!("{}: not a project directory", dir.display())));
    }
    let est_path = dir.join("report.json");
    let est = report::read_json(&est_path)?;
    let rep = read_project(dir)?;
    let cmp = compare_totals(&est.total, est.after_synthesis.as_ref(), &rep);
    let reports_tool = match hls_tool {
        Some(t) => Some(t.parse::<HlsTool>().map_err(CliError::msg)?),
        None => rep.tool.as_deref().map(|t| {
            if t.starts_with("Vivado HLS") {
                HlsTool::VivadoHls
            } else {
                HlsTool::VitisHls
            }
        }),
    };
    if let (Some(assumed), Some(built)) = (est.tool, reports_tool) {
        if assumed != built {
            eprintln!(
                "warning: the estimate predicts {} but the reports come from {}: compile again with --hls-tool {}",
                assumed.name(),
                built.name(),
                if built == HlsTool::VivadoHls { "vivado" } else { "vitis" }
            );
        }
    }
    if json {
        let out = JsonOut {
            schema: "hls-gen-report-comparison/1",
            estimate_file: est_path.display().to_string(),
            estimate_tool: est.tool.map(HlsTool::name),
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
    let assumed = est.tool.map_or(String::new(), |t| format!(", {} csynth prediction", t.name()));
    println!("estimate: {} ({} at {} ns{assumed})", est_path.display(), est.part, est.clock_ns);
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
