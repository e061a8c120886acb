//! Unit tests of whole-node behaviour on small models built in memory: opset differences, folding,
//! quantizer mapping on activations and constants, and the errors each misuse gives.

use std::path::Path;

use onnx_protobuf::attribute_proto::AttributeType;
use onnx_protobuf::tensor_shape_proto::dimension;
use onnx_protobuf::{
    type_proto, AttributeProto, GraphProto, Message, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto,
};

use super::{load_bytes, OnnxError};
use crate::fixed::{FixedType, OverflowMode, QuantMode};
use crate::ir::{self, Activation, BinaryOp, Graph, Layer};

const QONNX: &str = "qonnx.custom_op.general";

fn attr_i(name: &str, v: i64) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.into();
    a.type_ = AttributeType::INT.into();
    a.i = v;
    a
}

fn attr_f(name: &str, v: f32) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.into();
    a.type_ = AttributeType::FLOAT.into();
    a.f = v;
    a
}

fn attr_s(name: &str, v: &str) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.into();
    a.type_ = AttributeType::STRING.into();
    a.s = v.as_bytes().to_vec();
    a
}

fn attr_ints(name: &str, v: &[i64]) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.into();
    a.type_ = AttributeType::INTS.into();
    a.ints = v.to_vec();
    a
}

fn node(op: &str, name: &str, inputs: &[&str], outputs: &[&str], attrs: Vec<AttributeProto>) -> NodeProto {
    let mut n = NodeProto::new();
    n.op_type = op.into();
    n.name = name.into();
    n.input = inputs.iter().map(|s| s.to_string()).collect();
    n.output = outputs.iter().map(|s| s.to_string()).collect();
    n.attribute = attrs;
    n
}

fn qnode(op: &str, name: &str, inputs: &[&str], outputs: &[&str], attrs: Vec<AttributeProto>) -> NodeProto {
    let mut n = node(op, name, inputs, outputs, attrs);
    n.domain = QONNX.into();
    n
}

fn floats(name: &str, dims: &[i64], v: &[f32]) -> TensorProto {
    let mut t = TensorProto::new();
    t.name = name.into();
    t.data_type = 1;
    t.dims = dims.to_vec();
    t.float_data = v.to_vec();
    t
}

fn int64s(name: &str, dims: &[i64], v: &[i64]) -> TensorProto {
    let mut t = TensorProto::new();
    t.name = name.into();
    t.data_type = 7;
    t.dims = dims.to_vec();
    t.int64_data = v.to_vec();
    t
}

fn int8s(name: &str, dims: &[i64], v: &[i32]) -> TensorProto {
    let mut t = TensorProto::new();
    t.name = name.into();
    t.data_type = 3;
    t.dims = dims.to_vec();
    t.int32_data = v.to_vec();
    t
}

fn value_info(name: &str, dims: &[Option<i64>]) -> ValueInfoProto {
    let mut shape = TensorShapeProto::new();
    for d in dims {
        let mut dim = onnx_protobuf::tensor_shape_proto::Dimension::new();
        dim.value = Some(match d {
            Some(v) => dimension::Value::DimValue(*v),
            None => dimension::Value::DimParam("N".into()),
        });
        shape.dim.push(dim);
    }
    let mut tt = type_proto::Tensor::new();
    tt.elem_type = 1;
    tt.shape = Some(shape).into();
    let mut ty = TypeProto::new();
    ty.value = Some(type_proto::Value::TensorType(tt));
    let mut vi = ValueInfoProto::new();
    vi.name = name.into();
    vi.type_ = Some(ty).into();
    vi
}

/// A model with input `x` of shape `[N, features...]` and the given outputs.
struct M {
    opset: i64,
    input: Vec<Option<i64>>,
    nodes: Vec<NodeProto>,
    inits: Vec<TensorProto>,
    outputs: Vec<&'static str>,
    value_info: Vec<ValueInfoProto>,
}

impl M {
    fn new(opset: i64, features: &[i64]) -> M {
        let mut input = vec![None];
        input.extend(features.iter().map(|&f| Some(f)));
        M { opset, input, nodes: vec![], inits: vec![], outputs: vec!["y"], value_info: vec![] }
    }

