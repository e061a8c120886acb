//! RTL backend: golden snapshots of the emitted Verilog and testbench (`golden/rtl/`),
//! determinism, `verilator --lint-only -Wall` cleanliness, and clear errors for what it cannot
//! build (every unsupported layer named at once; reuse factors above 1; order-dependent
//! accumulators). The models cover every layer kind the backend builds (the convolutional ones
//! in `common::cnn::rtl_cnn`), two model inputs, a concatenation of tensors ready at different
//! cycles and one that is wiring.

mod common;

use std::process::Command;

use common::*;
use hls_gen::arch::rtl::schedule;
use hls_gen::arch::ArchError;
use hls_gen::backend::rtl::{emit, RtlOptions};
use hls_gen::backend::testbench::TestbenchData;
use hls_gen::backend::{BackendError, Project};
use hls_gen::fixed::{OverflowMode::*, QuantMode::*};
use hls_gen::ir::{Activation, BatchNorm, Concatenate, Dense, Graph, Layer, LoweredGraph};

fn options(name: &str, stages: u32) -> RtlOptions {
    RtlOptions { project_name: name.to_string(), pipeline_stages: stages }
}

/// Dense (with pruned weights), relu, quantize, dense.
fn mlp() -> Graph {
    let mut rng = Rng::new(7);
    let mut g = Graph::new("tiny mlp");
    let x = input(&mut g, "input_1", &[4], modes(fx(8, 3), Rnd, Sat));
    let d1 = Layer::Dense(Dense {
        weights: random_weights(&mut rng, &[4, 3], fx(5, 1), 25),
        bias: random_weights(&mut rng, &[3], fx(6, 2), 0),
        accum: Some(fx(24, 10)),
    });
    let d1 = add(&mut g, "dense/MatMul:0", d1, &[3], modes(fx(10, 4), RndConv, Sat), &[x]);
    let r = add(&mut g, "relu", Layer::Activation(Activation::Relu), &[3], fx(10, 4), &[d1]);
    let q =
        add(&mut g, "quant", Layer::Quantize(hls_gen::ir::Quantize), &[3], modes(ufx(4, 2), Rnd, Sat), &[r]);
    let d2 = Layer::Dense(Dense {
        weights: random_weights(&mut rng, &[3, 2], fx(4, 1), 0),
        bias: random_weights(&mut rng, &[2], fx(4, 1), 0),
        accum: Some(fx(20, 8)),
    });
    let d2 = add(&mut g, "output", d2, &[2], modes(fx(8, 4), Trn, Wrap), &[q]);
    g.set_outputs(vec![d2]);
    g
}

/// Batch norm, tables, leaky relu, clip and hard sigmoid; two outputs on paths of different
/// lengths and a reshape.
fn activations() -> Graph {
    let mut rng = Rng::new(8);
    let mut g = Graph::new("activations");
    let x = input(&mut g, "x", &[3], fx(8, 3));
    let bn = Layer::BatchNorm(BatchNorm {
        scale: random_weights(&mut rng, &[3], fx(6, 2), 0),
        bias: random_weights(&mut rng, &[3], fx(6, 2), 0),
    });
    let bn = add(&mut g, "bn", bn, &[3], modes(fx(10, 4), Rnd, Sat), &[x]);
    let act = |a| Layer::Activation(a);
    let sig = add(&mut g, "sigmoid", act(Activation::Sigmoid(sigmoid_table())), &[3], ufx(8, 0), &[bn]);
    let tanh =
        add(&mut g, "tanh", act(Activation::Tanh(tanh_table())), &[3], modes(fx(8, 1), Rnd, Sat), &[sig]);
    let leaky = act(Activation::LeakyRelu { alpha: scalar(0.375, ufx(4, 0)) });
    let leaky = add(&mut g, "leaky", leaky, &[3], fx(10, 4), &[bn]);
    let clip = act(Activation::Clip { min: Some(scalar(-1.0, fx(4, 2))), max: Some(scalar(1.5, fx(4, 2))) });
    let clip = add(&mut g, "clip", clip, &[3], fx(8, 3), &[leaky]);
    let hs = act(Activation::HardSigmoid { alpha: scalar(0.25, ufx(4, 0)), beta: scalar(0.5, ufx(2, 0)) });
    let hs = add(&mut g, "hard_sigmoid", hs, &[3], modes(ufx(6, 0), Rnd, Sat), &[clip]);
    let flat = add(
        &mut g,
        "flat",
        Layer::Reshape(hls_gen::ir::Reshape::new(hls_gen::ir::Shape::new([1, 3]))),
        &[1, 3],
        modes(ufx(6, 0), Rnd, Sat),
        &[hs],
    );
    g.set_outputs(vec![tanh, flat]);
    g
}

