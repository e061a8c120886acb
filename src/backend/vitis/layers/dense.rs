//! `Dense` as a call of `dense_latency` or `dense_resource` (`templates/hlsgen/dense.h`): the
//! nonzero weights as a list of (weight, input index, output index) entries, in the layout of the
//! strategy, the bias as its own array.

use super::{alias, const_ty, konst, lines, literal, Array, Builder, Operands, Plan, TypeDef};
use crate::backend::vitis::types::index_type;
use crate::backend::BackendError;
use crate::ir::{Dense, Strategy};

/// Nonzero weights as (weight, input index, output index), ordered by input then output index.
fn entries(d: &Dense) -> Vec<(f64, usize, usize)> {
    let (n_in, n_out) = (d.n_in(), d.n_out());
    let mut out = Vec::new();
    for i in 0..n_in {
        for j in 0..n_out {
            let w = d.weights.values[i * n_out + j];
            if w != 0.0 {
                out.push((w, i, j));
            }
        }
    }
    out
}

pub(super) fn plan(ops: &Operands<'_>, d: &Dense) -> Result<Plan, BackendError> {
    let node = ops.node;
    let layer = node.name.as_str();
    let (n_in, n_out) = (d.n_in(), d.n_out());
    if d.weights.values.len() != n_in * n_out {
        return Err(BackendError::layer(layer, "weights do not match their shape"));
    }
    let rf = node.reuse_factor.max(1);
    let mut list = entries(d);
    let nonzero = list.len();
    let (function, rows, block) = match node.strategy {
        Strategy::Latency => ("dense_latency", 1, list.len().max(1)),
        Strategy::Resource => ("dense_resource", rf, list.len().div_ceil(rf).max(1)),
    };
    // Padding entries multiply x[0] by 0 into output 0: exact no-ops.
    list.resize(rows * block, (0.0, 0, 0));
    let mut bld = Builder::new(ops, function);
    let accum = d.accum.ok_or_else(|| BackendError::layer(layer, "accumulator type is unknown"))?;
    bld.typedef("accum_t", &accum, "accum_t", Some("accum"));
    let wty = const_ty(layer, "weights", &d.weights)?;
    bld.typedef("weights_t", &wty, "weight_t", Some("weight"));
    let base = ops.base;
    bld.plan
        .typedefs
        .push(TypeDef { name: format!("{base}_in_index_t"), cpp: index_type(n_in.saturating_sub(1)) });
    bld.plan
        .typedefs
        .push(TypeDef { name: format!("{base}_out_index_t"), cpp: index_type(n_out.saturating_sub(1)) });
    bld.config.typedefs.push(alias("in_index_t", format!("{base}_in_index_t")));
    bld.config.typedefs.push(alias("out_index_t", format!("{base}_out_index_t")));
    bld.config.constants.push(konst("n_in", n_in));
    bld.config.constants.push(konst("n_out", n_out));
    match node.strategy {
        Strategy::Latency => {
            bld.config.constants.push(konst("n_entries", block));
            bld.config.constants.push(konst("multiplier_limit", block.div_ceil(rf)));
        }
        Strategy::Resource => bld.config.constants.push(konst("block", block)),
    }
    let wl: Vec<String> =
        list.iter().map(|e| literal(layer, "weights", e.0, &wty)).collect::<Result<_, _>>()?;
    let il: Vec<String> = list.iter().map(|e| e.1.to_string()).collect();
    let ol: Vec<String> = list.iter().map(|e| e.2.to_string()).collect();
    let shaped = |values: Vec<String>| -> (String, Vec<String>) {
        match node.strategy {
            Strategy::Latency => (format!("[{block}]"), lines(&values)),
            Strategy::Resource => {
                let rows_text: Vec<String> = values
                    .chunks(block)
                    .enumerate()
                    .map(|(r, row)| format!("{{{}}}{}", row.join(", "), if r + 1 < rows { "," } else { "" }))
                    .collect();
                (format!("[{rows}][{block}]"), rows_text)
            }
        }
    };
    let mut arrays = Vec::new();
    for (suffix, values) in [("weights", wl), ("in_index", il), ("out_index", ol)] {
        let (dims, text) = shaped(values);
        let ty_suffix = if suffix == "weights" { "weights_t" } else { &format!("{suffix}_t") };
        arrays.push(Array {
            cpp_type: format!("{base}_{ty_suffix}"),
            name: format!("{base}_{suffix}"),
            dims,
            lines: text,
        });
    }
    bld.file("weights", arrays);
    bld.args.extend([format!("{base}_weights"), format!("{base}_in_index"), format!("{base}_out_index")]);
    let bias_values = d.bias.values.clone();
    bld.constant_array("bias", &d.bias, &bias_values)?;
    bld.plan.nonzero = Some((nonzero, n_in * n_out));
    Ok(bld.finish("dense.h"))
}
