//! Pooling: `MaxPool`, `AveragePool`, `GlobalMaxPool`, `GlobalAveragePool` (and QONNX's
//! channels-last `MaxPool`) become `Layer::Pool`.
//!
//! Specs: <https://onnx.ai/onnx/operators/onnx__MaxPool.html>,
//! <https://onnx.ai/onnx/operators/onnx__AveragePool.html>,
//! <https://onnx.ai/onnx/operators/onnx__GlobalMaxPool.html>,
//! <https://onnx.ai/onnx/operators/onnx__GlobalAveragePool.html>.
//!
//! Contract: as for `Conv` (see `conv.rs`), the `[C, spatial...]` input is held channels-last and
//! the result has the channels-first layout; `kernel_shape` (required), `strides`, `pads` and
//! `auto_pad` give the IR's window, strides and padding. Max pooling ignores padded positions
//! (ONNX pads with −∞); average pooling divides by the values inside the input, or by the whole
//! window when `count_include_pad = 1`. `ceil_mode = 1`, `dilations` other than 1, a
//! `storage_order` other than 0 and MaxPool's `Indices` output are refused, as is any attribute
//! the spec does not list. Global pooling is `Pool::global`: the result keeps the rank, extent 1 on
//! every spatial axis (`[C, 1, 1]` in the model).

use super::super::builder::Builder;
use super::conv::{result_layout, spatial_input, window, Channels, Window};
use super::{NodeCtx, Value};
use crate::frontend::onnx::OnnxError;
use crate::ir::{Layer, Pool, PoolOp};

pub(super) fn max_pool(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    pool(b, ctx, ins, PoolOp::Max, Channels::First)
}

pub(super) fn max_pool_channels_last(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    pool(b, ctx, ins, PoolOp::Max, Channels::Last)
}

pub(super) fn average_pool(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    pool(b, ctx, ins, PoolOp::Average, Channels::First)
}

pub(super) fn global_max_pool(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    global(b, ctx, ins, PoolOp::Max)
}

pub(super) fn global_average_pool(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    global(b, ctx, ins, PoolOp::Average)
}

fn pool(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
    op: PoolOp,
    channels: Channels,
) -> Result<Vec<Value>, OnnxError> {
    match op {
        PoolOp::Max => ctx.known_attrs(&[
            "auto_pad",
            "ceil_mode",
            "dilations",
            "kernel_shape",
            "pads",
            "storage_order",
            "strides",
        ])?,
        PoolOp::Average => ctx.known_attrs(&[
            "auto_pad",
            "ceil_mode",
            "count_include_pad",
            "dilations",
            "kernel_shape",
            "pads",
            "strides",
        ])?,
    }
    if ctx.int("ceil_mode", 0)? != 0 {
        return Err(ctx.unsupported("ceil_mode=1 (output sizes rounded up): only ceil_mode=0 is supported"));
    }
    if ctx.int("storage_order", 0)? != 0 {
        return Err(
            ctx.unsupported("storage_order=1 (column-major indices): only the default 0 is supported")
        );
    }
    if ctx.node.outputs.get(1).is_some_and(|o| !o.is_empty()) {
        return Err(ctx.unsupported("the Indices output of MaxPool"));
    }
    let x = spatial_input(b, ctx, ins, channels)?;
    let r = x.shape.rank();
    let s = r - 1;
    if ctx.spatial_ints("dilations", s, 1)?.iter().any(|&d| d != 1) {
        return Err(ctx.unsupported("dilated pooling windows: only dilations of 1 are supported"));
    }
    let kernel = ctx.ints("kernel_shape")?.ok_or_else(|| ctx.err("attribute 'kernel_shape' is required"))?;
    if kernel.len() != s || kernel.iter().any(|&k| k < 1) {
        return Err(ctx.err(format!("kernel_shape {kernel:?} is not {s} positive sizes")));
    }
    let kernel: Vec<usize> = kernel.into_iter().map(|k| k as usize).collect();
    let Window { strides, pads_begin, pads_end } = window(ctx, &x.shape.dims()[..s], &kernel, &vec![1; s])?;
    let count_pad = op == PoolOp::Average && ctx.int("count_include_pad", 0)? != 0;
    let layer = Layer::Pool(Pool { op, kernel, strides, pads_begin, pads_end, count_pad, reciprocal: None });
    let mut act = b.add(ctx, ctx.label(), layer, &[x.id])?;
    act.perm = result_layout(channels, r);
    Ok(vec![Value::Act(act)])
}

fn global(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
    op: PoolOp,
) -> Result<Vec<Value>, OnnxError> {
    ctx.known_attrs(&[])?;
    let x = spatial_input(b, ctx, ins, Channels::First)?;
    let r = x.shape.rank();
    let layer = Layer::Pool(Pool::global(op, &x.shape.dims()[..r - 1]));
    let mut act = b.add(ctx, ctx.label(), layer, &[x.id])?;
    act.perm = result_layout(Channels::First, r);
    Ok(vec![Value::Act(act)])
}
