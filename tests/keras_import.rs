//! Keras / QKeras import of the committed test models (`tests/models/keras`, made by
//! `scripts/make_qkeras_models.py` with TensorFlow 2.14 and QKeras 0.9.0) and of the real models in
//! `../shared/models/keras` when that folder exists.
//!
//! Each supported model imports, validates and matches its IR snapshot in `golden/ir_keras`; every
//! saved form of one model gives the same graph; unsupported models fail with an error naming every
//! unsupported layer.

use std::path::{Path, PathBuf};

use hls_gen::fixed::{FixedType, OverflowMode, QuantMode};
use hls_gen::frontend::keras::{self, KerasError};
use hls_gen::ir::{self, Graph, Layer};

fn models() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/models/keras")
}

fn snapshot(name: &str, g: &Graph) {
    insta::with_settings!({snapshot_path => "../golden/ir_keras", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!(name, ir::print(g));
    });
}

fn load(path: &Path, weights: Option<&Path>) -> Graph {
    let g = keras::load(path, weights).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ir::validate(&g, ir::Stage::Imported).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    g
}

/// Every node's layer, shape, type and constants, for comparing graphs from different files.
fn contents(g: &Graph) -> Vec<String> {
    g.topo_order()
        .unwrap()
        .into_iter()
        .map(|id| {
            let n = g.node(id);
            format!("{} {:?} {} {:?} {}", n.name, n.layer, n.shape, n.ty, n.ty_from_model)
        })
        .collect()
}

#[test]
fn keras_mlp_all_forms_agree() {
    let json = load(&models().join("keras_mlp.json"), None);
    let explicit = load(&models().join("keras_mlp.json"), Some(&models().join("keras_mlp_weights.h5")));
    let full = load(&models().join("keras_mlp.h5"), None);
    let archive = load(&models().join("keras_mlp.keras"), None);
    snapshot("keras_mlp", &json);
    for other in [&explicit, &full, &archive] {
        assert_eq!(other.name, json.name);
        assert_eq!(contents(other), contents(&json));
    }
}

#[test]
fn keras_functional() {
    let g = load(&models().join("keras_functional.h5"), None);
    assert_eq!(g.name, "functional_mlp");
    snapshot("keras_functional", &g);
}

/// Two model inputs (in the model's input order) joined with a dense branch of each by one
/// `Concatenate`; the JSON + weights and the full .h5 give the same graph.
#[test]
fn keras_two_inputs() {
    let g = load(&models().join("keras_two_inputs.h5"), None);
    let inputs: Vec<&str> = g.inputs().iter().map(|&i| g.node(i).name.as_str()).collect();
    assert_eq!(inputs, ["jets", "tracks"]);
    assert_eq!(contents(&g), contents(&load(&models().join("keras_two_inputs.json"), None)));
    snapshot("keras_two_inputs", &g);
}

#[test]
fn qkeras_mlp_json_and_h5_agree() {
    let json = load(&models().join("qkeras_mlp.json"), None);
    let full = load(&models().join("qkeras_mlp.h5"), None);
    snapshot("qkeras_mlp", &json);
    assert_eq!(contents(&full), contents(&json));
    // The model fixes the activation types: quantized_bits(8,3) on the input, quantized_relu(6,0).
    let input_quant = json.node(json.find("input_quant").unwrap());
    assert!(input_quant.ty_from_model);
    let expected = FixedType::new(8, 4, true).with_modes(QuantMode::RndConv, OverflowMode::Sat);
    assert_eq!(input_quant.ty, Some(expected));
}

#[test]
fn qkeras_quantizers_rejects_only_the_po2_activation() {
    let err = keras::load(&models().join("qkeras_quantizers.json"), None).unwrap_err();
    let KerasError::Unsupported { layers, .. } = &err else { panic!("unexpected error {err}") };
    assert_eq!(layers.len(), 1, "{err}");
    assert_eq!(layers[0].layer, "qrelu_po2");
    assert!(layers[0].reason.contains("quantized_relu_po2(bits=4, max_value=4)"), "{err}");
    let text = err.to_string();
    assert!(text.contains("qkeras_quantizers.json") && text.contains("'qrelu_po2' (QActivation)"), "{text}");
}

