//! `ScatterAdd` as one call of `scatter_add` (`templates/hlsgen/scatter_add.h`): `n_index` input
//! rows of `row` values summed into `n_rows` output rows in the exact sum type `accum_t`.

use super::gather_rows::extents;
use super::{konst, Builder, Operands, Plan};
use crate::backend::BackendError;
use crate::ir::{LayerDef, ScatterAdd};

pub(super) fn plan(ops: &Operands<'_>, l: &ScatterAdd) -> Result<Plan, BackendError> {
    let (row, n_index) = extents(ops)?;
    let tys: Vec<_> = ops.inputs.iter().map(|i| i.ty).collect();
    let sum = l.exact_type("result", &tys).map_err(|e| BackendError::layer(&ops.node.name, e))?;
    let mut bld = Builder::new(ops, "scatter_add");
    bld.typedef("accum_t", &sum, "accum_t", Some("accum"));
    bld.config.constants.push(konst("n_rows", l.rows));
    bld.config.constants.push(konst("row", row));
    bld.config.constants.push(konst("n_index", n_index));
    Ok(bld.finish("scatter_add.h"))
}
