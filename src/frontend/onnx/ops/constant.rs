//! Ops that compute constants at import and add no layer: `Constant`, `Shape`, `Gather`.
//!
//! Specs: <https://onnx.ai/onnx/operators/onnx__Constant.html>, <https://onnx.ai/onnx/operators/onnx__Shape.html>,
//! <https://onnx.ai/onnx/operators/onnx__Gather.html>.
//!
//! Contract: `Constant` yields its `value` (or `value_float(s)`, `value_int(s)`). `Shape` of an
//! activation gives the model's shape (whatever the IR's layout), with the batch size as [`BATCH`]
//! when it is symbolic, which `Reshape` reads back as the batch axis. `Gather` works on constants only.

use std::rc::Rc;

use super::super::builder::{Batch, Builder};
use super::super::model::Attr;
use super::super::tensor::{self, elements, DType, Data, Tensor, BATCH};
use super::{const_value, norm_axis, NodeCtx, Value};
use crate::frontend::onnx::OnnxError;

pub(super) fn constant(
    _b: &mut Builder,
    ctx: &NodeCtx,
    _ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    let mut found = None;
    for (name, attr) in &ctx.node.attrs {
        let t = match (name.as_str(), attr) {
            ("value", Attr::Tensor(p)) => {
                tensor::decode(p).map_err(|e| ctx.err(format!("attribute 'value': {e}")))?
            }
            ("value_float", Attr::Float(v)) => Tensor::float(vec![], vec![*v as f64]),
            ("value_floats", Attr::Floats(v)) => {
                Tensor::float(vec![v.len()], v.iter().map(|&x| x as f64).collect())
            }
            ("value_int", Attr::Int(v)) => Tensor::int(DType::Int64, vec![], vec![*v]),
            ("value_ints", Attr::Ints(v)) => Tensor::int(DType::Int64, vec![v.len()], v.clone()),
            ("value" | "value_float" | "value_floats" | "value_int" | "value_ints", _) => {
                return Err(ctx.err(format!("attribute '{name}' has the wrong kind")))
            }
            ("sparse_value" | "value_string" | "value_strings", _) => {
                return Err(ctx.unsupported(format!("a constant given as '{name}'")))
            }
            _ => continue,
        };
        if found.replace(t).is_some() {
            return Err(ctx.err("more than one value attribute"));
        }
    }
    let t = found.ok_or_else(|| ctx.err("no value attribute"))?;
    if let Data::Float(v) = &t.data {
        if let Some(pos) = v.iter().position(|x| x.is_nan()) {
            return Err(ctx.err(format!("value #{pos} is NaN")));
        }
    }
    Ok(vec![Value::Const(Rc::new(t))])
}

pub(super) fn shape(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Result<Vec<Value>, OnnxError> {
    let full: Vec<i64> = match ins.first() {
        Some(Some(Value::Const(t))) => t.dims.iter().map(|&d| d as i64).collect(),
        _ => {
            let x = ctx.act(ins, 0)?;
            let batch = match b.batch {
                Batch::Fixed(n) => n as i64,
                Batch::Symbolic => BATCH,
            };
            std::iter::once(batch).chain(x.model_dims().into_iter().map(|d| d as i64)).collect()
        }
    };
    let r = full.len() as i64;
    let clamp = |v: i64| if v < 0 { (v + r).max(0) } else { v.min(r) } as usize;
    let (start, end) = if ctx.opset >= 15 {
        (clamp(ctx.int("start", 0)?), clamp(ctx.int("end", r)?))
    } else {
        (0, full.len())
    };
    let part = if start < end { full[start..end].to_vec() } else { Vec::new() };
    Ok(const_value(Tensor::int(DType::Int64, vec![part.len()], part)))
}

pub(super) fn gather(
    _b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    let data = ctx.constant(ins, 0, "data")?;
    let idx = ctx.constant(ins, 1, "indices")?;
    let a = norm_axis(ctx, ctx.int("axis", 0)?, data.dims.len())?;
    let along = data.dims[a] as i64;
    let raw = idx.ints().map_err(|e| ctx.tensor_err(1, e))?;
    let mut indices = Vec::with_capacity(raw.len());
    for v in raw {
        let i = if v < 0 { v + along } else { v };
        if i < 0 || i >= along {
            return Err(ctx.tensor_err(1, format!("index {v} is out of range for axis {a} of size {along}")));
        }
        indices.push(i as usize);
    }
    let out_len = elements(&data.dims[..a])
        .and_then(|o| o.checked_mul(indices.len()))
        .and_then(|o| o.checked_mul(elements(&data.dims[a + 1..])?));
    if out_len.is_none_or(|n| n > crate::ir::MAX_ELEMENTS) {
        return Err(ctx.shape_err("the gathered tensor is too large"));
    }
    Ok(const_value(tensor::gather(&data, a, &indices, &idx.dims)))
}
