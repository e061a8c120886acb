//! `--score`: the appended nodes on hand-built and ONNX autoencoders, the same graph as a model
//! that computes the score itself, and the CLI's errors. The ONNX autoencoder (8 -> 3 -> 8, Gemm
//! with seeded weights) is built here with `onnx-protobuf`.

// Only the binary helpers of `tests/common`.
#[path = "common/bin.rs"]
mod bin;

#[path = "common/onnx_proto.rs"]
mod onnx_proto;

use std::path::{Path, PathBuf};

use bin::{hls_gen, root, text};
use hls_gen::flow::{self, FlowOptions, Score, ScoreError};
use hls_gen::ir::{Activation, BinaryOp, Elementwise, Graph, Input, Layer, NodeId, Reduce, ReduceOp, Shape};
use hls_gen::passes::{self, PassContext};
use hls_gen::sim::{RunOptions, Simulator};
use onnx_proto::{onnx_node, onnx_tensor, save_model, value_info};
use onnx_protobuf::GraphProto;

/// Seeded values `lo..=hi` (xorshift64).
struct Rng(u64);

impl Rng {
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        lo + (self.0 % (hi - lo + 1) as u64) as i64
    }
}

/// x[8] -> Gemm `encoder` -> z[3] (the latent) -> Relu `encoder_relu` -> Gemm `decoder` -> y[8].
fn autoencoder_onnx(dir: &Path) -> PathBuf {
    let mut g = GraphProto::new();
    g.name = "autoencoder".into();
    g.input.push(value_info("x", 8));
    g.initializer.push(onnx_tensor("w_enc", &[8, 3], 1));
    g.initializer.push(onnx_tensor("b_enc", &[3], 2));
    g.initializer.push(onnx_tensor("w_dec", &[3, 8], 3));
    g.initializer.push(onnx_tensor("b_dec", &[8], 4));
    g.node.push(onnx_node("Gemm", "encoder", &["x", "w_enc", "b_enc"], "z"));
    g.node.push(onnx_node("Relu", "encoder_relu", &["z"], "h"));
    g.node.push(onnx_node("Gemm", "decoder", &["h", "w_dec", "b_dec"], "y"));
    g.output.push(value_info("y", 8));
    let path = dir.join("autoencoder.onnx");
    save_model(g, &path);
    path
}

/// A plain "autoencoder" of shape [4, 2] -> [4, 2]: input `x`, Relu `recon` as the output.
fn plain_autoencoder() -> (Graph, NodeId, NodeId) {
    let mut g = Graph::new("ae");
    let x = g.add("x", Layer::Input(Input::new(Shape::new(vec![4, 2]))), &[]).unwrap();
    let y = g.add("recon", Layer::Activation(Activation::Relu), &[x]).unwrap();
    g.set_outputs(vec![y]);
    (g, x, y)
}

fn ew(op: BinaryOp) -> Layer {
    Layer::Elementwise(Elementwise { op, constant: None })
}

/// A node as (name, layer, shape, input names).
type NodeView = (String, Layer, Vec<usize>, Vec<String>);

/// Every node in topological order, and the outputs' names.
fn structure(g: &Graph) -> (Vec<NodeView>, Vec<String>) {
    let nodes = g
        .topo_order()
        .unwrap()
        .into_iter()
        .map(|id| {
            let n = g.node(id);
            let ins = g.inputs_of(id).iter().map(|&i| g.node(i).name.clone()).collect();
            (n.name.clone(), n.layer.clone(), n.shape.dims().to_vec(), ins)
        })
        .collect();
    let outs = g.outputs().iter().map(|&o| g.node(o).name.clone()).collect();
    (nodes, outs)
}

fn ctx() -> PassContext {
    PassContext { config: hls_gen::config::Config::default(), prune_below: None }
}

#[test]
fn mse_appends_diff_square_and_mean_on_a_hand_built_autoencoder() {
    let (mut g, _, _) = plain_autoencoder();
    let s = flow::score::append(&mut g, &Score::Mse).unwrap();
    let (nodes, outs) = structure(&g);
    assert_eq!(outs, ["score"]);
    assert_eq!(g.node(s).shape.dims(), &[1]);
    let names: Vec<&str> = nodes.iter().map(|n| n.0.as_str()).collect();
    assert_eq!(names, ["x", "recon", "score/diff", "score/square", "score"]);
    assert_eq!(nodes[2].1, ew(BinaryOp::Sub));
    assert_eq!(nodes[2].3, ["x", "recon"]);
    assert_eq!(nodes[3].1, ew(BinaryOp::Mul));
    assert_eq!(nodes[3].3, ["score/diff", "score/diff"], "the square reads the difference twice");
    let Layer::Reduce(r) = &nodes[4].1 else { panic!("score is a Reduce: {:?}", nodes[4].1) };
    assert_eq!((r.op, r.axes.clone(), r.keepdims, r.count), (ReduceOp::Mean, vec![0, 1], false, 8));
}

