//! The HLS layer library's convolutional-network layers under g++: emitted projects of hand-built
//! CNNs (2-D and 1-D convolutions with strides, dilations, padding, groups and reuse factors above
//! 1 in both strategies; max and average pooling, global too; padding and cropping; upsampling;
//! transposes; merges of several tensors; the table and comparison activations) compile as C++14
//! and their C simulation equals the Rust simulator bit for bit on random inputs. Wrapping,
//! truncating accumulators make the reordered accumulation of reuse factors above 1 matter.

mod common;

use common::cnn::{conv, pool};
use common::*;
use hls_gen::backend::vitis::{emit, run_csim, CppStd, IoType, VitisOptions};
use hls_gen::config::IoStyle;
use hls_gen::estimate::stream::FifoDepth;
use hls_gen::fixed::{OverflowMode::*, QuantMode::*};
use hls_gen::ir::{
    Activation, BinaryOp, Concatenate, Dense, Elementwise, Graph, Layer, LoweredGraph, Pad, PoolOp, Reshape,
    Shape, Strategy, Table, Transpose, UpSample,
};

fn options(name: &str) -> VitisOptions {
    VitisOptions {
        project_name: name.to_string(),
        part: "xcvu9p-flga2104-2L-e".to_string(),
        clock_period_ns: 5.0,
        io_type: IoType::Parallel,
    }
}

/// [6, 6, 2] -> conv 3x3 (4 filters, padding 1, at `rf`) -> relu -> max pool 2x2 -> depthwise 2x2
/// (padding after) -> average pool 2x2 (padding after, not counted) -> transpose to channels-first
/// -> flatten -> dense 3.
fn cnn2d(rf: usize, strategy: Strategy) -> Graph {
    let mut rng = Rng::new(21);
    let mut g = Graph::new("cnn2d");
    let x = input(&mut g, "x", &[6, 6, 2], fx(8, 3));
    let c1 = conv(&mut rng, &[3, 3], 2, 4, &[1, 1], &[1, 1], (&[1, 1], &[1, 1]), 1, fx(14, 6));
    let c1 = add(&mut g, "conv1", Layer::Conv(c1), &[6, 6, 4], modes(fx(10, 4), Rnd, Sat), &[x]);
    set_strategy(&mut g, c1, strategy, rf);
    let r = add(&mut g, "relu", Layer::Activation(Activation::Relu), &[6, 6, 4], ufx(8, 3), &[c1]);
    let m = pool(PoolOp::Max, &[2, 2], &[2, 2], (&[0, 0], &[0, 0]), false);
    let m = add(&mut g, "max", Layer::Pool(m), &[3, 3, 4], ufx(8, 3), &[r]);
    let dw = conv(&mut rng, &[2, 2], 1, 4, &[1, 1], &[1, 1], (&[0, 0], &[1, 1]), 4, fx(14, 6));
    let dw = add(&mut g, "depthwise", Layer::Conv(dw), &[3, 3, 4], fx(10, 4), &[m]);
    let a = pool(PoolOp::Average, &[2, 2], &[1, 1], (&[0, 0], &[1, 1]), false);
    let a = add(&mut g, "avg", Layer::Pool(a), &[3, 3, 4], modes(fx(9, 3), Rnd, Sat), &[dw]);
    let t =
        add(&mut g, "chw", Layer::Transpose(Transpose { perm: vec![2, 0, 1] }), &[4, 3, 3], fx(9, 3), &[a]);
    let f = add(&mut g, "flat", Layer::Reshape(Reshape::new(Shape::new([36]))), &[36], fx(9, 3), &[t]);
    let d = Layer::Dense(Dense {
        weights: random_weights(&mut rng, &[36, 3], fx(6, 1), 0),
        bias: random_weights(&mut rng, &[3], fx(6, 2), 0),
        accum: Some(fx(16, 6)),
    });
    let y = add(&mut g, "fc", d, &[3], fx(10, 4), &[f]);
    g.set_outputs(vec![y]);
    g
}

