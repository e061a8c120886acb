//! `hls-gen sweep`: the same 6-point sweep through the local engine and through a real
//! single-node Slurm (started by `scripts/slurm_local.sh`) collects to the same `results.csv`;
//! a sweep killed mid-run and resumed finishes every point exactly once; a sweep file's
//! overrides reach their points; `results.html` renders in headless Chromium with the numbers of
//! `results.json`; bad arguments give clear errors.
//!
//! The Slurm sweep synthesizes a tiny classifier (8 -> 6 -> 3 Gemm layers, seeded weights, built
//! here with `onnx-protobuf`) with Yosys; the others sweep `tests/models/onnx/mlp_float.onnx`.

mod common;

#[path = "common/onnx_proto.rs"]
mod onnx_proto;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::bin::{hls_gen, root, text};
use common::{cells, write_npy};
use onnx_proto::{onnx_node, onnx_tensor, save_model, value_info};
use onnx_protobuf::GraphProto;
use serde_json::Value;

const MLP: &str = "tests/models/onnx/mlp_float.onnx";
const PRECISIONS: &str = "ap_fixed<16,6>,ap_fixed<10,4>,ap_fixed<6,3>";

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn run_ok(args: &[&str]) -> String {
    let o = hls_gen(args);
    assert!(o.status.success(), "hls-gen {args:?} failed:\n{}", text(&o));
    text(&o)
}

fn run_err(args: &[&str]) -> String {
    let o = hls_gen(args);
    assert_eq!(o.status.code(), Some(1), "hls-gen {args:?}:\n{}", text(&o));
    text(&o)
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// x[8] -> Gemm `fc1` -> Relu -> Gemm `fc2` -> y[3], and 64 seeded inputs for it.
fn tiny_classifier(dir: &Path) -> (PathBuf, PathBuf) {
    let mut g = GraphProto::new();
    g.name = "tiny".into();
    g.input.push(value_info("x", 8));
    g.initializer.push(onnx_tensor("w1", &[8, 6], 11));
    g.initializer.push(onnx_tensor("b1", &[6], 12));
    g.initializer.push(onnx_tensor("w2", &[6, 3], 13));
    g.initializer.push(onnx_tensor("b2", &[3], 14));
    g.node.push(onnx_node("Gemm", "fc1", &["x", "w1", "b1"], "h"));
    g.node.push(onnx_node("Relu", "relu1", &["h"], "r"));
    g.node.push(onnx_node("Gemm", "fc2", &["r", "w2", "b2"], "y"));
    g.output.push(value_info("y", 3));
    let model = dir.join("tiny.onnx");
    save_model(g, &model);
    let x: Vec<f64> = (0..64 * 8).map(|k| ((k * 37 % 101) as f64 - 50.0) / 16.0).collect();
    let input = dir.join("tiny_x.npy");
    write_npy(&input, &[64, 8], &x);
    (model, input)
}

/// The 6-point sweep of the tiny classifier with Yosys, into `out`, with `extra` arguments.
fn tiny_sweep_args<'a>(model: &'a Path, input: &'a Path, out: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "sweep",
        s(model),
        "--part",
        "xcvu9p",
        "--out",
        s(out),
        "--backend",
        "rtl",
        "--synth",
        "yosys",
        "--precision",
        "ap_fixed<8,3>,ap_fixed<6,3>,ap_fixed<4,2>",
        "--prune-below",
        "0,0.2",
        "--input",
        s(input),
        "--tb-samples",
        "8",
    ];
    a.extend_from_slice(extra);
    a
}

fn tool_exists(name: &str) -> bool {
    let look = format!("export PATH=\"$PATH:/usr/sbin:/sbin\"; command -v {name}");
    Command::new("sh").args(["-c", &look]).output().is_ok_and(|o| o.status.success())
}

/// Stops the cluster `scripts/slurm_local.sh` started, however the test ends.
struct Cluster(PathBuf);

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ =
            Command::new("bash").arg(root().join("scripts/slurm_local.sh")).arg("stop").arg(&self.0).status();
    }
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

