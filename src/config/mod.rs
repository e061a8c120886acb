//! User configuration: hls4ml configuration files read unchanged, plus command-line overrides,
//! resolved into one [`LayerSettings`] per layer.
//!
//! Accepted layouts: a complete `hls4ml_config.yml` as hls4ml writes it into a project, a file
//! rooted at `HLSConfig:` (the dictionary of `config_from_keras_model` / `config_from_onnx_model`)
//! or the bare `Model` / `LayerType` / `LayerName` keys at the top level. A value given for a layer
//! name overrides its layer type, which overrides the model-wide value, field by field; the
//! command line overrides the file.
//!
//! ```yaml
//! Backend: Vitis                       # Vitis, Vivado or VivadoAccelerator; others are refused
//! Part: xcvu9p-flga2104-2L-e           # honoured unless --part is given
//! ClockPeriod: 5                       # unless --clock-period
//! IOType: io_stream                    # or io_parallel (the default); unless --io-type
//! ProjectName: myproject               # unless --project-name
//! OutputDir: my_prj                    # compile's output directory unless -o
//! HLSConfig:
//!   Model:
//!     Precision: fixed<16,6>           # one type for everything, or a map (default: ...)
//!     ReuseFactor: 1
//!     Strategy: Latency                # or Resource
//!     FifoDepth: 16                    # io_stream: auto, max or a depth for every FIFO
//!     EdgeParallelism: 8               # graph models: the resource-optimized form, 8 rows a cycle
//!   LayerType:
//!     Dense:
//!       Precision: {weight: "ap_fixed<8,3>", bias: "ap_fixed<8,3>", accum: auto}
//!   LayerName:
//!     softmax:
//!       TableSize: 1024
//!       Precision: {exp_table_t: "ufixed<18,8,RND,SAT>", inv_table_t: "ufixed<18,4>"}
//! ```
//!
//! Precision keys (each also spelled with `_t`): `default`, `result`, `weight`, `bias`, `accum`,
//! `table` (every table of the layer), `exp_table` and `inv_table` (a softmax's), `scale` and
//! `param` (a batch normalization's scale, a leaky or parametric activation's slope). A key for
//! a tensor the addressed layers do not have gives a warning ([`Config::tensor_warnings`]). A
//! precision is `ap_fixed<W,I,Q,O>`, `ap_ufixed`, `ap_int`, `ap_uint`, hls4ml's `fixed<...>`,
//! `ufixed<...>`, `int<W>`, `uint<W>` (modes with or without `AP_`), or `auto`: hls-gen decides,
//! as hls4ml's type inference does: the result of an input, an activation or a softmax gets the
//! default precision; any other tensor an exact type, wide enough that no value is lost.
//! Configuration entries for layers the model does not have are errors, unless they change
//! nothing ([`Settings::is_inert`], or [`Config::adds_nothing`] to the layer `<class>_<name>`
//! derives from): hls4ml writes those for layers it creates itself; they are skipped with a note.
//!
//! Keys hls4ml defines that have no effect here are accepted with one warning each, in
//! [`Config::warnings`], saying why: `ClockUncertainty`, `WriterConfig` (`Namespace`,
//! `WriteWeightsTxt`, `WriteTar`, ...), `Stamp`, `Version`, the model paths (`KerasJson`,
//! `KerasH5`, `KerasModel`, `OnnxModel`, `PytorchModel`, `InputShape`), `InputData`,
//! `OutputPredictions`, `AcceleratorConfig`, `Flows`, `BramFactor`, `TraceOutput`, `Trace`,
//! `ParallelizationFactor`, `ConvImplementation`, `Implementation`, per-layer `FifoDepth`, and
//! precision keys of tensors hls-gen has no counterpart for (`maximum`, `depthwise`, `pointwise`,
//! recurrent tensors, ...). Any other key is an error naming the file, the key path and the nearest
//! valid key. In YAML flow style (`{ ... }`) a type's comma must be quoted.

mod hls4ml;

pub(crate) use hls4ml::nearest;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use thiserror::Error;

use crate::estimate::stream::FifoDepth;
use crate::fixed::{FixedType, OverflowMode, QuantMode};
use crate::ir::{Graph, Layer, Node, Strategy};

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
    #[error("{path}: unknown key '{key}' in {at}{hint}")]
    UnknownKey { path: String, key: String, at: String, hint: String },
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
    /// Every lookup table of the layer, unless `exp_table` / `inv_table` say otherwise.
    pub table: Option<Precision>,
    /// A softmax's exponential table.
    pub exp_table: Option<Precision>,
    /// A softmax's reciprocal table.
    pub inv_table: Option<Precision>,
    /// A constant named `scale` or `alpha` (batch normalization, leaky and parametric
    /// activations: hls4ml's `scale` and `param`); `weight` when unset.
    pub scale: Option<Precision>,
}

