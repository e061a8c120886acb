//! `--io-type io_stream` as users run it: the FIFO depths in report.json and in the emitted
//! `#pragma HLS STREAM`s agree, `--fifo-depth` auto/max/N behave as documented, the YAML
//! `IOType` key and its CLI override, the RTL backend's refusal, `estimate`, and C simulation of
//! the streamed projects when the ap_types headers are available.

use std::path::Path;
use std::process::Output;

mod common;

use common::bin::{hls_gen, root, text};
use serde_json::Value;

fn model(name: &str) -> String {
    root().join("tests/models/onnx").join(name).display().to_string()
}

/// `hls-gen compile MODEL --part xcvu9p -o OUT EXTRA...` with a small testbench.
fn compile(model_name: &str, out: &Path, extra: &[&str]) -> Output {
    let m = model(model_name);
    let mut args =
        vec!["compile", &m, "--part", "xcvu9p", "-o", out.to_str().unwrap(), "--tb-samples", "100"];
    args.extend_from_slice(extra);
    hls_gen(&args)
}

fn compile_ok(model_name: &str, out: &Path, extra: &[&str]) -> Value {
    let o = compile(model_name, out, extra);
    assert!(o.status.success(), "{model_name} {extra:?}: {}", text(&o));
    report(out)
}

fn report(dir: &Path) -> Value {
    let bytes = std::fs::read(dir.join("report.json")).expect("report.json");
    serde_json::from_slice(&bytes).expect("report.json parses")
}

fn estimate_json(model_name: &str, extra: &[&str]) -> Value {
    let m = model(model_name);
    let mut args = vec!["estimate", &m, "--part", "xcvu9p", "--json"];
    args.extend_from_slice(extra);
    let o = hls_gen(&args);
    assert!(o.status.success(), "{}", text(&o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("estimate --json: {e}: {}", text(&o)))
}

fn u(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("{key} is not an unsigned integer in {v}"))
}

fn fifos(r: &Value) -> &Vec<Value> {
    let f = r["stream"]["fifos"].as_array().unwrap_or_else(|| panic!("no stream.fifos in {}", r["stream"]));
    assert!(!f.is_empty(), "an io_stream design has FIFOs between its layers");
    f
}

fn latency_ii(r: &Value) -> (u64, u64) {
    (u(&r["total"], "latency_cycles"), u(&r["total"], "ii"))
}

/// The stream sums are the sums over the FIFOs of `memory` and `max_memory`.
fn check_sums(r: &Value) {
    let s = &r["stream"];
    let f = fifos(r);
    for (sum, part, key) in [
        ("fifo_bits", "memory", "bits"),
        ("fifo_lut", "memory", "lut"),
        ("fifo_bram18", "memory", "bram18"),
        ("max_fifo_bits", "max_memory", "bits"),
        ("max_fifo_lut", "max_memory", "lut"),
        ("max_fifo_bram18", "max_memory", "bram18"),
    ] {
        let total: u64 = f.iter().map(|x| u(&x[part], key)).sum();
        assert_eq!(u(s, sum), total, "stream.{sum} is not the sum of fifos[].{part}.{key}");
    }
    for x in f {
        assert_eq!(u(&x["memory"], "bits"), u(x, "width") * u(x, "depth"), "memory.bits of {x}");
        let max_depth = u(x, "transfers").max(u(x, "occupancy"));
        assert_eq!(u(&x["max_memory"], "bits"), u(x, "width") * max_depth, "max_memory.bits of {x}");
    }
}

/// The depth of every `#pragma HLS STREAM variable=V depth=N` in the top function, in order.
fn pragma_depths(cpp: &str) -> Vec<(String, u64)> {
    cpp.lines()
        .filter_map(|l| l.trim().strip_prefix("#pragma HLS STREAM "))
        .map(|rest| {
            let mut var = None;
            let mut depth = None;
            for kv in rest.split_whitespace() {
                if let Some(v) = kv.strip_prefix("variable=") {
                    var = Some(v.to_string());
                } else if let Some(d) = kv.strip_prefix("depth=") {
                    depth = Some(d.parse::<u64>().unwrap_or_else(|e| panic!("depth in '{rest}': {e}")));
                }
            }
            (var.unwrap_or_else(|| panic!("no variable= in '{rest}'")), depth.expect("depth="))
        })
        .collect()
}

