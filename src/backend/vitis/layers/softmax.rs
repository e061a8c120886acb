//! `Softmax` as a call of `softmax` (`templates/hlsgen/softmax.h`) over rows of the last axis,
//! with the layer's two tables and the exact difference and sum types of its arithmetic.

use super::{konst, Builder, Operands, Plan};
use crate::backend::BackendError;
use crate::ir::Softmax;

pub(super) fn plan(ops: &Operands<'_>, s: &Softmax) -> Result<Plan, BackendError> {
    let node = ops.node;
    let mut bld = Builder::new(ops, "softmax");
    let input = ops.inputs.first().ok_or_else(|| BackendError::layer(&node.name, "has no input"))?;
    let channels = input.shape.channels();
    bld.config.constants.push(konst("n", channels));
    bld.config.constants.push(konst("n_rows", node.shape.elements() / channels.max(1)));
    bld.typedef("diff_t", &Softmax::difference_type(&input.ty), "diff_t", None);
    bld.typedef("sum_t", &s.sum_type(channels), "sum_t", None);
    bld.table("exp_table", &s.exp_table)?;
    bld.table("inv_table", &s.inv_table)?;
    Ok(bld.finish("softmax.h"))
}
