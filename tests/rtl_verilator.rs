//! The RTL backend's Verilog, built with Verilator and driven by the generated testbench, equals
//! the bit-accurate simulator bit for bit on 1000 generated edge-case vectors per model, with the
//! promised latency (`arch::rtl::schedule`) and II 1.
//!
//! Models: every dense-only golden model that the backend supports and the two-input model with a
//! concatenation; three small CNN golden models; a synthetic CNN with every convolutional layer
//! kind and a softmax. Some models ending in a softmax run with that softmax dropped
//! (`drop_output_softmax`, as trigger designs that output logits do). `mlp_float` and `keras_functional` are not built here only to
//! keep the number of Verilator builds (about a minute each) small: their layers (dense, relu)
//! are covered by the others. A generated graph covers every quantization and overflow mode of
//! the output cast, a wrapping accumulator and AP_RND folded into the bias. One test builds the
//! Vitis project's `verilator/` testbench against RTL placed where Vitis HLS writes it.
//!
//! Dense layers with a reuse factor above 1 (time-multiplexed): `mlp_qdq` at reuse factors 2 and
//! 4, and the cast-mode graph with reuse factors 2 and 4 mixed (II 4); the measured latency and
//! II equal the schedule's.
//!
//! The graph layers: a generated message-passing block (row gathers by two index inputs, one of
//! them int64, a row-wise Dense, a scatter-add into the nodes, casts that round and saturate).
//!
//! Without `verilator` on the PATH the tests print a notice and pass, except under `CI`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use hls_gen::backend::rtl::{self, RtlOptions};
use hls_gen::backend::verilator::{run_rtlsim, RtlsimOutcome};
use hls_gen::backend::BackendError;
use hls_gen::fixed::FixedType;
use hls_gen::fixed::{OverflowMode, QuantMode};
use hls_gen::flow::{self, BackendChoice, CompileOptions, FlowOptions};
use hls_gen::ir::{
    Activation, Concatenate, Dense, GatherRows, Graph, Layer, LoweredGraph, ScatterAdd, Table,
};

const SAMPLES: usize = 1000;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The latency the RTL schedule promises.
fn latency_cycles(g: &LoweredGraph, stages: u32) -> u64 {
    hls_gen::arch::rtl::schedule(g, stages).unwrap().latency
}

fn have_verilator() -> bool {
    let found = Command::new("verilator").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var_os("CI").is_none(), "verilator is required in CI");
        eprintln!("notice: verilator not found; skipping the RTL simulation");
    }
    found
}

fn check(what: &str, outcome: &RtlsimOutcome, latency: u64) {
    check_timing(what, outcome, latency, 1);
}

fn check_timing(what: &str, outcome: &RtlsimOutcome, latency: u64, ii: u64) {
    assert!(outcome.passed, "{what}:\n{}", outcome.output);
    assert_eq!(outcome.samples, Some(SAMPLES), "{what}");
    assert_eq!(outcome.mismatches, Some(0), "{what}");
    assert_eq!(outcome.latency, Some(latency), "{what}: measured latency");
    assert_eq!(outcome.ii, Some(ii), "{what}: measured II");
}

fn compile(model: &Path, backend: BackendChoice, drop_softmax: bool) -> flow::Compiled {
    compile_with(model, backend, drop_softmax, None)
}

fn compile_with(
    model: &Path,
    backend: BackendChoice,
    drop_softmax: bool,
    reuse: Option<usize>,
) -> flow::Compiled {
    let opts = CompileOptions {
        part: "xcvu9p",
        clock_ns: 5.0,
        project_name: "myproject",
        tb_inputs: None,
        tb_samples: SAMPLES,
        backend,
        drop_output_softmax: drop_softmax,
        io_type: None,
        hls_tool: None,
        fifo_depth: Default::default(),
        edge_parallelism: None,
    };
    let mut flow_opts = FlowOptions { reuse_factor: reuse, ..FlowOptions::default() };
    if model.extension().is_some_and(|e| e == "json") {
        let stem = model.file_stem().unwrap().to_string_lossy().into_owned();
        flow_opts.weights = Some(model.with_file_name(format!("{stem}_weights.h5")));
    }
    flow::compile(model, &flow_opts, &opts).unwrap_or_else(|e| panic!("{}: {e}", model.display()))
}

