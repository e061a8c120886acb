//! ONNX import of the committed test models: each valid model imports, validates and matches its
//! IR snapshot in `golden/ir/`; each bad model fails with the expected error kind naming the node;
//! random corruptions of valid models never panic. The real models in `../shared/models/onnx` are
//! checked when that folder exists.

use std::path::{Path, PathBuf};

use hls_gen::frontend::onnx::{self, OnnxError};
use hls_gen::ir;

fn models(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/models").join(dir)
}

fn onnx_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "onnx"));
    files.sort();
    files
}

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({snapshot_path => "../golden/ir", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!(name, text);
    });
}

fn import(path: &Path) -> ir::Graph {
    let g = onnx::load(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ir::validate(&g, ir::Stage::Imported).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    g
}

/// Every type the importer fixed is usable, and every typed constant is exact in its type.
fn typed_constants_are_exact(path: &Path, g: &ir::Graph) {
    for id in g.node_ids() {
        let n = g.node(id);
        if let Some(ty) = n.ty {
            assert!(n.ty_from_model && (1..=64).contains(&ty.width), "{}: {}", path.display(), n.name);
        }
        for (role, w) in n.layer.constants() {
            if let Some(ty) = w.ty {
                assert!(ty.width <= ir::MAX_CONST_WIDTH, "{}: {} {role}", path.display(), n.name);
                for v in &w.values {
                    assert!(
                        ir::representable(*v, &ty),
                        "{}: {} {role}: {v} not in {ty}",
                        path.display(),
                        n.name
                    );
                }
            }
        }
    }
}

#[test]
fn every_valid_model_imports_and_matches_its_snapshot() {
    let dirs = [models("onnx"), models("onnx_dev")];
    let mut count = 0;
    for path in dirs.iter().flat_map(|d| onnx_files(d)) {
        let g = import(&path);
        typed_constants_are_exact(&path, &g);
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        snapshot(&format!("onnx_{stem}"), &ir::print(&g));
        count += 1;
    }
    assert!(count >= 9, "only {count} models found");
}

fn err(path: &Path) -> OnnxError {
    match onnx::load(path) {
        Ok(_) => panic!("{} imported, an error was expected", path.display()),
        Err(e) => e,
    }
}

fn bad(name: &str) -> (OnnxError, String) {
    let e = err(&models("bad").join(name));
    let msg = e.to_string();
    assert!(msg.contains(name), "message does not name the file: {msg}");
    (e, msg)
}

#[test]
fn truncated_and_foreign_files_are_decode_errors() {
    for name in ["truncated.onnx", "not_onnx.onnx"] {
        let (e, msg) = bad(name);
        assert!(matches!(e, OnnxError::Decode { .. }), "{msg}");
    }
}

#[test]
fn missing_initializer_names_the_reader_and_the_tensor() {
    let (e, msg) = bad("missing_initializer.onnx");
    assert!(matches!(e, OnnxError::Undefined { .. }), "{msg}");
    assert!(msg.contains("'dense/MatMul'") && msg.contains("dense/MatMul/ReadVariableOp:0"), "{msg}");
}

#[test]
fn non_finite_weights_name_the_node() {
    let (e, msg) = bad("nan_weights.onnx");
    assert!(matches!(e, OnnxError::Tensor { .. }), "{msg}");
    assert!(msg.contains("'dense/MatMul'") && msg.contains("NaN"), "{msg}");
    let (e, msg) = bad("inf_weights.onnx");
    assert!(matches!(e, OnnxError::Tensor { .. }), "{msg}");
    assert!(msg.contains("'dense/MatMul'") && msg.contains("inf"), "{msg}");
}

#[test]
fn inconsistent_shapes_name_the_node() {
    let (e, msg) = bad("shape_mismatch.onnx");
    assert!(matches!(e, OnnxError::Shape { .. }), "{msg}");
    assert!(msg.contains("'dense/MatMul'") && msg.contains("16 features"), "{msg}");
    let (e, msg) = bad("negative_dim.onnx");
    assert!(matches!(e, OnnxError::Shape { .. }), "{msg}");
    assert!(msg.contains("'reshape/Reshape'") && msg.contains("-4"), "{msg}");
}

#[test]
fn bad_inputs_name_the_input() {
    let (e, msg) = bad("zero_dim.onnx");
    assert!(matches!(e, OnnxError::Input { .. }), "{msg}");
    assert!(msg.contains("'input_1'") && msg.contains("is 0"), "{msg}");
    let (e, msg) = bad("huge_tensor.onnx");
    assert!(matches!(e, OnnxError::Input { .. }), "{msg}");
    assert!(msg.contains("'huge_input'") && msg.contains("limit"), "{msg}");
    let (e, msg) = bad("empty_graph.onnx");
    assert!(matches!(e, OnnxError::Model { .. }), "{msg}");
    assert!(msg.contains("no input"), "{msg}");
}

#[test]
fn unsupported_ops_are_reported_together() {
    let (e, msg) = bad("unsupported_ops.onnx");
    let OnnxError::Unsupported { ops, .. } = e else { panic!("{msg}") };
    let got: Vec<(&str, &str)> = ops.iter().map(|o| (o.op_type.as_str(), o.node.as_str())).collect();
    assert_eq!(
        got,
        [
            ("LSTM", "sequential/lstm/PartitionedCall/LSTM"),
            ("TopK", "sequential/top_k/TopKV2"),
            ("NonMaxSuppression", "sequential/nms/NonMaxSuppressionV5"),
        ],
        "{msg}"
    );
    for (op, node) in got {
        assert!(msg.contains(op) && msg.contains(node), "{msg}");
    }
}

#[test]
fn every_bad_model_is_rejected() {
    for path in onnx_files(&models("bad")) {
        assert!(onnx::load(&path).is_err(), "{} imported", path.display());
    }
}

/// A small deterministic generator (xorshift64*), so the corruptions are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn corrupted_models_never_panic() {
    let mut files = onnx_files(&models("onnx"));
    files.retain(|p| !p.ends_with("mlp_big.onnx"));
    assert!(!files.is_empty());
    // ONNX_FUZZ_ROUNDS raises the number of corruptions per model for a longer local run.
    let rounds: usize = std::env::var("ONNX_FUZZ_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut outcomes = [0usize; 2];
    for path in &files {
        let good = std::fs::read(path).unwrap();
        for round in 0..rounds {
            let mut bytes = good.clone();
            match round % 4 {
                0 => bytes.truncate(rng.below(bytes.len())),
                1 => {
                    for _ in 0..1 + rng.below(4) {
                        let i = rng.below(bytes.len());
                        bytes[i] ^= 1 << rng.below(8);
                    }
                }
                2 => {
                    let i = rng.below(bytes.len());
                    bytes[i] = rng.next() as u8;
                }
                _ => {
                    for _ in 0..1 + rng.below(16) {
                        let i = rng.below(bytes.len());
                        bytes[i] = rng.next() as u8;
                    }
                }
            }
            let result = std::panic::catch_unwind(|| onnx::load_bytes(path, &bytes).map(|_| ()));
            match result {
                Ok(r) => outcomes[usize::from(r.is_err())] += 1,
                Err(_) => panic!("{} panicked on corruption round {round}", path.display()),
            }
        }
    }
    assert!(outcomes[1] > 0, "no corruption was rejected: {outcomes:?}");
}

/// `../shared/models/onnx` beside the repository, or `$HLS_GEN_SHARED_MODELS/onnx` when set.
fn shared_models() -> Option<PathBuf> {
    let base = std::env::var_os("HLS_GEN_SHARED_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/models"));
    let dir = base.join("onnx");
    dir.is_dir().then_some(dir)
}

