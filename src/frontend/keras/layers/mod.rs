//! The Keras layer table (one entry per supported `class_name`) and the building of IR nodes.
//!
//! Import runs in two steps. [`plan`] reads each layer's config through its table entry, without
//! weights or shapes; every layer whose class is unknown or whose options cannot be represented is
//! collected, so one error lists them all. [`Builder::build`] then creates the nodes in order,
//! reading each layer's weights and checking them against the architecture; node shapes come from
//! the IR layers themselves. Each class is handled in the file of the IR kind it produces:
//!
//! | class | file | IR |
//! |---|---|---|
//! | `InputLayer` | `input.rs` | `Input` |
//! | `Dense`, `QDense`, `BinaryDense`, `TernaryDense` (BinaryNet) | `dense.rs` | `Dense` (kernel `[n_in, n_out]`, zero bias without `use_bias`), then the activation as its own node |
//! | `Conv1D`, `Conv2D`, `DepthwiseConv1D`, `DepthwiseConv2D`, `SeparableConv1D`, `SeparableConv2D`, `QConv1D`, `QConv2D`, `QDepthwiseConv2D`, `QSeparableConv1D`, `QSeparableConv2D`, `QConv2DBatchnorm` | `conv.rs` | `Conv` (a separable convolution is a depthwise `Conv` then a 1x1 one; `QConv2DBatchnorm` folds its batch norm into the kernel and bias as QKeras does), then the activation |
//! | `MaxPooling1D/2D`, `AveragePooling1D/2D`, `GlobalMaxPooling1D/2D`, `GlobalAveragePooling1D/2D`, `QAveragePooling2D`, `QGlobalAveragePooling2D` | `pool.rs` | `Pool` (global pooling without `keepdims` then a `Reshape` to `[channels]`) |
//! | `ZeroPadding1D/2D`, `Cropping1D/2D` | `pad.rs` | `Pad` (cropping as negative padding) |
//! | `UpSampling1D/2D` (nearest) | `upsample.rs` | `UpSample` |
//! | `Activation`, `QActivation`, `ReLU`, `LeakyReLU`, `PReLU`, `ELU`, `ThresholdedReLU` | `activation.rs` | `Activation`, `Softmax` or `Quantize` |
//! | `Softmax` | `softmax.rs` | `Softmax` over the last axis |
//! | `BatchNormalization`, `QBatchNormalization` | `batch_norm.rs` | `BatchNorm` with `scale = gamma / sqrt(var + eps)`, `bias = beta - mean * scale`, per channel (last axis) |
//! | `Add`, `Subtract`, `Multiply`, `Maximum`, `Minimum`, `Average` | `elementwise.rs` | `Elementwise` (`Average`: an `Add` then a `Mul` by `1 / n`) |
//! | `Concatenate` | `concatenate.rs` | `Concatenate` |
//! | `Flatten`, `Reshape` | `reshape.rs` | `Reshape` |
//! | `TFOpLambda` (`tf.reduce_sum/mean/max/min`, `tf.math.reduce_euclidean_norm`, `tf.square`) | `tf_op.rs` | `Reduce`, `Elementwise` |
//! | `Dropout`, `SpatialDropout1D/2D/3D` and the other inference-time identities | `identity.rs` | removed |
//!
//! Tensors are channels-last, as in the IR; a layer configured with `data_format:
//! "channels_first"` is refused.

mod activation;
mod batch_norm;
mod concatenate;
mod conv;
mod dense;
mod elementwise;
mod identity;
mod input;
mod pad;
mod pool;
mod reshape;
mod softmax;
mod tf_op;
mod upsample;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::config::{Generation, LayerSpec, ModelSpec};
use super::quantizers::{self, Quantizer};
use super::weights::{Named, WeightFile};
use super::{KerasError, Rejected};
use crate::ir::{Graph, Layer, NodeId, Weights};

