//! hls4ml configuration files used unchanged: files written by hls4ml 1.3.0 itself
//! (`tests/data/hls4ml/written/`, made by `scripts/make_hls4ml_configs.py` with the cleaned models
//! hls4ml converted), a complete `hls4ml_config.yml`, an `HLSConfig:`-rooted file, hls4ml's precision spellings, command-line overrides, one warning
//! per ignored key, and misspelled keys refused with a suggestion.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

use common::bin::{root, text};
use hls_gen::config::Config;
use hls_gen::fixed::FixedType;
use hls_gen::flow::{load_and_lower, FlowOptions};
use hls_gen::ir::{Layer, Strategy};

fn data(name: &str) -> PathBuf {
    root().join("tests/data/hls4ml").join(name)
}

fn model(name: &str) -> PathBuf {
    root().join("tests/models").join(name)
}

/// Runs `hls-gen` in `dir` (where the configuration's relative OutputDir lands).
fn hls_gen_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hls-gen")).args(args).current_dir(dir).output().expect("runs")
}

fn ty(s: &str) -> FixedType {
    s.parse().unwrap()
}

fn lower_with(model_path: &Path, config: &Path) -> hls_gen::flow::Lowered {
    let opts = FlowOptions { config: Some(config.to_path_buf()), ..FlowOptions::default() };
    load_and_lower(model_path, &opts).expect("lowers")
}

#[test]
fn complete_project_config_compiles_unchanged_and_is_honoured() {
    let tmp = tempfile::tempdir().unwrap();
    let m = model("keras/keras_mlp.h5");
    let cfg = data("keras_mlp_hls4ml_config.yml");
    let o = hls_gen_in(
        tmp.path(),
        &["compile", m.to_str().unwrap(), "--config", cfg.to_str().unwrap(), "--tb-samples", "20"],
    );
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    let dir = tmp.path().join("mlp_prj");
    assert!(dir.join("mlp_from_hls4ml_test.cpp").is_file(), "OutputDir and ProjectName: {out}");
    assert!(dir.join("firmware/mlp_from_hls4ml.cpp").is_file());
    let report = std::fs::read_to_string(dir.join("report.json")).unwrap();
    assert!(report.contains("\"part\": \"xcvu9p-flga2104-2L-e\""), "{report}");
    assert!(report.contains("\"clock_ns\": 4.0"), "{report}");
    let tcl = std::fs::read_to_string(dir.join("build_prj.tcl")).unwrap();
    assert!(tcl.contains("xcvu9p-flga2104-2L-e") && tcl.contains("mlp_from_hls4ml"), "{tcl}");
    let hls = std::fs::read_to_string(dir.join("hls_config.yml")).unwrap();
    assert!(hls.contains("io_parallel"), "{hls}");

    // One warning per ignored key, however many entries carry it.
    let stderr = String::from_utf8_lossy(&o.stderr);
    for key in [
        "ClockUncertainty",
        "BramFactor",
        "TraceOutput",
        "Trace (",
        "KerasModel",
        "Stamp",
        "Version",
        "WriterConfig.Namespace",
        "WriterConfig.WriteTar",
        "WriterConfig.WriteWeightsTxt",
        "Implementation",
    ] {
        let n = stderr.lines().filter(|l| l.starts_with("warning: ") && l.contains(key)).count();
        assert_eq!(n, 1, "warnings about {key}:\n{stderr}");
    }
    assert!(stderr.contains("has no effect in hls-gen"), "{stderr}");
    // Honoured keys give no warning.
    for key in ["Part", "ClockPeriod", "ProjectName", "OutputDir", "IOType", "Backend", "ReuseFactor"] {
        assert!(!stderr.lines().any(|l| l.contains(&format!(": {key} "))), "{key} warned:\n{stderr}");
    }
    // The softmax has no accumulator: said, not silently dropped.
    assert!(stderr.contains("softmax.Precision.accum") && stderr.contains("no accumulator"), "{stderr}");
}

