//! The two forms a quantizer takes in a layer config: a `{"class_name", "config"}` dict, or the
//! Python call text `name(arg, ..., key=value, ...)`, with its positional arguments mapped to
//! QKeras' constructor parameters.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{Alpha, Quantizer};

/// Constructor parameters in order, for positional arguments of the string form.
pub(super) fn params(class: &str) -> Option<&'static [&'static str]> {
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
        "stochastic_binary" => &["alpha", "temperature", "use_real_sigmoid"],
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
pub(super) fn unsupported_class(class: &str) -> Option<&'static str> {
    Some(match class {
        "stochastic_ternary" | "bernoulli" => "its output is random",
        "quantized_tanh" | "quantized_sigmoid" | "quantized_ulaw" | "quantized_hswish" => {
            "it applies a nonlinear function before quantizing, which has no exact fixed-point form"
        }
        _ => return None,
    })
}

/// True when `name` is a QKeras quantizer class (supported or not).
pub(in crate::frontend::keras) fn is_quantizer_class(name: &str) -> bool {
    params(name).is_some() || unsupported_class(name).is_some()
}

/// Parses a quantizer from a layer config value; `Ok(None)` for `null`.
pub(in crate::frontend::keras) fn parse(v: &Value) -> Result<Option<Quantizer>, String> {
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
pub(in crate::frontend::keras) fn parse_call(text: &str) -> Result<Quantizer, String> {
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

pub(super) fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// Splits on commas outside quotes and brackets.
pub(super) fn split_args(s: &str) -> Vec<&str> {
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
pub(super) fn literal(s: &str) -> Option<Value> {
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
pub(super) struct Args<'a> {
    pub(super) text: &'a str,
    pub(super) map: BTreeMap<String, Value>,
}

impl Args<'_> {
    pub(super) fn err(&self, what: impl std::fmt::Display) -> String {
        format!("quantizer {}: {what}", self.text)
    }

    pub(super) fn get(&self, key: &str) -> Option<&Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    pub(super) fn int(&self, key: &str, default: i64) -> Result<i64, String> {
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

    pub(super) fn boolean(&self, key: &str, default: bool) -> Result<bool, String> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => match v.as_f64() {
                Some(f) => Ok(f != 0.0),
                None => Err(self.err(format!("{key}={v} is not a boolean"))),
            },
        }
    }

    pub(super) fn float(&self, key: &str) -> Result<Option<f64>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b as i64 as f64)),
            Some(v) => match v.as_f64() {
                Some(f) if f.is_finite() => Ok(Some(f)),
                _ => Err(self.err(format!("{key}={v} is not a number"))),
            },
        }
    }

    pub(super) fn alpha(&self) -> Result<Alpha, String> {
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
    pub(super) fn common(&self) -> Result<(), String> {
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

    pub(super) fn bits(&self, default: i64) -> Result<i32, String> {
        let bits = self.int("bits", default)?;
        if !(1..=32).contains(&bits) {
            return Err(self.err(format!("bits={bits} is outside 1..=32")));
        }
        Ok(bits as i32)
    }

    pub(super) fn integer(&self) -> Result<i32, String> {
        let integer = self.int("integer", 0)?;
        if !(-64..=64).contains(&integer) {
            return Err(self.err(format!("integer={integer} is outside -64..=64")));
        }
        Ok(integer as i32)
    }

    pub(super) fn log2_floor(&self) -> Result<bool, String> {
        match self.get("log2_rounding").and_then(Value::as_str) {
            None | Some("rnd") => Ok(false),
            Some("floor") => Ok(true),
            Some(other) => Err(self.err(format!("log2_rounding='{other}' is not supported"))),
        }
    }

    pub(super) fn po2_slope(&self, key: &str) -> Result<f64, String> {
        let s = self.float(key)?.unwrap_or(0.0);
        if s < 0.0 || (s != 0.0 && s.log2().fract() != 0.0) {
            return Err(self.err(format!("{key}={s} is not zero or a power of two")));
        }
        Ok(s)
    }
}

pub(super) fn format_text(class: &str, map: &BTreeMap<String, Value>, order: &[&str]) -> String {
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