/// The project is an io_stream one and its pragmas carry report.json's depths.
fn check_stream_project(dir: &Path, r: &Value) {
    let cfg = std::fs::read_to_string(dir.join("hls_config.yml")).unwrap();
    assert!(cfg.lines().any(|l| l.trim() == "IOType: io_stream"), "{cfg}");
    let cpp = std::fs::read_to_string(dir.join("firmware/myproject.cpp")).unwrap();
    assert_eq!(cpp.matches("#pragma HLS DATAFLOW").count(), 1, "{cpp}");
    let top = cpp.lines().find(|l| l.starts_with("void myproject(")).expect("top function");
    assert!(top.contains("hls::stream<") && top.contains("_pixel_t> &"), "{top}");
    let pragmas = pragma_depths(&cpp);
    let f = fifos(r);
    assert_eq!(pragmas.len(), f.len(), "one STREAM pragma per FIFO: {pragmas:?}");
    let want: Vec<u64> = f.iter().map(|x| u(x, "depth")).collect();
    let got: Vec<u64> = pragmas.iter().map(|(_, d)| *d).collect();
    assert_eq!(got, want, "pragma depths {pragmas:?}");
    let mut vars: Vec<&String> = pragmas.iter().map(|(v, _)| v).collect();
    vars.sort();
    vars.dedup();
    assert_eq!(vars.len(), pragmas.len(), "each FIFO has its own variable: {pragmas:?}");
    for (v, _) in &pragmas {
        assert!(cpp.contains(&format!("> {v}(\"{v}\");")), "no hls::stream declaration of {v}");
    }
}

fn csim(dir: &Path) {
    let Some(ap) = common::ap_types() else { return };
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_hls-gen"))
        .args(["csim", dir.to_str().unwrap()])
        .env("HLS_GEN_AP_TYPES", ap)
        .current_dir(root())
        .output()
        .expect("runs");
    let t = text(&o);
    assert!(o.status.success() && t.contains("csim PASSED"), "{t}");
}

#[test]
fn cnn2d_streams_with_auto_depths_that_match_the_pragmas_and_simulates() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("prj");
    let r = compile_ok("cnn2d.onnx", &dir, &["--io-type", "io_stream"]);
    assert_eq!(r["stream"]["fifo_depth"], "auto");
    for x in fifos(&r) {
        let (t, occ, d) = (u(x, "transfers"), u(x, "occupancy"), u(x, "depth"));
        assert!(x["name"].as_str().is_some_and(|n| n.contains(" -> ")), "{x}");
        assert_eq!(d, occ.max(1), "auto depth is the peak occupancy: {x}");
        assert!(d >= 1 && d <= t, "depth within 1..=transfers: {x}");
    }
    check_sums(&r);
    check_stream_project(&dir, &r);
    csim(&dir);
}

#[test]
fn max_depths_equal_the_transfers_and_cost_no_latency() {
    let tmp = tempfile::tempdir().unwrap();
    let auto = compile_ok("cnn2d.onnx", &tmp.path().join("auto"), &["--io-type", "io_stream"]);
    let dir = tmp.path().join("max");
    let max = compile_ok("cnn2d.onnx", &dir, &["--io-type", "io_stream", "--fifo-depth", "max"]);
    assert_eq!(max["stream"]["fifo_depth"], "max");
    for x in fifos(&max) {
        assert_eq!(u(x, "depth"), u(x, "transfers"), "{x}");
        assert_eq!(x["memory"], x["max_memory"], "{x}");
    }
    assert_eq!(u(&max["stream"], "max_fifo_bits"), u(&max["stream"], "fifo_bits"));
    assert_eq!(u(&max["stream"], "max_fifo_bits"), u(&auto["stream"], "max_fifo_bits"));
    assert!(u(&auto["stream"], "fifo_bits") < u(&auto["stream"], "max_fifo_bits"));
    check_sums(&max);
    check_stream_project(&dir, &max);
    assert_eq!(latency_ii(&max), latency_ii(&auto), "the auto depths never block");
}

