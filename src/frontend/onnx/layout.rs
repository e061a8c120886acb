//! Where the model's axis order and the IR's channels-last order meet.
//!
//! Every activation ([`Act`]) records, besides the IR node holding it, a permutation `perm` with
//! `model_tensor = transpose(ir_tensor, perm)` (batch axis excluded; model axis `k` is IR axis
//! `perm[k]`). Channels-first operators (`Conv`, pooling, `BatchNormalization` on feature maps,
//! `Pad`, `Resize`) read `[C, spatial...]` model tensors from channels-last IR tensors, whose `perm`
//! is [`channels_first`]; `Transpose` only composes permutations; element-wise layers keep their
//! input's `perm`. Where an op needs the model's element order (`Flatten`, `Reshape`, `MatMul`, a
//! graph output, ...) and `perm` is not the identity, [`relayout`] inserts the IR node that
//! materializes it: a `Reshape` when the permutation moves only axes of extent 1 (the row-major
//! data does not move), an IR `Transpose` otherwise. Each conversion of a tensor to a layout is made
//! once and shared by every reader.
//!
//! Contract: nothing here changes a value; an activation converted to a layout holds the same model
//! tensor.

use super::builder::Builder;
use super::ops::{align_const, Act, NodeCtx};
use super::tensor::{self, Tensor};
use super::OnnxError;
use crate::ir::{Layer, Reshape, Shape, Transpose, Weights};

/// The identity permutation of `r` axes.
pub(crate) fn identity(r: usize) -> Vec<usize> {
    (0..r).collect()
}

/// The layout of a channels-first model tensor `[C, s_1, ..., s_k]` held channels-last
/// `[s_1, ..., s_k, C]`: `[r - 1, 0, 1, ..., r - 2]`.
pub(crate) fn channels_first(r: usize) -> Vec<usize> {
    match r {
        0 => Vec::new(),
        _ => std::iter::once(r - 1).chain(0..r - 1).collect(),
    }
}

pub(crate) fn is_identity(perm: &[usize]) -> bool {
    perm.iter().enumerate().all(|(k, &p)| k == p)
}

/// The inverse permutation (`perm` must be a permutation).
pub(crate) fn inverse(perm: &[usize]) -> Vec<usize> {
    let mut inv = vec![0; perm.len()];
    for (k, &p) in perm.iter().enumerate() {
        inv[p] = k;
    }
    inv
}

/// True when `transpose(x, perm)` of a tensor of shape `dims` leaves its row-major data in place:
/// the axes of extent other than 1 keep their order.
pub(crate) fn keeps_order(dims: &[usize], perm: &[usize]) -> bool {
    let moved: Vec<usize> = perm.iter().copied().filter(|&p| dims[p] != 1).collect();
    moved.windows(2).all(|w| w[0] < w[1])
}

/// Values given per model axis (batch excluded), rearranged per IR axis of `x`.
pub(crate) fn to_ir_axes<T: Copy>(x: &Act, model: &[T]) -> Vec<T> {
    let mut out = model.to_vec();
    for (k, &p) in x.perm.iter().enumerate() {
        out[p] = model[k];
    }
    out
}

/// The activation `x` (input `input` of the node) held with layout `target`: `x` itself when it
/// already is, otherwise a `Reshape` or `Transpose` of it named after the model tensor.
pub(crate) fn relayout(
    b: &mut Builder,
    ctx: &NodeCtx,
    x: &Act,
    input: usize,
    target: &[usize],
) -> Result<Act, OnnxError> {
    if x.perm == target {
        return Ok(x.clone());
    }
    if target.len() != x.perm.len() {
        return Err(ctx.shape_err(format!(
            "input #{input} has rank {}, {} is expected",
            x.perm.len() + 1,
            target.len() + 1
        )));
    }
    let key = (x.id, target.to_vec());
    if let Some(done) = b.relayouts.get(&key) {
        return Ok(done.clone());
    }
    // ir' = transpose(ir, q) holds the model tensor as transpose(ir', target) when
    // q[j] = perm[target^-1[j]].
    let q: Vec<usize> = inverse(target).into_iter().map(|j| x.perm[j]).collect();
    let dims: Vec<usize> = q.iter().map(|&k| x.shape.dims()[k]).collect();
    let tensor = ctx.node.inputs.get(input).map_or(ctx.label(), String::as_str);
    let mut act = if dims == x.shape.dims() && keeps_order(x.shape.dims(), &q) {
        x.clone()
    } else if keeps_order(x.shape.dims(), &q) {
        let layer = Layer::Reshape(Reshape::new(Shape::new(dims)));
        b.add(ctx, &format!("{tensor}/reshape"), layer, &[x.id])?
    } else {
        b.add(ctx, &format!("{tensor}/transpose"), Layer::Transpose(Transpose { perm: q }), &[x.id])?
    };
    act.perm = target.to_vec();
    b.relayouts.insert(key, act.clone());
    Ok(act)
}

/// `x` in the model's axis order (`perm` the identity).
pub(crate) fn model_order(b: &mut Builder, ctx: &NodeCtx, x: &Act, input: usize) -> Result<Act, OnnxError> {
    relayout(b, ctx, x, input, &identity(x.perm.len()))
}

/// `x`, a channels-first model tensor, held channels-last ([`channels_first`]).
pub(crate) fn channels_last(b: &mut Builder, ctx: &NodeCtx, x: &Act, input: usize) -> Result<Act, OnnxError> {
    relayout(b, ctx, x, input, &channels_first(x.perm.len()))
}

/// A constant operand (input `input`) broadcast onto the model tensor of `x` (numpy rules), as IR
/// weights that broadcast the same way onto `x`'s IR tensor.
pub(crate) fn const_for(ctx: &NodeCtx, t: &Tensor, x: &Act, input: usize) -> Result<Weights, OnnxError> {
    let model = Shape::new(x.model_dims());
    let dims = align_const(ctx, t, &model)?;
    let w = ctx.weights(input, t, dims.clone())?;
    if x.is_plain() {
        return Ok(w);
    }
    let r = x.perm.len();
    let mut full = vec![1; r - dims.len()];
    full.extend(dims);
    let moved = tensor::transpose(&Tensor::float(full, w.values), &inverse(&x.perm));
    let values = moved.floats().map_err(|e| ctx.tensor_err(input, e))?;
    Ok(Weights { shape: Shape::new(moved.dims), values, ty: w.ty })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutations() {
        assert_eq!(channels_first(3), [2, 0, 1]);
        assert_eq!(channels_first(2), [1, 0]);
        assert_eq!(channels_first(1), [0]);
        assert_eq!(inverse(&[2, 0, 1]), [1, 2, 0]);
        assert!(is_identity(&[0, 1, 2]) && !is_identity(&[1, 0]));
        // [1, 1, 5] -> [5, 1, 1] moves only unit axes; [2, 3] -> [3, 2] moves data.
        assert!(keeps_order(&[1, 1, 5], &[2, 0, 1]));
        assert!(!keeps_order(&[2, 3], &[1, 0]));
        assert!(keeps_order(&[4, 1, 3], &[1, 0, 2]));
    }
}
