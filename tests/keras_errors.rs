//! The Keras importer on bad input: truncated and corrupted files, missing or mismatched weights,
//! models it does not support. Each case must give an error naming the file (and the layer where
//! there is one), never a panic.

use std::path::{Path, PathBuf};

use hls_gen::frontend::keras::{self, KerasError};
use serde_json::Value;

fn models() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/models/keras")
}

fn fails(path: &Path, weights: Option<&Path>) -> KerasError {
    match keras::load(path, weights) {
        Ok(_) => panic!("{} imported", path.display()),
        Err(e) => {
            // The model file, or the weights file (given, or found next to the model).
            let text = e.to_string();
            let names_model = text.contains(&*path.to_string_lossy());
            let names_weights = match weights {
                Some(w) => text.contains(&*w.to_string_lossy()),
                None => text.contains(&*path.parent().unwrap().to_string_lossy()) && text.contains("weights"),
            };
            assert!(names_model || names_weights, "the error does not name the file: {e}");
            e
        }
    }
}

fn mlp_json() -> Value {
    serde_json::from_str(&std::fs::read_to_string(models().join("keras_mlp.json")).unwrap()).unwrap()
}

#[test]
fn missing_files() {
    let dir = tempfile::tempdir().unwrap();
    let e = fails(&dir.path().join("nothing.json"), None);
    assert!(matches!(e, KerasError::Io { .. }), "{e}");

    // Architecture without weights next to it.
    let json = dir.path().join("alone.json");
    std::fs::copy(models().join("keras_mlp.json"), &json).unwrap();
    let e = fails(&json, None);
    let KerasError::MissingWeights { expected, .. } = &e else { panic!("{e}") };
    assert!(expected.ends_with("alone_weights.h5"), "{e}");

    // A weights file given explicitly that does not exist.
    let e = fails(&json, Some(&dir.path().join("gone.h5")));
    assert!(matches!(e, KerasError::Io { .. }), "{e}");

    // A weights-only .h5 given as the model.
    let e = fails(&models().join("keras_mlp_weights.h5"), None);
    assert!(e.to_string().contains("model_config"), "{e}");
}

#[test]
fn weights_of_another_model() {
    let e = fails(&models().join("qkeras_mlp.json"), Some(&models().join("keras_mlp_weights.h5")));
    let KerasError::Weights { layer, .. } = &e else { panic!("{e}") };
    assert_eq!(layer, "fc1", "{e}");
}

#[test]
fn weights_with_wrong_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let mut v = mlp_json();
    v["config"]["layers"][1]["config"]["units"] = Value::from(31);
    std::fs::write(dir.path().join("m.json"), v.to_string()).unwrap();
    std::fs::copy(models().join("keras_mlp_weights.h5"), dir.path().join("m_weights.h5")).unwrap();
    let e = fails(&dir.path().join("m.json"), None);
    let text = e.to_string();
    let KerasError::Weights { layer, .. } = &e else { panic!("{e}") };
    assert_eq!(layer, "dense");
    assert!(text.contains("[16, 32]") && text.contains("[16, 31]"), "{text}");
}

#[test]
fn unsupported_options_are_listed_together() {
    let dir = tempfile::tempdir().unwrap();
    let mut v = mlp_json();
    let layers = v["config"]["layers"].as_array_mut().unwrap();
    layers[1]["config"]["activation"] = Value::from("gelu");
    layers[5]["config"]["threshold"] = Value::from(0.5);
    layers[5]["class_name"] = Value::from("ReLU");
    layers[7]["class_name"] = Value::from("Conv2D");
    std::fs::write(dir.path().join("m.json"), v.to_string()).unwrap();
    std::fs::copy(models().join("keras_mlp_weights.h5"), dir.path().join("m_weights.h5")).unwrap();
    let e = fails(&dir.path().join("m.json"), None);
    let KerasError::Unsupported { layers, .. } = &e else { panic!("{e}") };
    let names: Vec<&str> = layers.iter().map(|r| r.layer.as_str()).collect();
    assert_eq!(names.len(), 3, "{e}");
    assert!(layers.iter().any(|r| r.reason.contains("'gelu'")), "{e}");
    assert!(layers.iter().any(|r| r.reason.contains("threshold")), "{e}");
    assert!(layers.iter().any(|r| r.class == "Conv2D"), "{e}");
}

