//! Activation functions: the `Activation`, `QActivation`, `ReLU`, `LeakyReLU`, `PReLU`, `ELU` and
//! `ThresholdedReLU` layers, and the `activation` argument of other layers (a Dense's or a
//! convolution's activation becomes its own node named `<layer>_<activation>`). They become
//! `Layer::Activation`, `Layer::Softmax` or, for QKeras activation quantizers, `Layer::Quantize`
//! nodes whose type the model fixes.
//!
//! Functions: `linear` (no node after a Dense or a convolution), `relu`, `sigmoid` and `tanh`
//! (default tables), `softmax`, `hard_sigmoid` (Keras 2: `clip(0.2x + 0.5)`; Keras 3: `relu6(x +
//! 3) / 6`; QKeras' own inside QKeras layers: `clip(0.5x + 0.5)`), `hard_tanh` (`Clip{-1, 1}`),
//! `relu6`, `leaky_relu` (slope 0.2), `elu` (alpha 1; the `ELU` layer's `alpha`), `selu`,
//! `softplus`, `softsign` (default tables), `hard_swish` / `hard_silu` (Keras 3: `x * relu6(x + 3)
//! / 6`, `HardSwish{1/6, 1/2}`), `binary_tanh` and `ternary_tanh` (BinaryNet's, as in hls4ml's
//! binary and ternary test models; QKeras' `binary_tanh` is the same function: binary and ternary
//! steps, see [`quantizers`]). The `ThresholdedReLU` layer is `x > theta ? x : 0`; `PReLU` keeps
//! its stored slopes (`[..., channels]`, 1 on its shared axes) broadcast onto its input. QKeras
//! quantizers as activations: see [`quantizers`].

use serde_json::Value;

use super::{Builder, Cfg, Plan};
use crate::fixed::FixedType;
use crate::frontend::keras::config::{Generation, LayerSpec};
use crate::frontend::keras::quantizers::{self, ActQuant};
use crate::frontend::keras::weights::Named;
use crate::frontend::keras::KerasError;
use crate::ir::{
    Activation, Layer, NodeId, Quantize, Shape, Softmax, Step, StepInput, Table, Weights, SELU_SCALE,
};

/// An activation function as the IR will compute it.
#[derive(Debug, Clone, PartialEq)]
pub(in crate::frontend::keras) enum Act {
    Linear,
    Relu,
    LeakyRelu(f64),
    Clip(Option<f64>, Option<f64>),
    HardSigmoid { alpha: f64, beta: f64 },
    HardSwish { alpha: f64, beta: f64 },
    Elu(f64),
    Selu,
    Softplus,
    Softsign,
    ThresholdedRelu(f64),
    Sigmoid,
    Tanh,
    Softmax,
    Quant { class: &'static str, q: ActQuant },
}

impl Act {
    /// The suffix of the node an activation inside another layer becomes.
    pub(super) fn suffix(&self) -> &'static str {
        match self {
            Act::Linear => "linear",
            Act::Relu => "relu",
            Act::LeakyRelu(_) => "leaky_relu",
            Act::Clip(..) => "clip",
            Act::HardSigmoid { .. } => "hard_sigmoid",
            Act::HardSwish { .. } => "hard_swish",
            Act::Elu(_) => "elu",
            Act::Selu => "selu",
            Act::Softplus => "softplus",
            Act::Softsign => "softsign",
            Act::ThresholdedRelu(_) => "thresholded_relu",
            Act::Sigmoid => "sigmoid",
            Act::Tanh => "tanh",
            Act::Softmax => "softmax",
            Act::Quant { class, .. } => class,
        }
    }
}

pub(super) fn plan(c: &Cfg, generation: Generation) -> Result<Plan, String> {
    Ok(Plan::Activation(keras_activation(Some(c.get("activation").ok_or("no activation")?), generation)?))
}

pub(super) fn plan_q(c: &Cfg, generation: Generation) -> Result<Plan, String> {
    Ok(Plan::Activation(qkeras_activation(Some(c.get("activation").ok_or("no activation")?), generation)?))
}

