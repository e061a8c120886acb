//! Vitis HLS backend: golden snapshots of emitted projects, determinism, input checks, and the
//! emitted C++ compiled with g++ (C++14 and C++17) and run bit-exact against an independent
//! integer reference of the layer arithmetic. The models cover every layer kind, several model
//! inputs and outputs, and concatenations of several inputs with and without casts.

mod common;

use common::reference;
use common::*;
use hls_gen::backend::testbench::TestbenchData;
use hls_gen::backend::vitis::{emit, run_csim, CppStd, IoType, VitisOptions};
use hls_gen::backend::{BackendError, Project};
use hls_gen::fixed::{FixedType, OverflowMode::*, QuantMode::*};
use hls_gen::ir::{
    Activation, BatchNorm, BinaryOp, Concatenate, Dense, Elementwise, Graph, Layer, LoweredGraph, Strategy,
};

fn options(name: &str) -> VitisOptions {
    VitisOptions {
        project_name: name.to_string(),
        part: "xcvu13p-flga2577-2-e".to_string(),
        clock_period_ns: 5.0,
        io_type: IoType::Parallel,
    }
}

fn dense(
    rng: &mut Rng,
    n_in: usize,
    n_out: usize,
    w: FixedType,
    b: FixedType,
    acc: FixedType,
    zeros: u64,
) -> Layer {
    Layer::Dense(Dense {
        weights: random_weights(rng, &[n_in, n_out], w, zeros),
        bias: random_weights(rng, &[n_out], b, 0),
        accum: Some(acc),
    })
}

/// Dense, relu, dense, softmax.
pub fn mlp() -> Graph {
    let mut rng = Rng::new(1);
    let mut g = Graph::new("mlp");
    let x = input(&mut g, "input_1", &[8], fx(8, 3));
    let d1 = dense(&mut rng, 8, 6, fx(6, 1), fx(8, 2), modes(fx(14, 5), Rnd, Sat), 10);
    let d1 = add(&mut g, "dense_1", d1, &[6], modes(fx(10, 4), RndConv, Sat), &[x]);
    let r = add(&mut g, "relu_1", Layer::Activation(Activation::Relu), &[6], ufx(6, 2), &[d1]);
    let d2 = dense(&mut rng, 6, 5, fx(8, 2), fx(8, 3), fx(16, 6), 0);
    let d2 = add(&mut g, "dense_2", d2, &[5], modes(fx(12, 5), Rnd, Sat), &[r]);
    let s =
        add(&mut g, "softmax", Layer::Softmax(softmax_tables(5)), &[5], modes(ufx(16, 1), Rnd, Sat), &[d2]);
    g.set_outputs(vec![s]);
    g
}

/// Softmax alone over two rows, with an input range wide enough to reach both table edges.
pub fn softmax_only() -> Graph {
    let mut g = Graph::new("softmax");
    let x = input(&mut g, "logits", &[2, 6], fx(12, 5));
    let s =
        add(&mut g, "softmax", Layer::Softmax(softmax_tables(6)), &[2, 6], modes(ufx(18, 1), Rnd, Sat), &[x]);
    g.set_outputs(vec![s]);
    g
}

