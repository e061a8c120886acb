//! `hls-gen synth`: the `stat -json` parser on output captured from Yosys 0.23
//! (`tests/data/synth/stat_fixture`), and a Yosys run on a tiny hand-written project
//! (`tests/data/synth/tiny`: `rtl/*.v` and a minimal `report.json`).

use std::path::Path;
use std::process::Command;

use hls_gen::synth::{self, stat, Utilization};

mod common;

use common::bin::{hls_gen, root, text};

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_tree(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

/// A copy of `tests/data/synth/tiny` in `tmp`.
fn tiny_project(tmp: &tempfile::TempDir) -> std::path::PathBuf {
    let dir = tmp.path().join("tiny");
    copy_tree(&root().join("tests/data/synth/tiny"), &dir);
    dir
}

fn yosys_available() -> bool {
    Command::new("yosys").arg("-V").output().is_ok_and(|o| o.status.success())
}

#[test]
fn parses_a_captured_yosys_stat() {
    let text = std::fs::read_to_string(root().join("tests/data/synth/stat_fixture/yosys_0.23_xc7_stat.json"))
        .unwrap();
    let s = stat::parse(&text).unwrap();
    let c = &s.counts;
    assert_eq!(s.creator.as_deref(), Some("Yosys 0.23 (git sha1 7ce5011c24b)"));
    assert_eq!(c.lut, 16 + 32);
    assert_eq!(c.ff, 32);
    assert_eq!(c.dsp, 1);
    assert_eq!(c.carry, 8);
    assert_eq!(c.bram18, 1);
    assert_eq!(c.srl, 1);
    assert_eq!((c.lutram, c.muxf, c.uram), (0, 0, 0));
    assert_eq!(c.cells.get("RAMB18E1"), Some(&1));
    assert_eq!(c.cells.len(), 7);
}

#[test]
fn synthesizes_a_tiny_project_and_compares_with_its_estimate() {
    if !yosys_available() {
        eprintln!("skipped: yosys is not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tiny_project(&tmp);
    let o = hls_gen(&["synth", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("tiny_top") && out.contains("-family xcup"), "{out}");
    for q in ["dsp", "lut", "ff", "bram18", "carry"] {
        assert!(out.lines().any(|l| l.starts_with(q) && l.contains("yosys-synth")), "{q} missing:\n{out}");
    }
    assert!(dir.join("synth/yosys.log").is_file() && dir.join("synth/yosys.ys").is_file());

    let u: Utilization =
        serde_json::from_str(&std::fs::read_to_string(dir.join("synth/utilization.json")).unwrap()).unwrap();
    assert_eq!(u.schema, synth::SCHEMA);
    assert_eq!((u.top.as_str(), u.family.as_str()), ("tiny_top", "xcup"));
    let c = &u.counts;
    // Registers: two 17-bit sums, an 18-bit difference, a 32-bit result and one flag (86 bits,
    // a few of which are constant); one 18 x 11 constant product fits one DSP48E2.
    assert!((60..=100).contains(&c.ff), "ff {}", c.ff);
    assert!((10..=300).contains(&c.lut), "lut {}", c.lut);
    assert!((1..=2).contains(&c.dsp), "dsp {}", c.dsp);
    assert!(c.carry > 0 && c.bram18 == 0 && c.uram == 0, "{c:?}");
    assert!(!c.cells.contains_key("IBUF") && !c.cells.contains_key("BUFG"), "{c:?}");
}

#[test]
fn a_missing_yosys_or_rtl_is_a_named_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tiny_project(&tmp);
    let o = hls_gen(&["synth", dir.to_str().unwrap(), "--yosys", "/nonexistent/yosys"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("apt-get install yosys") && text(&o).contains("/nonexistent/yosys"),
        "{}",
        text(&o)
    );

    let o = hls_gen(&["synth", dir.to_str().unwrap(), "--top", "no such"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("not a Verilog identifier"), "{}", text(&o));

    for f in ["top.v", "add_stage.v"] {
        std::fs::remove_file(dir.join("rtl").join(f)).unwrap();
    }
    let o = hls_gen(&["synth", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("rtl") && text(&o).contains("no Verilog"), "{}", text(&o));

    std::fs::remove_file(dir.join("report.json")).unwrap();
    let o = hls_gen(&["synth", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("report.json"), "{}", text(&o));
    assert!(!text(&o).contains("panicked"), "{}", text(&o));
}

/// The 6-bit QKeras jet tagger (16-64-32-32-5) from `../shared/models` when present, else the
/// repository's smaller QKeras MLP: compiled with the RTL backend and synthesized by Yosys. The
/// design is multiplier-free, so Yosys must find no DSP; on the jet tagger the RTL cost model's
/// LUT count must be within 20 % of Yosys's, and Yosys's count must be at most 27,000 LUTs, the
/// issue's target (26,862 with the shared shift-add plan of `arch::mcm`, its sign-flipped
/// unsigned trees, the narrow rounding of saturating casts and the widest-overlap choice among
/// equally frequent pairs; 27,019 before that choice, 27,826 before the flips and narrow
/// rounding, 33,310 before the plan).
#[test]
fn jet_tagger_rtl_synthesizes_without_dsps() {
    if !yosys_available() {
        eprintln!("skipped: yosys is not installed");
        return;
    }
    let shared = root().join("../shared/models/keras/qkeras_3layer.json");
    let (model, jet) = if shared.exists() {
        (shared, true)
    } else {
        eprintln!("notice: ../shared/models absent; synthesizing tests/models/keras/qkeras_mlp.json");
        (root().join("tests/models/keras/qkeras_mlp.json"), false)
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("prj");
    let (m, d) = (model.to_str().unwrap(), dir.to_str().unwrap());
    let o =
        hls_gen(&["compile", m, "--part", "xcvu9p", "--backend", "rtl", "--drop-output-softmax", "-o", d]);
    assert!(o.status.success(), "{}", text(&o));
    let o = hls_gen(&["synth", d]);
    assert!(o.status.success(), "{}", text(&o));
    println!("{}", text(&o));
    let util: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("synth/utilization.json")).unwrap()).unwrap();
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let count = |k: &str| util[k].as_u64().unwrap_or_else(|| panic!("utilization.json lacks {k}"));
    assert_eq!(count("dsp"), 0, "the shift-add RTL must not infer DSPs");
    assert!(count("lut") > 1000 && count("ff") > 100 && count("carry") > 0);
    if jet {
        let est = report["total"]["lut"].as_f64().unwrap();
        let yosys = count("lut") as f64;
        let err = (est - yosys) / yosys;
        println!("jet tagger: estimate {est} LUT, Yosys {yosys} LUT ({:+.1} %)", 100.0 * err);
        assert!(err.abs() < 0.2, "RTL LUT estimate {est} vs Yosys {yosys}");
        assert!(count("lut") <= 27_000, "jet tagger: {} LUTs", count("lut"));
    }
}

/// A Yosys run longer than `--time-limit` is stopped with a message naming the limit and the
/// option (Yosys needs more than a second just to read its cell library).
#[test]
fn a_run_over_the_time_limit_is_stopped_with_a_clear_message() {
    if !yosys_available() {
        eprintln!("skipped: yosys is not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tiny_project(&tmp);
    let start = std::time::Instant::now();
    let o = hls_gen(&["synth", dir.to_str().unwrap(), "--time-limit", "1"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let msg = text(&o);
    assert!(msg.contains("time limit of 1 s") && msg.contains("--time-limit"), "{msg}");
    assert!(!msg.contains("panicked"), "{msg}");
    assert!(start.elapsed().as_secs() < 30, "the run was not stopped");
    assert!(!dir.join("synth/utilization.json").exists());
}

/// Seconds each test-suite model may take in [`every_suite_model_synthesizes_or_is_skipped`],
/// unless `HLS_GEN_SYNTH_SWEEP_LIMIT` sets another.
const SWEEP_LIMIT_S: u64 = 20;

/// Every model of `tests/models` that the RTL backend builds is synthesized by Yosys within
/// [`SWEEP_LIMIT_S`] seconds (or `HLS_GEN_SYNTH_SWEEP_LIMIT`), or stopped at that limit with the
/// time-limit message; none hangs and no other failure is accepted. Models with layers the
/// backend does not build (or the importer refuses on purpose) are skipped with that message. Prints one line per model.
/// About 15 minutes on two cores (the largest designs are hundreds of megabytes of Verilog), so
/// it is not part of the default run: `cargo test --release --test synth -- --ignored`.
#[test]
#[ignore = "about 15 minutes: every test-suite model through Yosys"]
fn every_suite_model_synthesizes_or_is_skipped() {
    if !yosys_available() {
        eprintln!("skipped: yosys is not installed");
        return;
    }
    let mut models = Vec::new();
    for sub in ["onnx", "keras"] {
        let mut files: Vec<_> = std::fs::read_dir(root().join("tests/models").join(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
                let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("");
                // Keras models once each: the JSON + weights pair, else the full .h5.
                ext == "onnx"
                    || ext == "json"
                    || (ext == "h5" && !stem.ends_with("_weights") && !p.with_extension("json").exists())
            })
            .collect();
        files.sort();
        models.extend(files);
    }
    let limit_s =
        std::env::var("HLS_GEN_SYNTH_SWEEP_LIMIT").ok().and_then(|v| v.parse().ok()).unwrap_or(SWEEP_LIMIT_S);
    let mut lines = Vec::new();
    for model in &models {
        let name = model.file_name().unwrap().to_string_lossy().into_owned();
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("prj");
        let (m, d) = (model.to_str().unwrap(), dir.to_str().unwrap());
        let weights =
            model.with_file_name(format!("{}_weights.h5", model.file_stem().unwrap().to_string_lossy()));
        let mut args = vec!["compile", m, "--part", "xcvu9p", "--backend", "rtl", "-o", d];
        if model.extension().is_some_and(|e| e == "json") {
            args.extend(["--weights", weights.to_str().unwrap()]);
        }
        let o = hls_gen(&args);
        if !o.status.success() {
            let msg = text(&o);
            let refused = ["cannot be built yet", "cannot be imported"];
            assert!(refused.iter().any(|r| msg.contains(r)), "{name}: {msg}");
            lines.push(format!("{name}: refused by the RTL backend or the importer"));
            eprintln!("{}", lines[lines.len() - 1]);
            continue;
        }
        let limit = limit_s.to_string();
        let start = std::time::Instant::now();
        let o = hls_gen(&["synth", d, "--time-limit", &limit, "--json"]);
        let secs = start.elapsed().as_secs_f64();
        if o.status.success() {
            let u: Utilization = serde_json::from_slice(&o.stdout).unwrap();
            lines.push(format!(
                "{name}: {} LUT, {} FF, {} DSP in {secs:.0} s",
                u.counts.lut, u.counts.ff, u.counts.dsp
            ));
        } else {
            let msg = text(&o);
            assert!(msg.contains(&format!("time limit of {limit} s")), "{name}: {msg}");
            // Killing Yosys and reaping it (freeing gigabytes) takes a few seconds more.
            assert!(secs < (limit_s + 120) as f64, "{name}: stopped after {secs:.0} s");
            lines.push(format!("{name}: skipped, over the {limit} s time limit (stopped after {secs:.0} s)"));
        }
        eprintln!("{}", lines[lines.len() - 1]);
    }
    println!("{}", lines.join("\n"));
}