/// [8, 3] -> a dilated strided 1-D conv and a 1x1 conv, merged by a three-way Add (one input read
/// twice) and a Max, concatenated on the channels, cropped and padded, global average pooled;
/// upsampled; a second output.
fn branches() -> Graph {
    let mut rng = Rng::new(22);
    let mut g = Graph::new("branches");
    let x = input(&mut g, "x", &[8, 3], modes(fx(8, 3), Rnd, Sat));
    let a = conv(&mut rng, &[3], 3, 4, &[1], &[2], (&[2], &[2]), 1, fx(14, 6));
    let a = add(&mut g, "dilated", Layer::Conv(a), &[8, 4], fx(10, 4), &[x]);
    let b = conv(&mut rng, &[1], 3, 4, &[1], &[1], (&[0], &[0]), 1, fx(14, 6));
    let b = add(&mut g, "pointwise", Layer::Conv(b), &[8, 4], fx(9, 4), &[x]);
    let sum = Layer::Elementwise(Elementwise { op: BinaryOp::Add, constant: None });
    let sum = add(&mut g, "sum", sum, &[8, 4], modes(fx(10, 5), Rnd, Sat), &[a, b, a]);
    let mx = Layer::Elementwise(Elementwise { op: BinaryOp::Max, constant: None });
    let mx = add(&mut g, "max", mx, &[8, 4], fx(10, 4), &[a, b]);
    let cat = add(&mut g, "cat", Layer::Concatenate(Concatenate { axis: 1 }), &[8, 8], fx(10, 5), &[sum, mx]);
    let crop =
        add(&mut g, "crop", Layer::Pad(Pad { begin: vec![-1], end: vec![2] }), &[9, 8], fx(10, 5), &[cat]);
    let gap = add(
        &mut g,
        "gap",
        Layer::Pool(pool(PoolOp::Average, &[9], &[1], (&[0], &[0]), false)),
        &[1, 8],
        fx(12, 5),
        &[crop],
    );
    let s = conv(&mut rng, &[2], 4, 2, &[2], &[1], (&[0], &[0]), 1, fx(14, 6));
    let s = add(&mut g, "strided", Layer::Conv(s), &[4, 2], fx(10, 4), &[b]);
    let up = add(&mut g, "up", Layer::UpSample(UpSample { factors: vec![3] }), &[12, 2], fx(10, 4), &[s]);
    g.set_outputs(vec![gap, up]);
    g
}

/// [16] -> every activation added for convolutional networks, each an output.
fn activations() -> Graph {
    let mut g = Graph::new("cnn activations");
    let x = input(&mut g, "x", &[16], fx(10, 4));
    let acts = [
        ("elu", Activation::Elu(fill_table(Table::elu_default(0.7), |v| 0.7 * v.exp_m1()))),
        (
            "selu",
            Activation::Selu {
                scale: scalar(1076.0 / 1024.0, fx(12, 2)),
                table: fill_table(Table::selu_default(), |v| {
                    hls_gen::ir::SELU_SCALE * hls_gen::ir::SELU_ALPHA * v.exp_m1()
                }),
            },
        ),
        ("softplus", Activation::Softplus(fill_table(Table::softplus_default(), |v| v.exp().ln_1p()))),
        ("softsign", Activation::Softsign(fill_table(Table::softsign_default(), |v| v / (1.0 + v.abs())))),
        ("thresholded", Activation::ThresholdedRelu { theta: scalar(0.75, fx(6, 2)) }),
        (
            "hard_swish",
            Activation::HardSwish { alpha: scalar(0.1875, fx(8, 0)), beta: scalar(0.5, fx(4, 1)) },
        ),
    ];
    let mut outs = Vec::new();
    for (name, a) in acts {
        outs.push(add(&mut g, name, Layer::Activation(a), &[16], modes(fx(12, 4), Rnd, Sat), &[x]));
    }
    g.set_outputs(outs);
    g
}

fn csim(name: &str, g: &LoweredGraph) {
    csim_in(name, g, IoStyle::Parallel);
}

/// The project of `g` in `io` (io_stream with the FIFO depths of the dataflow model) runs 300
/// random samples in C simulation bit for bit like the simulator.
fn csim_in(name: &str, g: &LoweredGraph, io: IoStyle) {
    let Some(ap) = ap_types() else { return };
    let tb = hls_gen::flow::testbench(g, None, 300).unwrap_or_else(|e| panic!("{name}: {e}"));
    let part = hls_gen::estimate::lookup_part("xcvu9p").unwrap();
    let (_, io_type) = hls_gen::flow::estimate_design(g, &part, 5.0, io, FifoDepth::Auto)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let opts = VitisOptions { io_type, ..options(name) };
    let project = emit(g, &opts, &tb).unwrap_or_else(|e| panic!("{name}: {e}"));
    let root = tempfile::tempdir().unwrap();
    project.write(root.path(), true).unwrap();
    let outcome = run_csim(root.path(), &ap, CppStd::Cpp14).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(outcome.passed && outcome.samples == Some(300), "{name}:\n{}", outcome.output);
}

#[test]
fn convolutions_and_pooling_are_bit_exact_in_csim() {
    for (rf, strategy) in [(1, Strategy::Latency), (2, Strategy::Resource), (3, Strategy::Latency)] {
        csim(&format!("cnn2d_rf{rf}"), &lowered(cnn2d(rf, strategy)));
    }
}

