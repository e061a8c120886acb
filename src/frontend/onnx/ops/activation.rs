//! Element-wise activations: each becomes one `Layer::Activation`.
//!
//! Specs: <https://onnx.ai/onnx/operators/onnx__Relu.html>,
//! <https://onnx.ai/onnx/operators/onnx__LeakyRelu.html>, <https://onnx.ai/onnx/operators/onnx__PRelu.html>,
//! <https://onnx.ai/onnx/operators/onnx__Sigmoid.html>, <https://onnx.ai/onnx/operators/onnx__Tanh.html>,
//! <https://onnx.ai/onnx/operators/onnx__HardSigmoid.html>, <https://onnx.ai/onnx/operators/onnx__Clip.html>.
//!
//! Contract: each maps to one `Layer::Activation` of the input's shape, with the spec's attribute
//! defaults (LeakyRelu alpha 0.01; HardSigmoid alpha 0.2, beta 0.5). Clip takes its bounds from
//! attributes before opset 11 and from constant inputs from 11 on; an absent or infinite bound is
//! `None`.

use super::super::builder::Builder;
use super::{align_const, NodeCtx, Value};
use crate::frontend::onnx::OnnxError;
use crate::ir::{Activation, Layer, Table, Weights};

fn activation(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
    a: Activation,
) -> Result<Vec<Value>, OnnxError> {
    let x = ctx.act(ins, 0)?;
    let act = b.add(ctx, ctx.label(), Layer::Activation(a), &[x.id])?;
    Ok(vec![Value::Act(act)])
}

pub(super) fn relu(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Result<Vec<Value>, OnnxError> {
    activation(b, ctx, ins, Activation::Relu)
}

pub(super) fn sigmoid(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    activation(b, ctx, ins, Activation::Sigmoid(Table::sigmoid_default()))
}

pub(super) fn tanh(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Result<Vec<Value>, OnnxError> {
    activation(b, ctx, ins, Activation::Tanh(Table::tanh_default()))
}

pub(super) fn leaky_relu(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    let alpha = ctx.float("alpha", 0.01)? as f64;
    activation(b, ctx, ins, Activation::LeakyRelu { alpha: Weights::scalar(alpha) })
}

pub(super) fn hard_sigmoid(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    let alpha = ctx.float("alpha", 0.2)? as f64;
    let beta = ctx.float("beta", 0.5)? as f64;
    activation(
        b,
        ctx,
        ins,
        Activation::HardSigmoid { alpha: Weights::scalar(alpha), beta: Weights::scalar(beta) },
    )
}

pub(super) fn prelu(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Result<Vec<Value>, OnnxError> {
    let x = ctx.act(ins, 0)?;
    let slope = ctx.constant(ins, 1, "slope")?;
    let dims = align_const(ctx, &slope, &x.shape)?;
    let alpha = ctx.weights(1, &slope, dims)?;
    activation(b, ctx, ins, Activation::PRelu { alpha })
}

pub(super) fn clip(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Result<Vec<Value>, OnnxError> {
    let (min, max) = if ctx.opset < 11 {
        if ins.len() > 1 {
            return Err(ctx.err("before opset 11 Clip takes its bounds as attributes, not inputs"));
        }
        (ctx.opt_float("min")?.map(f64::from), ctx.opt_float("max")?.map(f64::from))
    } else {
        let bound = |i: usize, what: &str| -> Result<Option<f64>, OnnxError> {
            match ctx.opt_const(ins, i, what)? {
                None => Ok(None),
                Some(_) => ctx.scalar(ins, i, what).map(Some),
            }
        };
        (bound(1, "min")?, bound(2, "max")?)
    };
    if min == Some(f64::INFINITY) || max == Some(f64::NEG_INFINITY) {
        return Err(ctx.err("a bound is infinite in the wrong direction (min = +inf or max = -inf)"));
    }
    let min = min.filter(|v| v.is_finite()).map(Weights::scalar);
    let max = max.filter(|v| v.is_finite()).map(Weights::scalar);
    activation(b, ctx, ins, Activation::Clip { min, max })
}
