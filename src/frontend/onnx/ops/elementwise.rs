//! Arithmetic: `Add`, `Sub`, `Mul`, `Div`, and the variadic `Sum`, `Mean`, `Max`, `Min`.
//!
//! Specs: <https://onnx.ai/onnx/operators/onnx__Add.html>, <https://onnx.ai/onnx/operators/onnx__Sub.html>,
//! <https://onnx.ai/onnx/operators/onnx__Mul.html>, <https://onnx.ai/onnx/operators/onnx__Div.html>,
//! <https://onnx.ai/onnx/operators/onnx__Sum.html>, <https://onnx.ai/onnx/operators/onnx__Mean.html>,
//! <https://onnx.ai/onnx/operators/onnx__Max.html>, <https://onnx.ai/onnx/operators/onnx__Min.html>
//! (numpy broadcasting from opset 7, 8 for the variadic ops).
//!
//! Contract: constants are computed at import (floats rounded to their element type as a runtime
//! would, integers exactly, `Div` on integers truncating). An activation with a constant becomes
//! `Layer::Elementwise` holding the constant, broadcast onto the model's tensor and mapped to the
//! activation's layout ([`const_for`]); `x / c` is `x · (1/c)`; `c − x` is `Mul(−1)` (named
//! `<node>/neg`) then `Add(c)`. Activations of equal model shape give one `Elementwise` over all of
//! them (`Sum` is `Add`), every operand held in the first one's layout (converted by
//! [`relayout`]), the result in that layout. `Mean` of `n` activations is that `Add` (named
//! `<node>/sum`) then `Mul` by the constant `1/n`. One activation with constants is supported for
//! the two-operand ops and for `Sum`, `Max` and `Min` of one activation and one constant.

use std::rc::Rc;

use super::super::builder::Builder;
use super::super::layout::{const_for, relayout};
use super::super::tensor::{broadcast_dims, broadcast_indices, round_to, Data, Tensor, BATCH};
use super::{Act, NodeCtx, Value};
use crate::frontend::onnx::OnnxError;
use crate::ir::{BinaryOp, Elementwise, Layer, Weights};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Max,
    Min,
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

