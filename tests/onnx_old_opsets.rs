//! ONNX models from exporters older than opset 7: an MLP written at opset 6 (and 1 and 4) with the
//! legacy attributes — BatchNormalization `is_test`/`spatial`, Gemm and Add `broadcast` (Add with
//! `axis`), `consumed_inputs`, Dropout `is_test`, Reshape's `shape` attribute — simulates in f64
//! exactly as the same MLP written at opset 13; forms that differ (training mode, broadcasting that
//! numpy would not do) are refused naming the node and the attribute. Pad-1 `paddings`, Cast-1's
//! named target type, Upsample-1's height/width scales and PRelu-6 with a numpy-aligned slope read
//! as their opset-7 forms. Models are built here with `onnx-protobuf`.

#[path = "common/onnx_proto.rs"]
mod onnx_proto;

use std::path::{Path, PathBuf};

use hls_gen::flow::{self, FlowOptions};
use hls_gen::sim::{RunOptions, Simulator};
use onnx_proto::{value_info, value_info_dims};
use onnx_protobuf::attribute_proto::AttributeType;
use onnx_protobuf::{
    AttributeProto, GraphProto, Message, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
};

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

fn attr_i(name: &str, v: i64) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.into();
    a.type_ = AttributeType::INT.into();
    a.i = v;
    a
}

fn attr_ints(name: &str, v: &[i64]) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.into();
    a.type_ = AttributeType::INTS.into();
    a.ints = v.to_vec();
    a
}

fn attr_f(name: &str, v: f32) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.into();
    a.type_ = AttributeType::FLOAT.into();
    a.f = v;
    a
}

fn node(op: &str, name: &str, inputs: &[&str], output: &str, attrs: Vec<AttributeProto>) -> NodeProto {
    let mut n = NodeProto::new();
    n.op_type = op.into();
    n.name = name.into();
    n.input = inputs.iter().map(|s| s.to_string()).collect();
    n.output = vec![output.to_string()];
    n.attribute = attrs;
    n
}

/// A float32 initializer of seeded values in [lo, hi] / 64.
fn tensor(name: &str, dims: &[usize], seed: u64, lo: i64, hi: i64) -> TensorProto {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ seed);
    let mut t = TensorProto::new();
    t.name = name.into();
    t.data_type = 1;
    t.dims = dims.iter().map(|&d| d as i64).collect();
    t.float_data = (0..dims.iter().product::<usize>()).map(|_| rng.range(lo, hi) as f32 / 64.0).collect();
    t
}

/// How the MLP is written.
#[derive(Clone, Copy)]
struct Form {
    opset: i64,
    /// Write the attributes of opsets before 7.
    legacy: bool,
    bn_spatial: i64,
    bn_is_test: Option<i64>,
    /// Add's `axis` with broadcast=1 (None: not given).
    add_axis: Option<i64>,
}

const NEW: Form = Form { opset: 13, legacy: false, bn_spatial: 1, bn_is_test: None, add_axis: None };
const OLD: Form = Form { opset: 6, legacy: true, bn_spatial: 1, bn_is_test: Some(1), add_axis: Some(1) };

