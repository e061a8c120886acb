//! Element-wise activations: each becomes one `Layer::Activation`.
//!
//! Specs: <https://onnx.ai/onnx/operators/onnx__Relu.html>,
//! <https://onnx.ai/onnx/operators/onnx__LeakyRelu.html>, <https://onnx.ai/onnx/operators/onnx__PRelu.html>,
//! <https://onnx.ai/onnx/operators/onnx__Sigmoid.html>, <https://onnx.ai/onnx/operators/onnx__Tanh.html>,
//! <https://onnx.ai/onnx/operators/onnx__HardSigmoid.html>, <https://onnx.ai/onnx/operators/onnx__Clip.html>,
//! <https://onnx.ai/onnx/operators/onnx__Elu.html>, <https://onnx.ai/onnx/operators/onnx__Selu.html>,
//! <https://onnx.ai/onnx/operators/onnx__Softplus.html>, <https://onnx.ai/onnx/operators/onnx__Softsign.html>,
//! <https://onnx.ai/onnx/operators/onnx__ThresholdedRelu.html>,
//! <https://onnx.ai/onnx/operators/onnx__HardSwish.html>.
//!
//! Contract: each maps to one `Layer::Activation` of the input's shape and layout, with the spec's
//! attribute defaults (LeakyRelu alpha 0.01; HardSigmoid alpha 0.2, beta 0.5; Elu alpha 1;
//! ThresholdedRelu alpha 1, the IR's `theta`; HardSwish alpha 1/6, beta 1/2). Selu is accepted with
//! its default alpha and gamma only (the IR's table holds SELU's constants); `scale` is the model's
//! gamma. Softplus, Softsign, Elu and Selu get the IR's default tables. PRelu's slope broadcasts onto
//! the model's tensor (a `[C, 1, 1]` slope is per channel) and is mapped to the IR's layout. Clip
//! takes its bounds from attributes before opset 11 and from constant inputs from 11 on; an absent or
//! infinite bound is `None`; Clip of a constant (QCDQ weights: QuantizeLinear, Clip,
//! DequantizeLinear) is computed at import.

use std::rc::Rc;

use super::super::builder::Builder;
use super::super::layout::const_for;
use super::super::tensor::{Data, Tensor};
use super::{const_value, NodeCtx, Value};
use crate::frontend::onnx::OnnxError;
use crate::ir::{Activation, Layer, Table, Weights};

/// ONNX's default Selu `alpha` and `gamma` (float attributes).
const SELU_ALPHA: f32 = 1.673_263_2;
const SELU_GAMMA: f32 = 1.050_701;

fn activation(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
    a: Activation,
) -> Result<Vec<Value>, OnnxError> {
    let x = ctx.act(ins, 0)?;
    let act = b.add(ctx, ctx.label(), Layer::Activation(a), &[x.id])?.like(&x);
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
    if ctx.opset < 7 {
        super::legacy::prelu_slope(ctx, &slope.dims, x.perm.len() + 1)?;
    }
    let alpha = const_for(ctx, &slope, &x, 1)?;
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
    match ins.first() {
        Some(Some(Value::Const(t))) => return Ok(const_value(clip_const(t, min, max))),
        Some(Some(Value::Quantized(p))) => {
            let (lo, hi) = (min.unwrap_or(f64::NEG_INFINITY), max.unwrap_or(f64::INFINITY));
            return Ok(vec![Value::Quantized(Rc::new(p.clipped(ctx, lo, hi)?))]);
        }
        _ => {}
    }
    let min = min.filter(|v| v.is_finite()).map(Weights::scalar);
    let max = max.filter(|v| v.is_finite()).map(Weights::scalar);
    activation(b, ctx, ins, Activation::Clip { min, max })
}

/// `t` clamped to `[min, max]` (a bound of an integer tensor rounded inward), same dtype; the
/// exact type of a quantizer's output still holds the clamped values.
fn clip_const(t: &Tensor, min: Option<f64>, max: Option<f64>) -> Tensor {
    let (lo, hi) = (min.unwrap_or(f64::NEG_INFINITY), max.unwrap_or(f64::INFINITY));
    let data = match &t.data {
        Data::Float(v) => Data::Float(v.iter().map(|&x| x.max(lo).min(hi)).collect()),
        Data::Int(v) => Data::Int(
            v.iter()
                .map(|&x| {
                    let x = if (x as f64) < lo { lo.ceil() as i64 } else { x };
                    if (x as f64) > hi {
                        hi.floor() as i64
                    } else {
                        x
                    }
                })
                .collect(),
        ),
    };
    Tensor { data, ..t.clone() }
}

pub(super) fn elu(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Result<Vec<Value>, OnnxError> {
    ctx.known_attrs(&["alpha"])?;
    let alpha = ctx.float("alpha", 1.0)? as f64;
    if !alpha.is_finite() {
        return Err(ctx.err(format!("alpha is {alpha}")));
    }
    activation(b, ctx, ins, Activation::Elu(Table::elu_default(alpha)))
}

pub(super) fn selu(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Result<Vec<Value>, OnnxError> {
    ctx.known_attrs(&["alpha", "gamma"])?;
    let alpha = ctx.float("alpha", SELU_ALPHA)?;
    let gamma = ctx.float("gamma", SELU_GAMMA)?;
    if alpha != SELU_ALPHA || gamma != SELU_GAMMA {
        return Err(ctx.unsupported(format!(
            "alpha {alpha} and gamma {gamma}: only SELU's own constants ({SELU_ALPHA}, {SELU_GAMMA}) are supported"
        )));
    }
    let a = Activation::Selu { scale: Weights::scalar(gamma as f64), table: Table::selu_default() };
    activation(b, ctx, ins, a)
}

pub(super) fn softplus(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    ctx.known_attrs(&[])?;
    activation(b, ctx, ins, Activation::Softplus(Table::softplus_default()))
}

pub(super) fn softsign(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    ctx.known_attrs(&[])?;
    activation(b, ctx, ins, Activation::Softsign(Table::softsign_default()))
}

pub(super) fn thresholded_relu(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    ctx.known_attrs(&["alpha"])?;
    let alpha = ctx.float("alpha", 1.0)? as f64;
    if !alpha.is_finite() {
        return Err(ctx.err(format!("alpha is {alpha}")));
    }
    activation(b, ctx, ins, Activation::ThresholdedRelu { theta: Weights::scalar(alpha) })
}

pub(super) fn hard_swish(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    ctx.known_attrs(&[])?;
    let a = Activation::HardSwish { alpha: Weights::scalar(1.0 / 6.0), beta: Weights::scalar(0.5) };
    activation(b, ctx, ins, a)
}