#[test]
fn unsupported_quantizer_options_name_the_quantizer() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(models().join("qkeras_mlp.json")).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    let layers = v["config"]["layers"].as_array_mut().unwrap();
    let fc1 = layers.iter_mut().find(|l| l["config"]["name"] == "fc1").unwrap();
    fc1["config"]["kernel_quantizer"]["config"]["alpha"] = Value::from("auto");
    fc1["config"]["bias_quantizer"]["config"]["use_stochastic_rounding"] = Value::from(true);
    let relu1 = layers.iter_mut().find(|l| l["config"]["name"] == "relu1").unwrap();
    relu1["config"]["activation"] = Value::from("quantized_relu(6,0,use_sigmoid=1)");
    std::fs::write(dir.path().join("q.json"), v.to_string()).unwrap();
    std::fs::copy(models().join("qkeras_mlp_weights.h5"), dir.path().join("q_weights.h5")).unwrap();
    let e = fails(&dir.path().join("q.json"), None);
    let KerasError::Unsupported { layers, .. } = &e else { panic!("{e}") };
    assert_eq!(layers.len(), 2, "{e}");
    assert!(
        layers[0].layer == "fc1"
            && layers[0].reason.contains("quantized_bits(")
            && layers[0].reason.contains("stochastic"),
        "{e}"
    );
    assert!(layers[1].layer == "relu1" && layers[1].reason.contains("use_sigmoid"), "{e}");

    // alpha='auto' is only found once the kernel is quantized.
    let mut v: Value = serde_json::from_str(&text).unwrap();
    let layers = v["config"]["layers"].as_array_mut().unwrap();
    let fc1 = layers.iter_mut().find(|l| l["config"]["name"] == "fc1").unwrap();
    fc1["config"]["kernel_quantizer"]["config"]["alpha"] = Value::from("auto");
    std::fs::write(dir.path().join("q.json"), v.to_string()).unwrap();
    let e = fails(&dir.path().join("q.json"), None);
    let KerasError::Quantizer { layer, what, .. } = &e else { panic!("{e}") };
    assert_eq!(layer, "fc1");
    assert!(what.contains("alpha='auto'") && what.contains("powers of two"), "{e}");
}

#[test]
fn multi_input_and_multi_output_models() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(models().join("keras_mlp_weights.h5"), dir.path().join("m_weights.h5")).unwrap();
    let two_inputs = r#"{"class_name": "Functional", "keras_version": "2.14.0", "config": {"name": "two",
        "layers": [
          {"class_name": "InputLayer", "name": "b", "config": {"name": "b", "batch_input_shape": [null, 4]}, "inbound_nodes": []},
          {"class_name": "InputLayer", "name": "a", "config": {"name": "a", "batch_input_shape": [null, 4]}, "inbound_nodes": []},
          {"class_name": "Add", "name": "sum", "config": {"name": "sum"}, "inbound_nodes": [[["a", 0, 0, {}], ["b", 0, 0, {}]]]}],
        "input_layers": [["a", 0, 0], ["b", 0, 0]], "output_layers": [["sum", 0, 0], ["a", 0, 0]]}}"#;
    let path = dir.path().join("m.json");
    std::fs::write(&path, two_inputs).unwrap();
    let g = keras::load(&path, None).unwrap();
    let names = |ids: &[hls_gen::ir::NodeId]| ids.iter().map(|&i| g.node(i).name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&g.inputs()), ["a", "b"], "the model's input order");
    assert_eq!(names(g.outputs()), ["sum", "a"]);

    let unlisted = two_inputs
        .replace(r#""input_layers": [["a", 0, 0], ["b", 0, 0]]"#, r#""input_layers": [["a", 0, 0]]"#);
    std::fs::write(&path, unlisted).unwrap();
    let e = fails(&path, None);
    assert!(matches!(e, KerasError::Config { .. }) && e.to_string().contains("input layer 'b'"), "{e}");
}

#[test]
fn truncated_and_corrupted_json() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(models().join("keras_mlp_weights.h5"), dir.path().join("m_weights.h5")).unwrap();
    let text = std::fs::read_to_string(models().join("keras_mlp.json")).unwrap();
    let json = dir.path().join("m.json");
    for cut in (0..text.len()).step_by(97) {
        std::fs::write(&json, &text[..cut]).unwrap();
        let _ = fails(&json, None);
    }
    // Wrong types in places the importer reads.
    for (path, value) in [
        ("/config/layers/1/config/units", Value::from("many")),
        ("/config/layers/1/config/units", Value::from(-3)),
        ("/config/layers/0/config/batch_input_shape", Value::from(7)),
        ("/config/layers/0/config/batch_input_shape/1", Value::Null),
        ("/config/layers/2/config/epsilon", Value::from("small")),
        ("/config/layers", Value::from(3)),
        ("/config/layers/4/class_name", Value::from(12)),
        ("/config/layers/9/config/activation", Value::from(5)),
        ("/class_name", Value::from("Subclassed")),
    ] {
        let mut v = mlp_json();
        *v.pointer_mut(path).unwrap() = value;
        std::fs::write(&json, v.to_string()).unwrap();
        let _ = fails(&json, None);
    }
    std::fs::write(&json, [0xffu8, 0xfe, 0x00, 0x7b]).unwrap();
    let _ = fails(&json, None);
}

