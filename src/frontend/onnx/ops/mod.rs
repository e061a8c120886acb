//! The op table and what every op handler shares: values, the node context, input resolution.
//!
//! Operator specs: <https://onnx.ai/onnx/operators/> and the QONNX operators
//! <https://github.com/fastmachinelearning/qonnx/tree/main/docs/qonnx-custom-ops> (the channels-last
//! wrappers of `qonnx.custom_op.channels_last` are the standard ops on channels-last tensors).
//!
//! Handlers live in files named after the IR layer kind they produce (`dense.rs`, `conv.rs`,
//! ...; `constant.rs` and `identity.rs` for ops that produce none, `quantize/` for QONNX and QDQ).
//!
//! Contract: [`run`] looks a node up in [`OPS`] (keyed by op type within its domain family),
//! checks its opset range and arity, resolves its inputs (decoding initializers on first use, so
//! decode errors name the reading node), brings the activations of a [`Layout::Model`] handler into
//! the model's element order (see [`super::layout`]), and calls the handler. A handler returns one
//! [`Value`] per output it defines; it returns `OnnxError::Unsupported` for a known op used in a way
//! the IR cannot express, which the caller collects. Nodes reading a value of an unsupported node
//! are skipped silently (their outputs are poisoned too).

mod activation;
mod batch_norm;
mod concatenate;
mod constant;
mod conv;
mod dense;
mod elementwise;
mod gather_rows;
mod identity;
mod legacy;
mod pad;
mod pool;
mod quantize;
mod reduce;
mod reshape;
mod scatter_add;
mod softmax;
mod transpose;
mod upsample;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;
use std::path::Path;
use std::rc::Rc;

/// The largest window size, stride, dilation or padding an operator may give (2^24).
pub(crate) const MAX_WINDOW: i64 = 1 << 24;

use super::builder::Builder;
use super::layout;
use super::model::{Attr, Dim, Model, Node, QONNX_CHANNELS_LAST, QONNX_DOMAINS};
use super::tensor::{self, Tensor};
use super::{OnnxError, UnsupportedOp};
use crate::ir::{NodeId, Shape, Weights};

pub(crate) use quantize::qdq::Pending;

/// An activation: the IR node holding it, that node's shape, and how the model's tensor is laid out
/// in it. The model's tensor (batch axis excluded) is `transpose(ir_tensor, perm)` (numpy
/// `transpose`): model axis `k` is IR axis `perm[k]`. A channels-first tensor `[C, H, W]` held
/// channels-last `[H, W, C]` has `perm = [2, 0, 1]`.
#[derive(Debug, Clone)]
pub(crate) struct Act {
    pub id: NodeId,
    /// The IR node's shape.
    pub shape: Shape,
    pub perm: Vec<usize>,
}

impl Act {
    /// The model's per-sample dimensions.
    pub(crate) fn model_dims(&self) -> Vec<usize> {
        self.perm.iter().map(|&p| self.shape.dims()[p]).collect()
    }

    /// True when the IR tensor is the model's tensor, axis for axis.
    pub(crate) fn is_plain(&self) -> bool {
        layout::is_identity(&self.perm)
    }

    /// This activation, laid out as `x` (for a layer that works element by element on `x`).
    pub(crate) fn like(mut self, x: &Act) -> Act {
        self.perm = x.perm.clone();
        self
    }
}

/// What an ONNX value is at import time.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    Const(Rc<Tensor>),
    Act(Act),
    /// The integer output of a `QuantizeLinear` on an activation, waiting for its
    /// `DequantizeLinear`.
    Quantized(Rc<Pending>),
    /// An output the importer does not compute (a `Dropout` mask, ...); reading it is an error.
    Unavailable(String),
    /// Produced by an unsupported node; readers are skipped.
    Poisoned,
}

/// The outputs of an op computed at import: one constant.
pub(crate) fn const_value(t: Tensor) -> Vec<Value> {
    vec![Value::Const(Rc::new(t))]
}

