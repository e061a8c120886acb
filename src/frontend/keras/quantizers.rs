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

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::fixed::{FixedType, OverflowMode, QuantMode};
use crate::ir::{representable, MAX_CONST_WIDTH};

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
}

/// Constructor parameters in order, for positional arguments of the string form.
fn params(class: &str) -> Option<&'static [&'static str]> {
    Some(match class {
        "quantized_bits" => &[
            "bits",
            "integer",
            "symmetric",
            "keep_negative",
            "alpha",
            "use_stochastic_rounding",
            "scale_axis",
            "qnoise_factor",
            "var_name",
            "use_ste",
            "use_variables",
            "elements_per_scale",
            "min_po2_exponent",
            "max_po2_exponent",
            "post_training_scale",
        ],
        "quantized_relu" => &[
            "bits",
            "integer",
            "use_sigmoid",
            "negative_slope",
            "use_stochastic_rounding",
            "relu_upper_bound",
            "is_quantized_clip",
            "qnoise_factor",
            "var_name",
            "use_ste",
            "use_variables",
        ],
        "binary" => &["use_01", "alpha", "use_stochastic_rounding"],
        "ternary" => &["alpha", "threshold", "use_stochastic_rounding", "number_of_unrolls"],
        "quantized_po2" => &[
            "bits",
            "max_value",
            "use_stochastic_rounding",
            "quadratic_approximation",
            "log2_rounding",
            "qnoise_factor",
            "var_name",
            "use_ste",
            "use_variables",
        ],
        "quantized_relu_po2" => &[
            "bits",
            "max_value",
            "negative_slope",
            "use_stochastic_rounding",
            "quadratic_approximation",
            "log2_rounding",
            "qnoise_factor",
            "var_name",
            "use_ste",
            "use_variables",
        ],
        _ => return None,
    })
}

/// QKeras quantizer classes this importer knows but cannot represent exactly, with the reason.
fn unsupported_class(class: &str) -> Option<&'static str> {
    Some(match class {
        "stochastic_binary" | "stochastic_ternary" | "bernoulli" => "its output is random",
        "quantized_tanh" | "quantized_sigmoid" | "quantized_ulaw" | "quantized_hswish" => {
            "it applies a nonlinear function before quantizing, which has no exact fixed-point form"
        }
        _ => return None,
    })
}

/// True when `name` is a QKeras quantizer class (supported or not).
pub(super) fn is_quantizer_class(name: &str) -> bool {
    params(name).is_some() || unsupported_class(name).is_some()
}

/// Parses a quantizer from a layer config value; `Ok(None)` for `null`.
pub(super) fn parse(v: &Value) -> Result<Option<Quantizer>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => parse_call(s).map(Some),
        Value::Object(o) => {
            let class = o
                .get("class_name")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("quantizer {v} has no class_name"))?;
            let config = match o.get("config") {
                None | Some(Value::Null) => Map::new(),
                Some(Value::Object(c)) => c.clone(),
                Some(other) => return Err(format!("quantizer {class}: config {other} is not an object")),
            };
            Quantizer::new(class, Vec::new(), config).map(Some)
        }
        other => Err(format!("quantizer {other} is neither a string nor an object")),
    }
}

/// Parses the string form `name(arg, ..., key=value, ...)` (or a bare `name`).
pub(super) fn parse_call(text: &str) -> Result<Quantizer, String> {
    let text = text.trim();
    let (class, rest) = match text.find('(') {
        Some(i) => (text[..i].trim(), Some(&text[i + 1..])),
        None => (text, None),
    };
    let mut positional = Vec::new();
    let mut named = Map::new();
    if let Some(rest) = rest {
        let inner = rest
            .trim_end()
            .strip_suffix(')')
            .ok_or_else(|| format!("quantizer '{text}': missing closing parenthesis"))?;
        for item in split_args(inner) {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            match item.split_once('=') {
                Some((k, v)) if is_identifier(k.trim()) => {
                    let k = k.trim().to_string();
                    let v = literal(v.trim())
                        .ok_or_else(|| format!("quantizer '{text}': cannot read '{item}'"))?;
                    if named.insert(k.clone(), v).is_some() {
                        return Err(format!("quantizer '{text}': argument {k} is given twice"));
                    }
                }
                _ => {
                    if !named.is_empty() {
                        return Err(format!(
                            "quantizer '{text}': positional argument after keyword arguments"
                        ));
                    }
                    positional.push(
                        literal(item).ok_or_else(|| format!("quantizer '{text}': cannot read '{item}'"))?,
                    );
                }
            }
        }
    }
    Quantizer::new(class, positional, named)
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// Splits on commas outside quotes and brackets.
fn split_args(s: &str) -> Vec<&str> {
    let (mut out, mut depth, mut quote, mut start) = (Vec::new(), 0i32, None::<char>, 0usize);
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '[' | '(') => depth += 1,
            (None, ']' | ')') => depth -= 1,
            (None, ',') if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// A Python literal: `True`, `False`, `None`, a number, a quoted string or a list of those.
fn literal(s: &str) -> Option<Value> {
    match s {
        "True" | "true" => return Some(Value::Bool(true)),
        "False" | "false" => return Some(Value::Bool(false)),
        "None" | "null" => return Some(Value::Null),
        _ => {}
    }
    if let Ok(i) = s.parse::<i64>() {
        return Some(Value::from(i));
    }
    if let Ok(f) = s.parse::<f64>() {
        return serde_json::Number::from_f64(f).map(Value::Number);
    }
    for q in ['\'', '"'] {
        if s.len() >= 2 && s.starts_with(q) && s.ends_with(q) {
            return Some(Value::String(s[1..s.len() - 1].to_string()));
        }
    }
    if let Some(inner) = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        let items: Option<Vec<Value>> =
            split_args(inner).into_iter().map(str::trim).filter(|x| !x.is_empty()).map(literal).collect();
        return items.map(Value::Array);
    }
    None
}

