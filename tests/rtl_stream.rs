//! The RTL backend's streaming design (`--backend rtl --io-type io_stream`), built with Verilator
//! and driven by its generated testbench: outputs equal the simulator's bit for bit, and the
//! measured latency, II, total cycles and every FIFO's peak occupancy EQUAL the dataflow model's
//! figures (`arch::rtl_stream`), computed here again from the graph.
//!
//! Models: the small CNNs of `tests/models` (QKeras CNN with depth-1 FIFOs, so writes block and
//! the pipelines stall; the ONNX pooling CNN with ceil-mode padding and two stages; the Keras 1-D
//! CNN with padding, cropping and upsampling; the QONNX CNN with its channels-first flatten, a
//! transpose) and the synthetic `rtl_cnn` (every window kind, padding, upsampling, a transpose,
//! two outputs), once with its convolutions and dense layer time-multiplexed; a strided
//! convolution feeding a slower per-pixel dense layer (both time-multiplexed) through depth-1
//! FIFOs. `SAMPLES` samples each keep a Verilator build and run to about a minute.
//!
//! Without `verilator` on the PATH the simulations print a notice and pass, except under `CI`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use hls_gen::arch::rtl_stream::{self, Depths, Figures};
use hls_gen::arch::stream::Form;
use hls_gen::backend::rtl::{stream, RtlOptions};
use hls_gen::backend::verilator::{run_rtlsim, RtlsimOutcome};
use hls_gen::config::IoStyle;
use hls_gen::estimate::stream::{FifoDepth, FRAMES};
use hls_gen::fixed::{OverflowMode, QuantMode};
use hls_gen::flow::{self, BackendChoice, CompileOptions, FlowOptions};
use hls_gen::ir::{Concatenate, Dense, Graph, Layer, LoweredGraph, Strategy};

const SAMPLES: usize = 20;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn have_verilator() -> bool {
    let found = Command::new("verilator").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var_os("CI").is_none(), "verilator is required in CI");
        eprintln!("notice: verilator not found; skipping the RTL simulation");
    }
    found
}

/// The model's figures for `g`, from the plan the backend makes.
fn model(g: &LoweredGraph, stages: u32, depths: Depths) -> (rtl_stream::Plan, Figures) {
    let plan = rtl_stream::plan(g, stages, depths, FRAMES).unwrap();
    let figures = rtl_stream::figures(g, &plan, SAMPLES).unwrap();
    (plan, figures)
}

/// The testbench's `stream fifo K 'name': peak P (model M)` lines as `(K, P, M)`.
fn fifo_lines(output: &str) -> Vec<(usize, u64, u64)> {
    output
        .lines()
        .filter_map(|l| l.strip_prefix("stream fifo "))
        .map(|l| {
            let nums: Vec<u64> = l
                .split(|c: char| !c.is_ascii_digit())
                .filter(|s| !s.is_empty())
                .map(|s| s.parse().unwrap())
                .collect();
            let n = nums.len();
            (nums[0] as usize, nums[n - 2], nums[n - 1])
        })
        .collect()
}

fn check(what: &str, outcome: &RtlsimOutcome, plan: &rtl_stream::Plan, f: &Figures) {
    assert!(outcome.passed, "{what}:\n{}", outcome.output);
    assert_eq!(outcome.samples, Some(SAMPLES), "{what}");
    assert_eq!(outcome.mismatches, Some(0), "{what}");
    assert_eq!(outcome.latency, Some(f.latency), "{what}: measured latency");
    assert_eq!(outcome.ii, Some(f.interval), "{what}: measured II");
    assert!(
        outcome.output.contains(&format!("stream cycles: {} (model {})", f.cycles, f.cycles)),
        "{what}: cycles\n{}",
        outcome.output
    );
    assert!(outcome.output.contains("hls-gen stream: 0 figures differ from the model"), "{what}");
    let fifos = fifo_lines(&outcome.output);
    let between = plan.capacity.iter().filter(|c| c.is_some()).count();
    assert_eq!(fifos.len(), between, "{what}: one line per FIFO\n{}", outcome.output);
    for (k, peak, modeled) in fifos {
        assert_eq!(modeled, f.occupancy[k], "{what}: FIFO {k} in the testbench");
        assert_eq!(peak, f.occupancy[k], "{what}: FIFO {k} peak");
        assert!(peak <= plan.capacity[k].unwrap(), "{what}: FIFO {k} over its depth");
    }
}