    fn node(mut self, n: NodeProto) -> M {
        self.nodes.push(n);
        self
    }

    fn init(mut self, t: TensorProto) -> M {
        self.inits.push(t);
        self
    }

    fn bytes(&self) -> Vec<u8> {
        let mut m = ModelProto::new();
        m.ir_version = 8;
        let mut o = OperatorSetIdProto::new();
        o.version = self.opset;
        m.opset_import.push(o);
        let mut q = OperatorSetIdProto::new();
        q.domain = QONNX.into();
        q.version = 1;
        m.opset_import.push(q);
        let mut g = GraphProto::new();
        g.name = "t".into();
        g.node = self.nodes.clone();
        g.initializer = self.inits.clone();
        g.input.push(value_info("x", &self.input));
        for o in &self.outputs {
            let mut vi = ValueInfoProto::new();
            vi.name = o.to_string();
            g.output.push(vi);
        }
        g.value_info = self.value_info.clone();
        m.graph = Some(g).into();
        m.write_to_bytes().unwrap()
    }

    fn load(&self) -> Result<Graph, OnnxError> {
        load_bytes(Path::new("t.onnx"), &self.bytes())
    }

    fn ok(&self) -> Graph {
        let g = self.load().unwrap_or_else(|e| panic!("{e}"));
        ir::validate(&g, ir::Stage::Imported).unwrap();
        g
    }

    fn err(&self) -> (OnnxError, String) {
        let Err(e) = self.load() else { panic!("the model imported; an error was expected") };
        let s = e.to_string();
        (e, s)
    }
}

/// Layers of the graph in topological order (the input excluded).
fn layers(g: &Graph) -> Vec<&crate::ir::Node> {
    g.topo_order()
        .unwrap()
        .into_iter()
        .map(|id| g.node(id))
        .filter(|n| !matches!(n.layer, Layer::Input(_)))
        .collect()
}

fn is_unsupported(e: &OnnxError, node: &str) -> bool {
    matches!(e, OnnxError::Unsupported { ops, .. } if ops.iter().any(|o| o.node == node))
}

#[test]
fn softmax_axis_rules_differ_by_opset() {
    let m = |opset, axis| {
        M::new(opset, &[1, 5]).node(node("Softmax", "sm", &["x"], &["y"], vec![attr_i("axis", axis)]))
    };
    // Before 13 axis 1 flattens [1, 5] into 5 classes: the last axis only.
    let g = m(11, 1).ok();
    assert!(matches!(layers(&g)[0].layer, Layer::Softmax(_)));
    assert!(m(13, -1).load().is_ok());
    let (e, s) = m(13, 1).err();
    assert!(is_unsupported(&e, "sm"), "{s}");
    let (e, _) = m(11, 0).err();
    assert!(is_unsupported(&e, "sm"));
}

#[test]
fn clip_bounds_from_attributes_or_inputs() {
    let old =
        M::new(7, &[4]).node(node("Clip", "c", &["x"], &["y"], vec![attr_f("min", 0.0), attr_f("max", 6.0)]));
    let g = old.ok();
    let Layer::Activation(Activation::Clip { min, max }) = &layers(&g)[0].layer else { panic!() };
    assert_eq!((min.as_ref().unwrap().values[0], max.as_ref().unwrap().values[0]), (0.0, 6.0));
    let new = M::new(13, &[4])
        .init(floats("lo", &[], &[0.0]))
        .init(floats("hi", &[], &[f32::INFINITY]))
        .node(node("Clip", "c", &["x", "lo", "hi"], &["y"], vec![]));
    let g = new.ok();
    let Layer::Activation(Activation::Clip { min, max }) = &layers(&g)[0].layer else { panic!() };
    assert_eq!((min.as_ref().map(|w| w.values[0]), max.is_none()), (Some(0.0), true));
    let only_max = M::new(13, &[4]).init(floats("hi", &[], &[1.0])).node(node(
        "Clip",
        "c",
        &["x", "", "hi"],
        &["y"],
        vec![],
    ));
    let g = only_max.ok();
    let Layer::Activation(Activation::Clip { min, max }) = &layers(&g)[0].layer else { panic!() };
    assert!(min.is_none() && max.is_some());
    let mixed =
        M::new(9, &[4]).init(floats("lo", &[], &[0.0])).node(node("Clip", "c", &["x", "lo"], &["y"], vec![]));
    assert!(matches!(mixed.err().0, OnnxError::Node { .. }));
}