#[test]
fn merges_padding_and_upsampling_are_bit_exact_in_csim() {
    csim("branches", &lowered(branches()));
}

#[test]
fn every_layer_streams_bit_exactly_in_io_stream() {
    for (rf, strategy) in [(1, Strategy::Latency), (2, Strategy::Resource), (3, Strategy::Latency)] {
        csim_in(&format!("stream_cnn2d_rf{rf}"), &lowered(cnn2d(rf, strategy)), IoStyle::Stream);
    }
    csim_in("stream_branches", &lowered(branches()), IoStyle::Stream);
    csim_in("stream_activations", &lowered(activations()), IoStyle::Stream);
}

#[test]
fn io_stream_names_the_layers_it_cannot_stream() {
    let mut rng = Rng::new(23);
    let mut g = Graph::new("volume");
    let x = input(&mut g, "x", &[4, 4, 4, 2], fx(8, 3));
    let c = conv(&mut rng, &[3, 3, 3], 2, 2, &[1, 1, 1], &[1, 1, 1], (&[0, 0, 0], &[0, 0, 0]), 1, fx(14, 6));
    let c = add(&mut g, "conv3d", Layer::Conv(c), &[2, 2, 2, 2], fx(10, 4), &[x]);
    g.set_outputs(vec![c]);
    let err = hls_gen::arch::stream::design(&lowered(g)).expect_err("3-D windows do not stream").to_string();
    assert!(err.contains("'conv3d'") && err.contains("3-D windows do not stream"), "{err}");
}

#[test]
fn new_activations_are_bit_exact_in_csim() {
    csim("activations", &lowered(activations()));
}

#[test]
fn the_sliding_design_of_a_convolution() {
    let g = lowered(cnn2d(2, Strategy::Resource));
    let p = emit(&g, &options("cnn"), &hls_gen::backend::testbench::TestbenchData::default()).unwrap();
    let top = String::from_utf8(p.get("firmware/cnn.cpp").unwrap().to_vec()).unwrap();
    // 36 positions x 2 steps: a dataflow design with II 72.
    assert!(top.contains("#pragma HLS DATAFLOW") && top.contains("II = 72"), "{top}");
    assert!(top.contains("hlsgen::conv_multiplexed<conv1_config>"), "{top}");
    assert!(top.contains("ARRAY_RESHAPE variable=conv1_weights type=complete dim=2"), "{top}");
    assert!(top.contains("ARRAY_PARTITION variable=conv1_src type=complete dim=0"), "{top}");
    let params = String::from_utf8(p.get("firmware/parameters.h").unwrap().to_vec()).unwrap();
    for k in ["positions = 36;", "reuse_factor = 2;", "per_cycle = 9;", "lanes = 9;"] {
        assert!(params.contains(k), "{k} in\n{params}");
    }
    let src = String::from_utf8(p.get("firmware/weights/conv1_src.h").unwrap().to_vec()).unwrap();
    // Position 0, step 0: window inputs 0, 2, ..., 16: taps (0,0) (0,1) (0,2) (1,0)... of channel
    // 0 and 1 alternating; the top-left tap is padding (index 72 = n_x).
    assert!(src.contains("conv1_src[72][9] = {\n    {72, 72, 72,"), "{src}");
}

/// The io_stream project of the branching network, file by file as golden snapshots
/// (`golden/vitis_stream`): split streams, line-buffer convolutions and pools, streaming padding
/// and upsampling, per-pixel merges and FIFO depths; emitting twice gives the same bytes.
#[test]
fn the_io_stream_project_of_a_branching_network() {
    let g = lowered(branches());
    let part = hls_gen::estimate::lookup_part("xcvu9p").unwrap();
    let (_, io_type) =
        hls_gen::flow::estimate_design(&g, &part, 5.0, IoStyle::Stream, FifoDepth::Auto).unwrap();
    let opts = VitisOptions { io_type, ..options("branches") };
    let tb = hls_gen::backend::testbench::TestbenchData::default();
    let p = emit(&g, &opts, &tb).unwrap();
    let again = emit(&g, &opts, &tb).unwrap();
    assert_eq!(p.files(), again.files());
    for path in ["firmware/branches.cpp", "firmware/parameters.h", "firmware/defines.h", "branches_test.cpp"]
    {
        let text = String::from_utf8(p.get(path).unwrap().to_vec()).unwrap();
        insta::with_settings!({snapshot_path => "../golden/vitis_stream", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(format!("branches__{}", path.replace('/', "__")), text);
        });
    }
}
