//! Simulator throughput in samples per second on a jet-image CNN at `ap_fixed<16,6>` with exact
//! accumulators: a `40 x 40 x 1` input, three `3 x 3` convolutions (8, 16, 16 filters, ReLU) each
//! followed by `2 x 2` max pooling, a flatten, Dense 32 (ReLU) and Dense 5 (softmax).
//!
//! Also `conv2d_small_keras.onnx` of `../shared/models` (8x8x1, Conv2D 2 filters, Dense 10),
//! lowered at the default precision, when that folder is present.
//!
//! `cargo bench --bench cnn`; `fast` uses the exact f64/i64 kernels, `general` the i128 path.

#[path = "../tests/sim_support/mod.rs"]
mod sim_support;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hls_gen::fixed::FixedType;
use hls_gen::sim::{RunOptions, SimOptions, Simulator};
use sim_support::{inputs, jet_cnn, Rng};

fn bench(c: &mut Criterion, n: usize, fast: bool) {
    let g = hls_gen::ir::LoweredGraph::new(jet_cnn(FixedType::new(16, 6, true), 42)).expect("a valid graph");
    let sim = Simulator::with_options(&g, &SimOptions { fast_paths: fast }).expect("a valid graph");
    let x = inputs(&mut Rng(7), n, sim.input_elements(), 1.0);
    let mut group = c.benchmark_group("jet_cnn_40x40x1");
    group.throughput(Throughput::Elements(n as u64));
    group.sample_size(10);
    group.bench_function(if fast { "fast" } else { "general" }, |b| {
        b.iter(|| sim.run(&x, n, &RunOptions::default()).expect("a run"))
    });
    group.finish();
}

fn shared_conv2d(c: &mut Criterion) {
    let model = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/models/onnx/conv2d_small_keras.onnx");
    if !model.is_file() {
        eprintln!("notice: {} is absent; skipped", model.display());
        return;
    }
    let g =
        hls_gen::flow::load_and_lower(&model, &hls_gen::flow::FlowOptions::default()).expect("lowers").graph;
    let sim = Simulator::new(&g).expect("a valid graph");
    let n = 20_000;
    let x = inputs(&mut Rng(7), n, sim.input_elements(), 1.0);
    let mut group = c.benchmark_group("conv2d_small_keras");
    group.throughput(Throughput::Elements(n as u64));
    group.sample_size(10);
    group.bench_function("fast", |b| b.iter(|| sim.run(&x, n, &RunOptions::default()).expect("a run")));
    group.finish();
}

fn cnns(c: &mut Criterion) {
    bench(c, 2_000, true);
    bench(c, 200, false);
    shared_conv2d(c);
}

criterion_group!(benches, cnns);
criterion_main!(benches);
