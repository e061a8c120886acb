//! ONNX, QONNX and QDQ import.
//!
//! [`load`] reads a `.onnx` file and returns an [`ir::Graph`] that passes
//! `ir::validate(.., Stage::Imported)`, or an [`OnnxError`] naming the file and the node at fault.
//!
//! How a model becomes a graph:
//!
//! * the one graph input that is not an initializer becomes `Layer::Input`; its first dimension is
//!   the batch (symbolic or any fixed size) and is dropped, so IR shapes describe one sample;
//! * nodes are visited in topological order and dispatched through the op table in [`ops`]; each
//!   value is either a constant (initializers, `Constant`, and everything computed only from
//!   constants is folded here) or an activation, an IR node with its shape;
//! * every node whose op is unknown or used in a way the IR cannot express is collected, and all of
//!   them are reported together in one [`OnnxError::Unsupported`];
//! * quantizers (QONNX `Quant`, `BipolarQuant`, `Trunc`; `QuantizeLinear`/`DequantizeLinear`) become
//!   exact fixed-point types, on constants (`Weights::ty`) or as `Layer::Quantize` nodes; a scale
//!   or mode that no `ap_fixed` type represents exactly is an error, never an approximation.
//!
//! IR node names are the ONNX node names, or the first output name of an unnamed node, verbatim.
//! Nothing in the result depends on hash order. No protobuf type leaves this module.

mod builder;
mod layout;
mod model;
mod ops;
mod tensor;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::ir::{Graph, IrError};
use builder::Builder;
use model::Model;
use ops::{NodeCtx, Value};

/// One node the importer cannot represent.
#[derive(Debug, Clone, PartialEq)]
pub struct UnsupportedOp {
    pub op_type: String,
    pub node: String,
    /// Why, when the op itself is known but not in this use.
    pub reason: Option<String>,
}

impl fmt::Display for UnsupportedOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} '{}'", self.op_type, self.node)?;
        if let Some(r) = &self.reason {
            write!(f, " ({r})")?;
        }
        Ok(())
    }
}

fn list(ops: &[UnsupportedOp]) -> String {
    ops.iter().map(|o| o.to_string()).collect::<Vec<_>>().join(", ")
}

#[derive(Debug, Error)]
pub enum OnnxError {
    #[error("{path}: cannot read the file: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a readable ONNX model: {what}")]
    Decode { path: PathBuf, what: String },
    /// A problem with the model as a whole (opset, inputs, outputs).
    #[error("{path}: {what}")]
    Model { path: PathBuf, what: String },
    #[error("{path}: graph input '{input}': {what}")]
    Input { path: PathBuf, input: String, what: String },
    #[error("{path}: node '{node}' ({op}): {what}")]
    Node { path: PathBuf, node: String, op: String, what: String },
    #[error("{path}: node '{node}' ({op}) reads '{input}', which is not a graph input, an initializer or the output of an earlier node")]
    Undefined { path: PathBuf, node: String, op: String, input: String },
    #[error("{path}: node '{node}' ({op}): tensor '{tensor}': {what}")]
    Tensor { path: PathBuf, node: String, op: String, tensor: String, what: String },
    #[error("{path}: node '{node}' ({op}): inconsistent shapes: {what}")]
    Shape { path: PathBuf, node: String, op: String, what: String },
    #[error("{path}: node '{node}' ({op}): no exact fixed-point type for this quantizer: {what}")]
    Quant { path: PathBuf, node: String, op: String, what: String },
    #[error("{path}: {} unsupported operation(s): {}", ops.len(), list(ops))]
    Unsupported { path: PathBuf, ops: Vec<UnsupportedOp> },
    #[error("{path}: the imported graph is invalid: {source}")]
    Ir { path: PathBuf, source: IrError },
}

/// Reads an ONNX model and converts it to the IR.
pub fn load(path: &Path) -> Result<Graph, OnnxError> {
    convert(path, model::read(path)?)
}

/// As [`load`], from the bytes of a model (`path` names it in messages and gives the default
/// graph name).
pub fn load_bytes(path: &Path, bytes: &[u8]) -> Result<Graph, OnnxError> {
    convert(path, model::parse(path, bytes)?)
}

fn convert(path: &Path, model: Model) -> Result<Graph, OnnxError> {
    let name = if model.graph_name.is_empty() {
        path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
    } else {
        model.graph_name.clone()
    };
    let mut b = Builder::new(path, &name);
    let mut values: BTreeMap<String, Value> = BTreeMap::new();
    b.add_inputs(&model, &mut values, &ops::channels_first_inputs(&model))?;

    let mut unsupported = Vec::new();
    for node in &model.nodes {
        let ctx = NodeCtx::new(path, node, &model);
        let outputs = match ops::run(&mut b, &ctx, &mut values) {
            Ok(outs) => outs,
            Err(OnnxError::Unsupported { ops, .. }) => {
                unsupported.extend(ops);
                vec![Value::Poisoned; node.outputs.len()]
            }
            Err(e) => return Err(e),
        };
        for (i, name) in node.outputs.iter().enumerate() {
            if name.is_empty() {
                continue;
            }
            let v = outputs.get(i).cloned().unwrap_or_else(|| {
                Value::Unavailable(format!(
                    "output #{i} of {} '{}' is not supported",
                    node.op_type, node.label
                ))
            });
            ctx.check_declared(name, &v, b.batchless)?;
            values.insert(name.clone(), v);
        }
    }
    if !unsupported.is_empty() {
        return Err(OnnxError::Unsupported { path: path.to_path_buf(), ops: unsupported });
    }
    ops::check_dequantized(path, &b, &values)?;
    b.finish(&model, &values)
}

#[cfg(test)]
mod tests;
