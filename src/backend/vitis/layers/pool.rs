//! `Pool` as a call of `pool_max` or `pool_average` (`templates/hlsgen/pool.h`), unrolled: the
//! table `src[positions][window]` of the channel-0 input index of every window position (`n_x`
//! outside the input), and for average pooling the reciprocal of each position's count, rounded
//! as the contract says ([`Pool::reciprocal_raw`]).

use super::{flat, konst, literal, multi_indices, partition, Array, Builder, Operands, Plan};
use crate::backend::BackendError;
use crate::ir::{Pool, PoolOp};

pub(super) fn plan(ops: &Operands<'_>, p: &Pool) -> Result<Plan, BackendError> {
    let node = ops.node;
    let layer = node.name.as_str();
    let input = ops.inputs.first().ok_or_else(|| BackendError::layer(layer, "has no input"))?;
    let in_dims = input.shape.dims();
    let (in_spatial, channels) = (&in_dims[..in_dims.len() - 1], in_dims[in_dims.len() - 1]);
    let out_dims = node.shape.dims();
    let out_spatial = &out_dims[..out_dims.len() - 1];
    let n_x = input.shape.elements();
    let positions: usize = out_spatial.iter().product();
    let window = p.window();
    let function = match p.op {
        PoolOp::Max => "pool_max",
        PoolOp::Average => "pool_average",
    };
    let mut bld = Builder::new(ops, function);
    for (name, v) in [("n_x", n_x), ("positions", positions), ("channels", channels), ("window", window)] {
        bld.config.constants.push(konst(name, v));
    }
    let taps = multi_indices(&p.kernel);
    let mut src = Vec::with_capacity(positions * window);
    let mut counts = Vec::with_capacity(positions);
    for o in multi_indices(out_spatial) {
        let mut count = 0;
        for t in &taps {
            let pos: Option<Vec<usize>> = (0..o.len())
                .map(|d| {
                    let q = (o[d] * p.strides[d] + t[d]) as i64 - p.pads_begin[d] as i64;
                    (0..in_spatial[d] as i64).contains(&q).then_some(q as usize)
                })
                .collect();
            count += usize::from(pos.is_some());
            src.push(pos.map_or(n_x, |q| flat(&q, in_spatial) * channels));
        }
        counts.push(if p.count_pad { window } else { count });
    }
    bld.index_table("src", &[positions, window], &src);
    if p.op == PoolOp::Average {
        let sum = p.sum_type(&input.ty);
        bld.typedef("sum_t", &sum, "sum_t", None);
        let rty = p.reciprocal.ok_or_else(|| BackendError::layer(layer, "reciprocal type is unknown"))?;
        bld.typedef("recip_t", &rty, "recip_t", Some("reciprocal"));
        let values = counts
            .iter()
            .map(|&n| {
                let value = Pool::reciprocal_raw(n, &rty) as f64 * 2f64.powi(-rty.frac_bits());
                literal(layer, "reciprocal", value, &rty)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let name = format!("{}_recip", ops.base);
        let array = Array {
            cpp_type: format!("{}_recip_t", ops.base),
            name: name.clone(),
            dims: format!("[{positions}]"),
            lines: super::lines(&values),
        };
        bld.file("recip", vec![array], vec![partition(&name)]);
        bld.args.push(name);
    }
    Ok(bld.finish("pool.h"))
}
