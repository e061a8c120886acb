//! The `hls-gen` binary as users run it: exit codes, messages that name the file and node, output
//! directories that appear complete or not at all, and byte-identical output on re-runs.

use std::path::{Path, PathBuf};

mod common;

use common::bin::{hls_gen, root, text};

fn model(name: &str) -> String {
    root().join("tests/models").join(name).display().to_string()
}

fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn compile_writes_a_deterministic_project_and_refuses_to_overwrite() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    let m = model("onnx/mlp_float.onnx");
    for dir in [&a, &b] {
        let o =
            hls_gen(&["compile", &m, "--part", "xcvu9p", "-o", dir.to_str().unwrap(), "--tb-samples", "50"]);
        assert!(o.status.success(), "{}", text(&o));
        assert!(text(&o).contains("latency"), "{}", text(&o));
    }
    let fa = files(&a);
    assert_eq!(fa, files(&b), "two runs wrote different files");
    let names: Vec<String> = fa.iter().map(|(p, _)| p.display().to_string()).collect();
    for expected in [
        "firmware/myproject.cpp",
        "firmware/myproject.h",
        "firmware/defines.h",
        "firmware/parameters.h",
        "myproject_test.cpp",
        "tb_data/inputs.txt",
        "tb_data/expected.txt",
        "build_prj.tcl",
        "vivado_synth.tcl",
        "hls_config.yml",
        "report.json",
        "report.md",
        "README.md",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected} missing from {names:?}");
    }
    let inputs =
        String::from_utf8(fa.iter().find(|(p, _)| p.ends_with("tb_data/inputs.txt")).unwrap().1.clone())
            .unwrap();
    assert_eq!(inputs.lines().count(), 50);

    let o = hls_gen(&["compile", &m, "--part", "xcvu9p", "-o", a.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("not empty") && text(&o).contains("force"), "{}", text(&o));
    let o = hls_gen(&[
        "compile",
        &m,
        "--part",
        "xcvu9p",
        "-o",
        a.to_str().unwrap(),
        "--force",
        "--tb-samples",
        "50",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(files(&a), fa);
}

#[test]
fn force_replaces_only_a_project_hls_gen_wrote_and_never_an_input() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    std::fs::create_dir(&work).unwrap();
    std::fs::write(work.join("notes.txt"), "mine").unwrap();
    let m = model("onnx/mlp_float.onnx");
    let o = hls_gen(&["compile", &m, "--part", "xcvu9p", "-o", work.to_str().unwrap(), "--force"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("is not a project hls-gen wrote"), "{}", text(&o));
    assert_eq!(std::fs::read(work.join("notes.txt")).unwrap(), b"mine");

    let prj = tmp.path().join("prj");
    let o = hls_gen(&["compile", &m, "--part", "xcvu9p", "-o", prj.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let inside = prj.join("model.onnx");
    std::fs::copy(&m, &inside).unwrap();
    let o = hls_gen(&[
        "compile",
        inside.to_str().unwrap(),
        "--part",
        "xcvu9p",
        "-o",
        prj.to_str().unwrap(),
        "--force",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("lies inside the output directory"), "{}", text(&o));
    assert!(inside.is_file());
}

#[test]
fn mistakes_around_a_project_get_errors_that_say_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let m = model("onnx/mlp_float.onnx");
    let input = root().join("golden/reference/merge_two_inputs/inputs.npy");
    let missing = tmp.path().join("nod/y.npy");
    let o = hls_gen(&["sim", &m, "--input", input.to_str().unwrap(), "--output", missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("nod' does not exist") && !text(&o).contains(".hls-gen-"), "{}", text(&o));

    let rtl = tmp.path().join("rtl");
    let o = hls_gen(&["compile", &m, "--part", "xcvu9p", "--backend", "rtl", "-o", rtl.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let o = hls_gen(&["csim", rtl.to_str().unwrap(), "--ap-types", tmp.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("run `hls-gen rtlsim` on it"), "{}", text(&o));
    let both =
        ["compile", &m, "--part", "xcvu9p", "--tb-input", input.to_str().unwrap(), "--tb-samples", "5"];
    let o = hls_gen(&both);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("cannot be used with"), "{}", text(&o));
    let o = hls_gen(&["report", rtl.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("synthesizes its Verilog with Yosys"), "{}", text(&o));

    let vitis = tmp.path().join("vitis");
    let o = hls_gen(&["compile", &m, "--part", "xcvu9p", "-o", vitis.to_str().unwrap(), "--tb-samples", "5"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = hls_gen(&["csim", vitis.to_str().unwrap(), "--ap-types", tmp.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("--ap-types") && text(&o).contains("holds no ap_fixed.h"), "{}", text(&o));
}

#[test]
fn a_failed_compile_leaves_no_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("prj");
    let o = hls_gen(&[
        "compile",
        &model("bad/nan_weights.onnx"),
        "--part",
        "xcvu9p",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!out.exists());
    let o =
        hls_gen(&["compile", &model("onnx/mlp_float.onnx"), "--part", "xcvu99", "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let t = text(&o);
    assert!(t.contains("xcvu99") && t.contains("xcvu9p") && t.contains("xcku115"), "{t}");
    assert!(!out.exists());
}

#[test]
fn bad_models_give_named_errors_and_never_panic() {
    let bad = root().join("tests/models/bad");
    for entry in std::fs::read_dir(&bad).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().and_then(|e| e.to_str()) != Some("onnx") {
            continue;
        }
        let o = hls_gen(&["inspect", p.to_str().unwrap()]);
        let t = text(&o);
        assert!(!t.contains("panicked"), "{}: {t}", p.display());
        if p.file_stem().unwrap() == "zero_dim" {
            continue;
        }
        assert_eq!(o.status.code(), Some(1), "{}: {t}", p.display());
        assert!(t.starts_with("error: ") && t.contains(p.file_name().unwrap().to_str().unwrap()), "{t}");
    }
    let t = text(&hls_gen(&["inspect", &model("bad/unsupported_ops.onnx")]));
    for node in [
        "sequential/lstm/PartitionedCall/LSTM",
        "sequential/top_k/TopKV2",
        "sequential/nms/NonMaxSuppressionV5",
    ] {
        assert!(t.contains(node), "{t}");
    }
    let t = text(&hls_gen(&["inspect", &model("bad/nan_weights.onnx")]));
    assert!(t.contains("dense/MatMul"), "{t}");
}

#[test]
fn inspect_and_dump_ir() {
    let o = hls_gen(&["inspect", &model("onnx/mlp_float.onnx"), "--dump-ir-after", "fuse-bias"]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("# IR after fuse-bias") && t.contains("sequential/dense/MatMul") && t.contains("MACs"),
        "{t}"
    );
    let o = hls_gen(&["inspect", &model("onnx/mlp_float.onnx"), "--reuse-factor", "7"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("nearest legal values"), "{}", text(&o));
}

#[test]
fn sim_writes_exact_outputs_and_an_overflow_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("y.npy");
    let trace = tmp.path().join("trace");
    let input = root().join("golden/reference/mlp_float/inputs.npy");
    let o = hls_gen(&[
        "sim",
        &model("onnx/mlp_float.onnx"),
        "--input",
        input.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "--trace",
        trace.to_str().unwrap(),
    ]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("overflows") && t.contains("input_1"), "{t}");
    let bytes = std::fs::read(&out).unwrap();
    let f = npyz::NpyFile::new(&bytes[..]).unwrap();
    assert_eq!(f.shape(), &[1000, 5]);
    let y: Vec<f64> = f.into_vec().unwrap();
    assert!(
        y.iter().all(|v| (v * 65536.0).fract() == 0.0),
        "softmax outputs are exact ap_ufixed<16,0> values"
    );
    assert!(std::fs::read_dir(&trace).unwrap().count() >= 8);
    // Every traced file is named in layers.tsv beside the layer it holds.
    let index = std::fs::read_to_string(trace.join("layers.tsv")).unwrap();
    let lines: Vec<&str> = index.lines().skip(1).collect();
    assert_eq!(lines.len() + 1, std::fs::read_dir(&trace).unwrap().count(), "{index}");
    for line in lines {
        let (file, layer) = line.split_once('\t').unwrap();
        assert!(trace.join(file).is_file() && !layer.is_empty(), "{line}");
    }
}

/// A model with two inputs takes one `--input` per model input, in order, and the same files as
/// testbench inputs; the simulated outputs equal the project's expected vectors.
#[test]
fn several_model_inputs_take_one_file_each() {
    let tmp = tempfile::tempdir().unwrap();
    let m = model("onnx/merge_two_inputs.onnx");
    let dir = root().join("golden/reference/merge_two_inputs");
    let (a, b) = (dir.join("inputs.npy"), dir.join("inputs_1.npy"));
    let out = tmp.path().join("y.npy");
    let (a, b, y) = (a.to_str().unwrap(), b.to_str().unwrap(), out.to_str().unwrap());
    let o = hls_gen(&["sim", &m, "--input", a, "--input", b, "--output", y]);
    assert!(o.status.success(), "{}", text(&o));
    let bytes = std::fs::read(&out).unwrap();
    let f = npyz::NpyFile::new(&bytes[..]).unwrap();
    assert_eq!(f.shape(), &[1000, 5]);

    let o = hls_gen(&["sim", &m, "--input", a, "--output", y]);
    assert_eq!(o.status.code(), Some(1));
    let t = text(&o);
    assert!(t.contains("2 input(s) ('x_jets', 'x_tracks')") && t.contains("1 input array"), "{t}");
    let o = hls_gen(&["sim", &m, "--input", b, "--input", a, "--output", y]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("inputs_1.npy") && text(&o).contains("input 'x_jets', of shape [16]"),
        "{}",
        text(&o)
    );

    let prj = tmp.path().join("prj");
    let o = hls_gen(&[
        "compile",
        &m,
        "--part",
        "xcvu9p",
        "-o",
        prj.to_str().unwrap(),
        "--tb-input",
        a,
        "--tb-input",
        b,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let lines = std::fs::read_to_string(prj.join("tb_data/inputs.txt")).unwrap();
    assert_eq!(lines.lines().count(), 1000);
    assert!(lines.lines().all(|l| l.split(' ').count() == 24));
    let header = std::fs::read_to_string(prj.join("firmware/myproject.h")).unwrap();
    assert!(header.contains("const x_jets_t x_jets[16], const x_tracks_t x_tracks[8]"), "{header}");
}

#[test]
fn estimate_prints_one_row_per_reuse_factor_and_json() {
    let o =
        hls_gen(&["estimate", &model("onnx/mlp_float.onnx"), "--part", "xcku115", "--reuse-factor", "1,2,4"]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert_eq!(t.lines().filter(|l| l.trim_start().starts_with(['1', '2', '4'])).count(), 3, "{t}");
    // A factor a layer cannot take fills its own row with the error; the others are estimated.
    let o =
        hls_gen(&["estimate", &model("onnx/mlp_float.onnx"), "--part", "xcvu9p", "--reuse-factor", "1,3"]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.lines().any(|l| l.trim_start().starts_with("1 ")), "{t}");
    assert!(t.lines().any(|l| l.trim_start().starts_with("3 layer '") && l.contains("not legal")), "{t}");
    let o =
        hls_gen(&["estimate", &model("onnx/mlp_float.onnx"), "--part", "xcvu9p", "--reuse-factor", "3,5"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let o = hls_gen(&["estimate", &model("onnx/mlp_float.onnx"), "--part", "xcvu9p", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    for key in ["latency_cycles", "latency_ns", "ii", "dsp", "lut", "ff", "bram18"] {
        assert!(v["total"][key].is_number(), "total.{key} missing");
    }
    assert!(v["layers"].as_array().is_some_and(|l| !l.is_empty()));
}

#[test]
fn keras_models_compile() {
    let tmp = tempfile::tempdir().unwrap();
    for m in ["keras/qkeras_mlp.json", "keras/keras_mlp.keras"] {
        let out = tmp.path().join(m.replace('/', "_"));
        let o = hls_gen(&[
            "compile",
            &model(m),
            "--part",
            "xczu9eg",
            "-o",
            out.to_str().unwrap(),
            "--tb-samples",
            "20",
        ]);
        assert!(o.status.success(), "{m}: {}", text(&o));
    }
}

/// What the RTL backend cannot build with a reuse factor above 1 is refused by name, with exit
/// status 1 and no project: a convolution whose window the reuse factor does not divide. With
/// `--clock-period`, time-multiplexed layers keep their cycles and the report says whether their
/// stage meets the period.
#[test]
fn rtl_reuse_factors_it_cannot_build_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("prj");
    let dir = out.to_str().unwrap();
    let base = ["--backend", "rtl", "--part", "xcvu9p", "-o", dir];
    let o =
        hls_gen(&[&["compile", &model("onnx/cnn_qonnx.onnx"), "--reuse-factor", "7"][..], &base].concat());
    assert_eq!(o.status.code(), Some(1));
    let t = text(&o);
    assert!(t.contains("'/conv/Conv'") && t.contains("18 window inputs") && t.contains("6, 9"), "{t}");
    assert!(!t.contains("panicked") && !out.exists(), "{t}");
    let o = hls_gen(
        &[&["compile", &model("onnx/mlp_qdq.onnx"), "--reuse-factor", "2", "--clock-period", "5"][..], &base]
            .concat(),
    );
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("MISSES the 5 ns target")
            && t.contains("critical stage 'sequential/dense_1/MatMul_quant'"),
        "{t}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!((report["timing"]["met"].as_bool(), report["total"]["ii"].as_u64()), (Some(false), Some(2)));
}

#[test]
fn the_help_lists_every_pass_dump_ir_after_takes() {
    let o = hls_gen(&["compile", "--help"]);
    let help = text(&o).replace('\n', " ");
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    let at = help.find("--dump-ir-after <PASS>").expect("--dump-ir-after in the help");
    let line = help[at..].split(" --").next().unwrap_or_default();
    let listed: Vec<&str> =
        line.rsplit("): ").next().unwrap_or_default().trim_end_matches('.').split(", ").collect();
    assert_eq!(listed, hls_gen::passes::pipeline("default").unwrap(), "{line}");
}
