//! The Keras layer table (one entry per supported `class_name`) and the building of IR nodes.
//!
//! Import runs in two steps. [`plan`] reads each layer's config through its table entry, without
//! weights or shapes; every layer whose class is unknown or whose options cannot be represented is
//! collected, so one error lists them all. [`Builder::build`] then creates the nodes in order, reading each
//! layer's weights, checking them against the architecture and inferring shapes (no batch axis).
//!
//! Mapping (Keras arithmetic on the left, IR on the right):
//!
//! | class | IR |
//! |---|---|
//! | `InputLayer` | `Input` |
//! | `Dense`, `QDense` | `Dense` (kernel `[n_in, n_out]`, zero bias without `use_bias`), then the activation as its own node |
//! | `Activation`, `QActivation` | the activation: `Activation`, `Softmax` or `Quantize` |
//! | `ReLU` | `Relu`, `LeakyRelu` (`negative_slope`) or `Clip{0, max_value}` |
//! | `LeakyReLU` | `LeakyRelu` (`alpha` / `negative_slope`) |
//! | `Softmax` | `Softmax` over the last axis |
//! | `BatchNormalization`, `QBatchNormalization` | `BatchNorm` with `scale = gamma / sqrt(var + eps)`, `bias = beta - mean * scale` |
//! | `Dropout` and the other inference-time identities | removed |
//! | `Flatten`, `Reshape` | `Reshape` |
//! | `Add`, `Subtract`, `Multiply` (two inputs) | `Elementwise` |
//!
//! Activation functions: `linear` (no node after a Dense), `relu`, `sigmoid` and `tanh` (default
//! tables), `softmax`, `hard_sigmoid` (Keras 2: `clip(0.2x + 0.5)`; Keras 3: `relu6(x + 3) / 6`;
//! QKeras' own inside QKeras layers: `clip(0.5x + 0.5)`), `hard_tanh` (`Clip{-1, 1}`), `relu6`,
//! `leaky_relu` (slope 0.2). QKeras activation quantizers become `Quantize` nodes whose type the
//! model fixes (see [`quantizers`]).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::config::{Generation, LayerSpec, ModelSpec};
use super::quantizers::{self, ActQuant, Quantizer};
use super::weights::{Named, WeightFile};
use super::{KerasError, Rejected};
use crate::fixed::FixedType;
use crate::ir::{
    Activation, BatchNorm, BinaryOp, Dense, Elementwise, Graph, Layer, Node, NodeId, Shape, Softmax, Table,
    Weights,
};

/// An activation function as the IR will compute it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Act {
    Linear,
    Relu,
    LeakyRelu(f64),
    Clip(Option<f64>, Option<f64>),
    HardSigmoid { alpha: f64, beta: f64 },
    Sigmoid,
    Tanh,
    Softmax,
    Quant { class: &'static str, q: ActQuant },
}

impl Act {
    /// The suffix of the node an activation inside another layer becomes.
    fn suffix(&self) -> &'static str {
        match self {
            Act::Linear => "linear",
            Act::Relu => "relu",
            Act::LeakyRelu(_) => "leaky_relu",
            Act::Clip(..) => "clip",
            Act::HardSigmoid { .. } => "hard_sigmoid",
            Act::Sigmoid => "sigmoid",
            Act::Tanh => "tanh",
            Act::Softmax => "softmax",
            Act::Quant { class, .. } => class,
        }
    }
}

/// What a layer becomes, read from its config alone.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Plan {
    Input { shape: Vec<usize> },
    Dense { units: usize, use_bias: bool, kernel: Option<Quantizer>, bias: Option<Quantizer>, act: Act },
    BatchNorm { axis: i64, epsilon: f64, center: bool, scale: bool, quant: Box<[Option<Quantizer>; 4]> },
    Activation(Act),
    Softmax { axis: i64 },
    Identity,
    Flatten { channels_first: bool },
    Reshape { target: Vec<i64> },
    Merge(BinaryOp),
}

type Planner = fn(&Cfg, Generation) -> Result<Plan, String>;

/// One supported layer class: how many inputs it takes and how its config is read.
struct Entry {
    class: &'static str,
    inputs: usize,
    plan: Planner,
}

