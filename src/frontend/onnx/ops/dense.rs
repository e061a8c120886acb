//! Matrix products: `MatMul` and `Gemm` become `Layer::Dense`.
//!
//! Specs: <https://onnx.ai/onnx/operators/onnx__MatMul.html>,
//! <https://onnx.ai/onnx/operators/onnx__Gemm.html>.
//!
//! Contract: the activation is the left operand, a flat feature vector (`Gemm`) or, for `MatMul`,
//! any tensor multiplied on its last axis (row-wise); the right operand is a 2-D constant. `MatMul` gives a zero bias (a following `Add` becomes an `Elementwise` that a pass
//! fuses); `Gemm` gives weights `alpha·op(B)` and bias `beta·C` broadcast to `[n_out]`. A weight
//! type fixed by a quantizer is kept when `alpha` (or `beta` for the bias) is 1 and shifted when it
//! is a positive power of two. Two constant 2-D operands are multiplied at import.

use std::rc::Rc;

use super::super::builder::Builder;
use super::super::tensor::{round_to, transpose, Tensor};
use super::{NodeCtx, Value};
use crate::fixed::FixedType;
use crate::frontend::onnx::OnnxError;
use crate::ir::{Dense, Layer, Shape, Weights};

/// `ty` for values multiplied by `factor`, when the product stays exact in a shifted type.
fn scaled_ty(ty: Option<FixedType>, factor: f64) -> Option<FixedType> {
    let ty = ty?;
    if factor == 1.0 {
        return Some(ty);
    }
    let e = super::quantize::qonnx::pow2_exponent(factor)?;
    Some(FixedType { integer: ty.integer.checked_add(e)?, ..ty })
}

fn dense_from(
    b: &mut Builder,
    ctx: &NodeCtx,
    x: &super::Act,
    weights: Weights,
    bias: Weights,
) -> Result<Vec<Value>, OnnxError> {
    let layer = Layer::Dense(Dense { weights, bias, accum: None });
    let act = b.add(ctx, ctx.label(), layer, &[x.id])?;
    Ok(vec![Value::Act(act)])
}

