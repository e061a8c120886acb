//! `hls-gen compile`: lowers a model, simulates test vectors, emits the Vitis HLS project with its
//! testbench data, and prints and writes the estimate. The project directory appears complete or
//! not at all.

use std::path::{Path, PathBuf};

use super::{npy, print_runs, sim::run_with_progress, CliError, ModelArgs, TargetArgs};
use crate::backend::vitis::{self, IoType, TestbenchData, VitisOptions};
use crate::backend::Project;
use crate::estimate::{self, report};
use crate::flow::load_and_lower;
use crate::ir::Graph;
use crate::sim::Simulator;
use crate::testvec;

pub(super) struct CompileArgs<'a> {
    pub output: Option<&'a PathBuf>,
    pub project_name: Option<&'a str>,
    pub tb_input: Option<&'a PathBuf>,
    pub tb_samples: usize,
    pub force: bool,
    pub reuse_factor: Option<usize>,
}

/// Testbench vectors: the inputs (from a file or generated) and the simulator's exact outputs.
pub(super) fn testbench(
    g: &Graph,
    tb_input: Option<&Path>,
    samples: usize,
) -> Result<TestbenchData, CliError> {
    let sim = Simulator::new(g)?;
    let elements = sim.input_elements();
    let input_ty = g
        .inputs()
        .first()
        .and_then(|&i| g.node(i).ty)
        .ok_or_else(|| CliError::msg("the model's input has no type"))?;
    let (inputs, n) = match tb_input {
        Some(p) => {
            let a = npy::read(p)?;
            let n = npy::samples(&a, elements, p)?;
            (a.data, n)
        }
        None => (testvec::generate_inputs(&input_ty, elements, samples), samples),
    };
    let result = run_with_progress(&sim, &inputs, n, false)?;
    let input_lines = testvec::input_lines(&inputs, elements, &input_ty)?;
    let mut expected = vec![Vec::new(); n];
    for out in &result.outputs {
        let ty = out.ty.ok_or_else(|| CliError::msg(format!("output '{}' has no type", out.name)))?;
        let per = out.shape.elements();
        for (s, row) in out.raw.chunks(per).enumerate() {
            expected[s].extend(row.iter().map(|&r| testvec::decimal(r, &ty)));
        }
    }
    Ok(TestbenchData { inputs: input_lines, expected })
}

pub(super) fn run(args: &ModelArgs, target: &TargetArgs, c: &CompileArgs<'_>) -> Result<i32, CliError> {
    let part = estimate::lookup_part(&target.part)?;
    let lowered = load_and_lower(&args.model, &args.flow(c.reuse_factor), "default")?;
    print_runs(&lowered.runs);
    let g = &lowered.graph;
    let stem = args.model.file_stem().and_then(|s| s.to_str()).unwrap_or("model").to_string();
    let dir = c.output.cloned().unwrap_or_else(|| PathBuf::from(format!("{stem}_hls")));
    let project_name = c.project_name.unwrap_or("myproject").to_string();
    let est = estimate::estimate(g, &part, target.clock_period)?;
    let tb = testbench(g, c.tb_input.map(|p| p.as_path()), c.tb_samples)?;
    let opts = VitisOptions {
        project_name,
        part: part.name.clone(),
        clock_period_ns: target.clock_period,
        io_type: IoType::Parallel,
    };
    let mut project: Project = vitis::emit(g, &opts, &tb)?;
    project.add("report.json", report::to_json(&est))?;
    project.add("report.md", report::to_markdown(&est))?;
    project.write(&dir, c.force)?;
    print!("{}", report::to_text(&est));
    for w in &est.warnings {
        eprintln!("warning: {w}");
    }
    println!(
        "wrote {} ({} files, {} test vectors); check it with: hls-gen csim {}",
        dir.display(),
        project.files().len(),
        tb.inputs.len(),
        dir.display()
    );
    Ok(0)
}
