//! Binary and ternary networks through every executor: QONNX `BipolarQuant` activations, QKeras
//! `binary`/`stochastic_binary`/`ternary`/`quantized_bits(1|2)` quantizers and `binary_tanh`/
//! `ternary_tanh`, and BinaryNet's `BinaryDense`/`TernaryDense` layers (see `ir::Step` and the
//! frontends' docs for the rules).
//!
//! Each committed model (built by `scripts/make_onnx_models.py` and
//! `scripts/make_qkeras_models.py`) is checked three ways: the bit-accurate simulator equals the
//! reference its tool recorded (the qonnx executor, QKeras) bit for bit on the committed inputs;
//! the g++ C-simulation of the Vitis HLS project equals the simulator; the RTL backend's Verilog
//! under Verilator equals the simulator with the promised latency. The estimate of a binary Dense
//! uses no DSP. Without g++/ap_types or verilator those parts print a notice and pass (except
//! under `CI`); the check of `../shared/models` is skipped when that directory is absent.

mod common;

use std::path::{Path, PathBuf};

use common::bin::root;
use common::{have_verilator, npy};
use hls_gen::backend::verilator::run_rtlsim;
use hls_gen::backend::vitis::{run_csim, CppStd};
use hls_gen::config::IoStyle;
use hls_gen::flow::{self, load_and_lower, BackendChoice, CompileOptions, FlowOptions};
use hls_gen::sim::{RunOptions, Simulator};

const SAMPLES: usize = 1000;

/// Flow options for a model file: a `.json` architecture reads `<stem>_weights.h5` beside it.
fn flow_options(model: &Path) -> FlowOptions {
    let mut opts = FlowOptions::default();
    if model.extension().is_some_and(|e| e == "json") {
        let stem = model.file_stem().unwrap().to_string_lossy().into_owned();
        opts.weights = Some(model.with_file_name(format!("{stem}_weights.h5")));
    }
    opts
}

/// The simulator's first output on `inputs` (rows of the model's own layout).
fn simulate(model: &Path, inputs: (Vec<usize>, Vec<f64>)) -> Vec<f64> {
    let g = load_and_lower(model, &flow_options(model))
        .unwrap_or_else(|e| panic!("{}: {e}", model.display()))
        .graph;
    let arrays =
        vec![flow::InputArray { source: "inputs.npy".into(), key: None, shape: inputs.0, values: inputs.1 }];
    let (rows, n) = flow::join_inputs(&g, &arrays).expect("inputs fit the model");
    let out = Simulator::new(&g).expect("simulator").run(&rows, n, &RunOptions::default()).expect("runs");
    let out = out.outputs.into_iter().next().expect("one output");
    common::in_model_layout(&g, out)
}

/// The simulator equals the tool's reference `golden/reference/<name>/<file>` bit for bit.
fn matches_reference(model: &Path, name: &str, file: &str) {
    let dir = root().join("golden/reference").join(name);
    let expected = npy(&dir.join(file)).1;
    let got = simulate(model, npy(&dir.join("inputs.npy")));
    assert_eq!(got.len(), expected.len(), "{name}");
    let diff: Vec<usize> = (0..got.len()).filter(|&i| got[i] != expected[i]).collect();
    assert!(
        diff.is_empty(),
        "{name}: {} of {} values differ from {file}; first at {}: {} vs {}",
        diff.len(),
        got.len(),
        diff[0],
        got[diff[0]],
        expected[diff[0]]
    );
}

fn compile(model: &Path, backend: BackendChoice) -> flow::Compiled {
    let opts = CompileOptions {
        part: "xcvu9p",
        clock_ns: 5.0,
        project_name: "myproject",
        tb_inputs: None,
        tb_samples: SAMPLES,
        backend,
        drop_output_softmax: false,
        io_type: Some(IoStyle::Parallel),
        fifo_depth: Default::default(),
        edge_parallelism: None,
        hls_tool: None,
    };
    flow::compile(model, &flow_options(model), &opts).unwrap_or_else(|e| panic!("{}: {e}", model.display()))
}

/// g++ C-simulation of the emitted project equals the simulator on the generated vectors.
fn csim_matches_simulator(model: &Path) {
    let Some(ap_types) = common::ap_types() else { return };
    let compiled = compile(model, BackendChoice::Vitis);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("prj");
    compiled.project.write(&dest, false).unwrap();
    let outcome = run_csim(&dest, &ap_types, CppStd::Cpp14).expect("csim runs");
    assert!(outcome.passed, "{}: csim failed:\n{}", model.display(), outcome.output);
    assert_eq!(outcome.samples, Some(SAMPLES));
}

/// The RTL backend's Verilog under Verilator equals the simulator, with the promised latency.
fn rtl_matches_simulator(model: &Path) {
    if !have_verilator() {
        return;
    }
    let compiled = compile(model, BackendChoice::Rtl { pipeline_stages: 1 });
    let latency = hls_gen::arch::rtl::schedule(&compiled.lowered.graph, 1).unwrap().latency;
    let dir = tempfile::tempdir().unwrap();
    compiled.project.write(dir.path(), true).unwrap();
    let outcome = run_rtlsim(dir.path()).unwrap_or_else(|e| panic!("{}: {e}", model.display()));
    assert!(outcome.passed, "{}:\n{}", model.display(), outcome.output);
    assert_eq!(outcome.samples, Some(SAMPLES));
    assert_eq!(outcome.mismatches, Some(0));
    assert_eq!(outcome.latency, Some(latency));
    assert_eq!(outcome.ii, Some(1));
}