pub(super) fn plan_relu(c: &Cfg, _: Generation) -> Result<Plan, String> {
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

pub(super) fn plan_leaky_relu(c: &Cfg, _: Generation) -> Result<Plan, String> {
    let slope = match (c.f64_opt("alpha")?, c.f64_opt("negative_slope")?) {
        (Some(a), _) | (None, Some(a)) => a,
        (None, None) => 0.3,
    };
    Ok(Plan::Activation(Act::LeakyRelu(slope)))
}

pub(super) fn plan_elu(c: &Cfg, _: Generation) -> Result<Plan, String> {
    Ok(Plan::Activation(Act::Elu(c.f64_opt("alpha")?.unwrap_or(1.0))))
}

pub(super) fn plan_thresholded_relu(c: &Cfg, _: Generation) -> Result<Plan, String> {
    Ok(Plan::Activation(Act::ThresholdedRelu(c.f64_opt("theta")?.unwrap_or(1.0))))
}

/// `PReLU`: its slopes are weights, read when the node is built.
pub(super) fn plan_prelu(_: &Cfg, _: Generation) -> Result<Plan, String> {
    Ok(Plan::PRelu)
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
pub(super) fn keras_activation(v: Option<&Value>, generation: Generation) -> Result<Act, String> {
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
        "elu" => Act::Elu(1.0),
        "selu" => Act::Selu,
        "softplus" => Act::Softplus,
        "softsign" => Act::Softsign,
        "hard_swish" | "hard_silu" => Act::HardSwish { alpha: 1.0 / 6.0, beta: 0.5 },
        // BinaryNet's activations (hls4ml's binary and ternary test models), see `quantizers`.
        "binary_tanh" => Act::Quant { class: "binary_tanh", q: ActQuant::Step(quantizers::binary_tanh()) },
        "ternary_tanh" => Act::Quant { class: "ternary_tanh", q: ActQuant::Step(quantizers::ternary_tanh()) },
        "hard_sigmoid" => match generation {
            Generation::Keras2 => Act::HardSigmoid { alpha: 0.2, beta: 0.5 },
            Generation::Keras3 => Act::HardSigmoid { alpha: 1.0 / 6.0, beta: 0.5 },
        },
        other => return Err(format!("activation '{other}' is not supported")),
    })
}

/// The activation of a QKeras layer: a quantizer, one of QKeras' own functions, or a Keras
/// activation (QKeras' `get_quantizer` looks names up in `qkeras.quantizers` first).
pub(super) fn qkeras_activation(v: Option<&Value>, generation: Generation) -> Result<Act, String> {
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
        "binary_tanh" => {
            Ok(Act::Quant { class: "binary_tanh", q: ActQuant::Step(quantizers::binary_tanh()) })
        }
        n @ ("binary_sigmoid" | "smooth_sigmoid" | "smooth_tanh") => {
            Err(format!("QKeras activation '{n}' is not supported"))
        }
        n if n.contains('(') => Err(format!("activation '{n}' is not supported")),
        _ => keras_activation(Some(v), generation),
    }
}

