//! Emits IR nodes for the op handlers and finishes the graph.
//!
//! Contract: [`Builder::add`] checks what the IR requires of every node (no zero dimensions, at
//! most `MAX_ELEMENTS` elements, finite constants) and reports violations against the ONNX node;
//! its result is in the IR's own layout (`perm` the identity), which element-wise handlers replace
//! by their input's. A graph input that a channels-first operator reads is created channels-last
//! and its model layout recorded (`Graph::set_input_layout`). [`Builder::finish`] connects the graph
//! outputs (an output whose model layout differs from its IR tensor's is reshaped when its data is
//! already in the model's order, and has its layout recorded with `Graph::set_output_layout`
//! otherwise), drops nodes no output depends on, and runs `ir::validate(.., Stage::Imported)`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::layout;
use super::model::{Dim, Model};
use super::ops::{show_dims, Act, NodeCtx, Value};
use super::tensor::{dtype_name, elements, DType};
use super::OnnxError;
use crate::fixed::FixedType;
use crate::ir::{self, Graph, Input, IrError, Layer, NodeId, Reshape, Shape, MAX_ELEMENTS};

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
    /// Every conversion of an IR tensor to another layout made so far ([`layout::relayout`]).
    pub relayouts: BTreeMap<(NodeId, Vec<usize>), Act>,
    /// A graph model (an integer input holds the graph's edges, as PyTorch Geometric exports
    /// it): its inputs have no batch axis, so `axis` attributes count none.
    pub batchless: bool,
}

impl Builder {
    pub(crate) fn new(path: &Path, name: &str) -> Self {
        Builder {
            path: path.to_path_buf(),
            graph: Graph::new(name),
            batch: Batch::Symbolic,
            dequantized: BTreeSet::new(),
            relayouts: BTreeMap::new(),
            batchless: false,
        }
    }

    /// The per-sample axis an ONNX `axis` attribute names on an activation of `rank` per-sample
    /// axes: it counts the batch axis (which it may not name) unless the model is
    /// [`Builder::batchless`].
    pub(crate) fn sample_axis(&self, ctx: &NodeCtx, axis: i64, rank: usize) -> Result<usize, OnnxError> {
        if self.batchless {
            return super::ops::norm_axis(ctx, axis, rank);
        }
        match super::ops::norm_axis(ctx, axis, rank + 1)? {
            0 => Err(ctx.unsupported("the operation is along the batch axis")),
            a => Ok(a - 1),
        }
    }

    /// The node `id` repeats along its last axis (a `Concatenate` of copies of one tensor whose
    /// last axis is 1), if it is one.
    pub(crate) fn repeated_column(&self, id: NodeId) -> Option<NodeId> {
        let node = self.graph.node(id);
        let Layer::Concatenate(c) = &node.layer else { return None };
        let ins = self.graph.inputs_of(id);
        let first = *ins.first()?;
        let column = &self.graph.node(first).shape;
        let last = c.axis + 1 == node.shape.rank() && column.dims().last() == Some(&1);
        (last && ins.iter().all(|&i| i == first)).then_some(first)
    }

    /// The activation node `id` holds, in the IR's own layout.
    pub(crate) fn act_of(&self, id: NodeId) -> Act {
        let shape = self.graph.node(id).shape.clone();
        Act { id, perm: layout::identity(shape.rank()), shape }
    }

    fn input_err(&self, input: &str, what: impl Into<String>) -> OnnxError {
        OnnxError::Input { path: self.path.clone(), input: input.to_string(), what: what.into() }
    }

    fn model_err(&self, what: impl Into<String>) -> OnnxError {
        OnnxError::Model { path: self.path.clone(), what: what.into() }
    }

