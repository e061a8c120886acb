//! The hardware each backend builds for a lowered graph, decided once: the backends read it to
//! emit the design and the estimator reads it to cost the same design, so neither imports the
//! other.
//!
//! * [`dataflow`]: the cycle-level model of an `io_stream` design: processes joined by FIFO
//!   streams, played for some frames to give latency, II and each stream's maximum occupancy.
//! * [`hls`]: the Vitis HLS `io_parallel` design: one pipeline or a dataflow region, each
//!   layer's kernel (unrolled or multiplexed over its reuse factor), where its ROMs live, and the
//!   UG1399 behaviour each choice relies on.
//! * [`stream`]: the Vitis HLS `io_stream` design: each tensor a stream of pixels, each layer's
//!   process form and its cycle rules, the streams between processes.
//! * [`mcm`]: a constant matrix times a vector as a shared shift-and-add adder graph, with the
//!   exact range and adder depth of every node (the RTL backend's Dense and its cost).
//! * [`rows`]: the Vitis HLS resource-optimized design of a graph model (`--edge-parallelism N`):
//!   row processes `N` rows per cycle, gathers and scatters, joined by streams of row chunks.
//! * [`rtl`]: the RTL backend's timing contract: which layers it builds, the cycles each adds,
//!   when each tensor is ready and the design's latency.
//! * [`rtl_stream`]: the RTL backend's `io_stream` contract: the [`stream`] network with the
//!   RTL's pipeline depths, its FIFO depths and the model's figures the RTL must equal.
//! * [`timing`]: the RTL design's timing model: each register stage's logic depth and delay on a
//!   device family, and pipeline cuts that meet a clock period.

pub mod dataflow;
pub mod hls;
pub mod mcm;
pub mod rows;
pub mod rtl;
pub mod rtl_stream;
pub mod stream;
pub mod timing;

use thiserror::Error;

use crate::ir::IrError;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum ArchError {
    #[error(transparent)]
    Graph(#[from] IrError),
    #[error("the {backend} backend: {what}")]
    Unsupported { backend: &'static str, what: String },
    #[error("option {option}: {what}")]
    Option { option: &'static str, what: String },
}