#[test]
fn depth_one_is_slower_and_bad_depths_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let auto = estimate_json("svhn_cnn.onnx", &["--io-type", "io_stream"]);
    let dir = tmp.path().join("one");
    let o = compile("svhn_cnn.onnx", &dir, &["--io-type", "io_stream", "--fifo-depth", "1"]);
    let t = text(&o);
    // Depth 1 everywhere does not deadlock this model; it only stalls the pipeline.
    assert!(o.status.success() && !t.to_lowercase().contains("deadlock"), "{t}");
    let one = report(&dir);
    assert_eq!(one["stream"]["fifo_depth"], "1");
    assert!(fifos(&one).iter().all(|x| u(x, "depth") == 1), "{}", one["stream"]);
    check_stream_project(&dir, &one);
    let ((l1, ii1), (la, iia)) = (latency_ii(&one), latency_ii(&auto));
    assert!(l1 > la && ii1 > iia, "depth 1: latency {l1} II {ii1}; auto: latency {la} II {iia}");

    for bad in ["0", "abc"] {
        let out = tmp.path().join(format!("bad_{bad}"));
        let o = compile("cnn2d.onnx", &out, &["--io-type", "io_stream", "--fifo-depth", bad]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(
            e.contains(&format!("invalid value '{bad}' for '--fifo-depth"))
                && e.contains("auto, max or a number"),
            "{e}"
        );
        assert!(!out.exists());
    }
}

#[test]
fn the_config_file_sets_io_stream_and_the_flag_overrides_it() {
    let tmp = tempfile::tempdir().unwrap();
    let good = tmp.path().join("stream.yml");
    std::fs::write(&good, "IOType: io_stream\nModel:\n  Precision: ap_fixed<16,6>\n  ReuseFactor: 1\n")
        .unwrap();
    let bogus = tmp.path().join("bogus.yml");
    std::fs::write(&bogus, "IOType: io_bogus\nModel:\n  ReuseFactor: 1\n").unwrap();

    let dir = tmp.path().join("from_file");
    let r = compile_ok("cnn2d.onnx", &dir, &["--config", good.to_str().unwrap()]);
    assert_eq!(r["stream"]["fifo_depth"], "auto");
    check_stream_project(&dir, &r);

    let out = tmp.path().join("bogus");
    let o = compile("cnn2d.onnx", &out, &["--config", bogus.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains(bogus.to_str().unwrap()) && t.contains("'io_bogus' is not an IOType"), "{t}");
    assert!(!out.exists());

    let dir = tmp.path().join("overridden");
    let r = compile_ok("cnn2d.onnx", &dir, &["--config", good.to_str().unwrap(), "--io-type", "io_parallel"]);
    assert!(r.get("stream").is_none(), "io_parallel has no stream section: {}", r["stream"]);
    let cfg = std::fs::read_to_string(dir.join("hls_config.yml")).unwrap();
    assert!(cfg.lines().any(|l| l.trim() == "IOType: io_parallel"), "{cfg}");
    let cpp = std::fs::read_to_string(dir.join("firmware/myproject.cpp")).unwrap();
    assert!(!cpp.contains("hls::stream") && !cpp.contains("#pragma HLS STREAM"), "{cpp}");
}

#[test]
fn the_rtl_backend_streams_and_places_registers_by_period_only_in_io_parallel() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("stream.yml");
    std::fs::write(&cfg, "IOType: io_stream\n").unwrap();
    for (k, extra) in
        [vec!["--io-type", "io_stream"], vec!["--config", cfg.to_str().unwrap()]].iter().enumerate()
    {
        let out = tmp.path().join(format!("rtl{k}"));
        let mut args = vec!["--backend", "rtl"];
        args.extend_from_slice(extra);
        let r = compile_ok("cnn2d.onnx", &out, &args);
        let ii = r["total"]["ii"].as_u64().unwrap();
        assert!(ii >= 10 * 10, "{extra:?}: at most one of the 10x10 input pixels per cycle, II {ii}");
        assert!(out.join("rtl/myproject__fifo.v").exists(), "{extra:?}: the layers are joined by FIFOs");

        let out = tmp.path().join(format!("timed{k}"));
        args.extend_from_slice(&["--clock-period", "5"]);
        let o = compile("cnn2d.onnx", &out, &args);
        assert_eq!(o.status.code(), Some(1), "{extra:?}: {}", text(&o));
        let t = text(&o);
        assert!(
            t.contains("error: ") && t.contains("--clock-period places registers in io_parallel RTL designs"),
            "{t}"
        );
        assert!(!out.exists(), "{extra:?} left {}", out.display());
    }
}

