//! Emits IR nodes for the op handlers and finishes the graph.
//!
//! Contract: [`Builder::add`] checks what the IR requires of every node (no zero dimensions, at
//! most `MAX_ELEMENTS` elements, finite constants) and reports violations against the ONNX node;
//! [`Builder::finish`] connects the graph outputs, drops nodes no output depends on, and runs
//! `ir::validate(.., Stage::Imported)`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::model::{Dim, Model};
use super::ops::{show_dims, Act, NodeCtx, Value};
use super::tensor::{dtype_name, elements, DType};
use super::OnnxError;
use crate::fixed::FixedType;
use crate::ir::{self, Graph, Layer, Node, NodeId, Shape, MAX_ELEMENTS};

/// The batch dimension of the graph input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Batch {
    Symbolic,
    Fixed(usize),
}

pub(crate) struct Builder {
    path: PathBuf,
    graph: Graph,
    pub batch: Batch,
    /// Labels of the `QuantizeLinear` nodes whose output a `DequantizeLinear` consumed.
    pub dequantized: BTreeSet<String>,
}

impl Builder {
    pub(crate) fn new(path: &Path, name: &str) -> Self {
        Builder {
            path: path.to_path_buf(),
            graph: Graph::new(name),
            batch: Batch::Symbolic,
            dequantized: BTreeSet::new(),
        }
    }

    fn input_err(&self, input: &str, what: impl Into<String>) -> OnnxError {
        OnnxError::Input { path: self.path.clone(), input: input.to_string(), what: what.into() }
    }

    fn model_err(&self, what: impl Into<String>) -> OnnxError {
        OnnxError::Model { path: self.path.clone(), what: what.into() }
    }

    /// Creates the `Input` layer from the one graph input that is not an initializer.
    pub(crate) fn add_input(
        &mut self,
        model: &Model,
        values: &mut BTreeMap<String, Value>,
    ) -> Result<(), OnnxError> {
        let real: Vec<_> =
            model.inputs.iter().filter(|i| !model.initializers.contains_key(&i.name)).collect();
        let input = match real[..] {
            [] => return Err(self.model_err("the graph has no input (other than initializers)")),
            [one] => one,
            _ => {
                let names: Vec<String> = real.iter().map(|i| format!("'{}'", i.name)).collect();
                return Err(self.model_err(format!(
                    "the graph has {} inputs ({}); exactly one is supported",
                    real.len(),
                    names.join(", ")
                )));
            }
        };
        let name = input.name.as_str();
        match input.elem_type.and_then(DType::from_code) {
            Some(t) if t.is_float() => {}
            Some(_) | None => {
                let ty = input.elem_type.map(dtype_name).unwrap_or_else(|| "not a tensor".into());
                return Err(self.input_err(name, format!("element type {ty}; a float tensor is required")));
            }
        }
        let dims =
            input.dims.as_ref().ok_or_else(|| self.input_err(name, "the input has no declared shape"))?;
        if dims.len() < 2 {
            return Err(self.input_err(
                name,
                format!("shape {} needs a batch dimension and at least one more", show_dims(dims)),
            ));
        }
        self.batch = match &dims[0] {
            Dim::Value(v) if *v > 0 => Batch::Fixed(*v as usize),
            Dim::Value(v) => {
                return Err(self.input_err(name, format!("batch dimension {v} must be at least 1")));
            }
            Dim::Param(_) | Dim::Unknown => Batch::Symbolic,
        };
        let mut sample = Vec::with_capacity(dims.len() - 1);
        for (axis, d) in dims.iter().enumerate().skip(1) {
            match d {
                Dim::Value(v) if *v > 0 => sample.push(*v as usize),
                Dim::Value(v) => {
                    return Err(self.input_err(
                        name,
                        format!(
                            "dimension {axis} of shape {} is {v}; dimensions must be positive",
                            show_dims(dims)
                        ),
                    ));
                }
                _ => {
                    return Err(self.input_err(
                        name,
                        format!(
                            "dimension {axis} of shape {} is symbolic; only the first (batch) dimension may be",
                            show_dims(dims)
                        ),
                    ));
                }
            }
        }
        let per_sample = elements(&sample);
        let full = match self.batch {
            Batch::Fixed(b) => per_sample.and_then(|n| n.checked_mul(b)),
            Batch::Symbolic => per_sample,
        };
        if full.is_none_or(|n| n > MAX_ELEMENTS) {
            return Err(self.input_err(
                name,
                format!("shape {} has more than the limit of {MAX_ELEMENTS} elements", show_dims(dims)),
            ));
        }
        let shape = Shape::new(sample);
        let id = self.graph.add_node(Node::new(name, Layer::Input, shape.clone()), &[]);
        values.insert(name.to_string(), Value::Act(Act { id, shape }));
        Ok(())
    }

