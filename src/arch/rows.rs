//! The resource-optimized Vitis HLS design of a graph model (`--edge-parallelism N`), decided
//! once: the HLS emitter (`backend/vitis/io_rows.rs`) builds it and the estimator
//! (`estimate/rows.rs`) costs it.
//!
//! A tensor `[rows, ...]` is a sequence of rows of `row = elements / rows` values. The design is a
//! dataflow region (UG1399 "pragma HLS dataflow") of processes; each process handles its tensors
//! `N` rows per cycle, as *chunks* of `N` rows, `ceil(rows / N)` chunks per tensor (the last chunk
//! may be partial: its missing rows are zeros, never written to an output and never summed). The
//! same `N` serves edge rows and node rows. Processes by [`Mode`]:
//!
//! * [`Mode::Port`]: a top input. Its reader process copies it to the channels of its readers:
//!   chunk by chunk into streams, whole into arrays.
//! * [`Mode::Rows`]: a row-wise layer (a row-wise `Dense`, an activation, a cast, a `BatchNorm`,
//!   a `Concatenate` of rows, an elementwise operation of equal shapes): a loop over the chunks,
//!   `PIPELINE II=1`, applying the layer's throughput-form kernel to `N` rows at once, so one copy
//!   of its operators serves every row (a Dense has `N` copies of its multipliers, not `rows`).
//! * [`Mode::Gather`]: `gather_rows`. It first stores the data's chunks in a table of rows
//!   (`BIND_STORAGE type=ram_1wnr`: one write port and one read port per gathered row), then reads
//!   one index chunk per cycle and gathers its `N` rows.
//! * [`Mode::Scatter`]: `scatter_add`. It adds each message chunk into an accumulator of exact
//!   sums held in registers (`N` read-add-write updates per cycle, which a memory's two ports
//!   cannot serve), then writes the node rows chunk by chunk, cast to the output type.
//! * [`Mode::Array`]: any other layer (the index selection `Pad` and `Reshape` of `edge_index`):
//!   its throughput-form kernel on the whole tensor, the result copied to its readers.
//!
//! Every read of a tensor is a channel of its own (one writer, one reader: UG1448 214-169 "Dataflow
//! Canonical Rules"): a stream of chunks when the reader is a row process, an array otherwise.
//! A stream is as deep as its tensor has chunks: a gather consumes every node row before its first
//! edge row and a scatter every edge row before its first node row, so a producer feeding both a
//! gather and a row process (the node features `x` read by the gathers and by the node block's
//! `Concatenate`) must be able to write all its chunks before either reader drains them.
//!
//! The interval of the design is that of its slowest process ([`RowsDesign::ii`]).

use std::collections::BTreeMap;

use super::hls::{self, reads, Kernel, LayerDesign, Read};
use super::ArchError;
use crate::ir::{Layer, LoweredGraph, Node, NodeId, Shape};

/// How a node is built (see the module header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Port,
    Rows,
    Gather,
    Scatter,
    Array,
}

/// One node of the design.
#[derive(Debug, Clone, PartialEq)]
pub struct RowsNode {
    pub mode: Mode,
    /// Rows of its tensor (`dims[0]`; 1 for a scalar).
    pub rows: usize,
    /// Values per row.
    pub row: usize,
    /// `ceil(rows / N)`.
    pub chunks: usize,
}

/// One read of a tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Channel {
    pub read: Read,
    /// A stream of chunks (the reader is a row process or an output written by one); an array
    /// otherwise.
    pub stream: bool,
    /// Stream depth, in chunks.
    pub depth: usize,
}

/// The whole design.
#[derive(Debug, Clone, PartialEq)]
pub struct RowsDesign {
    /// Rows per cycle, `N`.
    pub parallelism: usize,
    pub nodes: BTreeMap<NodeId, RowsNode>,
    /// Every read of each tensor, in the order of [`reads`].
    pub channels: BTreeMap<NodeId, Vec<Channel>>,
    /// Cycles between two graphs: the largest process interval ([`RowsDesign::process_cycles`]).
    pub ii: usize,
}