fn rtl_model(file: &str, stages: u32, drop_softmax: bool) {
    if !have_verilator() {
        return;
    }
    let start = std::time::Instant::now();
    let model = root().join("tests/models").join(file);
    let compiled = compile(&model, BackendChoice::Rtl { pipeline_stages: stages }, drop_softmax);
    let latency = latency_cycles(&compiled.lowered.graph, stages);
    assert_eq!(compiled.estimate.total.latency_cycles, latency);
    assert_eq!(compiled.estimate.total.ii, 1);
    let dir = tempfile::tempdir().unwrap();
    compiled.project.write(dir.path(), true).unwrap();
    let outcome = run_rtlsim(dir.path()).unwrap_or_else(|e| panic!("{file}: {e}"));
    check(file, &outcome, latency);
    eprintln!(
        "{file}: {SAMPLES} samples bit-exact, latency {latency}, II 1 ({:.0} s)",
        start.elapsed().as_secs_f64()
    );
}

/// `file` with every Dense layer at reuse factor `rf`: bit-exact, a sample every `rf` cycles, the
/// latency of the schedule (which the estimate reports too).
fn rtl_model_reused(file: &str, rf: usize) {
    if !have_verilator() {
        return;
    }
    let start = std::time::Instant::now();
    let model = root().join("tests/models").join(file);
    let compiled = compile_with(&model, BackendChoice::Rtl { pipeline_stages: 1 }, false, Some(rf));
    let sched = hls_gen::arch::rtl::schedule(&compiled.lowered.graph, 1).unwrap();
    assert_eq!(sched.ii, rf as u64);
    assert_eq!(compiled.estimate.total.latency_cycles, sched.latency);
    assert_eq!(compiled.estimate.total.ii, rf as u64);
    let dir = tempfile::tempdir().unwrap();
    compiled.project.write(dir.path(), true).unwrap();
    let outcome = run_rtlsim(dir.path()).unwrap_or_else(|e| panic!("{file}: {e}"));
    check_timing(file, &outcome, sched.latency, rf as u64);
    eprintln!(
        "{file} at reuse factor {rf}: {SAMPLES} samples bit-exact, latency {}, II {rf} ({:.0} s)",
        sched.latency,
        start.elapsed().as_secs_f64()
    );
}

#[test]
fn qdq_model_at_reuse_factor_2() {
    rtl_model_reused("onnx/mlp_qdq.onnx", 2);
}

/// Reuse factor 4 is also checked by `every_cast_mode_is_bit_exact_with_reuse`; this larger build
/// runs with `cargo test --release --test rtl_verilator -- --ignored`.
#[test]
#[ignore = "covered in CI by every_cast_mode_is_bit_exact_with_reuse; a larger Verilator build"]
fn qdq_model_at_reuse_factor_4() {
    rtl_model_reused("onnx/mlp_qdq.onnx", 4);
}

#[test]
fn qdq_model_with_three_pipeline_stages() {
    rtl_model("onnx/mlp_qdq.onnx", 3, false);
}

#[test]
fn gemm_bn_model_with_every_activation() {
    rtl_model("onnx/mlp_gemm_bn.onnx", 1, false);
}

#[test]
fn keras_mlp_with_batch_norm() {
    rtl_model("keras/keras_mlp.h5", 2, true);
}

/// Two model inputs; a three-way concatenation whose third operand, a model input, is delayed by
/// registers to meet the two dense branches.
#[test]
fn two_input_model_with_a_concatenation() {
    rtl_model("onnx/merge_two_inputs.onnx", 2, true);
}

#[test]
fn qkeras_mlp() {
    rtl_model("keras/qkeras_mlp.json", 1, true);
}