/// Every activation, batch norm, elementwise with constants and residuals, quantize, reshape;
/// three outputs, one of them also read by another layer.
pub fn activations() -> Graph {
    let mut rng = Rng::new(2);
    let mut g = Graph::new("activations");
    let sh = [2usize, 4];
    let x = input(&mut g, "x", &sh, fx(10, 3));
    let bn = Layer::BatchNorm(BatchNorm {
        scale: random_weights(&mut rng, &[4], fx(8, 2), 0),
        bias: random_weights(&mut rng, &[4], fx(8, 3), 0),
    });
    let bn = add(&mut g, "bn", bn, &sh, modes(fx(12, 4), Rnd, Sat), &[x]);
    let act = |a: Activation| Layer::Activation(a);
    let sig = add(
        &mut g,
        "sigmoid",
        act(Activation::Sigmoid(sigmoid_table())),
        &sh,
        modes(ufx(12, 0), RndConv, Sat),
        &[bn],
    );
    let tanh =
        add(&mut g, "tanh", act(Activation::Tanh(tanh_table())), &sh, modes(fx(14, 1), Rnd, Sat), &[bn]);
    let leaky = act(Activation::LeakyRelu { alpha: scalar(0.125, fx(4, -1)) });
    let leaky = add(&mut g, "leaky", leaky, &sh, fx(12, 4), &[bn]);
    let prelu = act(Activation::PRelu { alpha: random_weights(&mut rng, &[4], fx(6, 0), 0) });
    let prelu = add(&mut g, "prelu", prelu, &sh, fx(12, 4), &[bn]);
    let hs = act(Activation::HardSigmoid { alpha: scalar(0.25, ufx(4, 0)), beta: scalar(0.5, ufx(2, 0)) });
    let hs = add(&mut g, "hard_sigmoid", hs, &sh, modes(ufx(8, 0), Rnd, Sat), &[bn]);
    let clip = act(Activation::Clip { min: Some(scalar(-1.0, fx(4, 2))), max: Some(scalar(1.5, fx(4, 2))) });
    let clip = add(&mut g, "clip", clip, &sh, fx(10, 3), &[bn]);
    let lo = act(Activation::Clip { min: Some(scalar(0.5, fx(4, 2))), max: None });
    let lo = add(&mut g, "clip_lo", lo, &sh, fx(10, 3), &[bn]);
    let hi = act(Activation::Clip { min: None, max: Some(scalar(1.25, fx(4, 2))) });
    let hi = add(&mut g, "clip_hi", hi, &sh, fx(12, 4), &[bn]);
    let lin = add(&mut g, "linear", act(Activation::Linear), &sh, modes(fx(8, 2), Trn, SatSym), &[hi]);
    let ew = |op, constant| Layer::Elementwise(Elementwise { op, constant });
    let addc = ew(BinaryOp::Add, Some(random_weights(&mut rng, &[4], fx(8, 1), 0)));
    let addc = add(&mut g, "add_const", addc, &sh, modes(fx(10, 2), Rnd, Sat), &[sig]);
    let mulc = add(
        &mut g,
        "scale",
        ew(BinaryOp::Mul, Some(scalar(0.75, ufx(2, 0)))),
        &sh,
        modes(fx(12, 1), TrnZero, Wrap),
        &[tanh],
    );
    let sub = add(&mut g, "residual_sub", ew(BinaryOp::Sub, None), &sh, fx(13, 5), &[leaky, prelu]);
    let sum = add(&mut g, "residual_add", ew(BinaryOp::Add, None), &sh, fx(10, 3), &[hs, clip]);
    let prod =
        add(&mut g, "product", ew(BinaryOp::Mul, None), &sh, modes(fx(16, 3), Trn, Sat), &[addc, mulc]);
    let q =
        add(&mut g, "quant", Layer::Quantize(hls_gen::ir::Quantize), &sh, modes(fx(6, 3), Rnd, Sat), &[sub]);
    let rows = ew(BinaryOp::Sub, Some(weights(&[2, 1], &[3, -5], fx(5, 2))));
    let rows = add(&mut g, "row_offset", rows, &sh, modes(fx(9, 5), RndZero, SatZero), &[q]);
    let both = add(&mut g, "combine", ew(BinaryOp::Add, None), &sh, fx(12, 6), &[rows, lin]);
    let flat = add(
        &mut g,
        "flatten",
        Layer::Reshape(hls_gen::ir::Reshape::new(hls_gen::ir::Shape::new([8]))),
        &[8],
        modes(fx(12, 2), RndInf, Sat),
        &[prod],
    );
    g.set_outputs(vec![flat, sum, q, both, lo]);
    g
}

