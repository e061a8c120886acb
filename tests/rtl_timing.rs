//! The RTL timing model (`arch::timing`, `compile --backend rtl --clock-period NS`):
//!
//! * Yosys check: the small binarized QONNX MLP (`tests/models/onnx/bnn_qonnx.onnx`, about 2,200
//!   LUTs) compiled for a 5 ns clock on xcvu9p and synthesized by `hls-gen synth`: the longest
//!   register-to-register path Yosys finds (`ltp` on the netlist without its flip-flops),
//!   converted to ns with the model's own cell delays, is at most the model's critical stage and
//!   at least 40 % of it (the model may be pessimistic where logic synthesis merges the carries of
//!   successive adders or folds small adders into LUTs, but not wildly so);
//! * Verilator check: a design whose registers were placed for a 2.5 ns clock (more stages than
//!   one per layer) is bit-exact with the simulator with the latency the model reports;
//! * the options: `--clock-period` and `--pipeline-stages` together are refused with a message
//!   naming both.
//!
//! Without `yosys` or `verilator` on the PATH the checks that need them print a notice and pass,
//! except under `CI`.

mod common;

use std::path::Path;
use std::process::Command;

use common::bin::{hls_gen, root, text};
use hls_gen::backend::verilator::run_rtlsim;
use hls_gen::flow::{self, BackendChoice, CompileOptions, FlowOptions};

fn have(tool: &str) -> bool {
    let found = Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success())
        || Command::new(tool).arg("-V").output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var_os("CI").is_none(), "{tool} is required in CI");
        eprintln!("notice: {tool} not found; skipping");
    }
    found
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn yosys_longest_path_is_within_the_model_estimate_at_5_ns() {
    if !have("yosys") {
        return;
    }
    let start = std::time::Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("prj");
    let model = root().join("tests/models/onnx/bnn_qonnx.onnx");
    let (m, d) = (model.to_str().unwrap(), dir.to_str().unwrap());
    let args = [
        "compile",
        m,
        "--part",
        "xcvu9p",
        "--backend",
        "rtl",
        "--clock-period",
        "5",
        "--tb-samples",
        "10",
        "-o",
        d,
    ];
    let o = hls_gen(&args);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("timing model (xcup): meets the 5 ns target"), "{}", text(&o));
    let o = hls_gen(&["synth", d]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    println!("{out}");
    assert!(out.contains("longest register-to-register path (yosys ltp") && out.contains("measured / model"));

    let report = json(&dir.join("report.json"));
    let model_ns = report["timing"]["critical"]["delay_ns"].as_f64().expect("timing in report.json");
    let util = json(&dir.join("synth/utilization.json"));
    let lp: hls_gen::synth::ltp::LongestPath = serde_json::from_value(util["longest_path"].clone()).unwrap();
    let measured_ns = lp.path.delay(&hls_gen::estimate::coeffs::CELL_DELAYS_ULTRASCALE_PLUS);
    println!(
        "bnn_qonnx at 5 ns: Yosys longest path {lp:?} = {measured_ns:.2} ns; model {model_ns:.2} ns ({:.0} s)",
        start.elapsed().as_secs_f64()
    );
    assert!(lp.path.luts > 0 && lp.path.carry_bits > 0, "{lp:?}");
    assert!(model_ns <= 5.0, "the model's critical stage {model_ns} ns misses 5 ns");
    assert!(measured_ns <= model_ns, "Yosys path {measured_ns:.2} ns exceeds the model's {model_ns:.2} ns");
    assert!(
        measured_ns >= 0.4 * model_ns,
        "Yosys path {measured_ns:.2} ns under 40 % of the model's {model_ns:.2} ns"
    );
}