/// Constructor arguments by name.
struct Args<'a> {
    text: &'a str,
    map: BTreeMap<String, Value>,
}

impl Args<'_> {
    fn err(&self, what: impl std::fmt::Display) -> String {
        format!("quantizer {}: {what}", self.text)
    }

    fn get(&self, key: &str) -> Option<&Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn int(&self, key: &str, default: i64) -> Result<i64, String> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b as i64),
            Some(v) => match v.as_i64() {
                Some(i) => Ok(i),
                None => match v.as_f64() {
                    Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => Ok(f as i64),
                    _ => Err(self.err(format!("{key}={v} is not an integer"))),
                },
            },
        }
    }

    fn boolean(&self, key: &str, default: bool) -> Result<bool, String> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => match v.as_f64() {
                Some(f) => Ok(f != 0.0),
                None => Err(self.err(format!("{key}={v} is not a boolean"))),
            },
        }
    }

    fn float(&self, key: &str) -> Result<Option<f64>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b as i64 as f64)),
            Some(v) => match v.as_f64() {
                Some(f) if f.is_finite() => Ok(Some(f)),
                _ => Err(self.err(format!("{key}={v} is not a number"))),
            },
        }
    }

    fn alpha(&self) -> Result<Alpha, String> {
        match self.get("alpha") {
            None => Ok(Alpha::Default),
            Some(Value::String(s)) if s == "auto" => Ok(Alpha::Auto),
            Some(Value::String(s)) if s == "auto_po2" => Ok(Alpha::AutoPo2),
            Some(Value::Array(items)) => {
                let mut scales = Vec::with_capacity(items.len());
                for i in items {
                    match i.as_f64() {
                        Some(f) if f.is_finite() => scales.push(f as f32),
                        _ => return Err(self.err(format!("alpha element {i} is not a number"))),
                    }
                }
                if scales.is_empty() {
                    return Err(self.err("alpha is an empty list"));
                }
                Ok(Alpha::Scale(scales))
            }
            Some(v) => match v.as_f64() {
                Some(f) if f.is_finite() => Ok(Alpha::Scale(vec![f as f32])),
                _ => Err(self.err(format!("alpha={v} is not supported"))),
            },
        }
    }

    /// Options QKeras offers that change the forward pass in a way no fixed-point form reproduces.
    fn common(&self) -> Result<(), String> {
        if self.boolean("use_stochastic_rounding", false)? {
            return Err(self.err("stochastic rounding is not supported"));
        }
        if let Some(q) = self.float("qnoise_factor")? {
            if q != 1.0 {
                return Err(self.err(format!(
                    "qnoise_factor={q} mixes float and quantized values; only 1 is supported"
                )));
            }
        }
        for key in ["elements_per_scale", "min_po2_exponent", "max_po2_exponent", "post_training_scale"] {
            if self.get(key).is_some() {
                return Err(self.err(format!("option {key} is not supported")));
            }
        }
        Ok(())
    }

    fn bits(&self, default: i64) -> Result<i32, String> {
        let bits = self.int("bits", default)?;
        if !(1..=32).contains(&bits) {
            return Err(self.err(format!("bits={bits} is outside 1..=32")));
        }
        Ok(bits as i32)
    }

    fn integer(&self) -> Result<i32, String> {
        let integer = self.int("integer", 0)?;
        if !(-64..=64).contains(&integer) {
            return Err(self.err(format!("integer={integer} is outside -64..=64")));
        }
        Ok(integer as i32)
    }

    fn log2_floor(&self) -> Result<bool, String> {
        match self.get("log2_rounding").and_then(Value::as_str) {
            None | Some("rnd") => Ok(false),
            Some("floor") => Ok(true),
            Some(other) => Err(self.err(format!("log2_rounding='{other}' is not supported"))),
        }
    }

    fn po2_slope(&self, key: &str) -> Result<f64, String> {
        let s = self.float(key)?.unwrap_or(0.0);
        if s < 0.0 || (s != 0.0 && s.log2().fract() != 0.0) {
            return Err(self.err(format!("{key}={s} is not zero or a power of two")));
        }
        Ok(s)
    }
}