/// Which ops a node's domain selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Onnx,
    Qonnx,
    /// `qonnx.custom_op.channels_last`: standard ops reading channels-last (NHWC) tensors.
    ChannelsLast,
}

/// How a handler reads the layout of the activations it is given ([`Act::perm`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// In the model's element order: [`run`] materializes every other layout first.
    Model,
    /// Element by element, or per tensor: the result keeps the layout of its input (constants
    /// are mapped onto it by the handler).
    Elementwise,
    /// A channels-first operator (NCHW convolution, pooling, normalization, padding, resizing): it
    /// works on the channels-last IR tensor of a channels-first model tensor.
    ChannelsFirst,
    /// Reads `perm` itself and maps axes through it (Transpose, Flatten, Concat, Softmax, ...).
    Own,
}

type Handler = fn(&mut Builder, &NodeCtx, &[Option<Value>]) -> Result<Vec<Value>, OnnxError>;

/// One entry of the op table.
struct OpDef {
    op_type: &'static str,
    family: Family,
    /// Inclusive range of input counts (optional trailing inputs included).
    inputs: RangeInclusive<usize>,
    /// Opsets of the node's domain for which the handler follows the spec.
    opsets: RangeInclusive<i64>,
    layout: Layout,
    run: Handler,
}

const fn op(
    op_type: &'static str,
    family: Family,
    inputs: RangeInclusive<usize>,
    opsets: RangeInclusive<i64>,
    layout: Layout,
    run: Handler,
) -> OpDef {
    OpDef { op_type, family, inputs, opsets, layout, run }
}

use Family::{ChannelsLast, Onnx, Qonnx};
use Layout::{ChannelsFirst, Elementwise, Model as InModelOrder, Own};

