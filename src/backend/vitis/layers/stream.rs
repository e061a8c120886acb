//! The io_stream forms that have library functions of their own
//! ([`crate::arch::stream::Form`]): `Conv` as `conv_stream` (`templates/hlsgen/conv_stream.h`,
//! weights `w[f * window + q]` with `q` the window input of the contract's order, bias `b[f]`),
//! `Pool` as `pool_max_stream` / `pool_average_stream` (`pool_stream.h`, the reciprocal of every
//! output position's count in a ROM read at the position), `Pad` as `pad_stream` and `UpSample`
//! as `upsample_stream` (`pad_stream.h`). Each is one call on the process's streams `x` and `y`;
//! the configuration carries the grid of [`crate::arch::stream`].

use super::{const_ty, konst, literal, partition, Array, Builder, Constant, Operands, Plan};
use crate::arch::hls::rom_storage;
use crate::arch::stream::{Form, Window};
use crate::backend::BackendError;
use crate::ir::{Layer, Pool, PoolOp};

/// The pixel typedef of a tensor typedef `<base>_t`.
pub fn pixel_typedef(typedef: &str) -> String {
    format!("{}_pixel_t", typedef.strip_suffix("_t").unwrap_or(typedef))
}

fn pixels(bld: &mut Builder<'_>, ops: &Operands<'_>) {
    if let Some(input) = ops.inputs.first() {
        bld.config.typedefs.push(super::alias("in_pixel_t", pixel_typedef(&input.typedef)));
    }
    bld.config.typedefs.push(super::alias("out_pixel_t", format!("{}_pixel_t", ops.base)));
}

fn grid_constants(w: &Window, channels: usize) -> Vec<Constant> {
    [
        ("in_height", w.in_height),
        ("in_width", w.in_width),
        ("channels", channels),
        ("pad_top", w.pad_top),
        ("pad_bottom", w.pad_bottom),
        ("pad_left", w.pad_left),
        ("pad_right", w.pad_right),
        ("kernel_h", w.kernel_h),
        ("kernel_w", w.kernel_w),
        ("stride_h", w.stride_h),
        ("stride_w", w.stride_w),
        ("out_height", w.out_height),
        ("out_width", w.out_width),
    ]
    .into_iter()
    .map(|(n, v)| konst(n, v))
    .collect()
}