/// What a layer becomes, read from its config alone.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Plan {
    Input(input::Plan),
    Dense(dense::Plan),
    Conv(Box<conv::Plan>),
    Pool(pool::Plan),
    Pad(pad::Plan),
    UpSample(upsample::Plan),
    BatchNorm(batch_norm::Plan),
    Activation(activation::Act),
    PRelu,
    Softmax(softmax::Plan),
    Elementwise(elementwise::Plan),
    Concatenate(concatenate::Plan),
    Reshape(reshape::Plan),
    TfOp(tf_op::Plan),
    Identity,
}

type Planner = fn(&Cfg, Generation) -> Result<Plan, String>;

/// One supported layer class: how many inputs it takes and how its config is read.
struct Entry {
    class: &'static str,
    /// Inputs the layer takes: exactly `min` when `max` is `Some(min)`, otherwise at least `min`.
    min_inputs: usize,
    max_inputs: Option<usize>,
    plan: Planner,
}

const fn entry(class: &'static str, inputs: usize, plan: Planner) -> Entry {
    Entry { class, min_inputs: inputs, max_inputs: Some(inputs), plan }
}

/// A merge of two or more inputs.
const fn merge(class: &'static str, plan: Planner) -> Entry {
    Entry { class, min_inputs: 2, max_inputs: None, plan }
}

/// The layer table.
const TABLE: &[Entry] = &[
    entry("InputLayer", 0, input::plan),
    entry("Dense", 1, dense::plan),
    entry("QDense", 1, dense::plan_q),
    entry("BinaryDense", 1, dense::plan_binary),
    entry("TernaryDense", 1, dense::plan_ternary),
    entry("Conv1D", 1, conv::plan_conv1d),
    entry("Conv2D", 1, conv::plan_conv2d),
    entry("DepthwiseConv1D", 1, conv::plan_depthwise1d),
    entry("DepthwiseConv2D", 1, conv::plan_depthwise2d),
    entry("SeparableConv1D", 1, conv::plan_separable1d),
    entry("SeparableConv2D", 1, conv::plan_separable2d),
    entry("QConv1D", 1, conv::plan_qconv1d),
    entry("QConv2D", 1, conv::plan_qconv2d),
    entry("QDepthwiseConv2D", 1, conv::plan_qdepthwise2d),
    entry("QSeparableConv1D", 1, conv::plan_qseparable1d),
    entry("QSeparableConv2D", 1, conv::plan_qseparable2d),
    entry("QConv2DBatchnorm", 1, conv::plan_qconv2d_batchnorm),
    entry("MaxPooling1D", 1, pool::plan_max1d),
    entry("MaxPooling2D", 1, pool::plan_max2d),
    entry("AveragePooling1D", 1, pool::plan_average1d),
    entry("AveragePooling2D", 1, pool::plan_average2d),
    entry("GlobalMaxPooling1D", 1, pool::plan_global_max1d),
    entry("GlobalMaxPooling2D", 1, pool::plan_global_max2d),
    entry("GlobalAveragePooling1D", 1, pool::plan_global_average1d),
    entry("GlobalAveragePooling2D", 1, pool::plan_global_average2d),
    entry("QAveragePooling2D", 1, pool::plan_qaverage2d),
    entry("QGlobalAveragePooling2D", 1, pool::plan_qglobal_average2d),
    entry("ZeroPadding1D", 1, pad::plan_zero_padding1d),
    entry("ZeroPadding2D", 1, pad::plan_zero_padding2d),
    entry("Cropping1D", 1, pad::plan_cropping1d),
    entry("Cropping2D", 1, pad::plan_cropping2d),
    entry("UpSampling1D", 1, upsample::plan1d),
    entry("UpSampling2D", 1, upsample::plan2d),
    entry("Activation", 1, activation::plan),
    entry("QActivation", 1, activation::plan_q),
    entry("ReLU", 1, activation::plan_relu),
    entry("LeakyReLU", 1, activation::plan_leaky_relu),
    entry("PReLU", 1, activation::plan_prelu),
    entry("ELU", 1, activation::plan_elu),
    entry("ThresholdedReLU", 1, activation::plan_thresholded_relu),
    entry("Softmax", 1, softmax::plan),
    entry("BatchNormalization", 1, batch_norm::plan),
    entry("QBatchNormalization", 1, batch_norm::plan_q),
    entry("Dropout", 1, identity::plan),
    entry("SpatialDropout1D", 1, identity::plan),
    entry("SpatialDropout2D", 1, identity::plan),
    entry("SpatialDropout3D", 1, identity::plan),
    entry("AlphaDropout", 1, identity::plan),
    entry("GaussianDropout", 1, identity::plan),
    entry("GaussianNoise", 1, identity::plan),
    entry("ActivityRegularization", 1, identity::plan),
    entry("Flatten", 1, reshape::plan_flatten),
    entry("Reshape", 1, reshape::plan),
    merge("Add", elementwise::plan_add),
    entry("Subtract", 2, elementwise::plan_subtract),
    merge("Multiply", elementwise::plan_multiply),
    merge("Maximum", elementwise::plan_maximum),
    merge("Minimum", elementwise::plan_minimum),
    merge("Average", elementwise::plan_average),
    Entry { class: "Concatenate", min_inputs: 1, max_inputs: None, plan: concatenate::plan },
    entry("TFOpLambda", 1, tf_op::plan),
];