#[test]
fn local_and_slurm_engines_collect_the_same_results() {
    let ready = is_root() && ["slurmctld", "slurmd", "sbatch", "munged"].iter().all(|t| tool_exists(t));
    if !ready {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the Slurm test: it runs as root and .ci/run installs slurmctld slurmd slurm-client munge"
        );
        println!("skipped: needs root and Debian's slurmctld, slurmd, slurm-client and munge (apt-get install ...)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (model, input) = tiny_classifier(tmp.path());
    let (a, b) = (tmp.path().join("local"), tmp.path().join("slurm"));

    let t = Instant::now();
    run_ok(&tiny_sweep_args(&model, &input, &a, &["-j", "2"]));
    let local_s = t.elapsed().as_secs_f64();

    let state = tmp.path().join("slurm-state");
    let start = Command::new("bash")
        .arg(root().join("scripts/slurm_local.sh"))
        .arg("start")
        .arg(&state)
        .output()
        .unwrap();
    let _cluster = Cluster(state.clone());
    assert!(start.status.success(), "slurm_local.sh start:\n{}", text(&start));
    let conf = state.join("slurm.conf");
    let t = Instant::now();
    let o = Command::new(env!("CARGO_BIN_EXE_hls-gen"))
        .args(tiny_sweep_args(&model, &input, &b, &["--engine", "slurm", "--wait", "--poll", "0.5"]))
        .env("SLURM_CONF", &conf)
        .current_dir(root())
        .output()
        .unwrap();
    let slurm_s = t.elapsed().as_secs_f64();
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("submitted Slurm job"), "{}", text(&o));
    println!("6 points with Yosys: local -j 2 {local_s:.1} s, Slurm {slurm_s:.1} s");

    let csv_a = std::fs::read_to_string(a.join("results.csv")).unwrap();
    let csv_b = std::fs::read_to_string(b.join("results.csv")).unwrap();
    assert_eq!(csv_a, csv_b, "the engines' results.csv differ");
    let lines: Vec<&str> = csv_a.lines().collect();
    assert_eq!(lines.len(), 7, "{csv_a}");
    let r = json(&b.join("results.json"));
    for p in r["points"].as_array().unwrap() {
        assert_eq!(p["status"], "ok", "{p}");
        assert!(p["synth"]["lut"].as_u64().unwrap() > 0, "Yosys counted LUTs: {p}");
        assert!(p["accuracy"]["argmax"].as_f64().is_some(), "{p}");
    }
    // The Slurm job array ran the workers: each task's output names its point.
    let outs = std::fs::read_dir(b.join("slurm"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".out"));
    assert_eq!(outs.count(), 6);

    // Status reads the queue and the results; a re-run submits nothing.
    let st = Command::new(env!("CARGO_BIN_EXE_hls-gen"))
        .args(["sweep", "status", s(&b)])
        .env("SLURM_CONF", &conf)
        .output()
        .unwrap();
    assert!(st.status.success(), "{}", text(&st));
    assert!(text(&st).contains("6 points: 6 done"), "{}", text(&st));
    let again = Command::new(env!("CARGO_BIN_EXE_hls-gen"))
        .args(tiny_sweep_args(&model, &input, &b, &["--engine", "slurm"]))
        .env("SLURM_CONF", &conf)
        .output()
        .unwrap();
    assert!(again.status.success(), "{}", text(&again));
    assert!(text(&again).contains("nothing to submit"), "{}", text(&again));
}

/// The result files of the finished points: (id, modification time, contents).
fn finished(dir: &Path) -> Vec<(String, std::time::SystemTime, String)> {
    let mut v = Vec::new();
    // Before the sweep made its directory, nothing has finished.
    let Ok(points) = std::fs::read_dir(dir.join("points")) else { return v };
    for e in points {
        let p = e.unwrap().path().join("result.json");
        if let Ok(m) = std::fs::metadata(&p) {
            let id = p.parent().unwrap().file_name().unwrap().to_string_lossy().to_string();
            v.push((id, m.modified().unwrap(), std::fs::read_to_string(&p).unwrap()));
        }
    }
    v.sort();
    v
}

fn mlp_sweep_args<'a>(out: &'a Path, tb_samples: &'a str) -> Vec<&'a str> {
    vec![
        "sweep",
        MLP,
        "--part",
        "xcvu9p",
        "--out",
        s(out),
        "--precision",
        PRECISIONS,
        "--reuse-factor",
        "1,2",
        "--input",
        "golden/reference/mlp_float/inputs.npy",
        "--tb-samples",
        tb_samples,
    ]
}