/// A Dense layer, then one Quantize output per (quantization, overflow) mode pair, to types
/// narrower, coarser and finer than the sum; plus a wrapping accumulator and an AP_RND dense.
fn cast_modes() -> Graph {
    use OverflowMode::*;
    use QuantMode::*;
    let mut rng = Rng::new(42);
    let mut g = Graph::new("cast_modes");
    let x = input(&mut g, "x", &[4], modes(fx(10, 4), Rnd, Sat));
    let dense = |rng: &mut Rng, acc| {
        Layer::Dense(Dense {
            weights: random_weights(rng, &[4, 4], fx(6, 2), 10),
            bias: random_weights(rng, &[4], fx(7, 3), 0),
            accum: Some(acc),
        })
    };
    let exact = dense(&mut rng, fx(32, 16));
    let sum = add(&mut g, "sum", exact, &[4], fx(32, 16), &[x]);
    let mut outputs = Vec::new();
    let quants = [Trn, TrnZero, Rnd, RndZero, RndMinInf, RndInf, RndConv];
    let overflows = [Wrap, Sat, SatZero, SatSym];
    for (qi, &q) in quants.iter().enumerate() {
        for (oi, &o) in overflows.iter().enumerate() {
            let ty = match (qi + oi) % 3 {
                0 => fx(6, 3),
                1 => ufx(5, 2),
                _ => fx(4, 5),
            };
            let node = add(
                &mut g,
                &format!("q_{qi}_{oi}"),
                Layer::Quantize(hls_gen::ir::Quantize),
                &[4],
                modes(ty, q, o),
                &[sum],
            );
            outputs.push(node);
        }
    }
    // Finer than the sum (a shift), and coarser than every bit of it.
    outputs.push(add(
        &mut g,
        "finer",
        Layer::Quantize(hls_gen::ir::Quantize),
        &[4],
        modes(fx(40, 12), Rnd, Sat),
        &[sum],
    ));
    outputs.push(add(
        &mut g,
        "coarse",
        Layer::Quantize(hls_gen::ir::Quantize),
        &[4],
        modes(fx(3, 40), RndConv, Sat),
        &[sum],
    ));
    let wrap = dense(&mut rng, fx(14, 4));
    outputs.push(add(&mut g, "wrap_acc", wrap, &[4], modes(fx(8, 3), Rnd, Sat), &[x]));
    let rnd = dense(&mut rng, fx(32, 16));
    outputs.push(add(&mut g, "rnd_out", rnd, &[4], modes(fx(7, 3), Rnd, SatSym), &[x]));
    g.set_outputs(outputs);
    g
}

/// A Dense layer feeding ELU, SELU (both a table for `x < 0`, a cast of `scale * x` otherwise),
/// thresholded ReLU and hard swish (a product of two signals), each a graph output.
fn branch_activations() -> Graph {
    use OverflowMode::*;
    use QuantMode::*;
    let mut rng = Rng::new(11);
    let mut g = Graph::new("branch_activations");
    let x = input(&mut g, "x", &[5], modes(fx(10, 4), Rnd, Sat));
    let d = Layer::Dense(Dense {
        weights: random_weights(&mut rng, &[5, 5], fx(6, 2), 10),
        bias: random_weights(&mut rng, &[5], fx(7, 3), 0),
        accum: Some(fx(24, 10)),
    });
    let d = add(&mut g, "dense", d, &[5], modes(fx(12, 5), Rnd, Sat), &[x]);
    let act = |a| Layer::Activation(a);
    let elu = fill_table(Table::elu_default(0.7), |v| 0.7 * (v.exp() - 1.0));
    let (a, l) = (1.673_263_242_354_377_3, 1.050_700_987_355_480_5);
    let selu = fill_table(Table::selu_default(), move |v| l * a * (v.exp() - 1.0));
    let outputs = vec![
        add(&mut g, "elu", act(Activation::Elu(elu)), &[5], modes(fx(10, 4), Rnd, Sat), &[d]),
        add(
            &mut g,
            "selu",
            act(Activation::Selu { scale: scalar((l * 2048.0).round() / 2048.0, ufx(12, 1)), table: selu }),
            &[5],
            modes(fx(11, 4), RndConv, Sat),
            &[d],
        ),
        add(
            &mut g,
            "trelu",
            act(Activation::ThresholdedRelu { theta: scalar(0.75, fx(5, 1)) }),
            &[5],
            fx(12, 5),
            &[d],
        ),
        add(
            &mut g,
            "hswish",
            act(Activation::HardSwish { alpha: scalar(0.1875, ufx(5, -1)), beta: scalar(0.5, ufx(2, 0)) }),
            &[5],
            modes(fx(10, 4), Rnd, SatSym),
            &[d],
        ),
    ];
    g.set_outputs(outputs);
    g
}

