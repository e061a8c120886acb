//! Whole-process `hls-gen sim` throughput in samples per second: reading a float32 `.npy` of
//! 200,000 samples, simulating, writing the float64 `.npy` of outputs, for the 16-64-32-32-5 MLP
//! (`tests/models/onnx/mlp_float.onnx`) and the 64-256-256-128-10 MLP (`mlp_big.onnx`), both at
//! `ap_fixed<16,6>`. The in-process kernels alone are in `benches/sim.rs`.
//!
//! `cargo bench --bench sim_cli`. Instructions per MAC (no hardware counters on the development
//! VM, so counted in the assembly and with `valgrind --tool=callgrind`): the inner loop of the
//! `i16` kernel with AVX2 (`Madd::product_avx2`) is 25 instructions (2 weight loads, 4 broadcasts,
//! 8 `vpmaddwd`, 8 `vpaddd`, 3 of loop control) for 4 rows x 16 outputs x 2 inputs = 128 MACs:
//! 0.20 instructions per MAC; with AVX-512 VNNI (`Madd::product_vnni`, what this VM's Xeon runs)
//! it is 40 (4 weight loads, 8 broadcasts, 16 `vpdpwssd`, 12 of loop control and bounds checks)
//! for 4 rows x 16 outputs x 4 inputs = 256 MACs: 0.16 per MAC, in 16 independent accumulators
//! (`vpdpwssd`'s latency stalls 8). Whole processes under callgrind (which hides AVX-512 from the
//! program, so they run the AVX2 kernel), 16-64-32-32-5 MLP on 200,000 samples in [-1.5, 1.5)
//! (4,256 MACs each, 851 M MACs), `hls-gen sim -q` of a float32 `.npy`:
//!
//! | date (UTC)       | instructions | per MAC | change                                          |
//! |------------------|--------------|---------|-------------------------------------------------|
//! | 2026-12-05 12:10 | 929 M        | 1.09    | before the 32-bit output casts                  |
//! | 2026-12-05 12:15 | 615 M        | 0.72    | 32-bit output casts, index-free packing         |
//! | 2026-12-05 23:30 | 637 M        | 0.75    | main at 5bd4aa5                                 |
//! | 2026-12-05 23:50 | 597 M        | 0.70    | streamed `.npy`, pooled buffers, ReLU in the cast |
//! | 2026-12-06 00:15 | 522 M        | 0.61    | softmax index pass, AVX2 input packing          |
//! | 2026-12-06 00:34 | 525 M        | 0.62    | pieces of 1 MiB (4,700 page faults, was 7,900)  |
//! | 2026-12-06 03:15 | 450 M        | 0.53    | `i16` rows handed from Dense to Dense           |
//!
//! Of the 00:15 run: `Madd::product_avx2` 213 M (0.25 per MAC), the Dense output casts with the fused
//! ReLU 85 M (the separate ReLU pass was 31 M), packing inputs to `i16` pairs 58 M (94 M before
//! the AVX2 packing), the input conversion 30 M, softmax and the block loop 85 M (123 M before its
//! index pass), reading the `.npy` 8 M. callgrind does not count the operating system's work:
//! page faults (`perf stat`) fell from 11,200 to 7,900 a run, the input being no longer converted
//! whole. Of the 03:15 run: the products 210 M, the output casts into `i16` rows 48 M, softmax and
//! the block loop 60 M, the input conversion 49 M, packing the first layer's inputs 3 M. The
//! 64-256-256-128-10 MLP on 20,000 samples (115,968 MACs each): 740 M instructions, 0.32 per MAC
//! (2026-12-05 12:15); 681 M, 0.29 per MAC (2026-12-06 03:15).

use std::path::Path;
use std::process::Command;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const SAMPLES: usize = 200_000;

/// A float32 `.npy` of `n x features` values in [-1.5, 1.5) from a seeded generator.
fn write_inputs(path: &Path, n: usize, features: usize) {
    let dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({n}, {features}), }}");
    let pad = (64 - (10 + dict.len() + 1) % 64) % 64;
    let header = format!("{dict}{}\n", " ".repeat(pad));
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..n * features {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let u = (state >> 40) as f32 / (1u64 << 24) as f32;
        bytes.extend_from_slice(&(3.0 * u - 1.5).to_le_bytes());
    }
    std::fs::write(path, bytes).expect("writes the inputs");
}

fn bench(c: &mut Criterion, name: &str, model: &str, features: usize) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let model = root.join("tests/models/onnx").join(model);
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let (x, y) = (tmp.path().join("x.npy"), tmp.path().join("y.npy"));
    write_inputs(&x, SAMPLES, features);
    let mut group = c.benchmark_group("sim_whole_process");
    group.throughput(Throughput::Elements(SAMPLES as u64));
    group.sample_size(10);
    group.bench_function(name, |b| {
        b.iter(|| {
            let status = Command::new(env!("CARGO_BIN_EXE_hls-gen"))
                .arg("sim")
                .arg("-q")
                .arg(&model)
                .arg("--input")
                .arg(&x)
                .arg("--output")
                .arg(&y)
                .status()
                .expect("runs hls-gen");
            assert!(status.success());
        })
    });
    group.finish();
}

fn mlps(c: &mut Criterion) {
    bench(c, "mlp_16_64_32_32_5", "mlp_float.onnx", 16);
    bench(c, "mlp_64_256_256_128_10", "mlp_big.onnx", 64);
}

criterion_group!(benches, mlps);
criterion_main!(benches);
