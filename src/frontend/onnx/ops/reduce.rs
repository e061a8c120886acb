//! `ReduceSum`, `ReduceMean`, `ReduceMax`, `ReduceMin`, `ReduceSumSquare`, `ReduceL1` and
//! `ReduceL2` of an activation become `Layer::Reduce`.
//!
//! Specs: <https://onnx.ai/onnx/operators/onnx__ReduceSum.html> and the pages of the other six ops
//! (`onnx__ReduceMean.html`, ...).
//!
//! Contract: `axes` is an attribute before opset 13 for `ReduceSum` and before opset 18 for the
//! others, and an optional constant second input from then on (an axes input that is computed,
//! or given where the opset wants the attribute, is refused). Axes count the batch axis, may be
//! negative, and must be distinct; reducing the batch axis is unsupported. Empty or absent axes
//! reduce every axis (the batch axis included, hence unsupported) unless `noop_with_empty_axes`
//! is 1, when the node is the identity and adds no layer. The model axes are mapped through the
//! activation's layout ([`Act::perm`]) to IR axes, so a channel reduction of a channels-first
//! tensor held channels-last reduces the IR's last axis and no transpose is added. With
//! `keepdims` (default 1) the result keeps the input's layout; without it the kept model axes keep
//! their order and their IR axes theirs, and a reduction of every per-sample axis gives the IR
//! tensor `[1]` holding the model's `[batch]`.

use super::super::builder::Builder;
use super::{norm_axis, Act, NodeCtx, Value};
use crate::frontend::onnx::OnnxError;
use crate::ir::{Layer, Reduce, ReduceOp};

/// The opset from which `op`'s axes are an input rather than an attribute.
fn axes_input_from(op: ReduceOp) -> i64 {
    if op == ReduceOp::Sum {
        13
    } else {
        18
    }
}

/// The axes the node gives (counting the batch axis, not yet normalized); `None` when absent.
fn axes(ctx: &NodeCtx, ins: &[Option<Value>], op: ReduceOp) -> Result<Option<Vec<i64>>, OnnxError> {
    let from = axes_input_from(op);
    if ctx.opset < from {
        if ins.len() > 1 {
            return Err(ctx.err(format!("before opset {from} axes are an attribute, not an input")));
        }
        return ctx.ints("axes");
    }
    if ctx.node.attrs.contains_key("axes") {
        return Err(ctx.err(format!("from opset {from} axes are an input, not an attribute")));
    }
    match ctx.opt_const(ins, 1, "axes")? {
        None => Ok(None),
        Some(t) => t.ints().map(Some).map_err(|e| ctx.tensor_err(1, e)),
    }
}

fn reduce(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
    op: ReduceOp,
) -> Result<Vec<Value>, OnnxError> {
    ctx.known_attrs(&["axes", "keepdims", "noop_with_empty_axes"])?;
    let x = ctx.act(ins, 0)?;
    let keepdims = match ctx.int("keepdims", 1)? {
        0 => false,
        1 => true,
        v => return Err(ctx.err(format!("attribute 'keepdims' is {v}; 0 or 1 is expected"))),
    };
    let noop = match ctx.int("noop_with_empty_axes", 0)? {
        0 => false,
        1 => true,
        v => return Err(ctx.err(format!("attribute 'noop_with_empty_axes' is {v}; 0 or 1 is expected"))),
    };
    let rank = x.perm.len() + 1;
    let given = axes(ctx, ins, op)?.unwrap_or_default();
    if given.is_empty() {
        if noop {
            return Ok(vec![Value::Act(x)]);
        }
        return Err(ctx.unsupported(
            "empty axes reduce every axis, the batch axis included (set noop_with_empty_axes or name the \
             per-sample axes)",
        ));
    }
    let mut model_axes = Vec::with_capacity(given.len());
    for &a in &given {
        model_axes.push(norm_axis(ctx, a, rank)?);
    }
    model_axes.sort_unstable();
    if model_axes.windows(2).any(|w| w[0] == w[1]) {
        return Err(ctx.err(format!("axes {given:?} repeat an axis")));
    }
    if model_axes.first() == Some(&0) {
        return Err(ctx.unsupported(format!("axes {given:?} reduce the batch axis")));
    }
    let mut ir_axes: Vec<usize> = model_axes.iter().map(|&a| x.perm[a - 1]).collect();
    ir_axes.sort_unstable();
    let perm = if keepdims { x.perm.clone() } else { kept_perm(&x, &ir_axes) };
    let layer = Layer::Reduce(Reduce::new(op, ir_axes, keepdims, &x.shape));
    let act = b.add(ctx, ctx.label(), layer, &[x.id])?;
    Ok(vec![Value::Act(Act { perm, ..act })])
}

/// The layout of the result of reducing the IR axes `reduced` of `x` without keeping them: the
/// kept model axes, in order, each at the position of its IR axis among the kept IR axes.
fn kept_perm(x: &Act, reduced: &[usize]) -> Vec<usize> {
    let kept_ir: Vec<usize> = (0..x.perm.len()).filter(|a| !reduced.contains(a)).collect();
    x.perm
        .iter()
        .filter(|p| !reduced.contains(p))
        .map(|p| kept_ir.iter().position(|k| k == p).unwrap_or(0))
        .collect()
}

pub(super) fn reduce_sum(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    reduce(b, ctx, ins, ReduceOp::Sum)
}

pub(super) fn reduce_mean(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    reduce(b, ctx, ins, ReduceOp::Mean)
}

pub(super) fn reduce_max(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    reduce(b, ctx, ins, ReduceOp::Max)
}

pub(super) fn reduce_min(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    reduce(b, ctx, ins, ReduceOp::Min)
}

pub(super) fn reduce_sum_square(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    reduce(b, ctx, ins, ReduceOp::SumSquare)
}

pub(super) fn reduce_l1(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    reduce(b, ctx, ins, ReduceOp::L1)
}

pub(super) fn reduce_l2(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    reduce(b, ctx, ins, ReduceOp::L2)
}