fn compile(
    model: &Path,
    stages: u32,
    fifo: Option<FifoDepth>,
    reuse_factor: Option<usize>,
) -> flow::Compiled {
    let opts = CompileOptions {
        part: "xcvu9p",
        clock_ns: 5.0,
        project_name: "myproject",
        tb_inputs: None,
        tb_samples: SAMPLES,
        backend: BackendChoice::Rtl { pipeline_stages: stages },
        drop_output_softmax: false,
        io_type: Some(IoStyle::Stream),
        hls_tool: None,
        fifo_depth: fifo,
        edge_parallelism: None,
    };
    let mut flow_opts = FlowOptions { reuse_factor, ..FlowOptions::default() };
    if model.extension().is_some_and(|e| e == "json") {
        let stem = model.file_stem().unwrap().to_string_lossy().into_owned();
        flow_opts.weights = Some(model.with_file_name(format!("{stem}_weights.h5")));
    }
    flow::compile(model, &flow_opts, &opts).unwrap_or_else(|e| panic!("{}: {e}", model.display()))
}

fn stream_model(file: &str, stages: u32, fifo: Option<FifoDepth>, depths: Depths) {
    if !have_verilator() {
        return;
    }
    let start = std::time::Instant::now();
    let compiled = compile(&root().join("tests/models").join(file), stages, fifo, None);
    let (plan, f) = model(&compiled.lowered.graph, stages, depths);
    assert_eq!(compiled.estimate.total.latency_cycles, f.latency);
    let dir = tempfile::tempdir().unwrap();
    compiled.project.write(dir.path(), true).unwrap();
    let outcome = run_rtlsim(dir.path()).unwrap_or_else(|e| panic!("{file}: {e}"));
    check(file, &outcome, &plan, &f);
    eprintln!(
        "{file}: {SAMPLES} samples bit-exact, latency {}, II {}, {} cycles, FIFO peaks {:?} ({:.0} s)",
        f.latency,
        f.interval,
        f.cycles,
        f.occupancy,
        start.elapsed().as_secs_f64()
    );
}

/// Depth-1 FIFOs: the convolutions' outputs block and their pipelines freeze, as the model says.
#[test]
fn qkeras_cnn_with_blocking_fifos() {
    stream_model("keras/qkeras_cnn.json", 1, Some(FifoDepth::Fixed(1)), Depths::Fixed(1));
}

#[test]
fn pooling_cnn_with_two_stages() {
    stream_model("onnx/cnn_ceil.onnx", 2, None, Depths::Auto);
}

#[test]
fn keras_cnn1d_with_padding_and_upsampling() {
    stream_model("keras/keras_cnn1d.h5", 1, None, Depths::Auto);
}

#[test]
#[ignore = "a fourth Verilator build; the layers are covered by the others and rtl_cnn"]
fn qonnx_cnn() {
    stream_model("onnx/cnn_qonnx.onnx", 1, None, Depths::Auto);
}

#[test]
#[ignore = "a fifth Verilator build; the layers are covered by the others"]
fn keras_cnn2d() {
    stream_model("keras/keras_cnn2d.h5", 1, Some(FifoDepth::Max), Depths::Max);
}

/// Emits `g`'s streaming RTL with `stages` stages and FIFO depths `depths`, checks that the
/// backend's plan and figures are the model's, runs it under Verilator and checks it.
fn emit_and_check(what: &str, g: &LoweredGraph, stages: u32, depths: Depths) -> (rtl_stream::Plan, Figures) {
    let start = std::time::Instant::now();
    let tb = flow::testbench(g, None, SAMPLES).unwrap();
    let opts = RtlOptions { project_name: "cnn".into(), pipeline_stages: stages };
    let (project, plan, f) = stream::emit(g, &opts, depths, &tb).unwrap();
    let (again, expected) = model(g, stages, depths);
    assert_eq!((&plan, &f), (&again, &expected));
    let dir = tempfile::tempdir().unwrap();
    project.write(dir.path(), true).unwrap();
    let outcome = run_rtlsim(dir.path()).unwrap();
    check(what, &outcome, &plan, &f);
    eprintln!(
        "{what}: {SAMPLES} samples bit-exact, latency {}, II {}, {} cycles, FIFO peaks {:?} ({:.0} s)",
        f.latency,
        f.interval,
        f.cycles,
        f.occupancy,
        start.elapsed().as_secs_f64()
    );
    (plan, f)
}