/// Reuse factors above 1 in both strategies, with accumulators whose bits do not depend on the
/// order of accumulation: one that wraps and truncates often (fc1), one that saturates but holds
/// every partial sum (fc2), one that wraps and rounds (fc3); some pruning.
pub fn resource() -> Graph {
    let mut rng = Rng::new(3);
    let mut g = Graph::new("resource");
    let x = input(&mut g, "in", &[12], fx(10, 4));
    let fc1 = dense(&mut rng, 12, 8, fx(8, 1), fx(6, 2), fx(12, 5), 20);
    let fc1 = add(&mut g, "fc1", fc1, &[8], modes(fx(12, 6), Rnd, Sat), &[x]);
    set_strategy(&mut g, fc1, Strategy::Resource, 4);
    let a = add(&mut g, "act1", Layer::Activation(Activation::Relu), &[8], ufx(10, 5), &[fc1]);
    let fc2 = dense(&mut rng, 8, 3, fx(6, 0), fx(6, 1), modes(fx(24, 12), RndConv, Sat), 0);
    let fc2 = add(&mut g, "fc2", fc2, &[3], modes(fx(14, 7), Rnd, Sat), &[a]);
    set_strategy(&mut g, fc2, Strategy::Resource, 2);
    let fc3 = dense(&mut rng, 3, 2, fx(5, 1), fx(5, 1), modes(fx(12, 6), RndMinInf, Wrap), 0);
    let fc3 = add(&mut g, "fc3", fc3, &[2], fx(10, 5), &[fc2]);
    set_strategy(&mut g, fc3, Strategy::Latency, 3);
    g.set_outputs(vec![fc3]);
    g
}

/// Pruned weights (one layer entirely zero) and names that must be sanitized: separators,
/// digits, keywords, reserved prefixes, a duplicate, unicode, and one that would derive `size_t`.
pub fn pruned() -> Graph {
    let mut rng = Rng::new(4);
    let mut g = Graph::new("../pruned model");
    let x = input(&mut g, "input:0", &[6], fx(8, 4));
    let d1 = dense(&mut rng, 6, 4, fx(6, 2), fx(6, 3), fx(16, 8), 70);
    let d1 = add(&mut g, "dense/MatMul:0", d1, &[4], fx(10, 5), &[x]);
    let r = add(&mut g, "class", Layer::Activation(Activation::Relu), &[4], ufx(8, 4), &[d1]);
    let zero = dense(&mut rng, 4, 4, fx(6, 2), fx(6, 3), fx(16, 8), 100);
    let zero = add(&mut g, "1", zero, &[4], fx(10, 5), &[r]);
    let res = Layer::Elementwise(Elementwise { op: BinaryOp::Add, constant: None });
    let res = add(&mut g, "../../exact", res, &[4], fx(12, 6), &[r, zero]);
    let d2 = dense(&mut rng, 4, 3, fx(6, 2), fx(6, 3), modes(fx(14, 8), Rnd, Wrap), 50);
    let d2 = add(&mut g, "dense/MatMul:0", d2, &[3], fx(12, 6), &[res]);
    set_strategy(&mut g, d2, Strategy::Latency, 2);
    let s = add(&mut g, "int", Layer::Softmax(softmax_tables(3)), &[3], modes(ufx(16, 1), Rnd, Sat), &[d2]);
    let q =
        add(&mut g, "size", Layer::Quantize(hls_gen::ir::Quantize), &[3], modes(ufx(8, 1), Rnd, Sat), &[s]);
    let shaped = add(
        &mut g,
        "名前",
        Layer::Reshape(hls_gen::ir::Reshape::new(hls_gen::ir::Shape::new([1, 3]))),
        &[1, 3],
        modes(ufx(8, 1), Rnd, Sat),
        &[q],
    );
    let k = add(&mut g, "ap_fixed", Layer::Activation(Activation::Linear), &[3], ufx(16, 1), &[s]);
    g.set_outputs(vec![shaped, s, k]);
    g
}

/// Two model inputs of two rows each; concatenations along both axes, of several inputs (one read
/// twice), with and without a cast; a model input that is also an output.
pub fn merge() -> Graph {
    let mut rng = Rng::new(5);
    let mut g = Graph::new("merge");
    let a = input(&mut g, "a", &[2, 3], fx(8, 3));
    let b = input(&mut g, "b", &[2, 2], modes(fx(6, 2), Rnd, Sat));
    let cat = |axis| Layer::Concatenate(Concatenate { axis });
    let cols = add(&mut g, "cols", cat(1), &[2, 5], fx(9, 4), &[a, b]);
    let rows = add(&mut g, "rows", cat(0), &[6, 3], modes(fx(7, 3), Rnd, Sat), &[a, a, a]);
    let bn = Layer::BatchNorm(BatchNorm {
        scale: random_weights(&mut rng, &[2], fx(6, 2), 0),
        bias: random_weights(&mut rng, &[2], fx(6, 2), 0),
    });
    let scaled = add(&mut g, "scaled", bn, &[2, 2], modes(fx(8, 3), Rnd, Sat), &[b]);
    let all = add(&mut g, "all", cat(1), &[2, 9], modes(fx(9, 4), RndConv, Wrap), &[cols, scaled, b]);
    g.set_outputs(vec![all, rows, b]);
    g
}

