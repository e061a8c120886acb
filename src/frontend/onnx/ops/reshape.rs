//! Layout ops that become `Layer::Reshape`: `Flatten`, `Reshape`, `Squeeze`, `Unsqueeze`.
//!
//! Specs: <https://onnx.ai/onnx/operators/onnx__Flatten.html>, <https://onnx.ai/onnx/operators/onnx__Reshape.html>,
//! <https://onnx.ai/onnx/operators/onnx__Squeeze.html>, <https://onnx.ai/onnx/operators/onnx__Unsqueeze.html>.
//!
//! Contract: on constants every op is computed at import. On an activation the batch axis must
//! stay first and untouched; the per-sample result becomes `Layer::Reshape` (no node when the
//! shape is unchanged). Shapes are the model's: an activation held in another layout is first
//! brought to the model's element order (an IR `Transpose` before the `Reshape`, e.g. when a
//! channels-first feature map held channels-last is flattened; nothing when only axes of extent 1
//! move). A target shape may use the symbolic batch size that `Shape` gives ([`BATCH`]) as its batch
//! axis. Squeeze/Unsqueeze take `axes` as an attribute before opset 13 and as an input from 13 on;
//! Reshape's `allowzero` (opset 14) makes 0 a literal zero, which is rejected.

use super::super::builder::{Batch, Builder};
use super::super::layout::{self, model_order};
use super::super::tensor::{elements, BATCH};
use super::{const_value, norm_axis, Act, NodeCtx, Value};
use crate::frontend::onnx::OnnxError;
use crate::ir::{Layer, Reshape, Shape};

/// Why a shape computation failed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Fail {
    /// The model is inconsistent.
    Invalid(String),
    /// Valid, but it mixes the batch axis with the features.
    Unsupported(String),
}

fn fail(ctx: &NodeCtx, f: Fail) -> OnnxError {
    match f {
        Fail::Invalid(m) => ctx.shape_err(m),
        Fail::Unsupported(m) => ctx.unsupported(m),
    }
}

fn show(dims: &[usize]) -> String {
    format!("[batch, {}]", dims.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", "))
}

/// Emits a `Layer::Reshape` of `x`'s model tensor to `dims`, or nothing when the shape does not
/// change; the result is in the model's order.
pub(super) fn reshape_act(
    b: &mut Builder,
    ctx: &NodeCtx,
    x: &Act,
    dims: Vec<usize>,
) -> Result<Vec<Value>, OnnxError> {
    let src =
        if layout::keeps_order(x.shape.dims(), &x.perm) { x.clone() } else { model_order(b, ctx, x, 0)? };
    let act = if src.shape.dims() == dims.as_slice() {
        Act { perm: layout::identity(dims.len()), ..src }
    } else {
        b.add(ctx, ctx.label(), Layer::Reshape(Reshape::new(Shape::new(dims))), &[src.id])?
    };
    Ok(vec![Value::Act(act)])
}

/// Integer values of constant input `i`.
pub(super) fn int_list(
    ctx: &NodeCtx,
    ins: &[Option<Value>],
    i: usize,
    what: &str,
) -> Result<Vec<i64>, OnnxError> {
    let t = ctx.constant(ins, i, what)?;
    t.ints().map_err(|e| ctx.tensor_err(i, e))
}

pub(super) fn flatten(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    let axis = ctx.int("axis", 1)?;
    match ins.first() {
        Some(Some(Value::Const(t))) => {
            let a = flatten_axis(ctx, axis, t.dims.len())?;
            let outer: usize = t.dims[..a].iter().product();
            let inner: usize = t.dims[a..].iter().product();
            Ok(const_value(t.reshaped(vec![outer, inner])))
        }
        _ => {
            let x = ctx.act(ins, 0)?;
            let rank = x.shape.rank() + 1;
            let a = flatten_axis(ctx, axis, rank)?;
            let dims = x.model_dims();
            let inner: usize = dims[a.saturating_sub(1)..].iter().product();
            if a == 0 {
                if b.batch != Batch::Fixed(1) {
                    return Err(
                        ctx.unsupported("Flatten with axis 0 merges the batch axis into the features")
                    );
                }
            } else if dims[..a - 1].iter().product::<usize>() != 1 {
                return Err(ctx.unsupported(format!(
                    "Flatten with axis {axis} merges axes of {} into the batch axis",
                    show(&dims)
                )));
            }
            reshape_act(b, ctx, &x, vec![inner])
        }
    }
}