/// Every supported op. Default-domain opsets are bounded by the model-level range 7..=21; the
/// channels-last domain follows the default domain's definitions, so any of its versions is read.
static OPS: &[OpDef] = &[
    // dense.rs
    op("MatMul", Onnx, 2..=2, 7..=21, InModelOrder, dense::matmul),
    op("Gemm", Onnx, 2..=3, 7..=21, InModelOrder, dense::gemm),
    // conv.rs
    op("Conv", Onnx, 2..=3, 7..=21, ChannelsFirst, conv::conv),
    op("Conv", ChannelsLast, 2..=3, 1..=21, InModelOrder, conv::conv_channels_last),
    // pool.rs
    op("MaxPool", Onnx, 1..=1, 7..=21, ChannelsFirst, pool::max_pool),
    op("AveragePool", Onnx, 1..=1, 7..=21, ChannelsFirst, pool::average_pool),
    op("GlobalMaxPool", Onnx, 1..=1, 7..=21, ChannelsFirst, pool::global_max_pool),
    op("GlobalAveragePool", Onnx, 1..=1, 7..=21, ChannelsFirst, pool::global_average_pool),
    op("MaxPool", ChannelsLast, 1..=1, 1..=21, InModelOrder, pool::max_pool_channels_last),
    // pad.rs
    op("Pad", Onnx, 1..=4, 7..=21, ChannelsFirst, pad::pad),
    // upsample.rs
    op("Resize", Onnx, 1..=4, 10..=21, ChannelsFirst, upsample::resize),
    op("Upsample", Onnx, 1..=2, 7..=9, ChannelsFirst, upsample::upsample),
    // elementwise.rs
    op("Add", Onnx, 2..=2, 7..=21, Elementwise, elementwise::add),
    op("Sub", Onnx, 2..=2, 7..=21, Elementwise, elementwise::sub),
    op("Mul", Onnx, 2..=2, 7..=21, Elementwise, elementwise::mul),
    op("Div", Onnx, 2..=2, 7..=21, Elementwise, elementwise::div),
    op("Sum", Onnx, 1..=usize::MAX, 7..=21, Elementwise, elementwise::sum),
    op("Mean", Onnx, 1..=usize::MAX, 7..=21, Elementwise, elementwise::mean),
    op("Max", Onnx, 1..=usize::MAX, 7..=21, Elementwise, elementwise::max),
    op("Min", Onnx, 1..=usize::MAX, 7..=21, Elementwise, elementwise::min),
    // activation.rs
    op("Relu", Onnx, 1..=1, 7..=21, Elementwise, activation::relu),
    op("LeakyRelu", Onnx, 1..=1, 7..=21, Elementwise, activation::leaky_relu),
    op("PRelu", Onnx, 2..=2, 7..=21, Elementwise, activation::prelu),
    op("Sigmoid", Onnx, 1..=1, 7..=21, Elementwise, activation::sigmoid),
    op("Tanh", Onnx, 1..=1, 7..=21, Elementwise, activation::tanh),
    op("HardSigmoid", Onnx, 1..=1, 7..=21, Elementwise, activation::hard_sigmoid),
    op("Clip", Onnx, 1..=3, 7..=21, Elementwise, activation::clip),
    op("Elu", Onnx, 1..=1, 7..=21, Elementwise, activation::elu),
    op("Selu", Onnx, 1..=1, 7..=21, Elementwise, activation::selu),
    op("Softplus", Onnx, 1..=1, 7..=21, Elementwise, activation::softplus),
    op("Softsign", Onnx, 1..=1, 7..=21, Elementwise, activation::softsign),
    op("ThresholdedRelu", Onnx, 1..=1, 10..=21, Elementwise, activation::thresholded_relu),
    op("HardSwish", Onnx, 1..=1, 14..=21, Elementwise, activation::hard_swish),
    // softmax.rs
    op("Softmax", Onnx, 1..=1, 7..=21, Own, softmax::softmax),
    // reduce.rs
    op("ReduceSum", Onnx, 1..=2, 7..=21, Own, reduce::reduce_sum),
    op("ReduceMean", Onnx, 1..=2, 7..=21, Own, reduce::reduce_mean),
    op("ReduceMax", Onnx, 1..=2, 7..=21, Own, reduce::reduce_max),
    op("ReduceMin", Onnx, 1..=2, 7..=21, Own, reduce::reduce_min),
    op("ReduceSumSquare", Onnx, 1..=2, 7..=21, Own, reduce::reduce_sum_square),
    op("ReduceL1", Onnx, 1..=2, 7..=21, Own, reduce::reduce_l1),
    op("ReduceL2", Onnx, 1..=2, 7..=21, Own, reduce::reduce_l2),
    // batch_norm.rs
    op("BatchNormalization", Onnx, 5..=5, 7..=21, ChannelsFirst, batch_norm::batch_norm),
    op("BatchNormalization", ChannelsLast, 5..=5, 1..=21, InModelOrder, batch_norm::batch_norm_channels_last),
    // concatenate.rs
    op("Concat", Onnx, 1..=usize::MAX, 7..=21, Own, concatenate::concat),
    // reshape.rs
    op("Flatten", Onnx, 1..=1, 7..=21, Own, reshape::flatten),
    op("Reshape", Onnx, 1..=2, 7..=21, Own, reshape::reshape),
    op("Squeeze", Onnx, 1..=2, 7..=21, InModelOrder, reshape::squeeze),
    op("Unsqueeze", Onnx, 1..=2, 7..=21, InModelOrder, reshape::unsqueeze),
    // transpose.rs
    op("Transpose", Onnx, 1..=1, 7..=21, Own, transpose::transpose),
    // constant.rs
    op("Constant", Onnx, 0..=0, 7..=21, InModelOrder, constant::constant),
    op("Shape", Onnx, 1..=1, 7..=21, Own, constant::shape),
    // gather_rows.rs (constants: constant.rs)
    op("Gather", Onnx, 2..=2, 7..=21, InModelOrder, gather_rows::gather),
    // scatter_add.rs
    op("ScatterND", Onnx, 3..=3, 16..=21, InModelOrder, scatter_add::scatter_nd),
    op("ScatterElements", Onnx, 3..=3, 16..=21, InModelOrder, scatter_add::scatter_elements),
    op("Expand", Onnx, 2..=2, 8..=21, InModelOrder, scatter_add::expand),
    // identity.rs
    op("Identity", Onnx, 1..=1, 7..=21, Elementwise, identity::identity),
    op("Dropout", Onnx, 1..=3, 7..=21, Elementwise, identity::dropout),
    op("Cast", Onnx, 1..=1, 7..=21, Elementwise, identity::cast),
    // quantize/qdq.rs
    op("QuantizeLinear", Onnx, 2..=3, 10..=21, Elementwise, quantize::qdq::quantize_linear),
    op("DequantizeLinear", Onnx, 2..=3, 10..=21, Elementwise, quantize::qdq::dequantize_linear),
    // quantize/qonnx.rs (custom-domain opsets: 1 is the original definition, 2 adds IntQuant and Trunc v2)
    op("Quant", Qonnx, 4..=4, 1..=2, Elementwise, quantize::qonnx::quant),
    op("IntQuant", Qonnx, 4..=4, 1..=2, Elementwise, quantize::qonnx::quant),
    op("BipolarQuant", Qonnx, 2..=2, 1..=2, Elementwise, quantize::qonnx::bipolar_quant),
    op("Trunc", Qonnx, 5..=6, 1..=2, Elementwise, quantize::qonnx::trunc),
];

