//! QKeras quantizers with the semantics of QKeras 0.9.0 (`qkeras/quantizers.py`, the PyPI release
//! of July 2021), parsed from a layer config (a `{"class_name", "config"}` dict or a
//! `"quantized_bits(6,0,alpha=1)"` string).
//!
//! Two uses:
//!
//! * [`Quantizer::quantize`] applies a quantizer to a constant (kernel, bias, batch-norm
//!   parameters) exactly as QKeras' forward pass does, in `f32`, including the straight-through
//!   form `x + (-x + xq)` it returns, and gives the fixed-point type that holds every result
//!   exactly. For quantizers whose value set the config fixes (`quantized_bits` with a constant
//!   scale, `binary`, `ternary`, `quantized_relu` without slope) that is the type of the value set,
//!   e.g. `quantized_bits(6,0)` gives `ap_fixed<6,1>` (QKeras' `integer` excludes the sign bit);
//!   where the values depend on the data (`alpha="auto_po2"` scales, power-of-two quantizers) it is
//!   the narrowest type holding the values produced.
//! * [`Quantizer::activation`] gives the fixed-point cast that reproduces a quantizer applied to
//!   activations: `tf.round` rounds half to even (`AP_RND_CONV`), the clip saturates (`AP_SAT`,
//!   `AP_SAT_SYM` when symmetric).
//!
//! Anything QKeras computes that no exact fixed-point form reproduces (non-power-of-two `auto`
//! scales, stochastic rounding, `qnoise_factor` below 1, `use_sigmoid`, other quantizer classes)
//! is an error naming the quantizer. Two approximations of TensorFlow's float32 kernels remain and
//! matter only at exact ties: `log` is the platform `logf` rather than Eigen's, and means are summed
//! in index order.

mod arith;
mod binarynet;
mod parse;

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::fixed::{FixedType, OverflowMode, QuantMode};
use crate::ir::{declared_type, narrowest_type, Cmp, Representable, Step, Threshold};
use arith::*;
pub(super) use binarynet::{binary_tanh, ternary_tanh, KernelRule};
use parse::{format_text, params, unsupported_class, Args};
pub(super) use parse::{is_quantizer_class, parse, parse_call};

/// `K.epsilon()`.
const EPSILON: f32 = 1e-7;

/// The per-channel scale of a quantizer (`alpha`).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Alpha {
    /// `None`.
    Default,
    /// A number (one value) or an array (one value per channel, last axis).
    Scale(Vec<f32>),
    Auto,
    AutoPo2,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Kind {
    Bits {
        bits: i32,
        integer: i32,
        symmetric: bool,
        keep_negative: bool,
        alpha: Alpha,
        scale_axis: Option<i64>,
    },
    Relu {
        bits: i32,
        integer: i32,
        use_sigmoid: bool,
        negative_slope: f64,
        upper_bound: Option<f64>,
        quantized_clip: bool,
    },
    Binary {
        use_01: bool,
        alpha: Alpha,
    },
    Ternary {
        alpha: Alpha,
        threshold: Option<f64>,
        unrolls: u32,
    },
    Po2 {
        bits: i32,
        max_value: Option<f64>,
        quadratic: bool,
        floor: bool,
    },
    ReluPo2 {
        bits: i32,
        max_value: Option<f64>,
        negative_slope: f64,
        quadratic: bool,
        floor: bool,
    },
}

/// A parsed quantizer and the text that names it in messages.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Quantizer {
    pub kind: Kind,
    pub text: String,
}

/// A quantized constant and a type holding each value exactly.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Quantized {
    pub values: Vec<f64>,
    pub ty: FixedType,
}

/// How a quantizer on activations maps onto IR layers.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum ActQuant {
    /// `Quantize` to this type.
    Cast(FixedType),
    /// `Clip{min: clip_min}`, `LeakyRelu{slope}`, then `Quantize` to `ty` (`quantized_relu` with a
    /// negative slope).
    Leaky { clip_min: f64, slope: f64, ty: FixedType },
    /// A binary or ternary step ([`Step`]).
    Step(Step),
}