fn models() -> Vec<(&'static str, Graph)> {
    vec![
        ("mlp", mlp()),
        ("activations", activations()),
        ("resource", resource()),
        ("pruned", pruned()),
        ("merge", merge()),
    ]
}

/// Random raw inputs over the whole range of each input's type, a quarter of them edge values:
/// one row per sample of every model input, in input order.
fn random_inputs(g: &Graph, rng: &mut Rng, samples: usize) -> Vec<Vec<i128>> {
    (0..samples)
        .map(|_| {
            let mut row = Vec::new();
            for &i in &g.inputs() {
                let input = g.node(i);
                let (lo, hi) = raw_range(&input.ty.unwrap());
                let edges = [lo, lo + 1, -1, 0, 1, hi - 1, hi];
                row.extend((0..input.shape.elements()).map(|_| {
                    if rng.chance(25) {
                        edges[rng.range(0, edges.len() as i128 - 1) as usize].clamp(lo, hi)
                    } else {
                        rng.range(lo, hi)
                    }
                }));
            }
            row
        })
        .collect()
}

/// The type of every value of a sample's row for these nodes (inputs or outputs).
fn types(g: &Graph, nodes: &[hls_gen::ir::NodeId]) -> Vec<FixedType> {
    nodes
        .iter()
        .flat_map(|&o| std::iter::repeat_n(g.node(o).ty.unwrap(), g.node(o).shape.elements()))
        .collect()
}

/// Test vectors with expected outputs from the reference.
fn vectors(g: &Graph, seed: u64, samples: usize) -> TestbenchData {
    let mut rng = Rng::new(seed);
    let (in_types, out_types) = (types(g, &g.inputs()), types(g, g.outputs()));
    let mut tb = TestbenchData::default();
    for raws in random_inputs(g, &mut rng, samples) {
        let out = reference::run(g, &raws);
        tb.inputs.push(raws.iter().zip(&in_types).map(|(&r, t)| decimal(r, t.frac_bits())).collect());
        tb.expected.push(out.iter().zip(&out_types).map(|(&r, t)| decimal(r, t.frac_bits())).collect());
    }
    tb
}

fn text(p: &Project, path: &str) -> String {
    String::from_utf8(p.get(path).unwrap_or_else(|| panic!("{path} missing")).to_vec()).unwrap()
}