fn format_text(class: &str, map: &BTreeMap<String, Value>, order: &[&str]) -> String {
    let mut parts = Vec::new();
    for key in order {
        if let Some(v) = map.get(*key) {
            let v = match v {
                Value::String(s) => format!("'{s}'"),
                Value::Bool(true) => "True".into(),
                Value::Bool(false) => "False".into(),
                Value::Null => "None".into(),
                other => other.to_string(),
            };
            parts.push(format!("{key}={v}"));
        }
    }
    format!("{class}({})", parts.join(", "))
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
        if let Some(pos) = values.iter().position(|&v| !representable(v, &ty)) {
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
                match alpha {
                    Alpha::Default => {}
                    Alpha::Scale(s) if s.iter().all(|&v| v == 1.0) => {}
                    _ => return Err(self.err("a scaled (alpha) quantizer on activations is not supported")),
                }
                let ub = bits - *keep_negative as i32;
                if ub < 1 {
                    return Err(self.err("a one-bit sign quantizer on activations is not supported"));
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
            _ => Err(self.err("on activations it is not a fixed-point cast, which is not supported")),
        }
    }
}

/// How elements map to channels: the last axis for tensors of rank 2 or more; for rank 1 the
/// initial scale is shared and the least-squares scale is per element, as in QKeras.
struct Layout {
    n: usize,
    channels: usize,
    rank: usize,
}

impl Layout {
    fn new(shape: &[usize], n: usize) -> Result<Layout, String> {
        if shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)) != Some(n) {
            return Err(format!("{n} values do not fill shape {shape:?}"));
        }
        Ok(Layout { n, channels: shape.last().copied().unwrap_or(1).max(1), rank: shape.len() })
    }

    /// The channel (last-axis index) of element `i`.
    fn channel(&self, i: usize) -> usize {
        i % self.channels
    }

    /// The group `_get_scale` averages element `i` in.
    fn group(&self, i: usize) -> usize {
        if self.rank >= 2 {
            self.channel(i)
        } else {
            i
        }
    }

    fn groups(&self) -> usize {
        if self.rank >= 2 {
            self.channels
        } else {
            self.n
        }
    }
}

fn pick(s: &[f32], channel: usize) -> f32 {
    if s.len() == 1 {
        s[0]
    } else {
        s[channel]
    }
}

/// `x + stop_gradient(-x + xq)` in float32, QKeras' forward value.
fn ste(x: f32, xq: f32) -> f32 {
    x + (-x + xq)
}