/// Every window kind, padding and cropping, upsampling, a transpose frame, a reshape frame and
/// two outputs (`common::cnn::rtl_cnn`).
#[test]
fn every_streaming_layer_kind() {
    if !have_verilator() {
        return;
    }
    emit_and_check("rtl_cnn", &lowered(cnn::rtl_cnn()), 2, Depths::Auto);
}

/// `rtl_cnn` with its matrices time-multiplexed: the padded 3x3 convolution at reuse factor 2
/// (window 18), the depthwise one at 2 (window 4), the dilated, strided, padded 1-D one at 3
/// (window 12), the dense at 3. Each takes that many cycles per pixel or padded position.
#[test]
fn reused_convolutions_and_dense_stream_bit_exact() {
    if !have_verilator() {
        return;
    }
    let mut g = cnn::rtl_cnn();
    for (name, rf) in [("conv1", 2), ("depthwise", 2), ("conv1d", 3), ("logits", 3)] {
        let id = g.find(name).unwrap();
        set_strategy(&mut g, id, Strategy::Latency, rf);
    }
    let g = lowered(g);
    let (plan, f) = emit_and_check("rtl_cnn with reuse", &g, 2, Depths::Auto);
    for (name, rf) in [("conv1", 2), ("depthwise", 2), ("conv1d", 3), ("logits", 3)] {
        let id = g.find(name).unwrap();
        assert_eq!((plan.depth[&id], plan.design.layers[&id].ii), (rf, rf as usize), "{name}");
    }
    // The first convolution reads 6 x 6 padded positions, 2 cycles each, so no sample takes
    // fewer cycles than 72.
    assert!(f.interval >= 72, "{f:?}");
}

/// A convolution at reuse factor 3 writing through a depth-1 FIFO into a per-pixel dense layer
/// at reuse factor 4, which reads a pixel every 4 cycles: along a row the convolution's writes
/// block and it stalls between its iterations. The dense layer's accumulator wraps (3 integer
/// bits): its exact sum in 4 phases, then the same wrapping cast. A pointwise (1x1) convolution
/// at reuse factor 3 follows (its later phases read the one-pixel line buffer).
fn blocked_reuse() -> Graph {
    let mut rng = Rng::new(41);
    let mut g = Graph::new("blocked reuse");
    let x = input(&mut g, "x", &[4, 4, 2], fx(8, 3));
    let c = cnn::conv(&mut rng, &[3, 3], 2, 4, &[1, 1], &[1, 1], (&[1, 1], &[1, 1]), 1, fx(24, 12));
    let c = add(&mut g, "conv", Layer::Conv(c), &[4, 4, 4], fx(10, 4), &[x]);
    let d = Layer::Dense(Dense {
        weights: random_weights(&mut rng, &[4, 3], fx(6, 1), 0),
        bias: random_weights(&mut rng, &[3], fx(6, 2), 0),
        accum: Some(fx(14, 3)),
    });
    let d = add(&mut g, "per_pixel", d, &[4, 4, 3], modes(fx(8, 3), QuantMode::Rnd, OverflowMode::Sat), &[c]);
    let p = cnn::conv(&mut rng, &[1, 1], 3, 2, &[1, 1], &[1, 1], (&[0, 0], &[0, 0]), 1, fx(24, 12));
    let p = add(&mut g, "pointwise", Layer::Conv(p), &[4, 4, 2], fx(10, 4), &[d]);
    set_strategy(&mut g, c, Strategy::Latency, 3);
    set_strategy(&mut g, d, Strategy::Latency, 4);
    set_strategy(&mut g, p, Strategy::Latency, 3);
    g.set_outputs(vec![p]);
    g
}

#[test]
fn reused_layers_stall_on_full_fifos() {
    if !have_verilator() {
        return;
    }
    let g = lowered(blocked_reuse());
    let dense = g.find("per_pixel").unwrap();
    let (plan, f) = emit_and_check("blocked reuse", &g, 1, Depths::Fixed(1));
    assert_eq!(plan.design.layers[&dense].form, Form::Map);
    // Unbounded, the convolution's 6 x 6 padded positions take 3 cycles each and its FIFO into
    // the dense layer holds 2 pixels; with depth 1 its writes block and each sample takes longer.
    let (_, free) = model(&g, 1, Depths::Auto);
    assert_eq!((free.interval, free.occupancy[1]), (108, 2), "{free:?}");
    assert_eq!((f.interval, f.occupancy[1]), (112, 1), "{f:?}");
}