/// Everything a handler knows about the node it converts.
pub(crate) struct NodeCtx<'a> {
    pub path: &'a Path,
    pub node: &'a Node,
    pub model: &'a Model,
    /// Opset of the node's domain.
    pub opset: i64,
}

impl<'a> NodeCtx<'a> {
    pub(crate) fn new(path: &'a Path, node: &'a Node, model: &'a Model) -> Self {
        let opset = if node.domain.is_empty() {
            model.opset
        } else {
            model.domains.get(&node.domain).copied().unwrap_or(1)
        };
        NodeCtx { path, node, model, opset }
    }

    pub(crate) fn label(&self) -> &str {
        &self.node.label
    }

    pub(crate) fn err(&self, what: impl Into<String>) -> OnnxError {
        OnnxError::Node {
            path: self.path.to_path_buf(),
            node: self.node.label.clone(),
            op: self.node.op_type.clone(),
            what: what.into(),
        }
    }

    pub(crate) fn shape_err(&self, what: impl Into<String>) -> OnnxError {
        OnnxError::Shape {
            path: self.path.to_path_buf(),
            node: self.node.label.clone(),
            op: self.node.op_type.clone(),
            what: what.into(),
        }
    }

    pub(crate) fn quant_err(&self, what: impl Into<String>) -> OnnxError {
        OnnxError::Quant {
            path: self.path.to_path_buf(),
            node: self.node.label.clone(),
            op: self.node.op_type.clone(),
            what: what.into(),
        }
    }

    pub(crate) fn tensor_err(&self, input: usize, what: impl Into<String>) -> OnnxError {
        OnnxError::Tensor {
            path: self.path.to_path_buf(),
            node: self.node.label.clone(),
            op: self.node.op_type.clone(),
            tensor: self.node.inputs.get(input).cloned().unwrap_or_default(),
            what: what.into(),
        }
    }

    pub(crate) fn unsupported(&self, reason: impl Into<String>) -> OnnxError {
        OnnxError::Unsupported {
            path: self.path.to_path_buf(),
            ops: vec![UnsupportedOp {
                op_type: self.node.op_type.clone(),
                node: self.node.label.clone(),
                reason: Some(reason.into()),
            }],
        }
    }

    fn attr(&self, name: &str) -> Option<&Attr> {
        self.node.attrs.get(name)
    }