#[test]
fn squeeze_and_unsqueeze_axes_by_opset() {
    let old = M::new(11, &[8])
        .node(node("Unsqueeze", "u", &["x"], &["a"], vec![attr_ints("axes", &[-1])]))
        .node(node("Squeeze", "s", &["a"], &["y"], vec![attr_ints("axes", &[2])]));
    let g = old.ok();
    let shapes: Vec<String> = layers(&g).iter().map(|n| n.shape.to_string()).collect();
    assert_eq!(shapes, ["[8, 1]", "[8]"]);
    let new = M::new(13, &[8])
        .init(int64s("ax", &[1], &[1]))
        .node(node("Unsqueeze", "u", &["x", "ax"], &["a"], vec![]))
        .node(node("Squeeze", "s", &["a"], &["y"], vec![]));
    let g = new.ok();
    let shapes: Vec<String> = layers(&g).iter().map(|n| n.shape.to_string()).collect();
    assert_eq!(shapes, ["[1, 8]", "[8]"]);
    let batch = M::new(13, &[8]).init(int64s("ax", &[1], &[0])).node(node(
        "Unsqueeze",
        "u",
        &["x", "ax"],
        &["y"],
        vec![],
    ));
    assert!(is_unsupported(&batch.err().0, "u"));
    let wrong = M::new(11, &[8]).node(node("Squeeze", "s", &["x"], &["y"], vec![attr_ints("axes", &[1])]));
    assert!(matches!(wrong.err().0, OnnxError::Shape { .. }));
}

#[test]
fn pytorch_flatten_pattern_folds_with_a_symbolic_batch() {
    // y = x.view(x.size(0), -1) on [N, 2, 3]
    let m = M::new(13, &[2, 3])
        .init(int64s("zero", &[], &[0]))
        .init(int64s("axes", &[1], &[0]))
        .init(int64s("minus1", &[1], &[-1]))
        .node(node("Shape", "shape", &["x"], &["s"], vec![]))
        .node(node("Gather", "gather", &["s", "zero"], &["b"], vec![attr_i("axis", 0)]))
        .node(node("Unsqueeze", "unsq", &["b", "axes"], &["b1"], vec![]))
        .node(node("Concat", "concat", &["b1", "minus1"], &["target"], vec![attr_i("axis", 0)]))
        .node(node("Reshape", "flatten", &["x", "target"], &["y"], vec![]));
    let g = m.ok();
    let l = layers(&g);
    assert_eq!(l.len(), 1);
    assert_eq!((l[0].name.as_str(), l[0].shape.dims()), ("flatten", &[6usize][..]));
}

#[test]
fn transpose_of_an_activation() {
    let keep =
        M::new(13, &[1, 6]).node(node("Transpose", "t", &["x"], &["y"], vec![attr_ints("perm", &[0, 2, 1])]));
    let g = keep.ok();
    assert_eq!(layers(&g)[0].shape.dims(), &[6, 1]);
    let layout =
        M::new(13, &[2, 3]).node(node("Transpose", "t", &["x"], &["y"], vec![attr_ints("perm", &[0, 2, 1])]));
    // A transpose that moves data changes only the layout: the output keeps the input's IR tensor
    // and records the model's order.
    let g = layout.ok();
    assert!(layers(&g).is_empty());
    assert_eq!(g.output_layout(0), Some(&[1, 0][..]));
    let batch = M::new(13, &[3]).node(node("Transpose", "t", &["x"], &["y"], vec![]));
    assert!(is_unsupported(&batch.err().0, "t"));
}

