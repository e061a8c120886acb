//! Simulator throughput in samples per second on two hand-built MLPs at `ap_fixed<16,6>` with
//! exact accumulators: 16-64-32-32-5 and 64-256-256-128-10 (ReLU, softmax).
//!
//! `cargo bench --bench sim`; `fast` uses the specialised kernels (here the `i16` pair-product
//! kernel of `src/sim/matmul.rs`), `general` the exact i128 reference path the simulator falls back
//! to for types the kernels cannot hold. The whole `hls-gen sim` process is timed in
//! `benches/sim_cli.rs`.

#[path = "../tests/sim_support/mod.rs"]
mod sim_support;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hls_gen::fixed::FixedType;
use hls_gen::sim::{RunOptions, SimOptions, Simulator};
use sim_support::{inputs, mlp, Rng};

fn bench(c: &mut Criterion, name: &str, sizes: &[usize], n: usize, fast: bool) {
    let g =
        hls_gen::ir::LoweredGraph::new(mlp(sizes, FixedType::new(16, 6, true), 42)).expect("a valid graph");
    let sim = Simulator::with_options(&g, &SimOptions { fast_paths: fast }).expect("a valid graph");
    let x = inputs(&mut Rng(7), n, sizes[0], 1.5);
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(n as u64));
    group.sample_size(10);
    group.bench_function(if fast { "fast" } else { "general" }, |b| {
        b.iter(|| sim.run(&x, n, &RunOptions::default()).expect("a run"))
    });
    group.finish();
}

fn mlps(c: &mut Criterion) {
    bench(c, "mlp_16_64_32_32_5", &[16, 64, 32, 32, 5], 200_000, true);
    bench(c, "mlp_64_256_256_128_10", &[64, 256, 256, 128, 10], 20_000, true);
    bench(c, "mlp_16_64_32_32_5", &[16, 64, 32, 32, 5], 20_000, false);
    bench(c, "mlp_64_256_256_128_10", &[64, 256, 256, 128, 10], 2_000, false);
}

criterion_group!(benches, mlps);
criterion_main!(benches);