/// A layer config with typed accessors whose errors name the key, and the keyword arguments of
/// the layer's call.
pub(super) struct Cfg<'a> {
    config: &'a Map<String, Value>,
    call: &'a Map<String, Value>,
}

impl Cfg<'_> {
    fn get(&self, key: &str) -> Option<&Value> {
        self.config.get(key).filter(|v| !v.is_null())
    }

    /// The call's keyword arguments, with the same accessors.
    fn call(&self) -> Cfg<'_> {
        Cfg { config: self.call, call: self.call }
    }

    fn bool_or(&self, key: &str, default: bool) -> Result<bool, String> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => Err(format!("{key}={v} is not a boolean")),
        }
    }

    fn f64_opt(&self, key: &str) -> Result<Option<f64>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => match v.as_f64() {
                Some(f) if f.is_finite() => Ok(Some(f)),
                _ => Err(format!("{key}={v} is not a number")),
            },
        }
    }

    fn int(&self, key: &str) -> Result<Option<i64>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or_else(|| format!("{key}={v} is not an integer")),
        }
    }

    /// An axis given as an integer or a one-element list (`-1` when absent).
    fn axis(&self, key: &str) -> Result<i64, String> {
        match self.get(key) {
            None => Ok(-1),
            Some(Value::Array(a)) if a.len() == 1 => {
                a[0].as_i64().ok_or_else(|| format!("{key}={a:?} is not an axis"))
            }
            Some(Value::Array(a)) => Err(format!("{key} over {} axes is not supported", a.len())),
            Some(v) => v.as_i64().ok_or_else(|| format!("{key}={v} is not an axis")),
        }
    }

    fn string(&self, key: &str) -> Result<Option<&str>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(format!("{key}={v} is not a string")),
        }
    }

    /// A positive size per spatial axis, given as one integer for all `n` axes or a list of `n`;
    /// at most [`MAX_WINDOW`].
    fn sizes(&self, key: &str, n: usize, default: Option<usize>) -> Result<Vec<usize>, String> {
        let positive = |v: &Value| match v.as_u64() {
            Some(k) if k > MAX_WINDOW as u64 => Err(format!("{key}={v} is larger than {MAX_WINDOW}")),
            Some(k) if k > 0 => Ok(k as usize),
            _ => Err(format!("{key}={v} is not a positive integer")),
        };
        match self.get(key) {
            None => default.map(|d| vec![d; n]).ok_or_else(|| format!("no {key}")),
            Some(Value::Array(a)) if a.len() == n => a.iter().map(positive).collect(),
            Some(Value::Array(a)) => Err(format!("{key} has {} values for {n} spatial axes", a.len())),
            Some(v) => Ok(vec![positive(v)?; n]),
        }
    }

    /// Refuses `data_format: "channels_first"` (absent means Keras' default, channels-last).
    fn channels_last(&self) -> Result<(), String> {
        match self.string("data_format")? {
            None | Some("channels_last") => Ok(()),
            Some("channels_first") => Err("data_format='channels_first' is not supported: hls-gen \
                 tensors are channels-last (save the model with data_format='channels_last')"
                .into()),
            Some(other) => Err(format!("data_format='{other}' is not understood")),
        }
    }

    fn quantizer(&self, key: &str) -> Result<Option<Quantizer>, String> {
        match self.config.get(key) {
            None => Ok(None),
            Some(v) => quantizers::parse(v).map_err(|e| format!("{key}: {e}")),
        }
    }
}