#[test]
fn shared_real_models() {
    let Some(dir) = shared_models() else {
        eprintln!("skipped: the shared models folder is absent");
        return;
    };
    for name in ["three_layer_keras.onnx", "two_layer_keras.onnx", "dense_big_keras.onnx"] {
        let path = dir.join(name);
        if path.exists() {
            let g = import(&path);
            assert!(g.node_count() > 3, "{name}");
        }
    }
    // The Keras CNNs import (their layouts are checked in tests/onnx_cnn.rs).
    for name in ["conv1d_small_keras.onnx", "conv2d_small_keras.onnx"] {
        let path = dir.join(name);
        if path.exists() {
            let g = import(&path);
            assert!(
                g.node_ids().into_iter().any(|id| matches!(g.node(id).layer, ir::Layer::Conv(_))),
                "{name}"
            );
        }
    }
    // BipolarQuant on activations imports as a sign step (`ir::Step`): a 1-bit cast and a
    // BatchNorm placing the levels -1 and +1.
    let bnn = dir.join("bnn_model_fc_1layer.onnx");
    if bnn.exists() {
        let g = import(&bnn);
        let names: Vec<String> = g.node_ids().into_iter().map(|id| g.node(id).name.clone()).collect();
        for name in [
            "/linear/input_quant/export_handler/BipolarQuant",
            "/linear/output_quant/export_handler/BipolarQuant",
        ] {
            assert!(names.iter().any(|n| n == name), "{names:?}");
            assert!(names.iter().any(|n| *n == format!("{name}/sign")), "{names:?}");
        }
    }
}