    /// Refuses every attribute not in `known` (an attribute the handler would silently ignore).
    pub(crate) fn known_attrs(&self, known: &[&str]) -> Result<(), OnnxError> {
        let legacy = |k: &str| self.opset < 7 && legacy::LEGACY_ATTRS.contains(&k);
        match self.node.attrs.keys().find(|k| !known.contains(&k.as_str()) && !legacy(k)) {
            Some(k) => Err(self.unsupported(format!("attribute '{k}' is not supported"))),
            None => Ok(()),
        }
    }

    /// An integer list attribute with one value per spatial axis (`s` of them), each at least 1;
    /// `default` for every axis when it is absent.
    /// Per-axis window attributes (`strides`, `dilations`, `kernel_shape`, `pads`): each from 1
    /// (0 for pads) to [`MAX_WINDOW`].
    pub(crate) fn spatial_ints(&self, name: &str, s: usize, default: usize) -> Result<Vec<usize>, OnnxError> {
        let Some(v) = self.ints(name)? else { return Ok(vec![default; s]) };
        if v.len() != s || v.iter().any(|&x| !(1..=MAX_WINDOW).contains(&x)) {
            return Err(self.err(format!(
                "attribute '{name}' is {v:?}; {s} values from 1 to {MAX_WINDOW} are expected (one per spatial axis)"
            )));
        }
        Ok(v.into_iter().map(|x| x as usize).collect())
    }

    pub(crate) fn opt_int(&self, name: &str) -> Result<Option<i64>, OnnxError> {
        match self.attr(name) {
            None => Ok(None),
            Some(Attr::Int(v)) => Ok(Some(*v)),
            Some(a) => Err(self.err(format!("attribute '{name}' must be an integer, is {}", a.kind()))),
        }
    }

    pub(crate) fn int(&self, name: &str, default: i64) -> Result<i64, OnnxError> {
        Ok(self.opt_int(name)?.unwrap_or(default))
    }

    pub(crate) fn opt_float(&self, name: &str) -> Result<Option<f32>, OnnxError> {
        match self.attr(name) {
            None => Ok(None),
            Some(Attr::Float(v)) => Ok(Some(*v)),
            Some(Attr::Int(v)) => Ok(Some(*v as f32)),
            Some(a) => Err(self.err(format!("attribute '{name}' must be a float, is {}", a.kind()))),
        }
    }

    pub(crate) fn float(&self, name: &str, default: f32) -> Result<f32, OnnxError> {
        Ok(self.opt_float(name)?.unwrap_or(default))
    }

    pub(crate) fn ints(&self, name: &str) -> Result<Option<Vec<i64>>, OnnxError> {
        match self.attr(name) {
            None => Ok(None),
            Some(Attr::Ints(v)) => Ok(Some(v.clone())),
            Some(Attr::Int(v)) => Ok(Some(vec![*v])),
            Some(a) => {
                Err(self.err(format!("attribute '{name}' must be a list of integers, is {}", a.kind())))
            }
        }
    }

    pub(crate) fn string(&self, name: &str, default: &str) -> Result<String, OnnxError> {
        match self.attr(name) {
            None => Ok(default.to_string()),
            Some(Attr::Str(s)) => Ok(String::from_utf8_lossy(s).into_owned()),
            Some(a) => Err(self.err(format!("attribute '{name}' must be a string, is {}", a.kind()))),
        }
    }

    /// The activation at input `i`; a constant there is reported as unsupported.
    pub(crate) fn act(&self, ins: &[Option<Value>], i: usize) -> Result<Act, OnnxError> {
        match ins.get(i) {
            Some(Some(Value::Act(a))) => Ok(a.clone()),
            Some(Some(Value::Const(_))) => Err(self
                .unsupported(format!("input #{i} is a constant; it must be computed from the model input"))),
            _ => Err(self.err(format!("input #{i} is missing"))),
        }
    }

