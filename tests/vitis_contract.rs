//! The synthesis contract of the emitted Vitis HLS project, checked on its structure where no
//! vendor tool runs: for the Latency and Resource strategies at reuse factors 1, 2, 4 and 8 on the
//! jet tagger's shape (16-64-32-32-5), the schedule and pragma set of the top and of every layer
//! function, the compile-time weight layout of multiplexed layers, the storage chosen from depth
//! x width, the library's pragmas, and the estimate built from the same design; then g++ runs
//! the multiplexed kernels bit-exact against the simulator.

mod common;

use common::*;
use hls_gen::arch::hls::{self, Kernel, Storage};
use hls_gen::backend::testbench::TestbenchData;
use hls_gen::backend::vitis::{emit, run_csim, CppStd, IoType, VitisOptions};
use hls_gen::backend::Project;
use hls_gen::estimate::{self, lookup_part};
use hls_gen::ir::{Activation, Dense, Graph, Layer, LoweredGraph, Strategy};

const LAYERS: [(&str, usize, usize); 4] = [("fc1", 16, 64), ("fc2", 64, 32), ("fc3", 32, 32), ("fc4", 32, 5)];

fn options() -> VitisOptions {
    VitisOptions {
        project_name: "jet".to_string(),
        part: "xcvu9p-flga2104-2L-e".to_string(),
        clock_period_ns: 5.0,
        io_type: IoType::Parallel,
    }
}

/// The jet tagger's shape with 16-bit weights (a fifth of them pruned), 16-bit activations and
/// wrapping 24-bit accumulators; every dense layer at `rf` with `strategy`.
fn jet(strategy: Strategy, rf: usize) -> LoweredGraph {
    let mut rng = Rng::new(17);
    let mut g = Graph::new("jet tagger");
    let mut prev = input(&mut g, "input", &[16], fx(16, 6));
    for (name, n_in, n_out) in LAYERS {
        let d = Layer::Dense(Dense {
            weights: random_weights(&mut rng, &[n_in, n_out], fx(16, 2), 20),
            bias: random_weights(&mut rng, &[n_out], fx(16, 4), 0),
            accum: Some(fx(24, 10)),
        });
        prev = add(&mut g, name, d, &[n_out], fx(16, 6), &[prev]);
        set_strategy(&mut g, prev, strategy, rf);
        if name != "fc4" {
            let relu = Layer::Activation(Activation::Relu);
            prev = add(&mut g, &format!("{name}_relu"), relu, &[n_out], ufx(15, 5), &[prev]);
        }
    }
    let s = add(&mut g, "softmax", Layer::Softmax(softmax_tables(5)), &[5], ufx(16, 1), &[prev]);
    g.set_outputs(vec![s]);
    lowered(g)
}

fn text(p: &Project, path: &str) -> String {
    String::from_utf8(p.get(path).unwrap_or_else(|| panic!("{path} missing")).to_vec()).unwrap()
}

/// The body of `static void NAME(...) { ... }` in the top file.
fn function<'a>(top: &'a str, name: &str) -> &'a str {
    let start = top.find(&format!("static void {name}(")).unwrap_or_else(|| panic!("no {name}"));
    let end = top[start..].find("\n}\n").unwrap() + start;
    &top[start..end]
}

fn pragmas(body: &str) -> Vec<&str> {
    body.lines().filter_map(|l| l.strip_prefix("#pragma HLS ")).collect()
}

