//! The io_stream cycle rules ([`hls_gen::arch::stream::steps`]) and the dataflow model on
//! hand-derived cases: which iteration of a line-buffer convolution or pooling reads and writes,
//! when the first output of a convolution leaves, the latency and interval of one layer between
//! a source and a sink, and FIFO depths that never block.

mod common;

use std::collections::BTreeMap;

use common::*;
use hls_gen::arch::dataflow::{self, Step};
use hls_gen::arch::stream::{self, Form};
use hls_gen::ir::{Conv, Graph, Layer, LoweredGraph, Pool, PoolOp};

fn conv(kernel: [usize; 2], strides: [usize; 2], pads: [usize; 4]) -> Conv {
    let mut rng = Rng::new(7);
    Conv {
        weights: random_weights(&mut rng, &[kernel[0], kernel[1], 1, 2], fx(6, 1), 0),
        bias: random_weights(&mut rng, &[2], fx(6, 2), 0),
        strides: strides.to_vec(),
        dilations: vec![1, 1],
        pads_begin: vec![pads[0], pads[1]],
        pads_end: vec![pads[2], pads[3]],
        groups: 1,
        accum: Some(fx(16, 6)),
    }
}

/// `[h, w, 1]` -> `layer` (output `out`) at reuse factor `rf`.
fn one_layer(h: usize, w: usize, layer: Layer, out: &[usize], rf: usize) -> LoweredGraph {
    let mut g = Graph::new("one");
    let x = input(&mut g, "x", &[h, w, 1], fx(8, 3));
    let y = add(&mut g, "layer", layer, out, fx(12, 4), &[x]);
    set_strategy(&mut g, y, hls_gen::ir::Strategy::Latency, rf);
    g.set_outputs(vec![y]);
    lowered(g)
}

fn layer_steps(g: &LoweredGraph) -> Vec<Step> {
    let d = stream::design(g).unwrap();
    let (&id, l) = d.layers.iter().next().unwrap();
    let x = d.tensors[&g.inputs_of(id)[0]];
    stream::steps(l, &[x], d.tensors[&id], 0)
}

fn indices(steps: &[Step], f: impl Fn(&Step) -> bool) -> Vec<usize> {
    steps.iter().enumerate().filter(|(_, s)| f(s)).map(|(k, _)| k).collect()
}

#[test]
fn a_valid_convolution_writes_once_its_window_is_complete() {
    // 5 x 6 input, 3 x 3 kernel: the first window is complete after (3 - 1) * 6 + 3 = 15 pixels,
    // i.e. at iteration 14; then one output per iteration while the window's right edge is at
    // column >= 2: 4 outputs in each of rows 2, 3, 4.
    let g = one_layer(5, 6, Layer::Conv(conv([3, 3], [1, 1], [0; 4])), &[3, 4, 2], 1);
    let s = layer_steps(&g);
    assert_eq!(s.len(), 30);
    assert!(s.iter().all(|s| s.reads == 1 && s.ii == 1));
    assert_eq!(indices(&s, |s| s.writes == 1), [14, 15, 16, 17, 20, 21, 22, 23, 26, 27, 28, 29]);
}

#[test]
fn same_padding_and_strides_are_iterations_without_reads() {
    // 4 x 4 input padded by 1 on each side: a 6 x 6 grid whose border holds no pixel; 3 x 3
    // windows at stride 2 complete at padded (2, 2), (2, 4), (4, 2), (4, 4).
    let g = one_layer(4, 4, Layer::Conv(conv([3, 3], [2, 2], [1, 1, 1, 1])), &[2, 2, 2], 1);
    let s = layer_steps(&g);
    assert_eq!(s.len(), 36);
    let reads = indices(&s, |s| s.reads == 1);
    assert_eq!(reads.len(), 16);
    assert_eq!(&reads[..4], [7, 8, 9, 10]);
    assert_eq!(indices(&s, |s| s.writes == 1), [14, 16, 26, 28]);
}

#[test]
fn reuse_factor_is_the_interval_of_every_iteration() {
    let g = one_layer(5, 6, Layer::Conv(conv([3, 3], [1, 1], [0; 4])), &[3, 4, 2], 3);
    assert!(layer_steps(&g).iter().all(|s| s.ii == 3));
}

#[test]
fn pooling_writes_at_the_bottom_right_of_each_window() {
    let p = Pool {
        op: PoolOp::Max,
        kernel: vec![2, 2],
        strides: vec![2, 2],
        pads_begin: vec![0, 0],
        pads_end: vec![0, 0],
        count_pad: false,
        reciprocal: None,
    };
    let g = one_layer(4, 4, Layer::Pool(p), &[2, 2, 1], 1);
    let d = stream::design(&g).unwrap();
    assert!(matches!(d.layers.values().next().unwrap().form, Form::Window(_)));
    assert_eq!(indices(&layer_steps(&g), |s| s.writes == 1), [5, 7, 13, 15]);
}

/// Source -> the one layer (pipeline depth `depth`) -> sink.
fn timing(g: &LoweredGraph, depth: u64, frames: usize) -> dataflow::Timing {
    let d = stream::design(g).unwrap();
    let depths: BTreeMap<_, _> = d.layers.keys().map(|&id| (id, depth)).collect();
    let net = stream::network(g, &d, &depths, &vec![None; d.channels.len()]);
    dataflow::run(&net, frames).unwrap()
}

#[test]
fn one_convolution_between_a_source_and_a_sink() {
    // The source writes pixel k at cycle k; the convolution reads it at k + 1 (iteration k) and
    // writes its last output (iteration 29) at 30 + depth; the sink reads it one cycle later.
    // Latency: 32 + depth cycles from the first pixel in.
    let g = one_layer(5, 6, Layer::Conv(conv([3, 3], [1, 1], [0; 4])), &[3, 4, 2], 1);
    let t = timing(&g, 4, 1);
    let (source, sink) = (0, t.frame_end.len() - 1);
    assert_eq!(t.frame_start[1][0], 1, "the convolution starts with the first pixel");
    assert_eq!(t.frame_end[1][0], 30 + 4);
    assert_eq!(t.latency(source, sink), Some(32 + 4));
    // At reuse factor 3 iteration k issues at 3k + 1: the last write at 88 + depth.
    let g3 = one_layer(5, 6, Layer::Conv(conv([3, 3], [1, 1], [0; 4])), &[3, 4, 2], 3);
    let t3 = timing(&g3, 4, 3);
    assert_eq!(t3.latency(source, sink), Some(90 + 4));
    // Frame after frame, the convolution's 30 iterations of 3 cycles set the interval.
    assert_eq!(t3.interval(sink), Some(90));
}

#[test]
fn auto_depths_never_block_and_max_depths_are_the_tensor() {
    let g = one_layer(5, 6, Layer::Conv(conv([3, 3], [1, 1], [0; 4])), &[3, 4, 2], 3);
    let part = hls_gen::estimate::lookup_part("xcvu9p").unwrap();
    let opts = hls_gen::estimate::Options::default();
    let run = |fifo| hls_gen::estimate::stream::estimate(&g, &part, 5.0, &opts, fifo).unwrap();
    let (auto, _) = run(hls_gen::estimate::stream::FifoDepth::Auto);
    let (max, _) = run(hls_gen::estimate::stream::FifoDepth::Max);
    assert_eq!(auto.total.latency_cycles, max.total.latency_cycles);
    assert_eq!(auto.total.ii, 90);
    // One layer between two ports: no FIFO between processes.
    assert!(auto.stream.as_ref().unwrap().fifos.is_empty());
}
