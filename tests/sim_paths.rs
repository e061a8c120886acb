//! The fast paths against the general `i128` path, and results against the thread count: both
//! must give identical outputs, traces and overflow counts.

mod sim_support;

use hls_gen::fixed::{FixedType, OverflowMode, QuantMode};
use hls_gen::ir::{Graph, Layer, LoweredGraph};
use hls_gen::sim::{RunOptions, SimOptions, SimResult, Simulator};
use sim_support::*;

fn simulator(g: &Graph, fast: bool) -> Simulator {
    let g = LoweredGraph::new(g.clone()).expect("a valid graph");
    Simulator::with_options(&g, &SimOptions { fast_paths: fast }).unwrap()
}

/// A traced run; untraced, its outputs and overflow counts must be the same (layers may then hand
/// over narrow rows).
fn run(g: &Graph, fast: bool, inputs: &[f64], n: usize) -> SimResult {
    let sim = simulator(g, fast);
    let traced = sim.run(inputs, n, &RunOptions { trace: true, dense_sums: false, progress: None }).unwrap();
    let plain = sim.run(inputs, n, &RunOptions::default()).unwrap();
    assert_eq!(plain.outputs, traced.outputs, "outputs without a trace");
    assert_eq!(plain.overflows, traced.overflows, "overflow counts without a trace");
    traced
}

fn assert_same(a: &SimResult, b: &SimResult, what: &str) {
    assert_eq!(a.outputs, b.outputs, "{what}: outputs");
    assert_eq!(a.overflows, b.overflows, "{what}: overflows");
    let (ta, tb) = (a.trace.as_ref().unwrap(), b.trace.as_ref().unwrap());
    assert_eq!(ta.len(), tb.len());
    for (x, y) in ta.iter().zip(tb) {
        // NaN never occurs: every traced value is a fixed-point value.
        assert_eq!(x, y, "{what}: trace of {}", x.name);
    }
}

#[test]
fn fast_and_general_paths_agree_on_random_graphs() {
    let mut rng = Rng(77);
    let mut refused = 0;
    for case in 0..250 {
        let g = random_graph(&mut rng, if case % 4 == 0 { 44 } else { 20 });
        if !within_simulator_limits(&g) {
            refused += 1;
            continue;
        }
        let n = 150;
        let inputs = random_rows(&mut rng, &g, n);
        assert_same(&run(&g, true, &inputs, n), &run(&g, false, &inputs, n), &format!("case {case}"));
    }
    assert!(refused <= 10, "{refused} of 250 graphs refused");
}

/// MLPs in the shapes the fast kernels target: dense (16-bit and wider), pruned (sparse),
/// non-exact accumulators.
#[test]
fn fast_and_general_paths_agree_on_mlps() {
    let ty = FixedType::new(16, 6, true);
    let mut rng = Rng(5);
    let n = 300;
    let inputs = inputs(&mut rng, n, 16, 3.0);
    let mut dense = mlp(&[16, 64, 32, 5], ty, 1);
    let check = |g: &Graph, what: &str, kernel: &str| {
        let sim = simulator(g, true);
        assert!(sim.kernels().iter().any(|(_, k)| k.starts_with(kernel)), "{what}: {:?}", sim.kernels());
        assert_same(&run(g, true, &inputs, n), &run(g, false, &inputs, n), what);
    };
    check(&dense, "dense", "dense: exact i16 madd");
    check(&mlp(&[16, 64, 32, 5], FixedType::new(18, 8, true), 1), "18-bit", "dense: exact f64 gemm");
    let mut pruned = dense.clone();
    for id in pruned.node_ids() {
        if let Layer::Dense(d) = &mut pruned.node_mut(id).layer {
            for v in d.weights.values.iter_mut() {
                if rng.chance(0.92) {
                    *v = 0.0;
                }
            }
        }
    }
    check(&pruned, "pruned", "dense: exact sparse f64");
    let narrow = ty.with_modes(QuantMode::Rnd, OverflowMode::Sat);
    for id in dense.node_ids() {
        if let Layer::Dense(d) = &mut dense.node_mut(id).layer {
            d.accum = Some(narrow);
        }
    }
    check(&dense, "narrow accumulators", "dense: sequential i64");
}

