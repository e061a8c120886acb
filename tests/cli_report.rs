//! `hls-gen report DIR`: real Vivado HLS and Vivado reports placed where Vitis HLS and
//! `vivado_synth.tcl` leave them in a compiled project, read beside the project's estimate; and
//! the errors for malformed or missing files.

use std::path::{Path, PathBuf};

mod common;

use common::bin::{hls_gen, root, text};

fn reports() -> PathBuf {
    root().join("tests/data/reports")
}

/// Compiles the float MLP for the part and the tool (Vivado HLS 2020.1) the test reports were made
/// for into `dir`.
fn compiled(dir: &Path) {
    let m = root().join("tests/models/onnx/mlp_float.onnx");
    let o = hls_gen(&[
        "compile",
        m.to_str().unwrap(),
        "--part",
        "xc7z020clg400-1",
        "-o",
        dir.to_str().unwrap(),
        "--tb-samples",
        "4",
        "--hls-tool",
        "vivado",
    ]);
    assert!(o.status.success(), "{}", text(&o));
}

fn report_dir(dir: &Path) -> PathBuf {
    let d = dir.join("myproject_prj/solution1/syn/report");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `key` of the estimate's `object` (`total`, or `after_synthesis` for Vivado HLS's prediction of
/// logic synthesis).
fn estimate_value(dir: &Path, object: &str, key: &str) -> f64 {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    v[object][key].as_f64().unwrap()
}

#[test]
fn csynth_xml_and_vivado_utilization_beside_the_estimate() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("p");
    compiled(&p);
    let vivado = reports().join("hls4ml-test_report/Vivado");
    std::fs::copy(vivado.join("myproject_csynth.xml"), report_dir(&p).join("myproject_csynth.xml")).unwrap();
    std::fs::copy(vivado.join("vivado_synth.rpt"), p.join("vivado_synth.rpt")).unwrap();

    let o = hls_gen(&["report", p.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("myproject_csynth.xml") && out.contains("vivado_synth.rpt"), "{out}");
    assert!(out.contains("Vivado HLS") && !out.contains("warning"), "{out}");
    let lut_row = out.lines().find(|l| l.starts_with("lut") && l.contains("hls-csynth")).expect("lut row");
    assert!(lut_row.contains("2532"), "{lut_row}");
    assert!(out.contains("vivado-hls csynth prediction"), "{out}");

    // Reports said to come from the other tool than the one the estimate predicts.
    let o = hls_gen(&["report", p.to_str().unwrap(), "--hls-tool", "vitis"]);
    assert!(o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("warning: the estimate predicts vivado-hls but the reports come from vitis-hls"),
        "{err}"
    );

    let o = hls_gen(&["report", p.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["schema"], "hls-gen-report-comparison/1");
    assert_eq!(v["estimate_tool"], "vivado-hls");
    let rows = v["rows"].as_array().unwrap();
    let expect = [
        ("latency_cycles", "hls-csynth", 10.0, "total"),
        ("ii", "hls-csynth", 8.0, "total"),
        ("dsp", "hls-csynth", 73.0, "total"),
        ("lut", "hls-csynth", 2532.0, "total"),
        ("ff", "hls-csynth", 7969.0, "total"),
        ("bram18", "hls-csynth", 0.0, "total"),
        ("dsp", "vivado-synth", 66.0, "after_synthesis"),
        ("lut", "vivado-synth", 1526.0, "after_synthesis"),
        ("ff", "vivado-synth", 2428.0, "total"),
        ("bram18", "vivado-synth", 0.0, "total"),
    ];
    assert_eq!(rows.len(), expect.len(), "{rows:?}");
    for (q, stage, reference, object) in expect {
        let row = rows.iter().find(|r| r["quantity"] == q && r["stage"] == stage).expect(q);
        let est = estimate_value(&p, object, q);
        assert_eq!(row["reference"].as_f64(), Some(reference), "{q} {stage}");
        assert_eq!(row["estimate"].as_f64(), Some(est), "{q} {stage}");
        if reference == 0.0 {
            assert!(row["rel_error"].is_null(), "{row}");
        } else {
            let e = row["rel_error"].as_f64().unwrap();
            assert!((e - (est - reference) / reference).abs() < 1e-12, "{row}");
        }
    }
}

#[test]
fn a_text_csynth_report_is_found_without_vivado() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("p");
    compiled(&p);
    let rpt = reports().join("hls4ml-tutorial-pruned_cnn/myproject_csynth.rpt");
    std::fs::copy(rpt, report_dir(&p).join("myproject_csynth.rpt")).unwrap();
    let o = hls_gen(&["report", p.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("myproject_csynth.rpt") && !out.contains("vivado-synth"), "{out}");
    for q in ["latency_cycles", "ii", "dsp", "lut", "ff", "bram18"] {
        assert!(out.lines().any(|l| l.starts_with(q) && l.contains("hls-csynth")), "{q} missing:\n{out}");
    }
}

#[test]
fn malformed_and_missing_reports_are_named_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("p");
    compiled(&p);

    let o = hls_gen(&["report", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("no csynth report") && text(&o).contains("_prj/solution1/syn/report"),
        "{}",
        text(&o)
    );

    let xml =
        std::fs::read_to_string(reports().join("hls4ml-test_report/Vivado/myproject_csynth.xml")).unwrap();
    let bad = report_dir(&p).join("myproject_csynth.xml");
    std::fs::write(&bad, &xml[..xml.len() / 2]).unwrap();
    let o = hls_gen(&["report", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains(bad.to_str().unwrap()) && out.contains("XML"), "{out}");
    assert!(!out.contains("panicked"), "{out}");

    std::fs::write(&bad, &xml).unwrap();
    std::fs::write(p.join("vivado_synth.rpt"), "| Slice LUTs | 12 |\n").unwrap();
    let o = hls_gen(&["report", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("vivado_synth.rpt") && text(&o).contains("Slice Registers"), "{}", text(&o));

    std::fs::remove_file(p.join("vivado_synth.rpt")).unwrap();
    std::fs::write(p.join("report.json"), "{\"schema\": \"hls-gen-estimate/1\"}").unwrap();
    let o = hls_gen(&["report", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("report.json") && text(&o).contains("missing field"), "{}", text(&o));

    let o = hls_gen(&["report", tmp.path().join("nowhere").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("nowhere"), "{}", text(&o));
}
