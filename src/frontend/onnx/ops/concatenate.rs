//! `Concat`: of activations it becomes `Layer::Concatenate`; of constants it is computed at import.
//!
//! Spec: <https://onnx.ai/onnx/operators/onnx__Concat.html>.
//!
//! Contract: `axis` counts the batch axis, which must not be the one joined. Every operand is held
//! in the first one's layout (converted by [`relayout`]); the IR axis is the model axis mapped
//! through that layout (`perm[axis - 1]`), so a channel concatenation of channels-first tensors
//! joins the channels-last IR tensors on their last axis. The result keeps the layout. Every
//! operand must be an activation, or every operand a constant: a constant operand beside
//! activations is unsupported.

use super::super::builder::Builder;
use super::super::layout::relayout;
use super::super::tensor::{self, Tensor};
use super::{const_value, norm_axis, NodeCtx, Value};
use crate::frontend::onnx::OnnxError;
use crate::ir::{Concatenate, Layer};

pub(super) fn concat(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Result<Vec<Value>, OnnxError> {
    if ins.iter().any(|v| matches!(v, Some(Value::Act(_)))) {
        return concat_acts(b, ctx, ins);
    }
    let mut parts = Vec::with_capacity(ins.len());
    for i in 0..ins.len() {
        parts.push(ctx.constant(ins, i, "operand")?);
    }
    let first = parts.first().ok_or_else(|| ctx.err("needs at least one input"))?;
    // Before opset 4 `axis` is optional, 1 by default.
    let axis = match ctx.opt_int("axis")? {
        Some(a) => a,
        None if ctx.opset < 4 => 1,
        None => return Err(ctx.err("attribute 'axis' is required")),
    };
    let a = norm_axis(ctx, axis, first.dims.len())?;
    for p in &parts {
        let same_kind = std::mem::discriminant(&p.data) == std::mem::discriminant(&first.data);
        let same_dims = p.dims.len() == first.dims.len()
            && p.dims.iter().zip(&first.dims).enumerate().all(|(i, (x, y))| i == a || x == y);
        if !same_kind || !same_dims {
            return Err(ctx.shape_err(format!(
                "cannot concatenate constants of shapes {:?} and {:?} along axis {a}",
                first.dims, p.dims
            )));
        }
    }
    let total = parts.iter().try_fold(0usize, |acc, p| acc.checked_add(p.len()));
    if total.is_none_or(|n| n > crate::ir::MAX_ELEMENTS) {
        return Err(ctx.shape_err("the concatenated tensor is too large"));
    }
    let refs: Vec<&Tensor> = parts.iter().map(|p| p.as_ref()).collect();
    Ok(const_value(tensor::concat(&refs, a)))
}

fn concat_acts(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Result<Vec<Value>, OnnxError> {
    let mut xs = Vec::with_capacity(ins.len());
    for i in 0..ins.len() {
        xs.push(ctx.act(ins, i)?);
    }
    // Before opset 4 `axis` is optional, 1 by default.
    let axis = match ctx.opt_int("axis")? {
        Some(a) => a,
        None if ctx.opset < 4 => 1,
        None => return Err(ctx.err("attribute 'axis' is required")),
    };
    let a = b.sample_axis(ctx, axis, xs[0].perm.len())? + 1;
    if let [x] = &xs[..] {
        return Ok(vec![Value::Act(x.clone())]);
    }
    let first = xs[0].clone();
    let mut ids = Vec::with_capacity(xs.len());
    for (i, x) in xs.iter().enumerate() {
        ids.push(relayout(b, ctx, x, i, &first.perm)?.id);
    }
    let layer = Layer::Concatenate(Concatenate { axis: first.perm[a - 1] });
    let act = b.add(ctx, ctx.label(), layer, &ids)?.like(&first);
    Ok(vec![Value::Act(act)])
}
