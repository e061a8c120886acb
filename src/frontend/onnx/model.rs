//! Reads an ONNX file into plain structures: opsets, graph inputs and outputs, declared shapes,
//! initializers (still encoded) and nodes with their attributes.
//!
//! Spec: <https://onnx.ai/onnx/repo-docs/IR.html>.
//!
//! Contract: the default-domain opset must be 1 to 21 (`""` and `"ai.onnx"` are the same domain;
//! opsets 1 to 6 are read where they mean what opset 7 does, see `ops/legacy.rs`);
//! the custom domains `qonnx.custom_op.general`, `finn.custom_op.general` and `onnx.brevitas` hold
//! the QONNX operators, `qonnx.custom_op.channels_last` QONNX's channels-last wrappers. Opset
//! imports of other domains are accepted here; a node using one is
//! reported as unsupported later. Nodes are returned in a topological order (ties in file order),
//! so a model whose nodes are listed out of order still imports.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use onnx_protobuf::attribute_proto::AttributeType;
use onnx_protobuf::type_proto;
use onnx_protobuf::{Message, ModelProto, TensorProto, ValueInfoProto};

use super::OnnxError;

pub(crate) const MIN_OPSET: i64 = 1;
pub(crate) const MAX_OPSET: i64 = 21;

/// Custom domains whose operators follow the QONNX definitions.
pub(crate) const QONNX_DOMAINS: [&str; 3] =
    ["qonnx.custom_op.general", "finn.custom_op.general", "onnx.brevitas"];

/// QONNX's channels-last wrappers: `Conv`, `MaxPool` and `BatchNormalization` as the standard ops,
/// on channels-last (NHWC) tensors.
pub(crate) const QONNX_CHANNELS_LAST: &str = "qonnx.custom_op.channels_last";

/// One dimension of a declared shape.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Dim {
    Value(i64),
    Param(String),
    Unknown,
}

/// A graph input or output, or a `value_info` entry.
#[derive(Debug, Clone)]
pub(crate) struct ValueInfo {
    pub name: String,
    /// The tensor element type code, `None` when the value is not a tensor or has no type.
    pub elem_type: Option<i32>,
    pub dims: Option<Vec<Dim>>,
}

#[derive(Debug, Clone)]
pub(crate) enum Attr {
    Float(f32),
    Int(i64),
    Str(Vec<u8>),
    Tensor(Box<TensorProto>),
    Floats(Vec<f32>),
    Ints(Vec<i64>),
    /// A kind the importer never reads (graphs, sparse tensors, string lists, ...).
    Other(&'static str),
}

impl Attr {
    /// The attribute's kind, for messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Attr::Float(_) => "a float",
            Attr::Int(_) => "an integer",
            Attr::Str(_) => "a string",
            Attr::Tensor(_) => "a tensor",
            Attr::Floats(_) => "a list of floats",
            Attr::Ints(_) => "a list of integers",
            Attr::Other(k) => k,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// The node name, or its first output name when the node is unnamed.
    pub label: String,
    pub op_type: String,
    /// `""` for the default domain (also when the file says `ai.onnx`).
    pub domain: String,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    pub attrs: BTreeMap<String, Attr>,
}

#[derive(Debug)]
pub(crate) struct Model {
    pub graph_name: String,
    /// Default-domain opset.
    pub opset: i64,
    /// Opset of every other imported domain.
    pub domains: BTreeMap<String, i64>,
    pub inputs: Vec<ValueInfo>,
    pub outputs: Vec<ValueInfo>,
    /// Declared shapes of intermediate values (`value_info`) and graph outputs.
    pub declared: BTreeMap<String, Vec<Dim>>,
    pub initializers: BTreeMap<String, TensorProto>,
    pub nodes: Vec<Node>,
}

/// Reads and parses the file, checks the opsets and orders the nodes.
pub(crate) fn read(path: &Path) -> Result<Model, OnnxError> {
    let bytes = std::fs::read(path).map_err(|source| OnnxError::Io { path: path.to_path_buf(), source })?;
    parse(path, &bytes)
}

/// As [`read`], on bytes already in memory (`path` is used in messages only).
pub(crate) fn parse(path: &Path, bytes: &[u8]) -> Result<Model, OnnxError> {
    let model_err = |what: String| OnnxError::Model { path: path.to_path_buf(), what };
    let proto = ModelProto::parse_from_bytes(bytes)
        .map_err(|e| OnnxError::Decode { path: path.to_path_buf(), what: e.to_string() })?;
    let mut opset = None;
    let mut domains = BTreeMap::new();
    for o in &proto.opset_import {
        if o.domain.is_empty() || o.domain == "ai.onnx" {
            opset = Some(o.version);
        } else {
            domains.insert(o.domain.clone(), o.version);
        }
    }
    let opset =
        opset.ok_or_else(|| model_err("the model imports no default-domain (ai.onnx) opset".into()))?;
    if !(MIN_OPSET..=MAX_OPSET).contains(&opset) {
        return Err(model_err(format!(
            "default-domain opset {opset} is not supported (supported: {MIN_OPSET} to {MAX_OPSET}); \
             convert the model with onnx.version_converter"
        )));
    }
    let graph = proto.graph.as_ref().ok_or_else(|| model_err("the file holds no graph".into()))?;

    let mut initializers = BTreeMap::new();
    for t in &graph.initializer {
        if initializers.insert(t.name.clone(), t.clone()).is_some() {
            return Err(model_err(format!("initializer '{}' is defined twice", t.name)));
        }
    }
    if let Some(s) = graph.sparse_initializer.first() {
        let name = s.values.as_ref().map(|v| v.name.clone()).unwrap_or_default();
        return Err(model_err(format!("sparse initializer '{name}' is not supported")));
    }

    let mut declared = BTreeMap::new();
    for vi in graph.value_info.iter().chain(&graph.output) {
        let info = value_info(vi);
        if let Some(dims) = info.dims {
            declared.insert(info.name, dims);
        }
    }

    let nodes = graph
        .node
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let label = if !n.name.is_empty() {
                n.name.clone()
            } else if let Some(o) = n.output.iter().find(|o| !o.is_empty()) {
                o.clone()
            } else {
                format!("#{i} ({})", n.op_type)
            };
            let domain = if n.domain == "ai.onnx" { String::new() } else { n.domain.clone() };
            let attrs = n.attribute.iter().map(|a| (a.name.clone(), attr(a))).collect();
            Node {
                label,
                op_type: n.op_type.clone(),
                domain,
                inputs: n.input.clone(),
                outputs: n.output.clone(),
                attrs,
            }
        })
        .collect();
    let nodes = topological(path, nodes, &initializers, graph.input.iter().map(|i| i.name.as_str()))?;

    Ok(Model {
        graph_name: graph.name.clone(),
        opset,
        domains,
        inputs: graph.input.iter().map(value_info).collect(),
        outputs: graph.output.iter().map(value_info).collect(),
        declared,
        initializers,
        nodes,
    })
}

