//! The layer graph: a petgraph `StableDiGraph` of [`Node`]s whose edges carry the input port.
//!
//! Each node produces one tensor (its `shape` and `ty`). [`Graph::add`] is the only way to add a
//! node, and it takes the shape from the layer ([`crate::ir::LayerDef::output_shape`]), so
//! frontends never compute shapes. Node indices stay valid across removals. Every iteration order
//! exposed here is deterministic (insertion order, topological order with ties broken by index),
//! so anything emitted from a graph is reproducible. The model's inputs are its `Input` nodes in
//! insertion order; its outputs are an explicit list.

use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use serde::{Deserialize, Serialize};

use super::{IrError, Layer, Shape, Work};
use crate::fixed::FixedType;

pub type NodeId = NodeIndex<u32>;

/// Hardware implementation strategy, as in hls4ml's `Strategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Strategy {
    /// At reuse factor `R > 1`, the weights of each step are constants selected by the step
    /// number (multiplexers in LUTs). At `R = 1` both strategies build the same unrolled layer.
    #[default]
    Latency,
    /// At reuse factor `R > 1`, the weights are `R` words of a ROM read one per step, in LUTRAM or
    /// block RAM by its depth and width ([`crate::arch::hls`]).
    Resource,
}

impl Strategy {
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Latency => "latency",
            Strategy::Resource => "resource",
        }
    }
}

/// One layer and the tensor it produces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// The name in the source model (may be any string; backends sanitize it).
    pub name: String,
    pub layer: Layer,
    /// Output shape without the batch dimension: the layer's `output_shape` of its inputs' shapes,
    /// set by [`Graph::add`] and checked by validation.
    pub shape: Shape,
    /// Output type; `None` until the quantization passes choose one.
    pub ty: Option<FixedType>,
    /// True when the model itself fixed `ty` (QONNX/QDQ/QKeras); configuration does not override it.
    pub ty_from_model: bool,
    pub reuse_factor: usize,
    pub strategy: Strategy,
}

impl Node {
    fn new(name: String, layer: Layer, shape: Shape) -> Self {
        Node {
            name,
            layer,
            shape,
            ty: None,
            ty_from_model: false,
            reuse_factor: 1,
            strategy: Strategy::Latency,
        }
    }

    /// The output type; an error naming the node when it is still unknown.
    pub fn out_ty(&self) -> Result<FixedType, IrError> {
        self.ty.ok_or_else(|| IrError::UntypedNode { node: self.name.clone() })
    }
}

#[derive(Debug, Clone, Default)]
pub struct Graph {
    /// The model's name (file stem unless the model names itself).
    pub name: String,
    g: StableDiGraph<Node, usize>,
    outputs: Vec<NodeId>,
    /// The model's axis order of an input or output whose model tensor is not channels-last:
    /// the model tensor is `transpose(ir_tensor, perm)` (see [`crate::ir::layout`]).
    input_layouts: std::collections::BTreeMap<NodeId, Vec<usize>>,
    output_layouts: std::collections::BTreeMap<usize, Vec<usize>>,
}

impl Graph {
    pub fn new(name: impl Into<String>) -> Self {
        Graph { name: name.into(), ..Graph::default() }
    }

    /// Adds a node computing `layer` on `inputs` (port `k` is `inputs[k]`); its shape is the
    /// layer's output shape for the inputs' shapes. Errors, naming the node, when the number of
    /// inputs or their shapes do not fit the layer.
    pub fn add(
        &mut self,
        name: impl Into<String>,
        layer: Layer,
        inputs: &[NodeId],
    ) -> Result<NodeId, IrError> {
        let name = name.into();
        if !layer.arity().accepts(inputs.len()) {
            return Err(IrError::invalid(
                &name,
                format!("expects {} inputs, has {}", layer.arity(), inputs.len()),
            ));
        }
        if let Some(missing) = inputs.iter().find(|&&i| !self.g.contains_node(i)) {
            return Err(IrError::invalid(&name, format!("input {} is not in the graph", missing.index())));
        }
        let shapes: Vec<&Shape> = inputs.iter().map(|&i| &self.g[i].shape).collect();
        let shape = layer.output_shape(&shapes).map_err(|what| IrError::invalid(&name, what))?;
        let id = self.g.add_node(Node::new(name, layer, shape));
        for (port, &src) in inputs.iter().enumerate() {
            self.g.add_edge(src, id, port);
        }
        Ok(id)
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.g[id]
    }

    pub fn node_mut(&mut self, id: NodeId) -> &mut Node {
        &mut self.g[id]
    }

    pub fn contains(&self, id: NodeId) -> bool {
        self.g.contains_node(id)
    }

    pub fn node_count(&self) -> usize {
        self.g.node_count()
    }

    /// All node ids in insertion order.
    pub fn node_ids(&self) -> Vec<NodeId> {
        self.g.node_indices().collect()
    }

    /// The nodes feeding `id`, ordered by port.
    pub fn inputs_of(&self, id: NodeId) -> Vec<NodeId> {
        let mut edges: Vec<(usize, NodeId)> =
            self.g.edges_directed(id, Direction::Incoming).map(|e| (*e.weight(), e.source())).collect();
        edges.sort();
        edges.into_iter().map(|(_, n)| n).collect()
    }