/// x[8] -> Gemm `fc1` -> BatchNormalization `bn1` -> Relu `relu1` -> Dropout `drop` -> MatMul `fc2`
/// -> Add `bias2` -> Reshape `flat` -> Sigmoid `out` -> y[4].
fn mlp(dir: &Path, f: Form) -> PathBuf {
    let consumed = |n: usize| {
        if f.legacy && f.opset == 1 {
            vec![attr_ints("consumed_inputs", &vec![0; n])]
        } else {
            vec![]
        }
    };
    let mut g = GraphProto::new();
    g.name = "mlp".into();
    g.input.push(value_info("x", 8));
    g.initializer.push(tensor("w1", &[8, 6], 1, -32, 31));
    g.initializer.push(tensor("b1", &[6], 2, -32, 31));
    g.initializer.push(tensor("gamma", &[6], 3, 32, 96));
    g.initializer.push(tensor("beta", &[6], 4, -16, 16));
    g.initializer.push(tensor("mean", &[6], 5, -16, 16));
    g.initializer.push(tensor("var", &[6], 6, 16, 128));
    g.initializer.push(tensor("w2", &[6, 4], 7, -32, 31));
    g.initializer.push(tensor("b2", &[4], 8, -32, 31));
    let mut gemm = vec![];
    if f.legacy {
        gemm.push(attr_i("broadcast", 1));
    }
    g.node.push(node("Gemm", "fc1", &["x", "w1", "b1"], "h1", gemm));
    let mut bn = vec![attr_f("epsilon", 1e-3)];
    if f.legacy {
        bn.push(attr_i("spatial", f.bn_spatial));
        bn.push(attr_f("momentum", 0.9));
        bn.extend(consumed(5));
        if let Some(t) = f.bn_is_test {
            bn.push(attr_i("is_test", t));
        }
    }
    g.node.push(node("BatchNormalization", "bn1", &["h1", "gamma", "beta", "mean", "var"], "h2", bn));
    g.node.push(node("Relu", "relu1", &["h2"], "h3", consumed(1)));
    let drop = if f.legacy {
        [consumed(1), vec![attr_i("is_test", 1), attr_f("ratio", 0.5)]].concat()
    } else {
        vec![]
    };
    g.node.push(node("Dropout", "drop", &["h3"], "h4", drop));
    g.node.push(node("MatMul", "fc2", &["h4", "w2"], "h5", vec![]));
    let mut add = consumed(2);
    if f.legacy {
        add.push(attr_i("broadcast", 1));
        add.extend(f.add_axis.map(|a| attr_i("axis", a)));
    }
    g.node.push(node("Add", "bias2", &["h5", "b2"], "h6", add));
    if f.legacy && f.opset < 5 {
        g.node.push(node(
            "Reshape",
            "flat",
            &["h6"],
            "h7",
            [consumed(1), vec![attr_ints("shape", &[-1, 4])]].concat(),
        ));
    } else {
        let mut s = TensorProto::new();
        s.name = "flat_shape".into();
        s.data_type = 7;
        s.dims = vec![2];
        s.int64_data = vec![-1, 4];
        g.initializer.push(s);
        g.node.push(node("Reshape", "flat", &["h6", "flat_shape"], "h7", vec![]));
    }
    g.node.push(node("Sigmoid", "out", &["h7"], "y", consumed(1)));
    g.output.push(value_info("y", 4));
    save(dir, &format!("mlp_{}_{}", f.opset, f.legacy), f.opset, g)
}

/// Writes `g` as `dir/<file>.onnx` at `opset` (IR version 3 before opset 7).
fn save(dir: &Path, file: &str, opset: i64, g: GraphProto) -> PathBuf {
    let mut m = ModelProto::new();
    m.ir_version = if opset < 7 { 3 } else { 7 };
    let mut o = OperatorSetIdProto::new();
    o.version = opset;
    m.opset_import.push(o);
    m.graph = Some(g).into();
    let path = dir.join(format!("{file}.onnx"));
    std::fs::write(&path, m.write_to_bytes().unwrap()).unwrap();
    path
}

/// The f64 reference's outputs on a seeded batch of 8 features.
fn simulate(model: &Path) -> Vec<f64> {
    simulate_n(model, 32, 8)
}

/// The f64 reference's outputs on a seeded batch of `n` samples of `features` values.
fn simulate_n(model: &Path, n: usize, features: usize) -> Vec<f64> {
    let mut rng = Rng(11);
    let x: Vec<f64> = (0..n * features).map(|_| rng.range(-128, 127) as f64 / 32.0).collect();
    let lowered = flow::load_float(model, &FlowOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let sim = Simulator::new_float(&lowered.graph).unwrap();
    sim.run(&x, n, &RunOptions::default()).unwrap().outputs[0].values.clone()
}

fn refusal(model: &Path) -> String {
    match flow::load_float(model, &FlowOptions::default()) {
        Ok(_) => panic!("{} imported", model.display()),
        Err(e) => {
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                msg.push_str(&format!(": {s}"));
                src = s.source();
            }
            msg
        }
    }
}

#[test]
fn legacy_mlp_simulates_like_opset_13() {
    let tmp = tempfile::tempdir().unwrap();
    let reference = simulate(&mlp(tmp.path(), NEW));
    assert_eq!(reference.len(), 32 * 4);
    for opset in [1, 4, 6] {
        let y = simulate(&mlp(tmp.path(), Form { opset, ..OLD }));
        assert_eq!(y, reference, "opset {opset}");
    }
    // Add with broadcast=1 and no axis: B aligned with A's last axes, as numpy does.
    let y = simulate(&mlp(tmp.path(), Form { add_axis: None, ..OLD }));
    assert_eq!(y, reference);
    // spatial=0 on a [batch, channels] input is the same per-channel normalization.
    let y = simulate(&mlp(tmp.path(), Form { bn_spatial: 0, ..OLD }));
    assert_eq!(y, reference);
}

