//! The Vitis HLS `io_parallel` design: one pipelined top function whose initiation interval is
//! the largest reuse factor of its layers (a layer with reuse factor `R` accepts a sample every
//! `R` cycles, and the top cannot accept faster than its slowest layer).

use crate::ir::LoweredGraph;

/// The design's initiation interval in cycles.
pub fn design_ii(g: &LoweredGraph) -> usize {
    g.node_ids().iter().map(|&id| g.node(id).reuse_factor).max().unwrap_or(1).max(1)
}
