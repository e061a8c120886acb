//! The axes of a sweep and its points: values given on the command line (comma-separated lists)
//! or in a sweep file (YAML), their Cartesian product in a fixed order, and each point's hls4ml
//! configuration (the base configuration with the overrides whose `when` matches the point merged
//! over it, mappings key by key, later overrides winning).
//!
//! A sweep file:
//!
//! ```yaml
//! config: base.yml          # or an inline hls4ml mapping (Model, LayerName, ...)
//! axes:
//!   precision: ["ap_fixed<16,6>", "ap_fixed<8,3>"]
//!   reuse_factor: [1, 2, 4]
//!   strategy: [latency, resource]
//!   prune_below: [0, 0.01]
//! overrides:
//!   - when: {precision: "ap_fixed<8,3>"}
//!     config: {LayerName: {fc1: {Precision: {result: "ap_fixed<12,5>"}}}}
//! slurm:
//!   partition: short
//!   time: "00:30:00"
//!   mem: 4G
//!   account: cms
//!   sbatch: ["--qos=normal"]   # extra #SBATCH lines
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_yaml_ng::Value;

use super::{Common, PointSpec, SweepError, SweepSpec};
use crate::fixed::FixedType;

/// The values of each axis; an empty axis is not varied.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Axes {
    pub precision: Vec<String>,
    pub reuse_factor: Vec<usize>,
    pub strategy: Vec<String>,
    pub prune_below: Vec<f64>,
}

/// One point's value on each axis (`None`: the axis is not varied).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AxisValues {
    pub precision: Option<String>,
    pub reuse_factor: Option<usize>,
    pub strategy: Option<String>,
    pub prune_below: Option<f64>,
}

impl AxisValues {
    /// True when every value `when` sets equals this point's.
    fn matches(&self, when: &AxisValues) -> bool {
        (when.precision.is_none() || when.precision == self.precision)
            && (when.reuse_factor.is_none() || when.reuse_factor == self.reuse_factor)
            && (when.strategy.is_none() || when.strategy == self.strategy)
            && (when.prune_below.is_none() || when.prune_below == self.prune_below)
    }
}

/// Configuration merged into the points `when` matches (hls4ml YAML text).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Override {
    pub when: AxisValues,
    pub config: String,
}

/// Slurm settings a sweep file may give.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlurmFile {
    pub partition: Option<String>,
    pub time: Option<String>,
    pub mem: Option<String>,
    pub account: Option<String>,
    /// Extra `#SBATCH` options, one per line.
    pub sbatch: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileOverride {
    #[serde(default)]
    when: AxisValues,
    config: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SweepFile {
    #[serde(default)]
    config: Option<Value>,
    #[serde(default)]
    axes: Axes,
    #[serde(default)]
    overrides: Vec<FileOverride>,
    #[serde(default)]
    slurm: SlurmFile,
}

/// What a sweep file holds, read: the base configuration's text, the axes, the overrides and the
/// Slurm settings.
#[derive(Debug, Clone, Default)]
pub struct FileSettings {
    pub base_config: Option<String>,
    pub axes: Axes,
    pub overrides: Vec<Override>,
    pub slurm: SlurmFile,
}

fn yaml_text(v: &Value, origin: &str) -> Result<String, SweepError> {
    serde_yaml_ng::to_string(v).map_err(|e| SweepError::Spec(format!("{origin}: {e}")))
}

/// Reads a sweep file; a `config:` path is relative to the file.
pub fn read_file(path: &Path) -> Result<FileSettings, SweepError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(super::io(path))?;
    let f: SweepFile =
        serde_yaml_ng::from_str(&text).map_err(|e| SweepError::Spec(format!("sweep file {origin}: {e}")))?;
    let base_config = match f.config {
        None => None,
        Some(Value::String(p)) => {
            let p = path.parent().unwrap_or(Path::new(".")).join(p);
            Some(std::fs::read_to_string(&p).map_err(super::io(&p))?)
        }
        Some(v @ Value::Mapping(_)) => Some(yaml_text(&v, &origin)?),
        Some(_) => {
            return Err(SweepError::Spec(format!(
                "sweep file {origin}: 'config' is a file name or an hls4ml mapping"
            )))
        }
    };
    let overrides = f
        .overrides
        .into_iter()
        .enumerate()
        .map(|(k, o)| match o.config {
            Value::Mapping(_) => Ok(Override { when: o.when, config: yaml_text(&o.config, &origin)? }),
            _ => {
                Err(SweepError::Spec(format!("sweep file {origin}: overrides[{k}].config is not a mapping")))
            }
        })
        .collect::<Result<_, _>>()?;
    check_axes(&f.axes, &origin)?;
    Ok(FileSettings { base_config, axes: f.axes, overrides, slurm: f.slurm })
}

