//! `hls-gen profile` on models the suite builds itself (tests/models): the recorded ranges and
//! overflow counts against an independent computation, `--auto-precision` against its promises
//! (no overflow, argmax agreement, lower cost than uniform `ap_fixed<16,6>`, a held-out set, a
//! configuration `compile --config` reads back), and the HTML report in headless Chromium.
//! Calibration inputs are generated here from fixed seeds.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

mod common;

use common::bin::{hls_gen, root, text};
use common::{cells, write_npy};
use hls_gen::fixed::FixedType;
use hls_gen::flow::{self, FlowOptions};
use hls_gen::ir::Layer;
use hls_gen::sim::{RunOptions, Simulator};

const MLP: &str = "tests/models/onnx/mlp_float.onnx";
const QKERAS_MLP: &str = "tests/models/keras/qkeras_mlp.json";

/// `n x m` standard normal values scaled by `scale`, from `seed` (xorshift64* and Box-Muller).
fn normal(seed: u64, n: usize, m: usize, scale: f64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut uniform = move || {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        ((s.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    (0..n * m)
        .map(|_| scale * (-2.0 * uniform().ln()).sqrt() * (2.0 * std::f64::consts::PI * uniform()).cos())
        .collect()
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn run_ok(args: &[&str]) -> String {
    let o = hls_gen(args);
    assert!(o.status.success(), "hls-gen {}:\n{}", args.join(" "), text(&o));
    text(&o)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn tensor<'a>(p: &'a Value, layer: &str, tensor: &str) -> &'a Value {
    p["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == layer)
        .and_then(|l| l["tensors"].as_array().unwrap().iter().find(|t| t["tensor"] == tensor))
        .unwrap_or_else(|| panic!("no {tensor} of {layer} in the profile"))
}

/// Value casts (outputs, accumulators) that overflowed, over every layer.
fn value_overflows(p: &Value) -> u64 {
    p["overflows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["kind"] == "output" || o["kind"] == "accumulator")
        .map(|o| o["count"].as_u64().unwrap())
        .sum()
}

/// `v` rounded half up to `ty`'s LSB, and whether that falls outside `ty`.
fn round_overflows(v: f64, ty: &FixedType) -> bool {
    let f = ty.frac_bits();
    let r = (v * 2f64.powi(f) + 0.5).floor();
    let (lo, hi) = if ty.signed {
        (-(2f64.powi(ty.width as i32 - 1)), 2f64.powi(ty.width as i32 - 1) - 1.0)
    } else {
        (0.0, 2f64.powi(ty.width as i32) - 1.0)
    };
    r < lo || r > hi
}

#[test]
fn recorded_ranges_and_overflows_match_an_independent_computation() {
    let tmp = tempfile::tempdir().unwrap();
    let (n, m) = (400, 16);
    // Wide inputs and a narrow type: the input conversion and the Dense outputs overflow.
    let x = normal(11, n, m, 4.0);
    let calib = tmp.path().join("calib.npy");
    write_npy(&calib, &[n as u64, m as u64], &x);
    let out = tmp.path().join("p.json");
    let ty = "ap_fixed<10,3,AP_RND,AP_SAT>";
    run_ok(&["profile", MLP, "--input", s(&calib), "--precision", ty, "--json", s(&out)]);
    let p = json(&out);
    assert_eq!(p["samples"], n);

    let opts = FlowOptions { precision: Some(ty.parse().unwrap()), ..FlowOptions::default() };
    let lowered = flow::load_and_lower(&root().join(MLP), &opts).unwrap();
    let g = &lowered.graph;
    let trace = Simulator::new(g)
        .unwrap()
        .run(&x, n, &RunOptions { trace: true, dense_sums: false, progress: None })
        .unwrap()
        .trace
        .unwrap();
    let fixed: FixedType = ty.parse().unwrap();

    // Input conversion: counted from the data alone.
    let input = tensor(&p, "input_1", "output");
    let expected = x.iter().filter(|&&v| round_overflows(v, &fixed)).count() as u64;
    assert!(expected > 0, "the test needs overflowing inputs");
    assert_eq!(input["overflows"].as_u64().unwrap(), expected);
    assert_eq!(input["casts"].as_u64().unwrap(), (n * m) as u64);

    let mut dense_overflows = 0;
    for id in g.topo_order().unwrap() {
        let node = g.node(id);
        let t = trace.iter().find(|t| t.name == node.name).unwrap();
        let out = tensor(&p, &node.name, "output");
        let min = t.values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = t.values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert_eq!(out["min"].as_f64().unwrap(), min, "{} min", node.name);
        assert_eq!(out["max"].as_f64().unwrap(), max, "{} max", node.name);
        let hist: u64 =
            out["histogram"]["bins"].as_array().unwrap().iter().map(|b| b.as_u64().unwrap()).sum::<u64>()
                + out["histogram"]["zeros"].as_u64().unwrap();
        assert_eq!(hist, t.values.len() as u64, "{} histogram total", node.name);
        let Layer::Dense(d) = &node.layer else { continue };
        // The exact accumulator from the traced input and the quantized constants.
        let src = g.node(g.inputs_of(id)[0]);
        let xin = &trace.iter().find(|t| t.name == src.name).unwrap().values;
        let (n_in, n_out) = (d.n_in(), d.n_out());
        let mut acc = Vec::new();
        for row in xin.chunks(n_in) {
            for j in 0..n_out {
                acc.push(
                    d.bias.values[j]
                        + (0..n_in).map(|i| row[i] * d.weights.values[i * n_out + j]).sum::<f64>(),
                );
            }
        }
        let a = tensor(&p, &node.name, "accumulator");
        assert_eq!(a["min"].as_f64().unwrap(), acc.iter().copied().fold(f64::INFINITY, f64::min));
        assert_eq!(a["max"].as_f64().unwrap(), acc.iter().copied().fold(f64::NEG_INFINITY, f64::max));
        let over = acc.iter().filter(|&&v| round_overflows(v, &node.ty.unwrap())).count() as u64;
        assert_eq!(out["overflows"].as_u64().unwrap(), over, "{} output overflows", node.name);
        dense_overflows += over;
        // Weights: the profile's overflow count is of the model's float values.
        let w = tensor(&p, &node.name, "weight");
        let wmax = d.weights.values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert_eq!(w["max"].as_f64().unwrap(), wmax);
    }
    assert!(dense_overflows > 0, "the test needs overflowing Dense outputs");
}

/// The calibration set and a held-out set of the jet-tagger-like MLP (standardized features).
fn mlp_sets(dir: &Path) -> (PathBuf, PathBuf) {
    let (calib, held) = (dir.join("calib.npy"), dir.join("held_out.npy"));
    write_npy(&calib, &[1000, 16], &normal(1, 1000, 16, 1.0));
    write_npy(&held, &[1000, 16], &normal(2, 1000, 16, 1.0));
    (calib, held)
}

fn lut_dsp(estimate_json: &str) -> u64 {
    let v: Value = serde_json::from_str(estimate_json).unwrap();
    v["total"]["lut"].as_u64().unwrap() + v["total"]["dsp"].as_u64().unwrap()
}

#[test]
fn auto_precision_without_overflow_is_accurate_cheaper_and_read_back_by_compile() {
    let tmp = tempfile::tempdir().unwrap();
    let (calib, _) = mlp_sets(tmp.path());
    let (cfg, out) = (tmp.path().join("auto.yml"), tmp.path().join("auto.json"));
    let args =
        ["profile", MLP, "--input", s(&calib), "--part", "xcvu9p", "--auto-precision", "--max-overflow", "0"];
    let printed = run_ok(&[&args[..], &["--write-config", s(&cfg), "--json", s(&out)]].concat());
    assert!(printed.contains("automatic precision"), "{printed}");
    let p = json(&out);
    let auto = &p["auto"];
    assert_eq!(auto["overflows"], 0);
    assert_eq!(value_overflows(&p), 0, "the chosen types' own profile");
    assert!(auto["agreement"]["argmax"].as_f64().unwrap() >= 0.99, "{auto}");

    // Checked again from the written file alone.
    let check = tmp.path().join("check.json");
    run_ok(&["profile", MLP, "--input", s(&calib), "--config", s(&cfg), "--json", s(&check)]);
    let c = json(&check);
    assert_eq!(value_overflows(&c), 0);
    assert!(c["agreement"]["argmax"].as_f64().unwrap() >= 0.99);

    // Cheaper than uniform ap_fixed<16,6>: the default (AP_RND, AP_SAT) and hls4ml's (AP_TRN, AP_WRAP).
    let chosen = run_ok(&["-q", "estimate", MLP, "--part", "xcvu9p", "--config", s(&cfg), "--json"]);
    for precision in [None, Some("ap_fixed<16,6>")] {
        let mut args = vec!["-q", "estimate", MLP, "--part", "xcvu9p", "--json"];
        args.extend(precision.iter().flat_map(|p| ["--precision", *p]));
        let uniform = run_ok(&args);
        assert!(
            lut_dsp(&chosen) < lut_dsp(&uniform),
            "chosen {} vs {precision:?} {}",
            lut_dsp(&chosen),
            lut_dsp(&uniform)
        );
    }
    assert_eq!(
        auto["after"]["lut"].as_u64().unwrap() + auto["after"]["dsp"].as_u64().unwrap(),
        lut_dsp(&chosen)
    );

    // compile --config applies every chosen type; the project carries report.html.
    let project = tmp.path().join("prj");
    run_ok(&[
        "-q",
        "compile",
        MLP,
        "--part",
        "xcvu9p",
        "--config",
        s(&cfg),
        "-o",
        s(&project),
        "--tb-samples",
        "20",
    ]);
    assert!(project.join("report.html").is_file());
    let inspect = run_ok(&["-q", "inspect", MLP, "--config", s(&cfg)]);
    let choices = auto["choices"].as_array().unwrap();
    assert!(!choices.is_empty());
    for c in choices {
        let (layer, ty) = (c["layer"].as_str().unwrap(), c["ty"].as_str().unwrap());
        let row = inspect.lines().find(|l| l.split_whitespace().next() == Some(layer)).unwrap();
        let want = match c["tensor"].as_str().unwrap() {
            "weight" => format!("weights:{ty}"),
            "bias" => format!("bias:{ty}"),
            _ => ty.to_string(),
        };
        assert!(row.split_whitespace().any(|w| w == want), "{layer}: {want} not in {row}");
    }
}

#[test]
fn target_accuracy_holds_on_a_held_out_set() {
    let tmp = tempfile::tempdir().unwrap();
    let (calib, held) = mlp_sets(tmp.path());
    let cfg = tmp.path().join("auto.yml");
    run_ok(&[
        "profile",
        MLP,
        "--input",
        s(&calib),
        "--auto-precision",
        "--target-accuracy",
        "0.99",
        "--write-config",
        s(&cfg),
    ]);
    let out = tmp.path().join("held.json");
    run_ok(&["profile", MLP, "--input", s(&held), "--config", s(&cfg), "--json", s(&out)]);
    let a = json(&out)["agreement"]["argmax"].as_f64().unwrap();
    assert!(a >= 0.99, "held-out argmax agreement {a}");
}

#[test]
fn auto_precision_keeps_the_types_a_quantized_model_fixes() {
    let tmp = tempfile::tempdir().unwrap();
    let calib = tmp.path().join("calib.npy");
    write_npy(&calib, &[500, 16], &normal(5, 500, 16, 1.0));
    let (cfg, out) = (tmp.path().join("auto.yml"), tmp.path().join("auto.json"));
    run_ok(&[
        "profile",
        QKERAS_MLP,
        "--input",
        s(&calib),
        "--part",
        "xcvu9p",
        "--auto-precision",
        "--write-config",
        s(&cfg),
        "--json",
        s(&out),
    ]);
    let p = json(&out);
    for c in p["auto"]["choices"].as_array().unwrap() {
        let layer = c["layer"].as_str().unwrap();
        let l = p["layers"].as_array().unwrap().iter().find(|l| l["name"] == layer).unwrap();
        assert_eq!(l["type_from_model"], false, "{layer} is typed by the model");
        assert!(!["relu1", "relu2"].contains(&layer), "{layer}");
        // fc1 and fc2 are QDense layers whose quantizers fix the constants ('output' is a Dense).
        let constant = matches!(c["tensor"].as_str(), Some("weight" | "bias"));
        assert!(!(constant && ["fc1", "fc2"].contains(&layer)), "{c}: QKeras fixes the constants");
    }
    assert_eq!(p["auto"]["overflows"], 0);
    let before = &p["auto"]["before"];
    let after = &p["auto"]["after"];
    let cost = |c: &Value| c["lut"].as_u64().unwrap() + c["dsp"].as_u64().unwrap();
    assert!(cost(after) <= cost(before));
}

#[test]
fn a_config_naming_a_missing_layer_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let calib = tmp.path().join("calib.npy");
    write_npy(&calib, &[10, 16], &normal(3, 10, 16, 1.0));
    let cfg = tmp.path().join("bad.yml");
    std::fs::write(&cfg, "LayerName:\n  nope:\n    Precision: ap_fixed<8,3>\n").unwrap();
    let o = hls_gen(&["profile", MLP, "--input", s(&calib), "--config", s(&cfg)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("nope"), "{}", text(&o));
}

#[test]
fn html_report_renders_in_headless_chromium_with_the_json_numbers() {
    let chromium = Command::new("sh").args(["-c", "command -v chromium"]).output().unwrap();
    if !chromium.status.success() {
        println!("skipped: chromium is not installed (CI installs it: apt-get install chromium)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (calib, _) = mlp_sets(tmp.path());
    let (page, out) = (tmp.path().join("report.html"), tmp.path().join("report.json"));
    run_ok(&[
        "profile",
        MLP,
        "--input",
        s(&calib),
        "--part",
        "xcvu9p",
        "--html",
        s(&page),
        "--json",
        s(&out),
    ]);
    let dom = Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(dom.status.success(), "{}", String::from_utf8_lossy(&dom.stderr));
    let dom = String::from_utf8(dom.stdout).unwrap();
    assert!(dom.contains("</html>"), "the page did not load");
    let p = json(&out);
    let layers = p["layers"].as_array().unwrap();
    assert_eq!(dom.matches("<svg class=\"ranges\"").count(), layers.len(), "one plot per layer");
    assert_eq!(dom.matches("<section class=\"layer\"").count(), layers.len());
    // Every tensor row, in order, carries the JSON's numbers.
    let tensors: Vec<&Value> = layers.iter().flat_map(|l| l["tensors"].as_array().unwrap()).collect();
    for (class, key) in
        [("min", "min"), ("max", "max"), ("float-min", "float_min"), ("float-max", "float_max")]
    {
        let shown = cells(&dom, class);
        assert_eq!(shown.len(), tensors.len(), "{class} cells");
        for (text, t) in shown.iter().zip(&tensors) {
            match t[key].as_f64() {
                // Parsed by the same (serde_json) reader as the JSON's numbers.
                Some(v) => {
                    assert_eq!(serde_json::from_str::<f64>(text).unwrap(), v, "{class} of {}", t["tensor"])
                }
                None => assert!(text.is_empty()),
            }
        }
    }
    let shown = cells(&dom, "overflows");
    let flagged = cells(&dom, "overflows bad");
    assert_eq!(shown.len() + flagged.len(), tensors.len());
    let total: u64 = p["overflows"].as_array().unwrap().iter().map(|o| o["count"].as_u64().unwrap()).sum();
    assert!(dom.contains(&format!("<span id=\"overflow-total\">{total}</span>")));
    let luts: Vec<u64> = cells(&dom, "lut").iter().map(|t| t.parse().unwrap()).collect();
    let json_luts: Vec<u64> = layers.iter().filter_map(|l| l["cost"]["lut"].as_u64()).collect();
    assert_eq!(luts[..json_luts.len()], json_luts[..]);
    assert_eq!(luts[json_luts.len()], p["cost"]["lut"].as_u64().unwrap(), "total row");
    assert!(!dom.contains("<script"), "no script in the page");
}

/// The accumulator statistics taken from the simulator's exact Dense sums equal those the
/// profile computes itself in `f64` from the traced inputs, on models whose Dense layers run
/// the `i16`, `f64` and sparse kernels; a layer whose kernel casts every step gives no sums.
#[test]
fn accumulators_from_the_simulated_sums_equal_the_computed_ones() {
    let big = "tests/models/onnx/mlp_big.onnx";
    let tmp = tempfile::tempdir().unwrap();
    let narrow = tmp.path().join("narrow.yml");
    let yaml =
        "HLSConfig:\n  LayerType:\n    Dense:\n      Precision: {accum: \"ap_fixed<14,6,AP_RND,AP_SAT>\"}\n";
    std::fs::write(&narrow, yaml).unwrap();
    // (model, precision, pruning threshold, configuration, a kernel one of the Dense layers
    // runs; `None`: all cast every step)
    let cases = [
        (MLP, None, None, None, Some("exact i16 madd")),
        (big, None, None, None, Some("exact i16 madd")),
        (MLP, Some("ap_fixed<24,10>"), None, None, Some("exact f64 gemm")),
        (MLP, None, Some(0.3), None, Some("exact sparse f64")),
        (MLP, None, None, Some(narrow), None),
    ];
    for (model, ty, prune_below, config, kernel) in cases {
        let precision = ty.map(|t| t.parse().unwrap());
        let opts = FlowOptions { precision, prune_below, config, ..FlowOptions::default() };
        let g = flow::load_and_lower(&root().join(model), &opts).unwrap().graph;
        let sim = Simulator::new(&g).unwrap();
        let dense: Vec<String> =
            sim.kernels().into_iter().filter(|(_, k)| k.starts_with("dense")).map(|(_, k)| k).collect();
        let expected = match kernel {
            Some(k) => {
                assert!(
                    dense.iter().any(|d| d.starts_with(&format!("dense: {k}"))),
                    "{model} {ty:?}: {dense:?}"
                );
                assert!(dense.iter().all(|d| !d.contains("sequential")), "{model} {ty:?}: {dense:?}");
                dense.len()
            }
            None => {
                assert!(dense.iter().all(|d| d.contains("sequential")), "{model} {ty:?}: {dense:?}");
                0
            }
        };
        let n = 64;
        let x = normal(5, n, sim.input_elements(), 1.5);
        let run =
            |dense_sums| sim.run(&x, n, &RunOptions { trace: true, dense_sums, progress: None }).unwrap();
        let (with, without) = (run(true), run(false));
        assert_eq!(with.dense_sums.as_ref().map(Vec::len), Some(expected), "{model} {ty:?}");
        assert!(without.dense_sums.is_none());
        let a = hls_gen::profile::assemble("m", &g, None, &with, None, n);
        let b = hls_gen::profile::assemble("m", &g, None, &without, None, n);
        assert_eq!(a, b, "{model} {ty:?}");
        let acc: Vec<_> =
            a.layers.iter().flat_map(|l| &l.tensors).filter(|t| t.tensor == "accumulator").collect();
        assert!(acc.len() == dense.len() && acc.iter().all(|t| t.values > 0), "{model} {ty:?}");
    }
}
