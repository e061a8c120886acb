//! The imported graphs compute what Keras / QKeras computed.
//!
//! * Quantized parameters: every QKeras-quantized constant in the IR equals, bit for bit, what
//!   QKeras 0.9.0 uses at inference (`golden/ir_keras/qkeras_weights.json`, written by
//!   `scripts/make_qkeras_references.py`), and holds in the type the importer gave it.
//! * End to end: a float64 reading of the IR (exact fixed-point casts for `Quantize` nodes;
//!   convolutions, pools, padding and upsampling as `src/ir/layer/*.rs` define them) reproduces
//!   the `model.predict` logits in `golden/reference/<model>/`, the CNN models included. It is
//!   independent of the simulator.

mod common;

use std::path::{Path, PathBuf};

use common::windows::{conv, gather, pool, reduce, unravel};
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
        let params = match &g.node(id).layer {
            Layer::Dense(d) => Some((&d.weights, &d.bias)),
            Layer::Conv(c) => Some((&c.weights, &c.bias)),
            _ => None,
        };
        match &g.node(id).layer {
            Layer::Dense(_) | Layer::Conv(_) => {
                let (weights, bias) = params.unwrap();
                // a separable convolution's depthwise node has no bias in QKeras (a zero one here)
                for (role, w) in [("kernel", weights), ("bias", bias)] {
                    if entry.get(role).is_none() {
                        assert!(w.values.iter().all(|&v| v == 0.0), "{model} {name} {role}");
                        continue;
                    }
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

/// QConv1D, QConv2D, QDepthwiseConv2D (its `[k, k, c, m]` kernel in the IR's `[k, k, 1, c * m]`
/// order), QSeparableConv1D/2D (the depthwise and pointwise nodes) and QConv2DBatchnorm (the batch
/// norm folded, then quantized) hold QKeras' quantized parameters.
#[test]
fn qkeras_cnn_weights_are_qkeras_weights() {
    check_quantized(&load(&models().join("qkeras_cnn.json")), "qkeras_cnn");
    check_quantized(&load(&models().join("qkeras_cnn.h5")), "qkeras_cnn");
    check_quantized(&load(&models().join("qkeras_separable.h5")), "qkeras_separable");
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
                let c = b.scale.values.len();
                ins[0]
                    .iter()
                    .enumerate()
                    .map(|(i, v)| v * b.scale.values[i % c] + b.bias.values[i % c])
                    .collect()
            }
            Layer::Activation(Activation::PRelu { alpha }) => {
                // the slopes broadcast onto the tensor: 1 on every shared axis
                let dims = n.shape.dims();
                ins[0]
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| {
                        let at = unravel(i, dims);
                        let a =
                            alpha.shape.dims().iter().zip(&at).fold(0, |k, (&d, &p)| k * d + p.min(d - 1));
                        if v >= 0.0 {
                            v
                        } else {
                            alpha.values[a] * v
                        }
                    })
                    .collect()
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
                    Activation::Elu(t) => match t.function {
                        ir::TableFn::EluNegative { alpha } if v < 0.0 => alpha * v.exp_m1(),
                        _ => v,
                    },
                    Activation::Selu { scale, .. } => {
                        if v >= 0.0 {
                            one(scale) * v
                        } else {
                            ir::SELU_SCALE * ir::SELU_ALPHA * v.exp_m1()
                        }
                    }
                    Activation::Softplus(_) => v.exp().ln_1p(),
                    Activation::Softsign(_) => v / (1.0 + v.abs()),
                    Activation::ThresholdedRelu { theta } => {
                        if v > one(theta) {
                            v
                        } else {
                            0.0
                        }
                    }
                    Activation::HardSwish { alpha, beta } => v * (one(alpha) * v + one(beta)).clamp(0.0, 1.0),
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
            Layer::Elementwise(e) => {
                let apply = |a: f64, b: f64| match e.op {
                    BinaryOp::Add => a + b,
                    BinaryOp::Sub => a - b,
                    BinaryOp::Mul => a * b,
                    BinaryOp::Max => a.max(b),
                    BinaryOp::Min => a.min(b),
                };
                let mut acc = ins[0].clone();
                for other in &ins[1..] {
                    acc.iter_mut().zip(other.iter()).for_each(|(a, &b)| *a = apply(*a, b));
                }
                if let Some(c) = &e.constant {
                    assert_eq!(c.values.len(), 1, "{}: only scalar constants", n.name);
                    acc.iter_mut().for_each(|a| *a = apply(*a, c.values[0]));
                }
                acc
            }
            Layer::Conv(c) => conv(c, g.node(g.inputs_of(id)[0]).shape.dims(), ins[0], n.shape.dims()),
            Layer::Pool(p) => pool(p, g.node(g.inputs_of(id)[0]).shape.dims(), ins[0], n.shape.dims()),
            Layer::Pad(p) => {
                let xd = g.node(g.inputs_of(id)[0]).shape.dims();
                gather(xd, ins[0], n.shape.dims(), |d, o| o as i64 - p.begin[d])
            }
            Layer::UpSample(u) => {
                let xd = g.node(g.inputs_of(id)[0]).shape.dims();
                gather(xd, ins[0], n.shape.dims(), |d, o| (o / u.factors[d]) as i64)
            }
            Layer::Transpose(_) => panic!("{}: the Keras importer does not make transposes", n.name),
            Layer::Reduce(r) => reduce(r, g.node(g.inputs_of(id)[0]).shape.dims(), ins[0]),
            Layer::GatherRows(_) | Layer::ScatterAdd(_) => {
                panic!("{}: the Keras importer does not make graph layers", n.name)
            }
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
    let (n, f, k) = (xs[0], xs[1..].iter().product::<usize>(), zs[1]);
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

/// Compares the graph's single output with `model.predict`, relative to the value's magnitude
/// (at least 1): anomaly scores reach thousands on the large-magnitude rows, where float32's
/// own rounding is about 1e-4 in absolute terms.
fn check_scores(g: &Graph, reference: &str) {
    let dir = root().join("golden/reference").join(reference);
    let (xs, x) = npy(&dir.join("inputs.npy"));
    let (_, y) = npy(&dir.join("expected_float.npy"));
    let (n, f) = (xs[0], xs[1..].iter().product::<usize>());
    let out_name = g.node(g.outputs()[0]).name.clone();
    let k = y.len() / n;
    let mut worst = 0f64;
    for r in 0..n {
        let vals = run(g, &x[r * f..(r + 1) * f]);
        assert_eq!(vals[&out_name].len(), k, "{reference}");
        for j in 0..k {
            let want = y[r * k + j];
            worst = worst.max((vals[&out_name][j] - want).abs() / want.abs().max(1.0));
        }
    }
    assert!(worst < 1e-5, "{reference}: scores differ by {worst} (relative)");
}

/// Anomaly scores written with Subtract/Multiply and TFOpLambda reductions (`tf.reduce_mean`,
/// `tf.reduce_sum` of `tf.square`).
#[test]
fn anomaly_scores_reproduce_predict() {
    for model in ["keras_ae_score", "keras_encoder_l2"] {
        for ext in ["json", "h5"] {
            check_scores(&load(&models().join(format!("{model}.{ext}"))), model);
        }
    }
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

#[test]
fn keras_cnns_reproduce_predict() {
    for model in ["keras_cnn2d", "keras_cnn1d", "keras_cnn_functional", "keras_cnn_activations"] {
        for ext in ["json", "h5"] {
            check_outputs(&load(&models().join(format!("{model}.{ext}"))), model, "logits");
        }
    }
    check_outputs(&load(&models().join("keras_cnn2d.keras")), "keras_cnn2d", "logits");
}

#[test]
fn qkeras_cnn_reproduces_predict() {
    // Quantized input, kernels (QConv2DBatchnorm's folded one too), biases, activations and the
    // average's 1/4 are exact; only the float output layers differ from float32 arithmetic.
    check_outputs(&load(&models().join("qkeras_cnn.json")), "qkeras_cnn", "logits");
    check_outputs(&load(&models().join("qkeras_separable.json")), "qkeras_separable", "logits");
}

/// `keras_cnn2d` with weightless layers inserted after `pool1` that undo each other:
/// `ZeroPadding2D(((1, 0), (0, 2)))` then `Cropping2D` of the same amounts, `UpSampling2D((2, 1))`
/// then `MaxPooling2D((2, 1))`; its outputs are the original model's only if every amount lands
/// on the right side of the right axis.
#[test]
fn padding_cropping_and_upsampling_2d_undo_each_other() {
    let text = std::fs::read_to_string(models().join("keras_cnn2d.json")).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    let layer = |class: &str, name: &str, key: &str, value: Value| {
        serde_json::json!({
            "module": "keras.layers",
            "class_name": class,
            "config": {"name": name, "trainable": true, "dtype": "float32", key: value,
                       "data_format": "channels_last"},
        })
    };
    let amounts = serde_json::json!([[1, 0], [0, 2]]);
    let extra = [
        layer("ZeroPadding2D", "pad2d", "padding", amounts.clone()),
        layer("Cropping2D", "crop2d", "cropping", amounts),
        layer("UpSampling2D", "up2d", "size", serde_json::json!([2, 1])),
        layer("MaxPooling2D", "down2d", "pool_size", serde_json::json!([2, 1])),
    ];
    let layers = v["config"]["layers"].as_array_mut().unwrap();
    let at = layers.iter().position(|l| l["config"]["name"] == "pool1").unwrap() + 1;
    layers.splice(at..at, extra);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("m.json"), v.to_string()).unwrap();
    std::fs::copy(models().join("keras_cnn2d_weights.h5"), dir.path().join("m_weights.h5")).unwrap();
    let g = load(&dir.path().join("m.json"));
    let shape = |name: &str| g.node(g.find(name).unwrap()).shape.dims().to_vec();
    assert_eq!(shape("pad2d"), [4, 5, 8]);
    assert_eq!(shape("crop2d"), [3, 3, 8]);
    assert_eq!(shape("up2d"), [6, 3, 8]);
    assert_eq!(shape("down2d"), [3, 3, 8]);
    check_outputs(&g, "keras_cnn2d", "logits");
}