#[test]
fn elu_selu_thresholded_relu_and_hard_swish_are_bit_exact() {
    if !have_verilator() {
        return;
    }
    let g = lowered(branch_activations());
    let (_dir, outcome) = emit_and_run(&g, "acts", 1);
    check("branch_activations", &outcome, latency_cycles(&g, 1));
}

/// Emits `g`'s RTL project (as `name`, `stages` per matrix) with generated test vectors into a
/// temporary directory and runs its Verilator testbench.
fn emit_and_run(g: &LoweredGraph, name: &str, stages: u32) -> (tempfile::TempDir, RtlsimOutcome) {
    let tb = flow::testbench(g, None, SAMPLES).unwrap();
    let project =
        rtl::emit(g, &RtlOptions { project_name: name.into(), pipeline_stages: stages }, &tb).unwrap();
    let dir = tempfile::tempdir().unwrap();
    project.write(dir.path(), true).unwrap();
    let outcome = run_rtlsim(dir.path()).unwrap();
    (dir, outcome)
}

#[test]
fn every_cast_mode_is_bit_exact() {
    if !have_verilator() {
        return;
    }
    let g = lowered(cast_modes());
    let (dir, outcome) = emit_and_run(&g, "casts", 1);
    check("cast_modes", &outcome, latency_cycles(&g, 1));

    // One wrong expected value (one LSB off) is one reported mismatch and a failure.
    let path = dir.path().join("tb_data/expected.txt");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut values: Vec<String> = lines[6].split(' ').map(str::to_string).collect();
    let ty = g.node(g.outputs()[0]).ty.unwrap();
    let raw = hls_gen::fixed::parse_decimal(&values[1], &ty).unwrap();
    let wrong = if raw < ty.max_raw() { raw + 1 } else { raw - 1 };
    values[1] = hls_gen::fixed::to_decimal(wrong, ty.frac_bits());
    lines[6] = values.join(" ");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let bad = run_rtlsim(dir.path()).unwrap();
    assert!(!bad.passed);
    assert_eq!((bad.mismatches, bad.exit_code), (Some(1), Some(1)), "{}", bad.output);
    assert!(bad.output.contains("mismatch: sample 7, output q_0_0_out, index 1"), "{}", bad.output);
}

/// The cast-mode graph with its Dense layers time-multiplexed: the exact sum at reuse factor 2
/// (every cast mode after it), the wrapping accumulator at 4, the AP_RND one at 2; the design
/// takes a sample every 4 cycles.
#[test]
fn every_cast_mode_is_bit_exact_with_reuse() {
    if !have_verilator() {
        return;
    }
    let mut g = cast_modes();
    for (name, rf) in [("sum", 2), ("wrap_acc", 4), ("rnd_out", 2)] {
        let id = g.find(name).unwrap();
        set_strategy(&mut g, id, hls_gen::ir::Strategy::Latency, rf);
    }
    let g = lowered(g);
    let sched = hls_gen::arch::rtl::schedule(&g, 1).unwrap();
    assert_eq!(sched.ii, 4);
    let (_dir, outcome) = emit_and_run(&g, "casts", 1);
    check_timing("cast_modes with reuse", &outcome, sched.latency, 4);
}