/// Reads every layer's config. Errors list every layer that cannot be imported.
pub(super) fn plan(model: &ModelSpec) -> Result<Vec<Plan>, Vec<Rejected>> {
    let mut plans = Vec::with_capacity(model.layers.len());
    let mut rejected = Vec::new();
    for layer in &model.layers {
        let reject =
            |reason: String| Rejected { layer: layer.name.clone(), class: layer.class_name.clone(), reason };
        let Some(entry) = TABLE.iter().find(|e| e.class == layer.class_name) else {
            rejected.push(reject("layer class not supported".into()));
            continue;
        };
        let n = layer.inputs.len();
        if n < entry.min_inputs || entry.max_inputs.is_some_and(|m| n > m) {
            let takes = match entry.max_inputs {
                Some(m) => m.to_string(),
                None => format!("at least {}", entry.min_inputs),
            };
            rejected.push(reject(format!("takes {takes} inputs, has {n}")));
            continue;
        }
        match (entry.plan)(&Cfg { config: &layer.config, call: &layer.call }, model.generation) {
            Ok(p) => plans.push(p),
            Err(reason) => rejected.push(reject(reason)),
        }
    }
    if rejected.is_empty() {
        Ok(plans)
    } else {
        Err(rejected)
    }
}

/// An axis of a Keras tensor (batch axis included, negative from the end) as an axis of the
/// per-sample shape of rank `rank`.
fn sample_axis(axis: i64, rank: usize) -> Result<usize, String> {
    let full = rank as i64 + 1;
    let a = if axis < 0 { axis + full } else { axis };
    match a {
        0 => Err("the batch axis cannot be used here".into()),
        a if a > 0 && a < full => Ok(a as usize - 1),
        _ => Err(format!("axis {axis} is out of range for a tensor of rank {full}")),
    }
}

/// The largest kernel, pool size, stride, dilation, upsampling factor or padding amount accepted,
/// far beyond any real layer, so that window arithmetic cannot overflow.
pub(in crate::frontend::keras) const MAX_WINDOW: usize = 1 << 20;

/// How a sliding window (a convolution's kernel, a pooling window) is padded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::frontend::keras) enum Padding {
    Valid,
    /// TensorFlow's `SAME`: `ceil(i / s)` outputs, the padding split with the smaller half first.
    Same,
    /// `Conv1D` only: `dilation * (k - 1)` zeros before the input.
    Causal,
}

impl Padding {
    fn read(c: &Cfg, causal: bool) -> Result<Padding, String> {
        match c.string("padding")?.map(str::to_ascii_lowercase).as_deref() {
            None | Some("valid") => Ok(Padding::Valid),
            Some("same") => Ok(Padding::Same),
            Some("causal") if causal => Ok(Padding::Causal),
            Some(other) => Err(format!("padding='{other}' is not supported")),
        }
    }

    /// The zeros before and after each spatial axis of extent `input[d]`, for a window spanning
    /// `span[d]` positions (`dilation * (k - 1) + 1`) moved by `stride[d]`. `Same`:
    /// `total = max((ceil(i / s) - 1) * s + span - i, 0)`, `begin = floor(total / 2)`,
    /// `end = total - begin`.
    fn pads(self, input: &[usize], span: &[usize], stride: &[usize]) -> (Vec<usize>, Vec<usize>) {
        let s = input.len();
        match self {
            Padding::Valid => (vec![0; s], vec![0; s]),
            Padding::Causal => (span.iter().map(|k| k.saturating_sub(1)).collect(), vec![0; s]),
            Padding::Same => (0..s)
                .map(|d| {
                    let (i, st) = (input[d], stride[d]);
                    let total = ((i.div_ceil(st).max(1) - 1).saturating_mul(st).saturating_add(span[d]))
                        .saturating_sub(i);
                    (total / 2, total - total / 2)
                })
                .unzip(),
        }
    }
}

