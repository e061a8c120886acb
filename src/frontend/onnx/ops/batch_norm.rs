//! `BatchNormalization` in inference mode becomes `Layer::BatchNorm`; so does QONNX's channels-last
//! `BatchNormalization`.
//!
//! Spec: <https://onnx.ai/onnx/operators/onnx__BatchNormalization.html> (opsets 7 and 8 have
//! `spatial`, which makes no difference on a `[batch, channels]` input and is the per-channel form
//! on feature maps; opset 14 adds `training_mode`).
//!
//! Contract: the channel axis is model axis 1 (the last axis for QONNX's channels-last op). On a
//! `[batch, channels]` input it is the IR's last axis; on a feature map `[batch, C, spatial...]` the
//! tensor is held channels-last (converted by [`channels_last`] unless it already is), so the
//! per-channel IR layer applies to the IR's last axis and the result keeps that layout.
//! `scale = gamma / sqrt(var + epsilon)` and `bias = beta − mean · scale`, computed in `f64` from the
//! model's values. Training mode, `spatial = 0` on a feature map and the running-statistics outputs
//! are unsupported.

use super::super::builder::Builder;
use super::super::layout::channels_last;
use super::{Act, NodeCtx, Value};
use crate::frontend::onnx::OnnxError;
use crate::ir::{BatchNorm, Layer, Shape, Weights};

pub(super) fn batch_norm(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    let x = ctx.act(ins, 0)?;
    if x.perm.len() > 1 && ctx.int("spatial", 1)? == 0 {
        return Err(ctx.unsupported("spatial=0 (statistics per channel and position) on a feature map"));
    }
    let x = if x.perm[0] == x.perm.len() - 1 { x } else { channels_last(b, ctx, &x, 0)? };
    normalize(b, ctx, ins, &x)
}

/// QONNX's channels-last `BatchNormalization`: the channels are the model tensor's last axis.
pub(super) fn batch_norm_channels_last(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    let x = ctx.act(ins, 0)?;
    normalize(b, ctx, ins, &x)
}

/// The per-channel layer on the IR tensor of `x`, whose last axis holds the channels.
fn normalize(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
    x: &Act,
) -> Result<Vec<Value>, OnnxError> {
    let c = x.shape.channels();
    if ctx.int("training_mode", 0)? != 0 {
        return Err(ctx.unsupported("training mode"));
    }
    if ctx.node.outputs.iter().skip(1).any(|o| !o.is_empty()) {
        return Err(ctx.unsupported("the mean and variance outputs exist only in training mode"));
    }
    let eps = ctx.float("epsilon", 1e-5)? as f64;
    let mut params = Vec::with_capacity(4);
    for (i, what) in [(1, "scale"), (2, "B"), (3, "input_mean"), (4, "input_var")] {
        let t = ctx.constant(ins, i, what)?;
        if t.len() != c {
            return Err(ctx.shape_err(format!("{what} has shape {:?}; {c} channels expected", t.dims)));
        }
        let v = t.floats().map_err(|e| ctx.tensor_err(i, e))?;
        ctx.finite(i, &v)?;
        params.push(v);
    }
    let (gamma, beta, mean, var) = (&params[0], &params[1], &params[2], &params[3]);
    let mut scale = Vec::with_capacity(c);
    let mut bias = Vec::with_capacity(c);
    for ch in 0..c {
        let denom = var[ch] + eps;
        if denom <= 0.0 {
            return Err(
                ctx.tensor_err(4, format!("variance + epsilon of channel {ch} is {denom}, not positive"))
            );
        }
        let s = gamma[ch] / denom.sqrt();
        scale.push(s);
        bias.push(beta[ch] - mean[ch] * s);
    }
    let layer = Layer::BatchNorm(BatchNorm {
        scale: Weights::new(Shape::new([c]), scale),
        bias: Weights::new(Shape::new([c]), bias),
    });
    let act = b.add(ctx, ctx.label(), layer, &[x.id])?.like(x);
    Ok(vec![Value::Act(act)])
}