#[test]
fn vitis_project_testbench_runs_on_rtl_where_vitis_writes_it() {
    let model = root().join("tests/models/onnx/mlp_qonnx.onnx");
    let vitis = compile(&model, BackendChoice::Vitis, false);
    let tb = String::from_utf8(vitis.project.get("verilator/myproject_tb.cpp").unwrap().to_vec()).unwrap();
    let make = String::from_utf8(vitis.project.get("verilator/Makefile").unwrap().to_vec()).unwrap();
    let header = String::from_utf8(vitis.project.get("firmware/myproject.h").unwrap().to_vec()).unwrap();
    // The testbench drives the ports of the HLS top function, named as Vitis HLS names them.
    let g = &vitis.lowered.graph;
    let top = hls_gen::backend::top::TopInterface::of(g, "myproject").unwrap();
    for port in top.inputs.iter().chain(&top.outputs) {
        assert!(header.contains(&format!(" {}[{}]", port.name, port.elements)), "{} in\n{header}", port.name);
        assert!(tb.contains(&format!("top->{}_ap_vld", port.name)), "{}", port.name);
    }
    assert!(tb.contains("top->ap_start") && tb.contains("top->ap_ready") && tb.contains("top->ap_rst"));
    assert!(make.contains("VERILOG_DIR ?= ../myproject_prj/solution1/syn/verilog"), "{make}");

    let dir = tempfile::tempdir().unwrap();
    vitis.project.write(dir.path(), true).unwrap();
    match run_rtlsim(dir.path()) {
        Err(e @ BackendError::NoRtl { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("myproject_prj/solution1/syn/verilog") && msg.contains("rtl"), "{msg}");
        }
        other => panic!("expected NoRtl, got {other:?}"),
    }
    if !have_verilator() {
        return;
    }
    // The RTL backend's Verilog of the same model has the same ports and the same vectors.
    let rtl = compile(&model, BackendChoice::Rtl { pipeline_stages: 1 }, false);
    assert_eq!(rtl.project.get("tb_data/expected.txt"), vitis.project.get("tb_data/expected.txt"));
    let syn = dir.path().join("myproject_prj/solution1/syn/verilog");
    std::fs::create_dir_all(&syn).unwrap();
    for (path, bytes) in rtl.project.files() {
        if let Ok(file) = path.strip_prefix("rtl") {
            std::fs::write(syn.join(file), bytes).unwrap();
        }
    }
    let outcome = run_rtlsim(dir.path()).unwrap();
    check("mlp_qonnx via the Vitis layout", &outcome, latency_cycles(&rtl.lowered.graph, 1));
}

/// CNN golden models, chosen small to keep the Verilator builds short: the QONNX CNN (2-D
/// convolution, max pooling, a transpose to channels-first that is wiring), the pooling-only
/// `cnn_ceil` (max and average pooling with ceil-mode padding) and `cnn2d` (a strided
/// convolution, a depthwise one, both poolings). `keras_cnn1d` (1-D convolutions, padding,
/// cropping, upsampling, tanh, softmax) passes too but takes about 3 minutes to build; the
/// synthetic `rtl_cnn` below covers its layers in seconds.
#[test]
fn qonnx_cnn() {
    rtl_model("onnx/cnn_qonnx.onnx", 1, false);
}

#[test]
fn pooling_cnn() {
    rtl_model("onnx/cnn_ceil.onnx", 1, false);
}

#[test]
fn depthwise_cnn_with_two_pipeline_stages() {
    rtl_model("onnx/cnn2d.onnx", 2, false);
}

/// Every layer kind added for CNNs (`common::cnn::rtl_cnn`): convolutions with padding, strides,
/// dilations and a depthwise one, max, average and global pooling, padding and cropping,
/// upsampling, a transpose, a softmax; two pipeline stages per convolution.
#[test]
fn every_cnn_layer_is_bit_exact() {
    if !have_verilator() {
        return;
    }
    let g = lowered(cnn::rtl_cnn());
    let (_dir, outcome) = emit_and_run(&g, "cnn", 2);
    check("rtl_cnn", &outcome, latency_cycles(&g, 2));
}

