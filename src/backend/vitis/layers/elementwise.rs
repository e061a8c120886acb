//! `Elementwise` as a call of `elementwise` (two tensors) or `elementwise_constant` (a broadcast
//! constant) from `templates/hlsgen/elementwise.h`, with the operation as a functor type.

use super::{alias, konst, Builder, Operands, Plan};
use crate::backend::BackendError;
use crate::ir::{BinaryOp, Elementwise};

pub(super) fn plan(ops: &Operands<'_>, e: &Elementwise) -> Result<Plan, BackendError> {
    let op = match e.op {
        BinaryOp::Add => "hlsgen::op_add",
        BinaryOp::Sub => "hlsgen::op_sub",
        BinaryOp::Mul => "hlsgen::op_mul",
    };
    let function = if e.constant.is_some() { "elementwise_constant" } else { "elementwise" };
    let mut bld = Builder::new(ops, function);
    bld.config.typedefs.push(alias("op", op));
    bld.config.constants.push(konst("n", ops.node.shape.elements()));
    if let Some(c) = &e.constant {
        bld.broadcast_constant("constant", c)?;
    }
    Ok(bld.finish("elementwise.h"))
}