impl Builder<'_> {
    /// Adds the node(s) computing `act` on `input` for Keras layer `layer`; the last one is
    /// named `name`.
    pub(super) fn activation(
        &mut self,
        layer: &LayerSpec,
        name: String,
        act: &Act,
        input: NodeId,
    ) -> Result<NodeId, KerasError> {
        let scalar = Weights::scalar;
        let l = match act {
            Act::Linear => Layer::Activation(Activation::Linear),
            Act::Relu => Layer::Activation(Activation::Relu),
            Act::LeakyRelu(a) => Layer::Activation(Activation::LeakyRelu { alpha: scalar(*a) }),
            Act::Clip(lo, hi) => {
                Layer::Activation(Activation::Clip { min: lo.map(scalar), max: hi.map(scalar) })
            }
            Act::HardSigmoid { alpha, beta } => {
                Layer::Activation(Activation::HardSigmoid { alpha: scalar(*alpha), beta: scalar(*beta) })
            }
            Act::HardSwish { alpha, beta } => {
                Layer::Activation(Activation::HardSwish { alpha: scalar(*alpha), beta: scalar(*beta) })
            }
            Act::Elu(alpha) => Layer::Activation(Activation::Elu(Table::elu_default(*alpha))),
            Act::Selu => Layer::Activation(Activation::Selu {
                scale: scalar(SELU_SCALE),
                table: Table::selu_default(),
            }),
            Act::Softplus => Layer::Activation(Activation::Softplus(Table::softplus_default())),
            Act::Softsign => Layer::Activation(Activation::Softsign(Table::softsign_default())),
            Act::ThresholdedRelu(theta) => {
                Layer::Activation(Activation::ThresholdedRelu { theta: scalar(*theta) })
            }
            Act::Sigmoid => Layer::Activation(Activation::Sigmoid(Table::sigmoid_default())),
            Act::Tanh => Layer::Activation(Activation::Tanh(Table::tanh_default())),
            Act::Softmax => Layer::Softmax(Softmax::default_for(self.shape(input).channels())),
            Act::Quant { q: ActQuant::Cast(ty), .. } => return self.quantize_node(layer, name, *ty, input),
            Act::Quant { q: ActQuant::Leaky { clip_min, slope, ty }, .. } => {
                let clip_name = self.fresh(&format!("{name}_clip"));
                let clip = Layer::Activation(Activation::Clip { min: Some(scalar(*clip_min)), max: None });
                let clip = self.add(layer, clip_name, clip, &[input])?;
                let leaky_name = self.fresh(&format!("{name}_leaky_relu"));
                let leaky = Layer::Activation(Activation::LeakyRelu { alpha: scalar(*slope) });
                let leaky = self.add(layer, leaky_name, leaky, &[clip])?;
                return self.quantize_node(layer, name, *ty, leaky);
            }
            Act::Quant { q: ActQuant::Step(step), .. } => return self.step(layer, &name, step, input),
        };
        self.add(layer, name, l, &[input])
    }

    /// Adds the activation `act` that layer `layer` applies to its node `id`, as a node named
    /// `<layer>_<activation>`; returns `id` itself when the activation is linear.
    pub(super) fn then_activation(
        &mut self,
        layer: &LayerSpec,
        act: &Act,
        id: NodeId,
    ) -> Result<NodeId, KerasError> {
        if *act == Act::Linear {
            return Ok(id);
        }
        let name = self.fresh(&format!("{}_{}", layer.name, act.suffix()));
        self.activation(layer, name, act, id)
    }

    /// Adds the nodes of a binary or ternary step: `<name>_<suffix>` for the inner ones, `name`
    /// for the last.
    fn step(
        &mut self,
        layer: &LayerSpec,
        name: &str,
        step: &Step,
        input: NodeId,
    ) -> Result<NodeId, KerasError> {
        let nodes = step.nodes().map_err(|e| self.quant_err(layer, e))?;
        let mut ids: Vec<NodeId> = Vec::with_capacity(nodes.len());
        for (k, n) in nodes.iter().enumerate() {
            let node_name = if k + 1 == nodes.len() {
                name.to_string()
            } else {
                self.fresh(&format!("{name}_{}", n.suffix))
            };
            let inputs: Vec<NodeId> = n
                .inputs
                .iter()
                .map(|i| match i {
                    StepInput::X => input,
                    StepInput::Node(j) => ids[*j],
                })
                .collect();
            let id = self.add(layer, node_name, n.layer.clone(), &inputs)?;
            if let Some(ty) = n.ty {
                let node = self.g.node_mut(id);
                node.ty = Some(ty);
                node.ty_from_model = true;
            }
            ids.push(id);
        }
        ids.last().copied().ok_or_else(|| self.quant_err(layer, "empty step chain".to_string()))
    }

    fn quantize_node(
        &mut self,
        layer: &LayerSpec,
        name: String,
        ty: FixedType,
        input: NodeId,
    ) -> Result<NodeId, KerasError> {
        let id = self.add(layer, name, Layer::Quantize(Quantize), &[input])?;
        let node = self.g.node_mut(id);
        node.ty = Some(ty);
        node.ty_from_model = true;
        Ok(id)
    }
}

/// `PReLU`: `Activation::PRelu` with the stored slopes `alpha`, whose shape is the input's with 1 on
/// every shared axis.
pub(super) fn build_prelu(
    b: &mut Builder,
    layer: &LayerSpec,
    stored: Vec<Named>,
    inputs: &[NodeId],
) -> Result<NodeId, KerasError> {
    let x = b.shape(inputs[0]);
    let alpha = b.take(layer, stored, &["alpha"])?.remove(0);
    let fits =
        alpha.shape.len() == x.rank() && alpha.shape.iter().zip(x.dims()).all(|(&a, &d)| a == d || a == 1);
    if !fits {
        return Err(b.weights_err(
            layer,
            format!("alpha has shape {:?}, which does not broadcast onto the input {x}", alpha.shape),
        ));
    }
    let alpha = Weights::new(Shape::new(alpha.shape), alpha.values);
    b.add(layer, layer.name.clone(), Layer::Activation(Activation::PRelu { alpha }), inputs)
}
