//! End-to-end flow times: import + `default` pass pipeline of a 1M-parameter MLP, and `compile`
//! as `hls-gen compile` runs it (lowering, 1000 testbench vectors through the simulator, Vitis
//! HLS emission, estimate, `report.html` profiling the testbench run) plus `Project::write`, of
//! the 16-64-32-32-5 test MLP, of the 1M- and 1.6M-parameter MLPs, of the 64-256-256-128-10 MLP
//! (`tests/models/onnx/mlp_big.onnx`) and of the 40x40x1 jet-image CNN
//! (`tests/models/onnx/jet_image_cnn.onnx`), and of `conv2d_small_keras.onnx` when
//! `../shared/models` is present; in io_stream, of the jet-image CNN and the 32x32x3 SVHN-style
//! CNN (`svhn_cnn.onnx`), dataflow model included.
//!
//! The 1M-parameter model (784-1024-192-10, Gemm + ReLU, softmax output; 1,002,570 parameters,
//! float32 `raw_data` initializers with seeded values) and the 1.6M-parameter one (784-1024-768-10,
//! 1,598,730 parameters) are built here with `onnx-protobuf` and written to
//! `$CARGO_TARGET_TMPDIR/mlp_<sizes>.onnx`, whose paths the bench prints so that the CLI can be
//! measured on the same files.
//!
//! `report.html`'s Dense accumulator statistics come from the testbench run itself: the
//! simulator's exact kernels hand over their sums (`RunOptions::dense_sums`), so the profile sums
//! in `f64` (`profile::accumulate`) only the Dense layers whose kernel rounds or saturates the
//! accumulator; none in these MLPs. `hls-gen compile` of the 1.6M-parameter MLP took 5,947 M
//! instructions (callgrind; 7,482 M before that change and the parallel plan, accumulator bound,
//! transpose, estimate and statistics passes), of `mlp_big.onnx` 711 M (792 M before): 2-core
//! Intel Xeon VM, 2026-12-05 21:30 UTC, load average about 5.
//!
//! `cargo bench --bench flow`

#[path = "../tests/common/onnx_proto.rs"]
mod onnx_proto;

use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use hls_gen::config::IoStyle;
use hls_gen::flow::{self, BackendChoice, CompileOptions, FlowOptions};
use hls_gen::profile::html;
use onnx_proto::value_info;
use onnx_protobuf::attribute_proto::AttributeType;
use onnx_protobuf::{AttributeProto, GraphProto, NodeProto, TensorProto, ValueInfoProto};

const BIG: &[usize] = &[784, 1024, 192, 10];
/// 1,598,730 parameters.
const BIGGER: &[usize] = &[784, 1024, 768, 10];

fn node(op: &str, name: &str, inputs: &[String], output: &str, attrs: Vec<AttributeProto>) -> NodeProto {
    let mut n = NodeProto::new();
    n.op_type = op.into();
    n.name = name.into();
    n.input = inputs.to_vec();
    n.output = vec![output.to_string()];
    n.attribute = attrs;
    n
}

fn attr_i(name: &str, v: i64) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.into();
    a.type_ = AttributeType::INT.into();
    a.i = v;
    a
}

/// Float32 tensor with values uniform in `[-scale, scale)` from a seeded xorshift generator.
fn tensor(name: &str, dims: &[usize], scale: f32, state: &mut u64) -> TensorProto {
    let n: usize = dims.iter().product();
    let mut raw = Vec::with_capacity(4 * n);
    for _ in 0..n {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        let u = (*state >> 40) as f32 / (1u64 << 24) as f32;
        raw.extend_from_slice(&(scale * (2.0 * u - 1.0)).to_le_bytes());
    }
    let mut t = TensorProto::new();
    t.name = name.into();
    t.data_type = 1;
    t.dims = dims.iter().map(|&d| d as i64).collect();
    t.raw_data = raw;
    t
}

/// An MLP with the given layer sizes: Gemm (transB) + ReLU between layers, softmax at the end.
fn mlp_onnx(sizes: &[usize]) -> Vec<u8> {
    let mut g = GraphProto::new();
    g.name = "mlp".into();
    g.input.push(value_info("x", sizes[0]));
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut prev = "x".to_string();
    for (i, w) in sizes.windows(2).enumerate() {
        let (fan_in, fan_out) = (w[0], w[1]);
        let scale = 1.0 / (fan_in as f32).sqrt();
        g.initializer.push(tensor(&format!("w{i}"), &[fan_out, fan_in], scale, &mut state));
        g.initializer.push(tensor(&format!("b{i}"), &[fan_out], 0.1, &mut state));
        let out = format!("h{i}");
        let inputs = [prev.clone(), format!("w{i}"), format!("b{i}")];
        g.node.push(node("Gemm", &format!("dense{i}"), &inputs, &out, vec![attr_i("transB", 1)]));
        let act_out = format!("a{i}");
        let last = i + 2 == sizes.len();
        let (op, attrs) = if last { ("Softmax", vec![attr_i("axis", 1)]) } else { ("Relu", vec![]) };
        g.node.push(node(op, &format!("act{i}"), &[out], &act_out, attrs));
        prev = act_out;
    }
    let mut y = ValueInfoProto::new();
    y.name = prev;
    g.output.push(y);
    onnx_proto::model_bytes(g)
}