/// The numbers of a weights header, in initializer order.
fn values(header: &str) -> Vec<f64> {
    let body = &header[header.find("= {").unwrap() + 3..header.rfind("};").unwrap()];
    body.split(|c: char| c == ',' || c == '{' || c == '}' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .map(|t| t.parse().unwrap())
        .collect()
}

#[test]
fn pragma_sets_weight_layouts_and_estimates_agree_for_every_strategy_and_reuse_factor() {
    let part = lookup_part("xcvu9p").unwrap();
    for strategy in [Strategy::Latency, Strategy::Resource] {
        for rf in [1usize, 2, 4, 8] {
            let case = format!("{strategy:?} RF {rf}");
            let g = jet(strategy, rf);
            let design = hls::design(&g).unwrap();
            let p = emit(&g, &options(), &TestbenchData::default()).unwrap();
            let top = text(&p, "firmware/jet.cpp");
            let main = &top[top.find("void jet(").unwrap()..];
            let est = estimate::estimate(&g, &part, 5.0).unwrap();
            assert_eq!((design.ii, est.total.ii), (rf, rf as u64), "{case}");
            assert!(top.contains(&format!("II = {rf}")), "{case}");
            if rf == 1 {
                assert!(main.contains("#pragma HLS INTERFACE mode=ap_ctrl_hs port=return"), "{case}");
                assert!(main.contains("#pragma HLS PIPELINE II=1") && !main.contains("DATAFLOW"), "{case}");
            } else {
                assert!(main.contains("#pragma HLS INTERFACE mode=ap_ctrl_chain port=return"), "{case}");
                assert!(main.contains("#pragma HLS DATAFLOW") && !main.contains("PIPELINE"), "{case}");
            }
            for (name, n_in, n_out) in LAYERS {
                let body = function(&top, &format!("{name}_layer"));
                let id = g.find(name).unwrap();
                let weights = format!("{name}_weights");
                let header = text(&p, &format!("firmware/weights/{weights}.h"));
                let w = match &g.node(id).layer {
                    Layer::Dense(d) => d.weights.values.clone(),
                    _ => unreachable!(),
                };
                let layer_est = est.layers.iter().find(|l| l.name == name).unwrap();
                assert_eq!(layer_est.ii, rf as u64, "{case} {name}");
                if rf == 1 {
                    // Unrolled, weights as constants in their natural layout, either strategy.
                    assert_eq!(design.layers[&id].kernel, Kernel::Unrolled);
                    assert_eq!(
                        pragmas(body),
                        [
                            "INLINE",
                            &format!("ARRAY_PARTITION variable={weights} type=complete dim=0"),
                            &format!("ARRAY_PARTITION variable={name}_bias type=complete dim=0"),
                        ],
                        "{case} {name}"
                    );
                    assert!(body.contains(&format!("hlsgen::dense<{name}_config>")), "{case}");
                    assert!(header.contains(&format!("{weights}[{n_in}][{n_out}] = {{")), "{case}");
                    assert_eq!(values(&header), w, "{case} {name}");
                    continue;
                }
                let k = n_in / rf;
                assert_eq!(design.layers[&id].kernel, Kernel::Multiplexed { reuse: rf, per_cycle: k });
                let placement = match strategy {
                    Strategy::Latency => {
                        vec![format!("ARRAY_PARTITION variable={weights} type=complete dim=0")]
                    }
                    Strategy::Resource => {
                        let bits = (n_out * k * 16) as u64;
                        let imp = match hls::rom_storage(rf as u64, bits) {
                            Storage::Bram => "bram",
                            Storage::Lutram | Storage::Constants => "lutram",
                        };
                        vec![
                            format!("ARRAY_RESHAPE variable={weights} type=complete dim=2"),
                            format!("BIND_STORAGE variable={weights} type=rom_1p impl={imp}"),
                        ]
                    }
                };
                let mut want = vec!["INLINE off".to_string()];
                want.extend(placement);
                want.push(format!("ARRAY_PARTITION variable={name}_bias type=complete dim=0"));
                assert_eq!(pragmas(body), want, "{case} {name}");
                assert!(body.contains(&format!("hlsgen::dense_multiplexed<{name}_config>")), "{case}");
                let params = text(&p, "firmware/parameters.h");
                let config = &params[params.find(&format!("struct {name}_config ")).unwrap()..];
                let config = &config[..config.find("};").unwrap()];
                assert!(config.contains(&format!("reuse_factor = {rf};")), "{case}: {config}");
                assert!(config.contains(&format!("per_cycle = {k};")), "{case}: {config}");
                // The compile-time map: step r, output j, lane q holds W[q * R + r][j].
                assert!(header.contains(&format!("{weights}[{rf}][{}] = {{", n_out * k)), "{case}");
                let got = values(&header);
                for r in 0..rf {
                    for j in 0..n_out {
                        for q in 0..k {
                            let want = w[(q * rf + r) * n_out + j];
                            assert_eq!(got[(r * n_out + j) * k + q], want, "{case} {name} r={r} j={j} q={q}");
                        }
                    }
                }
                // n_out * K multipliers, each one DSP for 16 x 16 bits (Resource: every slot;
                // Latency: slots whose R weights are all zero multiply by a constant zero).
                let live = (0..n_out)
                    .flat_map(|j| (0..k).map(move |q| (j, q)))
                    .filter(|&(j, q)| {
                        strategy == Strategy::Resource || (0..rf).any(|r| w[(q * rf + r) * n_out + j] != 0.0)
                    })
                    .count() as u64;
                assert_eq!(layer_est.dsp, live, "{case} {name}");
                let rom_bram = design.layers[&id].roms.iter().map(|r| r.bram18()).sum::<u64>();
                assert_eq!(layer_est.bram18, rom_bram, "{case} {name}");
            }
            // Every other layer is a pipelined process of its own in a dataflow design.
            let relu = function(&top, "fc1_relu_layer");
            let want: &[&str] = if rf == 1 { &["INLINE"] } else { &["INLINE off", "PIPELINE II=1"] };
            assert_eq!(pragmas(relu), want, "{case}");
            let softmax = function(&top, "softmax_layer");
            assert!(
                softmax.contains("BIND_STORAGE variable=softmax_exp_table type=rom_np impl=bram"),
                "{case}"
            );
            assert!(
                softmax.contains("BIND_STORAGE variable=softmax_inv_table type=rom_1p impl=bram"),
                "{case}"
            );
            assert!(!top.contains("index"), "{case}: no runtime index arrays");
        }
    }
}

#[test]
fn the_library_pipelines_only_the_step_loop_and_partitions_no_parameter() {
    let g = jet(Strategy::Latency, 1);
    let p = emit(&g, &options(), &TestbenchData::default()).unwrap();
    let mut pipelines = Vec::new();
    for (path, bytes) in p.files() {
        let path = path.to_string_lossy();
        if !path.starts_with("firmware/hlsgen/") {
            continue;
        }
        let src = String::from_utf8(bytes.clone()).unwrap();
        for line in src.lines().filter_map(|l| l.strip_prefix("#pragma HLS ")) {
            assert!(!line.starts_with("ALLOCATION"), "{path}: {line}");
            if line.starts_with("PIPELINE") {
                pipelines.push(format!("{path}: {line}"));
            }
            if line.starts_with("ARRAY_PARTITION") || line.starts_with("ARRAY_RESHAPE") {
                // Only locals: the multiplexed kernels' accumulators, a convolution step's window
                // values, the softmax's exponentials; in io_stream the window registers and the
                // line buffer's rows.
                let locals = [
                    "ARRAY_PARTITION variable=acc type=complete dim=0",
                    "ARRAY_PARTITION variable=v type=complete dim=0",
                    "ARRAY_PARTITION variable=e type=complete",
                    "ARRAY_PARTITION variable=win type=complete dim=0",
                    "ARRAY_PARTITION variable=line type=complete dim=1",
                ];
                assert!(locals.contains(&line), "{path}: {line}");
            }
        }
    }
    assert_eq!(
        pipelines,
        [
            "firmware/hlsgen/conv.h: PIPELINE II=1 rewind",
            "firmware/hlsgen/conv.h: PIPELINE II=1 rewind",
            "firmware/hlsgen/conv_stream.h: PIPELINE II=C::reuse_factor",
            "firmware/hlsgen/dense.h: PIPELINE II=1 rewind",
            "firmware/hlsgen/frame.h: PIPELINE II=1",
            "firmware/hlsgen/frame.h: PIPELINE II=1",
            "firmware/hlsgen/pad_stream.h: PIPELINE II=1",
            "firmware/hlsgen/pad_stream.h: PIPELINE II=1",
            "firmware/hlsgen/pool_stream.h: PIPELINE II=1",
            "firmware/hlsgen/pool_stream.h: PIPELINE II=1",
        ]
    );
    let dense = text(&p, "firmware/hlsgen/dense.h");
    let kernel = &dense[dense.find("void dense_multiplexed(").unwrap()..];
    let loop_start = kernel.find("for (unsigned r = 0;").unwrap();
    let before_loop = &kernel[kernel.find('{').unwrap() + 1..loop_start];
    // Rewind needs the loop to be the only code of the process: before it, declarations only.
    for line in before_loop.lines().map(str::trim).filter(|l| !l.is_empty()) {
        assert!(line.starts_with("#pragma HLS") || line == "typename C::accum_t acc[C::n_out];", "{line}");
    }
}

#[test]
fn rom_storage_follows_depth_and_width_in_code_and_estimate() {
    // 1024 inputs at reuse factor 512: 512 words of 2 x 2 x 16 = 64 bits, 89 % of two RAMB18.
    let mut rng = Rng::new(5);
    let mut g = Graph::new("deep");
    let x = input(&mut g, "x", &[1024], fx(8, 3));
    let d = Layer::Dense(Dense {
        weights: random_weights(&mut rng, &[1024, 2], fx(16, 2), 0),
        bias: random_weights(&mut rng, &[2], fx(8, 2), 0),
        accum: Some(fx(32, 14)),
    });
    let y = add(&mut g, "fc", d, &[2], fx(16, 6), &[x]);
    set_strategy(&mut g, y, Strategy::Resource, 512);
    g.set_outputs(vec![y]);
    let deep = lowered(g.clone());
    let p = emit(&deep, &options(), &TestbenchData::default()).unwrap();
    assert!(text(&p, "firmware/jet.cpp").contains("BIND_STORAGE variable=fc_weights type=rom_1p impl=bram"));
    let est = estimate::estimate(&deep, &lookup_part("xcvu9p").unwrap(), 5.0).unwrap();
    assert_eq!(est.total.bram18, 2);
    // The same layer at reuse factor 4: 4 words of 512 x 16 bits fill no block RAM.
    let id = g.find("fc").unwrap();
    g.node_mut(id).reuse_factor = 4;
    let shallow = lowered(g);
    let p = emit(&shallow, &options(), &TestbenchData::default()).unwrap();
    assert!(text(&p, "firmware/jet.cpp").contains("BIND_STORAGE variable=fc_weights type=rom_1p impl=lutram"));
    let est = estimate::estimate(&shallow, &lookup_part("xcvu9p").unwrap(), 5.0).unwrap();
    assert_eq!(est.total.bram18, 0);
}

#[test]
fn an_order_dependent_accumulator_is_refused_above_reuse_factor_one() {
    let g = jet(Strategy::Resource, 4);
    let mut raw = g.into_graph();
    let id = raw.find("fc2").unwrap();
    if let Layer::Dense(d) = &mut raw.node_mut(id).layer {
        d.accum =
            Some(modes(fx(16, 6), hls_gen::fixed::QuantMode::RndConv, hls_gen::fixed::OverflowMode::Sat));
    }
    let g = lowered(raw);
    let err = emit(&g, &options(), &TestbenchData::default()).unwrap_err().to_string();
    assert!(
        err.contains("'fc2' (reuse factor 4)") && err.contains("AP_TRN, AP_RND or AP_RND_MIN_INF"),
        "{err}"
    );
    let err = estimate::estimate(&g, &lookup_part("xcvu9p").unwrap(), 5.0).unwrap_err().to_string();
    assert!(err.contains("'fc2'"), "{err}");
}

/// g++ runs the multiplexed kernels (the accumulators wrap and truncate, so the reordered
/// accumulation is exercised) bit-exact against the simulator.
#[test]
fn multiplexed_layers_are_bit_exact_in_csim() {
    let Some(ap) = ap_types() else {
        return;
    };
    for (strategy, rf) in [(Strategy::Latency, 2), (Strategy::Resource, 4), (Strategy::Latency, 8)] {
        let g = jet(strategy, rf);
        let tb = hls_gen::flow::testbench(&g, None, 300).unwrap();
        let p = emit(&g, &options(), &tb).unwrap();
        let root = tempfile::tempdir().unwrap();
        p.write(root.path(), true).unwrap();
        let outcome = run_csim(root.path(), &ap, CppStd::Cpp14).unwrap();
        assert!(outcome.passed && outcome.samples == Some(300), "{strategy:?} RF {rf}:\n{}", outcome.output);
    }
}