#[test]
fn a_design_placed_for_a_short_period_is_bit_exact_with_the_model_latency() {
    if !have("verilator") {
        return;
    }
    let model = root().join("tests/models/onnx/mlp_qdq.onnx");
    let opts = CompileOptions {
        part: "xcvu9p",
        clock_ns: 2.5,
        project_name: "timed",
        tb_inputs: None,
        tb_samples: 300,
        backend: BackendChoice::RtlClocked,
        drop_output_softmax: false,
        io_type: None,
        hls_tool: None,
        fifo_depth: Default::default(),
        edge_parallelism: None,
    };
    let compiled = flow::compile(&model, &FlowOptions::default(), &opts).unwrap();
    let timing = compiled.estimate.timing.clone().expect("the RTL estimate has its timing");
    assert_eq!(timing.latency_cycles, compiled.estimate.total.latency_cycles);
    let dense_stages = timing.stages.iter().filter(|s| s.adder_levels > 0).count();
    let g = &compiled.lowered.graph;
    let dense_layers =
        g.topo_order().unwrap().into_iter().filter(|&id| g.node(id).layer.kind() == "dense").count();
    assert!(
        dense_stages > 2 * dense_layers,
        "{dense_stages} dense stages for {dense_layers} layers at 2.5 ns"
    );
    for s in timing.stages.iter().filter(|s| s.adder_levels > 1) {
        assert!(s.delay_ns <= 2.5, "{s:?}");
    }
    let dir = tempfile::tempdir().unwrap();
    compiled.project.write(dir.path(), true).unwrap();
    let outcome = run_rtlsim(dir.path()).unwrap();
    assert!(outcome.passed, "{}", outcome.output);
    assert_eq!(outcome.mismatches, Some(0));
    assert_eq!(outcome.latency, Some(timing.latency_cycles), "measured latency");
    assert_eq!(outcome.ii, Some(1));
}

#[test]
fn clock_period_and_pipeline_stages_together_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("p");
    let model = root().join("tests/models/onnx/mlp_qdq.onnx");
    let o = hls_gen(&[
        "compile",
        model.to_str().unwrap(),
        "--part",
        "xcvu9p",
        "--backend",
        "rtl",
        "--clock-period",
        "5",
        "--pipeline-stages",
        "2",
        "-o",
        d.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let msg = text(&o);
    assert!(
        msg.contains("--pipeline-stages") && msg.contains("--clock-period") && !msg.contains("panicked"),
        "{msg}"
    );
    assert!(!d.exists());
}

/// Registers placed by stage count, not for the clock: when the critical stage is slower than the
/// clock the totals are given at, a warning says what the design reaches and how to place them.
#[test]
fn a_design_slower_than_the_clock_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let model = root().join("tests/models/onnx/mlp_float.onnx");
    let compile = |extra: &[&str], quiet: bool| {
        let d = tmp.path().join(format!("p{}", extra.len()));
        let mut args =
            vec!["compile", model.to_str().unwrap(), "--part", "xcvu9p", "--backend", "rtl", "--force"];
        if quiet {
            args.push("-q");
        }
        args.extend_from_slice(extra);
        args.extend_from_slice(&["-o", d.to_str().unwrap()]);
        let o = hls_gen(&args);
        assert!(o.status.success(), "{}", text(&o));
        text(&o)
    };
    for quiet in [false, true] {
        let msg = compile(&[], quiet);
        assert!(msg.contains("more than the 5 ns clock of the totals"), "{msg}");
        assert!(
            msg.contains("--clock-period 5 places registers for that clock inside the layers it can split"),
            "{msg}"
        );
    }
    let msg = compile(&["--clock-period", "5"], false);
    assert!(!msg.contains("clock of the totals"), "{msg}");
}

/// A time-multiplexed layer's stage is in the timing report: its last phase, through the shared
/// multiplier (a DSP), the adder tree over its `n_in / R` slots and the accumulator's adder.
#[test]
fn reused_layers_have_a_stage_through_their_multiplier() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("rf2");
    let (m, dir) = (root().join("tests/models/onnx/mlp_qdq.onnx"), d.to_str().unwrap());
    let m = m.to_str().unwrap();
    let o = hls_gen(&[
        "compile",
        m,
        "--part",
        "xcvu9p",
        "--backend",
        "rtl",
        "--reuse-factor",
        "2",
        "-o",
        dir,
        "-q",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let timing = json(&d.join("report.json"))["timing"].clone();
    let stages = timing["stages"].as_array().unwrap();
    let dense: Vec<_> = stages.iter().filter(|s| s["path"]["dsp"] == 1).collect();
    // 16, 32 and 16 inputs at R = 2: 8, 16 and 8 slots, so 3, 4 and 3 tree levels, plus the
    // accumulator.
    let levels: Vec<_> = dense.iter().map(|s| s["adder_levels"].as_u64().unwrap()).collect();
    assert_eq!(levels, [4, 5, 4], "{stages:?}");
    assert!(dense.iter().all(|s| s["layer"].as_str().unwrap().ends_with("MatMul_quant")));
    assert_eq!(timing["critical"], *dense[1], "the widest reused layer is the slowest stage");
}