#[test]
fn a_killed_sweep_resumes_and_finishes_every_point_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sweep");
    let mut args = mlp_sweep_args(&dir, "3000");
    args.extend(["-j", "1"]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_hls-gen"))
        .args(&args)
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while finished(&dir).is_empty() {
        assert!(Instant::now() < deadline, "no point finished in 120 s");
        std::thread::sleep(Duration::from_millis(2));
    }
    // The whole process group: the sweep and its worker.
    let pgid = child.id();
    Command::new("kill").args(["-KILL", "--", &format!("-{pgid}")]).status().unwrap();
    child.wait().unwrap();
    let before = finished(&dir);
    assert!(before.len() < 6, "every point finished before the kill; nothing to resume");
    for (_, _, r) in &before {
        serde_json::from_str::<Value>(r).expect("a result is complete or absent");
    }

    let out = run_ok(&args);
    assert!(out.contains(&format!("{} to run here", 6 - before.len())), "{out}");
    let after = finished(&dir);
    assert_eq!(after.len(), 6);
    for b in &before {
        assert!(after.contains(b), "{} was run again", b.0);
    }
    // Every worker log holds exactly one finished run of its point.
    for (id, _, _) in &after {
        let log = std::fs::read_to_string(dir.join("points").join(id).join("worker.log")).unwrap();
        assert_eq!(log.matches(&format!("point {id} done")).count(), 1, "{id}: {log}");
    }
    // Nothing temporary is left beside the results.
    for e in std::fs::read_dir(dir.join("points")).unwrap() {
        for f in std::fs::read_dir(e.unwrap().path()).unwrap() {
            let name = f.unwrap().file_name().to_string_lossy().to_string();
            assert!(!name.starts_with(".tmp-"), "{name}");
        }
    }
    // A third run has nothing to do.
    assert!(run_ok(&args).contains("0 to run here"));
}

#[test]
fn results_page_renders_in_headless_chromium_with_the_json_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sweep");
    let out = run_ok(&mlp_sweep_args(&dir, "10"));
    assert!(out.contains("Pareto-optimal (accuracy vs LUT+DSP):"), "{out}");
    let r = json(&dir.join("results.json"));
    let points = r["points"].as_array().unwrap();
    assert_eq!(points.len(), 6);
    // The fronts: no finished point beats a front point on both accuracy and cost.
    for p in points {
        let (q, c) = (p["accuracy"]["argmax"].as_f64().unwrap(), p["cost"].as_u64().unwrap());
        let beaten = points.iter().any(|o| {
            let (q2, c2) = (o["accuracy"]["argmax"].as_f64().unwrap(), o["cost"].as_u64().unwrap());
            q2 >= q && c2 <= c && (q2 > q || c2 < c)
        });
        assert_eq!(p["pareto_cost"].as_bool().unwrap(), !beaten, "{p}");
    }
    let collected = std::fs::read_to_string(dir.join("results.csv")).unwrap();
    run_ok(&["sweep", "collect", s(&dir)]);
    assert_eq!(std::fs::read_to_string(dir.join("results.csv")).unwrap(), collected, "collect is repeatable");

    if !tool_exists("chromium") {
        println!(
            "skipped the rendering: chromium is not installed (CI installs it: apt-get install chromium)"
        );
        return;
    }
    let dom = Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(format!("file://{}", dir.join("results.html").display()))
        .output()
        .unwrap();
    assert!(dom.status.success(), "{}", String::from_utf8_lossy(&dom.stderr));
    let dom = String::from_utf8(dom.stdout).unwrap();
    assert!(dom.contains("</html>"), "the page did not load");
    assert_eq!(dom.matches("<svg class=\"pareto-cost\"").count(), 1);
    assert_eq!(dom.matches("<svg class=\"pareto-latency\"").count(), 1);
    assert!(!dom.contains("<script"), "no script in the page");
    let ids = cells(&dom, "id");
    let costs = cells(&dom, "cost");
    let acc = cells(&dom, "accuracy");
    let front = cells(&dom, "front-cost");
    assert_eq!(ids.len(), 6);
    for (k, p) in points.iter().enumerate() {
        assert_eq!(ids[k], p["id"].as_str().unwrap());
        assert_eq!(costs[k].parse::<u64>().unwrap(), p["cost"].as_u64().unwrap());
        assert_eq!(serde_json::from_str::<f64>(acc[k]).unwrap(), p["accuracy"]["argmax"].as_f64().unwrap());
        assert_eq!(front[k] == "yes", p["pareto_cost"].as_bool().unwrap());
    }
    // One marker per finished point in each plot, front points in red.
    let fronts = points.iter().filter(|p| p["pareto_cost"].as_bool().unwrap()).count();
    let plot = &dom[dom.find("<svg class=\"pareto-cost\"").unwrap()..];
    let plot = &plot[..plot.find("</svg>").unwrap()];
    assert_eq!(plot.matches("<rect").count(), 6);
    assert_eq!(plot.matches("fill=\"#c0504d\"").count(), fronts);
}