#[test]
fn constant_on_the_left_of_sub_negates_then_adds() {
    let m = M::new(13, &[3]).init(floats("c", &[3], &[1.0, 2.0, 3.0])).node(node(
        "Sub",
        "rsub",
        &["c", "x"],
        &["y"],
        vec![],
    ));
    let g = m.ok();
    let l = layers(&g);
    let kinds: Vec<(String, Option<BinaryOp>)> = l
        .iter()
        .map(|n| match &n.layer {
            Layer::Elementwise(e) => (n.name.clone(), Some(e.op)),
            _ => (n.name.clone(), None),
        })
        .collect();
    assert_eq!(
        kinds,
        [("rsub/neg".to_string(), Some(BinaryOp::Mul)), ("rsub".to_string(), Some(BinaryOp::Add))]
    );
    let div =
        M::new(13, &[3]).init(floats("c", &[], &[4.0])).node(node("Div", "d", &["x", "c"], &["y"], vec![]));
    let g = div.ok();
    let Layer::Elementwise(e) = &layers(&g)[0].layer else { panic!() };
    assert_eq!((e.op, e.constant.as_ref().unwrap().values[0]), (BinaryOp::Mul, 0.25));
    let by_act =
        M::new(13, &[3]).init(floats("c", &[], &[4.0])).node(node("Div", "d", &["c", "x"], &["y"], vec![]));
    assert!(is_unsupported(&by_act.err().0, "d"));
    let zero =
        M::new(13, &[3]).init(floats("c", &[], &[0.0])).node(node("Div", "d", &["x", "c"], &["y"], vec![]));
    assert!(matches!(zero.err().0, OnnxError::Tensor { .. }));
}

#[test]
fn constants_drop_a_leading_batch_axis_of_one() {
    let m = M::new(13, &[3]).init(floats("c", &[1, 3], &[1.0, 2.0, 3.0])).node(node(
        "Add",
        "a",
        &["x", "c"],
        &["y"],
        vec![],
    ));
    let g = m.ok();
    let Layer::Elementwise(e) = &layers(&g)[0].layer else { panic!() };
    assert_eq!(e.constant.as_ref().unwrap().shape.dims(), &[3]);
    let grows = M::new(13, &[3]).init(floats("c", &[2, 3], &[0.0; 6])).node(node(
        "Add",
        "a",
        &["x", "c"],
        &["y"],
        vec![],
    ));
    assert!(is_unsupported(&grows.err().0, "a"));
    let wrong = M::new(13, &[3]).init(floats("c", &[2], &[0.0; 2])).node(node(
        "Add",
        "a",
        &["x", "c"],
        &["y"],
        vec![],
    ));
    assert!(matches!(wrong.err().0, OnnxError::Shape { .. }));
}

#[test]
fn matmul_and_gemm_limits() {
    let two = M::new(13, &[3]).node(node("MatMul", "mm", &["x", "x"], &["y"], vec![]));
    assert!(is_unsupported(&two.err().0, "mm"));
    let ta = M::new(13, &[3]).init(floats("w", &[3, 2], &[0.0; 6])).node(node(
        "Gemm",
        "g",
        &["x", "w"],
        &["y"],
        vec![attr_i("transA", 1)],
    ));
    assert!(is_unsupported(&ta.err().0, "g"));
    let gemm = M::new(13, &[3])
        .init(floats("w", &[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]))
        .init(floats("c", &[1], &[1.0]))
        .node(node(
            "Gemm",
            "g",
            &["x", "w", "c"],
            &["y"],
            vec![attr_i("transB", 1), attr_f("alpha", 2.0), attr_f("beta", 0.5)],
        ));
    let g = gemm.ok();
    let Layer::Dense(d) = &layers(&g)[0].layer else { panic!() };
    assert_eq!(d.weights.values, [2.0, 8.0, 4.0, 10.0, 6.0, 12.0]);
    assert_eq!(d.bias.values, [0.5, 0.5]);
    let rows = M::new(13, &[3])
        .init(floats("w", &[3, 2], &[0.0; 6]))
        .init(floats("c", &[2, 2], &[0.0; 4]))
        .node(node("Gemm", "g", &["x", "w", "c"], &["y"], vec![]));
    assert!(is_unsupported(&rows.err().0, "g"));
}

