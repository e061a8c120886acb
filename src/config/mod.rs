//! User configuration: hls4ml-style keys from a YAML file plus command-line overrides, resolved
//! into one [`LayerSettings`] per layer.
//!
//! Layout (keys as in hls4ml; a value given for a layer name overrides its layer type, which
//! overrides the model-wide value, field by field):
//!
//! ```yaml
//! IOType: io_stream                    # or io_parallel (the default)
//! Model:
//!   Precision: ap_fixed<16,6>          # one type for everything, or a map:
//!   ReuseFactor: 1
//!   Strategy: Latency                  # or Resource
//! LayerType:
//!   Dense:
//!     Precision:
//!       weight: ap_fixed<8,3>
//!       bias: ap_fixed<8,3>
//!       result: ap_fixed<16,6>
//!       accum: auto
//! LayerName:
//!   dense_2:
//!     ReuseFactor: 4
//!     Precision:
//!       result: ap_fixed<18,8>
//!   sigmoid_1:
//!     TableSize: 2048
//!     Precision:
//!       table: ap_ufixed<18,0,AP_RND,AP_SAT>
//! ```
//!
//! A precision is a type (`ap_fixed<W,I,Q,O>`, `ap_ufixed`, `ap_int`, `ap_uint`, or hls4ml's
//! `fixed<...>`) or `auto` (exact: wide enough that no value is lost). Unknown keys are errors.
//! In YAML flow style (`{ ... }`) a type's comma must be quoted: `{ result: "ap_fixed<18,8>" }`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::fixed::{FixedType, OverflowMode, QuantMode};
use crate::ir::{Layer, Node, Strategy};

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{path}: {message}")]
    Read { path: String, message: String },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{what}: '{text}' is not a precision: {message}")]
    Precision { what: String, text: String, message: String },
    #[error("configuration names layer '{0}', which the model does not have")]
    UnknownLayer(String),
    #[error("configuration names layer type '{0}'; known types: {1}")]
    UnknownLayerType(String, String),
}

/// A precision setting: a fixed type or `auto` (exact inference).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Precision {
    Auto,
    Fixed(FixedType),
}

impl Precision {
    pub fn parse(text: &str, what: &str) -> Result<Self, ConfigError> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("auto") {
            return Ok(Precision::Auto);
        }
        t.parse::<FixedType>().map(Precision::Fixed).map_err(|e| ConfigError::Precision {
            what: what.to_string(),
            text: text.to_string(),
            message: e.to_string(),
        })
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Precision::Auto => write!(f, "auto"),
            Precision::Fixed(t) => write!(f, "{t}"),
        }
    }
}

/// The precision fields a layer may set.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PrecisionSet {
    pub result: Option<Precision>,
    pub weight: Option<Precision>,
    pub bias: Option<Precision>,
    pub accum: Option<Precision>,
    pub table: Option<Precision>,
}

impl PrecisionSet {
    fn overlay(&mut self, o: &PrecisionSet) {
        for (mine, theirs) in [
            (&mut self.result, o.result),
            (&mut self.weight, o.weight),
            (&mut self.bias, o.bias),
            (&mut self.accum, o.accum),
            (&mut self.table, o.table),
        ] {
            if theirs.is_some() {
                *mine = theirs;
            }
        }
    }
}

/// Settings at one level (model, layer type or layer name).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Settings {
    pub precision: PrecisionSet,
    pub reuse_factor: Option<usize>,
    pub strategy: Option<Strategy>,
    pub table_size: Option<usize>,
}

impl Settings {
    fn overlay(&mut self, o: &Settings) {
        self.precision.overlay(&o.precision);
        if o.reuse_factor.is_some() {
            self.reuse_factor = o.reuse_factor;
        }
        if o.strategy.is_some() {
            self.strategy = o.strategy;
        }
        if o.table_size.is_some() {
            self.table_size = o.table_size;
        }
    }
}

/// The effective settings of one layer: what the passes apply.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerSettings {
    /// Result type; `None` means the passes choose (the default precision or an exact type).
    pub result: Option<Precision>,
    pub weight: Option<Precision>,
    pub bias: Option<Precision>,
    pub accum: Option<Precision>,
    pub table: Option<Precision>,
    pub table_size: Option<usize>,
    pub reuse_factor: usize,
    pub strategy: Strategy,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Config {
    /// Type used where nothing else decides: `ap_fixed<16,6,AP_RND,AP_SAT>` unless overridden.
    /// Rounding and saturation cost a few LUTs per output but keep a large logit from wrapping
    /// to a negative one (with hls4ml's `AP_TRN, AP_WRAP` default, 5 % of a random 16-64-32-32-5
    /// MLP's argmax decisions flip).
    pub default_precision: FixedType,
    pub model: Settings,
    pub layer_type: BTreeMap<String, Settings>,
    pub layer_name: BTreeMap<String, Settings>,
    /// `IOType` (hls4ml's key, at the top level): how the firmware's tensors move; `None` when
    /// the file does not say (io_parallel unless the command line says otherwise).
    pub io_type: Option<IoStyle>,
}

