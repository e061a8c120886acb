//! `Dense` and QKeras `QDense` become `Layer::Dense` on a flat input: the kernel `[n_in, n_out]`
//! (quantized by the kernel quantizer), the bias (quantized by the bias quantizer; zero without
//! `use_bias`), then the activation as its own node ([`super::activation`]). BinaryNet's
//! `BinaryDense` and `TernaryDense` (config key `H`, a number) binarize or ternarize their stored
//! kernel as that code does at inference ([`KernelRule`]): a Dense with constant ±H (or 0)
//! weights.

use super::activation::{keras_activation, qkeras_activation, Act};
use super::{Builder, Cfg, Plan as LayerPlan};
use crate::frontend::keras::config::{Generation, LayerSpec};
use crate::frontend::keras::quantizers::{KernelRule, Quantizer};
use crate::frontend::keras::weights::Named;
use crate::frontend::keras::KerasError;
use crate::ir::{Dense, Layer, NodeId, Shape, Weights};

#[derive(Debug, Clone, PartialEq)]
pub(in crate::frontend::keras) struct Plan {
    units: usize,
    use_bias: bool,
    kernel: Option<Quantizer>,
    kernel_rule: Option<KernelRule>,
    bias: Option<Quantizer>,
    act: Act,
}

fn units(c: &Cfg) -> Result<usize, String> {
    match c.int("units")? {
        Some(u) if u > 0 => usize::try_from(u).map_err(|_| format!("units={u} is too large")),
        Some(u) => Err(format!("units={u} is not positive")),
        None => Err("no units".into()),
    }
}

pub(super) fn plan(c: &Cfg, generation: Generation) -> Result<LayerPlan, String> {
    Ok(LayerPlan::Dense(Plan {
        units: units(c)?,
        use_bias: c.bool_or("use_bias", true)?,
        kernel: None,
        kernel_rule: None,
        bias: None,
        act: keras_activation(c.get("activation"), generation)?,
    }))
}

fn plan_binarynet(c: &Cfg, generation: Generation, rule: fn(f64) -> KernelRule) -> Result<LayerPlan, String> {
    let h = match c.get("H") {
        None => 1.0,
        Some(v) => match v.as_f64() {
            Some(h) if h.is_finite() && h > 0.0 => h,
            _ => return Err(format!("H={v} is not supported (a positive number is)")),
        },
    };
    Ok(LayerPlan::Dense(Plan {
        units: units(c)?,
        use_bias: c.bool_or("use_bias", true)?,
        kernel: None,
        kernel_rule: Some(rule(h)),
        bias: None,
        act: keras_activation(c.get("activation"), generation)?,
    }))
}

/// BinaryNet's `BinaryDense`.
pub(super) fn plan_binary(c: &Cfg, generation: Generation) -> Result<LayerPlan, String> {
    plan_binarynet(c, generation, |h| KernelRule::Binarize { h })
}

/// BinaryNet's `TernaryDense`.
pub(super) fn plan_ternary(c: &Cfg, generation: Generation) -> Result<LayerPlan, String> {
    plan_binarynet(c, generation, |h| KernelRule::Ternarize { h })
}

pub(super) fn plan_q(c: &Cfg, generation: Generation) -> Result<LayerPlan, String> {
    Ok(LayerPlan::Dense(Plan {
        units: units(c)?,
        use_bias: c.bool_or("use_bias", true)?,
        kernel: c.quantizer("kernel_quantizer")?.map(Quantizer::trainable),
        kernel_rule: None,
        bias: c.quantizer("bias_quantizer")?,
        act: qkeras_activation(c.get("activation"), generation)?,
    }))
}

pub(super) fn build(
    b: &mut Builder,
    layer: &LayerSpec,
    p: &Plan,
    stored: Vec<Named>,
    inputs: &[NodeId],
) -> Result<NodeId, KerasError> {
    let in_shape = b.shape(inputs[0]);
    let units = p.units;
    let [n_in] = in_shape.dims() else {
        return Err(b.layer_err(
            layer,
            format!("input shape {in_shape} is not flat (a Dense along the last axis is not supported)"),
        ));
    };
    let n_in = *n_in;
    let expected: &[&str] = if p.use_bias { &["kernel", "bias"] } else { &["kernel"] };
    let mut found = b.take(layer, stored, expected)?;
    let w = found.remove(0);
    if w.shape != [n_in, units] {
        return Err(b.weights_err(
            layer,
            format!("kernel has shape {:?}, the architecture needs [{n_in}, {units}]", w.shape),
        ));
    }
    let mut weights = Weights::new(Shape::new([n_in, units]), w.values);
    if let Some(q) = &p.kernel {
        b.quantize(layer, q, &mut weights)?;
    }
    if let Some(rule) = &p.kernel_rule {
        let r = rule.apply(&weights.values).map_err(|e| b.quant_err(layer, e))?;
        weights.values = r.values;
        weights.ty = Some(r.ty);
    }
    let mut bias = if p.use_bias {
        let t = found.remove(0);
        if t.shape != [units] {
            return Err(b.weights_err(
                layer,
                format!("bias has shape {:?}, the architecture needs [{units}]", t.shape),
            ));
        }
        Weights::new(Shape::new([units]), t.values)
    } else {
        Weights::new(Shape::new([units]), vec![0.0; units])
    };
    if let (Some(q), true) = (&p.bias, p.use_bias) {
        b.quantize(layer, q, &mut bias)?;
    }
    let dense = Layer::Dense(Dense { weights, bias, accum: None });
    let id = b.add(layer, layer.name.clone(), dense, inputs)?;
    if p.act == Act::Linear {
        return Ok(id);
    }
    let name = b.fresh(&format!("{}_{}", layer.name, p.act.suffix()));
    b.activation(layer, name, &p.act, id)
}