/// Rows and values per row of `shape`.
pub fn rows_of(shape: &Shape) -> (usize, usize) {
    let rows = shape.dims().first().copied().unwrap_or(1).max(1);
    (rows, shape.elements() / rows)
}

/// Whether `g` is a graph model: it gathers or scatters rows by a run-time index.
pub fn is_graph_model(g: &LoweredGraph) -> bool {
    g.node_ids().into_iter().any(|id| matches!(g.node(id).layer, Layer::GatherRows(_) | Layer::ScatterAdd(_)))
}

/// The node `node` as its row process sees it: the same layer on `n` rows.
pub fn chunk_node(node: &Node, n: usize) -> Node {
    let mut chunk = node.clone();
    chunk.shape = chunk_shape(&node.shape, n);
    chunk
}

/// `shape` with `n` rows.
pub fn chunk_shape(shape: &Shape, n: usize) -> Shape {
    let mut dims = shape.dims().to_vec();
    match dims.first_mut() {
        Some(d) => *d = n,
        None => dims.push(n),
    }
    Shape::new(dims)
}

fn unsupported(what: String) -> ArchError {
    ArchError::Unsupported { backend: "Vitis HLS resource-optimized (--edge-parallelism)", what }
}

/// Whether `node` computes each output row from the same rows of its inputs alone.
fn row_wise(g: &LoweredGraph, id: NodeId) -> bool {
    let node = g.node(id);
    let (rows, _) = rows_of(&node.shape);
    let inputs = g.inputs_of(id);
    let same_rows = node.shape.rank() == 2
        && inputs.iter().all(|&i| {
            let s = &g.node(i).shape;
            s.rank() == 2 && rows_of(s).0 == rows
        });
    match &node.layer {
        Layer::Dense(_) | Layer::Activation(_) | Layer::Quantize(_) => same_rows,
        Layer::BatchNorm(_) => same_rows,
        Layer::Concatenate(c) => same_rows && c.axis == 1,
        Layer::Elementwise(_) => same_rows && inputs.iter().all(|&i| g.node(i).shape == node.shape),
        Layer::Input(_)
        | Layer::Softmax(_)
        | Layer::Reshape(_)
        | Layer::Conv(_)
        | Layer::Pool(_)
        | Layer::Pad(_)
        | Layer::UpSample(_)
        | Layer::Transpose(_)
        | Layer::Reduce(_)
        | Layer::GatherRows(_)
        | Layer::ScatterAdd(_) => false,
    }
}

/// The resource-optimized design of graph model `g` at `n` rows per cycle.
pub fn design(g: &LoweredGraph, n: usize) -> Result<RowsDesign, ArchError> {
    if n == 0 {
        return Err(ArchError::Option { option: "edge parallelism", what: "must be at least 1".into() });
    }
    if !is_graph_model(g) {
        return Err(unsupported(
            "the model gathers and scatters no rows (no graph layer): --edge-parallelism applies to graph models"
                .into(),
        ));
    }
    let order = g.topo_order()?;
    let mut nodes = BTreeMap::new();
    for &id in &order {
        let node = g.node(id);
        let mode = match &node.layer {
            Layer::Input(_) => Mode::Port,
            Layer::GatherRows(_) => Mode::Gather,
            Layer::ScatterAdd(_) => Mode::Scatter,
            Layer::Dense(_)
            | Layer::Activation(_)
            | Layer::Quantize(_)
            | Layer::BatchNorm(_)
            | Layer::Concatenate(_)
            | Layer::Elementwise(_)
            | Layer::Softmax(_)
            | Layer::Reshape(_)
            | Layer::Conv(_)
            | Layer::Pool(_)
            | Layer::Pad(_)
            | Layer::UpSample(_)
            | Layer::Transpose(_)
            | Layer::Reduce(_) => {
                if row_wise(g, id) {
                    Mode::Rows
                } else {
                    Mode::Array
                }
            }
        };
        let (rows, row) = rows_of(&node.shape);
        nodes.insert(id, RowsNode { mode, rows, row, chunks: rows.div_ceil(n) });
    }
    let mut channels = BTreeMap::new();
    let mut bad = Vec::new();
    for &id in &order {
        let src = nodes[&id].mode;
        let mut list = Vec::new();
        for read in reads(g, id) {
            let stream = match read {
                Read::Layer { node, .. } => {
                    let reader = nodes[&node].mode;
                    if reader == Mode::Array && matches!(src, Mode::Rows | Mode::Gather | Mode::Scatter) {
                        let r = g.node(node);
                        bad.push(format!(
                            "'{}' ({}) reads the rows of '{}' as a whole tensor",
                            r.name,
                            r.layer.kind(),
                            g.node(id).name
                        ));
                    }
                    reader != Mode::Array
                }
                Read::Output(_) => matches!(src, Mode::Rows | Mode::Gather | Mode::Scatter),
            };
            list.push(Channel { read, stream, depth: nodes[&id].chunks.max(1) });
        }
        channels.insert(id, list);
    }
    if !bad.is_empty() {
        return Err(unsupported(format!(
            "{}; only row-wise layers (row-wise Dense, activations, casts, BatchNorm, Concatenate on axis 1, \
             elementwise operations of equal shapes) may follow a gather or a scatter",
            bad.join("; ")
        )));
    }
    let mut d = RowsDesign { parallelism: n, nodes, channels, ii: 1 };
    d.ii = order.iter().map(|&id| d.process_cycles(g, id)).max().unwrap_or(1).max(1);
    Ok(d)
}

