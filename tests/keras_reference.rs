//! The imported graphs compute what Keras / QKeras computed.
//!
//! * Quantized parameters: every QKeras-quantized constant in the IR equals, bit for bit, what
//!   QKeras 0.9.0 uses at inference (`golden/ir_keras/qkeras_weights.json`, written by
//!   `scripts/make_qkeras_references.py`), and holds in the type the importer gave it.
//! * End to end: a float64 reading of the IR (exact fixed-point casts for `Quantize` nodes)
//!   reproduces the `model.predict` logits in `golden/reference/<model>/`.

mod common;

use std::path::{Path, PathBuf};

use hls_gen::fixed::{FixedType, OverflowMode, QuantMode};
use hls_gen::frontend::keras;
use hls_gen::ir::{self, Activation, BinaryOp, Graph, Layer};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn models() -> PathBuf {
    root().join("tests/models/keras")
}

fn load(path: &Path) -> Graph {
    keras::load(path, None).unwrap_or_else(|e| panic!("{e}"))
}

fn f32_bits(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|b| f32::from_bits(b.as_u64().unwrap() as u32) as f64).collect()
}

fn references() -> Value {
    let text = std::fs::read_to_string(root().join("golden/ir_keras/qkeras_weights.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Checks the QKeras layers of `g` against the QKeras reference for `model`.
fn check_quantized(g: &Graph, model: &str) {
    let refs = references();
    let layers = refs[model].as_object().unwrap();
    assert!(!layers.is_empty());
    for (name, entry) in layers {
        let id = g.find(name).unwrap_or_else(|| panic!("{model}: no node {name}"));
        match &g.node(id).layer {
            Layer::Dense(d) => {
                for (role, w) in [("kernel", &d.weights), ("bias", &d.bias)] {
                    let expected = f32_bits(&entry[role]);
                    assert_eq!(w.values, expected, "{model} {name} {role}");
                    let ty = w.ty.unwrap_or_else(|| panic!("{model} {name} {role} is untyped"));
                    assert!(
                        w.values.iter().all(|&v| ir::representable(v, &ty)),
                        "{model} {name} {role} {ty}"
                    );
                }
            }
            Layer::BatchNorm(b) => {
                let (g_, be, mu, var) = (
                    f32_bits(&entry["gamma"]),
                    f32_bits(&entry["beta"]),
                    f32_bits(&entry["moving_mean"]),
                    f32_bits(&entry["moving_variance"]),
                );
                let eps = entry["epsilon"].as_f64().unwrap();
                for c in 0..g_.len() {
                    let s = g_[c] / (var[c] + eps).sqrt();
                    assert_eq!(b.scale.values[c], s, "{model} {name} scale[{c}]");
                    assert_eq!(b.bias.values[c], be[c] - mu[c] * s, "{model} {name} bias[{c}]");
                }
            }
            other => panic!("{model} {name}: unexpected {other:?}"),
        }
    }
}

#[test]
fn qkeras_mlp_weights_are_qkeras_weights() {
    check_quantized(&load(&models().join("qkeras_mlp.json")), "qkeras_mlp");
    check_quantized(&load(&models().join("qkeras_mlp.h5")), "qkeras_mlp");
}

#[test]
fn qkeras_quantizers_weights_are_qkeras_weights() {
    // The model minus its quantized_relu_po2 activation, which has no fixed-point form; its
    // weights are those of the full model.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(models().join("qkeras_quantizers.json")).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    v["config"]["layers"].as_array_mut().unwrap().retain(|l| l["config"]["name"] != "qrelu_po2");
    std::fs::write(dir.path().join("q.json"), v.to_string()).unwrap();
    std::fs::copy(models().join("qkeras_quantizers_weights.h5"), dir.path().join("q_weights.h5")).unwrap();
    let g = load(&dir.path().join("q.json"));
    check_quantized(&g, "qkeras_quantizers");
    // auto_po2 kernels hold per-channel power-of-two scales: the type is the union over channels.
    let auto = g.node(g.find("qdense_auto_po2").unwrap());
    let Layer::Dense(d) = &auto.layer else { panic!() };
    assert!(d.weights.ty.unwrap().width >= 8);
}

fn npy(path: &Path) -> (Vec<usize>, Vec<f64>) {
    let f = npyz::NpyFile::new(std::fs::File::open(path).unwrap()).unwrap();
    let shape = f.shape().iter().map(|&d| d as usize).collect();
    (shape, f.into_vec::<f64>().unwrap())
}

/// `x` rounded half to even and saturated into `ty` (the modes QKeras' quantizers map to).
fn cast(x: f64, ty: &FixedType) -> f64 {
    assert_eq!(ty.quant, QuantMode::RndConv, "{ty:?}");
    let scale = 2f64.powi(ty.frac_bits());
    let w = ty.width as i32;
    let (lo, hi) =
        if ty.signed { (-(2f64.powi(w - 1)), 2f64.powi(w - 1) - 1.0) } else { (0.0, 2f64.powi(w) - 1.0) };
    let lo = match ty.overflow {
        OverflowMode::SatSym if ty.signed => -hi,
        OverflowMode::Sat | OverflowMode::SatSym => lo,
        other => panic!("unexpected overflow mode {other:?}"),
    };
    (x * scale).round_ties_even().clamp(lo, hi) / scale
}

/// Runs the graph in float64 on one input row; returns every node's output by name.
fn run(g: &Graph, x: &[f64]) -> std::collections::BTreeMap<String, Vec<f64>> {
    let mut vals: std::collections::BTreeMap<ir::NodeId, Vec<f64>> = Default::default();
    let mut out = std::collections::BTreeMap::new();
    for id in g.topo_order().unwrap() {
        let n = g.node(id);
        let ins: Vec<&Vec<f64>> = g.inputs_of(id).iter().map(|i| &vals[i]).collect();
        let one = |w: &ir::Weights| w.values[0];
        let y: Vec<f64> = match &n.layer {
            Layer::Input(_) => x.to_vec(),
            Layer::Dense(d) => (0..d.n_out())
                .map(|j| {
                    d.bias.values[j]
                        + (0..d.n_in()).map(|i| ins[0][i] * d.weights.values[i * d.n_out() + j]).sum::<f64>()
                })
                .collect(),
            Layer::BatchNorm(b) => {
                ins[0].iter().enumerate().map(|(i, v)| v * b.scale.values[i] + b.bias.values[i]).collect()
            }
            Layer::Activation(a) => ins[0]
                .iter()
                .map(|&v| match a {
                    Activation::Linear => v,
                    Activation::Relu => v.max(0.0),
                    Activation::LeakyRelu { alpha } => {
                        if v >= 0.0 {
                            v
                        } else {
                            one(alpha) * v
                        }
                    }
                    Activation::Clip { min, max } => {
                        let lo = min.as_ref().map(one).unwrap_or(f64::NEG_INFINITY);
                        let hi = max.as_ref().map(one).unwrap_or(f64::INFINITY);
                        v.max(lo).min(hi)
                    }
                    Activation::HardSigmoid { alpha, beta } => (one(alpha) * v + one(beta)).clamp(0.0, 1.0),
                    Activation::Sigmoid(_) => 1.0 / (1.0 + (-v).exp()),
                    Activation::Tanh(_) => v.tanh(),
                    other => panic!("unexpected {other:?}"),
                })
                .collect(),
            Layer::Softmax(_) => {
                let m = ins[0].iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = ins[0].iter().map(|v| (v - m).exp()).collect();
                let s: f64 = e.iter().sum();
                e.iter().map(|v| v / s).collect()
            }
            Layer::Quantize(_) => ins[0].iter().map(|&v| cast(v, &n.ty.unwrap())).collect(),
            Layer::Reshape(_) => ins[0].clone(),
            Layer::Concatenate(c) => {
                let shapes: Vec<&[usize]> = g.inputs_of(id).iter().map(|&i| g.node(i).shape.dims()).collect();
                common::concatenate(c.axis, &shapes, &ins)
            }
            Layer::Elementwise(e) => ins[0]
                .iter()
                .zip(ins[1].iter())
                .map(|(a, b)| match e.op {
                    BinaryOp::Add => a + b,
                    BinaryOp::Sub => a - b,
                    BinaryOp::Mul => a * b,
                })
                .collect(),
        };
        out.insert(n.name.clone(), y.clone());
        vals.insert(id, y);
    }
    out
}

/// Compares the node `logits` and the graph output with the saved `model.predict` results.
fn check_outputs(g: &Graph, reference: &str, logits: &str) {
    let dir = root().join("golden/reference").join(reference);
    let (xs, x) = npy(&dir.join("inputs.npy"));
    let (zs, z) = npy(&dir.join("expected_logits.npy"));
    let (_, y) = npy(&dir.join("expected_float.npy"));
    let (n, f, k) = (xs[0], xs[1], zs[1]);
    let out_name = g.node(g.outputs()[0]).name.clone();
    let (mut worst_z, mut worst_y) = (0f64, 0f64);
    for r in 0..n {
        let vals = run(g, &x[r * f..(r + 1) * f]);
        for j in 0..k {
            worst_z = worst_z.max((vals[logits][j] - z[r * k + j]).abs());
            worst_y = worst_y.max((vals[&out_name][j] - y[r * k + j]).abs());
        }
    }
    assert!(worst_z < 1e-4, "{reference}: logits differ by {worst_z}");
    assert!(worst_y < 1e-5, "{reference}: outputs differ by {worst_y}");
}

#[test]
fn keras_mlp_reproduces_predict() {
    for file in ["keras_mlp.json", "keras_mlp.h5", "keras_mlp.keras"] {
        check_outputs(&load(&models().join(file)), "keras_mlp", "dense_3");
    }
}

#[test]
fn keras_functional_reproduces_predict() {
    check_outputs(&load(&models().join("keras_functional.h5")), "keras_functional", "logits");
}

#[test]
fn qkeras_mlp_reproduces_predict() {
    // Quantized input, weights and activations are exact, so only the float output layer differs
    // from TensorFlow's float32 arithmetic.
    check_outputs(&load(&models().join("qkeras_mlp.json")), "qkeras_mlp", "output");
}
