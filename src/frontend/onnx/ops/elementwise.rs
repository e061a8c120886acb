//! Binary arithmetic: `Add`, `Sub`, `Mul`, `Div`.
//!
//! Specs: <https://onnx.ai/onnx/operators/onnx__Add.html>, <https://onnx.ai/onnx/operators/onnx__Sub.html>,
//! <https://onnx.ai/onnx/operators/onnx__Mul.html>, <https://onnx.ai/onnx/operators/onnx__Div.html>
//! (numpy broadcasting from opset 7).
//!
//! Contract: two constants are computed at import (floats rounded to their element type as a
//! runtime would, integers exactly, `Div` on integers truncating). An activation with a constant
//! becomes `Layer::Elementwise` holding the constant (aligned by [`align_const`]); `x / c` is
//! `x · (1/c)`; `c − x` is `Mul(−1)` (named `<node>/neg`) then `Add(c)`. Two activations of equal
//! shape give a two-input `Elementwise` (`Add`, `Sub`, `Mul`).

use std::rc::Rc;

use super::super::builder::Builder;
use super::super::tensor::{broadcast_dims, broadcast_indices, round_to, Data, Tensor, BATCH};
use super::{align_const, Act, NodeCtx, Value};
use crate::frontend::onnx::OnnxError;
use crate::ir::{BinaryOp, Elementwise, Layer, Weights};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