/// The kernel and ROMs of node `id`'s layer as its process builds it: on `N` rows for a row
/// process, on the whole tensor for an array process, none for the others. Every kernel is
/// unrolled: a reuse factor above 1 is refused by name.
pub fn layer_design(g: &LoweredGraph, d: &RowsDesign, id: NodeId) -> Result<LayerDesign, ArchError> {
    let node = g.node(id);
    let x = g.inputs_of(id).first().map(|&i| g.node(i).out_ty()).transpose()?;
    let mut bad = Vec::new();
    let ld = match d.nodes[&id].mode {
        Mode::Rows => hls::layer_design(&chunk_node(node, d.parallelism), x, &mut bad)?,
        Mode::Array => hls::layer_design(node, x, &mut bad)?,
        Mode::Port | Mode::Gather | Mode::Scatter => {
            LayerDesign { kernel: Kernel::Unrolled, roms: Vec::new() }
        }
    };
    if !bad.is_empty() || ld.kernel != Kernel::Unrolled {
        return Err(unsupported(format!(
            "layer '{}' has reuse factor {}: the resource-optimized form shares its operators over rows and \
             builds every layer at reuse factor 1",
            node.name, node.reuse_factor
        )));
    }
    Ok(ld)
}

impl RowsDesign {
    /// Whether any read of tensor `id` is a stream.
    pub fn streamed(&self, id: NodeId) -> bool {
        self.channels.get(&id).is_some_and(|c| c.iter().any(|c| c.stream))
    }

    /// Loop iterations of node `id`'s process per graph (its interval, pipeline fill aside):
    /// one per chunk it reads or writes, one for a whole-tensor step.
    pub fn process_cycles(&self, g: &LoweredGraph, id: NodeId) -> usize {
        let n = &self.nodes[&id];
        let input_chunks =
            |port: usize| g.inputs_of(id).get(port).map_or(0, |i| self.nodes.get(i).map_or(0, |x| x.chunks));
        match n.mode {
            Mode::Port | Mode::Array => {
                if self.streamed(id) {
                    n.chunks
                } else {
                    1
                }
            }
            Mode::Rows => n.chunks,
            Mode::Gather => input_chunks(0) + n.chunks,
            Mode::Scatter => input_chunks(0) + n.chunks,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_shapes_keep_the_row_length() {
        assert_eq!(chunk_shape(&Shape::new([56, 10]), 8), Shape::new([8, 10]));
        assert_eq!(chunk_shape(&Shape::new([56]), 8), Shape::new([8]));
        assert_eq!(rows_of(&Shape::new([28, 7])), (28, 7));
        assert_eq!(rows_of(&Shape::new([56])), (56, 1));
    }
}
