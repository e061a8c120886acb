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
use crate::ir::{self, Graph, Input, IrError, Layer, NodeId, Shape, MAX_ELEMENTS};

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

    /// Creates one `Input` layer per graph input that is not an initializer, in order. Every
    /// input must have the same batch dimension (symbolic, or the same size).
    pub(crate) fn add_inputs(
        &mut self,
        model: &Model,
        values: &mut BTreeMap<String, Value>,
    ) -> Result<(), OnnxError> {
        let real: Vec<_> =
            model.inputs.iter().filter(|i| !model.initializers.contains_key(&i.name)).collect();
        if real.is_empty() {
            return Err(self.model_err("the graph has no input (other than initializers)"));
        }
        for (k, input) in real.into_iter().enumerate() {
            let batch = self.add_input(input, values)?;
            if k == 0 {
                self.batch = batch;
            } else if batch != self.batch {
                return Err(self.input_err(
                    &input.name,
                    format!(
                        "its batch dimension ({batch:?}) differs from the first input's ({:?})",
                        self.batch
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Creates the `Input` layer of one graph input; returns its batch dimension.
    fn add_input(
        &mut self,
        input: &super::model::ValueInfo,
        values: &mut BTreeMap<String, Value>,
    ) -> Result<Batch, OnnxError> {
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
        let batch = match &dims[0] {
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
        let full = match batch {
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
        let id = self
            .graph
            .add(name, Layer::Input(Input::new(shape.clone())), &[])
            .map_err(|e| self.input_err(name, e.to_string()))?;
        values.insert(name.to_string(), Value::Act(Act { id, shape }));
        Ok(batch)
    }

    /// Adds an IR node fed by `inputs`; its shape is the layer's.
    pub(crate) fn add(
        &mut self,
        ctx: &NodeCtx,
        name: &str,
        layer: Layer,
        inputs: &[NodeId],
    ) -> Result<Act, OnnxError> {
        self.add_typed(ctx, name, layer, inputs, None)
    }

    /// As [`Builder::add`], with an output type fixed by the model.
    pub(crate) fn add_typed(
        &mut self,
        ctx: &NodeCtx,
        name: &str,
        layer: Layer,
        inputs: &[NodeId],
        ty: Option<FixedType>,
    ) -> Result<Act, OnnxError> {
        for (role, w) in layer.constants() {
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
        let id = self.graph.add(name, layer, inputs).map_err(|e| match e {
            IrError::Invalid { what, .. } => ctx.shape_err(what),
            other => ctx.shape_err(other.to_string()),
        })?;
        let shape = self.graph.node(id).shape.clone();
        if shape.dims().contains(&0) || shape.elements() > MAX_ELEMENTS {
            return Err(ctx.shape_err(format!(
                "the result has shape [batch, {}]: dimensions must be positive and at most {MAX_ELEMENTS} \
                 elements",
                shape.dims().iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")
            )));
        }
        if ty.is_some() {
            let node = self.graph.node_mut(id);
            node.ty = ty;
            node.ty_from_model = true;
        }
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
            if !live.contains(&id) && !matches!(self.graph.node(id).layer, Layer::Input(_)) {
                self.graph.remove(id);
            }
        }
        self.graph.set_outputs(outputs);
        ir::validate(&self.graph, ir::Stage::Imported)
            .map_err(|source| OnnxError::Ir { path: self.path.clone(), source })?;
        Ok(self.graph)
    }
}