#[test]
fn truncated_and_corrupted_h5() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(models().join("keras_mlp.h5")).unwrap();
    let h5 = dir.path().join("m.h5");
    for cut in (0..bytes.len()).step_by(bytes.len() / 60) {
        std::fs::write(&h5, &bytes[..cut]).unwrap();
        let _ = fails(&h5, None);
    }
    // Flipped bytes: most positions hit data and still import; none may panic.
    let mut state = 0x2545_f491u32;
    for _ in 0..300 {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let mut b = bytes.clone();
        let pos = state as usize % b.len();
        b[pos] ^= (state >> 24) as u8 | 1;
        std::fs::write(&h5, &b).unwrap();
        let _ = keras::load(&h5, None);
    }
    // Weights file of the JSON form, truncated.
    let wbytes = std::fs::read(models().join("keras_mlp_weights.h5")).unwrap();
    let json = dir.path().join("w.json");
    std::fs::copy(models().join("keras_mlp.json"), &json).unwrap();
    let weights = dir.path().join("w_weights.h5");
    for cut in (0..wbytes.len()).step_by(wbytes.len() / 40) {
        std::fs::write(&weights, &wbytes[..cut]).unwrap();
        let _ = fails(&json, None);
    }
}

#[test]
fn truncated_and_corrupted_keras_archive() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(models().join("keras_mlp.keras")).unwrap();
    let path = dir.path().join("m.keras");
    for cut in (0..bytes.len()).step_by(bytes.len() / 40) {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let _ = fails(&path, None);
    }
    let mut state = 0x9e37_79b9u32;
    for _ in 0..200 {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let mut b = bytes.clone();
        let pos = state as usize % b.len();
        b[pos] ^= (state >> 24) as u8 | 1;
        std::fs::write(&path, &b).unwrap();
        let _ = keras::load(&path, None);
    }
}

#[test]
fn not_a_model() {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in [
        ("empty.h5", &b""[..]),
        ("empty.json", &b""[..]),
        ("noise.keras", &b"\x00\x01\x02garbage"[..]),
        ("list.json", &b"[1, 2, 3]"[..]),
        (
            "zip.keras",
            &b"PK\x05\x06\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"[..],
        ),
    ] {
        let p = dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        let _ = fails(&p, None);
    }
    let e = keras::load(dir.path(), None).unwrap_err();
    assert!(matches!(e, KerasError::Io { .. }), "{e}");
}

/// Every JSON pointer to a scalar in `v`.
fn scalar_pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => o.iter().for_each(|(k, x)| scalar_pointers(x, format!("{at}/{k}"), out)),
        Value::Array(a) => {
            a.iter().enumerate().for_each(|(i, x)| scalar_pointers(x, format!("{at}/{i}"), out))
        }
        _ => out.push(at),
    }
}

#[test]
fn mutated_configs_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    for model in ["keras_mlp", "qkeras_mlp"] {
        let text = std::fs::read_to_string(models().join(format!("{model}.json"))).unwrap();
        let original: Value = serde_json::from_str(&text).unwrap();
        std::fs::copy(models().join(format!("{model}_weights.h5")), dir.path().join("m_weights.h5")).unwrap();
        let mut pointers = Vec::new();
        scalar_pointers(&original, String::new(), &mut pointers);
        assert!(pointers.len() > 50);
        let json = dir.path().join("m.json");
        for p in &pointers {
            for replacement in [
                Value::from(1_000_000_000_000u64),
                Value::from(-1),
                Value::from(0),
                Value::from(1e300),
                Value::from("quantized_bits(40,80,alpha=[1e30])"),
                Value::Null,
                Value::from(true),
            ] {
                let mut v = original.clone();
                *v.pointer_mut(p).unwrap() = replacement;
                std::fs::write(&json, v.to_string()).unwrap();
                let _ = keras::load(&json, None);
            }
        }
    }
}