/// `qkeras_quantizers` without its `quantized_relu_po2` activation (which has no fixed-point form):
/// every other quantizer of the model imports.
fn qkeras_quantizers_without_po2_activation(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(models().join("qkeras_quantizers.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let layers = v["config"]["layers"].as_array_mut().unwrap();
    let before = layers.len();
    layers.retain(|l| l["config"]["name"] != "qrelu_po2");
    assert_eq!(layers.len(), before - 1);
    let json = dir.join("qkeras_quantizers.json");
    std::fs::write(&json, v.to_string()).unwrap();
    std::fs::copy(models().join("qkeras_quantizers_weights.h5"), dir.join("qkeras_quantizers_weights.h5"))
        .unwrap();
    json
}

#[test]
fn qkeras_quantizers_without_po2_activation_imports() {
    let dir = tempfile::tempdir().unwrap();
    let g = load(&qkeras_quantizers_without_po2_activation(dir.path()), None);
    snapshot("qkeras_quantizers_no_po2_activation", &g);
}

/// `../shared/models/keras` next to the checkout (two levels up from a worktree under `wt/`).
fn shared() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let found = ["../shared/models/keras", "../../shared/models/keras"]
        .iter()
        .map(|d| root.join(d))
        .find(|d| d.is_dir());
    if found.is_none() {
        eprintln!("skipped: ../shared/models/keras is absent");
    }
    found
}

#[test]
fn shared_supported_models() {
    let Some(dir) = shared() else { return };
    for (name, file, weights) in [
        ("shared_KERAS_3layer", "KERAS_3layer.json", None),
        (
            "shared_KERAS_3layer_70pruned",
            "KERAS_3layer.json",
            Some("KERAS_3layer_70pruned_retrained_weights.h5"),
        ),
        (
            "shared_KERAS_3layer_95pruned",
            "KERAS_3layer.json",
            Some("KERAS_3layer_95pruned_retrained_weights.h5"),
        ),
        ("shared_KERAS_3layer_batch_norm", "KERAS_3layer_batch_norm.json", None),
        ("shared_qkeras_3layer", "qkeras_3layer.json", None),
        ("shared_qkeras_mnist_dense", "qkeras_mnist_dense.json", None),
        ("shared_qkeras-v3_3layer", "qkeras-v3_3layer.keras", None),
    ] {
        let w = weights.map(|w| dir.join(w));
        let g = load(&dir.join(file), w.as_deref());
        snapshot(name, &g);
    }
}

#[test]
fn shared_pruned_weights_keep_their_zeros() {
    let Some(dir) = shared() else { return };
    let json = dir.join("KERAS_3layer.json");
    let macs = |w: Option<&str>| -> usize {
        let g = load(&json, w.map(|w| dir.join(w)).as_deref());
        g.node_ids().iter().map(|&id| g.work(id).macs).sum()
    };
    let (full, p70, p95) = (
        macs(None),
        macs(Some("KERAS_3layer_70pruned_retrained_weights.h5")),
        macs(Some("KERAS_3layer_95pruned_retrained_weights.h5")),
    );
    assert!(p95 < p70 && p70 < full, "{full} {p70} {p95}");
    assert!((p70 as f64) < 0.35 * 4256.0 && (p95 as f64) < 0.06 * 4256.0, "{p70} {p95}");
}

#[test]
fn shared_binary_and_ternary_models_import() {
    let Some(dir) = shared() else { return };
    for (file, levels) in [
        ("KERAS_3layer_binary_smaller.json", &[-1.0, 1.0][..]),
        ("KERAS_3layer_ternary_small.json", &[-1.0, 0.0, 1.0][..]),
    ] {
        let g = keras::load(&dir.join(file), None).unwrap_or_else(|e| panic!("{file}: {e}"));
        let mut dense = 0;
        for id in g.node_ids() {
            if let Layer::Dense(d) = &g.node(id).layer {
                assert!(d.weights.values.iter().all(|v| levels.contains(v)), "{file}: '{}'", g.node(id).name);
                dense += 1;
            }
        }
        assert_eq!(dense, 4, "{file}");
    }
}
