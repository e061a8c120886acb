//! Default-domain opsets 1 to 6, read as the opset-7 definitions where the semantics are the same.
//!
//! Spec: the operator changelog <https://github.com/onnx/onnx/blob/main/docs/Changelog.md>.
//! Contract: [`reads`] lists the ops whose definitions before opset 7 are read; every other op of
//! such a model is refused by the op table's opset range, naming the node. [`check`] refuses a node
//! whose legacy attributes change its meaning, naming the node and the attribute:
//! `BatchNormalization-1/6` and `Dropout-1/6` must have `is_test = 1` (inference; training mode
//! normalizes with batch statistics or drops values at random). `consumed_inputs` (opset 1) is a
//! memory hint with no effect on values and is ignored, as are Gemm's `broadcast` (before opset 7 it
//! allowed C to broadcast, as numpy does) and BatchNormalization's `momentum` (training only).
//! `Add`/`Sub`/`Mul`/`Div` before opset 7 take `broadcast` and `axis` ([`broadcast`]): without
//! `broadcast` the shapes are equal; with it, B is aligned at A's axis `axis`, which equals numpy
//! broadcasting only when B's axes are A's last ones, so any other `axis` is refused.
//! `Reshape` before opset 5 takes its target as the `shape` attribute (read in `reshape.rs`);
//! `Concat` before opset 4 has an optional `axis`, 1 by default (read in `concatenate.rs`).
//! `Pad-1` names its attribute `paddings` (`pad.rs`); `Cast` before opset 6 names its target type
//! by its `TensorProto.DataType` name (`identity.rs`); the experimental `Upsample-1` takes
//! `height_scale` and `width_scale` (`upsample.rs`). `PRelu-1/6` shares a one-value slope and
//! leaves other slope shapes' alignment unspecified ([`prelu_slope`]).

use super::NodeCtx;
use crate::frontend::onnx::OnnxError;

/// The attributes before opset 7 that [`check`] validated or that have no semantic effect; the
/// handlers written for opset 7 pass over them.
pub(super) const LEGACY_ATTRS: &[&str] = &["consumed_inputs", "is_test", "momentum", "broadcast"];

/// Whether the op's definitions before opset 7 are read, and from which opset.
pub(super) fn reads(op_type: &str, opset: i64) -> bool {
    let from = match op_type {
        "Relu" | "Sigmoid" | "Tanh" | "LeakyRelu" | "Elu" | "Selu" | "HardSigmoid" | "Softplus"
        | "Softsign" | "Clip" | "Softmax" | "MatMul" | "Gemm" | "Flatten" | "Transpose" | "Identity"
        | "Constant" | "Shape" | "Gather" | "Sum" | "Mean" | "Max" | "Min" | "Add" | "Sub" | "Mul"
        | "Div" | "Conv" | "MaxPool" | "AveragePool" | "GlobalMaxPool" | "GlobalAveragePool" | "Squeeze"
        | "Unsqueeze" | "ReduceSum" | "ReduceMean" | "ReduceMax" | "ReduceMin" | "ReduceSumSquare"
        | "ReduceL1" | "ReduceL2" | "BatchNormalization" | "Dropout" | "Reshape" | "Concat" | "Pad"
        | "Cast" | "PRelu" | "Upsample" => 1,
        _ => return false,
    };
    opset >= from
}

/// Refuses a node of opset 1–6 whose legacy attributes make it differ from its opset-7 form.
pub(super) fn check(ctx: &NodeCtx) -> Result<(), OnnxError> {
    match ctx.node.op_type.as_str() {
        "BatchNormalization" | "Dropout" => {
            let is_test = ctx.int("is_test", 0)?;
            if is_test != 1 {
                return Err(ctx.unsupported(format!(
                    "attribute 'is_test' is {is_test} (training mode{}); only is_test=1 (inference) is read",
                    if ctx.node.attrs.contains_key("is_test") { "" } else { ", the default before opset 7" }
                )));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Refuses `broadcast`/`axis` of a binary op before opset 7 unless they equal numpy broadcasting:
/// `a_rank` and `b_rank` count every axis of A and B (the batch axis included).
pub(super) fn broadcast(ctx: &NodeCtx, a_rank: usize, b_rank: usize) -> Result<(), OnnxError> {
    if ctx.int("broadcast", 0)? == 0 {
        if ctx.node.attrs.contains_key("axis") {
            return Err(ctx.unsupported("attribute 'axis' is given without broadcast=1"));
        }
        return Ok(());
    }
    if b_rank > a_rank {
        return Err(ctx.unsupported(format!(
            "attribute 'broadcast' is 1 but B has {b_rank} axes, more than A's {a_rank}"
        )));
    }
    let trailing = (a_rank - b_rank) as i64;
    match ctx.opt_int("axis")? {
        None => Ok(()),
        Some(axis) if axis == trailing || axis + a_rank as i64 == trailing => Ok(()),
        Some(axis) => Err(ctx.unsupported(format!(
            "attribute 'axis' is {axis} with broadcast=1: B's {b_rank} axes align at A's axis {axis}, \
             while numpy broadcasting aligns them with A's last axes (axis {trailing})"
        ))),
    }
}

/// Refuses a `PRelu-1/6` slope whose alignment with X is ambiguous: before opset 7 a one-value slope
/// is shared and any other slope was applied from the channel axis (axis 1, as Caffe2 did), which
/// equals numpy broadcasting only when the slope has one axis fewer than X (`x_rank` counts the
/// batch axis).
pub(super) fn prelu_slope(ctx: &NodeCtx, slope_dims: &[usize], x_rank: usize) -> Result<(), OnnxError> {
    if slope_dims.iter().product::<usize>() == 1 || slope_dims.len() + 1 == x_rank {
        return Ok(());
    }
    Err(ctx.unsupported(format!(
        "a slope of shape {slope_dims:?} on a {x_rank}-D input: before opset 7 it applies from the \
         channel axis, numpy broadcasting (opset 7) from the last axes; give the slope {} axes",
        x_rank - 1
    )))
}