/// A tensor a precision key sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Tensor {
    Result,
    Weight,
    Bias,
    Accum,
    Table,
    ExpTable,
    InvTable,
    Scale,
}

impl Tensor {
    /// Whether `node` has this tensor (every node has a result).
    pub fn of(self, node: &Node) -> bool {
        let l = &node.layer;
        match self {
            Tensor::Result => true,
            Tensor::Weight => l.constants().iter().any(|(r, _)| *r != "bias"),
            Tensor::Bias => l.constants().iter().any(|(r, _)| *r == "bias"),
            Tensor::Scale => l.constants().iter().any(|(r, _)| matches!(*r, "scale" | "alpha")),
            Tensor::Accum => l.internal_types().iter().any(|(r, _)| *r == "accumulator"),
            Tensor::Table => !l.tables().is_empty(),
            Tensor::ExpTable => l.tables().iter().any(|(r, _)| *r == "exp_table"),
            Tensor::InvTable => l.tables().iter().any(|(r, _)| *r == "inv_table"),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Tensor::Result => "result",
            Tensor::Weight => "weights",
            Tensor::Bias => "bias",
            Tensor::Accum => "accumulator",
            Tensor::Table => "lookup table",
            Tensor::ExpTable => "exponential table",
            Tensor::InvTable => "reciprocal table",
            Tensor::Scale => "scale",
        }
    }
}

/// Where a per-layer precision key applies: one layer or every layer of a kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Scope {
    Name(String),
    Kind(String),
}

/// A precision key of a `LayerName` or `LayerType` entry, kept to check that the layers it
/// names have the tensor it sets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrecisionUse {
    /// The key's path in the file, e.g. `LayerName.fc1.Precision.table_t`.
    pub path: String,
    pub scope: Scope,
    pub tensor: Tensor,
}

impl PrecisionSet {
    fn slot(&mut self, t: Tensor) -> &mut Option<Precision> {
        match t {
            Tensor::Result => &mut self.result,
            Tensor::Weight => &mut self.weight,
            Tensor::Bias => &mut self.bias,
            Tensor::Accum => &mut self.accum,
            Tensor::Table => &mut self.table,
            Tensor::ExpTable => &mut self.exp_table,
            Tensor::InvTable => &mut self.inv_table,
            Tensor::Scale => &mut self.scale,
        }
    }

    fn overlay(&mut self, o: &PrecisionSet) {
        for (mine, theirs) in [
            (&mut self.result, o.result),
            (&mut self.weight, o.weight),
            (&mut self.bias, o.bias),
            (&mut self.accum, o.accum),
            (&mut self.table, o.table),
            (&mut self.exp_table, o.exp_table),
            (&mut self.inv_table, o.inv_table),
            (&mut self.scale, o.scale),
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
    /// Whether these settings change nothing under `model`'s: every precision `auto` or unset and
    /// the reuse factor, strategy and table size unset or equal to `model`'s. hls4ml writes such
    /// entries for layers it creates itself (constant inputs `*_param0`, merged `Dense_*`, `bn_*`).
    pub fn is_inert(&self, model: &Settings) -> bool {
        let p = &self.precision;
        let precisions = [p.result, p.weight, p.bias, p.accum, p.table, p.exp_table, p.inv_table, p.scale];
        let same = |mine: Option<usize>, theirs: Option<usize>| mine.is_none() || mine == theirs;
        precisions.iter().all(|t| matches!(t, None | Some(Precision::Auto)))
            && same(self.reuse_factor, model.reuse_factor.or(Some(1)))
            && (self.strategy.is_none() || self.strategy == model.strategy.or(Some(Strategy::Latency)))
            && same(self.table_size, model.table_size)
    }

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
    pub exp_table: Option<Precision>,
    pub inv_table: Option<Precision>,
    pub scale: Option<Precision>,
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
    /// `Part`: the FPGA part when the command line does not name one.
    pub part: Option<String>,
    /// `ClockPeriod` in ns.
    pub clock_period: Option<f64>,
    /// `ProjectName`: the project and top-function name.
    pub project_name: Option<String>,
    /// `OutputDir`: where `compile` writes the project when `-o` is not given.
    pub output_dir: Option<PathBuf>,
    /// `Backend` (hls4ml's key, at the top level): Vivado (and VivadoAccelerator) means Vivado
    /// HLS, Vitis means Vitis HLS: the tool whose csynth report the estimate predicts; `None`
    /// when the file does not say (Vitis HLS unless the command line says otherwise).
    pub hls_tool: Option<crate::estimate::HlsTool>,
    /// `Model: FifoDepth`: io_stream FIFO depths (auto, max or a number for every FIFO).
    #[serde(skip)]
    pub fifo_depth: Option<FifoDepth>,
    /// `Model: EdgeParallelism`: graph models' resource-optimized form at this many rows per
    /// cycle (`--edge-parallelism`).
    pub edge_parallelism: Option<usize>,
    /// The precision keys of `LayerName` and `LayerType` entries, to check against the model.
    pub precision_uses: Vec<PrecisionUse>,
    /// One message per hls4ml key that has no effect in hls-gen, in key order.
    pub warnings: Vec<String>,
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
            part: None,
            clock_period: None,
            project_name: None,
            output_dir: None,
            hls_tool: None,
            fifo_depth: None,
            edge_parallelism: None,
            precision_uses: Vec::new(),
            warnings: Vec::new(),
            model: Settings::default(),
            layer_type: BTreeMap::new(),
            layer_name: BTreeMap::new(),
        }
    }
}

