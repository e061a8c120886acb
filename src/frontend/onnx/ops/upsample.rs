//! Nearest-neighbour `Resize` and `Upsample` by integer factors become `Layer::UpSample`.
//!
//! Specs: <https://onnx.ai/onnx/operators/onnx__Resize.html> (opset 10: `scales` input; 11 and 13:
//! `roi`, `scales`, `sizes`, coordinate transformation and nearest modes; 18: `axes`, `antialias`,
//! `keep_aspect_ratio_policy`; 19: `half_pixel_symmetric`),
//! <https://onnx.ai/onnx/operators/onnx__Upsample.html> (opset 1, experimental: `height_scale` and
//! `width_scale` of a 4-D NCHW input, the scales `[1, 1, height_scale, width_scale]` of opset 7 as
//! ONNX's version converter maps them; opset 7: `scales` attribute; 9: input).
//!
//! Contract: `mode` must be `nearest`; the factor of each axis (from constant `scales`, or
//! `sizes` divided by the input's extent) must be a whole number of at least 1, and 1 on the batch
//! axis and on the channels (the IR tensor's last axis, mapped through the activation's layout as
//! for `Pad`; a tensor whose channels are elsewhere is first held channels-last). The output
//! position `o` of an axis of extent `n` upsampled `f` times must read input `floor(o / f)` under
//! the node's coordinate transformation and nearest mode; this is checked position by position
//! (it holds for `asymmetric` with `floor`, for `half_pixel` and `pytorch_half_pixel` with either
//! rounding mode, ...), and anything else is refused. Opset-10 `Resize` and `Upsample` are
//! `asymmetric` with `floor`. Resizing by 1 everywhere adds no node; the result keeps the layout.

use super::super::builder::Builder;
use super::super::layout::{channels_last, to_ir_axes};
use super::super::tensor::BATCH;
use super::{norm_axis, Act, NodeCtx, Value};
use crate::frontend::onnx::OnnxError;
use crate::ir::{Layer, UpSample, MAX_ELEMENTS};

/// How an output coordinate maps back to an input coordinate, and how that is rounded.
struct Mapping {
    transformation: String,
    nearest: String,
}

