//! `UpSample` as a call of `gather` (`templates/hlsgen/gather.h`): output position `o` of every
//! channel reads input position `floor(o / factor)`.

use super::{flat, multi_indices, Operands, Plan};
use crate::backend::BackendError;
use crate::ir::UpSample;

pub(super) fn plan(ops: &Operands<'_>, u: &UpSample) -> Result<Plan, BackendError> {
    let input = ops.inputs.first().ok_or_else(|| BackendError::layer(&ops.node.name, "has no input"))?;
    let in_dims = input.shape.dims();
    let (in_spatial, channels) = (&in_dims[..in_dims.len() - 1], in_dims[in_dims.len() - 1]);
    let out_dims = ops.node.shape.dims();
    let mut src = Vec::with_capacity(ops.node.shape.elements());
    for o in multi_indices(&out_dims[..out_dims.len() - 1]) {
        let q: Vec<usize> = o.iter().zip(&u.factors).map(|(&v, &f)| v / f).collect();
        src.extend((0..channels).map(|c| flat(&q, in_spatial) * channels + c));
    }
    Ok(super::gather(ops, input.shape.elements(), &src))
}
