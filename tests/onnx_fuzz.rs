//! Fuzzes the ONNX importer with structure-aware mutations of the shipped test models: wrong
//! dimensions, truncated or missing initializers, out-of-range attributes, swapped op types,
//! dangling inputs, flipped bytes. Whatever the importer accepts must then lower, validate and
//! simulate one sample; every step may fail with an error but none may panic.

use std::path::Path;

use hls_gen::frontend::onnx::load_bytes;
use onnx_protobuf::{Message, ModelProto};
use proptest::prelude::*;

mod common;

const MODELS: [&str; 11] = [
    "mlp_float",
    "mlp_gemm_bn",
    "mlp_qonnx",
    "mlp_qdq",
    "ops_zoo_op13",
    "cnn2d",
    "cnn1d",
    "cnn_merge",
    "cnn_pad",
    "cnn_nhwc",
    "cnn_qdq",
];
const OPS: [&str; 19] = [
    "Conv",
    "MaxPool",
    "AveragePool",
    "GlobalAveragePool",
    "Pad",
    "Resize",
    "Concat",
    "Gemm",
    "MatMul",
    "Add",
    "Relu",
    "Softmax",
    "Reshape",
    "Flatten",
    "Quant",
    "Clip",
    "Mul",
    "Transpose",
    "Foo",
];

#[derive(Debug, Clone)]
enum Mutation {
    InitializerDim { tensor: usize, dim: usize, value: i64 },
    TruncateInitializer { tensor: usize, keep: usize },
    DropInitializer { tensor: usize },
    AttributeInt { node: usize, attr: usize, value: i64 },
    OpType { node: usize, op: usize },
    DanglingInput { node: usize, input: usize },
    InputDim { dim: usize, value: i64 },
    FlipByte { at: usize, xor: u8 },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let small = prop_oneof![-3i64..=3, Just(i64::MAX), Just(i64::MIN), 0i64..100_000];
    prop_oneof![
        (0usize..64, 0usize..4, small.clone()).prop_map(|(tensor, dim, value)| Mutation::InitializerDim {
            tensor,
            dim,
            value
        }),
        (0usize..64, 0usize..64).prop_map(|(tensor, keep)| Mutation::TruncateInitializer { tensor, keep }),
        (0usize..64).prop_map(|tensor| Mutation::DropInitializer { tensor }),
        (0usize..64, 0usize..4, small.clone()).prop_map(|(node, attr, value)| Mutation::AttributeInt {
            node,
            attr,
            value
        }),
        (0usize..64, 0usize..OPS.len()).prop_map(|(node, op)| Mutation::OpType { node, op }),
        (0usize..64, 0usize..3).prop_map(|(node, input)| Mutation::DanglingInput { node, input }),
        (0usize..3, small).prop_map(|(dim, value)| Mutation::InputDim { dim, value }),
        (any::<usize>(), 1u8..=255).prop_map(|(at, xor)| Mutation::FlipByte { at, xor }),
    ]
}

fn apply(bytes: &[u8], m: &Mutation) -> Vec<u8> {
    if let Mutation::FlipByte { at, xor } = m {
        let mut out = bytes.to_vec();
        let i = at % out.len();
        out[i] ^= xor;
        return out;
    }
    let mut model = ModelProto::parse_from_bytes(bytes).expect("the shipped model parses");
    let graph = model.graph.mut_or_insert_default();
    let pick = |n: usize, len: usize| (len > 0).then(|| n % len);
    match *m {
        Mutation::InitializerDim { tensor, dim, value } => {
            if let Some(t) = pick(tensor, graph.initializer.len()) {
                let dims = &mut graph.initializer[t].dims;
                match pick(dim, dims.len()) {
                    Some(d) => dims[d] = value,
                    None => dims.push(value),
                }
            }
        }
        Mutation::TruncateInitializer { tensor, keep } => {
            if let Some(t) = pick(tensor, graph.initializer.len()) {
                let init = &mut graph.initializer[t];
                let keep_raw = keep.min(init.raw_data.len());
                init.raw_data.truncate(keep_raw);
                init.float_data.truncate(keep);
                init.int64_data.truncate(keep);
                init.int32_data.truncate(keep);
            }
        }
        Mutation::DropInitializer { tensor } => {
            if let Some(t) = pick(tensor, graph.initializer.len()) {
                graph.initializer.remove(t);
            }
        }
        Mutation::AttributeInt { node, attr, value } => {
            if let Some(n) = pick(node, graph.node.len()) {
                let attrs = &mut graph.node[n].attribute;
                if let Some(a) = pick(attr, attrs.len()) {
                    attrs[a].i = value;
                    attrs[a].ints.iter_mut().for_each(|v| *v = value);
                }
            }
        }
        Mutation::OpType { node, op } => {
            if let Some(n) = pick(node, graph.node.len()) {
                graph.node[n].op_type = OPS[op].to_string();
            }
        }
        Mutation::DanglingInput { node, input } => {
            if let Some(n) = pick(node, graph.node.len()) {
                let inputs = &mut graph.node[n].input;
                match pick(input, inputs.len()) {
                    Some(i) => inputs[i] = "no_such_tensor".into(),
                    None => inputs.push("no_such_tensor".into()),
                }
            }
        }
        Mutation::InputDim { dim, value } => {
            if let Some(input) = graph.input.first_mut() {
                use onnx_protobuf::tensor_shape_proto::dimension::Value;
                use onnx_protobuf::type_proto::Value as TypeValue;
                if let Some(TypeValue::TensorType(t)) = input.type_.mut_or_insert_default().value.as_mut() {
                    let dims = &mut t.shape.mut_or_insert_default().dim;
                    if let Some(d) = pick(dim, dims.len()) {
                        dims[d].value = Some(Value::DimValue(value));
                    }
                }
            }
        }
        Mutation::FlipByte { .. } => unreachable!("handled above"),
    }
    model.write_to_bytes().expect("a mutated model serializes")
}

/// Imports, then lowers and simulates what the importer accepts.
fn exercise(name: &str, bytes: &[u8]) {
    if let Ok(g) = load_bytes(Path::new(name), bytes) {
        common::lower_and_simulate(g);
    }
}

fn model_bytes(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/models/onnx/{name}.onnx"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_models_never_panic(model in 0usize..MODELS.len(), mutations in prop::collection::vec(mutation(), 1..4)) {
        let name = MODELS[model];
        let mut bytes = model_bytes(name);
        for m in &mutations {
            bytes = apply(&bytes, m);
            if ModelProto::parse_from_bytes(&bytes).is_err() {
                break;
            }
        }
        exercise(name, &bytes);
    }
}

#[test]
fn unmutated_models_import() {
    for name in MODELS {
        let g = load_bytes(Path::new(name), &model_bytes(name));
        assert!(g.is_ok(), "{name}: {:?}", g.err());
    }
}