    /// The constant at input `i`, or `None` when the optional input is absent; an activation there
    /// is reported as unsupported (`what` names the operand).
    pub(crate) fn opt_const(
        &self,
        ins: &[Option<Value>],
        i: usize,
        what: &str,
    ) -> Result<Option<Rc<Tensor>>, OnnxError> {
        match ins.get(i) {
            None | Some(None) => Ok(None),
            Some(Some(Value::Const(t))) => Ok(Some(t.clone())),
            Some(Some(_)) => Err(self.unsupported(format!("{what} (input #{i}) must be a constant"))),
        }
    }

    pub(crate) fn constant(
        &self,
        ins: &[Option<Value>],
        i: usize,
        what: &str,
    ) -> Result<Rc<Tensor>, OnnxError> {
        self.opt_const(ins, i, what)?.ok_or_else(|| self.err(format!("{what} (input #{i}) is missing")))
    }

    /// The values of constant input `i` as weights of the given shape; every value must be finite.
    pub(crate) fn weights(&self, i: usize, t: &Tensor, dims: Vec<usize>) -> Result<Weights, OnnxError> {
        let values = t.floats().map_err(|e| self.tensor_err(i, e))?;
        self.finite(i, &values)?;
        Ok(Weights { shape: Shape::new(dims), values, ty: t.ty })
    }

    pub(crate) fn finite(&self, i: usize, values: &[f64]) -> Result<(), OnnxError> {
        match values.iter().position(|v| !v.is_finite()) {
            Some(pos) => Err(self.tensor_err(i, format!("value #{pos} is {}", values[pos]))),
            None => Ok(()),
        }
    }

    /// A single value from constant input `i` (any shape with one element).
    pub(crate) fn scalar(&self, ins: &[Option<Value>], i: usize, what: &str) -> Result<f64, OnnxError> {
        let t = self.constant(ins, i, what)?;
        t.scalar().ok_or_else(|| self.err(format!("{what} must hold a single value, has shape {:?}", t.dims)))
    }

    /// Checks the computed value of output `name` against the shape the model declares for it
    /// (with a batch axis on activations unless the model is `batchless`).
    pub(crate) fn check_declared(&self, name: &str, v: &Value, batchless: bool) -> Result<(), OnnxError> {
        let Some(decl) = self.model.declared.get(name) else { return Ok(()) };
        let model: Vec<usize>;
        let (dims, skip_batch, shown): (&[usize], bool, String) = match v {
            Value::Act(a) if batchless => {
                model = a.model_dims();
                (&model, false, format!("[{}]", join(&model)))
            }
            Value::Act(a) => {
                model = a.model_dims();
                (&model, true, format!("[batch, {}]", join(&model)))
            }
            Value::Const(t) => (&t.dims, false, format!("{:?}", t.dims)),
            _ => return Ok(()),
        };
        let rank = dims.len() + usize::from(skip_batch);
        let mismatch = decl.len() != rank
            || decl.iter().enumerate().skip(usize::from(skip_batch)).any(|(i, d)| match d {
                Dim::Value(n) if *n > 0 => {
                    dims.get(i - usize::from(skip_batch)).map(|&x| x as i64) != Some(*n)
                }
                _ => false,
            });
        if mismatch {
            return Err(self.shape_err(format!(
                "output '{name}' is declared with shape {} but computes to {shown}",
                show_dims(decl)
            )));
        }
        Ok(())
    }
}

fn join(dims: &[usize]) -> String {
    dims.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")
}