pub(super) fn resize(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Result<Vec<Value>, OnnxError> {
    let x = ctx.act(ins, 0)?;
    let rank = x.perm.len() + 1;
    let mode = ctx.string("mode", "nearest")?;
    if mode != "nearest" {
        return Err(ctx.unsupported(format!("mode '{mode}': only nearest-neighbour resizing is supported")));
    }
    if ctx.opset == 10 {
        ctx.known_attrs(&["mode"])?;
        let scales = scales(ctx, ins, 1)?.ok_or_else(|| ctx.err("input 'scales' is required"))?;
        let mapping = Mapping { transformation: "asymmetric".into(), nearest: "floor".into() };
        return upsample_act(b, ctx, &x, &factors(ctx, &x, &scales, None)?, &mapping);
    }
    ctx.known_attrs(&[
        "antialias",
        "axes",
        "coordinate_transformation_mode",
        "cubic_coeff_a",
        "exclude_outside",
        "extrapolation_value",
        "keep_aspect_ratio_policy",
        "mode",
        "nearest_mode",
    ])?;
    let mapping = Mapping {
        transformation: ctx.string("coordinate_transformation_mode", "half_pixel")?,
        nearest: ctx.string("nearest_mode", "round_prefer_floor")?,
    };
    if mapping.transformation == "tf_crop_and_resize" {
        return Err(ctx.unsupported("coordinate_transformation_mode 'tf_crop_and_resize'"));
    }
    let axes: Vec<usize> = match ctx.ints("axes")? {
        None => (0..rank).collect(),
        Some(a) => a.iter().map(|&v| norm_axis(ctx, v, rank)).collect::<Result<_, _>>()?,
    };
    let scales = scales(ctx, ins, 2)?;
    let sizes = match ctx.opt_const(ins, 3, "sizes")? {
        None => None,
        Some(t) => Some(t.ints().map_err(|e| ctx.tensor_err(3, e))?),
    };
    let per_axis: Vec<f64> = match (scales, sizes) {
        (Some(s), None) => s,
        (None, Some(sizes)) => {
            let policy = ctx.string("keep_aspect_ratio_policy", "stretch")?;
            if policy != "stretch" {
                return Err(ctx.unsupported(format!("keep_aspect_ratio_policy '{policy}' with 'sizes'")));
            }
            if sizes.len() != axes.len() {
                return Err(ctx.err(format!("sizes has {} values for {} axes", sizes.len(), axes.len())));
            }
            let model = x.model_dims();
            let mut out = Vec::with_capacity(sizes.len());
            for (&a, &n) in axes.iter().zip(&sizes) {
                let extent = if a == 0 { 1 } else { model[a - 1] as i64 };
                if a == 0 && n == BATCH {
                    out.push(1.0);
                } else if n <= 0 || n % extent != 0 {
                    return Err(ctx.unsupported(format!(
                        "sizes {sizes:?}: axis {a} of extent {extent} is not enlarged a whole number of times"
                    )));
                } else {
                    out.push((n / extent) as f64);
                }
            }
            out
        }
        (Some(_), Some(_)) => return Err(ctx.err("only one of 'scales' and 'sizes' may be given")),
        (None, None) => return Err(ctx.err("one of 'scales' and 'sizes' is required")),
    };
    upsample_act(b, ctx, &x, &factors(ctx, &x, &per_axis, Some(&axes))?, &mapping)
}

pub(super) fn upsample(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    let x = ctx.act(ins, 0)?;
    let mode = ctx.string("mode", "nearest")?;
    if mode != "nearest" {
        return Err(ctx.unsupported(format!("mode '{mode}': only nearest-neighbour upsampling is supported")));
    }
    let scales = if ctx.opset < 7 {
        ctx.known_attrs(&["mode", "height_scale", "width_scale"])?;
        if x.perm.len() != 3 {
            return Err(ctx.err(format!("Upsample-1 takes a 4-D NCHW input, not {}-D", x.perm.len() + 1)));
        }
        let scale = |k: &str| -> Result<f64, OnnxError> {
            Ok(ctx.opt_float(k)?.ok_or_else(|| ctx.err(format!("attribute '{k}' is required")))? as f64)
        };
        vec![1.0, 1.0, scale("height_scale")?, scale("width_scale")?]
    } else if ctx.opset < 9 {
        ctx.known_attrs(&["mode", "scales"])?;
        match ctx.node.attrs.get("scales") {
            Some(super::super::model::Attr::Floats(v)) => v.iter().map(|&s| s as f64).collect(),
            _ => return Err(ctx.err("attribute 'scales' (a list of floats) is required")),
        }
    } else {
        ctx.known_attrs(&["mode"])?;
        scales(ctx, ins, 1)?.ok_or_else(|| ctx.err("input 'scales' is required"))?
    };
    let mapping = Mapping { transformation: "asymmetric".into(), nearest: "floor".into() };
    upsample_act(b, ctx, &x, &factors(ctx, &x, &scales, None)?, &mapping)
}

/// The constant float `scales` at input `i`; absent or empty is `None`.
fn scales(ctx: &NodeCtx, ins: &[Option<Value>], i: usize) -> Result<Option<Vec<f64>>, OnnxError> {
    match ctx.opt_const(ins, i, "scales")? {
        Some(t) if t.len() > 0 => Ok(Some(t.floats().map_err(|e| ctx.tensor_err(i, e))?)),
        Some(_) | None => Ok(None),
    }
}

/// Whole-number factors of every model axis (batch included) from `scales` given for `axes`
/// (every axis when `None`).
fn factors(ctx: &NodeCtx, x: &Act, scales: &[f64], axes: Option<&[usize]>) -> Result<Vec<usize>, OnnxError> {
    let rank = x.perm.len() + 1;
    let all: Vec<usize> = (0..rank).collect();
    let axes = axes.unwrap_or(&all);
    if scales.len() != axes.len() {
        return Err(ctx.err(format!("scales has {} values for {} axes", scales.len(), axes.len())));
    }
    let mut out = vec![1; rank];
    for (&a, &s) in axes.iter().zip(scales) {
        if !(s >= 1.0 && s.fract() == 0.0 && s <= 1e6) {
            return Err(ctx.unsupported(format!(
                "scale {s} on axis {a}: only enlarging by a whole number of times is supported"
            )));
        }
        out[a] = s as usize;
    }
    Ok(out)
}

/// The input position an output position `o` reads on an axis of extent `n` enlarged `f` times.
fn source(m: &Mapping, o: usize, n: usize, f: usize) -> Option<i64> {
    let (o, nf, out, scale) = (o as f64, n as f64, (n * f) as f64, f as f64);
    let x = match m.transformation.as_str() {
        "half_pixel" | "half_pixel_symmetric" => (o + 0.5) / scale - 0.5,
        "pytorch_half_pixel" if out > 1.0 => (o + 0.5) / scale - 0.5,
        "pytorch_half_pixel" => 0.0,
        "align_corners" if out > 1.0 => o * (nf - 1.0) / (out - 1.0),
        "align_corners" => 0.0,
        "asymmetric" => o / scale,
        "tf_half_pixel_for_nn" => (o + 0.5) / scale,
        _ => return None,
    };
    let half = x.fract().abs() == 0.5;
    let i = match m.nearest.as_str() {
        "round_prefer_floor" if half => x.floor(),
        "round_prefer_ceil" if half => x.ceil(),
        "round_prefer_floor" | "round_prefer_ceil" => x.round(),
        "floor" => x.floor(),
        "ceil" => x.ceil(),
        _ => return None,
    };
    Some((i as i64).clamp(0, n as i64 - 1))
}

fn upsample_act(
    b: &mut Builder,
    ctx: &NodeCtx,
    x: &Act,
    factors: &[usize],
    mapping: &Mapping,
) -> Result<Vec<Value>, OnnxError> {
    if factors[0] != 1 {
        return Err(ctx.unsupported("resizing the batch axis"));
    }
    let model = x.model_dims();
    let total =
        model.iter().zip(&factors[1..]).try_fold(1usize, |acc, (&n, &f)| acc.checked_mul(n.checked_mul(f)?));
    if total.is_none_or(|t| t > MAX_ELEMENTS) {
        return Err(
            ctx.shape_err(format!("resizing {model:?} by {factors:?} exceeds {MAX_ELEMENTS} elements"))
        );
    }
    for (a, (&f, &n)) in factors[1..].iter().zip(&model).enumerate() {
        let repeats = (0..n * f).all(|o| source(mapping, o, n, f) == Some((o / f) as i64));
        if !repeats {
            return Err(ctx.unsupported(format!(
                "coordinate_transformation_mode '{}' with nearest_mode '{}' does not repeat each of the {n} \
                 positions of axis {} {f} times",
                mapping.transformation,
                mapping.nearest,
                a + 1
            )));
        }
    }
    if factors.iter().all(|&f| f == 1) {
        return Ok(vec![Value::Act(x.clone())]);
    }
    let ir = |x: &Act| -> Option<Vec<usize>> {
        let mut v = to_ir_axes(x, &factors[1..]);
        (v.pop()? == 1).then_some(v)
    };
    let x = if ir(x).is_some() { x.clone() } else { channels_last(b, ctx, x, 0)? };
    let ir_factors = ir(&x).ok_or_else(|| {
        ctx.unsupported("resizing the channels (axis 1, or the last axis of a channels-last tensor)")
    })?;
    let act = b.add(ctx, ctx.label(), Layer::UpSample(UpSample { factors: ir_factors }), &[x.id])?.like(&x);
    Ok(vec![Value::Act(act)])
}
