//! Ops that add no layer: `Identity`, `Dropout` (inference), `Cast`.
//!
//! Specs: <https://onnx.ai/onnx/operators/onnx__Identity.html>, <https://onnx.ai/onnx/operators/onnx__Dropout.html>,
//! <https://onnx.ai/onnx/operators/onnx__Cast.html>.
//!
//! Contract: `Identity` and `Dropout` forward their input (Dropout's mask output is unavailable;
//! `training_mode`, an input from opset 12, must be false). `Cast` of an activation to a float type
//! is removed; to an integer type it is unsupported. `Cast` of a constant converts its values as a
//! runtime would (floats rounded to the target precision, to integers truncated toward zero and
//! range-checked).

use std::rc::Rc;

use super::super::builder::Builder;
use super::super::tensor::{dtype_name, round_to, DType, Data, Tensor, BATCH};
use super::{NodeCtx, Value};
use crate::frontend::onnx::OnnxError;

pub(super) fn identity(
    _b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    match ins.first() {
        Some(Some(v)) => Ok(vec![v.clone()]),
        _ => Err(ctx.err("input #0 is missing")),
    }
}

pub(super) fn dropout(
    _b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    if ctx.opset < 12 && ins.len() > 1 {
        return Err(ctx.err("before opset 12 Dropout takes one input"));
    }
    if let Some(t) = ctx.opt_const(ins, 2, "training_mode")? {
        if t.floats().map_err(|e| ctx.tensor_err(2, e))?.iter().any(|&v| v != 0.0) {
            return Err(ctx.unsupported("training_mode is true"));
        }
    }
    let x = match ins.first() {
        Some(Some(v)) => v.clone(),
        _ => return Err(ctx.err("input #0 is missing")),
    };
    let mask = Value::Unavailable(format!("the mask of Dropout '{}' exists only in training", ctx.label()));
    Ok(vec![x, mask])
}

pub(super) fn cast(_b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Result<Vec<Value>, OnnxError> {
    let to = if ctx.opset < 6 {
        // Cast-1 names the target type by its TensorProto.DataType name.
        let name = ctx.string("to", "")?;
        (1..=16)
            .find(|&c| dtype_name(c) == name)
            .ok_or_else(|| ctx.err(format!("unknown target type '{name}'")))?
    } else {
        let to = ctx.opt_int("to")?.ok_or_else(|| ctx.err("attribute 'to' is required"))?;
        i32::try_from(to).map_err(|_| ctx.err(format!("unknown target type {to}")))?
    };
    match ins.first() {
        Some(Some(Value::Const(t))) => {
            let dtype = DType::from_code(to).ok_or_else(|| {
                ctx.err(format!("casting a constant to {} is not supported", dtype_name(to)))
            })?;
            Ok(vec![Value::Const(Rc::new(cast_const(ctx, t, dtype)?))])
        }
        Some(Some(v @ Value::Act(_))) => {
            // FLOAT, FLOAT16, DOUBLE, BFLOAT16
            if matches!(to, 1 | 10 | 11 | 16) {
                Ok(vec![v.clone()])
            } else {
                Err(ctx.unsupported(format!("casting an activation to {}", dtype_name(to))))
            }
        }
        _ => Err(ctx.err("input #0 is missing")),
    }
}

fn cast_const(ctx: &NodeCtx, t: &Tensor, dtype: DType) -> Result<Tensor, OnnxError> {
    let data = if dtype.is_float() {
        let v = t.floats().map_err(|e| ctx.tensor_err(0, e))?;
        Data::Float(v.into_iter().map(|x| round_to(dtype, x)).collect())
    } else {
        let (lo, hi) = dtype.int_range().unwrap_or((i64::MIN, i64::MAX));
        let mut out = Vec::with_capacity(t.len());
        match &t.data {
            Data::Int(v) => {
                for &x in v {
                    out.push(match x {
                        BATCH if dtype == DType::Int64 || dtype == DType::Int32 => BATCH,
                        _ if dtype == DType::Bool => (x != 0) as i64,
                        _ if x < lo || x > hi => {
                            return Err(ctx.tensor_err(
                                0,
                                format!("value {x} does not fit {}", dtype_name(dtype.code())),
                            ))
                        }
                        _ => x,
                    });
                }
            }
            Data::Float(v) => {
                for &x in v {
                    let r = if dtype == DType::Bool { (x != 0.0) as i64 as f64 } else { x.trunc() };
                    if !r.is_finite() || r < lo as f64 || r > hi as f64 {
                        return Err(
                            ctx.tensor_err(0, format!("value {x} does not fit {}", dtype_name(dtype.code())))
                        );
                    }
                    out.push(r as i64);
                }
            }
        }
        Data::Int(out)
    };
    let unchanged = match (&t.data, &data) {
        (Data::Float(a), Data::Float(b)) => a == b,
        _ => false,
    };
    Ok(Tensor { dtype, dims: t.dims.clone(), data, ty: if unchanged { t.ty } else { None } })
}