#[test]
fn complete_config_sets_types_reuse_and_tables() {
    let l = lower_with(&model("keras/keras_mlp.h5"), &data("keras_mlp_hls4ml_config.yml"));
    let g = &l.graph;
    let node = |n: &str| g.node(g.find(n).unwrap());
    let Layer::Dense(d) = &node("dense").layer else { panic!() };
    assert_eq!(d.weights.ty, Some(ty("ap_fixed<10,3>")));
    assert_eq!(d.bias.ty, Some(ty("ap_fixed<12,4>")));
    assert_eq!(node("dense").reuse_factor, 2);
    let Layer::Dense(d2) = &node("dense_2").layer else { panic!() };
    assert_eq!(d2.accum, Some(ty("ap_fixed<24,8>")), "accum_t");
    assert_eq!(d2.weights.ty, Some(ty("ap_fixed<10,3>")), "weight_t");
    assert_eq!(node("dense_2").ty, Some(ty("ap_fixed<16,6,AP_RND,AP_SAT>")), "result_t");
    let sm = node("softmax");
    assert_eq!(sm.ty, Some(ty("ap_ufixed<16,0,AP_RND,AP_SAT>")));
    let tables = sm.layer.tables();
    let table = |role: &str| tables.iter().find(|(r, _)| *r == role).unwrap().1;
    assert_eq!(table("exp_table").ty, ty("ap_ufixed<18,8,AP_RND,AP_SAT>"));
    assert_eq!(table("inv_table").ty, ty("ap_ufixed<18,4,AP_RND,AP_SAT>"));
    assert_eq!(table("exp_table").len(), 1024, "TableSize");
    assert_eq!(l.config.part.as_deref(), Some("xcvu9p-flga2104-2L-e"));
    assert_eq!(l.config.clock_period, Some(4.0));
}

#[test]
fn hlsconfig_rooted_file_applies_model_and_type_settings() {
    let l = lower_with(&model("onnx/mlp_float.onnx"), &data("hlsconfig_rooted.yml"));
    let g = &l.graph;
    assert!(l.config.warnings.is_empty(), "{:?}", l.config.warnings);
    let mut dense = 0;
    for id in g.node_ids() {
        let n = g.node(id);
        match &n.layer {
            Layer::Dense(d) => {
                dense += 1;
                assert_eq!(d.weights.ty, Some(ty("ap_fixed<8,3>")), "{}", n.name);
                assert_eq!(n.strategy, Strategy::Resource);
                assert_eq!(n.ty, Some(ty("ap_fixed<14,5>")));
            }
            Layer::Softmax(_) => {
                let tables = n.layer.tables();
                assert_eq!(tables[0].1.ty, ty("ap_fixed<18,8,AP_RND,AP_SAT>"));
                assert_eq!(tables[1].1.ty, ty("ap_fixed<18,4,AP_RND,AP_SAT>"));
            }
            _ => {}
        }
    }
    assert!(dense > 0);
}

#[test]
fn shorthand_precisions_and_t_keys_map_onto_tensors() {
    let cfg = Config::from_yaml_str(
        "Model:\n  Precision: {default: 'fixed<16,6>', maximum: 'fixed<32,16>'}\nLayerName:\n  fc:\n    Precision:\n      weight_t: int<8>\n      bias_t: uint<4>\n      accum_t: fixed<20,8,RND,SAT>\n      result_t: ufixed<8,0>\n      table_t: auto\n",
        "c.yml",
    )
    .unwrap();
    assert_eq!(cfg.default_precision, ty("ap_fixed<16,6>"));
    let s = &cfg.layer_name["fc"].precision;
    use hls_gen::config::Precision::{Auto, Fixed};
    assert_eq!(s.weight, Some(Fixed(ty("ap_int<8>"))));
    assert_eq!(s.bias, Some(Fixed(ty("ap_uint<4>"))));
    assert_eq!(s.accum, Some(Fixed(ty("ap_fixed<20,8,AP_RND,AP_SAT>"))));
    assert_eq!(s.result, Some(Fixed(ty("ap_ufixed<8,0>"))));
    assert_eq!(s.table, Some(Auto));
    assert_eq!(cfg.warnings.len(), 1, "{:?}", cfg.warnings);
    assert!(cfg.warnings[0].contains("Precision.maximum"), "{:?}", cfg.warnings);
}

#[test]
fn precision_for_a_tensor_the_layer_lacks_is_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("c.yml");
    std::fs::write(
        &p,
        "LayerName:\n  dense_2:\n    Precision: {table_t: 'ufixed<8,0>', weight: 'fixed<8,3>'}\n",
    )
    .unwrap();
    let l = lower_with(&model("keras/keras_mlp.h5"), &p);
    assert_eq!(l.warnings.len(), 1, "{:?}", l.warnings);
    assert!(
        l.warnings[0].contains("LayerName.dense_2.Precision.table_t")
            && l.warnings[0].contains("lookup table")
    );
}

