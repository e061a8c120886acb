//! `Softmax` becomes `Layer::Softmax` with the default tables for its row length.
//!
//! Spec: <https://onnx.ai/onnx/operators/onnx__Softmax.html>.
//!
//! Contract: the softmax must reduce over the IR tensor's last axis only. From opset 13 `axis` is
//! mapped through the activation's layout; when it names the IR's last axis the softmax works in
//! that layout (the channel softmax of a channels-first tensor held channels-last). Otherwise the
//! tensor is brought to the model's order, where `axis` must name the last axis (opset 13) or,
//! before 13, where the input is coerced to 2-D at `axis`, which is accepted when every axis
//! between `axis` and the last has size 1.

use super::super::builder::Builder;
use super::super::layout::model_order;
use super::{NodeCtx, Value};
use crate::frontend::onnx::OnnxError;
use crate::ir::{Layer, Softmax};

pub(super) fn softmax(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    let x = ctx.act(ins, 0)?;
    let rank = x.shape.rank() + 1;
    let axis = ctx.int("axis", if ctx.opset < 13 { 1 } else { -1 })?;
    let a = super::norm_axis(ctx, axis, rank)?;
    if a == 0 {
        return Err(ctx.unsupported("softmax across the batch axis"));
    }
    let in_layout = ctx.opset >= 13 && x.perm[a - 1] == rank - 2;
    let x = if in_layout { x } else { model_order(b, ctx, &x, 0)? };
    let a = if in_layout { rank - 1 } else { a };
    let last_only =
        if ctx.opset < 13 { x.shape.dims()[a - 1..rank - 2].iter().all(|&d| d == 1) } else { a == rank - 1 };
    if !last_only {
        return Err(ctx.unsupported(format!(
            "softmax over axis {axis} of an activation of rank {rank} does not reduce over the last axis only"
        )));
    }
    let n = x.shape.channels();
    let act = b.add(ctx, ctx.label(), Layer::Softmax(Softmax::default_for(n)), &[x.id])?.like(&x);
    Ok(vec![Value::Act(act)])
}
