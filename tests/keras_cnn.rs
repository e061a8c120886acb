//! Keras / QKeras convolutional networks: the committed CNN test models (`tests/models/keras`,
//! made by `scripts/make_qkeras_models.py` with TensorFlow 2.14 and QKeras 0.9.0) import, match
//! their IR snapshots in `golden/ir_keras`, and the simulator's f64 mode reproduces
//! `model.predict` (`golden/reference/<model>/expected_float.npy`); layer options hls-gen cannot
//! honour fail with an error naming the layer; the real CNNs in `../shared/models/keras` import
//! when that folder exists.

use std::path::{Path, PathBuf};

use hls_gen::flow::{self, FlowOptions};
use hls_gen::frontend::keras::{self, KerasError};
use hls_gen::ir::{self, Activation, Graph, Layer, TableFn};
use hls_gen::sim::{RunOptions, Simulator};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn models() -> PathBuf {
    root().join("tests/models/keras")
}

fn snapshot(name: &str, g: &Graph) {
    insta::with_settings!({snapshot_path => "../golden/ir_keras", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!(name, ir::print(g));
    });
}

fn load(path: &Path) -> Graph {
    let g = keras::load(path, None).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ir::validate(&g, ir::Stage::Imported).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    g
}

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

const MODELS: &[&str] = &[
    "keras_cnn2d",
    "keras_cnn1d",
    "keras_cnn_functional",
    "qkeras_cnn",
    "keras_cnn_activations",
    "qkeras_separable",
];

#[test]
fn cnn_models_import_and_match_their_snapshots() {
    for model in MODELS {
        let json = load(&models().join(format!("{model}.json")));
        let full = load(&models().join(format!("{model}.h5")));
        assert_eq!(contents(&full), contents(&json), "{model}");
        snapshot(model, &json);
    }
    // the Keras v3 archive (numbered variables instead of named weights)
    let archive = load(&models().join("keras_cnn2d.keras"));
    assert_eq!(contents(&archive), contents(&load(&models().join("keras_cnn2d.json"))));
}

fn kinds(g: &Graph) -> Vec<(String, String)> {
    g.topo_order()
        .unwrap()
        .into_iter()
        .map(|id| {
            let n = g.node(id);
            let kind = match &n.layer {
                Layer::Conv(c) => {
                    format!("conv g{} s{:?} p{:?}/{:?}", c.groups, c.strides, c.pads_begin, c.pads_end)
                }
                Layer::Pool(p) => {
                    format!("{} k{:?} p{:?}/{:?}", p.op.name(), p.kernel, p.pads_begin, p.pads_end)
                }
                Layer::Pad(p) => format!("pad {:?}/{:?}", p.begin, p.end),
                Layer::UpSample(u) => format!("upsample {:?}", u.factors),
                other => format!("{other:?}").split(['(', ' ', '{']).next().unwrap_or("").to_string(),
            };
            (n.name.clone(), kind)
        })
        .collect()
}

fn kind_of(g: &Graph, name: &str) -> String {
    kinds(g).into_iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no node {name}")).1
}