/// The layer table.
const TABLE: &[Entry] = &[
    Entry { class: "InputLayer", inputs: 0, plan: input },
    Entry { class: "Dense", inputs: 1, plan: dense },
    Entry { class: "QDense", inputs: 1, plan: qdense },
    Entry { class: "Activation", inputs: 1, plan: activation },
    Entry { class: "QActivation", inputs: 1, plan: qactivation },
    Entry { class: "ReLU", inputs: 1, plan: relu },
    Entry { class: "LeakyReLU", inputs: 1, plan: leaky_relu },
    Entry { class: "Softmax", inputs: 1, plan: softmax },
    Entry { class: "BatchNormalization", inputs: 1, plan: batch_norm },
    Entry { class: "QBatchNormalization", inputs: 1, plan: qbatch_norm },
    Entry { class: "Dropout", inputs: 1, plan: identity },
    Entry { class: "SpatialDropout1D", inputs: 1, plan: identity },
    Entry { class: "SpatialDropout2D", inputs: 1, plan: identity },
    Entry { class: "SpatialDropout3D", inputs: 1, plan: identity },
    Entry { class: "AlphaDropout", inputs: 1, plan: identity },
    Entry { class: "GaussianDropout", inputs: 1, plan: identity },
    Entry { class: "GaussianNoise", inputs: 1, plan: identity },
    Entry { class: "ActivityRegularization", inputs: 1, plan: identity },
    Entry { class: "Flatten", inputs: 1, plan: flatten },
    Entry { class: "Reshape", inputs: 1, plan: reshape },
    Entry { class: "Add", inputs: 2, plan: add },
    Entry { class: "Subtract", inputs: 2, plan: subtract },
    Entry { class: "Multiply", inputs: 2, plan: multiply },
];

/// A layer config with typed accessors whose errors name the key.
struct Cfg<'a>(&'a Map<String, Value>);