#[test]
fn mae_is_the_l1_sum_of_the_difference() {
    let (mut g, _, _) = plain_autoencoder();
    flow::score::append(&mut g, &Score::Mae).unwrap();
    let (nodes, outs) = structure(&g);
    assert_eq!(outs, ["score"]);
    assert_eq!(nodes.len(), 4);
    assert_eq!((nodes[2].0.as_str(), &nodes[2].1), ("score/diff", &ew(BinaryOp::Sub)));
    let Layer::Reduce(r) = &nodes[3].1 else { panic!("score is a Reduce") };
    assert_eq!((r.op, r.axes.clone(), r.keepdims, r.count), (ReduceOp::L1, vec![0, 1], false, 8));
    assert_eq!(nodes[3].2, [1]);
}

#[test]
fn score_names_do_not_collide_with_model_names() {
    let (mut g, x, _) = plain_autoencoder();
    let y = g.add("score", Layer::Activation(Activation::Relu), &[x]).unwrap();
    g.set_outputs(vec![y]);
    flow::score::append(&mut g, &Score::Mse).unwrap();
    let (nodes, outs) = structure(&g);
    assert_eq!(outs, ["score_1"]);
    let names: Vec<&str> = nodes.iter().map(|n| n.0.as_str()).collect();
    assert_eq!(
        names,
        ["x", "score", "score_1/diff", "score_1/square", "score_1"],
        "'recon' reaches no output"
    );
}

/// `--score mse` gives the graph of a model that computes the score itself (as an ONNX model
/// with Sub, Mul and ReduceMean appended imports), before and after lowering.
#[test]
fn mse_equals_the_explicit_score_model() {
    let (mut scored, _, _) = plain_autoencoder();
    flow::score::append(&mut scored, &Score::Mse).unwrap();

    let (mut explicit, x, y) = plain_autoencoder();
    let d = explicit.add("score/diff", ew(BinaryOp::Sub), &[x, y]).unwrap();
    let q = explicit.add("score/square", ew(BinaryOp::Mul), &[d, d]).unwrap();
    let mean = Reduce::new(ReduceOp::Mean, vec![0, 1], false, &Shape::new(vec![4, 2]));
    let s = explicit.add("score", Layer::Reduce(mean), &[q]).unwrap();
    explicit.set_outputs(vec![s]);

    assert_eq!(structure(&scored), structure(&explicit));
    let (a, _) = passes::lower(scored, &ctx(), &[]).unwrap();
    let (b, _) = passes::lower(explicit, &ctx(), &[]).unwrap();
    assert_eq!(hls_gen::ir::print(&a), hls_gen::ir::print(&b));
    let score = a.outputs()[0];
    assert!(a.node(score).ty.is_some(), "the passes type the score");
}

#[test]
fn onnx_autoencoder_scores_lower_with_typed_nodes() {
    let tmp = tempfile::tempdir().unwrap();
    let model = autoencoder_onnx(tmp.path());
    for (score, kinds) in [
        (Score::Mse, vec![ReduceOp::Mean]),
        (Score::Mae, vec![ReduceOp::L1]),
        (Score::LatentL2 { tensor: "encoder".into() }, vec![ReduceOp::SumSquare]),
    ] {
        let opts = FlowOptions { score: Some(score.clone()), ..FlowOptions::default() };
        let lowered = flow::load_and_lower(&model, &opts).unwrap();
        let g = &lowered.graph;
        let [out] = g.outputs() else { panic!("one output") };
        let n = g.node(*out);
        assert_eq!((n.name.as_str(), n.shape.dims()), ("score", &[1][..]), "{score:?}");
        let Layer::Reduce(r) = &n.layer else { panic!("{score:?}: score is a Reduce") };
        assert_eq!(vec![r.op], kinds);
        assert_eq!(r.axes, [0]);
        let ids = g.node_ids();
        assert!(ids.iter().all(|&i| g.node(i).ty.is_some()), "{score:?}: every node typed");
        let has_decoder = ids.iter().any(|&i| g.node(i).name == "decoder");
        assert_eq!(has_decoder, !matches!(score, Score::LatentL2 { .. }), "{score:?}");
        if let Score::LatentL2 { .. } = score {
            assert_eq!(r.count, 3);
            assert_eq!(g.node(g.inputs_of(*out)[0]).name, "encoder");
        }
        // The float pipeline (`sim --float`) appends the same score.
        let float = flow::load_float(&model, &opts).unwrap();
        let fo = float.graph.outputs()[0];
        assert_eq!(float.graph.node(fo).name, "score");
    }
}

