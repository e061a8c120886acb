//! `Gather` on an activation: with an index computed from a model input it becomes
//! `Layer::GatherRows`; with a constant scalar index it selects one slice (a `Pad` cropping the
//! axis to that position, then a `Reshape` dropping it). `Gather` of constants is computed at
//! import ([`super::constant::gather`]).
//!
//! Spec: <https://onnx.ai/onnx/operators/onnx__Gather.html>.
//!
//! Contract: the gathered axis is the first axis of the model's tensor without its batch axis
//! (`axis` 0 of a graph model, whose inputs have none; 1 otherwise), and the runtime index is
//! 1-D. A constant index selects on any axis but the last. Negative constant indices count from
//! the end, as the spec says; runtime indices are checked when the model runs.

use super::super::builder::Builder;
use super::reshape::reshape_act;
use super::{NodeCtx, Value};
use crate::frontend::onnx::OnnxError;
use crate::ir::{GatherRows, Layer, Pad};

pub(super) fn gather(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Result<Vec<Value>, OnnxError> {
    if !matches!(ins.first(), Some(Some(Value::Act(_)))) {
        return super::constant::gather(b, ctx, ins);
    }
    ctx.known_attrs(&["axis"])?;
    let x = ctx.act(ins, 0)?;
    let axis = b.sample_axis(ctx, ctx.int("axis", 0)?, x.shape.rank())?;
    match ins.get(1) {
        Some(Some(Value::Const(t))) => {
            let raw = t.ints().map_err(|e| ctx.tensor_err(1, e))?;
            let ([v], true) = (&raw[..], t.dims.is_empty()) else {
                return Err(ctx.unsupported("a constant index of an activation must be a scalar"));
            };
            let dims = x.shape.dims().to_vec();
            if axis + 1 >= dims.len() {
                return Err(ctx.unsupported("a constant index selects on the last axis"));
            }
            let along = dims[axis] as i64;
            let i = if *v < 0 { v + along } else { *v };
            if !(0..along).contains(&i) {
                return Err(
                    ctx.tensor_err(1, format!("index {v} is out of range for axis {axis} of size {along}"))
                );
            }
            let s = dims.len() - 1;
            let (mut begin, mut end) = (vec![0i64; s], vec![0i64; s]);
            begin[axis] = -i;
            end[axis] = -(along - 1 - i);
            let crop =
                b.add(ctx, &format!("{}/select", ctx.label()), Layer::Pad(Pad { begin, end }), &[x.id])?;
            let kept: Vec<usize> =
                dims.iter().enumerate().filter(|&(a, _)| a != axis).map(|(_, &d)| d).collect();
            reshape_act(b, ctx, &crop, kept)
        }
        Some(Some(Value::Act(index))) => {
            if axis != 0 {
                return Err(ctx.unsupported("a runtime index gathers rows: the first axis of a sample"));
            }
            if index.shape.rank() != 1 {
                return Err(
                    ctx.unsupported(format!("the runtime index has shape {}; it must be 1-D", index.shape))
                );
            }
            let act = b.add(ctx, ctx.label(), Layer::GatherRows(GatherRows), &[x.id, index.id])?;
            Ok(vec![Value::Act(act)])
        }
        _ => Err(ctx.err("input #1 (indices) is missing")),
    }
}
