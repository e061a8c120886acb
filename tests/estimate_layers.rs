//! Per-layer behaviour of the cost model through the public API: constant weights, reuse
//! factors, strategies, tables and fit warnings.

use hls_gen::estimate::{self, lookup_part, Estimate, HlsTool, Options};
use hls_gen::fixed::{FixedType, OverflowMode, QuantMode};
use hls_gen::ir::{
    Activation, BatchNorm, Dense, Graph, Input, Layer, LoweredGraph, NodeId, Shape, Softmax, Strategy, Table,
    TableFn, Weights,
};

fn fx(w: u32, i: i32) -> FixedType {
    FixedType::new(w, i, true)
}

fn typed(shape: Shape, values: Vec<f64>, ty: FixedType) -> Weights {
    let mut w = Weights::new(shape, values);
    w.ty = Some(ty);
    w
}

/// Adds a node of type `ty`.
fn node(g: &mut Graph, name: &str, layer: Layer, ty: FixedType, inputs: &[NodeId]) -> NodeId {
    let id = g.add(name, layer, inputs).unwrap();
    g.node_mut(id).ty = Some(ty);
    id
}

fn input(g: &mut Graph, n: usize) -> NodeId {
    node(g, "in", Layer::Input(Input::new(Shape::new([n]))), fx(16, 6), &[])
}

/// input[n_in] -> dense(n_out) with the given weights (row-major [n_in, n_out]), zero bias.
fn dense_graph(n_in: usize, n_out: usize, weights: Vec<f64>, rf: usize, strategy: Strategy) -> Graph {
    let mut g = Graph::new("t");
    let i = input(&mut g, n_in);
    let d = Dense {
        weights: typed(Shape::new([n_in, n_out]), weights, fx(16, 6)),
        bias: typed(Shape::new([n_out]), vec![0.0; n_out], fx(16, 6)),
        accum: Some(fx(24, 10)),
    };
    let o = node(&mut g, "fc", Layer::Dense(d), fx(16, 6), &[i]);
    g.node_mut(o).reuse_factor = rf;
    g.node_mut(o).strategy = strategy;
    g.set_outputs(vec![o]);
    g
}

fn lowered(g: &Graph) -> LoweredGraph {
    LoweredGraph::new(g.clone()).unwrap()
}

fn est(g: &Graph) -> Estimate {
    estimate::estimate(&lowered(g), &lookup_part("xcvu9p").unwrap(), 5.0).unwrap()
}

fn layer<'a>(e: &'a Estimate, name: &str) -> &'a estimate::LayerEstimate {
    e.layers.iter().find(|l| l.name == name).unwrap()
}

#[test]
fn zero_one_and_power_of_two_weights_cost_no_multiplier() {
    let e = est(&dense_graph(4, 2, vec![0.0, 1.0, -1.0, 0.5, 0.25, -2.0, 0.0, 4.0], 1, Strategy::Latency));
    assert_eq!(layer(&e, "fc").dsp, 0);
    let wide = est(&dense_graph(
        4,
        2,
        vec![0.0, 1.0, -1.0, 0.5, 0.25, -2.0, 0.0, 0.7451171875],
        1,
        Strategy::Latency,
    ));
    assert_eq!(layer(&wide, "fc").dsp, 1);
    let all_zero = est(&dense_graph(4, 2, vec![0.0; 8], 1, Strategy::Latency));
    assert_eq!((layer(&all_zero, "fc").dsp, layer(&all_zero, "fc").lut), (0, 0));
}

fn wide_weights(n: usize) -> Vec<f64> {
    (0..n).map(|i| 0.7451171875 - 0.0009765625 * 2.0 * (i % 7) as f64).collect()
}