    /// Adds an IR node fed by `inputs`.
    pub(crate) fn add(
        &mut self,
        ctx: &NodeCtx,
        name: &str,
        layer: Layer,
        shape: Shape,
        inputs: &[NodeId],
    ) -> Result<Act, OnnxError> {
        self.add_typed(ctx, name, layer, shape, inputs, None)
    }

    /// As [`Builder::add`], with an output type fixed by the model.
    pub(crate) fn add_typed(
        &mut self,
        ctx: &NodeCtx,
        name: &str,
        layer: Layer,
        shape: Shape,
        inputs: &[NodeId],
        ty: Option<FixedType>,
    ) -> Result<Act, OnnxError> {
        if shape.dims().contains(&0) || shape.elements() > MAX_ELEMENTS {
            return Err(ctx.shape_err(format!(
                "the result has shape [batch, {}]: dimensions must be positive and at most {MAX_ELEMENTS} \
                 elements",
                shape.dims().iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")
            )));
        }
        for (role, w) in layer.weights() {
            if w.shape.dims().contains(&0) || w.values.len() != w.shape.elements() {
                return Err(ctx.shape_err(format!(
                    "{role} has shape {} with {} values",
                    w.shape,
                    w.values.len()
                )));
            }
            if let Some(pos) = w.values.iter().position(|v| !v.is_finite()) {
                return Err(ctx.err(format!("{role} value #{pos} is {}", w.values[pos])));
            }
        }
        let mut node = Node::new(name, layer, shape.clone());
        if ty.is_some() {
            node.ty = ty;
            node.ty_from_model = true;
        }
        let id = self.graph.add_node(node, inputs);
        Ok(Act { id, shape })
    }

    /// Connects the graph outputs, removes dead nodes and validates.
    pub(crate) fn finish(
        mut self,
        model: &Model,
        values: &BTreeMap<String, Value>,
    ) -> Result<Graph, OnnxError> {
        if model.outputs.is_empty() {
            return Err(self.model_err("the graph has no output"));
        }
        let mut outputs = Vec::with_capacity(model.outputs.len());
        for o in &model.outputs {
            let id = match values.get(&o.name) {
                Some(Value::Act(a)) => a.id,
                Some(Value::Const(_)) => {
                    return Err(self.model_err(format!(
                        "graph output '{}' is a constant: it does not depend on the input",
                        o.name
                    )))
                }
                Some(Value::Quantized(p)) => return Err(p.not_dequantized(&self.path, "a graph output")),
                Some(Value::Unavailable(why)) => {
                    return Err(self.model_err(format!("graph output '{}' is unavailable: {why}", o.name)))
                }
                Some(Value::Poisoned) | None => {
                    return Err(
                        self.model_err(format!("graph output '{}' is not produced by any node", o.name))
                    )
                }
            };
            outputs.push(id);
        }
        let mut live: BTreeSet<NodeId> = BTreeSet::new();
        let mut stack = outputs.clone();
        while let Some(id) = stack.pop() {
            if live.insert(id) {
                stack.extend(self.graph.inputs_of(id));
            }
        }
        for id in self.graph.node_ids() {
            if !live.contains(&id) && !matches!(self.graph.node(id).layer, Layer::Input) {
                self.graph.remove(id);
            }
        }
        self.graph.set_outputs(outputs);
        ir::validate(&self.graph, ir::Stage::Imported)
            .map_err(|source| OnnxError::Ir { path: self.path.clone(), source })?;
        Ok(self.graph)
    }
}
