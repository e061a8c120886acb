//! The RTL backend's `io_stream` timing contract: the same process network as the Vitis HLS
//! `io_stream` design ([`super::stream::design_for`] with [`Target::Rtl`], its cycle rules
//! [`super::stream::steps`], split processes of depth 1, one source and one sink per top port
//! moving a pixel per cycle), timed by the dataflow model ([`super::dataflow`]) with the RTL's
//! own pipeline depths ([`depths`]). The RTL the backend emits (`backend::rtl::stream`)
//! implements exactly those semantics, so the model's latency, II and FIFO occupancies are the
//! RTL's, cycle for cycle.
//!
//! Pipeline depth of a process (cycles from the issue of an iteration, when it reads its input
//! FIFO heads, to the cycle its output is written into the next FIFO): `stages` for a Dense
//! ([`super::stream::Form::Map`]) or a convolution ([`super::stream::Form::Window`]) at reuse
//! factor 1, 1 for every other map, pooling window, padding, upsampling and frame (its compute
//! step is one cycle).
//!
//! A Dense or a convolution at reuse factor `R > 1` time-multiplexes its constant matrix
//! (`backend::rtl::reuse`: `R` phases of `n_in / R` shared products into exact accumulators,
//! then the layer's cast). Every iteration of its loop (a pixel of a Dense; a padded input
//! position of a convolution's line buffer, whether or not it completes an output window)
//! takes `R` cycles: the next may issue `R` cycles after it ([`super::stream::StreamLayer::ii`]
//! = `R`, as in the Vitis HLS model), and an output is written `R` cycles after its issue
//! (pipeline depth `R`; `stages` does not apply). So such a process reads a pixel at most every
//! `R` cycles, and a write blocked by a full FIFO can only fall between two iterations, when no
//! phase is running.
//!
//! Built: map layers Dense, Activation, BatchNorm,
//! Quantize, Reshape, Softmax, Elementwise, Concatenate and Reduce over channels; 1-D and 2-D
//! Conv and Pool windows (any stride, padding and dilation); a Reshape that regroups pixels
//! (a flatten) or a Transpose as a whole frame; 1-D and 2-D Pad (padding and cropping) and
//! UpSample; every reuse factor the passes accept (it divides a Dense's inputs or a
//! convolution's window, taps x channels per group). [`check`] names every other layer in one
//! error.

use std::collections::BTreeMap;

use super::dataflow::{self, DataflowError, Timing};
use super::stream::{self, Design, Form, Target};
use super::ArchError;
use crate::ir::{Layer, LoweredGraph, NodeId};

/// FIFO depths: each stream's peak occupancy in the model run without bounds, or one depth for
/// all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depths {
    /// The peak occupancy (at least 1): the schedule never blocks.
    Auto,
    /// The tensor's pixel count, or the peak occupancy when larger.
    Max,
    Fixed(u64),
}

/// The streaming RTL design: the process network, each layer's pipeline depth, each channel's
/// FIFO capacity (`None` for the top's ports).
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub design: Design,
    pub depth: BTreeMap<NodeId, u64>,
    pub capacity: Vec<Option<u64>>,
}

fn unsupported(what: String) -> ArchError {
    ArchError::Unsupported { backend: "rtl io_stream", what }
}

/// Why the streaming RTL does not build layer `id`, or `None` when it does.
fn refusal(g: &LoweredGraph, d: &Design, id: NodeId) -> Option<String> {
    let node = g.node(id);
    let l = &d.layers[&id];
    if node.reuse_factor > 1 && !has_matrix(l) {
        return Some(format!(
            "reuse factor {} (built for dense layers and convolutions only)",
            node.reuse_factor
        ));
    }
    let ok = matches!(
        (&l.form, &l.node.layer),
        (
            Form::Map,
            Layer::Dense(_)
                | Layer::Activation(_)
                | Layer::BatchNorm(_)
                | Layer::Quantize(_)
                | Layer::Reshape(_)
                | Layer::Softmax(_)
                | Layer::Elementwise(_)
                | Layer::Concatenate(_)
                | Layer::Reduce(_),
        ) | (Form::Window(_), Layer::Conv(_) | Layer::Pool(_))
            | (Form::Pad(_), Layer::Pad(_))
            | (Form::UpSample(_), Layer::UpSample(_))
            | (Form::Frame, Layer::Reshape(_) | Layer::Transpose(_))
    );
    (!ok).then(|| {
        let form = match l.form {
            Form::Map => "per pixel",
            Form::Window(_) => "window",
            Form::Pad(_) => "padding",
            Form::UpSample(_) => "upsampling",
            Form::Frame => "whole frame",
        };
        format!("{} ({form})", node.layer.kind())
    })
}

