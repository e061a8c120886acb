//! `BatchNormalization` and QKeras `QBatchNormalization` become `Layer::BatchNorm` over the last
//! (channel) axis: `scale = gamma / sqrt(var + eps)`, `bias = beta - mean * scale`, computed from
//! the stored (and, for QKeras, quantized) parameters; absent `gamma`/`beta` are 1 and 0.

use std::collections::BTreeMap;

use super::{Builder, Cfg, Plan as LayerPlan};
use crate::frontend::keras::config::{Generation, LayerSpec};
use crate::frontend::keras::quantizers::{self, Quantizer};
use crate::frontend::keras::weights::Named;
use crate::frontend::keras::KerasError;
use crate::ir::{BatchNorm, Layer, NodeId, Shape, Weights};

#[derive(Debug, Clone, PartialEq)]
pub(in crate::frontend::keras) struct Plan {
    axis: i64,
    epsilon: f64,
    center: bool,
    scale: bool,
    /// Quantizers of gamma, beta, mean and variance.
    quant: Box<[Option<Quantizer>; 4]>,
}

fn plan_with(c: &Cfg, quant: [Option<Quantizer>; 4]) -> Result<LayerPlan, String> {
    let epsilon = c.f64_opt("epsilon")?.unwrap_or(1e-3);
    if epsilon < 0.0 {
        return Err(format!("epsilon={epsilon} is negative"));
    }
    Ok(LayerPlan::BatchNorm(Plan {
        axis: c.axis("axis")?,
        epsilon,
        center: c.bool_or("center", true)?,
        scale: c.bool_or("scale", true)?,
        quant: Box::new(quant),
    }))
}

pub(super) fn plan(c: &Cfg, _: Generation) -> Result<LayerPlan, String> {
    plan_with(c, [None, None, None, None])
}

pub(super) fn plan_q(c: &Cfg, _: Generation) -> Result<LayerPlan, String> {
    // QKeras' constructor defaults, used when the config leaves a quantizer out.
    let q = |key: &str, default: &str| -> Result<Option<Quantizer>, String> {
        match c.config.get(key) {
            None => quantizers::parse_call(default).map(Some),
            Some(_) => c.quantizer(key),
        }
    };
    let gamma = q("gamma_quantizer", "quantized_relu_po2(6, 2048)")?.map(Quantizer::trainable);
    let beta = q("beta_quantizer", "quantized_po2(5)")?;
    let mean = q("mean_quantizer", "quantized_po2(5)")?;
    let variance = q("variance_quantizer", "quantized_relu_po2(6, quadratic_approximation=True)")?
        .map(Quantizer::trainable);
    plan_with(c, [gamma, beta, mean, variance])
}

pub(super) fn build(
    b: &mut Builder,
    layer: &LayerSpec,
    p: &Plan,
    stored: Vec<Named>,
    inputs: &[NodeId],
) -> Result<NodeId, KerasError> {
    let in_shape = b.shape(inputs[0]);
    let rank = in_shape.rank() as i64;
    if p.axis != -1 && p.axis != rank {
        return Err(b.layer_err(layer, format!("axis {} is not the last (channel) axis", p.axis)));
    }
    let c = in_shape.channels();
    let mut expected = Vec::new();
    if p.scale {
        expected.push("gamma");
    }
    if p.center {
        expected.push("beta");
    }
    expected.extend(["moving_mean", "moving_variance"]);
    let found = b.take(layer, stored, &expected)?;
    let mut params: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for (role, t) in expected.iter().zip(found) {
        if t.shape != [c] {
            return Err(
                b.weights_err(layer, format!("{role} has shape {:?}, the input has {c} channels", t.shape))
            );
        }
        let index =
            ["gamma", "beta", "moving_mean", "moving_variance"].iter().position(|r| r == role).unwrap_or(0);
        let values = match &p.quant[index] {
            Some(q) => q.quantize(&t.values, &t.shape).map_err(|e| b.quant_err(layer, e))?.values,
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
    let mut bias = Vec::with_capacity(c);
    for i in 0..c {
        let si = gamma[i] / (var[i] + p.epsilon).sqrt();
        s.push(si);
        bias.push(beta[i] - mean[i] * si);
    }
    if let Some(pos) = s.iter().chain(&bias).position(|v| !v.is_finite()) {
        return Err(b.weights_err(
            layer,
            format!("channel {} gives a non-finite scale or bias (variance + epsilon <= 0?)", pos % c),
        ));
    }
    let bn = Layer::BatchNorm(BatchNorm {
        scale: Weights::new(Shape::new([c]), s),
        bias: Weights::new(Shape::new([c]), bias),
    });
    b.add(layer, layer.name.clone(), bn, inputs)
}
