//! Reading hls4ml configuration files into a [`Config`].
//!
//! The YAML is walked by hand rather than through derived structs so that every key is checked
//! against hls4ml's schema with its full path: a key hls-gen honours is applied, a key hls4ml
//! defines but hls-gen has no use for is accepted and named in one warning saying why it has no
//! effect, and any other key is an error that names the file, the key path and the nearest valid
//! key. Warnings are collected in [`Config::warnings`], one per ignored key, in key order.

use std::collections::BTreeMap;

use serde_yaml_ng::Value;

use super::{Config, ConfigError, IoStyle, Precision, PrecisionSet, PrecisionUse, Scope, Settings, Tensor};
use crate::estimate::stream::FifoDepth;
use crate::estimate::HlsTool;
use crate::ir::Strategy;

/// Why the model-path keys have no effect.
const FROM_COMMAND_LINE: &str = "the model comes from the command line (hls-gen compile MODEL)";
const TRACE: &str =
    "hls-gen's firmware has no trace outputs; `hls-gen sim --trace DIR` writes every layer's output";
const WRITER: &str = "hls-gen writes its own project layout (constants in headers, no tarball, no namespace)";
const CONSTANTS: &str = "hls-gen folds every constant (hls4ml's Constant layer) into the layer that uses \
     it, whose precision keys set its type";
const OWN_PASSES: &str = "hls-gen runs its own pass pipeline (see --dump-ir-after)";
const CONV_DESIGN: &str =
    "hls-gen's convolutions always use its own line-buffer/unrolled design; ReuseFactor sets their parallelism";

/// Top-level keys hls4ml defines that hls-gen accepts without using them.
const TOP_IGNORED: &[(&str, &str)] = &[
    ("AcceleratorConfig", "hls-gen writes no VivadoAccelerator wrapper; the project's top is the HLS kernel"),
    (
        "ClockUncertainty",
        "the estimate and build_prj.tcl assume Vitis HLS's default uncertainty (27 % of the period)",
    ),
    ("Flows", OWN_PASSES),
    ("InputData", "testbench inputs come from --tb-input (or are generated)"),
    ("InputShape", FROM_COMMAND_LINE),
    ("InputShapes", FROM_COMMAND_LINE),
    ("KerasH5", FROM_COMMAND_LINE),
    ("KerasJson", FROM_COMMAND_LINE),
    ("KerasModel", FROM_COMMAND_LINE),
    ("OnnxModel", FROM_COMMAND_LINE),
    ("OutputShapes", "output shapes come from the model"),
    ("OutputPredictions", "the testbench's expected outputs are the bit-exact simulator's"),
    ("PytorchModel", FROM_COMMAND_LINE),
    ("Stamp", "hls4ml bookkeeping; hls-gen's output is deterministic and carries no stamp"),
    ("Version", "hls4ml bookkeeping"),
];

/// Top-level keys hls-gen honours.
const TOP_HONOURED: &[&str] = &[
    "Backend",
    "ClockPeriod",
    "HLSConfig",
    "IOType",
    "LayerName",
    "LayerType",
    "Model",
    "OutputDir",
    "Part",
    "ProjectName",
    "WriterConfig",
];

/// Keys under `HLSConfig`.
const HLS_HONOURED: &[&str] = &["LayerName", "LayerType", "Model"];
const HLS_IGNORED: &[(&str, &str)] =
    &[("Flows", OWN_PASSES), ("Optimizers", OWN_PASSES), ("SkipOptimizers", OWN_PASSES)];

/// Keys under `WriterConfig`, none of which applies.
const WRITER_IGNORED: &[(&str, &str)] = &[
    ("Namespace", WRITER),
    ("TBOutputStream", "the testbench compares every output with the simulator's"),
    ("WriteEmulationConstants", WRITER),
    ("WriteTar", WRITER),
    ("WriteWeightsTxt", WRITER),
];

/// Keys of `Model`, a `LayerType` entry or a `LayerName` entry that hls-gen honours.
const SETTINGS_HONOURED: &[&str] =
    &["EdgeParallelism", "FifoDepth", "Precision", "ReuseFactor", "Skip", "Strategy", "TableSize"];
const SETTINGS_IGNORED: &[(&str, &str)] = &[
    (
        "BramFactor",
        "hls-gen places weights by its own rule (block RAM for large ROMs under the Resource strategy)",
    ),
    ("ConvImplementation", CONV_DESIGN),
    ("Implementation", "hls-gen's softmax and activations use its own lookup-table design"),
    ("ParallelizationFactor", CONV_DESIGN),
    ("Trace", TRACE),
    ("TraceOutput", TRACE),
];

