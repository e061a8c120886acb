//! The RTL backend's timing contract: fully parallel (reuse factor 1), a new sample every cycle,
//! unless a `Dense` or `Conv` layer has a reuse factor `R > 1`.
//!
//! Each `Dense` and `Conv` layer at reuse factor 1 takes `stages` cycles (at least 1; a
//! convolution is one constant matrix per output position, built as a `Dense`, and a row-wise
//! `Dense` one per row); `BatchNorm`, `Activation`, `Quantize` and `Elementwise` one cycle (their
//! exact operation, the cast and a register); a `Reduce`, a `Pool`, a `Softmax`, a `GatherRows`
//! and a `ScatterAdd` one cycle too: their adder (or comparison) trees, constant products,
//! tables, index decoders, selects and casts are one combinational stage before the register,
//! which suits the small reductions of fully parallel designs (a reduction of `n` values has
//! `ceil(log2 n)` adder levels; the `stages` option cuts only Dense and Conv trees). A `Reshape`, `Concatenate`, `Pad`, `UpSample`
//! or `Transpose` whose inputs already have the output type is wiring (no cycle), otherwise one
//! cycle. A layer starts when its last input is ready: earlier inputs (a model input read again
//! by a late `Elementwise`, a skip connection) are delayed by registers to meet it, one chain per
//! tensor shared by every layer that reads it; outputs on shorter paths are delayed to the
//! longest, whose length is the latency (at least 1). With `--clock-period`, each Dense and Conv
//! layer has its own stage count ([`schedule_with`]).
//!
//! A `Dense` or `Conv` layer with reuse factor `R > 1` ([`crate::backend::rtl`]'s `reuse.rs`)
//! takes exactly `R` cycles whatever `stages` is: it reads its input in its first cycle, handles
//! one `1/R` share of its products per cycle into exact accumulators, and its output register
//! loads in the last. It cannot take a new sample before those `R` cycles end, so the design's
//! initiation interval is the largest reuse factor of its layers ([`Schedule::ii`]); the top
//! accepts a sample at most once every `ii` cycles. The reuse factor must divide the layer's
//! reuse domain (a Dense's inputs, a Conv's window: taps x channels per group), the rule the
//! passes apply; other layers have reuse factor 1.

use std::collections::BTreeMap;

use super::ArchError;
use crate::ir::{Layer, LoweredGraph, NodeId};

/// Cycles layer `id` adds on its path with `stages` register stages per Dense and Conv layer, or `None`
/// when the RTL backend does not build the layer.
fn cycles(g: &LoweredGraph, id: NodeId, stages: u32) -> Result<Option<u64>, ArchError> {
    let node = g.node(id);
    let retyped = || -> Result<bool, ArchError> {
        let out = node.out_ty()?;
        for i in g.inputs_of(id) {
            if g.node(i).out_ty()? != out {
                return Ok(true);
            }
        }
        Ok(false)
    };
    Ok(match &node.layer {
        Layer::Input(_) => Some(0),
        Layer::Dense(d) if node.reuse_factor > 1 && d.rows(&g.node(g.inputs_of(id)[0]).shape) > 1 => None,
        Layer::Dense(_) | Layer::Conv(_) if node.reuse_factor > 1 => Some(node.reuse_factor as u64),
        Layer::Dense(_) | Layer::Conv(_) => Some(u64::from(stages.max(1))),
        Layer::Reshape(_)
        | Layer::Concatenate(_)
        | Layer::Pad(_)
        | Layer::UpSample(_)
        | Layer::Transpose(_) => Some(u64::from(retyped()?)),
        Layer::BatchNorm(_)
        | Layer::Activation(_)
        | Layer::Quantize(_)
        | Layer::Elementwise(_)
        | Layer::Reduce(_)
        | Layer::Pool(_)
        | Layer::Softmax(_)
        | Layer::GatherRows(_)
        | Layer::ScatterAdd(_) => Some(1),
    })
}