    /// The shapes of the tensors feeding `id`, ordered by port.
    pub fn input_shapes(&self, id: NodeId) -> Vec<&Shape> {
        self.inputs_of(id).into_iter().map(|i| &self.g[i].shape).collect()
    }

    /// The work of node `id` per sample ([`crate::ir::LayerDef::work`] of its inputs' shapes).
    pub fn work(&self, id: NodeId) -> Work {
        self.g[id].layer.def().work(&self.input_shapes(id))
    }

    /// The node a tensor comes from through layers of one input (reshapes, crops, casts): the
    /// model input an index tensor was cut from, for messages.
    pub fn origin(&self, id: NodeId) -> NodeId {
        let mut at = id;
        while let [only] = self.inputs_of(at)[..] {
            at = only;
        }
        at
    }

    /// The nodes reading `id`, in index order (a node reading it twice appears twice).
    pub fn users_of(&self, id: NodeId) -> Vec<NodeId> {
        let mut users: Vec<NodeId> =
            self.g.edges_directed(id, Direction::Outgoing).map(|e| e.target()).collect();
        users.sort();
        users
    }

    pub fn outputs(&self) -> &[NodeId] {
        &self.outputs
    }

    pub fn set_outputs(&mut self, outputs: Vec<NodeId>) {
        self.outputs = outputs;
    }

    /// Records that the model's tensor of input `id` is `transpose(ir_tensor, perm)` (a
    /// channels-first model input, say); an identity `perm` records nothing.
    pub fn set_input_layout(&mut self, id: NodeId, perm: Vec<usize>) {
        if perm.iter().enumerate().any(|(k, &p)| k != p) {
            self.input_layouts.insert(id, perm);
        } else {
            self.input_layouts.remove(&id);
        }
    }

    /// The model's axis order of input `id`, when it is not the IR's.
    pub fn input_layout(&self, id: NodeId) -> Option<&[usize]> {
        self.input_layouts.get(&id).map(Vec::as_slice)
    }

    /// Records that the model's tensor of output `k` is `transpose(ir_tensor, perm)`.
    pub fn set_output_layout(&mut self, k: usize, perm: Vec<usize>) {
        if perm.iter().enumerate().any(|(k, &p)| k != p) {
            self.output_layouts.insert(k, perm);
        } else {
            self.output_layouts.remove(&k);
        }
    }

    /// The model's axis order of output `k`, when it is not the IR's.
    pub fn output_layout(&self, k: usize) -> Option<&[usize]> {
        self.output_layouts.get(&k).map(Vec::as_slice)
    }

    /// The `Input` nodes in index order.
    pub fn inputs(&self) -> Vec<NodeId> {
        self.g.node_indices().filter(|&n| matches!(self.g[n].layer, Layer::Input(_))).collect()
    }

    /// Topological order, ties broken by node index. Errors on a cycle.
    pub fn topo_order(&self) -> Result<Vec<NodeId>, IrError> {
        let mut indeg: std::collections::BTreeMap<NodeId, usize> = self
            .g
            .node_indices()
            .map(|n| (n, self.g.edges_directed(n, Direction::Incoming).count()))
            .collect();
        let mut ready: std::collections::BTreeSet<NodeId> =
            indeg.iter().filter(|(_, &d)| d == 0).map(|(&n, _)| n).collect();
        let mut order = Vec::with_capacity(indeg.len());
        while let Some(n) = ready.pop_first() {
            order.push(n);
            for e in self.g.edges_directed(n, Direction::Outgoing) {
                let d = indeg.get_mut(&e.target()).expect("edge target is a node");
                *d -= 1;
                if *d == 0 {
                    ready.insert(e.target());
                }
            }
        }
        if order.len() != self.g.node_count() {
            let stuck = self.g.node_indices().find(|n| !order.contains(n)).map(|n| self.g[n].name.clone());
            return Err(IrError::Cycle { node: stuck.unwrap_or_default() });
        }
        Ok(order)
    }

    /// Removes a one-input node, connecting its users (and the graph outputs) to its input.
    pub fn bypass(&mut self, id: NodeId) -> Result<(), IrError> {
        let inputs = self.inputs_of(id);
        let [src] = inputs[..] else {
            return Err(IrError::Invalid {
                node: self.g[id].name.clone(),
                what: "only a one-input node can be bypassed".into(),
            });
        };
        self.replace_uses(id, src);
        self.g.remove_node(id);
        Ok(())
    }

    /// Makes every reader of `old` (and the graph outputs) read `new` instead.
    pub fn replace_uses(&mut self, old: NodeId, new: NodeId) {
        let outgoing: Vec<(NodeId, usize, petgraph::stable_graph::EdgeIndex)> = self
            .g
            .edges_directed(old, Direction::Outgoing)
            .map(|e| (e.target(), *e.weight(), e.id()))
            .collect();
        for (target, port, edge) in outgoing {
            self.g.remove_edge(edge);
            self.g.add_edge(new, target, port);
        }
        for o in &mut self.outputs {
            if *o == old {
                *o = new;
            }
        }
    }

    /// Removes a node and its edges (callers rewire users first).
    pub fn remove(&mut self, id: NodeId) -> Option<Node> {
        self.outputs.retain(|&o| o != id);
        self.g.remove_node(id)
    }

    /// Finds a node by model name.
    pub fn find(&self, name: &str) -> Option<NodeId> {
        self.g.node_indices().find(|&n| self.g[n].name == name)
    }
}