fn quant_act(bits: f32, signed: i64, narrow: i64, mode: &str, scale: f32, zp: f32) -> M {
    M::new(13, &[4])
        .init(floats("s", &[], &[scale]))
        .init(floats("z", &[], &[zp]))
        .init(floats("b", &[], &[bits]))
        .node(qnode(
            "Quant",
            "q",
            &["x", "s", "z", "b"],
            &["y"],
            vec![attr_i("signed", signed), attr_i("narrow", narrow), attr_s("rounding_mode", mode)],
        ))
}

#[test]
fn quant_on_an_activation_maps_every_rounding_mode() {
    for (mode, quant) in [
        ("ROUND", QuantMode::RndConv),
        ("HALF_EVEN", QuantMode::RndConv),
        ("FLOOR", QuantMode::Trn),
        ("ROUND_TO_ZERO", QuantMode::TrnZero),
        ("DOWN", QuantMode::TrnZero),
        ("HALF_UP", QuantMode::RndInf),
        ("half_down", QuantMode::RndZero),
    ] {
        let g = quant_act(6.0, 1, 1, mode, 0.125, 0.0).ok();
        let n = layers(&g)[0];
        assert!(matches!(n.layer, Layer::Quantize(_)) && n.ty_from_model);
        let want = FixedType::new(6, 3, true).with_modes(quant, OverflowMode::SatSym);
        assert_eq!(n.ty, Some(want), "{mode}");
    }
    let g = quant_act(8.0, 0, 0, "ROUND", 4.0, 0.0).ok();
    assert_eq!(
        layers(&g)[0].ty,
        Some(FixedType::new(8, 10, false).with_modes(QuantMode::RndConv, OverflowMode::Sat))
    );
    for (m, why) in [
        (quant_act(8.0, 1, 0, "CEIL", 0.5, 0.0), "Ceil"),
        (quant_act(8.0, 1, 0, "UP", 0.5, 0.0), "AwayFromZero"),
        (quant_act(8.0, 0, 1, "ROUND", 0.5, 0.0), "narrow unsigned"),
        (quant_act(8.0, 1, 0, "ROUND", 0.3, 0.0), "not a power of two"),
        (quant_act(8.0, 1, 0, "ROUND", 0.5, 1.0), "zero point 1 is not 0"),
        (quant_act(2.5, 1, 0, "ROUND", 0.5, 0.0), "not an integer"),
        (quant_act(0.0, 1, 0, "ROUND", 0.5, 0.0), "not an integer"),
        (quant_act(65.0, 1, 0, "ROUND", 0.5, 0.0), "not an integer"),
        (quant_act(8.0, 1, 0, "STOCHASTIC", 0.5, 0.0), "rounding_mode"),
    ] {
        let (e, s) = m.err();
        assert!(matches!(e, OnnxError::Quant { .. }) && s.contains("'q'") && s.contains(why), "{s}");
    }
}

#[test]
fn quant_of_constants_is_exact_per_channel() {
    // Weights [2, 2] with per-column scales 2^-1 and 2^-3, 4-bit signed, CEIL (fine on constants).
    let m = M::new(13, &[2])
        .init(floats("w", &[2, 2], &[0.3, 0.3, -5.0, 5.0]))
        .init(floats("s", &[1, 2], &[0.5, 0.125]))
        .init(floats("z", &[], &[0.0]))
        .init(floats("b", &[], &[4.0]))
        .node(qnode("Quant", "wq", &["w", "s", "z", "b"], &["wq"], vec![attr_s("rounding_mode", "CEIL")]))
        .node(node("MatMul", "mm", &["x", "wq"], &["y"], vec![]));
    let g = m.ok();
    let Layer::Dense(d) = &layers(&g)[0].layer else { panic!() };
    assert_eq!(d.weights.values, [0.5, 0.375, -4.0, 0.875]);
    let ty = d.weights.ty.unwrap();
    assert_eq!((ty.width, ty.integer, ty.signed), (6, 3, true));
    assert!(d.weights.values.iter().all(|&v| ir::representable(v, &ty)));
}