pub(super) fn add(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Result<Vec<Value>, OnnxError> {
    binary(b, ctx, ins, Op::Add)
}

pub(super) fn sub(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Result<Vec<Value>, OnnxError> {
    binary(b, ctx, ins, Op::Sub)
}

pub(super) fn mul(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Result<Vec<Value>, OnnxError> {
    binary(b, ctx, ins, Op::Mul)
}

pub(super) fn div(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Result<Vec<Value>, OnnxError> {
    binary(b, ctx, ins, Op::Div)
}

fn binary(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>], op: Op) -> Result<Vec<Value>, OnnxError> {
    let (Some(Some(lhs)), Some(Some(rhs))) = (ins.first(), ins.get(1)) else {
        return Err(ctx.err("needs two inputs"));
    };
    let out = match (lhs, rhs) {
        (Value::Const(a), Value::Const(c)) => Value::Const(Rc::new(fold(ctx, a, c, op)?)),
        (Value::Act(x), Value::Const(c)) => {
            let (ir_op, values) = match op {
                Op::Add => (BinaryOp::Add, None),
                Op::Sub => (BinaryOp::Sub, None),
                Op::Mul => (BinaryOp::Mul, None),
                Op::Div => {
                    let v = c.floats().map_err(|e| ctx.tensor_err(1, e))?;
                    if let Some(pos) = v.iter().position(|d| *d == 0.0) {
                        return Err(ctx.tensor_err(1, format!("value #{pos} is 0: division by zero")));
                    }
                    (BinaryOp::Mul, Some(v.iter().map(|d| 1.0 / d).collect::<Vec<_>>()))
                }
            };
            Value::Act(with_const(b, ctx, ctx.label(), x, c, 1, ir_op, values)?)
        }
        (Value::Const(c), Value::Act(x)) => match op {
            Op::Add => Value::Act(with_const(b, ctx, ctx.label(), x, c, 0, BinaryOp::Add, None)?),
            Op::Mul => Value::Act(with_const(b, ctx, ctx.label(), x, c, 0, BinaryOp::Mul, None)?),
            Op::Sub => {
                let neg = Weights::scalar(-1.0);
                let layer = Layer::Elementwise(Elementwise { op: BinaryOp::Mul, constant: Some(neg) });
                let negated = b.add(ctx, &format!("{}/neg", ctx.label()), layer, &[x.id])?;
                Value::Act(with_const(b, ctx, ctx.label(), &negated, c, 0, BinaryOp::Add, None)?)
            }
            Op::Div => return Err(ctx.unsupported("dividing by an activation")),
        },
        (Value::Act(x), Value::Act(y)) => {
            let ir_op = match op {
                Op::Add => BinaryOp::Add,
                Op::Sub => BinaryOp::Sub,
                Op::Mul => BinaryOp::Mul,
                Op::Div => return Err(ctx.unsupported("dividing by an activation")),
            };
            if x.shape != y.shape {
                return Err(ctx.unsupported(format!(
                    "operands of shapes [batch, {}] and [batch, {}]: broadcasting between two activations is \
                     not supported",
                    x.shape.dims().iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", "),
                    y.shape.dims().iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")
                )));
            }
            let layer = Layer::Elementwise(Elementwise { op: ir_op, constant: None });
            Value::Act(b.add(ctx, ctx.label(), layer, &[x.id, y.id])?)
        }
        _ => return Err(ctx.err("unexpected operand kinds")),
    };
    Ok(vec![out])
}

/// Emits `x op c`; `values` replaces the constant's values (the reciprocal for `Div`).
#[allow(clippy::too_many_arguments)]
fn with_const(
    b: &mut Builder,
    ctx: &NodeCtx,
    name: &str,
    x: &Act,
    c: &Tensor,
    input: usize,
    op: BinaryOp,
    values: Option<Vec<f64>>,
) -> Result<Act, OnnxError> {
    let dims = align_const(ctx, c, &x.shape)?;
    let mut w = ctx.weights(input, c, dims)?;
    if let Some(v) = values {
        ctx.finite(input, &v)?;
        w.values = v;
        w.ty = None;
    }
    let layer = Layer::Elementwise(Elementwise { op, constant: Some(w) });
    b.add(ctx, name, layer, &[x.id])
}

fn fold(ctx: &NodeCtx, a: &Tensor, c: &Tensor, op: Op) -> Result<Tensor, OnnxError> {
    let dims = broadcast_dims(&a.dims, &c.dims).ok_or_else(|| {
        ctx.shape_err(format!(
            "constant shapes {:?} and {:?} do not broadcast (within the size limit)",
            a.dims, c.dims
        ))
    })?;
    let ia = broadcast_indices(&a.dims, &dims);
    let ic = broadcast_indices(&c.dims, &dims);
    match (&a.data, &c.data) {
        (Data::Int(x), Data::Int(y)) => {
            let mut out = Vec::with_capacity(ia.len());
            for (&i, &j) in ia.iter().zip(&ic) {
                let (p, q) = (x[i], y[j]);
                if p == BATCH || q == BATCH {
                    return Err(ctx.unsupported("arithmetic on the symbolic batch size"));
                }
                let r = match op {
                    Op::Add => p.checked_add(q),
                    Op::Sub => p.checked_sub(q),
                    Op::Mul => p.checked_mul(q),
                    Op::Div => p.checked_div(q),
                };
                out.push(r.ok_or_else(|| {
                    ctx.err(format!("integer overflow or division by zero in {p} and {q}"))
                })?);
            }
            Ok(Tensor::int(a.dtype, dims, out))
        }
        _ => {
            let x = a.floats().map_err(|e| ctx.tensor_err(0, e))?;
            let y = c.floats().map_err(|e| ctx.tensor_err(1, e))?;
            let dtype = if a.dtype.is_float() { a.dtype } else { c.dtype };
            let out = ia
                .iter()
                .zip(&ic)
                .map(|(&i, &j)| {
                    let (p, q) = (x[i], y[j]);
                    round_to(
                        dtype,
                        match op {
                            Op::Add => p + q,
                            Op::Sub => p - q,
                            Op::Mul => p * q,
                            Op::Div => p / q,
                        },
                    )
                })
                .collect::<Vec<f64>>();
            if let Some(pos) = out.iter().position(|v| v.is_nan()) {
                return Err(ctx.err(format!("folding the constants gives NaN at element #{pos}")));
            }
            Ok(Tensor { dtype, ..Tensor::float(dims, out) })
        }
    }
}
