//! `BatchNorm` as a call of `batch_norm` (`templates/hlsgen/batch_norm.h`): scale and bias as
//! broadcast constants.

use super::{konst, Builder, Operands, Plan};
use crate::backend::BackendError;
use crate::ir::BatchNorm;

pub(super) fn plan(ops: &Operands<'_>, b: &BatchNorm) -> Result<Plan, BackendError> {
    let mut bld = Builder::new(ops, "batch_norm");
    bld.config.constants.push(konst("n", ops.node.shape.elements()));
    bld.broadcast_constant("scale", &b.scale)?;
    bld.broadcast_constant("bias", &b.bias)?;
    Ok(bld.finish("batch_norm.h"))
}