fn flat_features(ctx: &NodeCtx, x: &super::Act) -> Result<usize, OnnxError> {
    match x.shape.dims() {
        [n] => Ok(*n),
        _ => Err(ctx.unsupported(format!(
            "the activation has shape [batch, {}]; only a flat feature vector can feed a dense layer",
            x.shape.dims().iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// The features of `MatMul`'s left operand: its last axis, the same weights on every row before
/// it (a row-wise dense layer) when the activation has more than one axis.
fn row_features(x: &super::Act) -> usize {
    x.shape.dims().last().copied().unwrap_or(0)
}

pub(super) fn matmul(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Result<Vec<Value>, OnnxError> {
    match (ins.first(), ins.get(1)) {
        (Some(Some(Value::Const(a))), Some(Some(Value::Const(w)))) => {
            Ok(vec![Value::Const(Rc::new(fold_matmul(ctx, a, w)?))])
        }
        (Some(Some(Value::Act(x))), Some(Some(Value::Const(w)))) => {
            let n = row_features(x);
            let [k, m] = w.dims[..] else {
                return Err(
                    ctx.unsupported(format!("the weight has shape {:?}; a 2-D matrix is required", w.dims))
                );
            };
            if k != n {
                return Err(ctx.shape_err(format!(
                    "the input has {n} features but the weight has shape {:?} ({k} rows)",
                    w.dims
                )));
            }
            let weights = ctx.weights(1, w, vec![k, m])?;
            let bias = Weights::new(Shape::new([m]), vec![0.0; m]);
            dense_from(b, ctx, x, weights, bias)
        }
        (Some(Some(Value::Act(_))), Some(Some(Value::Act(_)))) => {
            Err(ctx.unsupported("both operands are activations; the right operand must be a constant"))
        }
        _ => Err(ctx.unsupported("the left operand is a constant; it must be the activation")),
    }
}

fn fold_matmul(ctx: &NodeCtx, a: &Tensor, w: &Tensor) -> Result<Tensor, OnnxError> {
    let (&[p, q], &[q2, r]) = (&a.dims[..], &w.dims[..]) else {
        return Err(ctx.unsupported("constant operands must both be 2-D to be multiplied at import"));
    };
    if q != q2 {
        return Err(
            ctx.shape_err(format!("cannot multiply constants of shapes {:?} and {:?}", a.dims, w.dims))
        );
    }
    let work = p.checked_mul(r).and_then(|n| n.checked_mul(q.max(1)));
    if work.is_none_or(|n| n > crate::ir::MAX_ELEMENTS) {
        return Err(ctx.unsupported("the product of these constants is too large to compute at import"));
    }
    let av = a.floats().map_err(|e| ctx.tensor_err(0, e))?;
    let wv = w.floats().map_err(|e| ctx.tensor_err(1, e))?;
    let mut out = vec![0.0; p * r];
    for i in 0..p {
        for j in 0..r {
            let s: f64 = (0..q).map(|k| av[i * q + k] * wv[k * r + j]).sum();
            out[i * r + j] = round_to(a.dtype, s);
        }
    }
    Ok(Tensor { dtype: a.dtype, ..Tensor::float(vec![p, r], out) })
}

pub(super) fn gemm(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Result<Vec<Value>, OnnxError> {
    let alpha = ctx.float("alpha", 1.0)? as f64;
    let beta = ctx.float("beta", 1.0)? as f64;
    let trans_a = ctx.int("transA", 0)?;
    let trans_b = ctx.int("transB", 0)?;
    let x = ctx.act(ins, 0)?;
    if trans_a != 0 {
        return Err(ctx.unsupported("transA=1 would transpose the batch axis of the activation"));
    }
    let n = flat_features(ctx, &x)?;
    let w = ctx.constant(ins, 1, "B")?;
    if w.dims.len() != 2 {
        return Err(ctx.shape_err(format!("B has shape {:?}; Gemm needs a 2-D matrix", w.dims)));
    }
    let w = if trans_b != 0 { transpose(&w, &[1, 0]) } else { (*w).clone() };
    let (k, m) = (w.dims[0], w.dims[1]);
    if k != n {
        return Err(
            ctx.shape_err(format!("the input has {n} features but op(B) has shape [{k}, {m}] ({k} rows)"))
        );
    }
    let mut weights = ctx.weights(1, &w, vec![k, m])?;
    weights.values.iter_mut().for_each(|v| *v *= alpha);
    weights.ty = scaled_ty(w.ty, alpha);
    ctx.finite(1, &weights.values)?;

    let c = ctx.opt_const(ins, 2, "C")?;
    if c.is_none() && ctx.opset < 11 {
        return Err(ctx.err("input C is required before opset 11"));
    }
    let bias = match c {
        None => Weights::new(Shape::new([m]), vec![0.0; m]),
        Some(c) => {
            let per_row = match c.dims[..] {
                [] | [_] => true,
                [1, _] => true,
                [rows, _] => {
                    return Err(ctx.unsupported(format!(
                        "C has shape {:?}: a bias that differs per batch row ({rows} rows) is not supported",
                        c.dims
                    )))
                }
                _ => false,
            };
            let cols = c.dims.last().copied().unwrap_or(1);
            if !per_row || (cols != 1 && cols != m) {
                return Err(
                    ctx.shape_err(format!("C has shape {:?}, which does not broadcast to [1, {m}]", c.dims))
                );
            }
            let vals = c.floats().map_err(|e| ctx.tensor_err(2, e))?;
            ctx.finite(2, &vals)?;
            let values: Vec<f64> = (0..m).map(|j| beta * vals[if cols == 1 { 0 } else { j }]).collect();
            ctx.finite(2, &values)?;
            Weights { shape: Shape::new([m]), values, ty: scaled_ty(c.ty, beta) }
        }
    };
    dense_from(b, ctx, &x, weights, bias)
}