fn value_info(vi: &ValueInfoProto) -> ValueInfo {
    let tensor = vi.type_.as_ref().and_then(|t| match &t.value {
        Some(type_proto::Value::TensorType(tt)) => Some(tt),
        _ => None,
    });
    let dims = tensor.and_then(|tt| tt.shape.as_ref()).map(|s| {
        s.dim
            .iter()
            .map(|d| match &d.value {
                Some(onnx_protobuf::tensor_shape_proto::dimension::Value::DimValue(v)) => Dim::Value(*v),
                Some(onnx_protobuf::tensor_shape_proto::dimension::Value::DimParam(p)) => {
                    Dim::Param(p.clone())
                }
                _ => Dim::Unknown,
            })
            .collect()
    });
    ValueInfo { name: vi.name.clone(), elem_type: tensor.map(|tt| tt.elem_type), dims }
}

fn attr(a: &onnx_protobuf::AttributeProto) -> Attr {
    let ty = a.type_.enum_value();
    match ty {
        Ok(AttributeType::FLOAT) => Attr::Float(a.f),
        Ok(AttributeType::INT) => Attr::Int(a.i),
        Ok(AttributeType::STRING) => Attr::Str(a.s.clone()),
        Ok(AttributeType::TENSOR) => match a.t.as_ref() {
            Some(t) => Attr::Tensor(Box::new(t.clone())),
            None => Attr::Other("an empty tensor"),
        },
        Ok(AttributeType::FLOATS) => Attr::Floats(a.floats.clone()),
        Ok(AttributeType::INTS) => Attr::Ints(a.ints.clone()),
        // Writers before IR version 2 may leave the type out; the set field tells.
        Ok(AttributeType::UNDEFINED) => {
            if let Some(t) = a.t.as_ref() {
                Attr::Tensor(Box::new(t.clone()))
            } else if !a.ints.is_empty() {
                Attr::Ints(a.ints.clone())
            } else if !a.floats.is_empty() {
                Attr::Floats(a.floats.clone())
            } else if !a.s.is_empty() {
                Attr::Str(a.s.clone())
            } else if a.f != 0.0 {
                Attr::Float(a.f)
            } else {
                Attr::Int(a.i)
            }
        }
        Ok(AttributeType::GRAPH | AttributeType::GRAPHS) => Attr::Other("a graph"),
        Ok(AttributeType::SPARSE_TENSOR | AttributeType::SPARSE_TENSORS) => Attr::Other("a sparse tensor"),
        Ok(AttributeType::STRINGS) => Attr::Other("a list of strings"),
        Ok(AttributeType::TENSORS) => Attr::Other("a list of tensors"),
        Ok(AttributeType::TYPE_PROTO | AttributeType::TYPE_PROTOS) => Attr::Other("a type"),
        Err(_) => Attr::Other("of an unknown kind"),
    }
}