impl Cfg<'_> {
    fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|v| !v.is_null())
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

    /// An axis given as an integer or a one-element list.
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

    fn quantizer(&self, key: &str) -> Result<Option<Quantizer>, String> {
        match self.0.get(key) {
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
        if layer.inputs.len() != entry.inputs {
            rejected.push(reject(format!("takes {} inputs, has {}", entry.inputs, layer.inputs.len())));
            continue;
        }
        match (entry.plan)(&Cfg(&layer.config), model.generation) {
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

fn input(c: &Cfg, _: Generation) -> Result<Plan, String> {
    let (dims, batch) = match ["batch_input_shape", "batch_shape"].iter().find_map(|k| c.get(k)) {
        Some(v) => (v, true),
        None => (c.get("shape").or_else(|| c.get("input_shape")).ok_or("no input shape")?, false),
    };
    let dims = dims.as_array().ok_or_else(|| format!("input shape {dims} is not a list"))?;
    let dims = if batch { dims.get(1..).unwrap_or(&[]) } else { &dims[..] };
    let mut shape = Vec::with_capacity(dims.len());
    for d in dims {
        match d.as_u64() {
            Some(n) if n > 0 => {
                shape.push(usize::try_from(n).map_err(|_| format!("dimension {n} is too large"))?)
            }
            _ => return Err(format!("input dimension {d} is not a fixed positive size")),
        }
    }
    if shape.is_empty() {
        return Err("the input has no dimensions besides the batch".into());
    }
    Ok(Plan::Input { shape })
}

fn units(c: &Cfg) -> Result<usize, String> {
    match c.int("units")? {
        Some(u) if u > 0 => usize::try_from(u).map_err(|_| format!("units={u} is too large")),
        Some(u) => Err(format!("units={u} is not positive")),
        None => Err("no units".into()),
    }
}

fn dense(c: &Cfg, generation: Generation) -> Result<Plan, String> {
    Ok(Plan::Dense {
        units: units(c)?,
        use_bias: c.bool_or("use_bias", true)?,
        kernel: None,
        bias: None,
        act: keras_activation(c.get("activation"), generation)?,
    })
}

fn qdense(c: &Cfg, generation: Generation) -> Result<Plan, String> {
    Ok(Plan::Dense {
        units: units(c)?,
        use_bias: c.bool_or("use_bias", true)?,
        kernel: c.quantizer("kernel_quantizer")?.map(Quantizer::trainable),
        bias: c.quantizer("bias_quantizer")?,
        act: qkeras_activation(c.get("activation"), generation)?,
    })
}

fn activation(c: &Cfg, generation: Generation) -> Result<Plan, String> {
    Ok(Plan::Activation(keras_activation(Some(c.get("activation").ok_or("no activation")?), generation)?))
}

fn qactivation(c: &Cfg, generation: Generation) -> Result<Plan, String> {
    Ok(Plan::Activation(qkeras_activation(Some(c.get("activation").ok_or("no activation")?), generation)?))
}

fn relu(c: &Cfg, _: Generation) -> Result<Plan, String> {
    let max = c.f64_opt("max_value")?;
    let slope = c.f64_opt("negative_slope")?.unwrap_or(0.0);
    let threshold = c.f64_opt("threshold")?.unwrap_or(0.0);
    if threshold != 0.0 {
        return Err(format!("threshold={threshold} is not supported"));
    }
    Ok(Plan::Activation(match max {
        None if slope == 0.0 => Act::Relu,
        None => Act::LeakyRelu(slope),
        Some(m) if slope == 0.0 && m >= 0.0 => Act::Clip(Some(0.0), Some(m)),
        Some(m) => {
            return Err(format!("max_value={m} with negative_slope={slope} has no single IR activation"))
        }
    }))
}

fn leaky_relu(c: &Cfg, _: Generation) -> Result<Plan, String> {
    let slope = match (c.f64_opt("alpha")?, c.f64_opt("negative_slope")?) {
        (Some(a), _) | (None, Some(a)) => a,
        (None, None) => 0.3,
    };
    Ok(Plan::Activation(Act::LeakyRelu(slope)))
}

fn softmax(c: &Cfg, _: Generation) -> Result<Plan, String> {
    Ok(Plan::Softmax { axis: c.axis("axis")? })
}

fn batch_norm_common(c: &Cfg, quant: [Option<Quantizer>; 4]) -> Result<Plan, String> {
    let epsilon = c.f64_opt("epsilon")?.unwrap_or(1e-3);
    if epsilon < 0.0 {
        return Err(format!("epsilon={epsilon} is negative"));
    }
    Ok(Plan::BatchNorm {
        axis: c.axis("axis")?,
        epsilon,
        center: c.bool_or("center", true)?,
        scale: c.bool_or("scale", true)?,
        quant: Box::new(quant),
    })
}

fn batch_norm(c: &Cfg, _: Generation) -> Result<Plan, String> {
    batch_norm_common(c, [None, None, None, None])
}

fn qbatch_norm(c: &Cfg, _: Generation) -> Result<Plan, String> {
    // QKeras' constructor defaults, used when the config leaves a quantizer out.
    let q = |key: &str, default: &str| -> Result<Option<Quantizer>, String> {
        match c.0.get(key) {
            None => quantizers::parse_call(default).map(Some),
            Some(_) => c.quantizer(key),
        }
    };
    let gamma = q("gamma_quantizer", "quantized_relu_po2(6, 2048)")?.map(Quantizer::trainable);
    let beta = q("beta_quantizer", "quantized_po2(5)")?;
    let mean = q("mean_quantizer", "quantized_po2(5)")?;
    let variance = q("variance_quantizer", "quantized_relu_po2(6, quadratic_approximation=True)")?
        .map(Quantizer::trainable);
    batch_norm_common(c, [gamma, beta, mean, variance])
}

fn identity(_: &Cfg, _: Generation) -> Result<Plan, String> {
    Ok(Plan::Identity)
}

fn flatten(c: &Cfg, _: Generation) -> Result<Plan, String> {
    Ok(Plan::Flatten {
        channels_first: c.get("data_format").and_then(Value::as_str) == Some("channels_first"),
    })
}

fn reshape(c: &Cfg, _: Generation) -> Result<Plan, String> {
    let target = c.get("target_shape").and_then(Value::as_array).ok_or("no target_shape")?;
    let target = target
        .iter()
        .map(|d| {
            d.as_i64().filter(|&n| n > 0 || n == -1).ok_or_else(|| format!("target dimension {d} is invalid"))
        })
        .collect::<Result<Vec<i64>, String>>()?;
    if target.iter().filter(|&&d| d == -1).count() > 1 {
        return Err("target_shape has more than one -1".into());
    }
    Ok(Plan::Reshape { target })
}

fn add(_: &Cfg, _: Generation) -> Result<Plan, String> {
    Ok(Plan::Merge(BinaryOp::Add))
}

fn subtract(_: &Cfg, _: Generation) -> Result<Plan, String> {
    Ok(Plan::Merge(BinaryOp::Sub))
}

fn multiply(_: &Cfg, _: Generation) -> Result<Plan, String> {
    Ok(Plan::Merge(BinaryOp::Mul))
}

/// The name of an activation given as a string or a Keras 3 function object.
fn activation_name(v: &Value) -> Result<&str, String> {
    match v {
        Value::String(s) => Ok(s),
        Value::Object(o) => o
            .get("config")
            .and_then(Value::as_str)
            .or_else(|| o.get("class_name").and_then(Value::as_str))
            .ok_or_else(|| format!("activation {v} is not understood")),
        _ => Err(format!("activation {v} is not understood")),
    }
}

/// A Keras activation function by name (`keras.activations.get`).
fn keras_activation(v: Option<&Value>, generation: Generation) -> Result<Act, String> {
    let Some(v) = v else { return Ok(Act::Linear) };
    let name = activation_name(v)?;
    Ok(match name {
        "linear" => Act::Linear,
        "relu" => Act::Relu,
        "sigmoid" => Act::Sigmoid,
        "tanh" => Act::Tanh,
        "softmax" => Act::Softmax,
        "relu6" => Act::Clip(Some(0.0), Some(6.0)),
        "hard_tanh" => Act::Clip(Some(-1.0), Some(1.0)),
        "leaky_relu" => Act::LeakyRelu(0.2),
        "hard_sigmoid" => match generation {
            Generation::Keras2 => Act::HardSigmoid { alpha: 0.2, beta: 0.5 },
            Generation::Keras3 => Act::HardSigmoid { alpha: 1.0 / 6.0, beta: 0.5 },
        },
        other => return Err(format!("activation '{other}' is not supported")),
    })
}

/// The activation of a QKeras layer: a quantizer, one of QKeras' own functions, or a Keras
/// activation (QKeras' `get_quantizer` looks names up in `qkeras.quantizers` first).
fn qkeras_activation(v: Option<&Value>, generation: Generation) -> Result<Act, String> {
    let Some(v) = v else { return Ok(Act::Linear) };
    let is_quantizer = match v {
        Value::String(s) => quantizers::is_quantizer_class(s.split('(').next().unwrap_or("").trim()),
        Value::Object(o) => {
            o.get("class_name").and_then(Value::as_str).map(quantizers::is_quantizer_class).unwrap_or(false)
        }
        _ => false,
    };
    if is_quantizer {
        let q = quantizers::parse(v)?.ok_or("no activation quantizer")?;
        let aq = q.activation()?;
        return Ok(Act::Quant { class: q.class(), q: aq });
    }
    let name = activation_name(v)?;
    match name.trim() {
        "hard_sigmoid" => Ok(Act::HardSigmoid { alpha: 0.5, beta: 0.5 }),
        "hard_tanh" => Ok(Act::Clip(Some(-1.0), Some(1.0))),
        n @ ("binary_tanh" | "binary_sigmoid" | "smooth_sigmoid" | "smooth_tanh") => {
            Err(format!("QKeras activation '{n}' is not supported"))
        }
        n if n.contains('(') => Err(format!("activation '{n}' is not supported")),
        _ => keras_activation(Some(v), generation),
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

    pub fn build(mut self, plans: &[Plan]) -> Result<Graph, KerasError> {
        for (layer, plan) in self.model.layers.iter().zip(plans) {
            let out = self.layer(layer, plan)?;
            self.outputs.insert(layer.name.clone(), out);
        }
        let out = self.outputs.get(&self.model.output).copied().ok_or_else(|| KerasError::Config {
            path: self.model_path.to_path_buf(),
            what: format!("the model output '{}' was not built", self.model.output),
        })?;
        self.g.set_outputs(vec![out]);
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

    fn add(&mut self, name: String, layer: Layer, shape: Shape, inputs: &[NodeId]) -> NodeId {
        self.g.add_node(Node::new(name, layer, shape), inputs)
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
        let in_shape = inputs.first().map(|&i| self.g.node(i).shape.clone()).unwrap_or_default();
        let stored = self.weights.layer(&layer.name)?;
        if !matches!(plan, Plan::Dense { .. } | Plan::BatchNorm { .. }) && !stored.is_empty() {
            return Err(self
                .weights_err(layer, format!("{} weight tensors for a layer that takes none", stored.len())));
        }
        match plan {
            Plan::Input { shape } => {
                Ok(self.add(layer.name.clone(), Layer::Input, Shape::new(shape.clone()), &[]))
            }
            Plan::Dense { units, use_bias, kernel, bias, act } => {
                let [n_in] = in_shape.dims() else {
                    return Err(self.layer_err(
                        layer,
                        format!("input shape {in_shape} is not flat (a Dense along the last axis is not supported)"),
                    ));
                };
                let n_in = *n_in;
                let expected: &[&str] = if *use_bias { &["kernel", "bias"] } else { &["kernel"] };
                let mut found = self.take(layer, stored, expected)?;
                let w = found.remove(0);
                if w.shape != [n_in, *units] {
                    return Err(self.weights_err(
                        layer,
                        format!("kernel has shape {:?}, the architecture needs [{n_in}, {units}]", w.shape),
                    ));
                }
                let mut weights = Weights::new(Shape::new([n_in, *units]), w.values);
                if let Some(q) = kernel {
                    self.quantize(layer, q, &mut weights)?;
                }
                let mut bias_w = if *use_bias {
                    let b = found.remove(0);
                    if b.shape != [*units] {
                        return Err(self.weights_err(
                            layer,
                            format!("bias has shape {:?}, the architecture needs [{units}]", b.shape),
                        ));
                    }
                    Weights::new(Shape::new([*units]), b.values)
                } else {
                    Weights::new(Shape::new([*units]), vec![0.0; *units])
                };
                if let (Some(q), true) = (bias, *use_bias) {
                    self.quantize(layer, q, &mut bias_w)?;
                }
                let dense = Layer::Dense(Dense { weights, bias: bias_w, accum: None });
                let id = self.add(layer.name.clone(), dense, Shape::new([*units]), &inputs);
                if *act == Act::Linear {
                    return Ok(id);
                }
                let name = self.fresh(&format!("{}_{}", layer.name, act.suffix()));
                Ok(self.activation(name, act, id))
            }
            Plan::BatchNorm { axis, epsilon, center, scale, quant } => {
                let rank = in_shape.rank() as i64;
                if *axis != -1 && *axis != rank {
                    return Err(self.layer_err(layer, format!("axis {axis} is not the last (channel) axis")));
                }
                let c = in_shape.channels();
                let mut expected = Vec::new();
                if *scale {
                    expected.push("gamma");
                }
                if *center {
                    expected.push("beta");
                }
                expected.extend(["moving_mean", "moving_variance"]);
                let found = self.take(layer, stored, &expected)?;
                let mut params: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
                for (role, t) in expected.iter().zip(found) {
                    if t.shape != [c] {
                        return Err(self.weights_err(
                            layer,
                            format!("{role} has shape {:?}, the input has {c} channels", t.shape),
                        ));
                    }
                    let index = ["gamma", "beta", "moving_mean", "moving_variance"]
                        .iter()
                        .position(|r| r == role)
                        .unwrap_or(0);
                    let values = match &quant[index] {
                        Some(q) => {
                            q.quantize(&t.values, &t.shape).map_err(|e| self.quant_err(layer, e))?.values
                        }
                        None => t.values,
                    };
                    params.insert(role, values);
                }
                let ones = vec![1.0; c];
                let zeros = vec![0.0; c];
                let gamma = params.get("gamma").unwrap_or(&ones);
                let beta = params.get("beta").unwrap_or(&zeros);
                let mean = params.get("moving_mean").unwrap_or(&zeros);
                let var = params.get("moving_variance").unwrap_or(&ones);
                let mut s = Vec::with_capacity(c);
                let mut b = Vec::with_capacity(c);
                for i in 0..c {
                    let si = gamma[i] / (var[i] + epsilon).sqrt();
                    s.push(si);
                    b.push(beta[i] - mean[i] * si);
                }
                if let Some(pos) = s.iter().chain(&b).position(|v| !v.is_finite()) {
                    return Err(self.weights_err(
                        layer,
                        format!(
                            "channel {} gives a non-finite scale or bias (variance + epsilon <= 0?)",
                            pos % c
                        ),
                    ));
                }
                let bn = Layer::BatchNorm(BatchNorm {
                    scale: Weights::new(Shape::new([c]), s),
                    bias: Weights::new(Shape::new([c]), b),
                });
                Ok(self.add(layer.name.clone(), bn, in_shape, &inputs))
            }
            Plan::Activation(act) => Ok(self.activation(layer.name.clone(), act, inputs[0])),
            Plan::Softmax { axis } => {
                let rank = in_shape.rank() as i64;
                if *axis != -1 && *axis != rank {
                    return Err(self.layer_err(
                        layer,
                        format!("softmax over axis {axis} (not the last) is not supported"),
                    ));
                }
                Ok(self.activation(layer.name.clone(), &Act::Softmax, inputs[0]))
            }
            Plan::Identity => Ok(inputs[0]),
            Plan::Flatten { channels_first } => {
                if *channels_first && in_shape.rank() > 1 {
                    return Err(self.layer_err(layer, "channels_first flattening is not supported"));
                }
                let out = Shape::new([in_shape.elements()]);
                Ok(self.add(layer.name.clone(), Layer::Reshape, out, &inputs))
            }
            Plan::Reshape { target } => {
                let known =
                    target.iter().filter(|&&d| d > 0).fold(1usize, |a, &d| a.saturating_mul(d as usize));
                let total = in_shape.elements();
                let dims: Vec<usize> = if target.contains(&-1) {
                    if known == 0 || total % known != 0 {
                        return Err(self.layer_err(layer, format!("cannot reshape {in_shape} to {target:?}")));
                    }
                    target.iter().map(|&d| if d == -1 { total / known } else { d as usize }).collect()
                } else {
                    target.iter().map(|&d| d as usize).collect()
                };
                let out = Shape::new(dims);
                if out.elements() != total {
                    return Err(self.layer_err(layer, format!("cannot reshape {in_shape} to {out}")));
                }
                Ok(self.add(layer.name.clone(), Layer::Reshape, out, &inputs))
            }
            Plan::Merge(op) => {
                let other = self.g.node(inputs[1]).shape.clone();
                if other != in_shape {
                    return Err(
                        self.layer_err(layer, format!("operand shapes {in_shape} and {other} differ"))
                    );
                }
                let layer_ir = Layer::Elementwise(Elementwise { op: *op, constant: None });
                Ok(self.add(layer.name.clone(), layer_ir, in_shape, &inputs))
            }
        }
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

    /// Adds the node(s) computing `act` on `input`; the last one is named `name`.
    fn activation(&mut self, name: String, act: &Act, input: NodeId) -> NodeId {
        let shape = self.g.node(input).shape.clone();
        let scalar = Weights::scalar;
        let layer = match act {
            Act::Linear => Layer::Activation(Activation::Linear),
            Act::Relu => Layer::Activation(Activation::Relu),
            Act::LeakyRelu(a) => Layer::Activation(Activation::LeakyRelu { alpha: scalar(*a) }),
            Act::Clip(lo, hi) => {
                Layer::Activation(Activation::Clip { min: lo.map(scalar), max: hi.map(scalar) })
            }
            Act::HardSigmoid { alpha, beta } => {
                Layer::Activation(Activation::HardSigmoid { alpha: scalar(*alpha), beta: scalar(*beta) })
            }
            Act::Sigmoid => Layer::Activation(Activation::Sigmoid(Table::sigmoid_default())),
            Act::Tanh => Layer::Activation(Activation::Tanh(Table::tanh_default())),
            Act::Softmax => Layer::Softmax(Softmax::default_for(shape.channels())),
            Act::Quant { q: ActQuant::Cast(ty), .. } => return self.quantize_node(name, *ty, shape, input),
            Act::Quant { q: ActQuant::Leaky { clip_min, slope, ty }, .. } => {
                let clip_name = self.fresh(&format!("{name}_clip"));
                let clip = Layer::Activation(Activation::Clip { min: Some(scalar(*clip_min)), max: None });
                let clip = self.add(clip_name, clip, shape.clone(), &[input]);
                let leaky_name = self.fresh(&format!("{name}_leaky_relu"));
                let leaky = Layer::Activation(Activation::LeakyRelu { alpha: scalar(*slope) });
                let leaky = self.add(leaky_name, leaky, shape.clone(), &[clip]);
                return self.quantize_node(name, *ty, shape, leaky);
            }
        };
        self.add(name, layer, shape, &[input])
    }

    fn quantize_node(&mut self, name: String, ty: FixedType, shape: Shape, input: NodeId) -> NodeId {
        let mut node = Node::new(name, Layer::Quantize, shape);
        node.ty = Some(ty);
        node.ty_from_model = true;
        self.g.add_node(node, &[input])
    }
}