#[test]
fn estimate_streams_svhn_one_pixel_per_cycle() {
    let auto = estimate_json("svhn_cnn.onnx", &["--io-type", "io_stream"]);
    let (latency, ii) = latency_ii(&auto);
    assert_eq!(ii, 32 * 32, "one input pixel per cycle");
    assert!((1000..=1200).contains(&latency), "latency {latency}");
    assert_eq!(auto["stream"]["fifo_depth"], "auto");
    check_sums(&auto);
    let max = estimate_json("svhn_cnn.onnx", &["--io-type", "io_stream", "--fifo-depth", "max"]);
    assert_eq!(max["stream"]["fifo_depth"], "max");
    assert!(
        u(&max["stream"], "max_fifo_bits") > u(&auto["stream"], "fifo_bits"),
        "max {} auto {}",
        max["stream"],
        auto["stream"]
    );
    assert_eq!(u(&max["stream"], "fifo_bits"), u(&max["stream"], "max_fifo_bits"));
    assert!(u(&max["total"], "bram18") > u(&auto["total"], "bram18"), "the deep FIFOs take BRAM");
    assert_eq!(latency_ii(&max), (latency, ii));
    // Without the flag the design is io_parallel and has no FIFOs.
    let parallel = estimate_json("svhn_cnn.onnx", &[]);
    assert!(parallel.get("stream").is_none());
}

#[test]
fn an_mlp_streams_each_tensor_as_one_transfer() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("mlp");
    let r = compile_ok("mlp_float.onnx", &dir, &["--io-type", "io_stream"]);
    for x in fifos(&r) {
        assert_eq!(u(x, "transfers"), 1, "{x}");
        assert_eq!(u(x, "depth"), u(x, "occupancy").max(1), "{x}");
    }
    check_sums(&r);
    check_stream_project(&dir, &r);
    csim(&dir);
}

#[test]
fn auto_is_never_deeper_than_max() {
    // A one-pixel tensor streamed every cycle needs two places (its full flag does not see the
    // read of the same cycle), so 'max' is the tensor or that peak, whichever is larger.
    let auto = estimate_json("mlp_float.onnx", &["--io-type", "io_stream"]);
    let max = estimate_json("mlp_float.onnx", &["--io-type", "io_stream", "--fifo-depth", "max"]);
    for (a, m) in fifos(&auto).iter().zip(fifos(&max)) {
        assert!(u(a, "depth") <= u(m, "depth"), "{a} vs {m}");
        assert_eq!(u(m, "depth"), u(m, "transfers").max(u(a, "occupancy")), "{m}");
    }
    assert!(u(&auto["stream"], "fifo_bits") <= u(&auto["stream"], "max_fifo_bits"), "{}", auto["stream"]);
    assert_eq!(latency_ii(&max), latency_ii(&auto), "'max' depths should never block");
}

#[test]
fn stream_latency_covers_reading_the_input() {
    let r = estimate_json("svhn_cnn.onnx", &["--io-type", "io_stream"]);
    let (latency, _) = latency_ii(&r);
    assert!(latency >= 32 * 32, "latency {latency} < 1024 input pixels at one per cycle");
    for layer in r["layers"].as_array().unwrap() {
        let l = u(layer, "latency_cycles");
        assert!(latency >= l, "total latency {latency} < {}'s own {l}", layer["name"]);
    }
}

#[test]
fn fifo_depths_are_refused_for_io_parallel() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("prj");
    let o = compile("cnn2d.onnx", &out, &["--fifo-depth", "max"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("FIFO depths apply to io_stream designs"), "{}", text(&o));
    assert!(!out.exists());
}