/// TensorFlow's 'same' padding (the smaller half first), depthwise and separable convolutions,
/// cropping as negative padding.
#[test]
fn cnn_windows_follow_keras() {
    let g = load(&models().join("keras_cnn2d.json"));
    // 12 -> 6 with k 3, s 2: total = (6 - 1) * 2 + 3 - 12 = 1, begin 0, end 1.
    assert_eq!(kind_of(&g, "conv1"), "conv g1 s[2, 2] p[0, 0]/[1, 1]");
    // depthwise, 4 channels times multiplier 2
    assert_eq!(kind_of(&g, "dw"), "conv g4 s[1, 1] p[1, 1]/[1, 1]");
    let Layer::Conv(dw) = &g.node(g.find("dw").unwrap()).layer else { panic!() };
    assert_eq!(dw.weights.shape.dims(), &[3, 3, 1, 8]);
    // separable with an even kernel: 'same' pads 0 before, 1 after; then a 1x1 convolution
    assert_eq!(kind_of(&g, "sep_depthwise"), "conv g8 s[1, 1] p[0, 0]/[1, 1]");
    assert_eq!(kind_of(&g, "sep"), "conv g1 s[1, 1] p[0, 0]/[0, 0]");
    // average pooling 'same' with stride 1: padded positions are not counted
    let Layer::Pool(avg) = &g.node(g.find("avg").unwrap()).layer else { panic!() };
    assert!(!avg.count_pad && avg.pads_end == [1, 1], "{avg:?}");

    let g = load(&models().join("keras_cnn1d.json"));
    assert_eq!(kind_of(&g, "pad"), "pad [1]/[2]");
    assert_eq!(kind_of(&g, "crop"), "pad [-1]/[-1]");
    assert_eq!(kind_of(&g, "up"), "upsample [2]");
    assert_eq!(kind_of(&g, "avg"), "average k[2] p[0]/[1]");
    assert_eq!(g.node(g.find("gap_reshape").unwrap()).shape.dims(), &[8]);

    // 'causal' (1-D only): dilation * (k - 1) zeros before
    let dir = tempfile::tempdir().unwrap();
    let json = edited(dir.path(), "keras_cnn1d", "conv1", |l| {
        l["config"]["padding"] = Value::from("causal");
        l["config"]["dilation_rate"] = Value::from(vec![2]);
    });
    assert_eq!(kind_of(&load(&json), "conv1"), "conv g1 s[1] p[4]/[0]");
}

fn npy(path: &Path) -> (Vec<usize>, Vec<f64>) {
    let f = npyz::NpyFile::new(std::fs::File::open(path).unwrap()).unwrap();
    let shape = f.shape().iter().map(|&d| d as usize).collect();
    (shape, f.into_vec::<f64>().unwrap())
}

/// The f64 mode against `model.predict`, with the tolerance of the other Keras float models
/// (`tests/conformance.rs`: TensorFlow computes in float32). Returns an error when the simulator
/// cannot run the model.
fn float_mode_error(model: &str) -> Result<(), String> {
    let dir = root().join("golden/reference").join(model);
    let (xs, x) = npy(&dir.join("inputs.npy"));
    let (_, y) = npy(&dir.join("expected_float.npy"));
    let n = xs[0];
    let path = models().join(format!("{model}.h5"));
    let float =
        flow::load_float(&path, &FlowOptions::default()).map_err(|e| format!("{model}: lowering: {e}"))?;
    let sim = Simulator::new_float(&float.graph).map_err(|e| format!("{model}: simulator: {e}"))?;
    let r = sim.run(&x, n, &RunOptions::default()).map_err(|e| format!("{model}: run: {e}"))?;
    let got = &r.outputs[0].values;
    assert_eq!(got.len(), y.len(), "{model}");
    for (i, (g, e)) in got.iter().zip(&y).enumerate() {
        let tol = 1e-4 * e.abs().max(1e-2);
        assert!((g - e).abs() <= tol, "{model}: value {i}: f64 mode {g}, Keras {e}");
    }
    Ok(())
}

#[test]
fn float_mode_matches_keras() {
    let mut missing = Vec::new();
    for model in ["keras_cnn2d", "keras_cnn1d", "keras_cnn_functional", "keras_cnn_activations"] {
        if let Err(e) = float_mode_error(model) {
            missing.push(e);
        }
    }
    assert!(missing.is_empty(), "the f64 mode cannot run: {missing:#?}");
}

/// QKeras' quantized forward pass: inputs, weights and activations are on fixed-point grids, so
/// the f64 mode reproduces it up to float32 rounding in the float layers after the last quantizer.
#[test]
fn float_mode_matches_qkeras() {
    let missing: Vec<String> =
        ["qkeras_cnn", "qkeras_separable"].into_iter().filter_map(|m| float_mode_error(m).err()).collect();
    assert!(missing.is_empty(), "the f64 mode cannot run: {missing:#?}");
}

