//! `Concatenate` as one call of `concatenate_part` (`templates/hlsgen/concatenate.h`) per input,
//! each copying (and casting) its blocks to their place in every output row; the configuration
//! gives the number of outer blocks and the output row length.

use super::{konst, Builder, Operands, Plan};
use crate::backend::BackendError;
use crate::ir::{Concatenate, Shape};

pub(super) fn plan(ops: &Operands<'_>, c: &Concatenate) -> Result<Plan, BackendError> {
    let shapes: Vec<&Shape> = ops.inputs.iter().map(|i| &i.shape).collect();
    let (outer, lens) = c.blocks(&shapes);
    let row: usize = lens.iter().sum();
    let mut bld = Builder::new(ops, "concatenate_part");
    bld.config.constants.push(konst("n_outer", outer));
    bld.config.constants.push(konst("row", row));
    bld.config.constants.push(konst("n", ops.node.shape.elements()));
    let template = bld.plan.calls.remove(0);
    let config = bld.config.name.clone();
    let mut offset = 0;
    for (input, len) in ops.inputs.iter().zip(lens) {
        bld.plan.calls.push(super::Call {
            template_args: format!("{config}, {offset}, {len}"),
            args: format!("{}, {}", input.var, ops.out_var),
            ..template.clone()
        });
        offset += len;
    }
    Ok(bld.finish("concatenate.h"))
}