/// Two model inputs; a dense and a relu branch joined by a concatenation (the relu branch is a
/// cycle early, so it is delayed), a wiring concatenation of two tensors of one type, a dense.
fn merge() -> Graph {
    let mut rng = Rng::new(9);
    let mut g = Graph::new("merge");
    let a = input(&mut g, "a", &[3], fx(8, 3));
    let b = input(&mut g, "b", &[2], modes(fx(6, 2), Rnd, Sat));
    let dense = |rng: &mut Rng, n_in, n_out| {
        Layer::Dense(Dense {
            weights: random_weights(rng, &[n_in, n_out], fx(5, 1), 20),
            bias: random_weights(rng, &[n_out], fx(6, 2), 0),
            accum: Some(fx(24, 10)),
        })
    };
    let d = add(&mut g, "dense_a", dense(&mut rng, 3, 4), &[4], modes(fx(10, 4), Rnd, Sat), &[a]);
    let r = add(&mut g, "relu_b", Layer::Activation(Activation::Relu), &[2], fx(7, 3), &[b]);
    let cat = Layer::Concatenate(Concatenate { axis: 0 });
    let joined = add(&mut g, "joined", cat, &[8], modes(fx(9, 4), Rnd, Sat), &[d, r, r]);
    let wired = add(
        &mut g,
        "wired",
        Layer::Concatenate(Concatenate { axis: 0 }),
        &[16],
        modes(fx(9, 4), Rnd, Sat),
        &[joined, joined],
    );
    let out = add(&mut g, "out", dense(&mut rng, 16, 2), &[2], fx(12, 5), &[wired]);
    g.set_outputs(vec![out, joined]);
    g
}

/// [`mlp`] with its first Dense at reuse factor 2 and its last at 3 (the design's II).
fn mlp_reuse() -> Graph {
    let mut g = mlp();
    for (name, rf) in [("dense/MatMul:0", 2), ("output", 3)] {
        let id = g.find(name).unwrap();
        set_strategy(&mut g, id, hls_gen::ir::Strategy::Latency, rf);
    }
    g
}

fn models() -> Vec<(&'static str, LoweredGraph)> {
    vec![
        ("mlp", lowered(mlp())),
        ("mlp_reuse", lowered(mlp_reuse())),
        ("activations", lowered(activations())),
        ("merge", lowered(merge())),
        ("cnn", lowered(cnn::rtl_cnn())),
    ]
}

fn vectors(g: &LoweredGraph) -> TestbenchData {
    hls_gen::flow::testbench(g, None, 3).unwrap()
}

fn project(name: &str, g: &LoweredGraph, stages: u32) -> Project {
    emit(g, &options(name, stages), &vectors(g)).unwrap()
}

fn latency_cycles(g: &LoweredGraph, stages: u32) -> Result<u64, ArchError> {
    schedule(g, stages).map(|s| s.latency)
}

#[test]
fn golden_projects() {
    for (model, g) in models() {
        let p = project(model, &g, 2);
        for (path, bytes) in p.files() {
            let name = path.to_string_lossy().replace('/', "__");
            let contents = String::from_utf8(bytes.clone()).expect("text file");
            insta::with_settings!({snapshot_path => "../golden/rtl", prepend_module_to_snapshot => false}, {
                insta::assert_snapshot!(format!("{model}__{name}"), contents);
            });
        }
    }
}

#[test]
fn emission_is_deterministic() {
    for (model, g) in models() {
        for stages in [1, 3] {
            assert_eq!(project(model, &g, stages), project(model, &g.clone(), stages), "{model}");
        }
    }
}

#[test]
fn latency_follows_the_stages() {
    // mlp: dense (stages), relu, quantize, dense (stages).
    let g = lowered(mlp());
    assert_eq!(latency_cycles(&g, 1).unwrap(), 4);
    assert_eq!(latency_cycles(&g, 3).unwrap(), 8);
    // activations: bn, leaky, clip, hard sigmoid on the longest path; the reshape is wiring.
    assert_eq!(latency_cycles(&lowered(activations()), 2).unwrap(), 4);
    assert!(matches!(latency_cycles(&g, 0), Err(ArchError::Option { .. })));
    // mlp_reuse: dense at reuse factor 2 (2 cycles whatever the stages), relu, quantize, dense at 3.
    let r = lowered(mlp_reuse());
    for stages in [1, 3] {
        let s = schedule(&r, stages).unwrap();
        assert_eq!((s.latency, s.ii), (7, 3));
    }
    assert_eq!(schedule(&g, 3).unwrap().ii, 1);
    // merge: dense (stages), the casting concatenation, the wiring one, dense (stages).
    let m = lowered(merge());
    assert_eq!(latency_cycles(&m, 1).unwrap(), 3);
    assert_eq!(latency_cycles(&m, 2).unwrap(), 5);
    let s = schedule(&m, 2).unwrap();
    let (joined, wired) = (m.find("joined").unwrap(), m.find("wired").unwrap());
    assert_eq!((s.ready[&joined], s.cycles[&joined], s.cycles[&wired]), (3, 1, 0));
    // cnn: conv (stages), relu, max, depthwise (stages), avg, up (a cast), conv1d (stages), the
    // global max, dense (stages), softmax; the pad, the transpose and the reshape are wiring.
    let c = lowered(cnn::rtl_cnn());
    assert_eq!(latency_cycles(&c, 1).unwrap(), 10);
    assert_eq!(latency_cycles(&c, 2).unwrap(), 14);
    let s = schedule(&c, 1).unwrap();
    let cycles = |n: &str| s.cycles[&c.find(n).unwrap()];
    assert_eq!([cycles("pad"), cycles("up"), cycles("swap"), cycles("series")], [0, 1, 0, 0]);
}

