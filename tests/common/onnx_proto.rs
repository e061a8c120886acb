//! ONNX protobuf pieces for models built in tests and benches with `onnx-protobuf`.

use std::path::Path;

use onnx_protobuf::tensor_shape_proto::{dimension, Dimension};
use onnx_protobuf::{
    type_proto, GraphProto, Message, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto,
};

/// A float tensor `[N, features]` with a symbolic batch axis.
#[allow(dead_code)]
pub fn value_info(name: &str, features: usize) -> ValueInfoProto {
    value_info_dims(name, &[features])
}

/// A float tensor `[N, dims...]` with a symbolic batch axis.
#[allow(dead_code)]
pub fn value_info_dims(name: &str, dims: &[usize]) -> ValueInfoProto {
    let batch = dimension::Value::DimParam("N".into());
    let dims = std::iter::once(batch).chain(dims.iter().map(|&d| dimension::Value::DimValue(d as i64)));
    value_info_typed(name, 1, dims)
}

/// A tensor of ONNX element type `elem_type` and exactly `dims` (no batch axis), as graph models
/// declare their inputs.
#[allow(dead_code)]
pub fn value_info_fixed(name: &str, elem_type: i32, dims: &[usize]) -> ValueInfoProto {
    value_info_typed(name, elem_type, dims.iter().map(|&d| dimension::Value::DimValue(d as i64)))
}

fn value_info_typed(
    name: &str,
    elem_type: i32,
    dims: impl Iterator<Item = dimension::Value>,
) -> ValueInfoProto {
    let mut shape = TensorShapeProto::new();
    for d in dims {
        let mut dim = Dimension::new();
        dim.value = Some(d);
        shape.dim.push(dim);
    }
    let mut tt = type_proto::Tensor::new();
    tt.elem_type = elem_type;
    tt.shape = Some(shape).into();
    let mut ty = TypeProto::new();
    ty.value = Some(type_proto::Value::TensorType(tt));
    let mut vi = ValueInfoProto::new();
    vi.name = name.into();
    vi.type_ = Some(ty).into();
    vi
}

/// A node with one output.
#[allow(dead_code)]
pub fn onnx_node(op: &str, name: &str, inputs: &[&str], output: &str) -> NodeProto {
    let mut n = NodeProto::new();
    n.op_type = op.into();
    n.name = name.into();
    n.input = inputs.iter().map(|s| s.to_string()).collect();
    n.output = vec![output.to_string()];
    n
}

/// A float32 initializer of seeded values in [-0.5, 0.5), multiples of 2^-6 (xorshift64).
#[allow(dead_code)]
pub fn onnx_tensor(name: &str, dims: &[usize], seed: u64) -> TensorProto {
    let mut state = 0x9e37_79b9_7f4a_7c15u64 ^ seed;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % 64) as i64 - 32
    };
    let n: usize = dims.iter().product();
    let mut t = TensorProto::new();
    t.name = name.into();
    t.data_type = 1;
    t.dims = dims.iter().map(|&d| d as i64).collect();
    t.float_data = (0..n).map(|_| next() as f32 / 64.0).collect();
    t
}

/// `g` as the bytes of an ONNX model (IR version 8, opset 13).
#[allow(dead_code)]
pub fn model_bytes(g: GraphProto) -> Vec<u8> {
    let mut m = ModelProto::new();
    m.ir_version = 8;
    let mut o = OperatorSetIdProto::new();
    o.version = 13;
    m.opset_import.push(o);
    m.graph = Some(g).into();
    m.write_to_bytes().expect("an encodable model")
}

/// Writes `g` as an ONNX model ([`model_bytes`]) to `path`.
#[allow(dead_code)]
pub fn save_model(g: GraphProto, path: &Path) {
    std::fs::write(path, model_bytes(g)).expect("writes the model");
}
