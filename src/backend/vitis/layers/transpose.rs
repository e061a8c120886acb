//! `Transpose` as a call of `gather` (`templates/hlsgen/gather.h`) with the source index of every
//! output value ([`Transpose::source_indices`]).

use super::{Operands, Plan};
use crate::backend::BackendError;
use crate::ir::Transpose;

pub(super) fn plan(ops: &Operands<'_>, t: &Transpose) -> Result<Plan, BackendError> {
    let input = ops.inputs.first().ok_or_else(|| BackendError::layer(&ops.node.name, "has no input"))?;
    Ok(super::gather(ops, input.shape.elements(), &t.source_indices(&input.shape)))
}