#[test]
fn ii_equals_reuse_factor_and_multipliers_are_shared() {
    for rf in [1usize, 2, 4, 8] {
        for strategy in [Strategy::Latency, Strategy::Resource] {
            let e = est(&dense_graph(8, 4, wide_weights(32), rf, strategy));
            assert_eq!(layer(&e, "fc").ii, rf as u64, "{strategy:?} rf={rf}");
            assert_eq!(e.total.ii, rf as u64);
            // n_out x n_in / R multipliers, each a DSP for these 16 x 16-bit products.
            assert_eq!(layer(&e, "fc").dsp, (32 / rf) as u64, "{strategy:?} rf={rf}");
        }
    }
    let r1 = est(&dense_graph(8, 4, wide_weights(32), 1, Strategy::Resource));
    let r8 = est(&dense_graph(8, 4, wide_weights(32), 8, Strategy::Resource));
    assert!(r8.total.latency_cycles >= r1.total.latency_cycles + 7);
    assert_eq!(r8.total.bram18, 0, "8 words of 64 bits fill no block RAM: LUTRAM");
    // 512 words of 64 bits fill 89 % of two RAMB18 (512 x 36 each).
    let deep = est(&dense_graph(1024, 2, wide_weights(2048), 512, Strategy::Resource));
    assert_eq!(deep.total.bram18, 2);
    let deep_latency = est(&dense_graph(1024, 2, wide_weights(2048), 512, Strategy::Latency));
    assert_eq!(deep_latency.total.bram18, 0, "the Latency strategy keeps its weights as constants");
    assert!(deep_latency.total.lut > deep.total.lut);
}

#[test]
fn a_multiplexed_slot_with_only_zero_weights_is_free_with_constant_weights() {
    // Weights of input 0..3 to output 0, and of input 4..7 to output 1, are zero: at RF 4 the
    // multiplier of (output 0, lane 0) and of (output 1, lane 1) always multiply by zero.
    let w: Vec<f64> = (0..8)
        .flat_map(|i| [if i < 4 { 0.0 } else { 0.7451171875 }, if i < 4 { 0.7451171875 } else { 0.0 }])
        .collect();
    let lat = est(&dense_graph(8, 2, w.clone(), 4, Strategy::Latency));
    let res = est(&dense_graph(8, 2, w, 4, Strategy::Resource));
    assert_eq!((layer(&lat, "fc").dsp, layer(&res, "fc").dsp), (2, 4));
}

#[test]
fn dsp_kind_sets_the_cost_of_wide_products() {
    let mut g = dense_graph(2, 1, vec![0.7451171875, 0.5], 1, Strategy::Latency);
    let id = g.find("in").unwrap();
    g.node_mut(id).ty = Some(fx(26, 6));
    let g = lowered(&g);
    let e2 = estimate::estimate(&g, &lookup_part("xcvu9p").unwrap(), 5.0).unwrap();
    let e1 = estimate::estimate(&g, &lookup_part("xc7z020").unwrap(), 5.0).unwrap();
    assert_eq!(e2.total.dsp, 1, "26 x 11 bits fits a 27 x 18 DSP48E2");
    assert_eq!(e1.total.dsp, 2, "26 bits exceed the 25-bit port of a DSP48E1");
}

#[test]
fn vivado_keeps_small_constants_in_dsps_vitis_does_not() {
    // 16-bit input times 5-bit constants (0b10101 / 32 = 0.65625).
    let g = lowered(&dense_graph(4, 1, vec![0.65625; 4], 1, Strategy::Latency));
    let part = lookup_part("xcku115").unwrap();
    let vivado = Options { tool: HlsTool::VivadoHls, clock_uncertainty: None };
    assert_eq!(estimate::estimate_with(&g, &part, 5.0, &vivado).unwrap().total.dsp, 4);
    assert_eq!(estimate::estimate(&g, &part, 5.0).unwrap().total.dsp, 0);
}

fn act_graph(act: Activation, out: FixedType) -> Graph {
    let mut g = Graph::new("a");
    let i = input(&mut g, 64);
    let o = node(&mut g, "act", Layer::Activation(act), out, &[i]);
    g.set_outputs(vec![o]);
    g
}

fn scalar(v: f64) -> Weights {
    typed(Shape::new([]), vec![v], fx(16, 6))
}