/// How the firmware's tensors move (hls4ml's `IOType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum IoStyle {
    /// Every tensor a completely partitioned array.
    #[default]
    Parallel,
    /// Every tensor a stream of pixels; layers are dataflow processes.
    Stream,
}

impl std::str::FromStr for IoStyle {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "io_parallel" => Ok(IoStyle::Parallel),
            "io_stream" => Ok(IoStyle::Stream),
            other => Err(format!("'{other}' is not an IOType (io_parallel or io_stream)")),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            default_precision: FixedType::new(16, 6, true).with_modes(QuantMode::Rnd, OverflowMode::Sat),
            io_type: None,
            model: Settings::default(),
            layer_type: BTreeMap::new(),
            layer_name: BTreeMap::new(),
        }
    }
}

/// The names accepted under `LayerType` for each IR layer kind (hls4ml's class names and ours).
const TYPE_NAMES: &[(&str, &[&str])] = &[
    ("input", &["input", "inputlayer"]),
    ("dense", &["dense", "qdense"]),
    ("batch_norm", &["batch_norm", "batchnormalization", "qbatchnormalization"]),
    (
        "activation",
        &[
            "activation",
            "qactivation",
            "relu",
            "leakyrelu",
            "prelu",
            "sigmoid",
            "tanh",
            "elu",
            "selu",
            "softplus",
            "softsign",
            "thresholdedrelu",
            "hardswish",
        ],
    ),
    ("softmax", &["softmax"]),
    (
        "elementwise",
        &["elementwise", "merge", "add", "subtract", "multiply", "maximum", "minimum", "average"],
    ),
    ("concatenate", &["concatenate", "concat"]),
    ("reshape", &["reshape", "flatten"]),
    ("quantize", &["quantize"]),
    (
        "conv",
        &[
            "conv",
            "conv1d",
            "conv2d",
            "qconv1d",
            "qconv2d",
            "depthwiseconv1d",
            "depthwiseconv2d",
            "qdepthwiseconv2d",
            "separableconv1d",
            "separableconv2d",
            "qseparableconv1d",
            "qseparableconv2d",
            "qconv2dbatchnorm",
            "pointwiseconv1d",
            "pointwiseconv2d",
        ],
    ),
    (
        "pool",
        &[
            "pool",
            "pooling1d",
            "pooling2d",
            "maxpooling1d",
            "maxpooling2d",
            "averagepooling1d",
            "averagepooling2d",
            "qaveragepooling2d",
            "globalpooling1d",
            "globalpooling2d",
            "globalmaxpooling1d",
            "globalmaxpooling2d",
            "globalaveragepooling1d",
            "globalaveragepooling2d",
            "qglobalaveragepooling2d",
        ],
    ),
    ("pad", &["pad", "zeropadding1d", "zeropadding2d", "cropping1d", "cropping2d"]),
    ("upsample", &["upsample", "upsampling1d", "upsampling2d", "resize"]),
    ("transpose", &["transpose", "permute"]),
    (
        "reduce",
        &[
            "reduce",
            "reducesum",
            "reducemean",
            "reducemax",
            "reducemin",
            "reducesumsquare",
            "reducel1",
            "reducel2",
        ],
    ),
];

fn kind_of_type_name(name: &str) -> Option<&'static str> {
    let n = name.to_ascii_lowercase();
    TYPE_NAMES.iter().find(|(_, names)| names.contains(&n.as_str())).map(|(k, _)| *k)
}