/// `model` with the config of layer `layer` changed by `edit`, written with its weights to `dir`.
fn edited(dir: &Path, model: &str, layer: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let text = std::fs::read_to_string(models().join(format!("{model}.json"))).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    let layers = v["config"]["layers"].as_array_mut().unwrap();
    let l = layers.iter_mut().find(|l| l["config"]["name"] == layer).unwrap();
    edit(l);
    let json = dir.join(format!("{model}.json"));
    std::fs::write(&json, v.to_string()).unwrap();
    std::fs::copy(models().join(format!("{model}_weights.h5")), dir.join(format!("{model}_weights.h5")))
        .unwrap();
    json
}

/// The one unsupported layer of the error, with its reason.
fn refused(path: &Path) -> (String, String, String) {
    let e = keras::load(path, None).unwrap_err();
    let text = e.to_string();
    let KerasError::Unsupported { layers, .. } = &e else { panic!("unexpected error {text}") };
    assert_eq!(layers.len(), 1, "{text}");
    assert!(text.contains(&format!("'{}'", layers[0].layer)), "{text}");
    (layers[0].layer.clone(), layers[0].class.clone(), layers[0].reason.clone())
}

#[test]
fn bilinear_upsampling_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let json = edited(dir.path(), "keras_cnn1d", "up", |l| {
        l["class_name"] = Value::from("UpSampling2D");
        l["config"]["interpolation"] = Value::from("bilinear");
    });
    let (layer, class, reason) = refused(&json);
    assert_eq!((layer.as_str(), class.as_str()), ("up", "UpSampling2D"));
    assert!(reason.contains("bilinear"), "{reason}");
}

#[test]
fn channels_first_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for layer in ["conv1", "pool1"] {
        let json = edited(dir.path(), "keras_cnn2d", layer, |l| {
            l["config"]["data_format"] = Value::from("channels_first");
        });
        let (name, _, reason) = refused(&json);
        assert_eq!(name, layer);
        assert!(reason.contains("channels_first"), "{reason}");
    }
}

#[test]
fn bad_convolution_options_name_the_layer() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &str, Value, &str); 4] = [
        ("conv1", "padding", Value::from("reflect"), "reflect"),
        ("conv1", "strides", Value::from(vec![0, 1]), "strides"),
        ("conv1", "kernel_size", Value::from(vec![3, 3, 3]), "kernel_size"),
        ("pool1", "pool_size", Value::from("two"), "pool_size"),
    ];
    for (layer, key, value, needle) in cases {
        let json = edited(dir.path(), "keras_cnn2d", layer, |l| l["config"][key] = value);
        let (name, _, reason) = refused(&json);
        assert_eq!(name, layer);
        assert!(reason.contains(needle), "{key}: {reason}");
    }
}

/// A weight file whose kernel does not fit the configuration names the layer and the tensor.
#[test]
fn mismatched_kernel_names_the_layer() {
    let dir = tempfile::tempdir().unwrap();
    let json = edited(dir.path(), "keras_cnn2d", "conv1", |l| l["config"]["filters"] = Value::from(5));
    let e = keras::load(&json, None).unwrap_err().to_string();
    assert!(e.contains("conv1") && e.contains("kernel"), "{e}");
}

/// Groups that do not divide the input channels.
#[test]
fn groups_must_divide_the_channels() {
    let dir = tempfile::tempdir().unwrap();
    let json = edited(dir.path(), "keras_cnn_functional", "stem", |l| l["config"]["groups"] = Value::from(3));
    let e = keras::load(&json, None).unwrap_err().to_string();
    assert!(e.contains("stem") && e.contains("groups"), "{e}");
}

