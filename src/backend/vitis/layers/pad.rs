//! `Pad` as a call of `gather` (`templates/hlsgen/gather.h`): output position `o` of every
//! channel reads input position `o - begin`, or zero where that is outside the input (padding);
//! negative amounts crop.

use super::{flat, multi_indices, Operands, Plan};
use crate::backend::BackendError;
use crate::ir::Pad;

pub(super) fn plan(ops: &Operands<'_>, p: &Pad) -> Result<Plan, BackendError> {
    let input = ops.inputs.first().ok_or_else(|| BackendError::layer(&ops.node.name, "has no input"))?;
    let in_dims = input.shape.dims();
    let (in_spatial, channels) = (&in_dims[..in_dims.len() - 1], in_dims[in_dims.len() - 1]);
    let out_dims = ops.node.shape.dims();
    let n_x = input.shape.elements();
    let mut src = Vec::with_capacity(ops.node.shape.elements());
    for o in multi_indices(&out_dims[..out_dims.len() - 1]) {
        let pos: Option<Vec<usize>> = (0..o.len())
            .map(|d| {
                let q = o[d] as i64 - p.begin[d];
                (0..in_spatial[d] as i64).contains(&q).then_some(q as usize)
            })
            .collect();
        src.extend((0..channels).map(|c| pos.as_ref().map_or(n_x, |q| flat(q, in_spatial) * channels + c)));
    }
    Ok(super::gather(ops, n_x, &src))
}