/// Splits a command-line list at the commas outside `<...>` (`ap_fixed<16,6>,ap_fixed<8,3>`).
pub fn split_list(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut depth, mut cur) = (0i32, String::new());
    for ch in s.chars() {
        match ch {
            '<' => depth += 1,
            '>' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur).trim().to_string());
                continue;
            }
            _ => {}
        }
        cur.push(ch);
    }
    if !cur.trim().is_empty() || !out.is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// Checks every axis value: precisions parse as types, reuse factors are at least 1, strategies
/// are `latency` or `resource`, thresholds are finite and not negative, and no axis repeats a value.
pub fn check_axes(a: &Axes, origin: &str) -> Result<(), SweepError> {
    let bad = |m: String| Err(SweepError::Spec(format!("{origin}: {m}")));
    for p in &a.precision {
        if let Err(e) = p.parse::<FixedType>() {
            return bad(format!("precision '{p}': {e}"));
        }
    }
    if a.reuse_factor.contains(&0) {
        return bad("reuse factor 0: a reuse factor is at least 1".into());
    }
    for s in &a.strategy {
        if s != "latency" && s != "resource" {
            return bad(format!("strategy '{s}': expected latency or resource"));
        }
    }
    for t in &a.prune_below {
        if !t.is_finite() || *t < 0.0 {
            return bad(format!("prune threshold {t}: expected a finite number >= 0"));
        }
    }
    let dup = |v: Vec<String>, axis: &str| -> Result<(), SweepError> {
        let mut seen = std::collections::BTreeSet::new();
        for x in v {
            if !seen.insert(x.clone()) {
                return Err(SweepError::Spec(format!("{origin}: {axis} '{x}' is given twice")));
            }
        }
        Ok(())
    };
    dup(a.precision.clone(), "precision")?;
    dup(a.reuse_factor.iter().map(|r| r.to_string()).collect(), "reuse factor")?;
    dup(a.strategy.clone(), "strategy")?;
    dup(a.prune_below.iter().map(|t| t.to_string()).collect(), "prune threshold")
}

/// A point before it is written: its id, axis values and merged configuration.
#[derive(Debug, Clone)]
pub struct Planned {
    pub id: String,
    pub values: AxisValues,
    pub config_text: Option<String>,
}

impl Planned {
    /// The point file's contents, for a point living in `dir`.
    pub fn spec(&self, common: &Common, dir: &Path) -> PointSpec {
        PointSpec {
            schema: super::point::POINT_SCHEMA.to_string(),
            id: self.id.clone(),
            values: self.values.clone(),
            common: common.clone(),
            config: self.config_text.as_ref().map(|_| dir.join("config.yml")),
        }
    }
}

fn or_none<T: Clone>(v: &[T]) -> Vec<Option<T>> {
    if v.is_empty() {
        vec![None]
    } else {
        v.iter().cloned().map(Some).collect()
    }
}

/// Merges `over` into `base`: mappings key by key, anything else replaced.
fn merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Mapping(b), Value::Mapping(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}

