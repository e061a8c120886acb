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
//! window when `count_include_pad = 1`. `ceil_mode = 1` rounds the output extent up, dropping a
//! last window that would start in the end padding (onnxruntime's and PyTorch's rule): the IR
//! gets the end padding that makes its floor formula give that extent, which no window counts
//! (refused with `count_include_pad = 1`, whose divisor would then differ). `dilations` other than
//! 1, a `storage_order` other than 0 and MaxPool's `Indices` output are refused, as is any
//! attribute the spec does not list. Global pooling is `Pool::global`: the result keeps the rank, extent 1 on
//! every spatial axis (`[C, 1, 1]` in the model).

use super::super::builder::Builder;
use super::conv::{result_layout, spatial_input, window, Channels, Window};
use super::{NodeCtx, Value, MAX_WINDOW};
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
    if kernel.len() != s || kernel.iter().any(|&k| !(1..=MAX_WINDOW).contains(&k)) {
        return Err(ctx.err(format!("kernel_shape {kernel:?} is not {s} sizes from 1 to {MAX_WINDOW}")));
    }
    let kernel: Vec<usize> = kernel.into_iter().map(|k| k as usize).collect();
    let input = &x.shape.dims()[..s];
    let Window { strides, pads_begin, mut pads_end } = window(ctx, input, &kernel, &vec![1; s])?;
    let count_pad = op == PoolOp::Average && ctx.int("count_include_pad", 0)? != 0;
    if ctx.int("ceil_mode", 0)? != 0 {
        for d in 0..s {
            let extra = ceil_mode_padding(input[d], kernel[d], strides[d], pads_begin[d], pads_end[d]);
            if extra > 0 && count_pad {
                return Err(ctx.unsupported(
                    "ceil_mode=1 with count_include_pad=1 where the last window passes the padding",
                ));
            }
            pads_end[d] += extra;
        }
    }
    let layer = Layer::Pool(Pool { op, kernel, strides, pads_begin, pads_end, count_pad, reciprocal: None });
    let mut act = b.add(ctx, ctx.label(), layer, &[x.id])?;
    act.perm = result_layout(channels, r);
    Ok(vec![Value::Act(act)])
}

/// The end padding that `ceil_mode = 1` adds on one axis: the output extent is `ceil((i + p_b +
/// p_e - k) / s) + 1`, less one when that last window would start at or after `i + p_b`.
fn ceil_mode_padding(i: usize, k: usize, s: usize, p_b: usize, p_e: usize) -> usize {
    // Overflowing sizes add nothing here; the IR's shape check then names them.
    let Some(padded) = i.checked_add(p_b).and_then(|v| v.checked_add(p_e)) else { return 0 };
    let Some(span) = padded.checked_sub(k) else { return 0 };
    let last = if span.div_ceil(s) * s >= i + p_b { span.div_ceil(s) - 1 } else { span.div_ceil(s) };
    (last * s + k).saturating_sub(padded)
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

#[cfg(test)]
mod tests {
    use super::ceil_mode_padding;

    #[test]
    fn ceil_mode_pads_the_end_for_the_last_partial_window() {
        // 8 inputs, window 3, stride 2: floor gives 3 outputs, ceil 4 (the last reads 6, 7, pad).
        assert_eq!(ceil_mode_padding(8, 3, 2, 0, 0), 1);
        // Already exact: nothing to add.
        assert_eq!(ceil_mode_padding(7, 3, 2, 0, 0), 0);
        // 5 inputs, window 2, stride 2, padding 1 each side: ceil gives 4 windows, the last would
        // start at 6 >= 5 + 1 (in the end padding), so 3 remain and nothing is added.
        assert_eq!(ceil_mode_padding(5, 2, 2, 1, 1), 0);
        // A window larger than the padded input adds nothing here (the IR refuses the shape).
        assert_eq!(ceil_mode_padding(2, 5, 1, 0, 0), 0);
    }
}