/// Builds the graph from planned layers, reading weights as it goes.
pub(super) struct Builder<'a> {
    model: &'a ModelSpec,
    weights: &'a WeightFile,
    model_path: &'a std::path::Path,
    g: Graph,
    names: BTreeSet<String>,
    /// The node holding each Keras layer's output.
    outputs: BTreeMap<String, NodeId>,
}

impl<'a> Builder<'a> {
    pub fn new(
        model: &'a ModelSpec,
        weights: &'a WeightFile,
        model_path: &'a std::path::Path,
        name: String,
    ) -> Self {
        Builder {
            model,
            weights,
            model_path,
            g: Graph::new(name),
            names: model.layers.iter().map(|l| l.name.clone()).collect(),
            outputs: BTreeMap::new(),
        }
    }

    /// Builds every layer: the model inputs first, in the model's input order, so that the
    /// graph's inputs are in that order; then the rest in dependency order.
    pub fn build(mut self, plans: &[Plan]) -> Result<Graph, KerasError> {
        let layers: Vec<(&LayerSpec, &Plan)> = self.model.layers.iter().zip(plans).collect();
        for name in &self.model.inputs {
            if let Some((layer, plan)) = layers.iter().find(|(l, _)| &l.name == name) {
                let out = self.layer(layer, plan)?;
                self.outputs.insert(layer.name.clone(), out);
            }
        }
        for (layer, plan) in layers {
            if !self.outputs.contains_key(&layer.name) {
                let out = self.layer(layer, plan)?;
                self.outputs.insert(layer.name.clone(), out);
            }
        }
        let mut outs = Vec::with_capacity(self.model.outputs.len());
        for o in &self.model.outputs {
            outs.push(self.outputs.get(o).copied().ok_or_else(|| KerasError::Config {
                path: self.model_path.to_path_buf(),
                what: format!("the model output '{o}' was not built"),
            })?);
        }
        self.g.set_outputs(outs);
        Ok(self.g)
    }

    fn layer_err(&self, layer: &LayerSpec, what: impl Into<String>) -> KerasError {
        KerasError::Layer {
            path: self.model_path.to_path_buf(),
            layer: layer.name.clone(),
            class: layer.class_name.clone(),
            what: what.into(),
        }
    }

    fn weights_err(&self, layer: &LayerSpec, what: impl Into<String>) -> KerasError {
        KerasError::Weights {
            path: self.weights.path().to_path_buf(),
            layer: layer.name.clone(),
            what: what.into(),
        }
    }

    fn quant_err(&self, layer: &LayerSpec, what: String) -> KerasError {
        KerasError::Quantizer { path: self.model_path.to_path_buf(), layer: layer.name.clone(), what }
    }