    /// Creates one `Input` layer per graph input that is not an initializer, in order; those in
    /// `channels_first` are held channels-last. Every input must have the same batch dimension
    /// (symbolic, or the same size).
    pub(crate) fn add_inputs(
        &mut self,
        model: &Model,
        values: &mut BTreeMap<String, Value>,
        channels_first: &BTreeSet<String>,
    ) -> Result<(), OnnxError> {
        let real: Vec<_> =
            model.inputs.iter().filter(|i| !model.initializers.contains_key(&i.name)).collect();
        if real.is_empty() {
            return Err(self.model_err("the graph has no input (other than initializers)"));
        }
        self.batchless = real
            .iter()
            .any(|i| matches!(i.elem_type.and_then(DType::from_code), Some(DType::Int64 | DType::Int32)));
        for (k, input) in real.into_iter().enumerate() {
            let batch = self.add_input(input, values, channels_first.contains(&input.name))?;
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
        channels_first: bool,
    ) -> Result<Batch, OnnxError> {
        let name = input.name.as_str();
        // An integer input is an index (a graph's edges): it keeps its integer type.
        let index_ty = match input.elem_type.and_then(DType::from_code) {
            Some(t) if t.is_float() => None,
            Some(t @ (DType::Int64 | DType::Int32)) => {
                Some(FixedType::int(if t == DType::Int64 { 64 } else { 32 }, true))
            }
            Some(_) | None => {
                let ty = input.elem_type.map(dtype_name).unwrap_or_else(|| "not a tensor".into());
                return Err(self.input_err(
                    name,
                    format!("element type {ty}; a float tensor (or an int32/int64 index) is required"),
                ));
            }
        };
        let dims =
            input.dims.as_ref().ok_or_else(|| self.input_err(name, "the input has no declared shape"))?;
        if self.batchless {
            return self.add_graph_input(name, dims, index_ty, values);
        }
        if index_ty.is_some() {
            return Err(self.input_err(name, "an integer input needs a graph model"));
        }
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
        let r = sample.len();
        let perm = if channels_first { layout::channels_first(r) } else { layout::identity(r) };
        let mut ir_dims = vec![0; r];
        for (k, &p) in perm.iter().enumerate() {
            ir_dims[p] = sample[k];
        }
        let shape = Shape::new(ir_dims);
        let id = self
            .graph
            .add(name, Layer::Input(Input::new(shape.clone())), &[])
            .map_err(|e| self.input_err(name, e.to_string()))?;
        self.graph.set_input_layout(id, perm.clone());
        values.insert(name.to_string(), Value::Act(Act { id, shape, perm }));
        Ok(batch)
    }

    /// The `Input` layer of a graph model's input: its whole shape is one sample (fixed extents);
    /// an index keeps its integer type.
    fn add_graph_input(
        &mut self,
        name: &str,
        dims: &[Dim],
        index_ty: Option<FixedType>,
        values: &mut BTreeMap<String, Value>,
    ) -> Result<Batch, OnnxError> {
        let mut sample = Vec::with_capacity(dims.len());
        for (axis, d) in dims.iter().enumerate() {
            match d {
                Dim::Value(v) if *v > 0 => sample.push(*v as usize),
                _ => {
                    return Err(self.input_err(
                        name,
                        format!(
                            "dimension {axis} of shape {} must be a positive number: the inputs of a graph \
                             model (one with an integer index input) have no batch axis",
                            show_dims(dims)
                        ),
                    ))
                }
            }
        }
        if sample.is_empty() || elements(&sample).is_none_or(|n| n > MAX_ELEMENTS) {
            return Err(self.input_err(name, format!("shape {} is empty or too large", show_dims(dims))));
        }
        let shape = Shape::new(sample);
        let id = self
            .graph
            .add(
                name,
                Layer::Input(if index_ty.is_some() {
                    Input::integer(shape.clone())
                } else {
                    Input::new(shape.clone())
                }),
                &[],
            )
            .map_err(|e| self.input_err(name, e.to_string()))?;
        if let Some(ty) = index_ty {
            let node = self.graph.node_mut(id);
            node.ty = Some(ty);
            node.ty_from_model = true;
        }
        let perm = layout::identity(shape.rank());
        self.graph.set_input_layout(id, perm.clone());
        values.insert(name.to_string(), Value::Act(Act { id, shape, perm }));
        Ok(Batch::Fixed(1))
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
        let perm = layout::identity(shape.rank());
        Ok(Act { id, shape, perm })
    }

    /// The IR node of graph output `k` (model tensor `name`, held by `a`): `a`'s node when its
    /// layout is the model's; a `Reshape` to the model's shape when only axes of extent 1 move;
    /// otherwise `a`'s node, with the model layout recorded.
    fn output_layout(&mut self, k: usize, name: &str, a: &Act) -> Result<NodeId, OnnxError> {
        if a.is_plain() || a.model_dims() == a.shape.dims() && layout::keeps_order(a.shape.dims(), &a.perm) {
            return Ok(a.id);
        }
        if !layout::keeps_order(a.shape.dims(), &a.perm) {
            self.graph.set_output_layout(k, a.perm.clone());
            return Ok(a.id);
        }
        let layer = Layer::Reshape(Reshape::new(Shape::new(a.model_dims())));
        self.graph
            .add(format!("{name}/reshape"), layer, &[a.id])
            .map_err(|e| self.model_err(format!("graph output '{name}': {e}")))
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
        for (k, o) in model.outputs.iter().enumerate() {
            let id = match values.get(&o.name) {
                Some(Value::Act(a)) => self.output_layout(k, &o.name, a)?,
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