#[test]
fn sweep_file_overrides_reach_their_points() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("sweep.yml");
    std::fs::write(
        &file,
        "config:\n  Model:\n    Precision: ap_fixed<16,6>\naxes:\n  precision: [\"ap_fixed<16,6>\", \"ap_fixed<10,4>\"]\n\
         overrides:\n  - when: {precision: \"ap_fixed<10,4>\"}\n    config: {Model: {ReuseFactor: 4}}\n",
    )
    .unwrap();
    let dir = tmp.path().join("out");
    run_ok(&[
        "-q",
        "sweep",
        MLP,
        "--part",
        "xcvu9p",
        "--sweep-file",
        s(&file),
        "--out",
        s(&dir),
        "--tb-samples",
        "4",
    ]);
    let r = json(&dir.join("results.json"));
    let p = r["points"].as_array().unwrap();
    assert_eq!(p[0]["estimate"]["ii"], 1);
    assert_eq!(p[1]["estimate"]["ii"], 4, "the override set reuse factor 4");
    let cfg = std::fs::read_to_string(dir.join("points/p001/config.yml")).unwrap();
    assert!(cfg.contains("ReuseFactor: 4") && cfg.contains("Precision"), "{cfg}");
}

#[test]
fn bad_sweeps_are_refused_with_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let d = s(&dir);
    let e = run_err(&["sweep", MLP, "--part", "xcvu9p", "--out", d, "--precision", "ap_fixed<16,6>,apfixed"]);
    assert!(e.contains("precision 'apfixed'"), "{e}");
    let e = run_err(&["sweep", MLP, "--part", "xcvu9p", "--out", d]);
    assert!(e.contains("no axis to sweep"), "{e}");
    let e =
        run_err(&["sweep", MLP, "--part", "xcvu9p", "--out", d, "--reuse-factor", "1", "--synth", "yosys"]);
    assert!(e.contains("--backend rtl"), "{e}");
    let e = run_err(&["sweep", "nonesuch.onnx", "--part", "xcvu9p", "--out", d, "--reuse-factor", "1"]);
    assert!(e.contains("nonesuch.onnx"), "{e}");
    run_ok(&["-q", "sweep", MLP, "--part", "xcvu9p", "--out", d, "--reuse-factor", "1", "--tb-samples", "4"]);
    let e = run_err(&["sweep", MLP, "--part", "xcvu9p", "--out", d, "--reuse-factor", "2"]);
    assert!(e.contains("holds a different sweep"), "{e}");
    let e = run_err(&["sweep", "status", s(tmp.path())]);
    assert!(e.contains("not a sweep directory"), "{e}");
    // A point that fails records its error and the sweep says which.
    let bad = tmp.path().join("bad");
    let e = run_err(&[
        "sweep",
        MLP,
        "--part",
        "xcvu9p",
        "--out",
        s(&bad),
        "--reuse-factor",
        "1,3",
        "--tb-samples",
        "4",
    ]);
    assert!(e.contains("1 point(s) did not finish (p001)"), "{e}");
    let r = json(&bad.join("points/p001/result.json"));
    assert!(r["error"].as_str().unwrap().contains("reuse"), "{r}");
    // --resubmit-failed runs the failed point again, and only it.
    let mut again = vec!["sweep", MLP, "--part", "xcvu9p", "--out", s(&bad), "--reuse-factor", "1,3"];
    again.extend(["--tb-samples", "4", "--resubmit-failed"]);
    let e = run_err(&again);
    assert!(e.contains("2 points, 1 to run here"), "{e}");
    let log = std::fs::read_to_string(bad.join("points/p001/worker.log")).unwrap();
    assert_eq!(log.matches("error: point p001").count(), 2, "{log}");
}
