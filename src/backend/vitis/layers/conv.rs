//! `Conv` as a call of `conv` (reuse factor 1) or `conv_multiplexed` (reuse factor `R > 1`) from
//! `templates/hlsgen/conv.h`, in the sliding design ([`crate::arch::hls::Kernel::Sliding`]): the
//! weights as `w[R][filters * K]` with `w[r][f * K + q]` the weight of window input `q * R + r`
//! of filter `f`, placed as the design says (constants, or a ROM for the Resource strategy above
//! `R = 1`), and the table `src[positions * R][groups * K]` of the input index each lane reads in
//! each iteration (`n_x` for a padding position).

use super::{const_ty, flat, konst, literal, multi_indices, partition, rows, Array, Builder, Operands, Plan};
use crate::arch::hls::Kernel;
use crate::backend::BackendError;
use crate::ir::Conv;

pub(super) fn plan(ops: &Operands<'_>, cv: &Conv) -> Result<Plan, BackendError> {
    let node = ops.node;
    let layer = node.name.as_str();
    let Kernel::Sliding { positions, reuse, per_cycle } = ops.design.kernel else {
        return Err(BackendError::layer(layer, "a convolution slides over its output positions"));
    };
    let input = ops.inputs.first().ok_or_else(|| BackendError::layer(layer, "has no input"))?;
    let (filters, groups, cg) = (cv.filters(), cv.groups, cv.group_channels());
    let window = cv.window();
    let in_dims = input.shape.dims();
    let (in_spatial, c_in) = (&in_dims[..in_dims.len() - 1], in_dims[in_dims.len() - 1]);
    let out_dims = node.shape.dims();
    let out_spatial = &out_dims[..out_dims.len() - 1];
    let n_x = input.shape.elements();
    let function = if reuse > 1 { "conv_multiplexed" } else { "conv" };
    let mut bld = Builder::new(ops, function);
    let accum = cv.accum.ok_or_else(|| BackendError::layer(layer, "accumulator type is unknown"))?;
    bld.typedef("accum_t", &accum, "accum_t", Some("accum"));
    let wty = const_ty(layer, "weights", &cv.weights)?;
    bld.typedef("weights_t", &wty, "weight_t", Some("weight"));
    for (name, v) in [
        ("n_x", n_x),
        ("positions", positions),
        ("filters", filters),
        ("groups", groups),
        ("filters_per_group", filters / groups),
        ("reuse_factor", reuse),
        ("per_cycle", per_cycle),
        ("lanes", groups * per_cycle),
    ] {
        bld.config.constants.push(konst(name, v));
    }

    let base = ops.base;
    let name = format!("{base}_weights");
    let mut values = Vec::with_capacity(window * filters);
    for r in 0..reuse {
        for f in 0..filters {
            for q in 0..per_cycle {
                values.push(literal(
                    layer,
                    "weights",
                    cv.weights.values[(q * reuse + r) * filters + f],
                    &wty,
                )?);
            }
        }
    }
    let pragmas = match ops.design.rom("weights") {
        Some(rom) => {
            let imp = rom
                .storage
                .bind_impl()
                .ok_or_else(|| BackendError::layer(layer, "the design keeps its weight ROM in no memory"))?;
            vec![
                format!("ARRAY_RESHAPE variable={name} type=complete dim=2"),
                format!("BIND_STORAGE variable={name} type={} impl={imp}", rom.bind_type()),
            ]
        }
        None => vec![partition(&name)],
    };
    let array = Array {
        cpp_type: format!("{base}_weights_t"),
        name: name.clone(),
        dims: format!("[{reuse}][{}]", filters * per_cycle),
        lines: rows(&values, filters * per_cycle),
    };
    bld.file("weights", vec![array], pragmas);
    bld.args.push(name);
    let bias_values = cv.bias.values.clone();
    bld.constant_array("bias", &cv.bias, &bias_values)?;

    // The input index each lane reads in each iteration.
    let kernel = cv.kernel().to_vec();
    let taps = multi_indices(&kernel);
    let lanes = groups * per_cycle;
    let mut src = Vec::with_capacity(positions * reuse * lanes);
    for o in multi_indices(out_spatial) {
        for r in 0..reuse {
            for g in 0..groups {
                for q in 0..per_cycle {
                    let i = q * reuse + r;
                    let (t, c) = (&taps[i / cg], i % cg);
                    let pos: Option<Vec<usize>> = (0..o.len())
                        .map(|d| {
                            let p = (o[d] * cv.strides[d] + t[d] * cv.dilations[d]) as i64
                                - cv.pads_begin[d] as i64;
                            (0..in_spatial[d] as i64).contains(&p).then_some(p as usize)
                        })
                        .collect();
                    src.push(pos.map_or(n_x, |p| flat(&p, in_spatial) * c_in + g * cg + c));
                }
            }
        }
    }
    bld.index_table("src", &[positions * reuse, lanes], &src);
    bld.plan.nonzero = Some((cv.weights.values.len() - cv.weights.zeros(), cv.weights.values.len()));
    Ok(bld.finish("conv.h"))
}