/// The plan of a Window, Pad or UpSample process.
pub fn plan(ops: &Operands<'_>, form: &Form) -> Result<Plan, BackendError> {
    let node = ops.node;
    let layer = node.name.as_str();
    let input = ops.inputs.first().ok_or_else(|| BackendError::layer(layer, "has no input"))?;
    let channels = input.shape.channels();
    match (form, &node.layer) {
        (Form::Window(w), Layer::Conv(cv)) => {
            let mut bld = Builder::new(ops, "conv_stream");
            pixels(&mut bld, ops);
            let accum = cv.accum.ok_or_else(|| BackendError::layer(layer, "accumulator type is unknown"))?;
            bld.typedef("accum_t", &accum, "accum_t", Some("accum"));
            let wty = const_ty(layer, "weights", &cv.weights)?;
            bld.typedef("weights_t", &wty, "weight_t", Some("weight"));
            bld.config.constants.extend(grid_constants(w, channels));
            let (filters, groups, window) = (cv.filters(), cv.groups, cv.window());
            for (n, v) in [
                ("dilation_h", w.dilation_h),
                ("dilation_w", w.dilation_w),
                ("filters", filters),
                ("groups", groups),
                ("group_channels", cv.group_channels()),
                ("filters_per_group", filters / groups),
                ("window", window),
                ("reuse_factor", node.reuse_factor.max(1)),
            ] {
                bld.config.constants.push(konst(n, v));
            }
            let taps = window / cv.group_channels().max(1);
            let mut values = Vec::with_capacity(window * filters);
            for f in 0..filters {
                for t in 0..taps {
                    for c in 0..cv.group_channels() {
                        values.push(literal(layer, "weights", cv.weight(t, c, f), &wty)?);
                    }
                }
            }
            let name = format!("{}_weights", ops.base);
            let array = Array {
                cpp_type: format!("{name}_t"),
                name: name.clone(),
                dims: format!("[{}]", values.len()),
                lines: super::lines(&values),
            };
            bld.file("weights", vec![array], vec![partition(&name)]);
            bld.args.push(name);
            let bias = cv.bias.values.clone();
            bld.constant_array("bias", &cv.bias, &bias)?;
            bld.plan.nonzero = Some((cv.weights.values.len() - cv.weights.zeros(), cv.weights.values.len()));
            Ok(bld.finish("conv_stream.h"))
        }
        (Form::Window(w), Layer::Pool(p)) => {
            let function = match p.op {
                PoolOp::Max => "pool_max_stream",
                PoolOp::Average => "pool_average_stream",
            };
            let mut bld = Builder::new(ops, function);
            pixels(&mut bld, ops);
            bld.config.constants.extend(grid_constants(w, channels));
            if p.op == PoolOp::Average {
                bld.typedef("sum_t", &p.sum_type(&input.ty), "sum_t", None);
                let rty =
                    p.reciprocal.ok_or_else(|| BackendError::layer(layer, "reciprocal type is unknown"))?;
                bld.typedef("recip_t", &rty, "recip_t", Some("reciprocal"));
                let mut values = Vec::with_capacity(w.out_height * w.out_width);
                for oi in 0..w.out_height {
                    for oj in 0..w.out_width {
                        let rows = (0..w.kernel_h).filter(|&t| {
                            (w.pad_top..w.pad_top + w.in_height).contains(&(oi * w.stride_h + t))
                        });
                        let cols = (0..w.kernel_w).filter(|&t| {
                            (w.pad_left..w.pad_left + w.in_width).contains(&(oj * w.stride_w + t))
                        });
                        let n = if p.count_pad { p.window() } else { rows.count() * cols.count() };
                        let value = Pool::reciprocal_raw(n, &rty) as f64 * 2f64.powi(-rty.frac_bits());
                        values.push(literal(layer, "reciprocal", value, &rty)?);
                    }
                }
                let name = format!("{}_recip", ops.base);
                let storage = rom_storage(values.len() as u64, u64::from(rty.width));
                let pragma = match storage.bind_impl() {
                    Some(imp) => format!("BIND_STORAGE variable={name} type=rom_1p impl={imp}"),
                    None => partition(&name),
                };
                let array = Array {
                    cpp_type: format!("{name}_t"),
                    name: name.clone(),
                    dims: format!("[{}]", values.len()),
                    lines: super::lines(&values),
                };
                bld.file("recip", vec![array], vec![pragma]);
                bld.args.push(name);
            }
            Ok(bld.finish("pool_stream.h"))
        }
        (Form::Pad(g), Layer::Pad(_)) => {
            let mut bld = Builder::new(ops, "pad_stream");
            pixels(&mut bld, ops);
            for (n, v) in [
                ("in_height", g.in_height),
                ("in_width", g.in_width),
                ("channels", channels),
                ("out_height", g.out_height),
                ("out_width", g.out_width),
            ] {
                bld.config.constants.push(konst(n, v));
            }
            for (n, v) in [("pad_top", g.pad_top), ("pad_left", g.pad_left)] {
                bld.config.constants.push(Constant {
                    cpp_type: "int".into(),
                    name: n.into(),
                    value: v.to_string(),
                });
            }
            Ok(bld.finish("pad_stream.h"))
        }
        (Form::UpSample(u), Layer::UpSample(_)) => {
            let mut bld = Builder::new(ops, "upsample_stream");
            pixels(&mut bld, ops);
            for (n, v) in [
                ("in_height", u.in_height),
                ("in_width", u.in_width),
                ("channels", channels),
                ("factor_h", u.factor_h),
                ("factor_w", u.factor_w),
            ] {
                bld.config.constants.push(konst(n, v));
            }
            Ok(bld.finish("pad_stream.h"))
        }
        _ => Err(BackendError::layer(layer, "has no streaming library function")),
    }
}
