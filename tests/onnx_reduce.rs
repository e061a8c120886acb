//! ONNX reductions (`ReduceSum`, `ReduceMean`, `ReduceMax`, `ReduceMin`, `ReduceSumSquare`,
//! `ReduceL1`, `ReduceL2`) import as `Layer::Reduce` with the model's axes mapped to the IR's
//! channels-last axes; the models that cannot be represented (`tests/models/onnx/bad_reduce/`,
//! made by `scripts/make_onnx_models.py`) fail with an error naming the node.

use std::path::{Path, PathBuf};

use hls_gen::frontend::onnx::{self, OnnxError};
use hls_gen::ir::{self, Layer, Reduce, ReduceOp};

fn model(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/models/onnx").join(name)
}

fn import(name: &str) -> ir::Graph {
    let path = model(name);
    let g = onnx::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ir::validate(&g, ir::Stage::Imported).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    g
}

/// One `Reduce` layer: (node name, op, IR axes, keepdims, count, output dims).
type Row = (String, ReduceOp, Vec<usize>, bool, usize, Vec<usize>);

/// Every `Reduce` layer of the graph.
fn reductions(g: &ir::Graph) -> Vec<Row> {
    let mut out = Vec::new();
    for id in g.node_ids() {
        let n = g.node(id);
        if let Layer::Reduce(Reduce { op, axes, keepdims, count, .. }) = &n.layer {
            out.push((n.name.clone(), *op, axes.clone(), *keepdims, *count, n.shape.dims().to_vec()));
        }
    }
    out
}

fn row(name: &str, op: ReduceOp, axes: &[usize], keepdims: bool, count: usize, dims: &[usize]) -> Row {
    (name.to_string(), op, axes.to_vec(), keepdims, count, dims.to_vec())
}

#[test]
fn autoencoder_score_is_a_mean_over_the_features() {
    let g = import("ae_mse.onnx");
    assert_eq!(reductions(&g), [row("score", ReduceOp::Mean, &[0], true, 57, &[1])]);
    // The model input feeds both the first Gemm and the final Sub.
    let input = g.node_ids().into_iter().find(|&id| matches!(g.node(id).layer, Layer::Input(_))).unwrap();
    let readers: Vec<String> = g
        .node_ids()
        .into_iter()
        .filter(|&id| g.inputs_of(id).contains(&input))
        .map(|id| g.node(id).name.clone())
        .collect();
    assert_eq!(readers, ["enc1", "diff"]);
    let plain = import("ae_plain.onnx");
    assert!(reductions(&plain).is_empty());
}

#[test]
fn vae_score_is_a_sum_of_squares_of_z_mean() {
    let g = import("vae_encoder_l2.onnx");
    assert_eq!(reductions(&g), [row("score", ReduceOp::SumSquare, &[0], true, 8, &[1])]);
    // The log-variance head feeds no output and is dropped.
    assert!(g.node_ids().into_iter().all(|id| g.node(id).name != "z_log_var"));
    assert!(reductions(&import("vae_encoder_plain.onnx")).is_empty());
}

#[test]
fn channels_first_axes_map_to_channels_last_axes() {
    // The Conv output is the model's [3, 4, 5] (C, H, W), held channels-last as [4, 5, 3].
    let expected = [
        row("sum_hw", ReduceOp::Sum, &[0, 1], true, 20, &[1, 1, 3]),
        row("max_c", ReduceOp::Max, &[2], false, 3, &[4, 5]),
        row("mean_w", ReduceOp::Mean, &[1], true, 5, &[4, 1, 3]),
        row("min_all", ReduceOp::Min, &[0, 1, 2], false, 60, &[1]),
        row("l1_w", ReduceOp::L1, &[1], true, 5, &[4, 1, 3]),
        row("l2_c", ReduceOp::L2, &[2], true, 3, &[4, 5, 1]),
        row("sumsq_h", ReduceOp::SumSquare, &[0], true, 4, &[1, 5, 3]),
    ];
    for name in ["reduce_ops.onnx", "reduce_ops_op13.onnx"] {
        let g = import(name);
        assert_eq!(reductions(&g), expected, "{name}");
        assert_eq!(g.outputs().len(), 7, "{name}");
    }
}

#[test]
fn noop_with_empty_axes_adds_no_layer() {
    let path = model("bad_reduce/noop_empty_axes.onnx");
    let g = onnx::load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(reductions(&g).is_empty());
}

fn err(name: &str) -> (OnnxError, String) {
    let path = model(&format!("bad_reduce/{name}.onnx"));
    match onnx::load(&path) {
        Ok(_) => panic!("{name} imported, an error was expected"),
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains("reduce"), "{name}: the message does not name the node: {msg}");
            (e, msg)
        }
    }
}

#[test]
fn bad_reductions_name_the_node() {
    let cases: [(&str, &str, bool); 9] = [
        ("axis_out_of_range", "axis 4 is out of range", false),
        ("negative_axis_out_of_range", "axis -5 is out of range", false),
        ("repeated_axis", "repeat an axis", false),
        ("batch_axis", "reduce the batch axis", true),
        ("axes_not_constant", "must be a constant", true),
        ("empty_axes_reduce_all", "the batch axis included", true),
        ("axes_input_before_opset_18", "before opset 18", false),
        ("axes_attribute_at_opset_18", "from opset 18", false),
        ("bad_keepdims", "'keepdims' is 2", false),
    ];
    for (name, what, unsupported) in cases {
        let (e, msg) = err(name);
        assert!(msg.contains(what), "{name}: {msg}");
        assert_eq!(matches!(e, OnnxError::Unsupported { .. }), unsupported, "{name}: {msg}");
    }
}