/// The flow compiles `cnn_qonnx` at reuse factor 3 into the streaming RTL (no Verilator run): the
/// estimate reports the model's latency and II and the time-multiplexed layers' costs.
#[test]
fn reused_stream_design_is_estimated() {
    let compiled = compile(&root().join("tests/models/onnx/cnn_qonnx.onnx"), 1, None, Some(3));
    let (_, f) = model(&compiled.lowered.graph, 1, Depths::Auto);
    let t = &compiled.estimate.total;
    assert_eq!((t.latency_cycles, t.ii), (f.latency, f.interval));
    // The convolution reads 8 x 8 padded positions, 3 cycles each.
    assert_eq!(f.interval, 192);
    let conv = compiled.estimate.layers.iter().find(|l| l.name == "/conv/Conv").unwrap();
    assert_eq!((conv.reuse_factor, conv.ii), (3, 3));
    // One window's matrix, not one per output position: 18 inputs in slots of 3 for each of
    // 3 filters (as Yosys counts the DSPs of this design: 54 with the Dense's 36).
    assert_eq!(conv.dsp, 18, "{conv:?}");
    assert_eq!(t.dsp, 54);
    // The fully parallel design of the same graph builds a matrix per output position.
    let part = hls_gen::estimate::part::lookup("xcvu9p").unwrap();
    let parallel = hls_gen::estimate::rtl::estimate(&compiled.lowered.graph, &part, 5.0, 1).unwrap();
    assert!(t.lut * 4 < parallel.total.lut, "{} vs {}", t.lut, parallel.total.lut);
    assert!(t.dsp * 4 < parallel.total.dsp, "{} vs {}", t.dsp, parallel.total.dsp);
}

/// Layers the streaming RTL does not build are all named in one error, before anything is built;
/// time-multiplexed convolutions are not among them.
#[test]
fn unsupported_layers_are_named_at_once() {
    let mut rng = Rng::new(3);
    let mut g = Graph::new("refused");
    let x = input(&mut g, "x", &[4, 4, 1], fx(8, 3));
    let conv = |rng: &mut Rng| hls_gen::ir::Conv {
        weights: random_weights(rng, &[2, 2, 1, 1], fx(6, 1), 0),
        bias: random_weights(rng, &[1], fx(6, 2), 0),
        strides: vec![1, 1],
        dilations: vec![1, 1],
        pads_begin: vec![0, 0],
        pads_end: vec![0, 0],
        groups: 1,
        accum: Some(fx(20, 8)),
    };
    let a = add(&mut g, "first", Layer::Conv(conv(&mut rng)), &[3, 3, 1], fx(12, 4), &[x]);
    let b = add(&mut g, "second", Layer::Conv(conv(&mut rng)), &[2, 2, 1], fx(12, 4), &[a]);
    set_strategy(&mut g, a, Strategy::Latency, 2);
    set_strategy(&mut g, b, Strategy::Latency, 4);
    let rows =
        add(&mut g, "rows", Layer::Concatenate(Concatenate { axis: 0 }), &[4, 2, 1], fx(12, 4), &[b, b]);
    let cols = add(
        &mut g,
        "cols",
        Layer::Concatenate(Concatenate { axis: 1 }),
        &[4, 4, 1],
        fx(12, 4),
        &[rows, rows],
    );
    g.set_outputs(vec![cols]);
    let g = lowered(g);
    let err = rtl_stream::plan(&g, 1, Depths::Auto, FRAMES).unwrap_err().to_string();
    assert!(err.contains("2 layer(s)") && err.contains("'rows': concatenate (whole frame)"), "{err}");
    assert!(err.contains("'cols': concatenate (whole frame)") && !err.contains("reuse factor 2"), "{err}");
    assert!(err.contains("rtl io_stream"), "{err}");
    let tb = flow::testbench(&g, None, 2).unwrap();
    let opts = RtlOptions { project_name: "x".into(), pipeline_stages: 1 };
    assert!(stream::emit(&g, &opts, Depths::Auto, &tb).is_err());
}