pub(super) fn sum(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Result<Vec<Value>, OnnxError> {
    variadic(b, ctx, ins, Op::Add, false)
}

pub(super) fn mean(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Result<Vec<Value>, OnnxError> {
    variadic(b, ctx, ins, Op::Add, true)
}

pub(super) fn max(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Result<Vec<Value>, OnnxError> {
    variadic(b, ctx, ins, Op::Max, false)
}

pub(super) fn min(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Result<Vec<Value>, OnnxError> {
    variadic(b, ctx, ins, Op::Min, false)
}

fn ir_op(op: Op) -> Option<BinaryOp> {
    match op {
        Op::Add => Some(BinaryOp::Add),
        Op::Sub => Some(BinaryOp::Sub),
        Op::Mul => Some(BinaryOp::Mul),
        Op::Max => Some(BinaryOp::Max),
        Op::Min => Some(BinaryOp::Min),
        Op::Div => None,
    }
}

/// One `Elementwise` over activations of equal model shape, in the first one's layout.
fn of_acts(
    b: &mut Builder,
    ctx: &NodeCtx,
    name: &str,
    xs: &[(usize, Act)],
    op: BinaryOp,
) -> Result<Act, OnnxError> {
    let (_, first) = &xs[0];
    let mut ids = Vec::with_capacity(xs.len());
    for (i, x) in xs {
        if x.model_dims() != first.model_dims() {
            return Err(ctx.unsupported(format!(
                "operands of shapes [batch, {}] and [batch, {}]: broadcasting between two activations is \
                 not supported",
                join(&first.model_dims()),
                join(&x.model_dims())
            )));
        }
        ids.push(relayout(b, ctx, x, *i, &first.perm)?.id);
    }
    let layer = Layer::Elementwise(Elementwise { op, constant: None });
    Ok(b.add(ctx, name, layer, &ids)?.like(first))
}

fn join(dims: &[usize]) -> String {
    dims.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")
}

fn variadic(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
    op: Op,
    mean: bool,
) -> Result<Vec<Value>, OnnxError> {
    let mut acts = Vec::new();
    let mut consts = Vec::new();
    for (i, v) in ins.iter().enumerate() {
        match v {
            Some(Value::Act(a)) => acts.push((i, a.clone())),
            Some(Value::Const(t)) => consts.push((i, t.clone())),
            _ => return Err(ctx.err(format!("input #{i} is missing"))),
        }
    }
    let n = ins.len();
    if acts.is_empty() {
        let mut acc = (*consts[0].1).clone();
        for (_, c) in &consts[1..] {
            acc = fold(ctx, &acc, c, op)?;
        }
        if mean {
            let count = Tensor::float(vec![], vec![n as f64]);
            acc = fold(ctx, &acc, &count, Op::Div)?;
        }
        return Ok(vec![Value::Const(Rc::new(acc))]);
    }
    let ir = ir_op(op).unwrap_or(BinaryOp::Add);
    let out = match (&acts[..], &consts[..]) {
        ([(_, x)], []) => x.clone(),
        ([(_, x)], [(i, c)]) if !mean => with_const(b, ctx, ctx.label(), x, c, *i, ir, None)?,
        (_, []) => {
            let name = if mean { format!("{}/sum", ctx.label()) } else { ctx.label().to_string() };
            let s = of_acts(b, ctx, &name, &acts, ir)?;
            if !mean {
                return Ok(vec![Value::Act(s)]);
            }
            let layer = Layer::Elementwise(Elementwise {
                op: BinaryOp::Mul,
                constant: Some(Weights::scalar(1.0 / n as f64)),
            });
            b.add(ctx, ctx.label(), layer, &[s.id])?.like(&s)
        }
        _ => return Err(ctx.unsupported("constant operands beside several activations, or in a Mean")),
    };
    Ok(vec![Value::Act(out)])
}

fn binary(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>], op: Op) -> Result<Vec<Value>, OnnxError> {
    let (Some(Some(lhs)), Some(Some(rhs))) = (ins.first(), ins.get(1)) else {
        return Err(ctx.err("needs two inputs"));
    };
    if ctx.opset < 7 {
        let rank = |v: &Value| match v {
            Value::Act(x) => Some(x.model_dims().len() + 1),
            Value::Const(t) => Some(t.dims.len()),
            _ => None,
        };
        if let (Some(a), Some(c)) = (rank(lhs), rank(rhs)) {
            super::legacy::broadcast(ctx, a, c)?;
        }
    }
    let out = match (lhs, rhs) {
        (Value::Const(a), Value::Const(c)) => Value::Const(Rc::new(fold(ctx, a, c, op)?)),
        (Value::Act(x), Value::Const(c)) => {
            let (ir_op, values) = match op {
                Op::Div => {
                    let v = c.floats().map_err(|e| ctx.tensor_err(1, e))?;
                    if let Some(pos) = v.iter().position(|d| *d == 0.0) {
                        return Err(ctx.tensor_err(1, format!("value #{pos} is 0: division by zero")));
                    }
                    (BinaryOp::Mul, Some(v.iter().map(|d| 1.0 / d).collect::<Vec<_>>()))
                }
                Op::Add | Op::Sub | Op::Mul | Op::Max | Op::Min => (ir_op(op).unwrap_or(BinaryOp::Add), None),
            };
            Value::Act(with_const(b, ctx, ctx.label(), x, c, 1, ir_op, values)?)
        }
        (Value::Const(c), Value::Act(x)) => match op {
            Op::Add | Op::Mul | Op::Max | Op::Min => {
                let ir = ir_op(op).unwrap_or(BinaryOp::Add);
                Value::Act(with_const(b, ctx, ctx.label(), x, c, 0, ir, None)?)
            }
            Op::Sub => {
                let neg = Weights::scalar(-1.0);
                let layer = Layer::Elementwise(Elementwise { op: BinaryOp::Mul, constant: Some(neg) });
                let negated = b.add(ctx, &format!("{}/neg", ctx.label()), layer, &[x.id])?.like(x);
                Value::Act(with_const(b, ctx, ctx.label(), &negated, c, 0, BinaryOp::Add, None)?)
            }
            Op::Div => return Err(ctx.unsupported("dividing by an activation")),
        },
        (Value::Act(x), Value::Act(y)) => {
            let ir = ir_op(op).ok_or_else(|| ctx.unsupported("dividing by an activation"))?;
            Value::Act(of_acts(b, ctx, ctx.label(), &[(0, x.clone()), (1, y.clone())], ir)?)
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
    let c = match values {
        Some(v) => {
            ctx.finite(input, &v)?;
            Tensor::float(c.dims.clone(), v)
        }
        None => c.clone(),
    };
    let w = const_for(ctx, &c, x, input)?;
    let layer = Layer::Elementwise(Elementwise { op, constant: Some(w) });
    Ok(b.add(ctx, name, layer, &[x.id])?.like(x))
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
                    Op::Max => Some(p.max(q)),
                    Op::Min => Some(p.min(q)),
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
                            Op::Max => p.max(q),
                            Op::Min => p.min(q),
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