#[test]
fn bipolar_quant_on_constants_and_activations() {
    let m = M::new(13, &[2])
        .init(floats("w", &[2, 1], &[0.0, -0.1]))
        .init(floats("s", &[], &[0.25]))
        .node(qnode("BipolarQuant", "bq", &["w", "s"], &["wq"], vec![]))
        .node(node("MatMul", "mm", &["x", "wq"], &["y"], vec![]));
    let g = m.ok();
    let Layer::Dense(d) = &layers(&g)[0].layer else { panic!() };
    assert_eq!(d.weights.values, [0.25, -0.25]);
    assert!(d.weights.values.iter().all(|&v| ir::representable(v, &d.weights.ty.unwrap())));
    let act = M::new(13, &[2]).init(floats("s", &[], &[1.0])).node(qnode(
        "BipolarQuant",
        "bq",
        &["x", "s"],
        &["y"],
        vec![],
    ));
    // On an activation: the sign step of ir::step, a 1-bit cast and the batch norm that places
    // the two levels at -scale and +scale.
    let g = act.ok();
    let kinds: Vec<&str> = layers(&g).iter().map(|n| n.layer.kind()).collect();
    assert_eq!(kinds, ["quantize", "batch_norm"]);
}

#[test]
fn trunc_v2_is_two_casts() {
    let m = M::new(13, &[4])
        .init(floats("s", &[], &[0.25]))
        .init(floats("z", &[], &[0.0]))
        .init(floats("ib", &[], &[10.0]))
        .init(floats("os", &[], &[1.0]))
        .init(floats("ob", &[], &[8.0]))
        .node(qnode("Trunc", "tr", &["x", "s", "z", "ib", "os", "ob"], &["y"], vec![attr_i("signed", 0)]));
    let g = m.ok();
    let tys: Vec<(String, FixedType)> = layers(&g).iter().map(|n| (n.name.clone(), n.ty.unwrap())).collect();
    assert_eq!(
        tys,
        [
            (
                "tr/round".to_string(),
                FixedType::new(11, 9, true).with_modes(QuantMode::RndConv, OverflowMode::Sat)
            ),
            ("tr".to_string(), FixedType::new(8, 8, false).with_modes(QuantMode::Trn, OverflowMode::Sat)),
        ]
    );
}

fn qdq(scale: f32, dq_scale: f32, zp: i32) -> M {
    M::new(13, &[4])
        .init(floats("s", &[], &[scale]))
        .init(floats("s2", &[], &[dq_scale]))
        .init(int8s("z", &[], &[zp]))
        .node(node("QuantizeLinear", "q", &["x", "s", "z"], &["xq"], vec![]))
        .node(node("DequantizeLinear", "dq", &["xq", "s2", "z"], &["y"], vec![]))
}

#[test]
fn qdq_pairs_and_their_errors() {
    let g = qdq(0.5, 0.5, 0).ok();
    let n = layers(&g)[0];
    assert_eq!(n.name, "q");
    assert_eq!(n.ty, Some(FixedType::new(8, 7, true).with_modes(QuantMode::RndConv, OverflowMode::Sat)));
    let (e, s) = qdq(0.5, 0.25, 0).err();
    assert!(matches!(e, OnnxError::Quant { .. }) && s.contains("differ"), "{s}");
    let (e, s) = qdq(0.5, 0.5, 3).err();
    assert!(matches!(e, OnnxError::Quant { .. }) && s.contains("zero point 3"), "{s}");
    let (e, s) = qdq(0.1, 0.1, 0).err();
    assert!(matches!(e, OnnxError::Quant { .. }) && s.contains("power of two"), "{s}");
    let lone = M::new(13, &[4])
        .init(floats("s", &[], &[0.5]))
        .node(node("QuantizeLinear", "q", &["x", "s"], &["xq"], vec![]))
        .node(node("Relu", "r", &["x"], &["y"], vec![]));
    let (e, s) = lone.err();
    assert!(
        matches!(e, OnnxError::Node { .. }) && s.contains("'q'") && s.contains("DequantizeLinear"),
        "{s}"
    );
    let misuse = M::new(13, &[4])
        .init(floats("s", &[], &[0.5]))
        .node(node("QuantizeLinear", "q", &["x", "s"], &["xq"], vec![]))
        .node(node("Relu", "r", &["xq"], &["y"], vec![]));
    let (_, s) = misuse.err();
    assert!(s.contains("'q'") && s.contains("Relu 'r'"), "{s}");
    let mut out = M::new(13, &[4]).init(floats("s", &[], &[0.5])).node(node(
        "QuantizeLinear",
        "q",
        &["x", "s"],
        &["y"],
        vec![],
    ));
    out.outputs = vec!["y"];
    assert!(out.err().1.contains("'q'"));
}

