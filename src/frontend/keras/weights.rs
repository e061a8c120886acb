//! Finds each layer's weight tensors in a Keras weights file.
//!
//! Two layouts exist:
//!
//! * Keras 2 (`save_weights` to `.h5`, and the `model_weights` group of a full-model `.h5`): the
//!   group's `layer_names` attribute lists the layers; group `<layer>` lists its tensors in the
//!   `weight_names` attribute (`"<layer>/kernel:0"`, ...), each a dataset at that relative path.
//! * Keras 3 (`model.weights.h5` in a `.keras` archive, `*.weights.h5`; also Keras 2.13+ `.keras`):
//!   `layers/<group>/vars/0, 1, ...` in creation order, where `<group>` is the snake-cased class
//!   name made unique with `_1`, `_2`, ... over the model's layers in order (Keras'
//!   `_save_container_state`); Keras 2.13 wrote `_layer_checkpoint_dependencies` for `layers`.
//!   When a `vars` group carries a `name` attribute (recent Keras 3) that name is used instead.
//!
//! Contract: [`WeightFile::layer`] returns the tensors of one layer in stored order, with their
//! names when the layout has them (`kernel`, `bias`, `gamma`, ...), and no tensors for a layer the
//! file does not mention; every read error names the file and the HDF5 object.

use std::collections::BTreeMap;
use std::path::Path;

use super::config::ModelSpec;
use super::hdf5::{Tensor, H5};
use super::KerasError;

enum Layout {
    /// Keras 2, rooted at this group path (`""` or `"model_weights"`).
    Keras2 { root: Option<String>, layers: Vec<String> },
    /// Keras 3: layer name to group path.
    Keras3 { groups: BTreeMap<String, String> },
}

pub(super) struct WeightFile {
    h5: H5,
    layout: Layout,
}

/// A weight tensor and its name (the part after the last `/`, before `:`), when stored.
pub(super) struct Named {
    pub name: Option<String>,
    pub tensor: Tensor,
}

impl WeightFile {
    pub fn new(h5: H5, model: &ModelSpec) -> Result<WeightFile, KerasError> {
        let root = h5.root()?;
        let layout = if let Some(mw) = root.group("model_weights")? {
            let layers = mw.attr_strings("layer_names")?.unwrap_or_default();
            Layout::Keras2 { root: Some("model_weights".into()), layers }
        } else if let Some(layers) = root.attr_strings("layer_names")? {
            Layout::Keras2 { root: None, layers }
        } else if let Some(dir) = ["layers", "_layer_checkpoint_dependencies"]
            .into_iter()
            .find(|d| root.groups().map(|g| g.iter().any(|x| x == d)).unwrap_or(false))
        {
            Layout::Keras3 { groups: keras3_groups(&h5, dir, model)? }
        } else {
            return Err(root.error(
                "not a Keras weights file (no model_weights group, layer_names attribute or layers group)",
            ));
        };
        Ok(WeightFile { h5, layout })
    }

    pub fn path(&self) -> &Path {
        self.h5.path()
    }

    pub fn layer(&self, name: &str) -> Result<Vec<Named>, KerasError> {
        let root = self.h5.root()?;
        match &self.layout {
            Layout::Keras2 { root: base, layers } => {
                if !layers.iter().any(|l| l == name) {
                    return Ok(Vec::new());
                }
                let base = match base {
                    Some(b) => root.group(b)?.ok_or_else(|| root.error(format!("group {b} vanished")))?,
                    None => root,
                };
                let Some(group) = base.group(name)? else {
                    return Err(base.error(format!("layer_names lists '{name}' but there is no such group")));
                };
                let names = group.attr_strings("weight_names")?.unwrap_or_default();
                names
                    .iter()
                    .map(|w| {
                        let leaf = w.rsplit('/').next().unwrap_or(w);
                        let stem = leaf.split(':').next().unwrap_or(leaf).to_string();
                        Ok(Named { name: Some(stem), tensor: group.tensor(w)? })
                    })
                    .collect()
            }
            Layout::Keras3 { groups } => {
                let Some(path) = groups.get(name) else {
                    return Ok(Vec::new());
                };
                let mut group = root;
                for part in path.split('/') {
                    group = group.group(part)?.ok_or_else(|| group.error(format!("no group {part}")))?;
                }
                let mut vars: Vec<(u64, String)> = Vec::new();
                for d in group.datasets()? {
                    let index = d
                        .parse::<u64>()
                        .map_err(|_| group.error(format!("variable '{d}' is not numbered")))?;
                    vars.push((index, d));
                }
                vars.sort();
                vars.into_iter().map(|(_, d)| Ok(Named { name: None, tensor: group.tensor(&d)? })).collect()
            }
        }
    }
}