impl Quantizer {
    fn new(class: &str, positional: Vec<Value>, named: Map<String, Value>) -> Result<Quantizer, String> {
        if let Some(why) = unsupported_class(class) {
            return Err(format!("quantizer {class} is not supported: {why}"));
        }
        let order = params(class).ok_or_else(|| format!("quantizer class '{class}' is not supported"))?;
        if positional.len() > order.len() {
            return Err(format!(
                "quantizer {class}: {} positional arguments, at most {}",
                positional.len(),
                order.len()
            ));
        }
        let mut map: BTreeMap<String, Value> = BTreeMap::new();
        for (k, v) in order.iter().zip(positional) {
            map.insert(k.to_string(), v);
        }
        for (k, v) in named {
            if !order.contains(&k.as_str()) {
                return Err(format!("quantizer {class}: unknown argument '{k}'"));
            }
            if map.insert(k.clone(), v).is_some() {
                return Err(format!("quantizer {class}: argument {k} is given twice"));
            }
        }
        let text = format_text(class, &map, order);
        let a = Args { text: &text, map };
        a.common()?;
        let kind = match class {
            "quantized_bits" => {
                let alpha = a.alpha()?;
                // QKeras forces `symmetric` for the `auto` scales.
                let symmetric =
                    a.boolean("symmetric", false)? || matches!(alpha, Alpha::Auto | Alpha::AutoPo2);
                Kind::Bits {
                    bits: a.bits(8)?,
                    integer: a.integer()?,
                    symmetric,
                    keep_negative: a.boolean("keep_negative", true)?,
                    alpha,
                    scale_axis: a.get("scale_axis").map(|_| a.int("scale_axis", 0)).transpose()?,
                }
            }
            "quantized_relu" => Kind::Relu {
                bits: a.bits(8)?,
                integer: a.integer()?,
                use_sigmoid: a.boolean("use_sigmoid", false)?,
                negative_slope: a.po2_slope("negative_slope")?,
                upper_bound: a.float("relu_upper_bound")?,
                quantized_clip: a.boolean("is_quantized_clip", true)?,
            },
            "binary" => Kind::Binary { use_01: a.boolean("use_01", false)?, alpha: a.alpha()? },
            // At inference (`K.learning_phase()` 0) QKeras' `stochastic_binary` calls
            // `binary.__call__` with `use_01=False` and no stochastic rounding: the sign.
            "stochastic_binary" => Kind::Binary { use_01: false, alpha: a.alpha()? },
            "ternary" => {
                let unrolls = a.int("number_of_unrolls", 5)?;
                if !(0..=64).contains(&unrolls) {
                    return Err(a.err(format!("number_of_unrolls={unrolls} is outside 0..=64")));
                }
                Kind::Ternary { alpha: a.alpha()?, threshold: a.float("threshold")?, unrolls: unrolls as u32 }
            }
            "quantized_po2" => Kind::Po2 {
                bits: a.bits(8)?,
                max_value: a.float("max_value")?,
                quadratic: a.boolean("quadratic_approximation", false)?,
                floor: a.log2_floor()?,
            },
            _ => Kind::ReluPo2 {
                bits: a.bits(8)?,
                max_value: a.float("max_value")?,
                negative_slope: a.po2_slope("negative_slope")?,
                quadratic: a.boolean("quadratic_approximation", false)?,
                floor: a.log2_floor()?,
            },
        };
        if let Kind::Po2 { max_value: Some(v), .. } | Kind::ReluPo2 { max_value: Some(v), .. } = kind {
            if v < 0.0 {
                return Err(a.err("max_value must not be negative"));
            }
        }
        if let Kind::Ternary { alpha: Alpha::Auto | Alpha::AutoPo2, threshold, unrolls } = &kind {
            if threshold.is_some() {
                return Err(a.err("an automatic alpha takes no threshold"));
            }
            if *unrolls == 0 {
                return Err(a.err("an automatic alpha needs number_of_unrolls of at least 1"));
            }
        }
        let effect_bits = match &kind {
            Kind::Po2 { bits, max_value, .. } => {
                Some(bits - 1 - max_value.map(|m| m > 1.0).unwrap_or(true) as i32)
            }
            Kind::ReluPo2 { bits, max_value, .. } => {
                Some(bits - max_value.map(|m| m > 1.0).unwrap_or(true) as i32)
            }
            _ => None,
        };
        if effect_bits.is_some_and(|e| e < 0) {
            return Err(a.err("too few bits for a signed exponent"));
        }
        Ok(Quantizer { kind, text })
    }