impl Config {
    /// Reads a YAML configuration file.
    pub fn from_yaml_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::Read { path: path.display().to_string(), message: e.to_string() })?;
        Self::from_yaml_str(&text, &path.display().to_string())
    }

    pub fn from_yaml_str(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let raw: RawConfig = serde_yaml_ng::from_str(text)
            .map_err(|e| ConfigError::Parse { path: origin.to_string(), message: e.to_string() })?;
        let mut cfg = Config::default();
        if let Some(t) = &raw.io_type {
            cfg.io_type =
                Some(t.parse().map_err(|message| ConfigError::Parse { path: origin.to_string(), message })?);
        }
        if let Some(m) = &raw.model {
            cfg.model = m.resolve("Model")?;
            if let Some(Precision::Fixed(t)) = m.default_precision("Model")? {
                cfg.default_precision = t;
            }
        }
        for (name, s) in &raw.layer_type {
            let kind = kind_of_type_name(name).ok_or_else(|| {
                let known: Vec<&str> = TYPE_NAMES.iter().flat_map(|(_, n)| n.iter().copied()).collect();
                ConfigError::UnknownLayerType(name.clone(), known.join(", "))
            })?;
            let settings = s.resolve(&format!("LayerType.{name}"))?;
            cfg.layer_type.entry(kind.to_string()).or_default().overlay(&settings);
        }
        for (name, s) in &raw.layer_name {
            cfg.layer_name.insert(name.clone(), s.resolve(&format!("LayerName.{name}"))?);
        }
        Ok(cfg)
    }

    /// Applies command-line overrides at the model level (`--precision`, `--reuse-factor`,
    /// `--strategy`).
    pub fn override_model(
        &mut self,
        precision: Option<FixedType>,
        reuse: Option<usize>,
        strategy: Option<Strategy>,
    ) {
        if let Some(p) = precision {
            self.default_precision = p;
            for s in [
                &mut self.model.precision.result,
                &mut self.model.precision.weight,
                &mut self.model.precision.bias,
            ] {
                *s = Some(Precision::Fixed(p));
            }
        }
        if reuse.is_some() {
            self.model.reuse_factor = reuse;
        }
        if strategy.is_some() {
            self.model.strategy = strategy;
        }
    }

    /// The effective settings of `node`: layer name over layer type over model.
    pub fn for_node(&self, node: &Node) -> LayerSettings {
        let mut s = self.model.clone();
        if let Some(t) = self.layer_type.get(node.layer.kind()) {
            s.overlay(t);
        }
        if let Layer::Activation(a) = &node.layer {
            if let Some(t) = self.layer_type.get(a.name()) {
                s.overlay(t);
            }
        }
        if let Some(n) = self.layer_name.get(&node.name) {
            s.overlay(n);
        }
        LayerSettings {
            result: s.precision.result,
            weight: s.precision.weight,
            bias: s.precision.bias,
            accum: s.precision.accum,
            table: s.precision.table,
            table_size: s.table_size,
            reuse_factor: s.reuse_factor.unwrap_or(1),
            strategy: s.strategy.unwrap_or_default(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(rename = "IOType")]
    io_type: Option<String>,
    #[serde(rename = "Model")]
    model: Option<RawSettings>,
    #[serde(rename = "LayerType", default)]
    layer_type: BTreeMap<String, RawSettings>,
    #[serde(rename = "LayerName", default)]
    layer_name: BTreeMap<String, RawSettings>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    #[serde(rename = "Precision")]
    precision: Option<RawPrecision>,
    #[serde(rename = "ReuseFactor")]
    reuse_factor: Option<usize>,
    #[serde(rename = "Strategy")]
    strategy: Option<String>,
    #[serde(rename = "TableSize")]
    table_size: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawPrecision {
    One(String),
    Many(BTreeMap<String, String>),
}

impl RawSettings {
    fn default_precision(&self, what: &str) -> Result<Option<Precision>, ConfigError> {
        match &self.precision {
            Some(RawPrecision::One(t)) => Precision::parse(t, what).map(Some),
            Some(RawPrecision::Many(m)) => m
                .get("default")
                .map(|t| Precision::parse(t, &format!("{what}.Precision.default")))
                .transpose(),
            None => Ok(None),
        }
    }

    fn resolve(&self, what: &str) -> Result<Settings, ConfigError> {
        let mut p = PrecisionSet::default();
        match &self.precision {
            Some(RawPrecision::One(t)) => {
                let v = Some(Precision::parse(t, &format!("{what}.Precision"))?);
                p = PrecisionSet { result: v, weight: v, bias: v, accum: None, table: None };
            }
            Some(RawPrecision::Many(m)) => {
                for (key, text) in m {
                    let v = Some(Precision::parse(text, &format!("{what}.Precision.{key}"))?);
                    match key.as_str() {
                        "default" => {
                            p.result = p.result.or(v);
                            p.weight = p.weight.or(v);
                            p.bias = p.bias.or(v);
                        }
                        "result" => p.result = v,
                        "weight" => p.weight = v,
                        "bias" => p.bias = v,
                        "accum" => p.accum = v,
                        "table" => p.table = v,
                        other => {
                            return Err(ConfigError::Precision {
                                what: format!("{what}.Precision"),
                                text: other.to_string(),
                                message:
                                    "unknown key (expected default, result, weight, bias, accum or table)"
                                        .into(),
                            })
                        }
                    }
                }
            }
            None => {}
        }
        let strategy = match self.strategy.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None => None,
            Some("latency") => Some(Strategy::Latency),
            Some("resource") => Some(Strategy::Resource),
            Some(other) => {
                return Err(ConfigError::Parse {
                    path: what.to_string(),
                    message: format!("Strategy '{other}' is not Latency or Resource"),
                })
            }
        };
        if self.reuse_factor == Some(0) {
            return Err(ConfigError::Parse {
                path: what.to_string(),
                message: "ReuseFactor must be at least 1".into(),
            });
        }
        if let Some(t) = self.table_size {
            if !t.is_power_of_two() || !(2..=65536).contains(&t) {
                return Err(ConfigError::Parse {
                    path: what.to_string(),
                    message: format!("TableSize {t} must be a power of two from 2 to 65536"),
                });
            }
        }
        Ok(Settings { precision: p, reuse_factor: self.reuse_factor, strategy, table_size: self.table_size })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layer_kind_has_type_names() {
        for kind in Layer::KINDS {
            assert_eq!(kind_of_type_name(kind), Some(*kind), "LayerType names of {kind}");
        }
        assert_eq!(TYPE_NAMES.len(), Layer::KINDS.len());
    }
}