#[test]
fn activations() {
    let relu = est(&act_graph(Activation::Relu, fx(16, 6)));
    assert!(relu.total.lut > 64 * 16 && relu.total.dsp == 0);
    let identity = est(&act_graph(Activation::LeakyRelu { alpha: scalar(1.0) }, fx(16, 6)));
    assert_eq!(identity.total.lut, 0, "a slope of one is the identity");
    let as_relu = est(&act_graph(Activation::LeakyRelu { alpha: scalar(0.0) }, fx(16, 6)));
    assert_eq!(as_relu.total.lut, relu.total.lut, "a slope of zero is a ReLU");
    let shift = est(&act_graph(Activation::LeakyRelu { alpha: scalar(0.125) }, fx(16, 6)));
    assert_eq!((shift.total.dsp, shift.total.lut), (0, relu.total.lut));
    let saturating =
        est(&act_graph(Activation::Relu, fx(8, 2).with_modes(QuantMode::Rnd, OverflowMode::Sat)));
    assert!(saturating.total.lut > relu.total.lut / 2);

    let mut t = Table::sigmoid_default();
    t.values = vec![0.0; t.len()];
    let sigmoid = est(&act_graph(Activation::Sigmoid(t), fx(16, 6)));
    assert_eq!(sigmoid.total.bram18, 32, "1024 x 16-bit table, two readers per block RAM");
    assert!(sigmoid.total.latency_cycles >= 2, "a block-RAM read takes cycles");

    let mut small = Table::new(TableFn::Tanh, FixedType::new(5, 2, true), FixedType::new(8, 0, false));
    small.values = vec![0.0; small.len()];
    let lutrom = est(&act_graph(Activation::Tanh(small), fx(8, 0)));
    assert_eq!(lutrom.total.bram18, 0, "a 256-bit table is LUT ROM");
}

#[test]
fn softmax_and_batch_norm() {
    let mut g = Graph::new("s");
    let i = input(&mut g, 5);
    let bn = BatchNorm {
        scale: typed(Shape::new([5]), vec![0.7451171875, 1.0, 0.5, 0.0, 0.3330078125], fx(16, 6)),
        bias: typed(Shape::new([5]), vec![0.5; 5], fx(16, 6)),
    };
    let b = node(&mut g, "bn", Layer::BatchNorm(bn), fx(16, 6), &[i]);
    let s = Softmax::default_for(5);
    let mut s = s;
    s.exp_table.values = vec![0.0; s.exp_table.len()];
    s.inv_table.values = vec![0.0; s.inv_table.len()];
    let o = node(&mut g, "sm", Layer::Softmax(s), fx(16, 6), &[b]);
    g.set_outputs(vec![o]);
    let e = est(&g);
    assert_eq!(layer(&e, "bn").dsp, 2, "two wide scales; 1, 0.5 and 0 need no multiplier");
    assert_eq!(layer(&e, "sm").dsp, 5, "one 18 x 18 product per class");
    assert_eq!(
        layer(&e, "sm").bram18,
        7,
        "three copies for five readers of the 2048 x 18-bit exp table, two BRAM18 each; one inverse table"
    );
    assert!(e.total.latency_cycles >= 4);
}

#[test]
fn fit_warnings_and_errors() {
    let e = estimate::estimate(
        &lowered(&dense_graph(64, 64, wide_weights(4096), 1, Strategy::Latency)),
        &lookup_part("xc7z020").unwrap(),
        5.0,
    )
    .unwrap();
    assert!(e.warnings.iter().any(|w| w.resource == "DSP" && w.used == 4096 && w.available == 220));
    let g = dense_graph(4, 2, vec![0.5; 8], 1, Strategy::Latency);
    let part = lookup_part("xcvu9p").unwrap();
    assert!(estimate::estimate(&lowered(&g), &part, 0.0).is_err());
    assert!(estimate::estimate(&lowered(&g), &part, f64::NAN).is_err());
    // Graphs the estimator cannot take do not become a LoweredGraph.
    let mut untyped = g.clone();
    let id = untyped.find("fc").unwrap();
    untyped.node_mut(id).ty = None;
    let err = LoweredGraph::new(untyped).unwrap_err().to_string();
    assert!(err.contains("'fc'"), "{err}");
    let mut bad_rf = g;
    bad_rf.node_mut(id).reuse_factor = 3;
    assert!(LoweredGraph::new(bad_rf).unwrap_err().to_string().contains("fc"));
}

