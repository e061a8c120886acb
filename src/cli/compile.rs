//! `hls-gen compile`: lowers a model, simulates test vectors, emits the Vitis HLS project or the
//! RTL design with its testbench data, and prints and writes the estimate and `report.html` (the
//! profile of the testbench inputs with the estimate, [`crate::profile::html`]). The project
//! directory appears complete or not at all.

use std::path::{Path, PathBuf};

use super::{npz, print_runs, print_warnings, quiet, CliError, ModelArgs, TargetArgs};
use crate::estimate::report;
use crate::flow::{self, BackendChoice, CompileOptions};

pub(super) struct CompileArgs<'a> {
    pub output: Option<&'a PathBuf>,
    pub project_name: Option<&'a str>,
    pub tb_input: &'a [PathBuf],
    pub tb_samples: usize,
    pub force: bool,
    pub rtl: bool,
    pub pipeline_stages: Option<u32>,
    pub drop_output_softmax: bool,
}

pub(super) fn run(args: &ModelArgs, target: &TargetArgs, c: &CompileArgs<'_>) -> Result<i32, CliError> {
    let tb = npz::read_all(c.tb_input)?;
    if c.rtl && target.edge_parallelism.is_some() {
        return Err(CliError::msg(
            "--edge-parallelism builds a Vitis HLS design; the RTL backend builds the throughput form only",
        ));
    }
    let backend = match (c.rtl, c.pipeline_stages) {
        (true, Some(_)) if target.clock_period.is_some() => {
            return Err(CliError::msg(
                "--pipeline-stages and --clock-period both set the RTL pipeline: give --clock-period NS to place the registers for that clock, or --pipeline-stages N for N stages per dense layer, not both",
            ));
        }
        (true, None) if target.clock_period.is_some() => BackendChoice::RtlClocked,
        (true, stages) => BackendChoice::Rtl { pipeline_stages: stages.unwrap_or(1) },
        (false, None) => BackendChoice::Vitis,
        (false, Some(_)) => {
            return Err(CliError::msg("--pipeline-stages applies only to --backend rtl"));
        }
    };
    let flow_opts = args.flow()?;
    let cfg = flow_opts.config()?;
    let t = target.resolve(&cfg)?;
    let project_name = c.project_name.or(cfg.project_name.as_deref()).unwrap_or("myproject");
    let opts = CompileOptions {
        backend,
        drop_output_softmax: c.drop_output_softmax,
        part: &t.part,
        clock_ns: t.clock_ns,
        project_name,
        tb_inputs: (!tb.is_empty()).then_some(&tb[..]),
        tb_samples: c.tb_samples,
        io_type: Some(t.io),
        hls_tool: Some(t.tool),
        fifo_depth: t.fifo_depth,
        edge_parallelism: t.edge_parallelism,
    };
    let mut compiled = flow::compile(&args.model, &flow_opts, &opts)?;
    let page = report_page(&args.model, &compiled.profile);
    compiled.project.add("report.html", page)?;
    print_warnings(&cfg, &compiled.lowered.warnings);
    print_runs(&compiled.lowered.runs);
    let stem = args.model.file_stem().and_then(|s| s.to_str()).unwrap_or("model").to_string();
    let dir =
        c.output.or(cfg.output_dir.as_ref()).cloned().unwrap_or_else(|| PathBuf::from(format!("{stem}_hls")));
    let inputs = [Some(args.model.as_path()), args.weights.as_deref(), args.config.as_deref()];
    refuse_inputs_inside(&dir, inputs.into_iter().flatten().chain(c.tb_input.iter().map(PathBuf::as_path)))?;
    compiled.project.write(&dir, c.force)?;
    if quiet() {
        for w in &compiled.estimate.warnings {
            eprintln!("warning: {w}");
        }
        if let Some(w) = report::timing_warning(&compiled.estimate) {
            eprintln!("warning: {w}");
        }
        return Ok(0);
    }
    print!("{}", report::to_text(&compiled.estimate));
    if !c.rtl && t.tool == crate::estimate::HlsTool::VivadoHls {
        println!(
            "note: the project builds with Vitis HLS only (build_prj.tcl says why); choosing Vivado HLS \
             (--hls-tool, or the configuration's Backend) changes only the estimate above, which predicts \
             Vivado HLS's C synthesis report"
        );
    }
    let check = if c.rtl { "rtlsim" } else { "csim" };
    println!(
        "wrote {} ({} files, {} test vectors); check it with: hls-gen {check} {}",
        dir.display(),
        compiled.project.files().len(),
        compiled.tb_samples,
        dir.display()
    );
    Ok(0)
}

/// The project's `report.html`: the profile of the lowered model on the testbench inputs (given or
/// generated) with the estimate's per-layer costs.
fn report_page(model: &std::path::Path, profile: &crate::profile::Profile) -> String {
    let name = model.display();
    crate::profile::html::render(profile, &format!("hls-gen report: {name} on the testbench inputs"))
}

/// Errors when one of `inputs` lies inside the existing directory `dir`, which writing the
/// project would replace.
fn refuse_inputs_inside<'p>(dir: &Path, inputs: impl Iterator<Item = &'p Path>) -> Result<(), CliError> {
    let Ok(dir_full) = std::fs::canonicalize(dir) else { return Ok(()) };
    for input in inputs {
        if std::fs::canonicalize(input).is_ok_and(|p| p.starts_with(&dir_full)) {
            return Err(CliError::msg(format!(
                "'{}' lies inside the output directory '{}', which the project would replace: choose another -o",
                input.display(),
                dir.display()
            )));
        }
    }
    Ok(())
}
