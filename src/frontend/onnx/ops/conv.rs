//! `Conv` becomes `Layer::Conv`; so does QONNX's channels-last `Conv`.
//!
//! Spec: <https://onnx.ai/onnx/operators/onnx__Conv.html>; the channels-last wrapper of
//! `qonnx.custom_op.channels_last` is the same operator on a `[N, spatial..., C]` input with weights
//! `[M, k..., C/group]`.
//!
//! Contract: 1-D to 3-D convolutions. The input `[C, spatial...]` is held channels-last (converted
//! by [`channels_last`] unless it already is) and the result, `[M, out...]` in the model, is the
//! channels-last IR tensor with the channels-first layout. Weights `[M, C/group, k...]` become the
//! IR's `[k..., C/group, M]` (a transpose of the constant, keeping a type a quantizer fixed); the
//! optional bias `[M]` is zeros when absent. `group` splits input channels and filters into equal
//! consecutive groups exactly as the IR does (depthwise: `group = C`). Padding is `pads`
//! (`[begin..., end...]`, non-negative) with `auto_pad` NOTSET, none with VALID, and for
//! SAME_UPPER / SAME_LOWER the total `max(0, (ceil(i/s) - 1)·s + (k - 1)·d + 1 - i)` per axis,
//! split evenly with the odd one at the end (UPPER) or at the beginning (LOWER). A
//! `kernel_shape` attribute must agree with the weights. Any other attribute is refused.

use super::super::builder::Builder;
use super::super::layout::{self, channels_last, model_order};
use super::super::tensor;
use super::{NodeCtx, Value, MAX_WINDOW};
use crate::frontend::onnx::OnnxError;
use crate::ir::{Conv, Layer, Shape, Weights};

/// Where a convolution or pooling finds the channels of its model tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Channels {
    /// `[C, spatial...]`: the standard ONNX operators.
    First,
    /// `[spatial..., C]`: QONNX's channels-last wrappers.
    Last,
}