/// Flatten's axis lies in `[-rank, rank]`.
fn flatten_axis(ctx: &NodeCtx, axis: i64, rank: usize) -> Result<usize, OnnxError> {
    let r = rank as i64;
    let a = if axis < 0 { axis + r } else { axis };
    if !(0..=r).contains(&a) {
        return Err(ctx.err(format!("axis {axis} is out of range for rank {rank}")));
    }
    Ok(a as usize)
}

/// Resolves a Reshape target for a constant of shape `input`.
pub(crate) fn reshape_dims(input: &[usize], target: &[i64], allow_zero: bool) -> Result<Vec<usize>, Fail> {
    check_target(target, allow_zero)?;
    let n = elements(input).ok_or_else(|| Fail::Invalid("the input is too large".into()))?;
    let mut out = Vec::with_capacity(target.len());
    let mut infer = None;
    for (i, &t) in target.iter().enumerate() {
        match t {
            0 if !allow_zero => out.push(*input.get(i).ok_or_else(|| {
                Fail::Invalid(format!("0 at position {i} copies a dimension the input lacks"))
            })?),
            -1 => {
                infer = Some(i);
                out.push(1);
            }
            BATCH => {
                return Err(Fail::Unsupported("a constant reshaped with the symbolic batch size".into()))
            }
            t => out.push(t as usize),
        }
    }
    fill(out, infer, n, input, target)
}

fn check_target(target: &[i64], allow_zero: bool) -> Result<(), Fail> {
    if let Some(&bad) = target.iter().find(|&&t| t < -1 && t != BATCH) {
        return Err(Fail::Invalid(format!("target shape {target:?} has the negative dimension {bad}")));
    }
    if target.iter().filter(|&&t| t == -1).count() > 1 {
        return Err(Fail::Invalid(format!("target shape {target:?} has more than one -1")));
    }
    if allow_zero && target.contains(&0) {
        return Err(Fail::Invalid(format!("target shape {target:?} has a zero dimension (allowzero=1)")));
    }
    Ok(())
}

/// Replaces the `-1` at `infer` so that `out` has `n` elements; checks the count.
fn fill(
    mut out: Vec<usize>,
    infer: Option<usize>,
    n: usize,
    input: &[usize],
    target: &[i64],
) -> Result<Vec<usize>, Fail> {
    let known =
        elements(&out).ok_or_else(|| Fail::Invalid(format!("target shape {target:?} is too large")))?;
    if let Some(i) = infer {
        if known == 0 || !n.is_multiple_of(known) {
            return Err(Fail::Invalid(format!("cannot reshape {input:?} ({n} elements) to {target:?}")));
        }
        out[i] = n / known;
    } else if known != n {
        return Err(Fail::Invalid(format!("cannot reshape {input:?} ({n} elements) to {target:?}")));
    }
    Ok(out)
}

/// Resolves a Reshape target for an activation of per-sample shape `sample`: the per-sample result.
pub(crate) fn reshape_sample(
    batch: Batch,
    sample: &[usize],
    target: &[i64],
    allow_zero: bool,
) -> Result<Vec<usize>, Fail> {
    check_target(target, allow_zero)?;
    let n = elements(sample).ok_or_else(|| Fail::Invalid("the input is too large".into()))?;
    let Some((&first, rest)) = target.split_first() else {
        return Err(Fail::Unsupported("reshaping to a scalar drops the batch axis".into()));
    };
    let batch_ok = match (first, batch) {
        (0, _) if !allow_zero => true,
        (BATCH, _) => true,
        (-1, _) => {
            if rest.contains(&-1) {
                return Err(Fail::Invalid(format!("target shape {target:?} has more than one -1")));
            }
            let zeros_ok = rest.iter().enumerate().all(|(i, &t)| t != 0 || sample.get(i).is_some());
            let rest_n: Option<usize> = rest.iter().enumerate().try_fold(1usize, |acc, (i, &t)| {
                let d = if t == 0 && !allow_zero { *sample.get(i)? } else { usize::try_from(t).ok()? };
                acc.checked_mul(d)
            });
            zeros_ok && rest_n == Some(n)
        }
        (v, Batch::Fixed(b)) => v as usize == b,
        (v, Batch::Symbolic) => v == 1,
    };
    if !batch_ok {
        return Err(Fail::Unsupported(format!(
            "target shape {target:?} does not keep the batch axis first and unchanged"
        )));
    }
    let mut out = Vec::with_capacity(rest.len());
    let mut infer = None;
    for (i, &t) in rest.iter().enumerate() {
        match t {
            0 if !allow_zero => out.push(*sample.get(i).ok_or_else(|| {
                Fail::Invalid(format!("0 at position {} copies a dimension the input lacks", i + 1))
            })?),
            -1 => {
                infer = Some(i);
                out.push(1);
            }
            BATCH => {
                return Err(Fail::Unsupported(format!(
                    "target shape uses the batch size at position {}",
                    i + 1
                )))
            }
            t => out.push(t as usize),
        }
    }
    fill(out, infer, n, sample, target)
}