fn tf_sign(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// `2^e` as float32 for an integral `e` (what `tf.pow(2.0, e)` gives).
fn pow2(e: f32) -> f32 {
    2f64.powi(e.clamp(-1100.0, 1100.0) as i32) as f32
}

/// `log(x) / np.log(2.0)` in float32.
fn log2_f32(x: f32) -> f32 {
    x.ln() / (std::f64::consts::LN_2 as f32)
}

/// `K.pow(2.0, tf.math.round(K.log(s + K.epsilon()) / np.log(2.0)))`.
fn po2_round(s: f32) -> f32 {
    pow2(log2_f32(s + EPSILON).round_ties_even())
}

/// `quantized_bits.__call__` for a constant scale, before the scale: `unsigned_bits = bits -
/// keep_negative`; with `m = 2^unsigned_bits`, `m_i = 2^integer`:
/// `m_i * clip(round(x * m / m_i), keep_negative * (-m + symmetric), m - 1) / m`, or the sign
/// when no unsigned bit is left.
fn bits_value(x: f32, ub: i32, integer: i32, keep_negative: bool, symmetric: bool) -> f32 {
    if ub > 0 {
        let m = pow2(ub as f32);
        let m_i = pow2(integer as f32);
        let p = x * m / m_i;
        let lo = if keep_negative { -m + symmetric as i32 as f32 } else { 0.0 };
        let c = p.round_ties_even().max(lo).min(m - 1.0);
        m_i * c / m
    } else {
        let s = tf_sign(x);
        let s = s + (1.0 - s.abs());
        if keep_negative {
            s
        } else {
            (s + 1.0) / 2.0
        }
    }
}

/// `_get_scale(alpha="auto_po2", x, q)`: per group `mean(x * q) / (mean(q * q) + eps)`, rounded
/// to a power of two.
fn scale_po2(x: &[f32], q: &[f32], layout: &Layout) -> Vec<f32> {
    let g = layout.groups();
    let (mut qx, mut qq, mut count) = (vec![0f32; g], vec![0f32; g], vec![0usize; g]);
    for i in 0..x.len() {
        let k = layout.group(i);
        qx[k] += x[i] * q[i];
        qq[k] += q[i] * q[i];
        count[k] += 1;
    }
    (0..g)
        .map(|k| {
            let n = count[k].max(1) as f32;
            po2_round((qx[k] / n) / (qq[k] / n + EPSILON))
        })
        .collect()
}

/// `quantized_bits` with `alpha="auto_po2"` (QKeras 0.9.0): start from the power of two nearest to
/// `2 * max|x| / levels`, then five rounds of quantizing with the current scale and refitting the
/// least-squares power-of-two scale. The values are `scale * m_i * z`, `z` from the last round.
fn bits_auto_po2(x_in: &[f32], layout: &Layout, bits: i32, integer: i32, keep_negative: bool) -> Vec<f32> {
    let m = pow2((bits - keep_negative as i32) as f32);
    let m_i = pow2(integer as f32);
    let x: Vec<f32> = x_in.iter().map(|&v| v / m_i).collect();
    let levels = (((1i64 << (bits - 1)) - 1) * 2) as f32;
    let half = levels / 2.0;
    // The starting scale is per channel for tensors of rank 2 or more, shared for rank 1.
    let init_groups = if layout.rank >= 2 { layout.channels } else { 1 };
    let init_group = |i: usize| if layout.rank >= 2 { layout.channel(i) } else { 0 };
    let mut max_abs = vec![0f32; init_groups];
    for (i, v) in x.iter().enumerate() {
        let g = init_group(i);
        max_abs[g] = max_abs[g].max(v.abs());
    }
    let mut scale: Vec<f32> =
        (0..x.len()).map(|i| po2_round(max_abs[init_group(i)] * 2.0 / levels)).collect();
    let mut z = vec![0f32; x.len()];
    for _ in 0..5 {
        for i in 0..x.len() {
            let v = (x[i].abs() / scale[i] + 0.5).floor();
            z[i] = tf_sign(x[i]) * if v < half { v } else { half };
        }
        let s = scale_po2(&x, &z, layout);
        for (i, sc) in scale.iter_mut().enumerate() {
            *sc = s[layout.group(i)];
        }
    }
    (0..x.len())
        .map(|i| {
            let xb = m_i * x[i];
            ste(xb, (scale[i] * m) * (m_i * z[i] / m))
        })
        .collect()
}

/// `ternary` with `alpha="auto_po2"`: start from the power of two nearest to `2/3 max|x|`, then
/// `unrolls` rounds of thresholding at half the scale and refitting the scale.
fn ternary_auto_po2(x: &[f32], layout: &Layout, unrolls: u32) -> Vec<f32> {
    let init_groups = if layout.rank >= 2 { layout.channels } else { 1 };
    let init_group = |i: usize| if layout.rank >= 2 { layout.channel(i) } else { 0 };
    let mut max_abs = vec![0f32; init_groups];
    for (i, v) in x.iter().enumerate() {
        let g = init_group(i);
        max_abs[g] = max_abs[g].max(v.abs());
    }
    let mut scale: Vec<f32> = (0..x.len()).map(|i| po2_round(2.0 * max_abs[init_group(i)] / 3.0)).collect();
    let mut q = vec![0f32; x.len()];
    for _ in 0..unrolls {
        for i in 0..x.len() {
            let thres = scale[i] / 2.0;
            let v = scale[i] * (x[i] / scale[i]).round_ties_even();
            q[i] = if v.abs() >= thres { tf_sign(x[i]) } else { 0.0 };
        }
        let s = scale_po2(x, &q, layout);
        for (i, sc) in scale.iter_mut().enumerate() {
            *sc = s[layout.group(i)];
        }
    }
    (0..x.len()).map(|i| ste(x[i], scale[i] * q[i])).collect()
}

/// `quantized_relu.__call__` without sigmoid.
fn relu_value(x: f32, bits: i32, integer: i32, slope: f32, upper: Option<f64>, quantized_clip: bool) -> f32 {
    let nsb = bits - (slope != 0.0) as i32;
    let m = pow2(nsb as f32);
    let m_i = pow2(integer as f32);
    let m_f = pow2((integer - nsb) as f32);
    let relu = |t: f32| if t > 0.0 { t } else { slope * t };
    let x_u = if quantized_clip {
        if x <= m_i - m_f {
            relu(x)
        } else {
            m_i - m_f
        }
    } else {
        match upper {
            Some(u) if x > u as f32 => u as f32,
            _ => relu(x),
        }
    };
    let p = x * m / m_i;
    let mut xq = m_i * (p.round_ties_even() / m).clamp(0.0, 1.0 - 1.0 / m);
    if slope > 0.0 {
        let neg_factor = 1.0 / (slope * m);
        xq += m_i * slope * ((p * slope).round_ties_even() * neg_factor).clamp(-1.0, 0.0);
    }
    if let (Some(u), false) = (upper, quantized_clip) {
        if u != 0.0 && xq > u as f32 {
            xq = u as f32;
        }
    }
    ste(x_u, xq)
}

/// `_get_min_max_exponents`.
fn po2_exponents(effect_bits: i32, quadratic: bool) -> (f32, f32) {
    let e = effect_bits.clamp(0, 30);
    let min_exp = -((1i64 << e) as f32);
    let mut max_exp = ((1i64 << e) - 1) as f32;
    if quadratic {
        max_exp = 2.0 * (max_exp / 2.0).floor();
    }
    (min_exp, max_exp)
}

/// `_clip_power_of_two`: the exponent of the power of two nearest to `x_abs` (in the log domain).
fn po2_clip(
    x_abs: f32,
    min_exp: f32,
    max_exp: f32,
    max_value: Option<f64>,
    quadratic: bool,
    floor: bool,
) -> f32 {
    if x_abs < EPSILON {
        return min_exp;
    }
    let mut x = x_abs;
    if let Some(m) = max_value {
        if x >= m as f32 {
            x = m as f32;
        }
    }
    let (factor, input) = if quadratic { (2.0, x.sqrt()) } else { (1.0, x) };
    let l = log2_f32(input);
    let l = if floor { l.floor() } else { l.round_ties_even() };
    factor * l.max(min_exp).min(max_exp)
}

/// `v = mant * 2^exp` with an odd `mant` (`None` for zero).
fn decompose(v: f64) -> Option<(i128, i32)> {
    if v == 0.0 {
        return None;
    }
    let bits = v.to_bits();
    let exp_bits = ((bits >> 52) & 0x7ff) as i32;
    let frac = (bits & ((1u64 << 52) - 1)) as i128;
    let (mut mant, mut exp) =
        if exp_bits == 0 { (frac, -1074) } else { (frac | (1i128 << 52), exp_bits - 1075) };
    let tz = mant.trailing_zeros() as i32;
    mant >>= tz;
    exp += tz;
    Some((if v < 0.0 { -mant } else { mant }, exp))
}

fn bit_len(v: i128) -> u32 {
    128 - v.max(0).leading_zeros()
}

/// The narrowest type holding the raw integers `lo..=hi` with the LSB weighing `2^lsb`.
fn covering_type(lo: i128, hi: i128, lsb: i32) -> Result<FixedType, String> {
    let signed = lo < 0;
    let width = if signed { (bit_len(hi) + 1).max(bit_len(-lo - 1) + 1) } else { bit_len(hi).max(1) };
    if width > MAX_CONST_WIDTH {
        return Err(format!("the quantized values need {width} bits, more than {MAX_CONST_WIDTH}"));
    }
    Ok(FixedType::new(width, width as i32 + lsb, signed))
}

/// The type of the value set `{s * k * 2^exp : s in scales, k in k_lo..=k_hi}`.
fn declared_type(k_lo: i128, k_hi: i128, exp: i32, scales: &[f32]) -> Result<FixedType, String> {
    let parts: Vec<(i128, i32)> = scales.iter().filter_map(|&s| decompose(s as f64)).collect();
    let Some(lsb) = parts.iter().map(|&(_, e)| e + exp).min() else {
        return covering_type(0, 0, 0);
    };
    let (mut lo, mut hi) = (0i128, 0i128);
    for (mant, e) in parts {
        let shift = (e + exp - lsb) as u32;
        if shift > 60 || mant.unsigned_abs() > (1u128 << 60) {
            return Err("the scales span too wide a range for one fixed-point type".into());
        }
        let unit = mant << shift;
        for k in [k_lo, k_hi] {
            let r = k.checked_mul(unit).ok_or("the quantized values are too large")?;
            lo = lo.min(r);
            hi = hi.max(r);
        }
    }
    covering_type(lo, hi, lsb)
}

/// The narrowest type holding every value.
fn narrowest_type(values: &[f64]) -> Result<FixedType, String> {
    let parts: Vec<(i128, i32)> = values.iter().filter_map(|&v| decompose(v)).collect();
    let Some(lsb) = parts.iter().map(|&(_, e)| e).min() else {
        return covering_type(0, 0, 0);
    };
    let (mut lo, mut hi) = (0i128, 0i128);
    for (mant, e) in parts {
        let shift = (e - lsb) as u32;
        if shift > 60 {
            return Err("the quantized values span too wide a range for one fixed-point type".into());
        }
        let r = mant << shift;
        lo = lo.min(r);
        hi = hi.max(r);
    }
    covering_type(lo, hi, lsb)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str) -> Quantizer {
        parse_call(text).unwrap()
    }

    fn fixed(w: u32, i: i32, signed: bool) -> FixedType {
        FixedType::new(w, i, signed)
    }

    #[test]
    fn string_and_dict_forms_agree() {
        let a = q("quantized_bits(6, 0, alpha=1)");
        let b = parse(&serde_json::json!({"class_name": "quantized_bits",
            "config": {"bits": 6, "integer": 0, "alpha": 1}}))
        .unwrap()
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(a.text, "quantized_bits(bits=6, integer=0, alpha=1)");
        assert_eq!(
            q("quantized_relu(3,1)").kind,
            Kind::Relu {
                bits: 3,
                integer: 1,
                use_sigmoid: false,
                negative_slope: 0.0,
                upper_bound: None,
                quantized_clip: true
            }
        );
        assert!(matches!(q("quantized_bits").kind, Kind::Bits { bits: 8, integer: 0, .. }));
        assert!(matches!(q("ternary(alpha='auto_po2')").kind, Kind::Ternary { alpha: Alpha::AutoPo2, .. }));
        assert!(
            matches!(q("binary(alpha=[0.5, 1.0])").kind, Kind::Binary { alpha: Alpha::Scale(ref s), .. } if s == &[0.5, 1.0])
        );
    }

    #[test]
    fn rejected_options_name_the_quantizer() {
        for (text, needle) in [
            ("quantized_bits(4,0,use_stochastic_rounding=True)", "stochastic"),
            ("quantized_bits(4,0,qnoise_factor=0.5)", "qnoise_factor"),
            ("quantized_bits(4,0,foo=1)", "unknown argument 'foo'"),
            ("stochastic_ternary()", "random"),
            ("quantized_tanh(4)", "nonlinear"),
            ("mystery(1)", "not supported"),
            ("quantized_bits(0)", "bits=0"),
            ("quantized_relu(4,0,0,0.3)", "power of two"),
            ("quantized_bits(4,0,1,alpha=1", "parenthesis"),
        ] {
            let e = parse_call(text).unwrap_err();
            assert!(e.contains(needle), "{text}: {e}");
        }
        let auto = q("quantized_bits(4,0,alpha='auto')");
        let e = auto.quantize(&[0.1, 0.2], &[2, 1]).unwrap_err();
        assert!(e.contains("quantized_bits(") && e.contains("auto"), "{e}");
        let e = q("quantized_relu(4,0,use_sigmoid=1)").activation().unwrap_err();
        assert!(e.contains("use_sigmoid"), "{e}");
        let e = q("quantized_po2(4)").activation().unwrap_err();
        assert!(e.contains("quantized_po2("), "{e}");
    }

    #[test]
    fn quantized_bits_ties_round_to_even_and_saturate() {
        // quantized_bits(4,0): LSB 1/8, raw range -8..7, type ap_fixed<4,1>.
        let quant = q("quantized_bits(4,0,alpha=1)");
        let x = [0.0625, 0.1875, -0.0625, -0.1875, 0.3, 2.0, -2.0, -1.0, 0.875, 0.9375];
        let r = quant.quantize(&x, &[x.len()]).unwrap();
        assert_eq!(r.values, vec![0.0, 0.25, 0.0, -0.25, 0.25, 0.875, -1.0, -1.0, 0.875, 0.875]);
        assert_eq!(r.ty, fixed(4, 1, true));
    }

    #[test]
    fn quantized_bits_symmetric_and_unsigned() {
        let sym = q("quantized_bits(4,0,1,alpha=1)");
        let r = sym.quantize(&[-1.0, -0.99, 0.99], &[3]).unwrap();
        assert_eq!(r.values, vec![-0.875, -0.875, 0.875]);
        assert_eq!(r.ty, fixed(4, 1, true));

        let unsigned = q("quantized_bits(4,1,keep_negative=False,alpha=1)");
        // LSB 2^(1-4) = 1/8, range 0..15/8.
        let r = unsigned.quantize(&[-0.5, 0.3, 1.9, 5.0], &[4]).unwrap();
        assert_eq!(r.values, vec![0.0, 0.25, 1.875, 1.875]);
        assert_eq!(r.ty, fixed(4, 1, false));

        let int = q("quantized_bits(6,2,alpha=1)");
        assert_eq!(int.quantize(&[0.0], &[1]).unwrap().ty, fixed(6, 3, true));

        // Bias quantizer of the MNIST model: quantized_bits(2,0,1) -> {-0.5, 0, 0.5}.
        let r = q("quantized_bits(2,0,1)").quantize(&[-0.9, -0.2, 0.25, 0.3, 0.75], &[5]).unwrap();
        assert_eq!(r.values, vec![-0.5, 0.0, 0.0, 0.5, 0.5]);
        assert_eq!(r.ty, fixed(2, 1, true));
    }

    #[test]
    fn quantized_bits_power_of_two_alpha_shifts_the_type() {
        let r = q("quantized_bits(4,0,alpha=0.5)").quantize(&[0.3, -1.0], &[2]).unwrap();
        assert_eq!(r.values, vec![0.125, -0.5]);
        assert_eq!(r.ty, fixed(4, 0, true));
        // Per-channel scales: the union type.
        let r = q("quantized_bits(4,0,alpha=[1.0, 0.25])").quantize(&[0.3, 0.3], &[1, 2]).unwrap();
        assert_eq!(r.values, vec![0.25, 0.0625]);
        assert_eq!(r.ty, fixed(6, 1, true));
    }

    #[test]
    fn kernel_quantizers_default_to_auto_po2() {
        let k = q("quantized_bits(4,0)").trainable();
        assert!(matches!(k.kind, Kind::Bits { alpha: Alpha::AutoPo2, symmetric: true, .. }));
        let b = q("binary()").trainable();
        assert!(matches!(b.kind, Kind::Binary { alpha: Alpha::AutoPo2, .. }));
        let fixed_alpha = q("quantized_bits(4,0,alpha=1)").trainable();
        assert!(matches!(fixed_alpha.kind, Kind::Bits { alpha: Alpha::Scale(_), symmetric: false, .. }));
    }

    #[test]
    fn auto_po2_scales_per_channel() {
        // Channel 0: [0.3, -0.1]. Start 2^round(log2(0.6/14)) = 2^-5; z = [7 (clipped), -3];
        // least squares 1.2/29 -> 2^-5 again. Values z * 2^-5.
        // Channel 1: [4.0, 1.0]. Start 2^round(log2(8/14)) = 2^-1; z = [7, 2]; mean(xz)=15,
        // mean(zz)=26.5 -> 0.566 -> 2^-1; values [3.5, 1.0].
        let quant = q("quantized_bits(4,0,alpha='auto_po2')");
        let r = quant.quantize(&[0.3, 4.0, -0.1, 1.0], &[2, 2]).unwrap();
        assert_eq!(r.values, vec![0.21875, 3.5, -0.09375, 1.0]);
        // Union of 7*2^-5, -3*2^-5, 7*2^-1, 2*2^-1: raw at 2^-5 from -3 to 112.
        assert_eq!(r.ty, fixed(8, 3, true));
    }

    #[test]
    fn auto_po2_rank_one_is_per_element() {
        // Shared start 2^round(log2(2*0.5/2)) = 2^-1 (bits 2: levels 2); then each element fits
        // its own scale. 0.5: z = 1, scale 2^-1. 0.1: round 1 gives z = 0 and the scale collapses
        // to 2^round(log2(eps)) = 2^-23; round 2 then clips z to 1 and fits 2^round(log2 0.1) =
        // 2^-3, which holds. Values scale * z: [0.5, 0.125] (as QKeras 0.9.0 gives).
        let r = q("quantized_bits(2,0,alpha='auto_po2')").quantize(&[0.5, 0.1], &[2]).unwrap();
        assert_eq!(r.values, vec![0.5, 0.125]);
    }

    /// Rounds and saturates `x` into `ty` (round half to even; `AP_SAT` / `AP_SAT_SYM`).
    fn reference_cast(x: f64, ty: &FixedType) -> f64 {
        assert_eq!(ty.quant, QuantMode::RndConv);
        let scale = 2f64.powi(ty.frac_bits());
        let r = (x * scale).round_ties_even();
        let w = ty.width as i32;
        let (lo, hi) =
            if ty.signed { (-(2f64.powi(w - 1)), 2f64.powi(w - 1) - 1.0) } else { (0.0, 2f64.powi(w) - 1.0) };
        let lo = if ty.signed && ty.overflow == OverflowMode::SatSym { -hi } else { lo };
        r.clamp(lo, hi) / scale
    }

    /// Every case of golden/ir_keras/quantizer_cases.json, which real QKeras 0.9.0 computed
    /// (scripts/make_qkeras_references.py): constants must match bit for bit, and the
    /// fixed-point cast chosen for activations must give QKeras' outputs.
    #[test]
    fn matches_qkeras_reference_cases() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/golden/ir_keras/quantizer_cases.json");
        let cases: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert!(cases.len() >= 40);
        let floats = |v: &Value| -> Vec<f64> {
            v.as_array().unwrap().iter().map(|b| f32::from_bits(b.as_u64().unwrap() as u32) as f64).collect()
        };
        for case in &cases {
            let text = case["quantizer"].as_str().unwrap();
            let shape: Vec<usize> =
                case["shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect();
            let (x, y) = (floats(&case["x"]), floats(&case["y"]));
            let quant = q(text);
            match case["use"].as_str().unwrap() {
                "constant" => {
                    let r = quant.quantize(&x, &shape).unwrap_or_else(|e| panic!("{text}: {e}"));
                    for i in 0..x.len() {
                        assert!(
                            r.values[i] == y[i],
                            "{text} {shape:?} #{i}: x={} gives {}, QKeras {}",
                            x[i],
                            r.values[i],
                            y[i]
                        );
                        assert!(representable(y[i], &r.ty), "{text}: {} not in {}", y[i], r.ty);
                    }
                }
                _ => {
                    let act = quant.activation().unwrap_or_else(|e| panic!("{text}: {e}"));
                    for i in 0..x.len() {
                        let got = match &act {
                            ActQuant::Cast(ty) => reference_cast(x[i], ty),
                            ActQuant::Leaky { clip_min, slope, ty } => {
                                let c = x[i].max(*clip_min);
                                reference_cast(if c >= 0.0 { c } else { slope * c }, ty)
                            }
                        };
                        assert!(got == y[i], "{text} #{i}: x={} gives {got}, QKeras {}", x[i], y[i]);
                    }
                }
            }
        }
    }

    #[test]
    fn binary_and_ternary() {
        let r = q("binary()").quantize(&[0.3, -0.2, 0.0], &[3]).unwrap();
        assert_eq!(r.values, vec![1.0, -1.0, 1.0]);
        assert_eq!(r.ty, FixedType::int(2, true));
        let r = q("binary(use_01=True)").quantize(&[0.3, -0.2], &[2]).unwrap();
        assert_eq!(r.values, vec![1.0, 0.0]);
        assert_eq!(r.ty, FixedType::int(1, false));
        let r = q("binary(alpha=0.5)").quantize(&[7.0, -0.2], &[2]).unwrap();
        assert_eq!(r.values, vec![0.5, -0.5]);
        // Binary auto_po2 on one channel: mean|x| = 0.4 -> 2^-1.
        let r = q("binary(alpha='auto_po2')").quantize(&[0.5, -0.3], &[2, 1]).unwrap();
        assert_eq!(r.values, vec![0.5, -0.5]);

        let r = q("ternary()").quantize(&[0.5, 0.33, 0.32, -0.4, 0.0], &[5]).unwrap();
        assert_eq!(r.values, vec![1.0, 1.0, 0.0, -1.0, 0.0]);
        assert_eq!(r.ty, FixedType::int(2, true));
        let r = q("ternary(alpha=1, threshold=0.5)").quantize(&[0.5, 0.49, -3.0], &[3]).unwrap();
        assert_eq!(r.values, vec![1.0, 0.0, -1.0]);
        // auto_po2 on one channel [1.0, 0.1, -0.9]: start 2^round(log2(2/3)) = 1; round(x) gives
        // q = [1, 0, -1]; least squares mean(xq)=1.9/3, mean(qq)=2/3 -> 0.95 -> 1.
        let r = q("ternary(alpha='auto_po2')").quantize(&[1.0, 0.1, -0.9], &[3, 1]).unwrap();
        assert_eq!(r.values, vec![1.0, 0.0, -1.0]);
    }

    #[test]
    fn power_of_two_quantizers() {
        // quantized_po2(4, max_value=1): exponents -8..0; zero goes to 2^-8 with a + sign.
        let quant = q("quantized_po2(4,1)");
        let r = quant.quantize(&[0.3, -0.7, 5.0, 0.0, 0.0013], &[5]).unwrap();
        assert_eq!(r.values, vec![0.25, -0.5, 1.0, 0.00390625, 0.00390625]);
        assert_eq!(r.ty, fixed(10, 2, true));
        let r = q("quantized_relu_po2(4,1)").quantize(&[0.3, -0.7], &[2]).unwrap();
        assert_eq!(r.values, vec![0.25, 2f64.powi(-16)]);
    }

    #[test]
    fn quantized_relu_constants() {
        let r = q("quantized_relu(3,1)").quantize(&[-1.0, 0.3, 0.375, 5.0], &[4]).unwrap();
        // LSB 1/4, range 0..7/4; 0.375 is a tie between 0.25 and 0.5 -> even -> 0.5.
        assert_eq!(r.values, vec![0.0, 0.25, 0.5, 1.75]);
        assert_eq!(r.ty, fixed(3, 1, false));
    }

    #[test]
    fn activation_casts() {
        let rnd_sat = |t: FixedType| t.with_modes(QuantMode::RndConv, OverflowMode::Sat);
        assert_eq!(
            q("quantized_relu(6,0)").activation().unwrap(),
            ActQuant::Cast(rnd_sat(fixed(6, 0, false)))
        );
        assert_eq!(q("quantized_relu(2)").activation().unwrap(), ActQuant::Cast(rnd_sat(fixed(2, 0, false))));
        assert_eq!(
            q("quantized_bits(8,3)").activation().unwrap(),
            ActQuant::Cast(rnd_sat(fixed(8, 4, true)))
        );
        assert_eq!(
            q("quantized_bits(8,3,1)").activation().unwrap(),
            ActQuant::Cast(fixed(8, 4, true).with_modes(QuantMode::RndConv, OverflowMode::SatSym))
        );
        assert_eq!(
            q("quantized_bits(8,3,keep_negative=False)").activation().unwrap(),
            ActQuant::Cast(rnd_sat(fixed(8, 3, false)))
        );
        assert_eq!(
            q("quantized_relu(4,1,negative_slope=0.25)").activation().unwrap(),
            ActQuant::Leaky { clip_min: -2.0, slope: 0.25, ty: rnd_sat(fixed(4, 2, true)) }
        );
        assert!(q("quantized_bits(8,3,alpha=0.5)").activation().is_err());
        assert!(q("quantized_bits(1,0)").activation().is_err());
        assert!(q("quantized_relu(2,0,negative_slope=0.125)").activation().is_err());
    }

    #[test]
    fn huge_inputs_follow_qkeras_float32_arithmetic() {
        // QKeras returns x + (-x + xq) in float32, which loses xq once |x| dwarfs it; these are
        // the values QKeras 0.9.0 gives.
        let r =
            q("quantized_bits(4,0,alpha=1)").quantize(&[2097152.75, 2097153.25, 3e7, -3e7], &[4]).unwrap();
        assert_eq!(r.values, vec![0.875, 0.75, 0.0, 0.0]);
        let r = q("ternary(alpha=1)").quantize(&[1e9], &[1]).unwrap();
        assert_eq!(r.values, vec![0.0]);
        // Here QKeras gives 1.0, outside the quantizer's own range: no exact type, an error.
        let e = q("quantized_bits(4,0,alpha=1)").quantize(&[3e6], &[1]).unwrap_err();
        assert!(e.contains("not exact in") && e.contains("quantized_bits(bits=4"), "{e}");
    }

    #[test]
    fn type_helpers() {
        assert_eq!(covering_type(-32, 31, -5).unwrap(), fixed(6, 1, true));
        assert_eq!(covering_type(0, 0, 0).unwrap(), fixed(1, 1, false));
        assert_eq!(covering_type(-1, 0, 0).unwrap(), fixed(1, 1, true));
        assert_eq!(narrowest_type(&[0.5, -0.25, 3.0]).unwrap(), fixed(5, 3, true));
        assert!(covering_type(0, 1i128 << 60, 0).is_err());
        assert_eq!(decompose(-0.375), Some((-3, -3)));
        assert_eq!(decompose(0.0), None);
    }
}