/// `rtl_cnn` with its convolutions and dense layer time-multiplexed: the padded 3x3 convolution
/// at reuse factor 2 (window 18), the depthwise one at 2 (window 4), the dilated strided 1-D one
/// at 3 (window 12, padding on both sides), the dense at 3: bit-exact, a sample every 3 cycles,
/// the schedule's latency (which the estimate reports too).
#[test]
fn cnn_with_reused_convolutions_is_bit_exact() {
    if !have_verilator() {
        return;
    }
    let mut g = cnn::rtl_cnn();
    for (name, rf) in [("conv1", 2), ("depthwise", 2), ("conv1d", 3), ("logits", 3)] {
        let id = g.find(name).unwrap();
        set_strategy(&mut g, id, hls_gen::ir::Strategy::Latency, rf);
    }
    let g = lowered(g);
    let sched = hls_gen::arch::rtl::schedule(&g, 1).unwrap();
    assert_eq!(sched.ii, 3);
    let part = hls_gen::estimate::lookup_part("xcvu9p").unwrap();
    let est = hls_gen::estimate::rtl::estimate(&g, &part, 5.0, 1).unwrap();
    assert_eq!((est.total.latency_cycles, est.total.ii), (sched.latency, 3));
    let (_dir, outcome) = emit_and_run(&g, "cnn_reuse", 1);
    check_timing("rtl_cnn with reuse", &outcome, sched.latency, 3);
}

/// The 57-32-16-32-57 autoencoder with its MSE score (Sub from the model input, Mul, ReduceMean).
#[test]
fn autoencoder_with_its_mse_score() {
    rtl_model("onnx/ae_mse.onnx", 1, false);
}

/// A VAE encoder's latent mean and its L2 norm (the square root through a table).
#[test]
fn vae_encoder_with_its_latent_l2_score() {
    rtl_model("onnx/vae_encoder_l2.onnx", 1, false);
}

/// A message-passing block on 5 nodes and 7 edges: the sender and receiver rows gathered by two
/// index inputs (int16 and int64), concatenated, a row-wise Dense per edge with a rounding,
/// saturating output, its messages summed into their receivers and cast narrower. Generated
/// indices are in range (the simulator refuses others).
fn graph_block() -> Graph {
    let mut rng = Rng::new(16);
    let mut g = Graph::new("graph_block");
    let x = input(&mut g, "x", &[5, 3], fx(8, 3));
    let senders = input(&mut g, "senders", &[7], FixedType::int(16, true));
    let receivers = input(&mut g, "receivers", &[7], FixedType::int(64, true));
    let xs = add(&mut g, "x_sender", Layer::GatherRows(GatherRows), &[7, 3], fx(8, 3), &[x, senders]);
    let narrow = modes(fx(6, 2), QuantMode::Rnd, OverflowMode::Sat);
    let xr = add(&mut g, "x_receiver", Layer::GatherRows(GatherRows), &[7, 3], narrow, &[x, receivers]);
    let cat =
        add(&mut g, "edge_in", Layer::Concatenate(Concatenate { axis: 1 }), &[7, 6], fx(8, 3), &[xs, xr]);
    let dense = Layer::Dense(Dense {
        weights: random_weights(&mut rng, &[6, 4], fx(5, 1), 10),
        bias: random_weights(&mut rng, &[4], fx(6, 2), 0),
        accum: Some(fx(22, 9)),
    });
    let msg =
        add(&mut g, "message", dense, &[7, 4], modes(fx(10, 4), QuantMode::Rnd, OverflowMode::Sat), &[cat]);
    let agg = Layer::ScatterAdd(ScatterAdd { rows: 5, terms: 7 });
    let out = modes(fx(9, 4), QuantMode::RndConv, OverflowMode::Sat);
    let sum = add(&mut g, "aggregate", agg, &[5, 4], out, &[msg, receivers]);
    g.set_outputs(vec![sum, xr]);
    g
}

#[test]
fn graph_layers_are_bit_exact() {
    if !have_verilator() {
        return;
    }
    let g = lowered(graph_block());
    assert_eq!(latency_cycles(&g, 1), 4, "gather, concatenation (a cast), dense, scatter-add");
    let (_dir, outcome) = emit_and_run(&g, "graph_block", 1);
    check("graph_block", &outcome, 4);
}