pub(super) fn reshape(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    let target = match (ctx.opset < 5, ins.len()) {
        (true, 1) => {
            ctx.ints("shape")?.ok_or_else(|| ctx.err("before opset 5 attribute 'shape' is required"))?
        }
        (true, _) => return Err(ctx.err("before opset 5 Reshape takes one input and the 'shape' attribute")),
        (false, 2) => int_list(ctx, ins, 1, "shape")?,
        (false, _) => return Err(ctx.err("from opset 5 Reshape takes the shape as input #1")),
    };
    let allow_zero = ctx.opset >= 14 && ctx.int("allowzero", 0)? != 0;
    match ins.first() {
        Some(Some(Value::Const(t))) => {
            let dims = reshape_dims(&t.dims, &target, allow_zero).map_err(|f| fail(ctx, f))?;
            Ok(const_value(t.reshaped(dims)))
        }
        _ => {
            let x = ctx.act(ins, 0)?;
            let dims =
                reshape_sample(b.batch, &x.model_dims(), &target, allow_zero).map_err(|f| fail(ctx, f))?;
            reshape_act(b, ctx, &x, dims)
        }
    }
}

/// The `axes` of Squeeze/Unsqueeze: an attribute before opset 13, an optional input from 13 on.
fn axes(ctx: &NodeCtx, ins: &[Option<Value>]) -> Result<Option<Vec<i64>>, OnnxError> {
    if ctx.opset < 13 {
        if ins.len() > 1 {
            return Err(ctx.err("before opset 13 axes are an attribute, not an input"));
        }
        ctx.ints("axes")
    } else {
        match ctx.opt_const(ins, 1, "axes")? {
            None => Ok(None),
            Some(t) => t.ints().map(Some).map_err(|e| ctx.tensor_err(1, e)),
        }
    }
}

fn norm_axes(ctx: &NodeCtx, axes: &[i64], rank: usize) -> Result<Vec<usize>, OnnxError> {
    let mut out: Vec<usize> = axes.iter().map(|&a| norm_axis(ctx, a, rank)).collect::<Result<_, _>>()?;
    out.sort_unstable();
    if out.windows(2).any(|w| w[0] == w[1]) {
        return Err(ctx.err(format!("axes {axes:?} repeat an axis")));
    }
    Ok(out)
}

pub(super) fn squeeze(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    let axes = axes(ctx, ins)?;
    let (full, is_act): (Vec<usize>, bool) = match ins.first() {
        Some(Some(Value::Const(t))) => (t.dims.clone(), false),
        _ => {
            let x = ctx.act(ins, 0)?;
            (std::iter::once(1).chain(x.shape.dims().iter().copied()).collect(), true)
        }
    };
    let remove: Vec<usize> = match axes {
        Some(a) => {
            let a = norm_axes(ctx, &a, full.len())?;
            if let Some(&bad) = a.iter().find(|&&i| full[i] != 1) {
                if !(is_act && bad == 0) {
                    return Err(ctx.shape_err(format!("cannot squeeze axis {bad} of size {}", full[bad])));
                }
            }
            if is_act && a.contains(&0) {
                return Err(ctx.unsupported("Squeeze removes the batch axis"));
            }
            a
        }
        None => (usize::from(is_act)..full.len()).filter(|&i| full[i] == 1).collect(),
    };
    let kept: Vec<usize> =
        full.iter().enumerate().filter(|(i, _)| !remove.contains(i)).map(|(_, &d)| d).collect();
    match ins.first() {
        Some(Some(Value::Const(t))) => Ok(const_value(t.reshaped(kept))),
        _ => {
            let x = ctx.act(ins, 0)?;
            reshape_act(b, ctx, &x, kept[1..].to_vec())
        }
    }
}