#[test]
fn all_models_validate() {
    for (name, g) in models().into_iter().chain([("softmax", softmax_only())]) {
        LoweredGraph::new(g).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn golden_projects() {
    for (model, g) in models() {
        let project = emit(&lowered(g.clone()), &options(model), &vectors(&g, 7, 3)).unwrap();
        for (path, bytes) in project.files() {
            let path = path.to_string_lossy().replace('/', "__");
            let contents = String::from_utf8(bytes.clone()).expect("text file");
            insta::with_settings!({snapshot_path => "../golden/vitis", prepend_module_to_snapshot => false}, {
                insta::assert_snapshot!(format!("{model}__{path}"), contents);
            });
        }
    }
}

#[test]
fn emission_is_deterministic() {
    for (model, g) in models() {
        let tb = vectors(&g, 11, 5);
        let a = emit(&lowered(g.clone()), &options(model), &tb).unwrap();
        let b = emit(&lowered(g.clone()), &options(model), &tb.clone()).unwrap();
        assert_eq!(a, b, "{model}");
        let root = tempfile::tempdir().unwrap();
        a.write(&root.path().join("a"), false).unwrap();
        b.write(&root.path().join("b"), false).unwrap();
        for path in a.files().keys() {
            let x = std::fs::read(root.path().join("a").join(path)).unwrap();
            let y = std::fs::read(root.path().join("b").join(path)).unwrap();
            assert_eq!(x, y, "{model}: {}", path.display());
        }
    }
}

#[test]
fn names_never_leak_into_code_or_paths() {
    let g = lowered(pruned());
    let p = emit(&g, &options("my project/../x"), &TestbenchData::default()).unwrap();
    for path in p.files().keys() {
        let s = path.to_string_lossy();
        assert!(s.chars().all(|c| c.is_ascii_alphanumeric() || "/_.-".contains(c)), "{s}");
        assert!(!s.contains(".."), "{s}");
    }
    assert!(p.get("firmware/my_project_x.cpp").is_some());
    let params = text(&p, "firmware/parameters.h");
    for ident in [
        "dense_matmul_0_config",
        "dense_matmul_0_1_config",
        "class_1_config",
        "n_1_config",
        "int_1_config",
        "size_1_config",
        "n_ap_fixed_config",
        "u540d_u524d_config",
    ] {
        assert!(params.contains(&format!("struct {ident} ")), "{ident} in\n{params}");
    }
    assert!(!params.contains("size_t "), "{params}");
    assert!(params.contains(r#"dense "dense/MatMul:0""#));
}

#[test]
fn pruned_weights_are_constant_zeros() {
    let g = lowered(pruned());
    let p = emit(&g, &options("pruned"), &TestbenchData::default()).unwrap();
    // The all-zero layer's weights are constants (partitioned, read at constant indices once
    // unrolled), so every product folds away.
    let zero = text(&p, "firmware/weights/n_1_weights.h");
    assert!(zero.contains("n_1_weights[4][4] = {\n    {0, 0, 0, 0},"), "{zero}");
    let top = text(&p, "firmware/pruned.cpp");
    assert!(top.contains("#include \"weights/n_1_weights.h\"\n#pragma HLS ARRAY_PARTITION variable=n_1_weights type=complete dim=0"), "{top}");
    let yml = text(&p, "hls_config.yml");
    assert!(yml.contains("NonzeroWeights: 0"), "{yml}");
}

#[test]
fn rejects_invalid_input() {
    let raw = mlp();
    let tb = vectors(&raw, 1, 2);
    let g = lowered(raw);
    let mut bad = options("mlp");
    bad.part = "xc7; exec rm".into();
    assert!(matches!(emit(&g, &bad, &tb), Err(BackendError::Option { .. })));
    let mut bad = options("mlp");
    bad.clock_period_ns = 0.0;
    assert!(matches!(emit(&g, &bad, &tb), Err(BackendError::Option { .. })));

    let mut short = tb.clone();
    short.inputs[1].pop();
    let err = emit(&g, &options("mlp"), &short).unwrap_err();
    assert!(err.to_string().contains("sample 1"), "{err}");
    let mut inexact = tb.clone();
    inexact.expected[0][0] = "0.1".into();
    assert!(matches!(emit(&g, &options("mlp"), &inexact), Err(BackendError::Testbench(_))));
    let mut unbalanced = tb.clone();
    unbalanced.expected.pop();
    assert!(matches!(emit(&g, &options("mlp"), &unbalanced), Err(BackendError::Testbench(_))));

    // A graph the backend cannot take does not get past the type: `emit` takes a LoweredGraph.
}

fn csim(
    model: &str,
    g: &Graph,
    tb: &TestbenchData,
    std: CppStd,
) -> Option<hls_gen::backend::vitis::CsimOutcome> {
    let ap = ap_types()?;
    let project = emit(&lowered(g.clone()), &options(model), tb).unwrap();
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join(model);
    project.write(&dir, false).unwrap();
    // HLS_GEN_KEEP_PROJECTS=DIR keeps a copy of every compiled project for inspection.
    if let Some(keep) = std::env::var_os("HLS_GEN_KEEP_PROJECTS") {
        project.write(&std::path::Path::new(&keep).join(format!("{model}_{std:?}")), true).unwrap();
    }
    let start = std::time::Instant::now();
    let outcome = run_csim(&dir, &ap, std).unwrap_or_else(|e| panic!("{model} {std:?}: {e}"));
    eprintln!("{model} {std:?}: compiled and ran in {:.1} s", start.elapsed().as_secs_f64());
    let ours = outcome
        .output
        .lines()
        .filter(|l| l.contains(": warning:") && (l.starts_with("firmware/") || l.contains("_test.cpp:")))
        .collect::<Vec<_>>();
    assert!(ours.is_empty(), "{model}: warnings in emitted code:\n{}", ours.join("\n"));
    Some(outcome)
}

fn bit_exact(model: &str, g: Graph, std: CppStd) {
    let tb = vectors(&g, 1000 + model.len() as u64, 1000);
    if let Some(outcome) = csim(model, &g, &tb, std) {
        assert!(outcome.passed, "{model} {std:?}:\n{}", outcome.output);
        assert_eq!((outcome.samples, outcome.mismatches), (Some(1000), Some(0)));
    }
}

#[test]
fn bit_exact_mlp_cpp14() {
    bit_exact("mlp", mlp(), CppStd::Cpp14);
}

#[test]
fn bit_exact_mlp_cpp17() {
    bit_exact("mlp", mlp(), CppStd::Cpp17);
}

#[test]
fn bit_exact_softmax_cpp14() {
    bit_exact("softmax", softmax_only(), CppStd::Cpp14);
}

#[test]
fn bit_exact_activations_cpp14() {
    bit_exact("activations", activations(), CppStd::Cpp14);
}

#[test]
fn bit_exact_activations_cpp17() {
    bit_exact("activations", activations(), CppStd::Cpp17);
}

#[test]
fn bit_exact_resource_cpp14() {
    bit_exact("resource", resource(), CppStd::Cpp14);
}

#[test]
fn bit_exact_resource_cpp17() {
    bit_exact("resource", resource(), CppStd::Cpp17);
}

#[test]
fn bit_exact_pruned_cpp14() {
    bit_exact("pruned", pruned(), CppStd::Cpp14);
}

#[test]
fn bit_exact_pruned_cpp17() {
    bit_exact("pruned", pruned(), CppStd::Cpp17);
}

#[test]
fn bit_exact_merge_cpp14() {
    bit_exact("merge", merge(), CppStd::Cpp14);
}

#[test]
fn bit_exact_merge_cpp17() {
    bit_exact("merge", merge(), CppStd::Cpp17);
}

#[test]
fn wrong_expected_value_fails_csim() {
    let g = mlp();
    let mut tb = vectors(&g, 5, 20);
    let ty = g.node(g.outputs()[0]).ty.unwrap();
    let raw = raw_of(tb.expected[13][2].parse::<f64>().unwrap(), &ty);
    let (lo, hi) = raw_range(&ty);
    let wrong = if raw < hi { raw + 1 } else { raw - 1 };
    assert!((lo..=hi).contains(&wrong));
    tb.expected[13][2] = decimal(wrong, ty.frac_bits());
    if let Some(outcome) = csim("mlp", &g, &tb, CppStd::Cpp14) {
        assert!(!outcome.passed);
        assert_eq!((outcome.samples, outcome.mismatches, outcome.exit_code), (Some(20), Some(1), Some(1)));
        assert!(
            outcome.output.contains("mismatch: sample 14, output softmax_out, index 2"),
            "{}",
            outcome.output
        );
    }
}

/// A project that does not compile is an error carrying g++'s diagnostics of both translation
/// units (they compile in parallel), and no executable runs.
#[test]
fn compile_errors_carry_the_diagnostics_of_each_file() {
    let Some(ap) = ap_types() else { return };
    let g = mlp();
    let tb = vectors(&g, 5, 4);
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("mlp");
    emit(&lowered(g), &options("mlp"), &tb).unwrap().write(&dir, false).unwrap();
    for file in ["mlp_test.cpp", "firmware/mlp.cpp"] {
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text + "\nint broken_here = ;\n").unwrap();
    }
    match run_csim(&dir, &ap, CppStd::Cpp14) {
        Err(BackendError::Compile { output }) => {
            for file in ["mlp_test.cpp", "firmware/mlp.cpp"] {
                assert!(output.contains(&format!("{file}:")) && output.contains("broken_here"), "{output}");
            }
        }
        other => panic!("expected a compile error, got {other:?}"),
    }
    assert!(!dir.join("tb_data/csim_outputs.txt").exists());
}
