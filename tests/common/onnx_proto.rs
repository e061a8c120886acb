//! ONNX protobuf pieces for models built in tests and benches with `onnx-protobuf`.

use onnx_protobuf::tensor_shape_proto::{dimension, Dimension};
use onnx_protobuf::{type_proto, TensorShapeProto, TypeProto, ValueInfoProto};

/// A float tensor `[N, features]` with a symbolic batch axis.
pub fn value_info(name: &str, features: usize) -> ValueInfoProto {
    value_info_dims(name, &[features])
}

/// A float tensor `[N, dims...]` with a symbolic batch axis.
pub fn value_info_dims(name: &str, dims: &[usize]) -> ValueInfoProto {
    let mut shape = TensorShapeProto::new();
    let batch = dimension::Value::DimParam("N".into());
    for d in std::iter::once(batch).chain(dims.iter().map(|&d| dimension::Value::DimValue(d as i64))) {
        let mut dim = Dimension::new();
        dim.value = Some(d);
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
