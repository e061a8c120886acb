//! `Pad` in constant mode with the value 0 becomes `Layer::Pad`.
//!
//! Spec: <https://onnx.ai/onnx/operators/onnx__Pad.html>: before opset 11 `pads` and `value` are
//! attributes; from 11 on `pads` (int64, `[begin..., end...]` over the axes), `constant_value` and,
//! from 18, `axes` are inputs, which must be constants here.
//!
//! Contract: negative amounts crop (as the IR's). Only `mode = constant` with the value 0 is
//! supported, and the batch axis and the channels (the IR tensor's last axis) must not be padded:
//! the model's axes are mapped to the IR's through the activation's layout, so the spatial axes of
//! a channels-first tensor held channels-last, or of a model tensor that is channels-last already,
//! are padded in place; any other tensor is first held channels-last (model axis 1 the channels).
//! Padding by nothing adds no node. The result keeps the layout.

use super::super::builder::Builder;
use super::super::layout::{channels_last, to_ir_axes};
use super::{norm_axis, Act, NodeCtx, Value};
use crate::frontend::onnx::OnnxError;
use crate::ir::{Layer, Pad};

pub(super) fn pad(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Result<Vec<Value>, OnnxError> {
    let x = ctx.act(ins, 0)?;
    let rank = x.perm.len() + 1;
    let (pads, value, axes) = if ctx.opset < 11 {
        // Pad-1 names the attribute `paddings`.
        let key = if ctx.opset < 2 { "paddings" } else { "pads" };
        ctx.known_attrs(&["mode", key, "value"])?;
        if ins.len() > 1 {
            return Err(ctx.err("before opset 11 Pad takes its pads as an attribute, not an input"));
        }
        let pads = ctx.ints(key)?.ok_or_else(|| ctx.err(format!("attribute '{key}' is required")))?;
        (pads, ctx.float("value", 0.0)? as f64, None)
    } else {
        ctx.known_attrs(&["mode"])?;
        let pads = ctx.constant(ins, 1, "pads")?.ints().map_err(|e| ctx.tensor_err(1, e))?;
        let value = match ctx.opt_const(ins, 2, "constant_value")? {
            None => 0.0,
            Some(_) => ctx.scalar(ins, 2, "constant_value")?,
        };
        let axes = match ctx.opt_const(ins, 3, "axes")? {
            None => None,
            Some(t) => Some(t.ints().map_err(|e| ctx.tensor_err(3, e))?),
        };
        (pads, value, axes)
    };
    let mode = ctx.string("mode", "constant")?;
    if mode != "constant" {
        return Err(ctx.unsupported(format!("mode '{mode}': only constant padding is supported")));
    }
    if value != 0.0 {
        return Err(ctx.unsupported(format!("padding with {value}: only zero padding is supported")));
    }
    let axes: Vec<usize> = match axes {
        None => (0..rank).collect(),
        Some(a) => a.iter().map(|&v| norm_axis(ctx, v, rank)).collect::<Result<_, _>>()?,
    };
    let n = axes.len();
    if pads.len() != 2 * n {
        return Err(ctx.err(format!("pads has {} values; {} are expected for {n} axes", pads.len(), 2 * n)));
    }
    let mut begin = vec![0i64; rank];
    let mut end = vec![0i64; rank];
    for (k, &a) in axes.iter().enumerate() {
        begin[a] = pads[k];
        end[a] = pads[k + n];
    }
    if begin[0] != 0 || end[0] != 0 {
        return Err(ctx.unsupported("padding the batch axis"));
    }
    if begin.iter().chain(&end).all(|&v| v == 0) {
        return Ok(vec![Value::Act(x)]);
    }
    let x = if ir_pads(&x, &begin[1..], &end[1..]).is_some() { x } else { channels_last(b, ctx, &x, 0)? };
    let (ir_begin, ir_end) = ir_pads(&x, &begin[1..], &end[1..]).ok_or_else(|| {
        ctx.unsupported("padding the channels (axis 1, or the last axis of a channels-last tensor)")
    })?;
    let act = b.add(ctx, ctx.label(), Layer::Pad(Pad { begin: ir_begin, end: ir_end }), &[x.id])?.like(&x);
    Ok(vec![Value::Act(act)])
}

/// The IR's padding of the spatial axes of `x` for the model's per-axis padding, if the IR's last
/// axis is not padded.
fn ir_pads(x: &Act, begin: &[i64], end: &[i64]) -> Option<(Vec<i64>, Vec<i64>)> {
    let (mut b, mut e) = (to_ir_axes(x, begin), to_ir_axes(x, end));
    let (lb, le) = (b.pop()?, e.pop()?);
    (lb == 0 && le == 0).then_some((b, e))
}
