//! Keras model configs: the JSON of `model.to_json()`, of the `model_config` attribute of a
//! full-model `.h5` and of `config.json` in a `.keras` archive, parsed with serde and brought into
//! one form.
//!
//! Accepted: `Sequential` models (the Keras 2.0 list form, the Keras 2 and Keras 3 dict forms) and
//! functional models (`Model`, `Functional`) whose inbound nodes use the Keras 2 list form
//! `[[["name", node, tensor, {kwargs}], ...]]` (a `TFOpLambda` call is one reference,
//! `[["name", node, tensor, {kwargs}]]`) or the Keras 3 form
//! `[{"args": [...keras tensors...], "kwargs": {...}}]`. The call's keyword arguments (a
//! `TFOpLambda`'s `axis`, say) are kept beside the layer's config.
//!
//! Contract: [`parse`] returns the layers ordered so that each follows the layers it reads, every
//! layer called exactly once and reading output 0 of its inputs, with one or more model inputs
//! (every `InputLayer`, in the model's input order) and one or more model outputs; anything else is
//! a [`KerasError::Config`] naming the file and the layer.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};

use super::KerasError;

/// The Keras generation that wrote the model; a few defaults differ (`hard_sigmoid`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Generation {
    Keras2,
    Keras3,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct ModelSpec {
    pub name: Option<String>,
    pub sequential: bool,
    /// Layers in an order where each follows its inputs.
    pub layers: Vec<LayerSpec>,
    /// Layer names in the order the config lists them (the order of Keras' `model.layers`).
    pub declared: Vec<String>,
    /// The model's input layers, in the model's input order.
    pub inputs: Vec<String>,
    /// The layers producing the model outputs, in the model's output order.
    pub outputs: Vec<String>,
    pub generation: Generation,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct LayerSpec {
    pub name: String,
    pub class_name: String,
    pub config: Map<String, Value>,
    /// Names of the layers whose (only) output this layer reads, in argument order.
    pub inputs: Vec<String>,
    /// The keyword arguments of the layer's call that are not tensors.
    pub call: Map<String, Value>,
}

#[derive(Deserialize)]
struct ModelJson {
    class_name: String,
    #[serde(default)]
    config: Value,
    #[serde(default)]
    keras_version: Option<String>,
}

#[derive(Deserialize)]
struct LayerJson {
    class_name: String,
    #[serde(default)]
    config: Map<String, Value>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    inbound_nodes: Option<Value>,
}

#[derive(Deserialize)]
struct SequentialJson {
    #[serde(default)]
    name: Option<String>,
    layers: Vec<LayerJson>,
    #[serde(default)]
    build_input_shape: Option<Value>,
}

#[derive(Deserialize)]
struct FunctionalJson {
    #[serde(default)]
    name: Option<String>,
    layers: Vec<LayerJson>,
    #[serde(default)]
    input_layers: Value,
    #[serde(default)]
    output_layers: Value,
}

/// A reference to a layer output in an inbound node or in `input_layers`/`output_layers`.
#[derive(Debug, Clone, PartialEq)]
struct TensorRef {
    layer: String,
    node: u64,
    tensor: u64,
}

struct Parser {
    path: PathBuf,
}

impl Parser {
    fn err(&self, what: impl Into<String>) -> KerasError {
        KerasError::Config { path: self.path.clone(), what: what.into() }
    }
}

/// Parses a model config. `keras_version` is the version recorded next to the config (h5 root
/// attribute, archive metadata), if any.
pub(super) fn parse(text: &str, path: &Path, keras_version: Option<&str>) -> Result<ModelSpec, KerasError> {
    let p = Parser { path: path.to_path_buf() };
    let model: ModelJson =
        serde_json::from_str(text).map_err(|e| p.err(format!("not a Keras model config: {e}")))?;
    let version = keras_version.map(str::to_string).or(model.keras_version.clone());
    let mut spec = match model.class_name.as_str() {
        "Sequential" => sequential(&p, model.config)?,
        "Model" | "Functional" => functional(&p, model.config)?,
        other => {
            return Err(p.err(format!(
                "model class '{other}' is not supported (only Sequential and functional models describe their layer graph)"
            )))
        }
    };
    spec.generation = generation(version.as_deref(), &spec.layers);
    Ok(spec)
}

fn generation(version: Option<&str>, layers: &[LayerSpec]) -> Generation {
    match version.and_then(|v| v.split('.').next()).and_then(|m| m.trim().parse::<u32>().ok()) {
        Some(major) if major >= 3 => Generation::Keras3,
        Some(_) => Generation::Keras2,
        // Keras 3 names the input shape `batch_shape`; Keras 2 `batch_input_shape`.
        None if layers.iter().any(|l| l.config.contains_key("batch_shape")) => Generation::Keras3,
        None => Generation::Keras2,
    }
}

fn layer_name(p: &Parser, l: &LayerJson, index: usize) -> Result<String, KerasError> {
    let name = l.config.get("name").and_then(Value::as_str).map(str::to_string).or_else(|| l.name.clone());
    match name {
        Some(n) if !n.is_empty() => Ok(n),
        _ => Err(p.err(format!("layer #{index} ({}) has no name", l.class_name))),
    }
}

fn check_unique(p: &Parser, layers: &[LayerSpec]) -> Result<(), KerasError> {
    let mut seen = BTreeSet::new();
    for l in layers {
        if !seen.insert(l.name.as_str()) {
            return Err(p.err(format!("two layers are named '{}'", l.name)));
        }
    }
    Ok(())
}

fn sequential(p: &Parser, config: Value) -> Result<ModelSpec, KerasError> {
    let (name, layers, build_shape) = match config {
        // Keras 2.0 wrote the layer list as the whole config.
        Value::Array(_) => {
            let layers: Vec<LayerJson> =
                serde_json::from_value(config).map_err(|e| p.err(format!("Sequential layers: {e}")))?;
            (None, layers, None)
        }
        other => {
            let s: SequentialJson =
                serde_json::from_value(other).map_err(|e| p.err(format!("Sequential config: {e}")))?;
            (s.name, s.layers, s.build_input_shape)
        }
    };
    if layers.is_empty() {
        return Err(p.err("the Sequential model has no layers"));
    }
    let mut specs = Vec::with_capacity(layers.len() + 1);
    for (i, l) in layers.iter().enumerate() {
        let name = layer_name(p, l, i)?;
        if l.class_name == "InputLayer" && i > 0 {
            return Err(p.err(format!("input layer '{name}' is not the first layer of the Sequential model")));
        }
        specs.push(LayerSpec {
            name,
            class_name: l.class_name.clone(),
            config: l.config.clone(),
            inputs: vec![],
            call: Map::new(),
        });
    }
    if specs[0].class_name != "InputLayer" {
        // Keras creates the input layer `<first>_input` from the first layer's input shape.
        let first = &specs[0];
        let shape = ["batch_input_shape", "batch_shape"]
            .iter()
            .find_map(|k| first.config.get(*k).filter(|v| !v.is_null()).cloned())
            .or_else(|| {
                first.config.get("input_shape").and_then(Value::as_array).map(|dims| {
                    let mut with_batch = vec![Value::Null];
                    with_batch.extend(dims.iter().cloned());
                    Value::Array(with_batch)
                })
            })
            .or(build_shape)
            .ok_or_else(|| {
                p.err(format!("the Sequential model does not state its input shape (layer '{}')", first.name))
            })?;
        let mut config = Map::new();
        config.insert("name".into(), Value::String(format!("{}_input", first.name)));
        config.insert("batch_input_shape".into(), shape);
        let input = LayerSpec {
            name: format!("{}_input", first.name),
            class_name: "InputLayer".into(),
            config,
            inputs: vec![],
            call: Map::new(),
        };
        specs.insert(0, input);
    }
    for i in 1..specs.len() {
        specs[i].inputs = vec![specs[i - 1].name.clone()];
    }
    check_unique(p, &specs)?;
    let outputs = specs.last().map(|l| l.name.clone()).into_iter().collect();
    let inputs = vec![specs[0].name.clone()];
    let declared = specs.iter().map(|l| l.name.clone()).collect();
    Ok(ModelSpec {
        name,
        sequential: true,
        layers: specs,
        declared,
        inputs,
        outputs,
        generation: Generation::Keras2,
    })
}

fn functional(p: &Parser, config: Value) -> Result<ModelSpec, KerasError> {
    let f: FunctionalJson =
        serde_json::from_value(config).map_err(|e| p.err(format!("model config: {e}")))?;
    let mut specs = Vec::with_capacity(f.layers.len());
    for (i, l) in f.layers.iter().enumerate() {
        let name = layer_name(p, l, i)?;
        let calls = match &l.inbound_nodes {
            None | Some(Value::Null) => vec![],
            Some(Value::Array(nodes)) => {
                nodes.iter().map(|n| inbound_call(p, &name, n)).collect::<Result<Vec<_>, _>>()?
            }
            Some(_) => return Err(p.err(format!("layer '{name}': inbound_nodes is not a list"))),
        };
        let (inputs, call) = match (l.class_name.as_str(), calls.len()) {
            ("InputLayer", 0) => (vec![], Map::new()),
            ("InputLayer", _) => return Err(p.err(format!("input layer '{name}' has inbound nodes"))),
            (_, 0) => return Err(p.err(format!("layer '{name}' is not connected to the model"))),
            (_, 1) => calls.into_iter().next().unwrap_or_default(),
            (_, n) => {
                return Err(
                    p.err(format!("layer '{name}' is called {n} times; shared layers are not supported"))
                )
            }
        };
        let mut names = Vec::with_capacity(inputs.len());
        for r in inputs {
            check_ref(p, &name, &r)?;
            names.push(r.layer);
        }
        specs.push(LayerSpec {
            name,
            class_name: l.class_name.clone(),
            config: l.config.clone(),
            inputs: names,
            call,
        });
    }
    check_unique(p, &specs)?;
    let inputs = refs(p, "input_layers", &f.input_layers)?;
    let outputs = refs(p, "output_layers", &f.output_layers)?;
    if inputs.is_empty() || outputs.is_empty() {
        return Err(p.err(format!("the model has {} inputs and {} outputs", inputs.len(), outputs.len())));
    }
    for (what, list) in [("input", &inputs), ("output", &outputs)] {
        for r in list.iter() {
            check_ref(p, what, r)?;
            if !specs.iter().any(|l| l.name == r.layer) {
                return Err(p.err(format!("the model {what} names an unknown layer '{}'", r.layer)));
            }
        }
    }
    for l in specs.iter().filter(|l| l.class_name == "InputLayer") {
        if !inputs.iter().any(|r| r.layer == l.name) {
            return Err(p.err(format!("input layer '{}' is not one of the model's inputs", l.name)));
        }
    }
    for r in &inputs {
        if !specs.iter().any(|l| l.name == r.layer && l.class_name == "InputLayer") {
            return Err(p.err(format!("the model input '{}' is not an input layer", r.layer)));
        }
    }
    let declared = specs.iter().map(|l| l.name.clone()).collect();
    let layers = topo_sort(p, specs)?;
    Ok(ModelSpec {
        name: f.name,
        sequential: false,
        layers,
        declared,
        inputs: inputs.into_iter().map(|r| r.layer).collect(),
        outputs: outputs.into_iter().map(|r| r.layer).collect(),
        generation: Generation::Keras2,
    })
}

fn check_ref(p: &Parser, layer: &str, r: &TensorRef) -> Result<(), KerasError> {
    if r.node != 0 {
        return Err(p.err(format!(
            "layer '{layer}' reads call #{} of layer '{}'; shared layers are not supported",
            r.node, r.layer
        )));
    }
    if r.tensor != 0 {
        return Err(p.err(format!(
            "layer '{layer}' reads output #{} of layer '{}'; layers with several outputs are not supported",
            r.tensor, r.layer
        )));
    }
    Ok(())
}

/// The tensor inputs and the other keyword arguments of one call of a layer.
fn inbound_call(
    p: &Parser,
    layer: &str,
    node: &Value,
) -> Result<(Vec<TensorRef>, Map<String, Value>), KerasError> {
    let kwargs_of = |r: &Value| -> Result<Map<String, Value>, KerasError> {
        match r.get(3) {
            None | Some(Value::Null) => Ok(Map::new()),
            Some(Value::Object(k)) => {
                let mut tensors = Vec::new();
                keras_tensor_refs(p, layer, &Value::Object(k.clone()), &mut tensors)?;
                no_tensor_kwargs(p, layer, &tensors)?;
                Ok(k.clone())
            }
            Some(v) => Err(p.err(format!("layer '{layer}': call arguments {v} are not an object"))),
        }
    };
    match node {
        // A `TFOpLambda` call: one reference `[name, node_index, tensor_index, kwargs]`.
        Value::Array(items) if items.first().is_some_and(Value::is_string) => {
            Ok((vec![tensor_ref(p, layer, node)?], kwargs_of(node)?))
        }
        // Keras 2: a list of [name, node_index, tensor_index, kwargs].
        Value::Array(items) => {
            let refs = items.iter().map(|i| tensor_ref(p, layer, i)).collect::<Result<_, _>>()?;
            let kwargs = items.first().map(kwargs_of).transpose()?.unwrap_or_default();
            Ok((refs, kwargs))
        }
        // Keras 3: {"args": [...], "kwargs": {...}} with keras tensors anywhere inside.
        Value::Object(call) => {
            let mut found = Vec::new();
            if let Some(args) = call.get("args") {
                keras_tensors(p, layer, args, &mut found)?;
            }
            let mut kwargs = Map::new();
            if let Some(k) = call.get("kwargs") {
                let mut extra = Vec::new();
                keras_tensors(p, layer, k, &mut extra)?;
                no_tensor_kwargs(p, layer, &extra)?;
                kwargs = k.as_object().cloned().unwrap_or_default();
            }
            Ok((found, kwargs))
        }
        _ => Err(p.err(format!("layer '{layer}': an inbound node is neither a list nor an object"))),
    }
}

fn no_tensor_kwargs(p: &Parser, layer: &str, tensors: &[TensorRef]) -> Result<(), KerasError> {
    if tensors.is_empty() {
        Ok(())
    } else {
        Err(p.err(format!("layer '{layer}' receives a tensor as a keyword argument, which is not supported")))
    }
}

/// Keras 2 tensor references (`["name", node, tensor]`) among a call's keyword arguments.
fn keras_tensor_refs(p: &Parser, layer: &str, v: &Value, out: &mut Vec<TensorRef>) -> Result<(), KerasError> {
    match v {
        Value::Array(a) if a.len() == 3 && a[0].is_string() && a[1].is_u64() && a[2].is_u64() => {
            out.push(tensor_ref(p, layer, v)?);
            Ok(())
        }
        Value::Object(o) => o.values().try_for_each(|x| keras_tensor_refs(p, layer, x, out)),
        Value::Array(a) => a.iter().try_for_each(|x| keras_tensor_refs(p, layer, x, out)),
        _ => Ok(()),
    }
}

fn keras_tensors(p: &Parser, layer: &str, v: &Value, out: &mut Vec<TensorRef>) -> Result<(), KerasError> {
    match v {
        Value::Object(o) if o.get("class_name").and_then(Value::as_str) == Some("__keras_tensor__") => {
            let history = o
                .get("config")
                .and_then(|c| c.get("keras_history"))
                .ok_or_else(|| p.err(format!("layer '{layer}': a keras tensor has no keras_history")))?;
            out.push(tensor_ref(p, layer, history)?);
            Ok(())
        }
        Value::Object(o) => o.values().try_for_each(|x| keras_tensors(p, layer, x, out)),
        Value::Array(a) => a.iter().try_for_each(|x| keras_tensors(p, layer, x, out)),
        _ => Ok(()),
    }
}

/// `["name", node_index, tensor_index, ...]`.
fn tensor_ref(p: &Parser, layer: &str, v: &Value) -> Result<TensorRef, KerasError> {
    let bad = || p.err(format!("layer '{layer}': malformed tensor reference {v}"));
    let items = v.as_array().ok_or_else(bad)?;
    let name = items.first().and_then(Value::as_str).ok_or_else(bad)?;
    let index = |i: usize| -> Result<u64, KerasError> {
        match items.get(i) {
            None => Ok(0),
            Some(x) => x.as_u64().ok_or_else(bad),
        }
    };
    Ok(TensorRef { layer: name.to_string(), node: index(1)?, tensor: index(2)? })
}

/// `input_layers` / `output_layers`: a list of references, or a single flat one.
fn refs(p: &Parser, what: &str, v: &Value) -> Result<Vec<TensorRef>, KerasError> {
    match v {
        Value::Array(items) if items.first().map(Value::is_string).unwrap_or(false) => {
            Ok(vec![tensor_ref(p, what, v)?])
        }
        Value::Array(items) => items.iter().map(|i| tensor_ref(p, what, i)).collect(),
        Value::Null => Err(p.err(format!("the model config has no {what}"))),
        _ => Err(p.err(format!("{what} is not a list"))),
    }
}

/// Orders layers so that each follows its inputs, keeping the config order where it is free.
fn topo_sort(p: &Parser, specs: Vec<LayerSpec>) -> Result<Vec<LayerSpec>, KerasError> {
    let index: BTreeMap<&str, usize> = specs.iter().enumerate().map(|(i, l)| (l.name.as_str(), i)).collect();
    let mut indeg = vec![0usize; specs.len()];
    let mut users: Vec<Vec<usize>> = vec![Vec::new(); specs.len()];
    for (i, l) in specs.iter().enumerate() {
        for input in &l.inputs {
            let &j = index
                .get(input.as_str())
                .ok_or_else(|| p.err(format!("layer '{}' reads unknown layer '{input}'", l.name)))?;
            indeg[i] += 1;
            users[j].push(i);
        }
    }
    let mut ready: BTreeSet<usize> = (0..specs.len()).filter(|&i| indeg[i] == 0).collect();
    let mut order = Vec::with_capacity(specs.len());
    while let Some(i) = ready.pop_first() {
        order.push(i);
        for &u in &users[i] {
            indeg[u] -= 1;
            if indeg[u] == 0 {
                ready.insert(u);
            }
        }
    }
    if order.len() != specs.len() {
        let stuck = (0..specs.len()).find(|i| !order.contains(i)).map(|i| specs[i].name.clone());
        return Err(p.err(format!("the layer graph has a cycle through '{}'", stuck.unwrap_or_default())));
    }
    let mut slots: Vec<Option<LayerSpec>> = specs.into_iter().map(Some).collect();
    Ok(order.into_iter().filter_map(|i| slots[i].take()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<ModelSpec, KerasError> {
        parse(s, Path::new("m.json"), None)
    }

    #[test]
    fn keras2_functional() {
        let s = r#"{"class_name": "Model", "keras_version": "2.0.0", "config": {"name": "model_1",
          "layers": [
            {"class_name": "InputLayer", "name": "input_1", "config": {"batch_input_shape": [null, 4], "name": "input_1"}, "inbound_nodes": []},
            {"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 2}, "inbound_nodes": [[["input_1", 0, 0, {}]]]}],
          "input_layers": [["input_1", 0, 0]], "output_layers": [["d", 0, 0]]}}"#;
        let m = parse_str(s).unwrap();
        assert!(!m.sequential);
        assert_eq!(m.name.as_deref(), Some("model_1"));
        assert_eq!(m.generation, Generation::Keras2);
        assert_eq!(m.layers[1].inputs, vec!["input_1".to_string()]);
        assert_eq!(m.outputs, vec!["d".to_string()]);
    }

    #[test]
    fn keras3_functional() {
        let s = r#"{"module": "keras", "class_name": "Functional", "config": {"name": "f",
          "layers": [
            {"module": "keras.layers", "class_name": "Dense", "name": "d",
             "config": {"name": "d", "units": 2},
             "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 4],
                "dtype": "float32", "keras_history": ["inp", 0, 0]}}], "kwargs": {}}]},
            {"module": "keras.layers", "class_name": "InputLayer", "name": "inp",
             "config": {"batch_shape": [null, 4], "name": "inp"}, "inbound_nodes": []}],
          "input_layers": ["inp", 0, 0], "output_layers": [["d", 0, 0]]}}"#;
        let m = parse_str(s).unwrap();
        assert_eq!(m.generation, Generation::Keras3);
        // Reordered so the input comes first; the declared order is kept for the weights.
        assert_eq!(m.layers[0].name, "inp");
        assert_eq!(m.declared, vec!["d".to_string(), "inp".to_string()]);
        assert_eq!(m.layers[1].inputs, vec!["inp".to_string()]);
    }

    #[test]
    fn keras20_sequential_list_synthesizes_input() {
        let s = r#"{"class_name": "Sequential", "keras_version": "2.0.5", "config": [
            {"class_name": "Dense", "config": {"name": "fc1", "units": 3, "batch_input_shape": [null, 5]}},
            {"class_name": "Activation", "config": {"name": "act", "activation": "relu"}}]}"#;
        let m = parse_str(s).unwrap();
        assert!(m.sequential);
        assert_eq!(m.layers.len(), 3);
        assert_eq!(m.layers[0].name, "fc1_input");
        assert_eq!(m.layers[0].class_name, "InputLayer");
        assert_eq!(m.layers[2].inputs, vec!["fc1".to_string()]);
        assert_eq!(m.outputs, vec!["act".to_string()]);
    }

    #[test]
    fn keras3_sequential_with_input_layer() {
        let s = r#"{"module": "keras", "class_name": "Sequential", "config": {"name": "sequential",
            "layers": [{"class_name": "InputLayer", "config": {"batch_shape": [null, 16], "name": "x_in"}},
                       {"class_name": "Dense", "config": {"name": "d", "units": 3}}]}}"#;
        let m = parse(s, Path::new("m.json"), Some("3.1.0")).unwrap();
        assert_eq!(m.generation, Generation::Keras3);
        assert_eq!(m.layers.len(), 2);
        assert_eq!(m.layers[1].inputs, vec!["x_in".to_string()]);
    }

    #[test]
    fn multi_input_models_and_shared_layers() {
        let s = r#"{"class_name": "Model", "config": {"name": "m", "layers": [
            {"class_name": "InputLayer", "config": {"name": "b", "batch_input_shape": [null, 2]}, "inbound_nodes": []},
            {"class_name": "InputLayer", "config": {"name": "a", "batch_input_shape": [null, 2]}, "inbound_nodes": []},
            {"class_name": "Add", "config": {"name": "add"}, "inbound_nodes": [[["a", 0, 0, {}], ["b", 0, 0, {}]]]}],
            "input_layers": [["a", 0, 0], ["b", 0, 0]], "output_layers": [["add", 0, 0], ["b", 0, 0]]}}"#;
        let m = parse_str(s).unwrap();
        assert_eq!(m.inputs, vec!["a".to_string(), "b".to_string()]);
        assert_eq!(m.outputs, vec!["add".to_string(), "b".to_string()]);

        let s = r#"{"class_name": "Model", "config": {"name": "m", "layers": [
            {"class_name": "InputLayer", "config": {"name": "a", "batch_input_shape": [null, 2]}, "inbound_nodes": []},
            {"class_name": "InputLayer", "config": {"name": "b", "batch_input_shape": [null, 2]}, "inbound_nodes": []},
            {"class_name": "Dense", "config": {"name": "d"}, "inbound_nodes": [[["a", 0, 0, {}]]]}],
            "input_layers": [["a", 0, 0]], "output_layers": [["d", 0, 0]]}}"#;
        let e = parse_str(s).unwrap_err().to_string();
        assert!(e.contains("input layer 'b' is not one of the model's inputs"), "{e}");

        let s = r#"{"class_name": "Model", "config": {"name": "m", "layers": [
            {"class_name": "InputLayer", "config": {"name": "a", "batch_input_shape": [null, 2]}, "inbound_nodes": []},
            {"class_name": "Dense", "config": {"name": "d"}, "inbound_nodes": [[["a", 0, 0, {}]], [["a", 0, 0, {}]]]}],
            "input_layers": [["a", 0, 0]], "output_layers": [["d", 1, 0]]}}"#;
        let e = parse_str(s).unwrap_err().to_string();
        assert!(e.contains("'d' is called 2 times"), "{e}");
    }

    #[test]
    fn malformed_configs_are_errors() {
        for s in [
            "",
            "[]",
            "{",
            r#"{"class_name": "Sequential"}"#,
            r#"{"class_name": "Sequential", "config": {"layers": []}}"#,
            r#"{"class_name": "MyModel", "config": {}}"#,
            r#"{"class_name": "Model", "config": {"layers": [{"class_name": "Dense", "config": {"name": "d"},
                "inbound_nodes": [[["nowhere", 0, 0, {}]]]}], "input_layers": [], "output_layers": [["d", 0, 0]]}}"#,
            r#"{"class_name": "Model", "config": {"layers": [{"class_name": "Dense", "config": {"name": "d"},
                "inbound_nodes": 5}], "input_layers": [], "output_layers": []}}"#,
        ] {
            assert!(matches!(parse_str(s), Err(KerasError::Config { .. })), "{s}");
        }
    }

    #[test]
    fn cycles_are_errors() {
        let s = r#"{"class_name": "Model", "config": {"name": "m", "layers": [
            {"class_name": "InputLayer", "config": {"name": "a", "batch_input_shape": [null, 2]}, "inbound_nodes": []},
            {"class_name": "Add", "config": {"name": "x"}, "inbound_nodes": [[["a", 0, 0, {}], ["y", 0, 0, {}]]]},
            {"class_name": "Add", "config": {"name": "y"}, "inbound_nodes": [[["x", 0, 0, {}], ["a", 0, 0, {}]]]}],
            "input_layers": [["a", 0, 0]], "output_layers": [["y", 0, 0]]}}"#;
        let e = parse_str(s).unwrap_err().to_string();
        assert!(e.contains("cycle"), "{e}");
    }
}