pub(super) fn conv(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Result<Vec<Value>, OnnxError> {
    convolution(b, ctx, ins, Channels::First)
}

pub(super) fn conv_channels_last(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    convolution(b, ctx, ins, Channels::Last)
}

/// The activation at input 0 held channels-last for a convolution or pooling over `[C, s...]` or
/// `[s..., C]` model tensors of 1 to 3 spatial axes.
pub(super) fn spatial_input(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
    channels: Channels,
) -> Result<super::Act, OnnxError> {
    let x = ctx.act(ins, 0)?;
    let r = x.perm.len();
    if !(2..=4).contains(&r) {
        return Err(ctx.unsupported(format!(
            "an input of rank {}: [batch, channels] with 1 to 3 spatial axes is required",
            r + 1
        )));
    }
    match channels {
        Channels::First => channels_last(b, ctx, &x, 0),
        Channels::Last => model_order(b, ctx, &x, 0),
    }
}

/// The result layout of a convolution or pooling of per-sample rank `r`.
pub(super) fn result_layout(channels: Channels, r: usize) -> Vec<usize> {
    match channels {
        Channels::First => layout::channels_first(r),
        Channels::Last => layout::identity(r),
    }
}

/// Strides and zero padding per spatial axis of a sliding window.
pub(super) struct Window {
    pub strides: Vec<usize>,
    pub pads_begin: Vec<usize>,
    pub pads_end: Vec<usize>,
}

/// The window of `kernel` positions with `dilations` over `input`, from `strides`, `pads` and
/// `auto_pad`.
pub(super) fn window(
    ctx: &NodeCtx,
    input: &[usize],
    kernel: &[usize],
    dilations: &[usize],
) -> Result<Window, OnnxError> {
    let s = input.len();
    let strides = ctx.spatial_ints("strides", s, 1)?;
    let pads = ctx.ints("pads")?;
    let auto_pad = ctx.string("auto_pad", "NOTSET")?;
    let explicit = pads.as_ref().is_some_and(|p| p.iter().any(|&v| v != 0));
    let (begin, end) = match auto_pad.as_str() {
        "NOTSET" => match pads {
            None => (vec![0; s], vec![0; s]),
            Some(p) => {
                if p.len() != 2 * s || p.iter().any(|&v| !(0..=MAX_WINDOW).contains(&v)) {
                    return Err(ctx.err(format!(
                        "attribute 'pads' is {p:?}; {} values from 0 to {MAX_WINDOW} are expected ([begin..., end...])",
                        2 * s
                    )));
                }
                let p: Vec<usize> = p.into_iter().map(|v| v as usize).collect();
                (p[..s].to_vec(), p[s..].to_vec())
            }
        },
        "VALID" | "SAME_UPPER" | "SAME_LOWER" if explicit => {
            return Err(ctx.err(format!("auto_pad {auto_pad} and explicit 'pads' cannot be used together")))
        }
        "VALID" => (vec![0; s], vec![0; s]),
        "SAME_UPPER" | "SAME_LOWER" => {
            let mut begin = Vec::with_capacity(s);
            let mut end = Vec::with_capacity(s);
            for d in 0..s {
                let out = input[d].div_ceil(strides[d]);
                let span = dilations[d] * (kernel[d] - 1) + 1;
                let total = ((out - 1) * strides[d] + span).saturating_sub(input[d]);
                let (small, large) = (total / 2, total - total / 2);
                if auto_pad == "SAME_UPPER" {
                    begin.push(small);
                    end.push(large);
                } else {
                    begin.push(large);
                    end.push(small);
                }
            }
            (begin, end)
        }
        other => {
            return Err(
                ctx.err(format!("auto_pad '{other}' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER"))
            )
        }
    };
    Ok(Window { strides, pads_begin: begin, pads_end: end })
}

fn convolution(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
    channels: Channels,
) -> Result<Vec<Value>, OnnxError> {
    ctx.known_attrs(&["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"])?;
    let x = spatial_input(b, ctx, ins, channels)?;
    let r = x.shape.rank();
    let s = r - 1;
    let c_in = x.shape.channels();
    let w = ctx.constant(ins, 1, "W")?;
    if w.dims.len() != s + 2 {
        return Err(ctx.shape_err(format!(
            "W has shape {:?}; a {s}-D convolution needs weights of rank {}",
            w.dims,
            s + 2
        )));
    }
    // The axes of W that become the IR's [k..., C/group, M].
    let to_ir: Vec<usize> = match channels {
        Channels::First => (2..s + 2).chain([1, 0]).collect(),
        Channels::Last => (1..s + 1).chain([s + 1, 0]).collect(),
    };
    if w.dims.contains(&0) {
        return Err(ctx.shape_err(format!("W has shape {:?} with an empty axis", w.dims)));
    }
    let wt = tensor::transpose(&w, &to_ir);
    let kernel = wt.dims[..s].to_vec();
    let (cg, m) = (wt.dims[s], wt.dims[s + 1]);
    let group = ctx.int("group", 1)?;
    let fits =
        usize::try_from(group).ok().filter(|&g| g >= 1 && cg.checked_mul(g) == Some(c_in) && m % g == 0);
    if group < 1 || c_in as i64 % group != 0 {
        return Err(ctx.shape_err(format!("group {group} does not divide the {c_in} input channels")));
    }
    let Some(group) = fits else {
        return Err(ctx.shape_err(format!(
            "W has shape {:?}: {m} filters of {cg} channels in {group} groups do not fit an input of {c_in} \
             channels",
            w.dims
        )));
    };
    if let Some(k) = ctx.ints("kernel_shape")? {
        if k.len() != s || k.iter().zip(&kernel).any(|(&a, &b)| a != b as i64) {
            return Err(ctx.shape_err(format!("kernel_shape {k:?} differs from the weights' {kernel:?}")));
        }
    }
    let dilations = ctx.spatial_ints("dilations", s, 1)?;
    let Window { strides, pads_begin, pads_end } = window(ctx, &x.shape.dims()[..s], &kernel, &dilations)?;
    let weights = ctx.weights(1, &wt, wt.dims.clone())?;
    let bias = match ctx.opt_const(ins, 2, "B")? {
        None => Weights::new(Shape::new([m]), vec![0.0; m]),
        Some(t) => {
            if t.len() != m {
                return Err(ctx.shape_err(format!("B has shape {:?}; {m} filters expected", t.dims)));
            }
            ctx.weights(2, &t, vec![m])?
        }
    };
    let layer = Layer::Conv(Conv {
        weights,
        bias,
        strides,
        dilations,
        pads_begin,
        pads_end,
        groups: group,
        accum: None,
    });
    let mut act = b.add(ctx, ctx.label(), layer, &[x.id])?;
    act.perm = result_layout(channels, r);
    Ok(vec![Value::Act(act)])
}