    /// A node name not used by any Keras layer or earlier node.
    fn fresh(&mut self, base: &str) -> String {
        let mut name = base.to_string();
        let mut n = 1;
        while self.names.contains(&name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        self.names.insert(name.clone());
        name
    }

    /// Adds a node for Keras layer `layer`; a shape that does not fit is an error naming it.
    fn add(
        &mut self,
        layer: &LayerSpec,
        name: String,
        l: Layer,
        inputs: &[NodeId],
    ) -> Result<NodeId, KerasError> {
        self.g.add(name, l, inputs).map_err(|e| match e {
            crate::ir::IrError::Invalid { what, .. } => self.layer_err(layer, what),
            other => self.layer_err(layer, other.to_string()),
        })
    }

    fn layer(&mut self, layer: &LayerSpec, plan: &Plan) -> Result<NodeId, KerasError> {
        let mut inputs = Vec::with_capacity(layer.inputs.len());
        for i in &layer.inputs {
            let id = self
                .outputs
                .get(i)
                .copied()
                .ok_or_else(|| self.layer_err(layer, format!("input '{i}' is missing")))?;
            inputs.push(id);
        }
        let stored = self.weights.layer(&layer.name)?;
        let takes_weights = match plan {
            Plan::Dense(_) | Plan::Conv(_) | Plan::BatchNorm(_) | Plan::PRelu => true,
            Plan::Input(_)
            | Plan::Pool(_)
            | Plan::Pad(_)
            | Plan::UpSample(_)
            | Plan::Activation(_)
            | Plan::Softmax(_)
            | Plan::Elementwise(_)
            | Plan::Concatenate(_)
            | Plan::Reshape(_)
            | Plan::TfOp(_)
            | Plan::Identity => false,
        };
        if !takes_weights && !stored.is_empty() {
            return Err(self
                .weights_err(layer, format!("{} weight tensors for a layer that takes none", stored.len())));
        }
        match plan {
            Plan::Input(p) => input::build(self, layer, p),
            Plan::Dense(p) => dense::build(self, layer, p, stored, &inputs),
            Plan::Conv(p) => conv::build(self, layer, p, stored, &inputs),
            Plan::Pool(p) => pool::build(self, layer, p, &inputs),
            Plan::Pad(p) => pad::build(self, layer, p, &inputs),
            Plan::UpSample(p) => upsample::build(self, layer, p, &inputs),
            Plan::BatchNorm(p) => batch_norm::build(self, layer, p, stored, &inputs),
            Plan::Activation(act) => self.activation(layer, layer.name.clone(), act, inputs[0]),
            Plan::PRelu => activation::build_prelu(self, layer, stored, &inputs),
            Plan::Softmax(p) => softmax::build(self, layer, p, &inputs),
            Plan::Elementwise(p) => elementwise::build(self, layer, p, &inputs),
            Plan::Concatenate(p) => concatenate::build(self, layer, p, &inputs),
            Plan::Reshape(p) => reshape::build(self, layer, p, &inputs),
            Plan::TfOp(p) => tf_op::build(self, layer, p, &inputs),
            Plan::Identity => Ok(inputs[0]),
        }
    }

    /// The per-sample shape of node `id`.
    fn shape(&self, id: NodeId) -> crate::ir::Shape {
        self.g.node(id).shape.clone()
    }

    fn quantize(&self, layer: &LayerSpec, q: &Quantizer, w: &mut Weights) -> Result<(), KerasError> {
        let r = q.quantize(&w.values, w.shape.dims()).map_err(|e| self.quant_err(layer, e))?;
        w.values = r.values;
        w.ty = Some(r.ty);
        Ok(())
    }

    /// Matches stored tensors to the roles a layer expects: by name when the names are the
    /// expected ones, otherwise by position.
    fn take(
        &self,
        layer: &LayerSpec,
        stored: Vec<Named>,
        expected: &[&str],
    ) -> Result<Vec<super::hdf5::Tensor>, KerasError> {
        let listing = || {
            let names: Vec<String> = stored
                .iter()
                .enumerate()
                .map(|(i, n)| n.name.clone().unwrap_or_else(|| format!("#{i}")))
                .collect();
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        };
        if stored.len() != expected.len() {
            return Err(self.weights_err(
                layer,
                format!(
                    "expected {} tensors ({}), found {} ({})",
                    expected.len(),
                    expected.join(", "),
                    stored.len(),
                    listing()
                ),
            ));
        }
        let by_name = stored.iter().all(|n| n.name.as_deref().is_some_and(|s| expected.contains(&s)));
        if !by_name {
            return Ok(stored.into_iter().map(|n| n.tensor).collect());
        }
        let mut slots: Vec<Option<Named>> = stored.into_iter().map(Some).collect();
        let mut out = Vec::with_capacity(expected.len());
        for role in expected {
            let pos = slots.iter().position(|s| s.as_ref().and_then(|n| n.name.as_deref()) == Some(*role));
            match pos.and_then(|p| slots[p].take()) {
                Some(n) => out.push(n.tensor),
                None => {
                    return Err(self.weights_err(layer, format!("tensor '{role}' is missing or repeated")))
                }
            }
        }
        Ok(out)
    }
}