    /// The QKeras class name.
    pub fn class(&self) -> &'static str {
        match self.kind {
            Kind::Bits { .. } => "quantized_bits",
            Kind::Relu { .. } => "quantized_relu",
            Kind::Binary { .. } => "binary",
            Kind::Ternary { .. } => "ternary",
            Kind::Po2 { .. } => "quantized_po2",
            Kind::ReluPo2 { .. } => "quantized_relu_po2",
        }
    }

    /// What QKeras' `_set_trainable_parameter` does to the kernel quantizer of `QDense` (and the
    /// gamma and variance quantizers of `QBatchNormalization`): an unset `alpha` becomes
    /// `"auto_po2"` (and `quantized_bits` symmetric).
    pub fn trainable(mut self) -> Self {
        match &mut self.kind {
            Kind::Bits { alpha, symmetric, .. } if *alpha == Alpha::Default => {
                *alpha = Alpha::AutoPo2;
                *symmetric = true;
            }
            Kind::Binary { alpha, .. } | Kind::Ternary { alpha, .. } if *alpha == Alpha::Default => {
                *alpha = Alpha::AutoPo2;
            }
            _ => {}
        }
        self
    }

    fn err(&self, what: impl std::fmt::Display) -> String {
        format!("quantizer {}: {what}", self.text)
    }

    /// Quantizes a constant of the given shape (row-major, channels on the last axis).
    pub fn quantize(&self, values: &[f64], shape: &[usize]) -> Result<Quantized, String> {
        if let Some(pos) = values.iter().position(|v| !v.is_finite()) {
            return Err(self.err(format!("value #{pos} is {}", values[pos])));
        }
        // `K.cast_to_floatx`.
        let x: Vec<f32> = values.iter().map(|&v| v as f32).collect();
        let layout = Layout::new(shape, x.len()).map_err(|e| self.err(e))?;
        let scales = |alpha: &Alpha| -> Result<Vec<f32>, String> {
            match alpha {
                Alpha::Scale(s) if s.len() == 1 || s.len() == layout.channels => Ok(s.clone()),
                Alpha::Scale(s) => {
                    Err(self.err(format!("alpha has {} values for {} channels", s.len(), layout.channels)))
                }
                _ => Ok(vec![1.0]),
            }
        };
        let (out, declared): (Vec<f32>, Option<FixedType>) = match &self.kind {
            Kind::Bits { alpha: Alpha::Auto, .. }
            | Kind::Binary { alpha: Alpha::Auto, .. }
            | Kind::Ternary { alpha: Alpha::Auto, .. } => {
                return Err(self.err("alpha='auto' gives scales that are not powers of two"))
            }
            Kind::Bits { bits, integer, keep_negative, alpha: Alpha::AutoPo2, scale_axis, .. } => {
                if let Some(a) = scale_axis {
                    if *a != shape.len() as i64 - 1 {
                        return Err(self.err(format!("scale_axis={a} is not the last axis")));
                    }
                }
                (bits_auto_po2(&x, &layout, *bits, *integer, *keep_negative), None)
            }
            Kind::Bits { bits, integer, symmetric, keep_negative, alpha, .. } => {
                let s = scales(alpha)?;
                let ub = bits - *keep_negative as i32;
                let out = x
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| {
                        let xq = bits_value(v, ub, *integer, *keep_negative, *symmetric);
                        ste(v, pick(&s, layout.channel(i)) * xq)
                    })
                    .collect();
                let (k_lo, k_hi, exp) = if ub > 0 {
                    let m = 1i128 << ub;
                    let lo = if *keep_negative { -m + *symmetric as i128 } else { 0 };
                    (lo, m - 1, integer - ub)
                } else {
                    (if *keep_negative { -1 } else { 0 }, 1, 0)
                };
                (out, Some(declared_type(k_lo, k_hi, exp, &s).map_err(|e| self.err(e))?))
            }
            Kind::Relu { bits, integer, use_sigmoid, negative_slope, upper_bound, quantized_clip } => {
                if *use_sigmoid {
                    return Err(self.err("use_sigmoid is not supported"));
                }
                let out: Vec<f32> = x
                    .iter()
                    .map(|&v| {
                        relu_value(v, *bits, *integer, *negative_slope as f32, *upper_bound, *quantized_clip)
                    })
                    .collect();
                let declared = if *negative_slope == 0.0 && (*quantized_clip || upper_bound.is_none()) {
                    Some(
                        declared_type(0, (1i128 << bits) - 1, integer - bits, &[1.0])
                            .map_err(|e| self.err(e))?,
                    )
                } else {
                    None
                };
                (out, declared)
            }
            Kind::Binary { use_01, alpha } => {
                let sign = |v: f32| {
                    let k = tf_sign(v);
                    let k = k + (1.0 - k.abs());
                    if *use_01 {
                        (k + 1.0) / 2.0
                    } else {
                        k
                    }
                };
                let k: Vec<f32> = x.iter().map(|&v| sign(v)).collect();
                let lo = if *use_01 { 0 } else { -1 };
                match alpha {
                    // With no alpha QKeras adds to tanh(x) in the straight-through form; a value of
                    // magnitude at most 1 with the sign of k always sums back to k exactly.
                    Alpha::Default => (k, Some(declared_type(lo, 1, 0, &[1.0]).map_err(|e| self.err(e))?)),
                    Alpha::AutoPo2 => {
                        let s = scale_po2(&x, &k, &layout);
                        let out = x
                            .iter()
                            .zip(&k)
                            .enumerate()
                            .map(|(i, (&v, &q))| ste(v, s[layout.group(i)] * q))
                            .collect();
                        (out, None)
                    }
                    _ => {
                        let s = scales(alpha)?;
                        let out = x
                            .iter()
                            .zip(&k)
                            .enumerate()
                            .map(|(i, (&v, &q))| ste(v, pick(&s, layout.channel(i)) * q))
                            .collect();
                        (out, Some(declared_type(lo, 1, 0, &s).map_err(|e| self.err(e))?))
                    }
                }
            }
            Kind::Ternary { alpha, threshold, unrolls } => match alpha {
                Alpha::AutoPo2 => (ternary_auto_po2(&x, &layout, *unrolls), None),
                _ => {
                    let t = threshold.map(|t| t as f32).unwrap_or(0.33);
                    let q: Vec<f32> =
                        x.iter().map(|&v| if v.abs() >= t { tf_sign(v) } else { 0.0 }).collect();
                    if *alpha == Alpha::Default {
                        // As for binary: tanh(x) plus (q - tanh(x)) is q exactly.
                        (q, Some(declared_type(-1, 1, 0, &[1.0]).map_err(|e| self.err(e))?))
                    } else {
                        let s = scales(alpha)?;
                        let out = x
                            .iter()
                            .zip(&q)
                            .enumerate()
                            .map(|(i, (&v, &q))| ste(v, pick(&s, layout.channel(i)) * q))
                            .collect();
                        (out, Some(declared_type(-1, 1, 0, &s).map_err(|e| self.err(e))?))
                    }
                }
            },
            Kind::Po2 { bits, max_value, quadratic, floor } => {
                let need_sign = max_value.map(|m| m > 1.0).unwrap_or(true) as i32;
                let (min_exp, max_exp) = po2_exponents(bits - 1 - need_sign, *quadratic);
                let out = x
                    .iter()
                    .map(|&v| {
                        let s = tf_sign(v);
                        let s = s + (1.0 - s.abs());
                        let e = po2_clip(v.abs(), min_exp, max_exp, *max_value, *quadratic, *floor);
                        ste(v, s * pow2(e))
                    })
                    .collect();
                (out, None)
            }
            Kind::ReluPo2 { bits, max_value, negative_slope, quadratic, floor } => {
                let need_sign = max_value.map(|m| m > 1.0).unwrap_or(true) as i32;
                let (min_exp, max_exp) = po2_exponents(bits - need_sign, *quadratic);
                let slope = *negative_slope as f32;
                let out = x
                    .iter()
                    .map(|&v| {
                        let relu = |t: f32| if t > 0.0 { t } else { slope * t };
                        let base = match max_value {
                            Some(m) if v > *m as f32 => *m as f32,
                            _ => relu(v),
                        };
                        let pos = po2_clip(v.max(0.0), min_exp, max_exp, *max_value, *quadratic, *floor);
                        let neg =
                            po2_clip((-v).max(0.0) * slope, min_exp, max_exp, *max_value, *quadratic, *floor);
                        let xq = if v >= 0.0 || slope == 0.0 { pow2(pos) } else { -pow2(neg) };
                        ste(base, xq)
                    })
                    .collect();
                (out, None)
            }
        };
        let values: Vec<f64> = out.iter().map(|&v| v as f64).collect();
        let ty = match declared {
            Some(t) => t,
            None => narrowest_type(&values).map_err(|e| self.err(e))?,
        };
        let exact = Representable::new(&ty);
        if let Some(pos) = values.iter().position(|&v| !exact.holds(v)) {
            return Err(self.err(format!(
                "value #{pos} ({} from {}) is not exact in {ty}; QKeras' float32 straight-through arithmetic \
                 rounded it (the input lies far outside the quantizer's range)",
                values[pos], x[pos]
            )));
        }
        Ok(Quantized { values, ty })
    }

    /// The fixed-point form of this quantizer applied to activations.
    pub fn activation(&self) -> Result<ActQuant, String> {
        let modes = |ty: FixedType, sym: bool| {
            ty.with_modes(QuantMode::RndConv, if sym { OverflowMode::SatSym } else { OverflowMode::Sat })
        };
        match &self.kind {
            Kind::Bits { bits, integer, symmetric, keep_negative, alpha, .. } => {
                let ub = bits - *keep_negative as i32;
                if ub < 1 {
                    // `quantized_bits(1)` keeping the sign: `alpha * (x >= 0 ? 1 : -1)`, `integer`
                    // unused.
                    let s = self.act_scale(alpha)?;
                    let at = Threshold::new(Cmp::Ge, 0.0);
                    return Ok(ActQuant::Step(Step::Binary { at, low: -s, high: s }));
                }
                match alpha {
                    Alpha::Default => {}
                    Alpha::Scale(s) if s.iter().all(|&v| v == 1.0) => {}
                    _ => return Err(self.err("a scaled (alpha) quantizer on activations is not supported")),
                }
                Ok(ActQuant::Cast(if *keep_negative {
                    modes(FixedType::new(*bits as u32, integer + 1, true), *symmetric)
                } else {
                    modes(FixedType::new(*bits as u32, *integer, false), false)
                }))
            }
            Kind::Relu { bits, integer, use_sigmoid, negative_slope, upper_bound, quantized_clip } => {
                if *use_sigmoid {
                    return Err(self.err("use_sigmoid is not supported"));
                }
                let nsb = bits - (*negative_slope != 0.0) as i32;
                let top = pow2(*integer as f32) as f64 - pow2((integer - nsb) as f32) as f64;
                if let Some(ub) = upper_bound {
                    if !quantized_clip && *ub < top {
                        return Err(self.err("relu_upper_bound below the quantizer's range is not supported"));
                    }
                }
                if *negative_slope == 0.0 {
                    return Ok(ActQuant::Cast(modes(FixedType::new(*bits as u32, *integer, false), false)));
                }
                // The negative side is round(slope * x) clipped at -slope * 2^integer: exact as
                // clip-leaky-cast when that bound is on the grid.
                if *negative_slope > 1.0 || negative_slope * (pow2(nsb as f32) as f64) < 1.0 || nsb < 1 {
                    return Err(self.err("this negative_slope has no exact fixed-point form"));
                }
                Ok(ActQuant::Leaky {
                    clip_min: -(pow2(*integer as f32) as f64),
                    slope: *negative_slope,
                    ty: modes(FixedType::new(*bits as u32, integer + 1, true), false),
                })
            }
            Kind::Binary { use_01, alpha } => {
                let s = self.act_scale(alpha)?;
                let low = if *use_01 { 0.0 } else { -s };
                Ok(ActQuant::Step(Step::Binary { at: Threshold::new(Cmp::Ge, 0.0), low, high: s }))
            }
            Kind::Ternary { alpha, threshold, .. } => {
                let s = self.act_scale(alpha)?;
                // `tf.abs(x) >= thres` in float32, times `tf.sign(x)` (0 at 0).
                let t = threshold.unwrap_or(0.33) as f32 as f64;
                let (up, down) = if t > 0.0 {
                    (Threshold::new(Cmp::Ge, t), Threshold::new(Cmp::Le, -t))
                } else {
                    (Threshold::new(Cmp::Gt, 0.0), Threshold::new(Cmp::Lt, 0.0))
                };
                Ok(ActQuant::Step(Step::Ternary { up, down, alpha: s }))
            }
            _ => Err(self.err("on activations it is not a fixed-point cast, which is not supported")),
        }
    }

    /// The one scale of a binary or ternary quantizer on activations (`alpha`, 1 when unset).
    fn act_scale(&self, alpha: &Alpha) -> Result<f64, String> {
        match alpha {
            Alpha::Default => Ok(1.0),
            Alpha::Scale(s) if s.len() == 1 => Ok(s[0] as f64),
            Alpha::Scale(_) => Err(self.err("a per-channel alpha on activations is not supported")),
            Alpha::Auto | Alpha::AutoPo2 => {
                Err(self.err("an automatic alpha on activations depends on the batch; give a number"))
            }
        }
    }
}

#[cfg(test)]
mod tests;
