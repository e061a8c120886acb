//! ONNX import of convolutional networks: the CNN models of `scripts/make_onnx_models.py` import
//! channels-last with their model layouts recorded, need no layout copies where the model only
//! undoes its own transposes, run in the simulator's f64 mode like onnxruntime (inputs given in
//! the model's NCHW layout, as the CLI takes them), and malformed or unsupported convolutions,
//! pools and resizes fail with errors naming the node. (IR snapshots of these models are taken by
//! `tests/onnx_import.rs` with every other model of `tests/models/onnx`.)

use std::path::{Path, PathBuf};

use hls_gen::flow::{self, FlowOptions};
use hls_gen::frontend::onnx::{self, OnnxError};
use hls_gen::ir::{self, layout, Layer};
use hls_gen::sim::{RunOptions, Simulator};

const FLOAT_CNNS: &[&str] = &[
    "cnn2d",
    "cnn1d",
    "cnn_merge",
    "cnn_global",
    "cnn_pad",
    "cnn_nhwc",
    "cnn_channels_last",
    "cnn_ops_op9",
    "jet_image_cnn",
    "svhn_cnn",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn model(name: &str) -> PathBuf {
    root().join("tests/models/onnx").join(format!("{name}.onnx"))
}

fn import(path: &Path) -> ir::Graph {
    let g = onnx::load(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ir::validate(&g, ir::Stage::Imported).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    g
}

fn npy(path: &Path) -> (Vec<usize>, Vec<f64>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let f = npyz::NpyFile::new(&bytes[..]).expect("npy header");
    let shape = f.shape().iter().map(|&d| d as usize).collect();
    (shape, f.into_vec::<f64>().expect("float64 data"))
}

fn kinds(g: &ir::Graph) -> Vec<&'static str> {
    g.topo_order().unwrap().into_iter().map(|id| g.node(id).layer.kind()).collect()
}

fn count(g: &ir::Graph, kind: &str) -> usize {
    kinds(g).into_iter().filter(|k| *k == kind).count()
}

#[test]
fn every_cnn_imports_with_its_model_layout() {
    // (model, IR input shape, model input shape)
    let cases: &[(&str, &[usize], &[usize])] = &[
        ("cnn2d", &[10, 10, 2], &[2, 10, 10]),
        ("cnn1d", &[16, 3], &[3, 16]),
        ("cnn_merge", &[8, 8, 4], &[4, 8, 8]),
        ("cnn_global", &[8, 8, 3], &[3, 8, 8]),
        ("cnn_pad", &[8, 8, 2], &[2, 8, 8]),
        ("cnn_qonnx", &[6, 6, 2], &[2, 6, 6]),
        ("cnn_qdq", &[6, 6, 2], &[2, 6, 6]),
        ("svhn_cnn", &[32, 32, 3], &[3, 32, 32]),
    ];
    for &(name, ir_dims, model_dims) in cases {
        let g = import(&model(name));
        let input = g.inputs()[0];
        assert_eq!(g.node(input).shape.dims(), ir_dims, "{name}");
        let perm = g.input_layout(input).unwrap_or_else(|| panic!("{name}: no input layout recorded"));
        assert_eq!(layout::model_shape(&g.node(input).shape, perm).dims(), model_dims, "{name}");
    }
}

#[test]
fn a_feature_map_output_records_its_layout() {
    let g = import(&model("cnn_merge"));
    let out = g.outputs()[0];
    assert_eq!(g.node(out).shape.dims(), [4, 4, 3]);
    let perm = g.output_layout(0).expect("output layout");
    assert_eq!(layout::model_shape(&g.node(out).shape, perm).dims(), [3, 4, 4]);
    // Element-wise merges of channels-first maps need no layout copies.
    assert_eq!(count(&g, "transpose"), 0, "{:?}", kinds(&g));
}

#[test]
fn flattening_a_feature_map_keeps_the_nchw_order() {
    // One IR Transpose to channels-first before each flatten of a feature map (fold-transpose
    // folds it into the next Dense later); none where only axes of extent 1 move.
    for (name, transposes) in
        [("cnn2d", 1), ("cnn1d", 1), ("cnn_pad", 1), ("cnn_global", 0), ("cnn_qonnx", 1), ("cnn_qdq", 1)]
    {
        let g = import(&model(name));
        assert_eq!(count(&g, "transpose"), transposes, "{name}: {:?}", kinds(&g));
    }
}

#[test]
fn tf2onnx_layout_transposes_leave_no_copies() {
    let g = import(&model("cnn_nhwc"));
    let input = g.inputs()[0];
    assert_eq!(g.node(input).shape.dims(), [8, 8, 2]);
    assert!(g.input_layout(input).is_none(), "the NHWC input is already channels-last");
    assert_eq!(count(&g, "transpose"), 0, "{:?}", kinds(&g));
    assert_eq!(count(&g, "conv"), 1);
}

#[test]
fn qonnx_channels_last_wrappers_read_nhwc_tensors() {
    let g = import(&model("cnn_channels_last"));
    let input = g.inputs()[0];
    assert_eq!(g.node(input).shape.dims(), [8, 8, 2]);
    assert!(g.input_layout(input).is_none());
    assert_eq!(count(&g, "transpose"), 0, "{:?}", kinds(&g));
    assert_eq!((count(&g, "conv"), count(&g, "batch_norm"), count(&g, "pool")), (1, 1, 1));
    let conv = g.node_ids().into_iter().find_map(|id| match &g.node(id).layer {
        Layer::Conv(c) => Some(c.clone()),
        _ => None,
    });
    // Weights [M, kH, kW, C] become the IR's [kH, kW, C, M].
    assert_eq!(conv.expect("conv").weights.shape.dims(), [3, 3, 2, 4]);
}

#[test]
fn conv_attributes_reach_the_ir() {
    let g = import(&model("cnn2d"));
    let convs: Vec<&ir::Conv> = g
        .topo_order()
        .unwrap()
        .into_iter()
        .filter_map(|id| match &g.node(id).layer {
            Layer::Conv(c) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(convs.len(), 2);
    // SAME_UPPER with stride 2 over 10: total padding 1, at the end.
    assert_eq!((convs[0].strides.as_slice(), convs[0].pads_begin.as_slice()), (&[2, 2][..], &[0, 0][..]));
    assert_eq!(convs[0].pads_end, [1, 1]);
    assert_eq!(convs[0].weights.shape.dims(), [3, 3, 2, 4]);
    // Depthwise.
    assert_eq!((convs[1].groups, convs[1].weights.shape.dims()), (4, &[3, 3, 1, 4][..]));
    let g = import(&model("cnn1d"));
    let c = g
        .topo_order()
        .unwrap()
        .into_iter()
        .find_map(|id| match &g.node(id).layer {
            Layer::Conv(c) if c.groups == 2 => Some(c.clone()),
            _ => None,
        })
        .expect("grouped conv");
    assert_eq!(c.weights.shape.dims(), [3, 2, 6]);
}

#[test]
fn float_mode_matches_onnxruntime() {
    for name in FLOAT_CNNS {
        let path = model(name);
        let dir = root().join("golden/reference").join(name);
        let (ishape, inputs) = npy(&dir.join("inputs.npy"));
        let (oshape, expected) = npy(&dir.join("expected_float.npy"));
        let n = ishape[0];
        let g = flow::load_float(&path, &FlowOptions::default()).expect("lowers").graph;
        let input = g.inputs()[0];
        let per_sample = ishape[1..].iter().product::<usize>();
        let rows: Vec<f64> = inputs
            .chunks(per_sample)
            .flat_map(|x| match g.input_layout(input) {
                Some(perm) => layout::from_model(x, &g.node(input).shape, perm),
                None => x.to_vec(),
            })
            .collect();
        let result = Simulator::new_float(&g).and_then(|s| s.run(&rows, n, &RunOptions::default()));
        let out =
            result.unwrap_or_else(|e| panic!("{name}: {e}")).outputs.into_iter().next().expect("one output");
        let k: usize = oshape[1..].iter().product();
        assert_eq!(out.values.len(), n * k, "{name}");
        for (s, (y, e_row)) in out.values.chunks(k).zip(expected.chunks(k)).enumerate() {
            let got = match g.output_layout(0) {
                Some(perm) => layout::to_model(y, &out.shape, perm),
                None => y.to_vec(),
            };
            let scale = e_row.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            for (i, (g, e)) in got.iter().zip(e_row).enumerate() {
                let tol = 1e-5 * e.abs().max(scale);
                assert!((g - e).abs() <= tol, "{name}: sample {s} value {i}: f64 mode {g}, onnxruntime {e}");
            }
        }
    }
}

fn bad(name: &str) -> (OnnxError, String) {
    let path = root().join("tests/models/onnx/bad_cnn").join(format!("{name}.onnx"));
    match onnx::load(&path) {
        Ok(_) => panic!("{} imported, an error was expected", path.display()),
        Err(e) => {
            let msg = e.to_string();
            (e, msg)
        }
    }
}

#[test]
fn bad_pads_name_the_node() {
    for name in ["conv_pads_length", "conv_negative_pads"] {
        let (e, msg) = bad(name);
        assert!(matches!(e, OnnxError::Node { .. }), "{msg}");
        assert!(msg.contains("'conv' (Conv)") && msg.contains("pads"), "{msg}");
    }
}

#[test]
fn a_group_that_does_not_divide_the_channels_names_the_node() {
    let (e, msg) = bad("conv_bad_group");
    assert!(matches!(e, OnnxError::Shape { .. }), "{msg}");
    assert!(msg.contains("'conv' (Conv)") && msg.contains("group 3"), "{msg}");
}

fn unsupported(name: &str) -> Vec<(String, String, String)> {
    let (e, msg) = bad(name);
    let OnnxError::Unsupported { ops, .. } = e else { panic!("{msg}") };
    ops.into_iter().map(|o| (o.op_type, o.node, o.reason.unwrap_or_default())).collect()
}

#[test]
fn ceil_mode_counting_padding_and_other_resize_modes_are_refused_clearly() {
    let ops = unsupported("pool_ceil_count_pad");
    assert_eq!(ops.len(), 1);
    assert_eq!((ops[0].0.as_str(), ops[0].1.as_str()), ("AveragePool", "pool"));
    assert!(ops[0].2.contains("ceil_mode=1 with count_include_pad=1"), "{ops:?}");
    let ops = unsupported("resize_linear");
    assert_eq!((ops[0].0.as_str(), ops[0].1.as_str()), ("Resize", "resize"));
    assert!(ops[0].2.contains("'linear'") && ops[0].2.contains("nearest"), "{ops:?}");
    let ops = unsupported("two_unsupported");
    let got: Vec<(&str, &str)> = ops.iter().map(|o| (o.0.as_str(), o.1.as_str())).collect();
    assert_eq!(got, [("MaxPool", "pool"), ("Resize", "resize")]);
}

#[test]
fn real_keras_cnns_import_without_layout_copies() {
    // `../shared/models/onnx` beside the repository, or `$HLS_GEN_SHARED_MODELS/onnx` when set.
    let base = std::env::var_os("HLS_GEN_SHARED_MODELS")
        .map_or_else(|| root().join("../shared/models"), PathBuf::from);
    let dir = base.join("onnx");
    if !dir.is_dir() {
        eprintln!("NOTICE: {} is absent; skipping the real Keras CNNs", dir.display());
        return;
    }
    for (file, input) in
        [("conv1d_small_keras.onnx", &[10, 4][..]), ("conv2d_small_keras.onnx", &[8, 8, 1][..])]
    {
        let path = dir.join(file);
        if !path.is_file() {
            eprintln!("NOTICE: {} is absent; skipped", path.display());
            continue;
        }
        let g = import(&path);
        assert_eq!(g.node(g.inputs()[0]).shape.dims(), input, "{file}");
        assert_eq!(count(&g, "transpose"), 0, "{file}: {:?}", kinds(&g));
        assert!(count(&g, "conv") >= 1, "{file}");
    }
}