/// Every point of the sweep, in id order.
pub fn points(spec: &SweepSpec) -> Result<Vec<Planned>, SweepError> {
    let a = &spec.axes;
    check_axes(a, "sweep axes")?;
    let parse = |t: &str, what: &str| {
        serde_yaml_ng::from_str::<Value>(t).map_err(|e| SweepError::Spec(format!("{what}: {e}")))
    };
    let base = spec.base_config.as_deref().map(|t| parse(t, "base configuration")).transpose()?;
    let overrides: Vec<(AxisValues, Value)> = spec
        .overrides
        .iter()
        .map(|o| Ok((o.when.clone(), parse(&o.config, "override")?)))
        .collect::<Result<_, SweepError>>()?;
    let mut out = Vec::new();
    for precision in or_none(&a.precision) {
        for reuse_factor in or_none(&a.reuse_factor) {
            for strategy in or_none(&a.strategy) {
                for prune_below in or_none(&a.prune_below) {
                    let values = AxisValues {
                        precision: precision.clone(),
                        reuse_factor,
                        strategy: strategy.clone(),
                        prune_below,
                    };
                    let mut cfg = base.clone();
                    for (when, v) in &overrides {
                        if values.matches(when) {
                            merge(cfg.get_or_insert_with(|| Value::Mapping(Default::default())), v);
                        }
                    }
                    let config_text = cfg.map(|c| yaml_text(&c, "configuration")).transpose()?;
                    out.push(Planned { id: format!("p{:03}", out.len()), values, config_text });
                }
            }
        }
    }
    Ok(out)
}

/// `path` made absolute (for point files read by workers elsewhere).
pub fn absolute(path: &Path) -> Result<PathBuf, SweepError> {
    std::path::absolute(path).map_err(super::io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_outside_angle_brackets() {
        assert_eq!(
            split_list("ap_fixed<16,6>, ap_fixed<8,3,AP_RND,AP_SAT>"),
            ["ap_fixed<16,6>", "ap_fixed<8,3,AP_RND,AP_SAT>"]
        );
        assert_eq!(split_list("1,2"), ["1", "2"]);
        assert!(split_list("").is_empty());
    }

    #[test]
    fn overrides_merge_key_by_key_into_matching_points() {
        let mut b: Value =
            serde_yaml_ng::from_str("Model: {Precision: 'ap_fixed<16,6>', ReuseFactor: 1}").unwrap();
        let o: Value =
            serde_yaml_ng::from_str("Model: {ReuseFactor: 4}\nLayerName: {fc1: {Strategy: Resource}}")
                .unwrap();
        merge(&mut b, &o);
        let want: Value = serde_yaml_ng::from_str(
            "Model: {Precision: 'ap_fixed<16,6>', ReuseFactor: 4}\nLayerName: {fc1: {Strategy: Resource}}",
        )
        .unwrap();
        assert_eq!(b, want);
        let p = AxisValues {
            precision: Some("ap_fixed<8,3>".into()),
            reuse_factor: Some(2),
            ..Default::default()
        };
        assert!(p.matches(&AxisValues { reuse_factor: Some(2), ..Default::default() }));
        assert!(!p.matches(&AxisValues { reuse_factor: Some(4), ..Default::default() }));
    }

    #[test]
    fn bad_axis_values_are_named() {
        let a = Axes { strategy: vec!["fast".into()], ..Default::default() };
        assert!(check_axes(&a, "x").unwrap_err().to_string().contains("strategy 'fast'"));
        let a =
            Axes { precision: vec!["ap_fixed<16,6>".into(), "ap_fixed<16,6>".into()], ..Default::default() };
        assert!(check_axes(&a, "x").unwrap_err().to_string().contains("twice"));
        let a = Axes { precision: vec!["apfixed".into()], ..Default::default() };
        assert!(check_axes(&a, "x").unwrap_err().to_string().contains("precision 'apfixed'"));
    }
}
