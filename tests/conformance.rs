//! One conformance suite, several executors: every committed model (one with two model inputs)
//! runs through the float
//! reference (onnxruntime / QKeras / the qonnx executor, outputs committed under
//! `golden/reference/`), the simulator's f64 mode, the bit-accurate simulator, and the g++
//! C-simulation of the emitted Vitis HLS project.
//!
//! Tolerances are explicit: the f64 mode matches onnxruntime to 1e-5 relative (relative to the
//! larger of the value and the sample's largest output, since onnxruntime computes in float32 and
//! an output near zero from cancellation carries the float32 error of its terms); fully quantized
//! models (QONNX, QDQ) match their exact references bit for bit; the default `ap_fixed<16,6>`
//! lowering of float models agrees with the float argmax on at least 99 % of standard-normal
//! inputs; C-simulation equals the simulator bit for bit.

mod common;

use std::path::{Path, PathBuf};

use hls_gen::backend::vitis::{run_csim, CppStd};
use hls_gen::config::IoStyle;
use hls_gen::flow::{self, load_and_lower, CompileOptions, FlowOptions};
use hls_gen::ir::Graph;
use hls_gen::sim::{RunOptions, Simulator};
use hls_gen::testvec;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn npy(path: &Path) -> (Vec<usize>, Vec<f64>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let f = npyz::NpyFile::new(&bytes[..]).expect("npy header");
    let shape = f.shape().iter().map(|&d| d as usize).collect();
    (shape, f.into_vec::<f64>().expect("float64 data"))
}

struct Reference {
    /// One array per model input, in the model's own layout.
    inputs: Vec<flow::InputArray>,
    expected: Vec<f64>,
    out_per_sample: usize,
}

/// A model's committed reference: `inputs.npy` (and `inputs_1.npy`, ... for more model inputs)
/// and the expected outputs in `file`, all in the model's own layout (NCHW for ONNX CNNs).
fn reference(model: &str, file: &str) -> Reference {
    let dir = root().join("golden/reference").join(model);
    let mut inputs = Vec::new();
    let mut path = dir.join("inputs.npy");
    while path.is_file() {
        let (shape, values) = npy(&path);
        inputs.push(flow::InputArray { source: path.display().to_string(), key: None, shape, values });
        path = dir.join(format!("inputs_{}.npy", inputs.len()));
    }
    let (oshape, expected) = npy(&dir.join(file));
    Reference { inputs, out_per_sample: oshape[1..].iter().product(), expected }
}

/// The model's first output on the reference inputs, in the model's own layout.
fn run(model: &Path, pipeline: &str, r: &Reference) -> Vec<f64> {
    let opts = FlowOptions::default();
    let (sim, g) = if pipeline == "float" {
        let g = flow::load_float(model, &opts).expect("lowers").graph;
        (Simulator::new_float(&g), Graph::clone(&g))
    } else {
        let g = load_and_lower(model, &opts).expect("lowers").graph;
        (Simulator::new(&g), Graph::clone(&g))
    };
    let (rows, n) = flow::join_inputs(&g, &r.inputs).expect("inputs fit the model");
    let out = sim.expect("simulator").run(&rows, n, &RunOptions::default()).expect("runs");
    let out = out.outputs.into_iter().next().expect("one output");
    common::in_model_layout(&g, out)
}

fn argmax(row: &[f64]) -> usize {
    row.iter().enumerate().fold(0, |best, (i, &v)| if v > row[best] { i } else { best })
}

const FLOAT_ONNX: &[&str] = &[
    "mlp_float",
    "mlp_gemm_bn",
    "mlp_opset7",
    "ops_zoo_op11",
    "ops_zoo_op13",
    "mlp_big",
    "merge_two_inputs",
    "ae_mse",
    "ae_plain",
    "vae_encoder_l2",
    "vae_encoder_plain",
];

#[test]
fn float_mode_matches_onnxruntime() {
    for model in FLOAT_ONNX {
        let r = reference(model, "expected_float.npy");
        let got = run(&root().join(format!("tests/models/onnx/{model}.onnx")), "float", &r);
        assert_eq!(got.len(), r.expected.len(), "{model}");
        let k = r.out_per_sample;
        for (s, (g_row, e_row)) in got.chunks(k).zip(r.expected.chunks(k)).enumerate() {
            let scale = e_row.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            for (i, (g, e)) in g_row.iter().zip(e_row).enumerate() {
                let tol = 1e-5 * e.abs().max(scale);
                assert!((g - e).abs() <= tol, "{model}: sample {s} value {i}: f64 mode {g}, onnxruntime {e}");
            }
        }
    }
}