#[test]
fn forms_that_differ_are_refused_naming_node_and_attribute() {
    let tmp = tempfile::tempdir().unwrap();
    let e = refusal(&mlp(tmp.path(), Form { bn_is_test: Some(0), ..OLD }));
    assert!(e.contains("bn1") && e.contains("is_test"), "{e}");
    let e = refusal(&mlp(tmp.path(), Form { bn_is_test: None, ..OLD }));
    assert!(e.contains("bn1") && e.contains("is_test") && e.contains("default"), "{e}");
    // B's one axis aligned at A's axis 0 (the batch axis): numpy would align it with axis 1.
    let e = refusal(&mlp(tmp.path(), Form { add_axis: Some(0), ..OLD }));
    assert!(e.contains("bias2") && e.contains("'axis' is 0"), "{e}");
    // Opset 4 Reshape with the shape as an input, opset 6 with the attribute: both refused.
    let path = mlp(tmp.path(), Form { opset: 5, ..OLD });
    let bytes = std::fs::read(&path).unwrap();
    let mut m = ModelProto::parse_from_bytes(&bytes).unwrap();
    m.opset_import[0].version = 4;
    let p4 = tmp.path().join("reshape_input_at_4.onnx");
    std::fs::write(&p4, m.write_to_bytes().unwrap()).unwrap();
    let e = refusal(&p4);
    assert!(e.contains("flat") && e.contains("opset 5"), "{e}");
}

/// x[8] -> Relu `a`, Tanh `b` -> Concat `cat` -> y[16], with `axis` given or not; or x -> `op` -> y.
fn small(dir: &Path, opset: i64, name: &str, nodes: Vec<NodeProto>, out_features: usize) -> PathBuf {
    let mut g = GraphProto::new();
    g.name = name.into();
    g.input.push(value_info("x", 8));
    g.initializer.push(tensor("slope", &[8], 9, -32, 31));
    g.node = nodes;
    g.output.push(value_info("y", out_features));
    save(dir, &format!("{name}_{opset}"), opset, g)
}

#[test]
fn concat_before_opset_4_joins_axis_1_by_default() {
    let tmp = tempfile::tempdir().unwrap();
    let nodes = |axis: Option<i64>| {
        vec![
            node("Relu", "a", &["x"], "ha", vec![]),
            node("Tanh", "b", &["x"], "hb", vec![]),
            node("Concat", "cat", &["ha", "hb"], "y", axis.map(|a| attr_i("axis", a)).into_iter().collect()),
        ]
    };
    let reference = simulate(&small(tmp.path(), 13, "cat", nodes(Some(1)), 16));
    assert_eq!(simulate(&small(tmp.path(), 3, "cat", nodes(None), 16)), reference);
    let e = refusal(&small(tmp.path(), 4, "cat", nodes(None), 16));
    assert!(e.contains("cat") && e.contains("axis"), "{e}");
}

#[test]
fn ops_whose_old_definitions_differ_are_refused_naming_the_node() {
    let tmp = tempfile::tempdir().unwrap();
    // Dropout in training mode.
    let d = node("Dropout", "drop", &["x"], "y", vec![attr_i("is_test", 0)]);
    let e = refusal(&small(tmp.path(), 6, "dropout", vec![d], 8));
    assert!(e.contains("drop") && e.contains("'is_test' is 0"), "{e}");
    // Add with broadcast=0 and an axis.
    let add = node("Add", "add", &["x", "slope"], "y", vec![attr_i("axis", 1)]);
    let e = refusal(&small(tmp.path(), 6, "add", vec![add], 8));
    assert!(e.contains("add") && e.contains("'axis'"), "{e}");
}

fn attr_s(name: &str, v: &str) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.into();
    a.type_ = AttributeType::STRING.into();
    a.s = v.as_bytes().to_vec();
    a
}