pub(super) fn unsqueeze(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    let axes = axes(ctx, ins)?.ok_or_else(|| ctx.err("axes are required"))?;
    // A graph model's activations have no batch axis ([`Builder::batchless`]).
    let batch = usize::from(!b.batchless);
    let (full, is_act): (Vec<usize>, bool) = match ins.first() {
        Some(Some(Value::Const(t))) => (t.dims.clone(), false),
        _ => {
            let x = ctx.act(ins, 0)?;
            (std::iter::repeat_n(1, batch).chain(x.shape.dims().iter().copied()).collect(), true)
        }
    };
    let out_rank = full.len() + axes.len();
    let insert = norm_axes(ctx, &axes, out_rank)?;
    if is_act && batch == 1 && insert.contains(&0) {
        return Err(ctx.unsupported("Unsqueeze inserts an axis before the batch axis"));
    }
    let mut src = full.iter();
    let out: Vec<usize> = (0..out_rank)
        .map(|i| if insert.contains(&i) { 1 } else { src.next().copied().unwrap_or(1) })
        .collect();
    match ins.first() {
        Some(Some(Value::Const(t))) => Ok(const_value(t.reshaped(out))),
        _ => {
            let x = ctx.act(ins, 0)?;
            reshape_act(b, ctx, &x, out[batch..].to_vec())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reshape_zero_and_minus_one() {
        assert_eq!(reshape_dims(&[2, 3, 4], &[0, -1], false), Ok(vec![2, 12]));
        assert_eq!(reshape_dims(&[2, 3, 4], &[-1, 0, 2], false), Ok(vec![4, 3, 2]));
        assert_eq!(reshape_dims(&[6], &[2, 3], false), Ok(vec![2, 3]));
        assert!(matches!(reshape_dims(&[6], &[4, -1], false), Err(Fail::Invalid(_))));
        assert!(matches!(reshape_dims(&[6], &[-1, -1], false), Err(Fail::Invalid(_))));
        assert!(matches!(reshape_dims(&[6], &[2, -3], false), Err(Fail::Invalid(_))));
        assert!(matches!(reshape_dims(&[6], &[0, 6], true), Err(Fail::Invalid(_))));
        assert!(matches!(reshape_dims(&[6], &[6, 0], false), Err(Fail::Invalid(_))));
    }

    #[test]
    fn reshape_keeps_the_batch_axis() {
        let sym = Batch::Symbolic;
        assert_eq!(reshape_sample(Batch::Fixed(4), &[32], &[4, -1, 8], false), Ok(vec![4, 8]));
        assert_eq!(reshape_sample(sym, &[32], &[0, 4, 8], false), Ok(vec![4, 8]));
        assert_eq!(reshape_sample(sym, &[4, 8], &[-1, 32], false), Ok(vec![32]));
        assert_eq!(reshape_sample(sym, &[4, 8], &[BATCH, -1], false), Ok(vec![32]));
        assert_eq!(reshape_sample(sym, &[4, 8], &[-1, 0, 8], false), Ok(vec![4, 8]));
        assert_eq!(reshape_sample(Batch::Fixed(1), &[16], &[1, 1, 16], false), Ok(vec![1, 16]));
        assert!(matches!(reshape_sample(Batch::Fixed(4), &[32], &[-1, 8], false), Err(Fail::Unsupported(_))));
        assert!(matches!(reshape_sample(Batch::Fixed(2), &[32], &[4, -1], false), Err(Fail::Unsupported(_))));
        assert!(matches!(reshape_sample(Batch::Fixed(1), &[16], &[4, -4], false), Err(Fail::Invalid(_))));
        assert!(matches!(reshape_sample(sym, &[16], &[], false), Err(Fail::Unsupported(_))));
        assert!(matches!(reshape_sample(sym, &[16], &[0, 5], false), Err(Fail::Invalid(_))));
        assert!(matches!(reshape_sample(sym, &[16], &[0, BATCH], false), Err(Fail::Unsupported(_))));
    }
}