/// Orders nodes so that every value is produced before it is read (Kahn's algorithm, ties by file
/// position). Inputs that no node produces are left for the converter to report.
fn topological<'a>(
    path: &Path,
    nodes: Vec<Node>,
    initializers: &'a BTreeMap<String, TensorProto>,
    graph_inputs: impl Iterator<Item = &'a str>,
) -> Result<Vec<Node>, OnnxError> {
    let external: BTreeSet<&str> = graph_inputs.chain(initializers.keys().map(|k| k.as_str())).collect();
    let mut producer: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        for o in n.outputs.iter().filter(|o| !o.is_empty()) {
            if producer.insert(o.as_str(), i).is_some() || external.contains(o.as_str()) {
                return Err(OnnxError::Node {
                    path: path.to_path_buf(),
                    node: n.label.clone(),
                    op: n.op_type.clone(),
                    what: format!("output '{o}' is produced more than once"),
                });
            }
        }
    }
    let mut indegree = vec![0usize; nodes.len()];
    let mut users: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (i, n) in nodes.iter().enumerate() {
        let deps: BTreeSet<usize> = n
            .inputs
            .iter()
            .filter(|name| !external.contains(name.as_str()))
            .filter_map(|name| producer.get(name.as_str()).copied())
            .collect();
        indegree[i] = deps.len();
        for d in deps {
            users[d].push(i);
        }
    }
    let mut ready: BTreeSet<usize> = (0..nodes.len()).filter(|&i| indegree[i] == 0).collect();
    let mut order = Vec::with_capacity(nodes.len());
    while let Some(i) = ready.pop_first() {
        order.push(i);
        for &u in &users[i] {
            indegree[u] -= 1;
            if indegree[u] == 0 {
                ready.insert(u);
            }
        }
    }
    if order.len() != nodes.len() {
        let stuck = (0..nodes.len()).find(|i| indegree[*i] > 0).unwrap_or(0);
        let n = &nodes[stuck];
        return Err(OnnxError::Node {
            path: path.to_path_buf(),
            node: n.label.clone(),
            op: n.op_type.clone(),
            what: "the graph has a cycle through this node".into(),
        });
    }
    let mut slots: Vec<Option<Node>> = nodes.into_iter().map(Some).collect();
    Ok(order.into_iter().filter_map(|i| slots[i].take()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use onnx_protobuf::{GraphProto, NodeProto, OperatorSetIdProto};

    fn model(opset: i64, nodes: Vec<NodeProto>) -> Vec<u8> {
        let mut m = ModelProto::new();
        let mut o = OperatorSetIdProto::new();
        o.version = opset;
        m.opset_import.push(o);
        let mut g = GraphProto::new();
        g.node = nodes;
        m.graph = Some(g).into();
        m.write_to_bytes().unwrap()
    }

    fn node(name: &str, op: &str, inputs: &[&str], outputs: &[&str]) -> NodeProto {
        let mut n = NodeProto::new();
        n.name = name.into();
        n.op_type = op.into();
        n.input = inputs.iter().map(|s| s.to_string()).collect();
        n.output = outputs.iter().map(|s| s.to_string()).collect();
        n
    }

    #[test]
    fn opset_range() {
        let p = Path::new("m.onnx");
        assert!(parse(p, &model(1, vec![])).is_ok());
        assert!(parse(p, &model(6, vec![])).is_ok());
        assert!(parse(p, &model(21, vec![])).is_ok());
        let e = parse(p, &model(0, vec![])).unwrap_err().to_string();
        assert!(e.contains("opset 0 is not supported"), "{e}");
        assert!(parse(p, &model(22, vec![])).is_err());
    }

    #[test]
    fn nodes_are_sorted_and_labelled() {
        let p = Path::new("m.onnx");
        let nodes = vec![node("", "Relu", &["a"], &["b"]), node("first", "Relu", &["x"], &["a"])];
        let m = parse(p, &model(13, nodes)).unwrap();
        let labels: Vec<&str> = m.nodes.iter().map(|n| n.label.as_str()).collect();
        assert_eq!(labels, ["first", "b"]);
        let cyc = vec![node("n1", "Relu", &["b"], &["a"]), node("n2", "Relu", &["a"], &["b"])];
        assert!(parse(p, &model(13, cyc)).unwrap_err().to_string().contains("cycle"));
        let twice = vec![node("n1", "Relu", &["x"], &["a"]), node("n2", "Relu", &["x"], &["a"])];
        assert!(parse(p, &model(13, twice)).unwrap_err().to_string().contains("more than once"));
    }
}