/// x[2, 3, 4] (NCHW) -> `nodes` (ending in `h`) -> Flatten `flat` -> y[out_features], with the
/// given initializers.
fn image(
    dir: &Path,
    opset: i64,
    name: &str,
    nodes: Vec<NodeProto>,
    inits: Vec<TensorProto>,
    out_features: usize,
) -> PathBuf {
    let mut g = GraphProto::new();
    g.name = name.into();
    g.input.push(value_info_dims("x", &[2, 3, 4]));
    g.initializer = inits;
    g.node = nodes;
    g.node.push(node("Flatten", "flat", &["h"], "y", vec![]));
    g.output.push(value_info("y", out_features));
    save(dir, &format!("{name}_{opset}"), opset, g)
}

/// The f64 reference's outputs on a seeded batch of `[2, 3, 4]` images.
fn simulate_image(model: &Path) -> Vec<f64> {
    simulate_n(model, 8, 24)
}

#[test]
fn pad_cast_prelu_and_upsample_of_opsets_1_to_6_read_as_their_opset_7_forms() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    // Pad-1 `paddings`, Pad-2 `pads` and Pad-13's input agree.
    let pads = [0, 0, 1, 2, 0, 0, 0, 1];
    let pad_attr = |key: &str| vec![attr_ints(key, &pads), attr_f("value", 0.0)];
    let padded = 2 * 4 * 7;
    let mut p = TensorProto::new();
    p.name = "pads".into();
    p.data_type = 7;
    p.dims = vec![8];
    p.int64_data = pads.to_vec();
    let reference = simulate_image(&image(
        t,
        13,
        "pad",
        vec![node("Pad", "pad", &["x", "pads"], "h", vec![])],
        vec![p],
        padded,
    ));
    for (opset, key) in [(1, "paddings"), (2, "pads")] {
        let model =
            image(t, opset, "pad", vec![node("Pad", "pad", &["x"], "h", pad_attr(key))], vec![], padded);
        assert_eq!(simulate_image(&model), reference, "Pad-{opset}");
    }
    // Cast-1 names its target type; FLOAT is the identity on a float activation.
    let relu = || node("Relu", "r", &["x"], "hr", vec![]);
    let reference =
        simulate_image(&image(t, 13, "cast", vec![node("Relu", "r", &["x"], "h", vec![])], vec![], 24));
    let cast = |to: &str| node("Cast", "cast", &["hr"], "h", vec![attr_s("to", to)]);
    assert_eq!(simulate_image(&image(t, 5, "cast", vec![relu(), cast("FLOAT")], vec![], 24)), reference);
    let e = refusal(&image(t, 5, "cast_bad", vec![relu(), cast("FLOAT33")], vec![], 24));
    assert!(e.contains("cast") && e.contains("'FLOAT33'"), "{e}");
    // Upsample-1's height/width scales are Upsample-7's scales [1, 1, h, w].
    let up7 = node("Upsample", "up", &["x"], "h", vec![attr_floats("scales", &[1.0, 1.0, 2.0, 3.0])]);
    let reference = simulate_image(&image(t, 7, "up", vec![up7], vec![], 2 * 6 * 12));
    let up1 =
        node("Upsample", "up", &["x"], "h", vec![attr_f("height_scale", 2.0), attr_f("width_scale", 3.0)]);
    assert_eq!(simulate_image(&image(t, 1, "up", vec![up1], vec![], 2 * 6 * 12)), reference);
    // PRelu-6: a one-value slope, or one with one axis fewer than X, is numpy-aligned already.
    let prelu = || node("PRelu", "pr", &["x", "slope"], "h", vec![]);
    for dims in [vec![1], vec![2, 1, 1], vec![2, 3, 4]] {
        let slope = || tensor("slope", &dims, 9, -32, 31);
        let reference = simulate_image(&image(t, 13, "prelu", vec![prelu()], vec![slope()], 24));
        assert_eq!(
            simulate_image(&image(t, 6, "prelu", vec![prelu()], vec![slope()], 24)),
            reference,
            "{dims:?}"
        );
    }
    // A per-channel [C] slope: Caffe2-era PRelu applied it to axis 1, numpy to the last axis.
    let e = refusal(&image(t, 6, "prelu_c", vec![prelu()], vec![tensor("slope", &[2], 9, -32, 31)], 24));
    assert!(e.contains("pr") && e.contains("slope of shape [2]"), "{e}");
}

fn attr_floats(name: &str, v: &[f32]) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.into();
    a.type_ = AttributeType::FLOATS.into();
    a.floats = v.to_vec();
    a
}