/// Checks that the streaming RTL can build every layer of `d`; every offending layer is named
/// in one error.
pub fn check(g: &LoweredGraph, d: &Design, stages: u32) -> Result<(), ArchError> {
    if stages == 0 {
        return Err(ArchError::Option { option: "pipeline stages", what: "must be at least 1".into() });
    }
    let mut bad = Vec::new();
    for id in g.topo_order()? {
        if d.layers.contains_key(&id) {
            if let Some(why) = refusal(g, d, id) {
                bad.push(format!("'{}': {why}", g.node(id).name));
            }
        }
    }
    if bad.is_empty() {
        return Ok(());
    }
    Err(unsupported(format!(
        "{} layer(s) cannot be built yet: {} (supported: per-pixel dense, every activation, batch norm, quantizers, softmax, element-wise merges, concatenations and reductions over channels; 1-D and 2-D convolutions and pooling; 1-D and 2-D padding, cropping and upsampling; reshapes that regroup pixels and transposes as whole frames; reuse factors above 1 on dense layers and convolutions)",
        bad.len(),
        bad.join(", ")
    )))
}

/// Whether `l` is a process with a constant matrix: a per-pixel Dense or a convolution window.
fn has_matrix(l: &stream::StreamLayer) -> bool {
    matches!((&l.form, &l.node.layer), (Form::Map, Layer::Dense(_)) | (Form::Window(_), Layer::Conv(_)))
}

/// Each layer's pipeline depth (see the module header).
pub fn depths(g: &LoweredGraph, d: &Design, stages: u32) -> BTreeMap<NodeId, u64> {
    d.layers
        .iter()
        .map(|(&id, l)| {
            let r = g.node(id).reuse_factor;
            let depth = match has_matrix(l) {
                true if r > 1 => r as u64,
                true => u64::from(stages.max(1)),
                false => 1,
            };
            (id, depth)
        })
        .collect()
}

fn timed(
    g: &LoweredGraph,
    d: &Design,
    depth: &BTreeMap<NodeId, u64>,
    capacity: &[Option<u64>],
    frames: usize,
) -> Result<(dataflow::Network, Timing), ArchError> {
    let net = stream::network(g, d, depth, capacity);
    let timing = dataflow::run(&net, frames).map_err(|e| match e {
        DataflowError::Deadlock { .. } => unsupported(format!("{e}; give deeper FIFOs (--fifo-depth auto)")),
        DataflowError::Malformed(m) => unsupported(format!("malformed design: {m}")),
    })?;
    Ok((net, timing))
}

/// Checks `g` and decides its streaming design with `stages` register stages per Dense and Conv
/// and FIFOs sized by `fifo` (from a run of `frames` frames without bounds).
pub fn plan(g: &LoweredGraph, stages: u32, fifo: Depths, frames: usize) -> Result<Plan, ArchError> {
    let design = stream::design_for(g, Target::Rtl).map_err(|e| match e {
        ArchError::Unsupported { what, .. } => unsupported(what),
        other => other,
    })?;
    check(g, &design, stages)?;
    let depth = depths(g, &design, stages);
    let free = vec![None; design.channels.len()];
    let (_, t) = timed(g, &design, &depth, &free, frames.max(1))?;
    let capacity = design
        .channels
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let occ = t.occupancy[k].max(1);
            (!c.is_port()).then_some(match fifo {
                Depths::Auto => occ,
                Depths::Max => (design.tensors[&c.tensor].transfers as u64).max(occ),
                Depths::Fixed(n) => n,
            })
        })
        .collect();
    Ok(Plan { design, depth, capacity })
}

/// What the model says of `frames` frames through the plan: per top output, the latency of frame 0
/// (from the first source's first write to the sink's last read, inclusive), the largest interval
/// between two consecutive frame ends and the cycle after the last event; per channel, the peak
/// occupancy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figures {
    pub latency: u64,
    pub interval: u64,
    pub cycles: u64,
    pub occupancy: Vec<u64>,
}

/// Runs the plan's network for `frames` frames.
pub fn figures(g: &LoweredGraph, p: &Plan, frames: usize) -> Result<Figures, ArchError> {
    let (net, t) = timed(g, &p.design, &p.depth, &p.capacity, frames)?;
    let sinks: Vec<usize> =
        (0..net.processes.len()).filter(|&k| net.processes[k].outputs.is_empty()).collect();
    let mut latency = 0;
    let mut interval = 0;
    for &s in &sinks {
        latency = latency.max(t.latency(0, s).unwrap_or(0));
        for w in t.frame_end[s].windows(2) {
            interval = interval.max(w[1] - w[0]);
        }
    }
    Ok(Figures { latency, interval, cycles: t.cycles, occupancy: t.occupancy })
}