#[test]
fn verilator_lint_is_clean() {
    let found = Command::new("verilator").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var_os("CI").is_none(), "verilator is required in CI");
        eprintln!("notice: verilator not found; skipping lint");
        return;
    }
    for (model, g) in models() {
        for stages in [1, 3] {
            let dir = tempfile::tempdir().unwrap();
            project(model, &g, stages).write(dir.path(), true).unwrap();
            let files: Vec<_> =
                std::fs::read_dir(dir.path().join("rtl")).unwrap().map(|e| e.unwrap().path()).collect();
            let out = Command::new("verilator")
                .args(["--lint-only", "-Wall", "--top-module", model])
                .args(&files)
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success() && text.trim().is_empty(), "{model} stages {stages}:\n{text}");
        }
    }
}

/// Row-wise Dense layers (the graph networks' edge and node MLPs) are built as RTL at reuse
/// factor 1 only.
#[test]
fn unsupported_layers_are_all_named() {
    let mut rng = Rng::new(5);
    let mut g = Graph::new("rows");
    let x = input(&mut g, "x", &[3, 4], fx(8, 3));
    let mut rows = |g: &mut Graph, name: &str| {
        let d = Layer::Dense(Dense {
            weights: random_weights(&mut rng, &[4, 2], fx(5, 1), 0),
            bias: random_weights(&mut rng, &[2], fx(6, 2), 0),
            accum: Some(fx(20, 8)),
        });
        add(g, name, d, &[3, 2], fx(12, 6), &[x])
    };
    let a = rows(&mut g, "edges_a");
    let b = rows(&mut g, "edges_b");
    g.set_outputs(vec![a, b]);
    for id in [a, b] {
        g.node_mut(id).reuse_factor = 2;
    }
    let g = lowered(g);
    let err = emit(&g, &options("bad", 1), &TestbenchData::default()).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, BackendError::Arch(ArchError::Unsupported { .. })), "{msg}");
    assert!(msg.contains("'edges_a' (dense)") && msg.contains("'edges_b' (dense)"), "{msg}");
    assert!(msg.contains("2 layer(s)"), "{msg}");
    assert!(latency_cycles(&g, 1).unwrap_err().to_string().contains("'edges_a'"));
}

/// A convolution whose accumulator truncates partial sums depends on the summation order: the
/// layer is named.
#[test]
fn order_dependent_convolution_accumulators_are_refused() {
    let mut g = cnn::rtl_cnn();
    let c = g.find("conv1d").unwrap();
    if let Layer::Conv(conv) = &mut g.node_mut(c).layer {
        conv.accum = Some(modes(fx(14, 6), Trn, Wrap));
    }
    let err = emit(&lowered(g), &options("cnn", 1), &TestbenchData::default()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("'conv1d'") && msg.contains("accumulator"), "{msg}");
}

/// A reuse factor that does not divide a convolution's window (taps x channels per group) is refused
/// by name when the graph is lowered, before any backend.
#[test]
fn convolution_reuse_factor_not_dividing_its_window_is_refused() {
    let mut g = cnn::rtl_cnn();
    let c = g.find("conv1d").unwrap();
    set_strategy(&mut g, c, hls_gen::ir::Strategy::Latency, 5);
    let msg = hls_gen::ir::LoweredGraph::new(g).unwrap_err().to_string();
    assert!(msg.contains("conv1d") && msg.contains("12 window inputs") && msg.contains("4, 6"), "{msg}");
}

/// The top of a design with reuse: `ap_ready` waits `ii - 1` cycles after each sample, and each
/// time-multiplexed layer gets the start pulse of its first cycle.
#[test]
fn reuse_top_paces_the_samples() {
    let p = project("mlp_reuse", &lowered(mlp_reuse()), 1);
    let top = String::from_utf8(p.get("rtl/mlp_reuse.v").unwrap().to_vec()).unwrap();
    assert!(top.contains("latency 7 cycles, II 3"), "{top}");
    assert!(top.contains("wire accept__in = ap_start & input_1_ap_vld & (wait__in == 2'h0);"), "{top}");
    assert!(top.contains("wait__in <= 2'h2;"), "{top}");
    // The first dense starts with the sample, the last 4 cycles later.
    assert!(top.contains(".start(accept__in)") && top.contains(".start(vld__pipe[3])"), "{top}");
}

#[test]
fn order_dependent_accumulators_are_refused() {
    let mut g = mlp();
    let d = g.find("output").unwrap();
    if let Layer::Dense(dense) = &mut g.node_mut(d).layer {
        dense.accum = Some(modes(fx(8, 2), Trn, Sat));
    }
    let err = emit(&lowered(g), &options("mlp", 1), &TestbenchData::default()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("'output'") && msg.contains("accumulator"), "{msg}");
}