/// Writes the MLP of `sizes` to `$CARGO_TARGET_TMPDIR/mlp_<sizes>.onnx` and prints its path.
fn model_file(sizes: &[usize]) -> PathBuf {
    let stem: Vec<String> = sizes.iter().map(usize::to_string).collect();
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("mlp_{}.onnx", stem.join("_")));
    std::fs::write(&path, mlp_onnx(sizes)).expect("writes the model");
    let params: usize = sizes.windows(2).map(|w| w[0] * w[1] + w[1]).sum();
    eprintln!("model: {} ({params} parameters)", path.display());
    path
}

fn compile_and_write(model: &Path, dest: &Path) {
    compile_and_write_in(model, dest, IoStyle::Parallel);
}

fn compile_and_write_in(model: &Path, dest: &Path, io: IoStyle) {
    let c = CompileOptions {
        backend: BackendChoice::Vitis,
        drop_output_softmax: false,
        io_type: Some(io),
        hls_tool: None,
        fifo_depth: Default::default(),
        edge_parallelism: None,
        part: "xcvu9p",
        clock_ns: 5.0,
        project_name: "myproject",
        tb_inputs: None,
        tb_samples: 1000,
    };
    let mut compiled = flow::compile(model, &FlowOptions::default(), &c).expect("compiles");
    let page = html::render(&compiled.profile, "report");
    compiled.project.add("report.html", page).expect("a new file");
    compiled.project.write(dest, false).expect("writes");
}

fn benches(c: &mut Criterion) {
    let big = model_file(BIG);
    let bigger = model_file(BIGGER);
    let small = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/models/onnx/mlp_float.onnx");
    let wide = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/models/onnx/mlp_big.onnx");
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let dest = tmp.path().join("project");

    let mut group = c.benchmark_group("flow");
    group.sample_size(10);
    group.bench_function("import_lower_mlp_1m", |b| {
        b.iter(|| flow::load_and_lower(&big, &FlowOptions::default()).expect("lowers"))
    });
    for (name, model) in [("mlp_1m", &big), ("mlp_1m6", &bigger), ("mlp_64_256_256_128_10", &wide)] {
        group.bench_function(format!("compile_write_{name}"), |b| {
            b.iter_batched(
                || {
                    let _ = std::fs::remove_dir_all(&dest);
                },
                |()| compile_and_write(model, &dest),
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();

    let mut group = c.benchmark_group("flow");
    group.bench_function("compile_write_mlp_16_64_32_32_5", |b| {
        b.iter_batched(
            || {
                let _ = std::fs::remove_dir_all(&dest);
            },
            |()| compile_and_write(&small, &dest),
            BatchSize::PerIteration,
        )
    });
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cnns = vec![("jet_image_cnn_40x40x1", root.join("tests/models/onnx/jet_image_cnn.onnx"))];
    let shared = root.join("../shared/models/onnx/conv2d_small_keras.onnx");
    if shared.is_file() {
        cnns.push(("conv2d_small_keras", shared));
    }
    for (name, model) in cnns {
        group.bench_function(format!("compile_write_{name}"), |b| {
            b.iter_batched(
                || {
                    let _ = std::fs::remove_dir_all(&dest);
                },
                |()| compile_and_write(&model, &dest),
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();

    // io_stream: the design, the dataflow model's runs (three frames, twice) and the project.
    let mut group = c.benchmark_group("flow");
    group.sample_size(10);
    for (name, model) in [
        ("jet_image_cnn_40x40x1", root.join("tests/models/onnx/jet_image_cnn.onnx")),
        ("svhn_cnn_32x32x3", root.join("tests/models/onnx/svhn_cnn.onnx")),
    ] {
        group.bench_function(format!("compile_write_io_stream_{name}"), |b| {
            b.iter_batched(
                || {
                    let _ = std::fs::remove_dir_all(&dest);
                },
                |()| compile_and_write_in(&model, &dest, IoStyle::Stream),
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(flow_benches, benches);
criterion_main!(flow_benches);