/// Chains of `i16` Dense layers hand their results over as `i16` rows: odd and panel-crossing
/// widths, a ReLU between or not, saturating and wrapping output casts that overflow, a result read
/// twice (not handed over), row-wise layers, and block ends inside a group of rows. Untraced runs (which hand over)
/// equal traced ones and the general path.
#[test]
fn dense_chains_hand_over_narrow_rows() {
    use hls_gen::ir::{Activation, BinaryOp, Dense, Elementwise, Input, Shape};
    let mut rng = Rng(31);
    let mut handed = 0;
    for case in 0..24 {
        let width = 8 + (case % 9) as u32;
        let overflow = if case % 2 == 0 { OverflowMode::Sat } else { OverflowMode::Wrap };
        let ty = FixedType::new(width, 3, true).with_modes(QuantMode::Rnd, overflow);
        let sizes: Vec<usize> = (0..4).map(|_| 1 + (rng.next() % 40) as usize).collect();
        let mut g = Graph::new("chain");
        // Row-wise layers too: the same weights on each of `rows` rows of a sample.
        let rows = 1 + case % 3;
        let shape = if rows == 1 { Shape::new([sizes[0]]) } else { Shape::new([rows, sizes[0]]) };
        let mut prev = add(&mut g, "input", Layer::Input(Input::new(shape)), ty, &[]);
        let mut first = None;
        for (k, pair) in sizes.windows(2).enumerate() {
            let dense = Dense {
                weights: weights(&mut rng, &[pair[0], pair[1]], ty, 2.0),
                bias: weights(&mut rng, &[pair[1]], ty, 0.5),
                accum: Some(exact_accum(&ty, &ty, pair[0])),
            };
            prev = add(&mut g, format!("dense_{k}"), Layer::Dense(dense), ty, &[prev]);
            first.get_or_insert(prev);
            if rng.chance(0.5) {
                prev = add(&mut g, format!("relu_{k}"), Layer::Activation(Activation::Relu), ty, &[prev]);
            }
        }
        if case % 3 == 0 && sizes[1] == sizes[3] {
            // The first result read again at the end: it stays wide.
            let sum = Layer::Elementwise(Elementwise { op: BinaryOp::Add, constant: None });
            prev = add(&mut g, "again", sum, ty, &[prev, first.unwrap()]);
        }
        g.set_outputs(vec![prev]);
        let n = 1 + (rng.next() % 150) as usize;
        let inputs = inputs(&mut rng, n, rows * sizes[0], 6.0);
        let sim = simulator(&g, true);
        handed += sim.kernels().iter().filter(|(_, k)| k.contains("i16 rows in")).count();
        assert_same(
            &run(&g, true, &inputs, n),
            &run(&g, false, &inputs, n),
            &format!("case {case}: {sizes:?}"),
        );
    }
    assert!(handed >= 30, "only {handed} layers took narrow rows");
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let mut rng = Rng(8);
    let mut graphs = vec![mlp(&[16, 64, 32, 5], FixedType::new(16, 6, true), 2)];
    graphs.extend((0..20).map(|_| random_graph(&mut rng, 24)));
    for (k, g) in graphs.iter().enumerate() {
        let n = 1000 + k;
        let inputs = random_rows(&mut rng, g, n);
        let in_pool = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| run(g, true, &inputs, n))
        };
        let one = in_pool(1);
        for threads in [2, 3, 8] {
            assert_same(&one, &in_pool(threads), &format!("graph {k}, {threads} threads"));
        }
    }
}

/// Every Dense layer of the jet MLP (`tests/models/onnx/mlp_float.onnx` at the default
/// `ap_fixed<16,6>`, the model `hls-gen sim` is benchmarked on) runs the `i16` pair-product kernel,
/// and each hands its results to the next as `i16` rows.
#[test]
fn jet_mlp_dense_layers_take_the_i16_kernel() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/models/onnx/mlp_float.onnx");
    let lowered = hls_gen::flow::load_and_lower(&path, &hls_gen::flow::FlowOptions::default()).unwrap();
    let sim = Simulator::new(&lowered.graph).unwrap();
    let dense: Vec<String> =
        sim.kernels().into_iter().filter(|(_, k)| k.starts_with("dense:")).map(|(_, k)| k).collect();
    let madd = "dense: exact i16 madd";
    let chain = [
        format!("{madd}, i16 rows out"),
        format!("{madd}, i16 rows in, i16 rows out"),
        format!("{madd}, i16 rows in, i16 rows out"),
        format!("{madd}, i16 rows in"),
    ];
    assert_eq!(dense, chain, "{:?}", sim.kernels());
}
