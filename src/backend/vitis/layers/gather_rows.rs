//! `GatherRows` as one call of `gather_rows` (`templates/hlsgen/gather_rows.h`): the data's rows
//! (`n_rows` of `row` values) and the `n_index` indices.

use super::{konst, Builder, Operands, Plan};
use crate::backend::BackendError;

/// The data's row length and the index length of a layer reading rows by index.
pub(super) fn extents(ops: &Operands<'_>) -> Result<(usize, usize), BackendError> {
    let [x, index] = &ops.inputs[..] else {
        return Err(BackendError::layer(&ops.node.name, "takes a data and an index input"));
    };
    let rows = x.shape.dims().first().copied().unwrap_or(1).max(1);
    Ok((x.shape.elements() / rows, index.shape.elements()))
}

pub(super) fn plan(ops: &Operands<'_>) -> Result<Plan, BackendError> {
    let (row, n_index) = extents(ops)?;
    let n_rows = ops.inputs[0].shape.elements() / row.max(1);
    let mut bld = Builder::new(ops, "gather_rows");
    bld.config.constants.push(konst("n_rows", n_rows));
    bld.config.constants.push(konst("row", row));
    bld.config.constants.push(konst("n_index", n_index));
    Ok(bld.finish("gather_rows.h"))
}