/// Maps layer names to `<dir>/<group>/vars`.
fn keras3_groups(h5: &H5, dir: &str, model: &ModelSpec) -> Result<BTreeMap<String, String>, KerasError> {
    let root = h5.root()?;
    let top = root.group(dir)?.ok_or_else(|| root.error(format!("no group {dir}")))?;
    let present = top.groups()?;
    let mut by_attr = BTreeMap::new();
    for g in &present {
        let Some(group) = top.group(g)? else { continue };
        if let Some(vars) = group.group("vars")? {
            if let Some(name) = vars.attr_string("name")? {
                by_attr.insert(name, format!("{dir}/{g}/vars"));
            }
        }
    }
    let mut used: BTreeMap<String, usize> = BTreeMap::new();
    let mut groups = BTreeMap::new();
    for name in &model.declared {
        let Some(layer) = model.layers.iter().find(|l| &l.name == name) else { continue };
        // Keras' Sequential.layers leaves out the input layer; it has no weights either way.
        if model.sequential && layer.class_name == "InputLayer" {
            continue;
        }
        let base = snake_case(&layer.class_name);
        let group = match used.get_mut(&base) {
            Some(n) => {
                *n += 1;
                format!("{base}_{n}")
            }
            None => {
                used.insert(base.clone(), 0);
                base
            }
        };
        let path = match by_attr.get(&layer.name) {
            Some(p) => p.clone(),
            None if present.contains(&group) => format!("{dir}/{group}/vars"),
            None => continue,
        };
        groups.insert(layer.name.clone(), path);
    }
    Ok(groups)
}

/// Keras 3 `naming.to_snake_case`: drop non-word characters, then `(.)([A-Z][a-z]+)` to
/// `\1_\2`, then `([a-z])([A-Z])` to `\1_\2`, then lower case.
pub(super) fn snake_case(name: &str) -> String {
    let s: Vec<char> = name.chars().filter(|c| c.is_alphanumeric() || *c == '_').collect();
    let mut a: Vec<char> = Vec::with_capacity(s.len() + 4);
    let mut i = 0;
    while i < s.len() {
        if i + 2 < s.len() && s[i + 1].is_ascii_uppercase() && s[i + 2].is_ascii_lowercase() {
            let mut j = i + 2;
            while j < s.len() && s[j].is_ascii_lowercase() {
                j += 1;
            }
            a.push(s[i]);
            a.push('_');
            a.extend_from_slice(&s[i + 1..j]);
            i = j;
        } else {
            a.push(s[i]);
            i += 1;
        }
    }
    let mut out = String::with_capacity(a.len() + 4);
    let mut i = 0;
    while i < a.len() {
        if i + 1 < a.len() && a[i].is_ascii_lowercase() && a[i + 1].is_ascii_uppercase() {
            out.push(a[i]);
            out.push('_');
            out.push(a[i + 1]);
            i += 2;
        } else {
            out.push(a[i]);
            i += 1;
        }
    }
    out.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn snake_case_matches_keras() {
        for (class, group) in [
            ("Dense", "dense"),
            ("QDense", "q_dense"),
            ("QActivation", "q_activation"),
            ("BatchNormalization", "batch_normalization"),
            ("QBatchNormalization", "q_batch_normalization"),
            ("InputLayer", "input_layer"),
            ("ReLU", "re_lu"),
            ("LeakyReLU", "leaky_re_lu"),
            ("Conv1D", "conv1d"),
        ] {
            assert_eq!(snake_case(class), group, "{class}");
        }
    }
}