#[test]
fn errors_name_what_is_wrong() {
    let (mut g, x, _) = plain_autoencoder();
    let e = flow::score::append(&mut g, &Score::LatentL2 { tensor: "mu".into() }).unwrap_err();
    assert!(matches!(e, ScoreError::UnknownTensor { .. }));
    assert!(e.to_string().contains("'mu'") && e.to_string().contains("'x', 'recon'"), "{e}");

    let mut g2 = g.clone();
    let flat = g2.add("other", Layer::Activation(Activation::Relu), &[x]).unwrap();
    let recon = g2.outputs()[0];
    g2.set_outputs(vec![recon, flat]);
    let e = flow::score::append(&mut g2, &Score::Mse).unwrap_err();
    assert!(e.to_string().contains("2 outputs ('recon', 'other')"), "{e}");

    let mut g3 = g.clone();
    g3.add("x2", Layer::Input(Input::new(Shape::new(vec![4, 2]))), &[]).unwrap();
    let e = flow::score::append(&mut g3, &Score::Mae).unwrap_err();
    assert!(e.to_string().contains("2 inputs ('x', 'x2')"), "{e}");
}

fn mlp() -> String {
    root().join("tests/models/onnx/mlp_float.onnx").to_str().unwrap().to_string()
}

#[test]
fn cli_rejects_bad_score_options() {
    let o = hls_gen(&["inspect", &mlp(), "--score", "rmse"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("rmse") && t.contains("mse") && t.contains("mae") && t.contains("latent-l2"), "{t}");

    let o = hls_gen(&["inspect", &mlp(), "--score", "latent-l2"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--score-tensor"), "{}", text(&o));

    let o = hls_gen(&["inspect", &mlp(), "--score", "latent-l2", "--score-tensor", "nope"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("no layer named 'nope'") && t.contains("layers: "), "{t}");

    let o = hls_gen(&["inspect", &mlp(), "--score", "mse", "--score-tensor", "x"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("--score-tensor applies to --score latent-l2"), "{}", text(&o));

    let tmp = tempfile::tempdir().unwrap();
    let prj = tmp.path().join("prj");
    let o = hls_gen(&["compile", &mlp(), "--part", "xcvu9p", "-o", prj.to_str().unwrap(), "--score", "mse"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("score mse") && t.contains("has shape [5]") && t.contains("[16]"), "{t}");
    assert!(!prj.exists());
}

/// The f64 reference of `--score mse` is the mean of `(x - y)^2` with `y` the unscored model's
/// f64 output, and the fixed-point score is a non-negative value.
#[test]
fn simulated_mse_is_the_mean_squared_reconstruction_error() {
    let tmp = tempfile::tempdir().unwrap();
    let model = autoencoder_onnx(tmp.path());
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ 7);
    let n = 16;
    let x: Vec<f64> = (0..n * 8).map(|_| rng.range(-64, 63) as f64 / 32.0).collect();

    let plain = flow::load_float(&model, &FlowOptions::default()).unwrap();
    let y = Simulator::new_float(&plain.graph).unwrap().run(&x, n, &RunOptions::default()).unwrap();
    let y = &y.outputs[0].values;

    let opts = FlowOptions { score: Some(Score::Mse), ..FlowOptions::default() };
    let scored = flow::load_float(&model, &opts).unwrap();
    let sim = Simulator::new_float(&scored.graph).unwrap().run(&x, n, &RunOptions::default()).unwrap();
    let got = &sim.outputs[0].values;
    assert_eq!(got.len(), n);
    for s in 0..n {
        let mse = (0..8).map(|k| (x[s * 8 + k] - y[s * 8 + k]).powi(2)).sum::<f64>() / 8.0;
        assert!((got[s] - mse).abs() <= 1e-12 * mse.max(1.0), "sample {s}: {} vs {mse}", got[s]);
    }

    let lowered = flow::load_and_lower(&model, &opts).unwrap();
    let fixed = Simulator::new(&lowered.graph).unwrap().run(&x, n, &RunOptions::default()).unwrap();
    assert!(fixed.outputs[0].values.iter().all(|&v| v >= 0.0));
}

/// `--score mse` on the committed plain autoencoder gives, in `sim` (fixed point and `--float`),
/// byte for byte the output of the committed model that computes the score itself (the same
/// seeded weights with `Sub`, `Mul` and `ReduceMean` appended).
#[test]
fn score_option_equals_the_model_that_computes_it() {
    let tmp = tempfile::tempdir().unwrap();
    let models = root().join("tests/models/onnx");
    let input = root().join("golden/reference/ae_plain/inputs.npy");
    let (plain, explicit) = (models.join("ae_plain.onnx"), models.join("ae_mse.onnx"));
    for float in [false, true] {
        let run = |model: &Path, score: bool, out: &str| -> Vec<u8> {
            let y = tmp.path().join(out);
            let mut args = vec!["sim", model.to_str().unwrap(), "--input", input.to_str().unwrap()];
            args.extend(["--output", y.to_str().unwrap()]);
            if score {
                args.extend(["--score", "mse"]);
            }
            if float {
                args.push("--float");
            }
            let o = hls_gen(&args);
            assert!(o.status.success(), "{}", text(&o));
            std::fs::read(&y).unwrap()
        };
        let a = run(&plain, true, "a.npy");
        let b = run(&explicit, false, "b.npy");
        assert_eq!(a, b, "float {float}");
    }
}