/// The names accepted under `LayerType` for each IR layer kind (hls4ml's class names and ours).
/// hls4ml's ONNX reader makes a `MatMul` of a constant matrix a Dense.
const TYPE_NAMES: &[(&str, &[&str])] = &[
    ("input", &["input", "inputlayer"]),
    ("dense", &["dense", "qdense", "matmul"]),
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
    ("gather_rows", &["gather_rows", "gather"]),
    ("scatter_add", &["scatter_add", "scatterelements", "scatternd"]),
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

    /// Reads a configuration from YAML text; `origin` (the file name) starts every message.
    pub fn from_yaml_str(text: &str, origin: &str) -> Result<Self, ConfigError> {
        hls4ml::read(text, origin)
    }

    /// Warnings for precision keys naming a tensor the layers they address do not have, checked
    /// against the lowered model; layers the model does not have are left to the passes.
    pub fn tensor_warnings(&self, g: &Graph) -> Vec<String> {
        let nodes: Vec<&Node> = g.node_ids().iter().map(|&i| g.node(i)).collect();
        let mut out = Vec::new();
        for u in &self.precision_uses {
            let (addressed, what): (Vec<&&Node>, String) = match &u.scope {
                Scope::Name(n) => (nodes.iter().filter(|x| x.name == *n).collect(), format!("layer '{n}'")),
                Scope::Kind(k) => {
                    (nodes.iter().filter(|x| x.layer.kind() == k.as_str()).collect(), format!("no {k} layer"))
                }
            };
            if addressed.is_empty() || addressed.iter().any(|x| u.tensor.of(x)) {
                continue;
            }
            let message = match &u.scope {
                Scope::Name(_) => format!(
                    "{}: {what} ({}) has no {}; the key has no effect",
                    u.path,
                    addressed[0].layer.qualified_kind(),
                    u.tensor.describe()
                ),
                Scope::Kind(_) => {
                    format!(
                        "{}: {what} of the model has a {}; the key has no effect",
                        u.path,
                        u.tensor.describe()
                    )
                }
            };
            out.push(message);
        }
        out
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

    fn settings_of(&self, node: &Node) -> Settings {
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
        s
    }

    /// Whether `s`, laid over `node`'s settings, changes none of them.
    pub fn adds_nothing(&self, s: &Settings, node: &Node) -> bool {
        let base = self.settings_of(node);
        let mut over = base.clone();
        over.overlay(s);
        over == base
    }

    /// The effective settings of `node`: layer name over layer type over model.
    pub fn for_node(&self, node: &Node) -> LayerSettings {
        let s = self.settings_of(node);
        LayerSettings {
            result: s.precision.result,
            weight: s.precision.weight,
            bias: s.precision.bias,
            accum: s.precision.accum,
            table: s.precision.table,
            exp_table: s.precision.exp_table,
            inv_table: s.precision.inv_table,
            scale: s.precision.scale,
            table_size: s.table_size,
            reuse_factor: s.reuse_factor.unwrap_or(1),
            strategy: s.strategy.unwrap_or_default(),
        }
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