/// Every Dense of the model whose weights are all in {-1, 0, +1} (times one scale) is estimated
/// with no DSP.
fn binary_dense_uses_no_dsp(model: &Path) {
    let compiled = compile(model, BackendChoice::Vitis);
    let g = &compiled.lowered.graph;
    let mut seen = 0;
    for layer in &compiled.estimate.layers {
        let id = g.node_ids().into_iter().find(|&i| g.node(i).name == layer.name).expect("estimated node");
        if let hls_gen::ir::Layer::Dense(d) = &g.node(id).layer {
            let m = d.weights.values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            if d.weights.values.iter().all(|v| v.abs() == m || *v == 0.0) {
                assert_eq!(layer.dsp, 0, "{}: binary Dense '{}'", model.display(), layer.name);
                seen += 1;
            }
        }
    }
    assert!(seen > 0, "{}: no binary Dense", model.display());
}

fn onnx(name: &str) -> PathBuf {
    root().join("tests/models/onnx").join(format!("{name}.onnx"))
}

#[test]
fn bipolar_quant_mlp_matches_the_qonnx_executor() {
    matches_reference(&onnx("bnn_qonnx"), "bnn_qonnx", "expected_qonnx.npy");
}

#[test]
fn bipolar_quant_mlp_csim() {
    csim_matches_simulator(&onnx("bnn_qonnx"));
}

#[test]
fn bipolar_quant_mlp_rtl() {
    rtl_matches_simulator(&onnx("bnn_qonnx"));
}

#[test]
fn bipolar_quant_mlp_costs_no_dsp() {
    binary_dense_uses_no_dsp(&onnx("bnn_qonnx"));
}

fn keras(file: &str) -> PathBuf {
    root().join("tests/models/keras").join(file)
}

#[test]
fn qkeras_binary_ternary_quantizers_match_qkeras() {
    matches_reference(&keras("qkeras_bnn.h5"), "qkeras_bnn", "expected_float.npy");
    matches_reference(&keras("qkeras_bnn.json"), "qkeras_bnn", "expected_float.npy");
}

#[test]
fn qkeras_binary_ternary_quantizers_csim() {
    csim_matches_simulator(&keras("qkeras_bnn.h5"));
}

#[test]
fn qkeras_binary_ternary_quantizers_rtl() {
    rtl_matches_simulator(&keras("qkeras_bnn.h5"));
}

#[test]
fn qkeras_binary_dense_costs_no_dsp() {
    binary_dense_uses_no_dsp(&keras("qkeras_bnn.h5"));
}

#[test]
fn binarynet_layers_match_their_keras_definition() {
    matches_reference(&keras("keras_binarynet.json"), "keras_binarynet", "expected_float.npy");
}

#[test]
fn binarynet_layers_csim() {
    csim_matches_simulator(&keras("keras_binarynet.json"));
}

#[test]
fn binarynet_layers_rtl() {
    rtl_matches_simulator(&keras("keras_binarynet.json"));
}

#[test]
fn binarynet_dense_costs_no_dsp() {
    binary_dense_uses_no_dsp(&keras("keras_binarynet.json"));
}

/// The binary and ternary models of `../shared/models` (skipped when absent) against the
/// references `scripts/make_shared_references.py bnn-onnx|bnn-keras` recorded: the Brevitas
/// `BipolarQuant` model bit for bit; the BinaryNet jet models, whose batch norms the default
/// lowering computes with 32-bit constants on `ap_fixed<16,6>` inputs, to 1e-4 relative on every
/// output of at least 97 of 100 samples (a sample whose batch-norm output lies within that
/// rounding of a threshold flips one activation).
#[test]
fn shared_binary_and_ternary_models() {
    let shared = root().join("../shared/models");
    if !shared.is_dir() {
        eprintln!("notice: ../shared/models is absent; skipping");
        return;
    }
    matches_reference(
        &shared.join("onnx/bnn_model_fc_1layer.onnx"),
        "shared_bnn_model_fc_1layer",
        "expected_float.npy",
    );
    for name in ["KERAS_3layer_binary_smaller", "KERAS_3layer_ternary_small"] {
        let dir = root().join("golden/reference").join(format!("shared_{name}"));
        let (shape, expected) = npy(&dir.join("expected_float.npy"));
        let got = simulate(&shared.join(format!("keras/{name}.json")), npy(&dir.join("inputs.npy")));
        let k = shape[1];
        let close = got
            .chunks(k)
            .zip(expected.chunks(k))
            .filter(|(g, e)| g.iter().zip(*e).all(|(g, e)| (g - e).abs() <= 1e-4 * e.abs().max(1.0)))
            .count();
        eprintln!("{name}: {close} of {} samples match TensorFlow", shape[0]);
        assert!(close >= 97, "{name}: only {close} of {} samples match TensorFlow", shape[0]);
    }
}