/// Checks that the RTL backend can build every layer: supported kinds, reuse factor 1 except on
/// `Dense` and `Conv` (where it divides the reuse domain), `stages >= 1`. Every offending layer is named in one error.
pub fn check(g: &LoweredGraph, stages: u32) -> Result<(), ArchError> {
    if stages == 0 {
        return Err(ArchError::Option { option: "pipeline stages", what: "must be at least 1".into() });
    }
    let order = g.topo_order()?;
    let mut bad = Vec::new();
    for &id in &order {
        if cycles(g, id, stages)?.is_none() {
            bad.push(id);
        }
    }
    if !bad.is_empty() {
        let names: Vec<String> =
            bad.iter().map(|&i| format!("'{}' ({})", g.node(i).name, g.node(i).layer.kind())).collect();
        return Err(ArchError::Unsupported {
            backend: "rtl",
            what: format!(
                "{} layer(s) cannot be built yet: {} (supported: every layer; a row-wise dense layer at reuse factor 1 only)",
                names.len(),
                names.join(", ")
            ),
        });
    }
    let reused: Vec<String> = order
        .iter()
        .filter_map(|&id| {
            let n = g.node(id);
            let domain = match &n.layer {
                Layer::Dense(d) => Some(d.n_in()),
                Layer::Conv(c) => Some(c.window()),
                _ => None,
            };
            let fits = n.reuse_factor <= 1 || domain.is_some_and(|d| d % n.reuse_factor == 0);
            (!fits).then(|| {
                let what =
                    domain.map_or("no reuse domain".to_string(), |d| format!("{d} inputs per product"));
                format!("'{}' ({}, reuse factor {}, {what})", n.name, n.layer.kind(), n.reuse_factor)
            })
        })
        .collect();
    if !reused.is_empty() {
        return Err(ArchError::Unsupported {
            backend: "rtl",
            what: format!(
                "a reuse factor above 1 must divide a dense layer's inputs or a convolution's window (taps x channels per group), and other layers take none; these layers do not: {}",
                reused.join(", ")
            ),
        });
    }
    Ok(())
}

/// The RTL design's schedule: when each tensor is ready, and the latency.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// The cycle each node's tensor is ready (the model inputs at 0).
    pub ready: BTreeMap<NodeId, u64>,
    /// Cycles each node adds after its last input is ready.
    pub cycles: BTreeMap<NodeId, u64>,
    /// Cycles from a sample's start to its outputs' valid (at least 1).
    pub latency: u64,
    /// Cycles between two samples the top accepts: the largest reuse factor of a `Dense` or
    /// `Conv` layer (1 without one).
    pub ii: u64,
}

/// Checks the graph ([`check`]) and schedules it.
pub fn schedule(g: &LoweredGraph, stages: u32) -> Result<Schedule, ArchError> {
    schedule_with(g, stages, &BTreeMap::new())
}

/// [`schedule`] with the Dense and Conv layers of `per_layer` taking their own stage count (the
/// counts `--clock-period` chooses, [`crate::arch::timing`]).
pub fn schedule_with(
    g: &LoweredGraph,
    stages: u32,
    per_layer: &BTreeMap<NodeId, u32>,
) -> Result<Schedule, ArchError> {
    check(g, stages)?;
    if let Some((&id, _)) = per_layer.iter().find(|(_, &s)| s == 0) {
        return Err(ArchError::Option {
            option: "pipeline stages",
            what: format!("layer '{}' must have at least 1", g.node(id).name),
        });
    }
    let mut ready = BTreeMap::new();
    let mut cycles_of = BTreeMap::new();
    for id in g.topo_order()? {
        let start = g.inputs_of(id).iter().map(|i| ready[i]).max().unwrap_or(0);
        let c = cycles(g, id, per_layer.get(&id).copied().unwrap_or(stages))?.unwrap_or(0);
        cycles_of.insert(id, c);
        ready.insert(id, start + c);
    }
    let latency = g.outputs().iter().map(|o| ready[o]).max().unwrap_or(0).max(1);
    let ii = g
        .topo_order()?
        .into_iter()
        .filter(|&id| matches!(g.node(id).layer, Layer::Dense(_) | Layer::Conv(_)))
        .map(|id| g.node(id).reuse_factor.max(1) as u64)
        .max()
        .unwrap_or(1);
    Ok(Schedule { ready, cycles: cycles_of, latency, ii })
}
