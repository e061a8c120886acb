//! Estimate of the streaming RTL design (`backend::rtl::stream`, the contract of
//! [`crate::arch::rtl_stream`]): latency and II are the dataflow model's figures; LUTs, DSPs and
//! flip-flops come from the fully parallel cost model ([`super::rtl`]) scaled to what each
//! process builds, plus the storage the streaming form adds.
//!
//! * A per-pixel process ([`Form::Map`]) or a window process ([`Form::Window`]: a convolution's
//!   matrix or a pooling window) builds one pixel's or one window's datapath, where the fully
//!   parallel design builds one per output position: the parallel cost divided by the output's
//!   pixels; a pooling window builds one datapath per pattern of taps inside the input
//!   ([`crate::arch::stream::Window::tap_patterns`]). Its line buffer holds `(extent_h - 1)` padded rows and `extent_w` pixels of its
//!   input, one register per bit.
//! * Padding, cropping and upsampling move one pixel per transfer: the parallel cost (casts, if
//!   any) divided by the output's pixels.
//! * A whole-frame process ([`Form::Frame`]: a reshape that regroups pixels, a transpose) holds
//!   the frame, one register per bit, besides its parallel cost.
//! * Every FIFO between two processes holds its depth of pixels, one register per bit (Yosys
//!   maps some to SRL shift registers instead).
//!
//! Counters, handshakes and the FIFOs' pointers are not counted.

use std::collections::BTreeMap;

use super::{Estimate, EstimateError, Part};
use crate::arch::rtl_stream::{Figures, Plan};
use crate::arch::stream::{Form, Tensor};
use crate::ir::{Layer, LoweredGraph, NodeId};

/// Estimates the streaming RTL design `plan` of `g` (with `stages` register stages per Dense and
/// Conv at reuse factor 1) whose dataflow model gave `f`.
pub fn estimate(
    g: &LoweredGraph,
    part: &Part,
    clock_ns: f64,
    stages: u32,
    plan: &Plan,
    f: &Figures,
) -> Result<Estimate, EstimateError> {
    let mut est = super::rtl::estimate(g, part, clock_ns, stages)?;
    let d = &plan.design;
    let order = g.topo_order()?;
    for (layer, &id) in est.layers.iter_mut().zip(&order) {
        let Some(l) = d.layers.get(&id) else { continue };
        let node = g.node(id);
        let pixels = Tensor::of(&node.shape).transfers.max(1) as u64;
        let per_pixel = |v: u64| v.div_ceil(pixels);
        let storage = match &l.form {
            Form::Map | Form::Pad(_) | Form::UpSample(_) => 0,
            Form::Window(w) => {
                let src = g.inputs_of(id).first().copied();
                let bits = src.map_or(Ok(0), |s| pixel_bits(g, s))?;
                let (extent_h, extent_w) = w.extent();
                let (_, padded_w) = w.padded();
                ((extent_h - 1) * padded_w + extent_w) as u64 * bits
            }
            Form::Frame => node.shape.elements() as u64 * u64::from(node.out_ty()?.width),
        };
        // A window process is a convolution (one matrix) or a pooling (a datapath per pattern).
        let datapaths = match &l.form {
            Form::Window(w) if matches!(node.layer, Layer::Pool(_)) => w.tap_patterns() as u64,
            Form::Window(_) | Form::Map | Form::Pad(_) | Form::UpSample(_) | Form::Frame => 1,
        };
        if !matches!(l.form, Form::Frame) {
            layer.lut = per_pixel(layer.lut) * datapaths;
            layer.dsp = per_pixel(layer.dsp) * datapaths;
            layer.ff = per_pixel(layer.ff);
        }
        layer.ff += storage;
    }
    let index: BTreeMap<NodeId, usize> = order.iter().enumerate().map(|(k, &id)| (id, k)).collect();
    for (c, depth) in d.channels.iter().zip(&plan.capacity) {
        if let (false, Some(depth), Some(&k)) = (c.is_port(), depth, index.get(&c.tensor)) {
            est.layers[k].ff += depth * pixel_bits(g, c.tensor)?;
        }
    }
    est.total.lut = est.layers.iter().map(|l| l.lut).sum();
    est.total.dsp = est.layers.iter().map(|l| l.dsp).sum();
    est.total.ff = est.layers.iter().map(|l| l.ff).sum();
    est.total.latency_cycles = f.latency;
    est.total.latency_ns = f.latency as f64 * clock_ns;
    est.total.ii = f.interval.max(1);
    est.assumptions.push(
        "io_stream RTL: latency and II are the dataflow model's (samples streamed back to back, an input pixel per cycle); LUT, DSP and FF: one pixel's or window's datapath per process, line buffers, frame buffers and FIFOs as registers (counters and handshakes not counted; not calibrated against synthesis)".into(),
    );
    Ok(est)
}

/// Bits of one pixel (one transfer) of tensor `id`.
fn pixel_bits(g: &LoweredGraph, id: NodeId) -> Result<u64, EstimateError> {
    let node = g.node(id);
    Ok(Tensor::of(&node.shape).width as u64 * u64::from(node.out_ty()?.width))
}