pub(crate) fn show_dims(dims: &[Dim]) -> String {
    let parts: Vec<String> = dims
        .iter()
        .map(|d| match d {
            Dim::Value(v) => v.to_string(),
            Dim::Param(p) => p.clone(),
            Dim::Unknown => "?".into(),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

fn lookup(node: &Node) -> Option<&'static OpDef> {
    let family = if node.domain.is_empty() {
        Onnx
    } else if QONNX_DOMAINS.contains(&node.domain.as_str()) {
        Qonnx
    } else if node.domain == QONNX_CHANNELS_LAST {
        ChannelsLast
    } else {
        return None;
    };
    OPS.iter().find(|d| d.family == family && d.op_type == node.op_type)
}

/// Converts one node: the values of its outputs, in order.
/// Whether `def` converts correctly in a [`Builder::batchless`] model: element-wise operators and
/// the ones whose axes count no batch axis there.
fn reads_batchless(def: &OpDef) -> bool {
    matches!(def.layout, Elementwise)
        || matches!(
            def.op_type,
            "MatMul"
                | "Concat"
                | "Unsqueeze"
                | "Gather"
                | "ScatterND"
                | "ScatterElements"
                | "Expand"
                | "Constant"
        )
}

pub(crate) fn run(
    b: &mut Builder,
    ctx: &NodeCtx,
    values: &mut BTreeMap<String, Value>,
) -> Result<Vec<Value>, OnnxError> {
    let node = ctx.node;
    let Some(def) = lookup(node) else {
        let op_type = if node.domain.is_empty() {
            node.op_type.clone()
        } else {
            format!("{}:{}", node.domain, node.op_type)
        };
        return Err(OnnxError::Unsupported {
            path: ctx.path.to_path_buf(),
            ops: vec![UnsupportedOp { op_type, node: node.label.clone(), reason: None }],
        });
    };
    let legacy = node.domain.is_empty() && ctx.opset < 7 && legacy::reads(&node.op_type, ctx.opset);
    if legacy {
        legacy::check(ctx)?;
    }
    let opset = if legacy { 7 } else { ctx.opset };
    if !def.opsets.contains(&opset) {
        return Err(ctx.unsupported(format!(
            "opset {} of its domain; supported: {} to {}",
            ctx.opset,
            def.opsets.start(),
            def.opsets.end()
        )));
    }
    if b.batchless && !reads_batchless(def) {
        return Err(ctx.unsupported(
            "in a graph model (one with an integer input), which has no batch axis; this operator is read \
             only in models with one",
        ));
    }
    if !def.inputs.contains(&node.inputs.len()) {
        return Err(ctx.err(format!(
            "has {} inputs; the operator takes {} to {}",
            node.inputs.len(),
            def.inputs.start(),
            if *def.inputs.end() == usize::MAX {
                "any number".to_string()
            } else {
                def.inputs.end().to_string()
            }
        )));
    }
    let mut ins = Vec::with_capacity(node.inputs.len());
    for (i, name) in node.inputs.iter().enumerate() {
        if name.is_empty() {
            if i < *def.inputs.start() {
                return Err(ctx.err(format!("required input #{i} is empty")));
            }
            ins.push(None);
            continue;
        }
        let v = match values.get(name) {
            Some(v) => v.clone(),
            None => match ctx.model.initializers.get(name) {
                Some(proto) => {
                    let t = tensor::decode(proto).map_err(|e| ctx.tensor_err(i, e))?;
                    let v = Value::Const(Rc::new(t));
                    values.insert(name.clone(), v.clone());
                    v
                }
                None => {
                    return Err(OnnxError::Undefined {
                        path: ctx.path.to_path_buf(),
                        node: node.label.clone(),
                        op: node.op_type.clone(),
                        input: name.clone(),
                    })
                }
            },
        };
        ins.push(Some(v));
    }
    for v in ins.iter().flatten() {
        match v {
            Value::Poisoned => return Ok(vec![Value::Poisoned; node.outputs.len()]),
            Value::Unavailable(why) => {
                return Err(ctx.err(format!("reads an output that is unavailable: {why}")))
            }
            Value::Quantized(p) if !matches!(def.op_type, "DequantizeLinear" | "Clip") => {
                return Err(p.not_dequantized(ctx.path, &format!("{} '{}'", node.op_type, node.label)))
            }
            _ => {}
        }
    }
    if def.layout == Layout::Model {
        for (i, v) in ins.iter_mut().enumerate() {
            if let Some(Value::Act(a)) = v {
                if !a.is_plain() {
                    *a = layout::model_order(b, ctx, a, i)?;
                }
            }
        }
    }
    let outs = (def.run)(b, ctx, &ins)?;
    for v in &outs {
        if let Value::Const(t) = v {
            if !tensor::dims_ok(&t.dims) {
                return Err(ctx.shape_err(format!("the constant result of shape {:?} is too large", t.dims)));
            }
        }
    }
    Ok(outs)
}

/// The graph inputs (of rank 3 or more) that a channels-first operator reads, directly or through
/// element-wise ops: they become channels-last IR inputs, so that no transpose is needed there.
/// Any other input keeps the model's axis order (a keras2onnx model transposes its NHWC input to
/// NCHW itself, which cancels against the channels-last IR).
pub(crate) fn channels_first_inputs(model: &Model) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for input in &model.inputs {
        let rank = input.dims.as_ref().map_or(0, Vec::len);
        if rank < 3 || model.initializers.contains_key(&input.name) {
            continue;
        }
        let mut reached: BTreeSet<&str> = BTreeSet::from([input.name.as_str()]);
        for node in &model.nodes {
            let Some(def) = lookup(node) else { continue };
            let reads: Vec<usize> =
                (0..node.inputs.len()).filter(|&i| reached.contains(node.inputs[i].as_str())).collect();
            if reads.is_empty() {
                continue;
            }
            match def.layout {
                Layout::Elementwise => {
                    reached.extend(node.outputs.iter().filter(|o| !o.is_empty()).map(String::as_str));
                }
                Layout::ChannelsFirst if reads.contains(&0) => {
                    found.insert(input.name.clone());
                    break;
                }
                Layout::ChannelsFirst | Layout::Model | Layout::Own => {}
            }
        }
    }
    found
}

/// Every `QuantizeLinear` on an activation must feed a `DequantizeLinear`.
pub(crate) fn check_dequantized(
    path: &Path,
    b: &Builder,
    values: &BTreeMap<String, Value>,
) -> Result<(), OnnxError> {
    for v in values.values() {
        if let Value::Quantized(p) = v {
            if !b.dequantized.contains(&p.node) {
                return Err(p.not_dequantized(path, "nothing"));
            }
        }
    }
    Ok(())
}

/// Fits a constant operand to an activation of per-sample shape `shape`: a leading batch axis of
/// size 1 is dropped when the constant has the activation's full rank (per-sample rank + 1); the
/// rest must broadcast onto `shape` without changing it.
pub(crate) fn align_const(ctx: &NodeCtx, t: &Tensor, shape: &Shape) -> Result<Vec<usize>, OnnxError> {
    let mut dims = t.dims.clone();
    if dims.len() == shape.rank() + 1 {
        if dims[0] != 1 {
            return Err(ctx.unsupported(format!(
                "constant of shape {:?} differs along the batch axis of an activation of shape [batch, {}]",
                t.dims,
                join(shape.dims())
            )));
        }
        dims.remove(0);
    }
    if dims.len() > shape.rank() || !Shape::new(dims.clone()).broadcasts_to(shape) {
        return Err(ctx.shape_err(format!(
            "constant of shape {:?} does not broadcast onto an activation of shape [batch, {}]",
            t.dims,
            join(shape.dims())
        )));
    }
    Ok(dims)
}

/// Normalizes a possibly negative axis for a tensor of `rank` axes.
pub(crate) fn norm_axis(ctx: &NodeCtx, axis: i64, rank: usize) -> Result<usize, OnnxError> {
    let r = rank as i64;
    let a = if axis < 0 { axis + r } else { axis };
    if a < 0 || a >= r {
        return Err(ctx.err(format!("axis {axis} is out of range for rank {rank}")));
    }
    Ok(a as usize)
}