/// Window sizes, strides, dilations, factors and padding far beyond any real layer are refused
/// with the key named, before any arithmetic on them.
#[test]
fn huge_windows_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let huge = Value::from(1u64 << 62);
    for (model, layer, key) in [
        ("keras_cnn2d", "conv1", "dilation_rate"),
        ("keras_cnn2d", "conv1", "strides"),
        ("keras_cnn2d", "pool1", "pool_size"),
        ("keras_cnn1d", "up", "size"),
        ("keras_cnn1d", "pad", "padding"),
        ("keras_cnn1d", "crop", "cropping"),
    ] {
        let json = edited(dir.path(), model, layer, |l| l["config"][key] = huge.clone());
        let (name, _, reason) = refused(&json);
        assert_eq!(name, layer);
        assert!(reason.contains(key) && reason.contains("larger than"), "{key}: {reason}");
    }
}

/// The activation layers and functions of `keras_cnn_activations` keep their parameters.
#[test]
fn activations_keep_their_parameters() {
    let g = load(&models().join("keras_cnn_activations.json"));
    let act = |name: &str| match &g.node(g.find(name).unwrap_or_else(|| panic!("no {name}"))).layer {
        Layer::Activation(a) => a.clone(),
        other => panic!("{name}: {other:?}"),
    };
    let Activation::PRelu { alpha } = act("prelu") else { panic!() };
    assert_eq!(alpha.shape.dims(), &[1, 4]);
    let Activation::Elu(t) = act("elu") else { panic!() };
    assert_eq!(t.function, TableFn::EluNegative { alpha: 0.5 });
    let Activation::ThresholdedRelu { theta } = act("thresholded") else { panic!() };
    assert!((theta.values[0] - 0.3).abs() < 1e-7);
    assert!(matches!(act("conv2_elu"), Activation::Elu(_)));
    assert!(matches!(act("conv3_selu"), Activation::Selu { .. }));
    assert!(matches!(act("conv4_softplus"), Activation::Softplus(_)));
    assert!(matches!(act("conv5_softsign"), Activation::Softsign(_)));
    let Activation::HardSigmoid { alpha, .. } = act("hard_sigmoid") else { panic!() };
    assert_eq!(alpha.values[0], 0.2);

    // Keras 3's hard_swish / hard_silu: x * relu6(x + 3) / 6
    let dir = tempfile::tempdir().unwrap();
    for name in ["hard_swish", "hard_silu"] {
        let json = edited(dir.path(), "keras_cnn_activations", "conv5", |l| {
            l["config"]["activation"] = Value::from(name);
        });
        let g = load(&json);
        let Layer::Activation(Activation::HardSwish { alpha, beta }) =
            &g.node(g.find("conv5_hard_swish").unwrap()).layer
        else {
            panic!("{name}")
        };
        assert_eq!((alpha.values[0], beta.values[0]), (1.0 / 6.0, 0.5));
    }
}

/// `../shared/models/keras` next to the checkout (two levels up from a worktree under `wt/`).
fn shared() -> Option<PathBuf> {
    let found = ["../shared/models/keras", "../../shared/models/keras"]
        .iter()
        .map(|d| root().join(d))
        .find(|d| d.is_dir());
    if found.is_none() {
        eprintln!("skipped: ../shared/models/keras is absent");
    }
    found
}

#[test]
fn shared_cnn_models_import() {
    let Some(dir) = shared() else { return };
    for (file, convs) in [
        ("KERAS_conv1d_small.json", 3),
        ("KERAS_conv2d_model.json", 1),
        ("jetTagger_Conv2D_Small_NoBatchNorm.json", 2),
    ] {
        let g = load(&dir.join(file));
        let n = g.node_ids().iter().filter(|&&id| matches!(g.node(id).layer, Layer::Conv(_))).count();
        assert_eq!(n, convs, "{file}");
        snapshot(&format!("shared_{}", file.trim_end_matches(".json")), &g);
    }
}