#[test]
fn qdq_of_constant_weights_per_axis() {
    let m = M::new(13, &[2])
        .init(int8s("wq", &[2, 2], &[-128, 3, 127, -1]))
        .init(floats("ws", &[2], &[0.5, 0.25]))
        .init(int8s("wz", &[2], &[0, 0]))
        .node(node("DequantizeLinear", "dq", &["wq", "ws", "wz"], &["w"], vec![attr_i("axis", 1)]))
        .node(node("MatMul", "mm", &["x", "w"], &["y"], vec![]));
    let g = m.ok();
    let Layer::Dense(d) = &layers(&g)[0].layer else { panic!() };
    assert_eq!(d.weights.values, [-64.0, 0.75, 63.5, -0.25]);
    let ty = d.weights.ty.unwrap();
    assert_eq!((ty.width, ty.integer), (9, 7));
}

#[test]
fn unknown_domains_and_ops_are_listed_together() {
    let mut custom = node("FusedGemm", "fg", &["x"], &["a"], vec![]);
    custom.domain = "com.microsoft".into();
    let m = M::new(13, &[4]).node(custom).node(node("Relu", "r", &["a"], &["b"], vec![])).node(node(
        "Erf",
        "erf",
        &["b"],
        &["y"],
        vec![],
    ));
    let (e, s) = m.err();
    let OnnxError::Unsupported { ops, .. } = e else { panic!("{s}") };
    let names: Vec<&str> = ops.iter().map(|o| o.op_type.as_str()).collect();
    assert_eq!(names, ["com.microsoft:FusedGemm", "Erf"]);
}

#[test]
fn model_level_errors() {
    let mut cast = M::new(13, &[4]).node(node("Cast", "c", &["x"], &["y"], vec![attr_i("to", 6)]));
    assert!(is_unsupported(&cast.err().0, "c"));
    cast.nodes = vec![node("Cast", "c", &["x"], &["y"], vec![attr_i("to", 11)])];
    assert!(cast.ok().node_count() == 1);

    let mut two = M::new(13, &[4])
        .node(node("Relu", "r1", &["x"], &["a"], vec![]))
        .node(node("Sigmoid", "s", &["x"], &["dead"], vec![]))
        .node(node("Tanh", "r2", &["a"], &["y"], vec![]));
    two.outputs = vec!["a", "y"];
    let g = two.ok();
    assert_eq!(g.outputs().len(), 2);
    assert!(g.find("s").is_none(), "dead nodes are dropped");

    let mut declared = M::new(13, &[4]).node(node("Relu", "r", &["x"], &["y"], vec![]));
    declared.value_info = vec![value_info("y", &[None, Some(5)])];
    let (e, s) = declared.err();
    assert!(matches!(e, OnnxError::Shape { .. }) && s.contains("'r'"), "{s}");

    let mut constant_out =
        M::new(13, &[4]).init(floats("c", &[], &[1.0])).node(node("Identity", "i", &["c"], &["y"], vec![]));
    constant_out.outputs = vec!["y"];
    assert!(matches!(constant_out.err().0, OnnxError::Model { .. }));

    let mut ext = floats("w", &[4, 2], &[]);
    ext.data_location = onnx_protobuf::tensor_proto::DataLocation::EXTERNAL.into();
    let external = M::new(13, &[4]).init(ext).node(node("MatMul", "mm", &["x", "w"], &["y"], vec![]));
    let (e, s) = external.err();
    assert!(matches!(e, OnnxError::Tensor { .. }) && s.contains("external") && s.contains("'mm'"), "{s}");

    let symbolic =
        M { input: vec![None, None], ..M::new(13, &[]) }.node(node("Relu", "r", &["x"], &["y"], vec![]));
    assert!(matches!(symbolic.err().0, OnnxError::Input { .. }));

    let unnamed = M::new(13, &[4]).node(node("Relu", "", &["x"], &["y"], vec![]));
    assert_eq!(layers(&unnamed.ok())[0].name, "y");

    let dropout = M::new(13, &[4]).node(node("Dropout", "d", &["x"], &["y", "mask"], vec![]));
    assert_eq!(dropout.ok().node_count(), 1);
    let mut mask = M::new(13, &[4]).node(node("Dropout", "d", &["x"], &["a", "mask"], vec![]));
    mask.nodes.push(node("Relu", "r", &["mask"], &["y"], vec![]));
    assert!(mask.err().1.contains("mask"));
}