/// Precision keys (after dropping a `_t` suffix) and the tensor each sets.
const PRECISION_TENSORS: &[(&str, Tensor)] = &[
    ("accum", Tensor::Accum),
    ("bias", Tensor::Bias),
    ("exp_table", Tensor::ExpTable),
    ("inv_table", Tensor::InvTable),
    ("param", Tensor::Scale),
    ("result", Tensor::Result),
    ("scale", Tensor::Scale),
    ("table", Tensor::Table),
    ("weight", Tensor::Weight),
];

/// hls4ml precision keys of tensors hls-gen's layers do not have.
const PRECISION_IGNORED: &[(&str, &str)] = &[
    ("depthwise", "hls-gen has no separate depthwise tensor; weight sets the convolution's weights"),
    ("depthwise_accum", "hls-gen has no separate depthwise accumulator; accum sets the convolution's"),
    ("depthwise_result", "hls-gen has no separate depthwise result; result sets the convolution's"),
    ("inv_inp", "hls-gen's softmax has no inverse-input type; inv_table sets its reciprocal table"),
    ("maximum", "hls-gen bounds exact types by its own maximum width"),
    ("mean", "hls-gen folds a batch normalization's mean into its scale and bias"),
    ("pointwise", "hls-gen has no separate pointwise tensor; weight sets the convolution's weights"),
    ("pointwise_accum", "hls-gen has no separate pointwise accumulator; accum sets the convolution's"),
    ("pointwise_bias", "hls-gen has no separate pointwise bias; bias sets the convolution's"),
    ("recurrent_bias", "hls-gen has no recurrent layers"),
    ("recurrent_weight", "hls-gen has no recurrent layers"),
    ("recr_weight", "hls-gen has no recurrent layers"),
    ("state", "hls-gen has no recurrent layers"),
    ("variance", "hls-gen folds a batch normalization's variance into its scale"),
];

/// Which level a settings block sits at.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Model,
    Layer,
}

/// What one settings block (Model, a LayerType entry or a LayerName entry) says.
struct Block {
    settings: Settings,
    /// `Precision` as one type or its `default` key.
    default: Option<Precision>,
    fifo_depth: Option<FifoDepth>,
    edge_parallelism: Option<usize>,
    /// The tensor keys of `Precision`, with their paths.
    uses: Vec<(String, Tensor)>,
}

struct Reader<'a> {
    origin: &'a str,
    /// Ignored key -> (where it appeared, why it has no effect).
    ignored: BTreeMap<String, (Vec<String>, &'static str)>,
}