#[test]
fn faster_clocks_need_more_cycles() {
    let g = lowered(&dense_graph(64, 8, wide_weights(512), 1, Strategy::Latency));
    let part = lookup_part("xcvu9p").unwrap();
    let slow = estimate::estimate(&g, &part, 10.0).unwrap().total.latency_cycles;
    let fast = estimate::estimate(&g, &part, 2.0).unwrap().total.latency_cycles;
    assert!(fast > slow, "{fast} <= {slow}");
}

/// input[6, 6, 2] -> Conv 3x3, 4 filters, padding 1 (at `rf`) -> max pool 2x2 -> global average
/// pool -> flatten -> Dense 4 -> 3.
fn cnn(rf: usize, strategy: Strategy) -> Graph {
    use hls_gen::ir::{Conv, Pool, PoolOp, Reshape};
    let mut g = Graph::new("cnn");
    let x = node(&mut g, "in", Layer::Input(Input::new(Shape::new([6, 6, 2]))), fx(16, 6), &[]);
    let conv = Conv {
        weights: typed(Shape::new([3, 3, 2, 4]), wide_weights(72), fx(16, 6)),
        bias: typed(Shape::new([4]), vec![0.25; 4], fx(16, 6)),
        strides: vec![1, 1],
        dilations: vec![1, 1],
        pads_begin: vec![1, 1],
        pads_end: vec![1, 1],
        groups: 1,
        accum: Some(fx(24, 10)),
    };
    let c = node(&mut g, "conv", Layer::Conv(conv), fx(16, 6), &[x]);
    g.node_mut(c).reuse_factor = rf;
    g.node_mut(c).strategy = strategy;
    let max = Pool {
        op: PoolOp::Max,
        kernel: vec![2, 2],
        strides: vec![2, 2],
        pads_begin: vec![0, 0],
        pads_end: vec![0, 0],
        count_pad: false,
        reciprocal: None,
    };
    let m = node(&mut g, "max", Layer::Pool(max), fx(16, 6), &[c]);
    let mut avg = Pool::global(PoolOp::Average, &[3, 3]);
    avg.reciprocal = Some(Pool::default_reciprocal(9));
    let a = node(&mut g, "avg", Layer::Pool(avg), fx(16, 6), &[m]);
    let f = node(&mut g, "flat", Layer::Reshape(Reshape::new(Shape::new([4]))), fx(16, 6), &[a]);
    let d = Dense {
        weights: typed(Shape::new([4, 3]), wide_weights(12), fx(16, 6)),
        bias: typed(Shape::new([3]), vec![0.0; 3], fx(16, 6)),
        accum: Some(fx(24, 10)),
    };
    let o = node(&mut g, "fc", Layer::Dense(d), fx(16, 6), &[f]);
    g.set_outputs(vec![o]);
    g
}

#[test]
fn a_convolution_shares_its_window_products_over_the_positions() {
    for (rf, strategy) in [(1, Strategy::Latency), (2, Strategy::Latency), (6, Strategy::Resource)] {
        let e = est(&cnn(rf, strategy));
        let conv = layer(&e, "conv");
        // 36 output positions, each taking `rf` cycles; the window (18 inputs) times 4 filters
        // in DSPs: all 72 at RF 1 (wide constants), 72 / rf shared multipliers above.
        assert_eq!(conv.ii, 36 * rf as u64, "rf {rf}");
        assert_eq!(e.total.ii, 36 * rf as u64);
        assert_eq!(conv.dsp, 72 / rf as u64, "rf {rf}");
        assert!(conv.latency_cycles >= 36 * rf as u64, "rf {rf}: {}", conv.latency_cycles);
        // Pooling is unrolled: comparisons and adders, no multiplexing.
        assert_eq!(layer(&e, "max").ii, 1);
        assert!(layer(&e, "max").lut > 0 && layer(&e, "avg").lut > 0);
    }
    assert!(e_assumes(&est(&cnn(1, Strategy::Latency)), "dataflow region"));
}

fn e_assumes(e: &Estimate, what: &str) -> bool {
    e.assumptions.iter().any(|a| a.contains(what))
}