#[test]
fn batch_norm_folds_to_scale_and_bias() {
    let m = M::new(9, &[2])
        .init(floats("g", &[2], &[2.0, 1.0]))
        .init(floats("b", &[2], &[1.0, 0.0]))
        .init(floats("m", &[2], &[1.0, -1.0]))
        .init(floats("v", &[2], &[3.0, 0.0]))
        .node(node(
            "BatchNormalization",
            "bn",
            &["x", "g", "b", "m", "v"],
            &["y"],
            vec![attr_f("epsilon", 1.0)],
        ));
    let g = m.ok();
    let Layer::BatchNorm(bn) = &layers(&g)[0].layer else { panic!() };
    assert_eq!(bn.scale.values, [1.0, 1.0]);
    assert_eq!(bn.bias.values, [0.0, 1.0]);
}

#[test]
fn same_lower_puts_the_odd_padding_first() {
    let m = M::new(13, &[1, 5, 5]).init(floats("w", &[2, 1, 2, 2], &[1.0; 8])).node(node(
        "Conv",
        "c",
        &["x", "w"],
        &["y"],
        vec![attr_s("auto_pad", "SAME_LOWER")],
    ));
    let g = m.ok();
    let Layer::Conv(c) = &layers(&g)[0].layer else { panic!("not a conv") };
    assert_eq!((c.pads_begin.as_slice(), c.pads_end.as_slice()), (&[1, 1][..], &[0, 0][..]));
    assert_eq!(g.output_layout(0), Some(&[2, 0, 1][..]), "the output is channels-first in the model");
}

#[test]
fn resize_modes_that_do_not_repeat_pixels_are_refused() {
    let resize = |mode: &str| {
        M::new(13, &[1, 3, 3]).init(floats("s", &[4], &[1.0, 1.0, 2.0, 2.0])).node(node(
            "Resize",
            "r",
            &["x", "", "s"],
            &["y"],
            vec![attr_s("mode", "nearest"), attr_s("coordinate_transformation_mode", mode)],
        ))
    };
    let g = resize("half_pixel").ok();
    assert!(matches!(&layers(&g)[0].layer, Layer::UpSample(u) if u.factors == [2, 2]));
    let (e, s) = resize("tf_half_pixel_for_nn").err();
    assert!(is_unsupported(&e, "r") && s.contains("tf_half_pixel_for_nn"), "{s}");
}

#[test]
fn padding_the_channels_is_refused() {
    let m = M::new(13, &[2, 3, 3]).init(int64s("p", &[8], &[0, 1, 0, 0, 0, 0, 0, 0])).node(node(
        "Pad",
        "p",
        &["x", "p"],
        &["y"],
        vec![],
    ));
    let (e, s) = m.err();
    assert!(is_unsupported(&e, "p") && s.contains("channels"), "{s}");
}

#[test]
fn channel_concat_of_feature_maps_joins_the_last_ir_axis() {
    let m = M::new(13, &[2, 3, 3])
        .init(floats("w", &[1, 2, 1, 1], &[1.0, 1.0]))
        .node(node("Conv", "c", &["x", "w"], &["a"], vec![]))
        .node(node("Concat", "cat", &["a", "x"], &["y"], vec![attr_i("axis", 1)]));
    let g = m.ok();
    let cat = layers(&g).into_iter().find(|n| n.name == "cat").expect("concat");
    assert!(matches!(&cat.layer, Layer::Concatenate(c) if c.axis == 2));
    assert_eq!(cat.shape.dims(), [3, 3, 3]);
}
