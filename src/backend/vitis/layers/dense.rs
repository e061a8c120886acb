//! `Dense` as a call of `dense` (reuse factor 1; one call per row of a row-wise layer, on the
//! row's slices of the input and output) or `dense_multiplexed` (reuse factor `R > 1`)
//! from `templates/hlsgen/dense.h`, with the weight layout and placement of the kernel the design
//! chose ([`crate::arch::hls`]): `w[n_in][n_out]` partitioned into constants for `dense`;
//! `w[R][n_out * K]` with `w[r][j * K + q] = W[q * R + r][j]` for `dense_multiplexed`, partitioned
//! into constants (Latency strategy) or reshaped into `R` words and bound to a ROM (Resource).

use super::{const_ty, konst, partition, rows_with, Array, Builder, Literals, Operands, Plan};
use crate::arch::hls::Kernel;
use crate::backend::BackendError;
use crate::ir::Dense;

pub(super) fn plan(ops: &Operands<'_>, d: &Dense) -> Result<Plan, BackendError> {
    let node = ops.node;
    let layer = node.name.as_str();
    let (n_in, n_out) = (d.n_in(), d.n_out());
    if d.weights.values.len() != n_in * n_out {
        return Err(BackendError::layer(layer, "weights do not match their shape"));
    }
    let (function, steps) = match ops.design.kernel {
        Kernel::Unrolled => ("dense", None),
        Kernel::Multiplexed { reuse, per_cycle } => ("dense_multiplexed", Some((reuse, per_cycle))),
        Kernel::Sliding { .. } => {
            return Err(BackendError::layer(layer, "a dense layer has no sliding kernel"))
        }
    };
    let mut bld = Builder::new(ops, function);
    let accum = d.accum.ok_or_else(|| BackendError::layer(layer, "accumulator type is unknown"))?;
    bld.typedef("accum_t", &accum, "accum_t", Some("accum"));
    let wty = const_ty(layer, "weights", &d.weights)?;
    bld.typedef("weights_t", &wty, "weight_t", Some("weight"));
    bld.config.constants.push(konst("n_in", n_in));
    bld.config.constants.push(konst("n_out", n_out));
    let base = ops.base;
    let name = format!("{base}_weights");
    let literals = Literals::new(layer, "weights", &wty);
    let lit = |out: &mut String, i: usize, j: usize| literals.push(out, d.weights.values[i * n_out + j]);
    let (dims, lines, pragmas) = match steps {
        None => (format!("[{n_in}][{n_out}]"), rows_with(n_in, n_out, lit)?, vec![partition(&name)]),
        Some((reuse, per_cycle)) => {
            bld.config.constants.push(konst("reuse_factor", reuse));
            bld.config.constants.push(konst("per_cycle", per_cycle));
            // Row `r`, column `j * per_cycle + q` holds `W[q * reuse + r][j]`.
            let lines = rows_with(reuse, n_out * per_cycle, |out, r, c| {
                lit(out, (c % per_cycle) * reuse + r, c / per_cycle)
            })?;
            let pragmas = match ops.design.rom("weights") {
                Some(rom) => {
                    let imp = rom.storage.bind_impl().ok_or_else(|| {
                        BackendError::layer(layer, "the design keeps its weight ROM in no memory")
                    })?;
                    vec![
                        format!("ARRAY_RESHAPE variable={name} type=complete dim=2"),
                        format!("BIND_STORAGE variable={name} type={} impl={imp}", rom.bind_type()),
                    ]
                }
                None => vec![partition(&name)],
            };
            (format!("[{reuse}][{}]", n_out * per_cycle), lines, pragmas)
        }
    };
    bld.file(
        "weights",
        vec![Array { cpp_type: format!("{base}_weights_t"), name: name.clone(), dims, lines }],
        pragmas,
    );
    bld.args.push(name);
    let bias_values = d.bias.values.clone();
    bld.constant_array("bias", &d.bias, &bias_values)?;
    bld.plan.nonzero = Some((d.weights.values.len() - d.weights.zeros(), n_in * n_out));
    let rows = node.shape.elements() / n_out.max(1);
    if rows > 1 {
        // Row-wise: one call per row on the row's slices, all with the same weights.
        let template = bld.plan.calls.remove(0);
        let constants = bld.args[2..].join(", ");
        let (x, y) = (&ops.inputs[0].var, ops.out_var);
        for r in 0..rows {
            let args = format!("{x} + {}, {y} + {}, {constants}", r * n_in, r * n_out);
            bld.plan.calls.push(super::Call { args, ..template.clone() });
        }
    }
    Ok(bld.finish("dense.h"))
}