/// `keras_encoder_l2.json` with its `tf.math.reduce_sum` layer's function and call arguments
/// replaced, saved with its weights in `dir`.
fn encoder_variant(dir: &Path, name: &str, function: &str, kwargs: Value) -> PathBuf {
    let text = std::fs::read_to_string(models().join("keras_encoder_l2.json")).unwrap();
    let mut json: Value = serde_json::from_str(&text).unwrap();
    let layer = json["config"]["layers"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|l| l["config"]["function"] == "math.reduce_sum")
        .unwrap();
    layer["config"]["function"] = Value::String(function.into());
    layer["inbound_nodes"][0][3] = kwargs;
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, json.to_string()).unwrap();
    std::fs::copy(models().join("keras_encoder_l2_weights.h5"), dir.join(format!("{name}_weights.h5")))
        .unwrap();
    path
}

/// TFOpLambda reductions: every supported function with its axes and `keepdims` as Keras writes
/// them; refused: an unknown function, no axis (TensorFlow's default also reduces the batch),
/// the batch axis, an axis twice, a tensor among the call's arguments. Errors name the layer.
#[test]
fn tf_op_lambda_reductions() {
    use hls_gen::ir::{Layer, ReduceOp};
    use serde_json::json;
    let dir = tempfile::tempdir().unwrap();
    for (function, kwargs, op, keepdims, shape) in [
        ("math.reduce_sum", json!({"axis": 1}), ReduceOp::Sum, false, vec![1]),
        ("math.reduce_mean", json!({"axis": -1, "keepdims": true}), ReduceOp::Mean, true, vec![1]),
        ("math.reduce_max", json!({"axis": [1]}), ReduceOp::Max, false, vec![1]),
        ("math.reduce_min", json!({"axis": [-1], "keepdims": false}), ReduceOp::Min, false, vec![1]),
        ("math.reduce_euclidean_norm", json!({"axis": -1}), ReduceOp::L2, false, vec![1]),
    ] {
        let path = encoder_variant(dir.path(), "ok", function, kwargs);
        let g = keras::load(&path, None).unwrap_or_else(|e| panic!("{function}: {e}"));
        let out = g.node(g.outputs()[0]);
        let Layer::Reduce(r) = &out.layer else { panic!("{function}: {:?}", out.layer) };
        assert_eq!((r.op, r.axes.as_slice(), r.keepdims), (op, &[0][..], keepdims), "{function}");
        assert_eq!(out.shape.dims(), shape.as_slice(), "{function}");
        let square = g.node(g.inputs_of(g.outputs()[0])[0]);
        assert!(matches!(&square.layer, Layer::Elementwise(_)), "tf.math.square: {:?}", square.layer);
    }
    for (function, kwargs, says) in [
        ("math.reduce_prod", json!({"axis": 1}), "'math.reduce_prod' is not supported"),
        ("math.reduce_sum", json!({}), "without axis reduces over the batch axis"),
        ("math.reduce_sum", json!({"axis": 0}), "batch axis"),
        ("math.reduce_sum", json!({"axis": [1, -1]}), "given twice"),
        ("math.reduce_sum", json!({"axis": 1, "other": ["enc1", 0, 0]}), "tensor as a keyword argument"),
    ] {
        let path = encoder_variant(dir.path(), "bad", function, kwargs.clone());
        let e = fails(&path, None).to_string();
        assert!(e.contains("tf.math.reduce_sum") && e.contains(says), "{function} {kwargs}: {e}");
    }
}

/// BinaryNet layers and binary/ternary quantizers whose values no fixed-point form reproduces are
/// refused, naming the layer and the option.
#[test]
fn binary_and_ternary_options_without_a_fixed_point_form() {
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(models().join("keras_binarynet.json")).unwrap())
            .unwrap();
    let layers = v["config"]["layers"].as_array_mut().unwrap();
    for l in layers.iter_mut() {
        match l["config"]["name"].as_str().unwrap() {
            "fc1" => l["config"]["H"] = Value::from("Glorot"),
            "q_input" => l["config"]["activation"] = Value::from("ternary(alpha='auto')"),
            _ => {}
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("bnn.json");
    std::fs::write(&json, v.to_string()).unwrap();
    let e = fails(&json, Some(&models().join("keras_binarynet_weights.h5")));
    let KerasError::Unsupported { layers, .. } = &e else { panic!("{e}") };
    let got: Vec<(&str, &str)> = layers.iter().map(|r| (r.layer.as_str(), r.reason.as_str())).collect();
    assert_eq!(got.len(), 2, "{e}");
    assert!(got[0].0 == "q_input" && got[0].1.contains("automatic alpha"), "{e}");
    assert!(got[1].0 == "fc1" && got[1].1.contains("H=\"Glorot\""), "{e}");
}
