//! The layer graph: a petgraph `StableDiGraph` of [`Node`]s whose edges carry the input port.
//!
//! Each node produces one tensor (its `shape` and `ty`). Node indices stay valid across removals.
//! Every iteration order exposed here is deterministic (insertion order, topological order with
//! ties broken by index), so anything emitted from a graph is reproducible.

use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use serde::{Deserialize, Serialize};

use super::{IrError, Layer, Shape, Strategy};
use crate::fixed::FixedType;

pub type NodeId = NodeIndex<u32>;

/// One layer and the tensor it produces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// The name in the source model (may be any string; backends sanitize it).
    pub name: String,
    pub layer: Layer,
    /// Output shape without the batch dimension.
    pub shape: Shape,
    /// Output type; `None` until the quantization passes choose one.
    pub ty: Option<FixedType>,
    /// True when the model itself fixed `ty` (QONNX/QDQ/QKeras); configuration does not override it.
    pub ty_from_model: bool,
    pub reuse_factor: usize,
    pub strategy: Strategy,
}

impl Node {
    pub fn new(name: impl Into<String>, layer: Layer, shape: Shape) -> Self {
        Node {
            name: name.into(),
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
}

impl Graph {
    pub fn new(name: impl Into<String>) -> Self {
        Graph { name: name.into(), g: StableDiGraph::default(), outputs: Vec::new() }
    }

    /// Adds a node fed by `inputs` (port `k` is `inputs[k]`).
    pub fn add_node(&mut self, node: Node, inputs: &[NodeId]) -> NodeId {
        let id = self.g.add_node(node);
        for (port, &src) in inputs.iter().enumerate() {
            self.g.add_edge(src, id, port);
        }
        id
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

    /// The `Input` nodes in index order.
    pub fn inputs(&self) -> Vec<NodeId> {
        self.g.node_indices().filter(|&n| matches!(self.g[n].layer, Layer::Input)).collect()
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

    /// Inserts `node` between `src` and all its current users (and graph outputs).
    pub fn insert_after(&mut self, src: NodeId, node: Node) -> NodeId {
        let id = self.g.add_node(node);
        self.replace_uses(src, id);
        self.g.add_edge(src, id, 0);
        id
    }

    /// Finds a node by model name.
    pub fn find(&self, name: &str) -> Option<NodeId> {
        self.g.node_indices().find(|&n| self.g[n].name == name)
    }
}