#[test]
fn quantized_onnx_models_match_their_exact_references() {
    for (model, file) in [
        ("mlp_qonnx", "expected_qonnx.npy"),
        ("mlp_qonnx_bipolar", "expected_qonnx.npy"),
        ("mlp_qdq", "expected_float.npy"),
        ("cnn_qonnx", "expected_qonnx.npy"),
        ("cnn_qdq", "expected_float.npy"),
    ] {
        let r = reference(model, file);
        let got = run(&root().join(format!("tests/models/onnx/{model}.onnx")), "default", &r);
        let diff = got.iter().zip(&r.expected).filter(|(g, e)| g != e).count();
        assert_eq!(diff, 0, "{model}: {diff} of {} values differ from the exact reference", got.len());
    }
}

/// Argmax agreement (or, for one output, agreement of the decision at 0.5) of the default
/// lowering with the f64 reference on 2,000 standard-normal inputs.
fn argmax_agreement(path: &Path) -> f64 {
    argmax_agreement_at(path, &FlowOptions::default())
}

fn argmax_agreement_at(path: &Path, opts: &FlowOptions) -> f64 {
    let lowered = load_and_lower(path, opts).expect("lowers");
    let float = flow::load_float(path, &FlowOptions::default()).expect("lowers");
    let sim = Simulator::new(&lowered.graph).unwrap();
    let reference = Simulator::new_float(&float.graph).unwrap();
    let n = 2000;
    let mut rng = common::Rng::new(7);
    let inputs: Vec<f64> = (0..n * sim.input_elements())
        .map(|_| {
            let u1 = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            let u2 = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            (-2.0 * u1.max(1e-300).ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
        })
        .collect();
    let a = &sim.run(&inputs, n, &RunOptions::default()).unwrap().outputs[0];
    let b = &reference.run(&inputs, n, &RunOptions::default()).unwrap().outputs[0];
    let k = a.shape.elements();
    let agree = if k == 1 {
        (0..n).filter(|&s| (a.values[s] > 0.5) == (b.values[s] > 0.5)).count()
    } else {
        (0..n).filter(|&s| argmax(&a.values[s * k..][..k]) == argmax(&b.values[s * k..][..k])).count()
    };
    let rate = agree as f64 / n as f64;
    println!("{}: {:.2}% agreement with the f64 reference", path.display(), 100.0 * rate);
    rate
}

#[test]
fn default_precision_keeps_the_float_argmax() {
    for model in ["mlp_float", "mlp_opset7", "mlp_big", "merge_two_inputs"] {
        let rate = argmax_agreement(&root().join(format!("tests/models/onnx/{model}.onnx")));
        assert!(rate >= 0.99, "{model}: argmax agreement {:.2}%", 100.0 * rate);
    }
}

#[test]
fn keras_float_mode_matches_keras() {
    for (file, model) in [
        ("keras_mlp.h5", "keras_mlp"),
        ("keras_mlp.keras", "keras_mlp"),
        ("keras_mlp.json", "keras_mlp"),
        ("keras_functional.h5", "keras_functional"),
        ("keras_two_inputs.h5", "keras_two_inputs"),
        ("keras_ae_score.h5", "keras_ae_score"),
        ("keras_encoder_l2.json", "keras_encoder_l2"),
    ] {
        let r = reference(model, "expected_float.npy");
        let got = run(&root().join("tests/models/keras").join(file), "float", &r);
        for (i, (g, e)) in got.iter().zip(&r.expected).enumerate() {
            // TensorFlow computes in float32.
            let tol = 1e-4 * e.abs().max(1e-2);
            assert!((g - e).abs() <= tol, "{file}: value {i}: f64 mode {g}, Keras {e}");
        }
    }
}

/// Compiles the model (simulating 1000 generated edge-case vectors) and runs the project's
/// C-simulation; also checks that those vectors really drive some layer into overflow.
fn csim_matches_simulator(model: &Path, samples: usize) {
    csim_matches_simulator_in(model, samples, IoStyle::Parallel);
}

/// [`csim_matches_simulator`] with the project built in `io`.
fn csim_matches_simulator_in(model: &Path, samples: usize, io: IoStyle) {
    let Some(ap_types) = common::ap_types() else { return };
    let opts = CompileOptions {
        part: "xcvu9p",
        clock_ns: 5.0,
        project_name: "myproject",
        tb_inputs: None,
        tb_samples: samples,
        backend: flow::BackendChoice::Vitis,
        drop_output_softmax: false,
        io_type: Some(io),
        hls_tool: None,
        fifo_depth: Default::default(),
        edge_parallelism: None,
    };
    let compiled = flow::compile(model, &FlowOptions::default(), &opts).expect("compiles");
    let g = &compiled.lowered.graph;
    let sim = Simulator::new(g).unwrap();
    let inputs = testvec::generate_inputs(&flow::input_ports(g).unwrap(), samples);
    let result = sim.run(&inputs, samples, &RunOptions::default()).unwrap();
    let overflowed: u64 = result.overflows.iter().map(|o| o.count).sum();
    assert!(overflowed > 0, "the edge-case vectors must make some layer saturate or wrap");
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("prj");
    compiled.project.write(&dest, false).unwrap();
    let outcome = run_csim(&dest, &ap_types, CppStd::Cpp14).expect("csim runs");
    assert!(outcome.passed, "{}: csim failed:\n{}", model.display(), outcome.output);
    assert_eq!(outcome.samples, Some(samples));
}

#[test]
fn csim_mlp_float() {
    csim_matches_simulator(&root().join("tests/models/onnx/mlp_float.onnx"), 1000);
}

#[test]
fn csim_mlp_gemm_bn() {
    csim_matches_simulator(&root().join("tests/models/onnx/mlp_gemm_bn.onnx"), 1000);
}

#[test]
fn csim_merge_two_inputs() {
    csim_matches_simulator(&root().join("tests/models/onnx/merge_two_inputs.onnx"), 1000);
}

#[test]
fn csim_mlp_qonnx() {
    csim_matches_simulator(&root().join("tests/models/onnx/mlp_qonnx.onnx"), 1000);
}

#[test]
fn csim_cnns() {
    for model in [
        "onnx/cnn2d.onnx",
        "onnx/cnn_merge.onnx",
        "onnx/cnn_qonnx.onnx",
        "onnx/cnn_nhwc.onnx",
        "onnx/cnn_ceil.onnx",
    ] {
        csim_matches_simulator(&root().join("tests/models").join(model), 300);
    }
}

/// io_stream projects compute the simulator's bits too (so the io_parallel ones' as well), on
/// every CNN of the test suite: line-buffer convolutions and pools (strides, dilation, groups,
/// 'same' and ceil-mode padding, 1-D and 2-D), streaming padding and upsampling, merges with
/// split streams, whole-frame transposes and reshapes, and the SVHN-style network.
#[test]
fn csim_cnns_io_stream() {
    for model in [
        "onnx/cnn2d.onnx",
        "onnx/cnn1d.onnx",
        "onnx/cnn_merge.onnx",
        "onnx/cnn_global.onnx",
        "onnx/cnn_pad.onnx",
        "onnx/cnn_nhwc.onnx",
        "onnx/cnn_ops_op9.onnx",
        "onnx/cnn_ceil.onnx",
        "onnx/cnn_qonnx.onnx",
        "keras/keras_cnn2d.h5",
        "keras/keras_cnn_functional.h5",
        "keras/qkeras_separable.h5",
        "keras/keras_two_inputs.h5",
    ] {
        csim_matches_simulator_in(&root().join("tests/models").join(model), 200, IoStyle::Stream);
    }
    csim_matches_simulator_in(&root().join("tests/models/onnx/svhn_cnn.onnx"), 40, IoStyle::Stream);
}

/// The anomaly-score models: an autoencoder with its MSE score (an element-wise skip from the
/// model input; from ONNX and from Keras' Subtract, Multiply and `tf.reduce_mean`) and a VAE
/// encoder with the L2 norm of its latent mean, in both io styles.
#[test]
fn csim_anomaly_scores() {
    for model in ["onnx/ae_mse.onnx", "onnx/vae_encoder_l2.onnx", "keras/keras_ae_score.h5"] {
        for io in [IoStyle::Parallel, IoStyle::Stream] {
            csim_matches_simulator_in(&root().join("tests/models").join(model), 500, io);
        }
    }
}

#[test]
fn csim_keras_cnns() {
    for model in ["keras_cnn1d.h5", "keras_cnn_functional.h5", "qkeras_cnn.h5", "qkeras_separable.h5"] {
        csim_matches_simulator(&root().join("tests/models/keras").join(model), 300);
    }
}

#[test]
fn csim_qkeras_mlp() {
    csim_matches_simulator(&root().join("tests/models/keras/qkeras_mlp.h5"), 1000);
}

/// The trained models in `../shared/models` (present in CI, absent on a bare clone).
#[test]
fn shared_models_keep_their_float_argmax() {
    let shared = root().join("../shared/models");
    if !shared.is_dir() {
        eprintln!("notice: ../shared/models is absent; skipping");
        return;
    }
    for model in [
        "onnx/three_layer_keras.onnx",
        "onnx/two_layer_keras.onnx",
        "onnx/dense_big_keras.onnx",
        "keras/KERAS_3layer.json",
        "onnx/conv1d_small_keras.onnx",
        "onnx/conv2d_small_keras.onnx",
        "keras/KERAS_conv1d_small.json",
        "keras/KERAS_conv2d_model.json",
    ] {
        let rate = argmax_agreement(&shared.join(model));
        assert!(rate >= 0.99, "{model}: {:.2}%", 100.0 * rate);
    }
    // Trained on jet images of small pixel values, the jet-image tagger's logits reach about 10^3
    // on standard-normal images: beyond ap_fixed<16,6>, whose dense outputs then saturate (0 %
    // agreement); with 14 integer bits every value fits.
    let model = "keras/jetTagger_Conv2D_Small_NoBatchNorm.json";
    let opts = FlowOptions { precision: Some("ap_fixed<28,14>".parse().unwrap()), ..FlowOptions::default() };
    let rate = argmax_agreement_at(&shared.join(model), &opts);
    assert!(rate >= 0.99, "{model}: {:.2}%", 100.0 * rate);
}

/// The trained convolution models in `../shared/models` against their tools' outputs recorded by
/// `scripts/make_shared_references.py` (onnxruntime within 1e-5, TensorFlow within the float32
/// tolerance of the Keras models above), and their projects' C-simulation against the simulator
/// (io_parallel, and io_stream for the convolution models of hls4ml's tests).
#[test]
fn shared_cnns_match_their_tools_and_csim() {
    let shared = root().join("../shared/models");
    if !shared.is_dir() {
        eprintln!("notice: ../shared/models is absent; skipping");
        return;
    }
    for (file, tol_rel, floor) in [
        ("onnx/conv1d_small_keras.onnx", 1e-5, 0.0),
        ("onnx/conv2d_small_keras.onnx", 1e-5, 0.0),
        ("keras/KERAS_conv1d_small.json", 1e-4, 1e-2),
        ("keras/KERAS_conv2d_model.json", 1e-4, 1e-2),
        ("keras/jetTagger_Conv2D_Small_NoBatchNorm.json", 1e-4, 1e-2),
    ] {
        let path = shared.join(file);
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        let r = reference(&format!("shared_{stem}"), "expected_float.npy");
        let got = run(&path, "float", &r);
        assert_eq!(got.len(), r.expected.len(), "{file}");
        for (s, (g_row, e_row)) in
            got.chunks(r.out_per_sample).zip(r.expected.chunks(r.out_per_sample)).enumerate()
        {
            let scale = e_row.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            for (i, (g, e)) in g_row.iter().zip(e_row).enumerate() {
                let tol = tol_rel * if floor > 0.0 { e.abs().max(floor) } else { e.abs().max(scale) };
                assert!((g - e).abs() <= tol, "{file}: sample {s} value {i}: f64 mode {g}, reference {e}");
            }
        }
        csim_matches_simulator(&path, 300);
    }
    for file in
        ["onnx/conv1d_small_keras.onnx", "onnx/conv2d_small_keras.onnx", "keras/KERAS_conv2d_model.json"]
    {
        csim_matches_simulator_in(&shared.join(file), 300, IoStyle::Stream);
    }
}
