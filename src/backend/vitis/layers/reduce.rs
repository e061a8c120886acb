//! `Reduce` as a call of `reduce_<op>` (`templates/hlsgen/reduce.h`), unrolled: the table
//! `src[positions][n]` of the flat input index of every output's values (row-major over the
//! reduced coordinates), the exact sum type, and for `Mean` the reciprocal of `n` rounded as the
//! contract says ([`Pool::reciprocal_raw`]), for `L2` the square-root table in the design's ROM.

use super::{konst, literal, partition, Array, Builder, Operands, Plan};
use crate::backend::BackendError;
use crate::ir::{Pool, Reduce, ReduceOp};

pub(super) fn plan(ops: &Operands<'_>, r: &Reduce) -> Result<Plan, BackendError> {
    let node = ops.node;
    let layer = node.name.as_str();
    let input = ops.inputs.first().ok_or_else(|| BackendError::layer(layer, "has no input"))?;
    let positions = node.shape.elements();
    let n = r.count;
    let src: Vec<usize> = r.sources(&input.shape).into_iter().flatten().collect();
    if n == 0 || src.len() != positions * n {
        return Err(BackendError::layer(layer, "the reduced values do not fit the output"));
    }
    let mut bld = Builder::new(ops, &format!("reduce_{}", r.op.name()));
    for (name, v) in [("n_x", input.shape.elements()), ("positions", positions), ("n", n)] {
        bld.config.constants.push(konst(name, v));
    }
    bld.index_table("src", &[positions, n], &src);
    if !matches!(r.op, ReduceOp::Max | ReduceOp::Min) {
        bld.typedef("sum_t", &r.accumulated_type(&input.ty), "sum_t", None);
    }
    match r.op {
        ReduceOp::Mean => {
            let rty = r.reciprocal.ok_or_else(|| BackendError::layer(layer, "reciprocal type is unknown"))?;
            bld.typedef("recip_t", &rty, "recip_t", Some("reciprocal"));
            let value = Pool::reciprocal_raw(n, &rty) as f64 * 2f64.powi(-rty.frac_bits());
            let name = format!("{}_recip", ops.base);
            let array = Array {
                cpp_type: format!("{}_recip_t", ops.base),
                name: name.clone(),
                dims: "[1]".to_string(),
                lines: super::lines(&[literal(layer, "reciprocal", value, &rty)?]),
            };
            bld.file("recip", vec![array], vec![partition(&name)]);
            bld.args.push(name);
        }
        ReduceOp::L2 => {
            let t = r.table.as_ref().ok_or_else(|| BackendError::layer(layer, "has no square-root table"))?;
            bld.table("table", t)?;
        }
        ReduceOp::Sum | ReduceOp::Max | ReduceOp::Min | ReduceOp::SumSquare | ReduceOp::L1 => {}
    }
    Ok(bld.finish("reduce.h"))
}