/// Reads an hls4ml configuration (a complete `hls4ml_config.yml`, an `HLSConfig:`-rooted file or
/// the bare `Model`/`LayerType`/`LayerName` keys).
pub(super) fn read(text: &str, origin: &str) -> Result<Config, ConfigError> {
    let root: Value = serde_yaml_ng::from_str(text)
        .map_err(|e| ConfigError::Parse { path: origin.to_string(), message: e.to_string() })?;
    let mut r = Reader { origin, ignored: BTreeMap::new() };
    let mut cfg = Config::default();
    let mut blocks: Vec<(String, &str, &Value)> = Vec::new();
    let mut hls = None;
    for (key, v) in r.entries(&root, "")? {
        match key {
            "HLSConfig" => hls = Some(v),
            "Model" | "LayerType" | "LayerName" => blocks.push((key.to_string(), key, v)),
            "IOType" => {
                let t = r.string(v, "IOType")?;
                cfg.io_type = Some(t.parse().map_err(|m| r.error("IOType", m))?);
            }
            "Part" => cfg.part = Some(r.string(v, "Part")?),
            "ClockPeriod" => {
                let ns = r.number(v, "ClockPeriod")?;
                if !(ns.is_finite() && ns > 0.0) {
                    return Err(r.error("ClockPeriod", format!("{ns} ns is not a positive duration")));
                }
                cfg.clock_period = Some(ns);
            }
            "ProjectName" => cfg.project_name = Some(r.string(v, "ProjectName")?),
            "OutputDir" => cfg.output_dir = Some(r.string(v, "OutputDir")?.into()),
            "Backend" => cfg.hls_tool = r.backend(v)?,
            "WriterConfig" => {
                for (k, _) in r.entries(v, "WriterConfig")? {
                    let reason = r.ignored_or_unknown(k, "WriterConfig", &[], WRITER_IGNORED)?;
                    r.ignore(&format!("WriterConfig.{k}"), &format!("WriterConfig.{k}"), reason);
                }
            }
            other => {
                let reason = r.ignored_or_unknown(other, "", TOP_HONOURED, TOP_IGNORED)?;
                r.ignore(other, other, reason);
            }
        }
    }
    if let Some(h) = hls {
        if let Some((k, _, _)) = blocks.first() {
            return Err(r.error(k, "given both at the top level and inside HLSConfig; keep one".into()));
        }
        for (key, v) in r.entries(h, "HLSConfig")? {
            if HLS_HONOURED.contains(&key) {
                blocks.push((format!("HLSConfig.{key}"), key, v));
            } else {
                let reason = r.ignored_or_unknown(key, "HLSConfig", HLS_HONOURED, HLS_IGNORED)?;
                r.ignore(key, &format!("HLSConfig.{key}"), reason);
            }
        }
    }
    for (path, key, v) in blocks {
        match key {
            "Model" => {
                let b = r.block(v, &path, Level::Model)?;
                cfg.model = b.settings;
                if let Some(Precision::Fixed(t)) = b.default {
                    cfg.default_precision = t;
                }
                cfg.fifo_depth = b.fifo_depth;
                cfg.edge_parallelism = b.edge_parallelism;
            }
            "LayerType" => {
                for (name, s) in r.entries(v, &path)? {
                    if name.eq_ignore_ascii_case("constant") {
                        r.block(s, &format!("{path}.{name}"), Level::Layer)?;
                        r.ignore(&format!("LayerType.{name}"), &format!("{path}.{name}"), CONSTANTS);
                        continue;
                    }
                    let kind = super::kind_of_type_name(name).ok_or_else(|| {
                        let known: Vec<&str> =
                            super::TYPE_NAMES.iter().flat_map(|(_, n)| n.iter().copied()).collect();
                        ConfigError::UnknownLayerType(name.to_string(), known.join(", "))
                    })?;
                    let b = r.block(s, &format!("{path}.{name}"), Level::Layer)?;
                    cfg.layer_type.entry(kind.to_string()).or_default().overlay(&b.settings);
                    cfg.precision_uses.extend(b.uses.into_iter().map(|(path, tensor)| PrecisionUse {
                        path,
                        scope: Scope::Kind(kind.to_string()),
                        tensor,
                    }));
                }
            }
            _ => {
                for (name, s) in r.entries(v, &path)? {
                    let b = r.block(s, &format!("{path}.{name}"), Level::Layer)?;
                    cfg.layer_name.insert(name.to_string(), b.settings);
                    cfg.precision_uses.extend(b.uses.into_iter().map(|(path, tensor)| PrecisionUse {
                        path,
                        scope: Scope::Name(name.to_string()),
                        tensor,
                    }));
                }
            }
        }
    }
    if cfg.fifo_depth.is_some() && cfg.io_type != Some(IoStyle::Stream) {
        r.ignore(
            "Model.FifoDepth",
            "Model.FifoDepth",
            "FIFO depths apply to io_stream designs (IOType io_stream or --io-type io_stream)",
        );
    }
    cfg.warnings = r.render();
    Ok(cfg)
}

/// The number of single-character edits (insertions, deletions, substitutions) that turn `a`
/// into `b`, ignoring ASCII case.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().map(|c| c.to_ascii_lowercase()).collect();
    let b: Vec<char> = b.chars().map(|c| c.to_ascii_lowercase()).collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != cb);
            cur[j + 1] = substitute.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The candidate nearest to `key`, when it is near enough to be a likely misspelling.
pub fn nearest<'c>(key: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let limit = (key.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (edit_distance(key, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

