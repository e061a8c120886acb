//! `ScatterND` and `ScatterElements` with `reduction="add"` into a constant zero tensor become
//! `Layer::ScatterAdd`: rows of the updates summed into the rows the indices name, as PyTorch
//! Geometric's exporters write a sum aggregation.
//!
//! Specs: <https://onnx.ai/onnx/operators/onnx__ScatterND.html>,
//! <https://onnx.ai/onnx/operators/onnx__ScatterElements.html>.
//!
//! Contract: `data` is a constant of zeros `[rows, ...]`; the updates are an activation `[m, ...]`
//! with the same trailing axes. `ScatterND`'s indices are `[m, 1]` (one row index per update
//! row); `ScatterElements` (`axis` on the first axis) takes indices of the updates' shape that
//! repeat one row index along the other axes, as `Expand` of an `[m, 1]` column writes them (an
//! `Expand` handled by [`expand`]). Other reductions and layouts are unsupported.

use super::super::builder::Builder;
use super::reshape::reshape_act;
use super::{Act, NodeCtx, Value};
use crate::frontend::onnx::OnnxError;
use crate::ir::{Concatenate, Layer, ScatterAdd};

/// The zero `data` tensor's shape.
fn zero_rows(ctx: &NodeCtx, ins: &[Option<Value>]) -> Result<Vec<usize>, OnnxError> {
    let data = match ins.first() {
        Some(Some(Value::Const(t))) => t.clone(),
        _ => return Err(ctx.unsupported("data (input #0) must be a constant tensor of zeros")),
    };
    let values = data.floats().map_err(|e| ctx.tensor_err(0, e))?;
    if values.iter().any(|&v| v != 0.0) || data.dims.is_empty() {
        return Err(ctx.unsupported("data (input #0) must be a tensor of zeros"));
    }
    Ok(data.dims.clone())
}

fn reduction_add(ctx: &NodeCtx) -> Result<(), OnnxError> {
    match ctx.string("reduction", "none")?.as_str() {
        "add" => Ok(()),
        other => {
            Err(ctx.unsupported(format!("reduction '{other}'; only 'add' into zeros is a sum aggregation")))
        }
    }
}

/// The `ScatterAdd` of `updates` by the 1-D index `index` into `dims`.
fn scatter(
    b: &mut Builder,
    ctx: &NodeCtx,
    dims: &[usize],
    updates: &Act,
    index: &Act,
) -> Result<Vec<Value>, OnnxError> {
    let m = updates.shape.dims().first().copied().unwrap_or(0);
    if updates.shape.dims()[1..] != dims[1..] {
        return Err(ctx.shape_err(format!(
            "updates of shape {} do not fit data of shape {dims:?} row for row",
            updates.shape
        )));
    }
    if index.shape.elements() != m {
        return Err(ctx.shape_err(format!("{} indices for {m} update rows", index.shape.elements())));
    }
    let index = match reshape_act(b, ctx, index, vec![m])?.pop() {
        Some(Value::Act(a)) => a,
        _ => return Err(ctx.err("the index could not be flattened")),
    };
    let layer = Layer::ScatterAdd(ScatterAdd { rows: dims[0], terms: m });
    let act = b.add(ctx, ctx.label(), layer, &[updates.id, index.id])?;
    Ok(vec![Value::Act(act)])
}

pub(super) fn scatter_nd(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    ctx.known_attrs(&["reduction"])?;
    reduction_add(ctx)?;
    let dims = zero_rows(ctx, ins)?;
    let (index, updates) = (ctx.act(ins, 1)?, ctx.act(ins, 2)?);
    scatter(b, ctx, &dims, &updates, &index)
}

pub(super) fn scatter_elements(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    ctx.known_attrs(&["axis", "reduction"])?;
    reduction_add(ctx)?;
    let dims = zero_rows(ctx, ins)?;
    let (index, updates) = (ctx.act(ins, 1)?, ctx.act(ins, 2)?);
    if b.sample_axis(ctx, ctx.int("axis", 0)?, dims.len())? != 0 {
        return Err(ctx.unsupported("scattering along an axis other than the rows"));
    }
    let column =
        match b.repeated_column(index.id) {
            Some(id) => b.act_of(id),
            None if index.shape.dims()[1..].iter().all(|&d| d == 1) => index.clone(),
            None => return Err(ctx.unsupported(
                "the indices must repeat one row index along the features (an Expand of an [m, 1] column)",
            )),
        };
    scatter(b, ctx, &dims, &updates, &column)
}

/// `Expand` of an activation whose last axis is 1 to `n` copies along that axis (a
/// `Concatenate` of copies); other axes must keep their extent.
pub(super) fn expand(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Result<Vec<Value>, OnnxError> {
    let x = ctx.act(ins, 0)?;
    let shape = ctx.constant(ins, 1, "shape")?;
    let target = shape.ints().map_err(|e| ctx.tensor_err(1, e))?;
    let dims = x.shape.dims();
    let rank = dims.len();
    let tail: Vec<i64> = target.iter().rev().take(rank).rev().copied().collect();
    let keeps = tail.len() == rank
        && dims[..rank - 1].iter().zip(&tail).all(|(&d, &t)| t == 1 || t == d as i64)
        && tail[rank - 1] >= 1;
    if !keeps || dims[rank - 1] != 1 {
        return Err(ctx.unsupported(format!(
            "Expand of an activation of shape {} to {target:?}: only its last axis (of extent 1) may grow",
            x.shape
        )));
    }
    let n = tail[rank - 1] as usize;
    if n == 1 {
        return Ok(vec![Value::Act(x)]);
    }
    let layer = Layer::Concatenate(Concatenate { axis: rank - 1 });
    let act = b.add(ctx, ctx.label(), layer, &vec![x.id; n])?;
    Ok(vec![Value::Act(act)])
}
