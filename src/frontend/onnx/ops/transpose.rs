//! `Transpose`: of a constant it is computed at import; of an activation it changes only the
//! activation's layout, and an IR `Transpose` appears only where a later op needs the data moved.
//!
//! Spec: <https://onnx.ai/onnx/operators/onnx__Transpose.html> (no `perm`: the axes reversed).
//!
//! Contract: the batch axis must stay first. The model tensor `y = transpose(x, t)` of an activation
//! `x = transpose(ir, p)` is `transpose(ir, q)` with `q[k] = p[t[k]]` (per-sample axes), so the
//! result is the same IR node with layout `q`: a keras2onnx model that transposes its NHWC input to
//! NCHW for a `Conv` and back before a `Flatten` gets no IR node for either transpose.

use super::super::builder::Builder;
use super::super::tensor;
use super::{const_value, Act, NodeCtx, Value};
use crate::frontend::onnx::OnnxError;

fn permutation(ctx: &NodeCtx, rank: usize) -> Result<Vec<usize>, OnnxError> {
    let perm = match ctx.ints("perm")? {
        None => (0..rank).rev().collect(),
        Some(p) => {
            let p: Vec<usize> = p.iter().map(|&v| usize::try_from(v).unwrap_or(usize::MAX)).collect();
            let mut seen = vec![false; rank];
            let valid =
                p.len() == rank && p.iter().all(|&i| i < rank && !std::mem::replace(&mut seen[i], true));
            if !valid {
                return Err(ctx.err(format!("perm {p:?} is not a permutation of {rank} axes")));
            }
            p
        }
    };
    Ok(perm)
}

pub(super) fn transpose(
    _b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    ctx.known_attrs(&["perm"])?;
    match ins.first() {
        Some(Some(Value::Const(t))) => {
            let perm = permutation(ctx, t.dims.len())?;
            Ok(const_value(tensor::transpose(t, &perm)))
        }
        _ => {
            let x = ctx.act(ins, 0)?;
            let perm = permutation(ctx, x.perm.len() + 1)?;
            if perm[0] != 0 {
                return Err(ctx.unsupported(format!("permutation {perm:?} moves the batch axis")));
            }
            let composed: Vec<usize> = perm[1..].iter().map(|&t| x.perm[t - 1]).collect();
            Ok(vec![Value::Act(Act { perm: composed, ..x })])
        }
    }
}