#[test]
fn command_line_overrides_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let m = model("keras/keras_mlp.h5");
    let cfg = data("keras_mlp_hls4ml_config.yml");
    let out_dir = tmp.path().join("given");
    let o = hls_gen_in(
        tmp.path(),
        &[
            "compile",
            m.to_str().unwrap(),
            "--config",
            cfg.to_str().unwrap(),
            "--part",
            "xcku115",
            "--clock-period",
            "6",
            "--project-name",
            "cli_name",
            "-o",
            out_dir.to_str().unwrap(),
            "--io-type",
            "io_stream",
            "--fifo-depth",
            "7",
            "--reuse-factor",
            "4",
            "--tb-samples",
            "5",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(!tmp.path().join("mlp_prj").exists(), "-o beats OutputDir");
    assert!(out_dir.join("cli_name_test.cpp").is_file());
    let report = std::fs::read_to_string(out_dir.join("report.json")).unwrap();
    assert!(report.contains("xcku115") && report.contains("\"clock_ns\": 6.0"), "{report}");
    let hls = std::fs::read_to_string(out_dir.join("hls_config.yml")).unwrap();
    assert!(hls.contains("io_stream"), "{hls}");
}

/// `Backend: Vivado` makes the estimate predict Vivado HLS; `--hls-tool` overrides it.
#[test]
fn backend_chooses_the_estimated_tool_and_the_flag_overrides_it() {
    let tmp = tempfile::tempdir().unwrap();
    let m = model("keras/keras_mlp.h5");
    let cfg = tmp.path().join("vivado.yml");
    std::fs::write(&cfg, "Backend: Vivado\nPart: xcvu9p\n").unwrap();
    let tool_of = |extra: &[&str]| {
        let mut args = vec!["estimate", m.to_str().unwrap(), "--config", cfg.to_str().unwrap(), "--json"];
        args.extend_from_slice(extra);
        let o = hls_gen_in(tmp.path(), &args);
        assert!(o.status.success(), "{}", text(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["tool"].as_str().unwrap().to_string()
    };
    assert_eq!(tool_of(&[]), "vivado-hls");
    assert_eq!(tool_of(&["--hls-tool", "vitis"]), "vitis-hls");
    // compile says that only the estimate follows the tool: the project is Vitis HLS's.
    let compile = |extra: &[&str]| {
        let out = tmp.path().join(format!("prj{}", extra.len()));
        let mut args = vec!["compile", m.to_str().unwrap(), "--config", cfg.to_str().unwrap(), "-o"];
        args.push(out.to_str().unwrap());
        args.extend_from_slice(extra);
        let o = hls_gen_in(tmp.path(), &args);
        assert!(o.status.success(), "{}", text(&o));
        text(&o)
    };
    assert!(compile(&[]).contains("note: the project builds with Vitis HLS only"));
    assert!(!compile(&["--hls-tool", "vitis"]).contains("Vitis HLS only"));
}

#[test]
fn part_from_neither_place_names_both() {
    let m = model("onnx/mlp_float.onnx");
    let tmp = tempfile::tempdir().unwrap();
    let o = hls_gen_in(tmp.path(), &["estimate", m.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let e = text(&o);
    assert!(e.contains("--part") && e.contains("Part in the --config file"), "{e}");
    let cfg = tmp.path().join("c.yml");
    std::fs::write(&cfg, "Part: xcvu9p\nClockPeriod: 3.5\n").unwrap();
    let o = hls_gen_in(tmp.path(), &["estimate", m.to_str().unwrap(), "--config", cfg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("xcvu9p") && text(&o).contains("3.5"), "{}", text(&o));
}

#[test]
fn misspelled_key_is_refused_with_a_suggestion_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let original = std::fs::read_to_string(data("keras_mlp_hls4ml_config.yml")).unwrap();
    let bad = original.replacen("    dense_1:\n      Precision:", "    dense_1:\n      Presicion:", 1);
    assert_ne!(bad, original);
    let cfg = tmp.path().join("bad.yml");
    std::fs::write(&cfg, bad).unwrap();
    let m = model("keras/keras_mlp.h5");
    let o = hls_gen_in(tmp.path(), &["compile", m.to_str().unwrap(), "--config", cfg.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let e = text(&o);
    assert!(
        e.contains("bad.yml")
            && e.contains(
                "unknown key 'Presicion' in HLSConfig.LayerName.dense_1; did you mean 'Precision'?"
            ),
        "{e}"
    );
    assert!(!e.contains("panicked"));
    assert!(!tmp.path().join("mlp_prj").exists(), "no output directory on error");

    for (yaml, needle) in [
        ("Modle: {}\n", "unknown key 'Modle' in the top level; did you mean 'Model'?"),
        ("Model:\n  ReuseFacter: 2\n", "did you mean 'ReuseFactor'?"),
        ("LayerName:\n  fc:\n    Precision: {acum_t: 'fixed<8,2>'}\n", "did you mean 'accum_t'?"),
        ("WriterConfig:\n  WriteTarr: true\n", "did you mean 'WriteTar'?"),
        ("Backend: Quartus\n", "'Quartus' is not supported"),
        ("Completely: different\n", "unknown key 'Completely' in the top level"),
    ] {
        let e = Config::from_yaml_str(yaml, "x.yml").unwrap_err().to_string();
        assert!(e.contains("x.yml") && e.contains(needle), "{yaml}: {e}");
    }
}

#[test]
fn backends_and_fifo_depth() {
    use hls_gen::estimate::HlsTool;
    for (b, tool) in [
        ("Vitis", HlsTool::VitisHls),
        ("Vivado", HlsTool::VivadoHls),
        ("VivadoAccelerator", HlsTool::VivadoHls),
    ] {
        let cfg = Config::from_yaml_str(&format!("Backend: {b}\n"), "x.yml").unwrap();
        assert_eq!(cfg.hls_tool, Some(tool), "{b}");
    }
    assert_eq!(Config::from_yaml_str("IOType: io_parallel\n", "x.yml").unwrap().hls_tool, None);
    let cfg = Config::from_yaml_str("IOType: io_stream\nModel:\n  FifoDepth: 16\n", "x.yml").unwrap();
    assert_eq!(cfg.fifo_depth, Some(hls_gen::estimate::stream::FifoDepth::Fixed(16)));
    assert!(cfg.warnings.is_empty());
    let cfg = Config::from_yaml_str("LayerName:\n  fc:\n    FifoDepth: 4\n    ParallelizationFactor: 2\n    ConvImplementation: LineBuffer\n", "x.yml").unwrap();
    assert_eq!(cfg.warnings.len(), 3, "{:?}", cfg.warnings);
    assert!(cfg.warnings.iter().any(|w| w.contains("line-buffer")), "{:?}", cfg.warnings);
}

/// Compiles `written/<name>.onnx` with `written/<name>.yml` as hls4ml wrote it; returns the project
/// directory (the file's ProjectName) and the lowered model.
fn compile_written(tmp: &Path, name: &str) -> (PathBuf, hls_gen::flow::Lowered) {
    let (m, cfg) = (data(&format!("written/{name}.onnx")), data(&format!("written/{name}.yml")));
    let out = tmp.join(name);
    let o = hls_gen_in(
        tmp,
        &["compile", m.to_str().unwrap(), "--config", cfg.to_str().unwrap(), "-o", out.to_str().unwrap()],
    );
    let text = text(&o);
    assert!(o.status.success(), "{name}: {text}");
    assert!(text.contains("warning: ") && !text.contains("error"), "{text}");
    assert!(out.join(format!("firmware/{name}.cpp")).is_file(), "ProjectName: {text}");
    let report = std::fs::read_to_string(out.join("report.json")).unwrap();
    assert!(report.contains("\"clock_ns\": 4.0") && report.contains("xcvu9p-flga2104-2L-e"), "{report}");
    (out, lower_with(&m, &cfg))
}

#[test]
fn configs_written_by_hls4ml_compile_unchanged_and_are_honoured() {
    let tmp = tempfile::tempdir().unwrap();

    // Name granularity, Vitis, io_parallel: every layer `auto` under Model default fixed<16,6>.
    let (dir, l) = compile_written(tmp.path(), "mlp_vitis");
    let g = &l.graph;
    let node = |n: &str| g.node(g.find(n).unwrap());
    assert!(std::fs::read_to_string(dir.join("hls_config.yml")).unwrap().contains("io_parallel"));
    assert_eq!(node("global_in").ty, Some(ty("ap_fixed<16,6>")), "auto input: the default");
    assert_eq!(node("Relu_0").ty, Some(ty("ap_fixed<16,6>")), "auto activation: the default");
    let Layer::Dense(d) = &node("MatMul_0").layer else { panic!() };
    assert_eq!(d.weights.ty, Some(ty("ap_fixed<16,6>")));
    assert_eq!(node("MatMul_0").ty, d.accum, "auto dense result: the exact accumulator");
    let sm = node("Softmax_0");
    assert_eq!(sm.ty, Some(ty("ap_fixed<16,6>")));
    let tables = sm.layer.tables();
    let table = |role: &str| tables.iter().find(|(r, _)| *r == role).unwrap().1;
    assert_eq!(table("exp_table").ty, ty("ap_fixed<18,8,AP_RND,AP_SAT>"));
    assert_eq!(table("exp_table").len(), 1024);

    // Type granularity, Vivado, io_stream, Resource strategy, MatMul reuse factor 4, table size.
    let (dir, l) = compile_written(tmp.path(), "mlp_vivado_stream");
    let g = &l.graph;
    let node = |n: &str| g.node(g.find(n).unwrap());
    assert!(std::fs::read_to_string(dir.join("hls_config.yml")).unwrap().contains("io_stream"));
    for n in ["MatMul_0", "MatMul_3"] {
        assert_eq!((node(n).reuse_factor, node(n).strategy), (4, Strategy::Resource), "{n}");
    }
    let tables = node("Softmax_0").layer.tables();
    assert_eq!(tables.iter().find(|(r, _)| *r == "exp_table").unwrap().1.len(), 2048);

    // A channels-last CNN, io_stream, with the convolution's types set.
    let (dir, l) = compile_written(tmp.path(), "cnn_vitis_stream");
    let g = &l.graph;
    let conv = g.node(g.find("Conv_0").unwrap());
    let Layer::Conv(c) = &conv.layer else { panic!() };
    assert_eq!(c.weights.ty, Some(ty("ap_fixed<8,3>")));
    assert_eq!(conv.ty, Some(ty("ap_fixed<12,4,AP_RND,AP_SAT>")));
    assert!(std::fs::read_to_string(dir.join("hls_config.yml")).unwrap().contains("io_stream"));
}

#[test]
fn an_entry_for_a_missing_layer_that_changes_something_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let file = std::fs::read_to_string(data("written/mlp_vitis.yml")).unwrap();
    // The first entry, hls4ml's bias Add that hls-gen fuses into MatMul_0, now sets something.
    assert!(file.find("Add_0:").unwrap() < file.find("ReuseFactor: 1").unwrap());
    let edited = file.replacen("ReuseFactor: 1", "ReuseFactor: 2", 1);
    let cfg = tmp.path().join("edited.yml");
    std::fs::write(&cfg, edited).unwrap();
    let m = data("written/mlp_vitis.onnx");
    let out = tmp.path().join("out");
    let o = hls_gen_in(
        tmp.path(),
        &["compile", m.to_str().unwrap(), "--config", cfg.to_str().unwrap(), "-o", out.to_str().unwrap()],
    );
    let out_text = text(&o);
    assert!(
        !o.status.success()
            && out_text.contains("'Add_0'")
            && out_text.contains("no such layer")
            && out_text.contains("`hls-gen inspect` lists the layers"),
        "{out_text}"
    );
    assert!(!out.exists());
}

/// hls4ml writes a `<layer>_linear` entry for the linear activation it gives a layer: with an
/// `auto` result it changes nothing and is skipped; with a type it would change the design and is
/// refused.
#[test]
fn a_linear_activation_entry_hls4ml_writes_is_skipped_unless_it_sets_a_type() {
    let tmp = tempfile::tempdir().unwrap();
    let m = model("keras/keras_mlp.h5");
    let entry = |result: &str| {
        format!(
            "Model:\n  Precision: ap_fixed<16,6>\nLayerName:\n  dense_1_linear:\n    Precision:\n      result: {result}\n      \
             table: fixed<18,8,TRN,WRAP,0>\n    ReuseFactor: 1\n    TableSize: 1024\n"
        )
    };
    let run = |yaml: String| {
        let cfg = tmp.path().join("c.yml");
        std::fs::write(&cfg, yaml).unwrap();
        hls_gen_in(tmp.path(), &["inspect", m.to_str().unwrap(), "--config", cfg.to_str().unwrap(), "-v"])
    };
    let o = run(entry("auto"));
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("dense_1_linear"), "the skip is noted: {}", text(&o));
    let o = run(entry("fixed<10,4>"));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("'dense_1_linear'") && text(&o).contains("no such layer"), "{}", text(&o));
}