impl Reader<'_> {
    fn error(&self, at: &str, message: String) -> ConfigError {
        ConfigError::Parse { path: self.origin.to_string(), message: format!("{at}: {message}") }
    }

    /// The reason an hls4ml key hls-gen ignores has no effect, or the unknown-key error.
    fn ignored_or_unknown(
        &self,
        key: &str,
        at: &str,
        honoured: &[&'static str],
        ignored: &[(&'static str, &'static str)],
    ) -> Result<&'static str, ConfigError> {
        if let Some((_, why)) = ignored.iter().find(|(k, _)| *k == key) {
            return Ok(why);
        }
        let all = honoured.iter().copied().chain(ignored.iter().map(|(k, _)| *k));
        Err(ConfigError::UnknownKey {
            path: self.origin.to_string(),
            key: key.to_string(),
            at: if at.is_empty() { "the top level".to_string() } else { at.to_string() },
            hint: nearest(key, all).map(|k| format!("; did you mean '{k}'?")).unwrap_or_default(),
        })
    }

    fn parse_precision(&self, text: &str, at: &str) -> Result<Precision, ConfigError> {
        Precision::parse(text, &format!("{}: {at}", self.origin))
    }

    fn ignore(&mut self, key: &str, path: &str, why: &'static str) {
        self.ignored.entry(key.to_string()).or_insert_with(|| (Vec::new(), why)).0.push(path.to_string());
    }

    fn render(&self) -> Vec<String> {
        self.ignored
            .iter()
            .map(|(key, (paths, why))| {
                let whre = if paths.len() == 1 && paths[0] == *key {
                    String::new()
                } else if paths.len() <= 3 {
                    format!(" ({})", paths.join(", "))
                } else {
                    format!(" ({} and {} more)", paths[..3].join(", "), paths.len() - 3)
                };
                format!("{}: {key}{whre} has no effect in hls-gen: {why}", self.origin)
            })
            .collect()
    }

    /// A mapping's entries in file order; `null` (an empty section) has none.
    fn entries<'v>(&self, v: &'v Value, at: &str) -> Result<Vec<(&'v str, &'v Value)>, ConfigError> {
        let place = if at.is_empty() { "the top level" } else { at };
        match v {
            Value::Null => Ok(Vec::new()),
            Value::Mapping(m) => m
                .iter()
                .map(|(k, v)| match k {
                    Value::String(s) => Ok((s.as_str(), v)),
                    other => Err(self.error(place, format!("key {other:?} is not a name"))),
                })
                .collect(),
            _ => Err(self.error(place, "expected a mapping of keys to values".into())),
        }
    }

    fn string(&self, v: &Value, at: &str) -> Result<String, ConfigError> {
        match v {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            _ => Err(self.error(at, "expected a string".into())),
        }
    }

    fn number(&self, v: &Value, at: &str) -> Result<f64, ConfigError> {
        match v {
            Value::Number(n) => n.as_f64().ok_or_else(|| self.error(at, "expected a number".into())),
            Value::String(s) => {
                s.trim().parse().map_err(|_| self.error(at, format!("'{s}' is not a number")))
            }
            _ => Err(self.error(at, "expected a number".into())),
        }
    }

    fn count(&self, v: &Value, at: &str) -> Result<usize, ConfigError> {
        match v {
            Value::Number(n) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
        .ok_or_else(|| self.error(at, "expected a non-negative integer".into()))
    }

    /// The tool a `Backend` names, whose csynth report the estimate predicts.
    fn backend(&mut self, v: &Value) -> Result<Option<HlsTool>, ConfigError> {
        let name = self.string(v, "Backend")?;
        match name.to_ascii_lowercase().as_str() {
            "vitis" => Ok(Some(HlsTool::VitisHls)),
            "vivado" => Ok(Some(HlsTool::VivadoHls)),
            "vivadoaccelerator" => {
                self.ignore(
                    "Backend",
                    "Backend",
                    "VivadoAccelerator is built as the Vitis HLS backend; no accelerator wrapper or driver is written",
                );
                Ok(Some(HlsTool::VivadoHls))
            }
            _ => Err(self.error(
                "Backend",
                format!(
                    "'{name}' is not supported: hls-gen writes Vitis HLS projects \
                     (Backend Vitis, Vivado or VivadoAccelerator; or --backend rtl for Verilog)"
                ),
            )),
        }
    }

    /// One settings block: `Model`, a `LayerType` entry or a `LayerName` entry.
    fn block(&mut self, v: &Value, at: &str, level: Level) -> Result<Block, ConfigError> {
        let mut b = Block {
            settings: Settings::default(),
            default: None,
            fifo_depth: None,
            edge_parallelism: None,
            uses: Vec::new(),
        };
        for (key, v) in self.entries(v, at)? {
            let here = format!("{at}.{key}");
            match key {
                "Precision" => self.precision(v, &here, &mut b)?,
                "ReuseFactor" => {
                    let rf = self.count(v, &here)?;
                    if rf == 0 {
                        return Err(self.error(&here, "ReuseFactor must be at least 1".into()));
                    }
                    b.settings.reuse_factor = Some(rf);
                }
                "Strategy" => {
                    let s = self.string(v, &here)?;
                    b.settings.strategy = Some(match s.to_ascii_lowercase().as_str() {
                        "latency" => Strategy::Latency,
                        "resource" => Strategy::Resource,
                        _ => return Err(self.error(&here, format!("'{s}' is not Latency or Resource"))),
                    });
                }
                "TableSize" => {
                    let t = self.count(v, &here)?;
                    if !t.is_power_of_two() || !(2..=65536).contains(&t) {
                        return Err(self
                            .error(&here, format!("TableSize {t} must be a power of two from 2 to 65536")));
                    }
                    b.settings.table_size = Some(t);
                }
                "Skip" => {
                    match v {
                        Value::Bool(false) => {}
                        Value::Bool(true) => return Err(self.error(
                            &here,
                            "Skip: true makes hls4ml drop this Softmax; hls-gen builds every layer of the \
                             model (export the model without the Softmax instead)"
                                .into(),
                        )),
                        _ => return Err(self.error(&here, "Skip must be true or false".into())),
                    }
                }
                "FifoDepth" if level == Level::Model => {
                    let text = self.string(v, &here)?;
                    b.fifo_depth = Some(text.parse().map_err(|m| self.error(&here, m))?);
                }
                "EdgeParallelism" if level == Level::Model => {
                    let n = match v {
                        Value::Number(n) => n.as_u64().filter(|&n| n >= 1),
                        _ => None,
                    };
                    let n = n.ok_or_else(|| {
                        self.error(&here, "EdgeParallelism must be a whole number of rows per cycle, at least 1".into())
                    })?;
                    b.edge_parallelism = Some(n as usize);
                }
                "EdgeParallelism" => self.ignore(
                    "EdgeParallelism",
                    &here,
                    "the resource-optimized form of a graph model is chosen for the whole model (Model EdgeParallelism or --edge-parallelism)",
                ),
                "FifoDepth" => self.ignore(
                    "FifoDepth",
                    &here,
                    "hls-gen gives every FIFO one depth (Model FifoDepth or --fifo-depth)",
                ),
                other => {
                    let reason = self.ignored_or_unknown(other, at, SETTINGS_HONOURED, SETTINGS_IGNORED)?;
                    self.ignore(other, &here, reason);
                }
            }
        }
        Ok(b)
    }

    fn precision(&mut self, v: &Value, at: &str, b: &mut Block) -> Result<(), ConfigError> {
        let p = &mut b.settings.precision;
        match v {
            Value::String(t) => {
                let one = self.parse_precision(t, at)?;
                b.default = Some(one);
                *p = PrecisionSet {
                    result: Some(one),
                    weight: Some(one),
                    bias: Some(one),
                    ..PrecisionSet::default()
                };
            }
            _ => {
                let mut default = None;
                for (key, v) in self.entries(v, at)? {
                    let here = format!("{at}.{key}");
                    let text = self.string(v, &here)?;
                    let name = key.strip_suffix("_t").unwrap_or(key);
                    if name == "default" {
                        default = Some(self.parse_precision(&text, &here)?);
                    } else if let Some((_, tensor)) = PRECISION_TENSORS.iter().find(|(k, _)| *k == name) {
                        let value = Some(self.parse_precision(&text, &here)?);
                        *p.slot(*tensor) = value;
                        b.uses.push((here, *tensor));
                    } else if let Some((_, why)) = PRECISION_IGNORED.iter().find(|(k, _)| *k == name) {
                        self.parse_precision(&text, &here)?;
                        self.ignore(&format!("Precision.{name}"), &here, why);
                    } else {
                        let names = PRECISION_TENSORS
                            .iter()
                            .map(|(k, _)| *k)
                            .chain(PRECISION_IGNORED.iter().map(|(k, _)| *k))
                            .chain(["default"]);
                        let spelled: Vec<String> =
                            names.flat_map(|k| [k.to_string(), format!("{k}_t")]).collect();
                        return Err(ConfigError::UnknownKey {
                            path: self.origin.to_string(),
                            key: key.to_string(),
                            at: at.to_string(),
                            hint: nearest(key, spelled.iter().map(String::as_str))
                                .map(|k| format!("; did you mean '{k}'?"))
                                .unwrap_or_default(),
                        });
                    }
                }
                if let Some(d) = default {
                    b.default = Some(d);
                    for s in [&mut p.result, &mut p.weight, &mut p.bias] {
                        *s = s.or(Some(d));
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("Presicion", "Precision"), 2);
        assert_eq!(edit_distance("reusefactor", "ReuseFactor"), 0);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(nearest("Presicion", SETTINGS_HONOURED.iter().copied()), Some("Precision"));
        assert_eq!(nearest("Frobnicate", SETTINGS_HONOURED.iter().copied()), None);
    }
}
