//! The interaction network of issue 16 (graph neural network for track finding), built by
//! `scripts/make_gnn_models.py` as PyTorch Geometric exports it (`Gather` of rows by the graph's
//! `edge_index`, `Concat`, row-wise `MatMul` MLPs, `ScatterND` / `ScatterElements` sums, `Sigmoid`),
//! with onnxruntime's outputs in `tests/data/gnn/`: the f64 reference equals onnxruntime, the
//! emitted project's C simulation equals the bit-accurate simulator, an index out of range is an
//! error naming the index input and its position, inputs keyed by name in an `.npz` (numpy's
//! stored and compressed forms, `scripts/make_npz_inputs.py`) equal the `.npy` files given in
//! order, and the estimate of the (28, 56) network; the resource-optimized form
//! (`--edge-parallelism N`) is bit-exact in C simulation with partial last chunks, and its
//! estimate shares each row-wise layer's operators over the rows.

#[path = "common/bin.rs"]
mod bin;
#[path = "common/onnx_proto.rs"]
mod onnx_proto;

use std::path::{Path, PathBuf};

use bin::{hls_gen, root, text};

const PRECISION: &str = "ap_fixed<14,7>";

fn data(model: &str, file: &str) -> String {
    format!("tests/data/gnn/{model}/{file}")
}

fn onnx(model: &str) -> String {
    format!("tests/models/onnx/{model}.onnx")
}

/// The float64 values of a `.npy` file.
fn npy(path: &Path) -> Vec<f64> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    npyz::NpyFile::new(&bytes[..]).expect("npy header").into_vec::<f64>().expect("float64 data")
}

/// `sim` of `model` on its recorded events with `extra` flags; the outputs.
fn sim(model: &str, extra: &[&str], out: &Path) -> Vec<f64> {
    let (x, e, ei) = (data(model, "x.npy"), data(model, "e.npy"), data(model, "edge_index.npy"));
    let (o, model_path) = (out.to_string_lossy().into_owned(), onnx(model));
    let mut args =
        vec!["sim", "-q", &model_path, "--input", &x, "--input", &e, "--input", &ei, "--output", &o];
    args.extend_from_slice(extra);
    let run = hls_gen(&args);
    assert!(run.status.success(), "{}", text(&run));
    npy(out)
}

#[test]
fn float_reference_equals_onnxruntime() {
    let tmp = tempfile::tempdir().unwrap();
    for model in ["gnn_in_28_56", "gnn_in_small_elements"] {
        let got = sim(model, &["--float"], &tmp.path().join(format!("{model}.npy")));
        let want = npy(&root().join(data(model, "expected_float.npy")));
        assert_eq!(got.len(), want.len(), "{model}");
        let worst = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        // onnxruntime computes in float32; the reference in f64.
        assert!(worst < 1e-5, "{model}: largest difference {worst}");
    }
}

#[test]
fn fixed_point_follows_the_float_model() {
    let tmp = tempfile::tempdir().unwrap();
    let model = "gnn_in_28_56";
    let got = sim(model, &["--precision", PRECISION], &tmp.path().join("fixed.npy"));
    let want = npy(&root().join(data(model, "expected_float.npy")));
    let worst = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    assert!(worst < 0.05, "largest difference from onnxruntime at {PRECISION}: {worst}");
}

#[test]
fn an_index_out_of_range_is_an_error_naming_the_input_and_position() {
    let tmp = tempfile::tempdir().unwrap();
    let model = "gnn_in_28_56";
    let (x, e, bad) = (data(model, "x.npy"), data(model, "e.npy"), data(model, "bad_edge_index.npy"));
    let (out, model_path) = (tmp.path().join("y.npy").to_string_lossy().into_owned(), onnx(model));
    for float in [false, true] {
        let mut args =
            vec!["sim", &model_path, "--input", &x, "--input", &e, "--input", &bad, "--output", &out];
        if float {
            args.push("--float");
        }
        let run = hls_gen(&args);
        let msg = text(&run);
        assert!(!run.status.success(), "{msg}");
        assert!(msg.contains("index input 'edge_index', sample 0, position 28"), "{msg}");
        assert!(msg.contains("index 28 is outside 0..28") && !msg.contains("panicked"), "{msg}");
    }
}

/// A float64 `.npy` of `values` with shape `shape`.
fn f64_npy(path: &Path, shape: &[usize], values: &[f64]) {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': ({},), }}", dims.join(", "));
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    values.iter().for_each(|v| bytes.extend_from_slice(&v.to_le_bytes()));
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn inputs_in_the_models_layout_and_their_mistakes() {
    let tmp = tempfile::tempdir().unwrap();
    let model = "gnn_in_28_56";
    let model_path = onnx(model);
    let (x, e) = (npy(&root().join(data(model, "x.npy"))), npy(&root().join(data(model, "e.npy"))));
    let ei_bytes = std::fs::read(root().join(data(model, "edge_index.npy"))).unwrap();
    let ei: Vec<f64> = npyz::NpyFile::new(&ei_bytes[..])
        .unwrap()
        .into_vec::<i64>()
        .unwrap()
        .iter()
        .map(|&v| v as f64)
        .collect();
    let write = |name: &str, shape: &[usize], values: &[f64]| {
        let path = tmp.path().join(name);
        f64_npy(&path, shape, values);
        path.to_string_lossy().into_owned()
    };
    let out = tmp.path().join("y.npy").to_string_lossy().into_owned();
    let run = |inputs: [&str; 3]| {
        hls_gen(&[
            "sim",
            "-q",
            &model_path,
            "--input",
            inputs[0],
            "--input",
            inputs[1],
            "--input",
            inputs[2],
            "--output",
            &out,
        ])
    };
    let (xs, es) = (write("x.npy", &[8, 28, 3], &x), write("e.npy", &[8, 56, 4], &e));

    // One graph, in the shapes onnxruntime takes, is one sample: the first of the batch.
    let all = sim(model, &[], &tmp.path().join("all.npy"));
    let one = [
        write("x1.npy", &[28, 3], &x[..84]),
        write("e1.npy", &[56, 4], &e[..224]),
        write("ei1.npy", &[2, 56], &ei[..112]),
    ];
    let o = run([&one[0], &one[1], &one[2]]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(npy(Path::new(&out)), all[..56]);

    // A fraction in an integer input is an error, never rounded.
    let mut frac = ei.clone();
    frac[5] += 0.5;
    let o = run([&xs, &es, &write("frac.npy", &[8, 2, 56], &frac)]);
    let msg = text(&o);
    assert_eq!(o.status.code(), Some(1), "{msg}");
    assert!(msg.contains("input 'edge_index', sample 0, index [0, 5] is "), "{msg}");
    assert!(msg.contains("declares 'edge_index' as integers"), "{msg}");

    // A NaN is located in its own input, in the model's coordinates.
    let mut nan = e.clone();
    nan[3 * 224 + 10 * 4 + 2] = f64::NAN;
    let ei_path = data(model, "edge_index.npy");
    let o = run([&xs, &write("nan.npy", &[8, 56, 4], &nan), &ei_path]);
    let msg = text(&o);
    assert_eq!(o.status.code(), Some(1), "{msg}");
    assert!(msg.contains("input 'e', sample 3, index [10, 2] is NaN"), "{msg}");

    // A wrong shape says which shapes would do.
    let o = run([&write("bad.npy", &[8, 3, 28], &x), &es, &ei_path]);
    assert!(text(&o).contains("input 'x', of shape [28, 3] in the model's layout (expected [N, 28, 3], or [28, 3] for one sample)"), "{}", text(&o));
}

/// `compile` of the (28, 56) network at the settings into `dir`, with `tb` flags.
fn compile(dir: &Path, tb: &[&str]) {
    compile_with(dir, tb, &[]);
}

/// [`compile`] with `extra` flags.
fn compile_with(dir: &Path, tb: &[&str], extra: &[&str]) {
    let (d, model_path) = (dir.to_string_lossy().into_owned(), onnx("gnn_in_28_56"));
    let mut args = vec![
        "compile",
        "-q",
        &model_path,
        "--part",
        "xcvu9p",
        "--precision",
        PRECISION,
        "--clock-period",
        "5",
    ];
    args.extend_from_slice(&["-o", &d]);
    args.extend_from_slice(tb);
    args.extend_from_slice(extra);
    let run = hls_gen(&args);
    assert!(run.status.success(), "{}", text(&run));
}

/// Five rows per cycle: the 56 edge rows end in a chunk of one row, the 28 node rows in a chunk of
/// three, so the padding rows of both must stay out of the sums and the outputs.
#[test]
fn the_resource_form_csim_is_bit_exact() {
    let Some(ap) = ap_types() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("rows");
    compile_with(&dir, &["--tb-input", &data("gnn_in_28_56", "inputs.npz")], &["--edge-parallelism", "5"]);
    let top = std::fs::read_to_string(dir.join("firmware/myproject.cpp")).unwrap();
    assert!(top.contains("#pragma HLS DATAFLOW") && top.contains("ram_1wnr"), "not the resource form");
    let d = dir.to_string_lossy().into_owned();
    let run = hls_gen(&["csim", &d, "--ap-types", &ap.to_string_lossy()]);
    let msg = text(&run);
    assert!(run.status.success() && msg.contains("csim PASSED: 8 samples"), "{msg}");
}

#[test]
fn the_resource_form_shares_each_row_wise_layer_over_the_rows() {
    let n = 8u64;
    let full = estimate("gnn_in_28_56", &[]);
    let shared = estimate("gnn_in_28_56", &["--edge-parallelism", "8"]);
    // ceil(28 / 8) node chunks stored, then ceil(56 / 8) edge chunks gathered.
    assert_eq!(shared["total"]["ii"], 4 + 7, "{}", shared["total"]);
    let layers = |e: &serde_json::Value| e["layers"].as_array().unwrap().clone();
    let (a, b) = (layers(&full), layers(&shared));
    assert_eq!(a.len(), b.len());
    let mut dense = 0;
    for (t, r) in a.iter().zip(&b) {
        assert_eq!(t["name"], r["name"]);
        if t["kind"] != "dense" {
            continue;
        }
        dense += 1;
        let rows: u64 = t["shape"].as_str().unwrap().split('×').next().unwrap().parse().unwrap();
        let (dt, dr) = (t["dsp"].as_u64().unwrap(), r["dsp"].as_u64().unwrap());
        assert!(dr > 0, "{}", r["name"]);
        // One copy of the row's operators per row of a chunk instead of per row of the tensor.
        assert_eq!(dt * n, dr * rows, "{}: {dt} DSPs for {rows} rows, {dr} for {n}", t["name"]);
    }
    assert_eq!(dense, 9);
    let total = |e: &serde_json::Value, k: &str| e["total"][k].as_u64().unwrap();
    assert!(total(&shared, "dsp") * 5 < total(&full, "dsp"), "{}", shared["total"]);
    assert!(total(&shared, "lut") * 4 < total(&full, "lut"), "{}", shared["total"]);
    // The configuration's `Model: EdgeParallelism` is the same choice; the command line wins.
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("config.yml");
    std::fs::write(&config, "HLSConfig:\n  Model:\n    EdgeParallelism: 8\n").unwrap();
    let config = config.to_string_lossy().into_owned();
    let configured = estimate("gnn_in_28_56", &["--config", &config]);
    assert_eq!(configured["total"], shared["total"]);
    let overridden = estimate("gnn_in_28_56", &["--config", &config, "--edge-parallelism", "4"]);
    assert_eq!(overridden["total"]["ii"], 7 + 14, "{}", overridden["total"]);
    std::fs::write(tmp.path().join("config.yml"), "HLSConfig:\n  Model:\n    EdgeParallelism: 0\n").unwrap();
    let model = onnx("gnn_in_28_56");
    let run = hls_gen(&["estimate", &model, "--part", "xcvu9p", "--config", &config]);
    let msg = text(&run);
    assert_eq!(run.status.code(), Some(1), "{msg}");
    assert!(msg.contains("EdgeParallelism") && msg.contains("config.yml"), "{msg}");
    // The large graph fits the part's DSPs at 8 rows per cycle; II = 448 / 8 + 896 / 8.
    let big = estimate("gnn_in_448_896", &["--edge-parallelism", "8"]);
    assert_eq!(big["total"]["ii"], 56 + 112, "{}", big["total"]);
    assert!(total(&big, "dsp") < 6840, "{}", big["total"]);
}

#[test]
fn edge_parallelism_outside_a_vitis_graph_design_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("p").to_string_lossy().into_owned();
    let cases: [(&str, &[&str], &str); 3] = [
        ("tests/models/onnx/mlp_float.onnx", &[], "applies to graph models"),
        (&onnx("gnn_in_28_56"), &["--backend", "rtl"], "the RTL backend builds the throughput form only"),
        (&onnx("gnn_in_28_56"), &["--io-type", "io_stream"], "does not combine with io_stream"),
    ];
    for (model, extra, want) in cases {
        let mut args = vec!["compile", model, "--part", "xcvu9p", "--edge-parallelism", "4", "-o", &out];
        args.extend_from_slice(extra);
        let run = hls_gen(&args);
        let msg = text(&run);
        assert_eq!(run.status.code(), Some(1), "{model} {extra:?}: {msg}");
        assert!(msg.contains(want) && !msg.contains("panicked"), "{model} {extra:?}: {msg}");
    }
    let model = onnx("gnn_in_28_56");
    let run = hls_gen(&["estimate", &model, "--part", "xcvu9p", "--edge-parallelism", "0"]);
    assert!(!run.status.success() && !text(&run).contains("panicked"), "{}", text(&run));
}

#[test]
fn csim_is_bit_exact() {
    let Some(ap) = ap_types() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let model = "gnn_in_28_56";
    let (x, e, ei) = (data(model, "x.npy"), data(model, "e.npy"), data(model, "edge_index.npy"));
    let (by_order, by_name) = (tmp.path().join("npy"), tmp.path().join("npz"));
    compile(&by_order, &["--tb-input", &x, "--tb-input", &e, "--tb-input", &ei]);
    compile(&by_name, &["--tb-input", &data(model, "inputs_compressed.npz")]);
    let vectors = |dir: &Path| std::fs::read_to_string(dir.join("tb_data/inputs.txt")).unwrap();
    let lines = vectors(&by_name);
    assert_eq!(lines, vectors(&by_order), "the .npz and the .npy files give other testbench vectors");
    // The int64 edge_index reaches the testbench as the integers it holds, after x and e.
    let bytes = std::fs::read(root().join(&ei)).unwrap();
    let want: Vec<i64> = npyz::NpyFile::new(&bytes[..]).unwrap().into_vec().unwrap();
    let got: Vec<i64> = lines
        .lines()
        .flat_map(|l| l.split_whitespace().skip(28 * 3 + 56 * 4).map(|v| v.parse::<i64>().unwrap()))
        .collect();
    assert_eq!(got, want);
    let d = by_name.to_string_lossy().into_owned();
    let run = hls_gen(&["csim", &d, "--ap-types", &ap.to_string_lossy()]);
    let msg = text(&run);
    assert!(run.status.success() && msg.contains("csim PASSED: 8 samples"), "{msg}");
}

/// An `.npz` member: its name and its `.npy` bytes.
type Member<'a> = (&'a str, &'a [u8]);

/// Writes an `.npz` of `members` with the zip crate, stored or deflated.
fn write_npz(path: &Path, members: &[Member<'_>], method: zip::CompressionMethod) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let options = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, bytes) in members {
        zip.start_file(*name, options).unwrap();
        std::io::Write::write_all(&mut zip, bytes).unwrap();
    }
    zip.finish().unwrap();
}

/// The bytes of one of the (28, 56) network's recorded input files.
fn input_bytes(file: &str) -> Vec<u8> {
    std::fs::read(root().join(data("gnn_in_28_56", file))).unwrap()
}

#[test]
fn npz_inputs_keyed_by_name_equal_the_npy_files_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let model = "gnn_in_28_56";
    let want = sim(model, &["--precision", PRECISION], &tmp.path().join("npy.npy"));
    // Members in another order than the model's inputs: matched by name, not position.
    let shuffled = tmp.path().join("shuffled.npz");
    let (x, e, ei) = (input_bytes("x.npy"), input_bytes("e.npy"), input_bytes("edge_index.npy"));
    let members: [Member<'_>; 3] = [("edge_index.npy", &ei), ("x.npy", &x), ("e.npy", &e)];
    write_npz(&shuffled, &members, zip::CompressionMethod::Deflated);
    let model_path = onnx(model);
    for npz in
        [data(model, "inputs.npz"), data(model, "inputs_compressed.npz"), shuffled.display().to_string()]
    {
        let out = tmp.path().join("npz.npy");
        let o = out.to_string_lossy().into_owned();
        let run =
            hls_gen(&["sim", "-q", &model_path, "--input", &npz, "--output", &o, "--precision", PRECISION]);
        assert!(run.status.success(), "{}", text(&run));
        assert_eq!(npy(&out), want, "{npz}");
    }
}

#[test]
fn bad_npz_inputs_are_errors_naming_the_file_and_key() {
    let tmp = tempfile::tempdir().unwrap();
    let (x, e, ei) = (input_bytes("x.npy"), input_bytes("e.npy"), input_bytes("edge_index.npy"));
    // The last element of edge_index (file order 895) set to 2^53 + 1, then to -1.
    let with_last = |v: i64| {
        let mut b = ei.clone();
        let at = b.len() - 8;
        b[at..].copy_from_slice(&v.to_le_bytes());
        b
    };
    let (huge, negative) = (with_last((1 << 53) + 1), with_last(-1));
    let cases: [(&str, Vec<Member<'_>>, &[&str]); 6] = [
        (
            "missing",
            vec![("x.npy", &x), ("e.npy", &e)],
            &["no array for input(s) 'edge_index'", "missing.npz['x']"],
        ),
        (
            "extra",
            vec![("x.npy", &x), ("e.npy", &e), ("edge_index.npy", &ei), ("y.npy", &e)],
            &["extra.npz['y']: key 'y' is not an input of the model", "'x', 'e', 'edge_index'"],
        ),
        (
            "misshaped",
            vec![("x.npy", &x), ("e.npy", &x), ("edge_index.npy", &ei)],
            &["misshaped.npz['e']: ", "[8, 28, 3]"],
        ),
        ("not_npy", vec![("x.npy", &x), ("e.txt", &e)], &["not_npy.npz: member 'e.txt' is not a .npy array"]),
        (
            "huge",
            vec![("x.npy", &x), ("e.npy", &e), ("edge_index.npy", &huge)],
            &["huge.npz['edge_index']: element 895", "2^53"],
        ),
        (
            "negative",
            vec![("x.npy", &x), ("e.npy", &e), ("edge_index.npy", &negative)],
            &["index input 'edge_index', sample 7, position 55: index -1 is outside 0..28"],
        ),
    ];
    let model_path = onnx("gnn_in_28_56");
    let out = tmp.path().join("y.npy").to_string_lossy().into_owned();
    for (name, members, wants) in cases {
        let path = tmp.path().join(format!("{name}.npz"));
        write_npz(&path, &members, zip::CompressionMethod::Stored);
        let p = path.to_string_lossy().into_owned();
        let run = hls_gen(&["sim", &model_path, "--input", &p, "--output", &out]);
        let msg = text(&run);
        assert_eq!(run.status.code(), Some(1), "{name}: {msg}");
        assert!(!msg.contains("panicked"), "{name}: {msg}");
        for want in wants {
            assert!(msg.contains(want), "{name}: no '{want}' in: {msg}");
        }
    }
    // An .npz cannot be mixed with .npy files given in order.
    let path = tmp.path().join("missing.npz").to_string_lossy().into_owned();
    let ei_path = data("gnn_in_28_56", "edge_index.npy");
    let run = hls_gen(&["sim", &model_path, "--input", &path, "--input", &ei_path, "--output", &out]);
    let msg = text(&run);
    assert!(!run.status.success() && msg.contains("is keyed by input name but"), "{msg}");
}

/// Where the ap_types headers are, as `tests/common` finds them.
fn ap_types() -> Option<PathBuf> {
    let candidates =
        [std::env::var_os("HLS_GEN_AP_TYPES").map(PathBuf::from), Some(root().join("target/ap_types"))];
    if let Some(found) = candidates.into_iter().flatten().find(|p| p.join("ap_fixed.h").is_file()) {
        return Some(found);
    }
    assert!(std::env::var_os("CI").is_none(), "ap_types headers not found: set HLS_GEN_AP_TYPES");
    eprintln!("notice: ap_types headers not found; skipping the C simulation");
    None
}

/// The estimate's JSON for `model` with `extra` flags.
fn estimate(model: &str, extra: &[&str]) -> serde_json::Value {
    let model_path = onnx(model);
    let mut args = vec!["estimate", &model_path[..], "--part", "xcvu9p", "--precision", PRECISION, "--json"];
    args.extend_from_slice(extra);
    let run = hls_gen(&args);
    assert!(run.status.success(), "{}", text(&run));
    serde_json::from_slice(&run.stdout).expect("estimate JSON")
}

#[test]
fn the_throughput_form_runs_at_ii_1_and_says_where_the_dsps_run_out() {
    for tool in ["vitis", "vivado"] {
        let est = estimate("gnn_in_28_56", &["--hls-tool", tool]);
        let total = &est["total"];
        let dsp = total["dsp"].as_u64().unwrap();
        assert_eq!(total["ii"], 1, "{tool}");
        let overflow = est["assumptions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a.as_str().unwrap().contains("in LUTs as shift-and-add"));
        // Vivado HLS maps the 14-bit constant products to DSPs: more than the part has, which the
        // totals keep (as C synthesis reports them) and an assumption prices in LUTs.
        assert_eq!(overflow, tool == "vivado", "{tool}: {}", est["assumptions"]);
        assert_eq!(overflow, dsp > 6840, "{tool}: {dsp} DSPs");
        // After logic synthesis the DSPs fit the part and the moved products are LUTs; Vivado
        // HLS's csynth LUTs are scaled to synthesized ones.
        let after = &est["after_synthesis"];
        assert_eq!(after.is_object(), tool == "vivado", "{tool}: {after}");
        if overflow {
            let n = |k: &str| after[k].as_u64().unwrap();
            assert_eq!(n("asked"), dsp);
            assert_eq!(n("dsp"), dsp - n("moved"));
            assert!(n("dsp") <= 6840 && n("dsp") > 6840 * 99 / 100, "{after}");
            assert!(n("lut_added") > 0);
            let scale = after["lut_scale"].as_f64().unwrap();
            let csynth = (total["lut"].as_u64().unwrap() + n("lut_added")) as f64;
            assert_eq!(n("lut"), (csynth * scale).round() as u64);
        }
        let layers = est["layers"].as_array().unwrap();
        for kind in ["gather_rows", "scatter_add"] {
            assert!(
                layers.iter().any(|l| l["kind"] == kind && l["lut"].as_u64().unwrap() > 0),
                "{tool}: {kind}"
            );
        }
    }
}

#[test]
fn the_large_graph_is_estimated() {
    let est = estimate("gnn_in_448_896", &[]);
    assert_eq!(est["total"]["ii"], 1);
    // Far beyond the part in the throughput form: the fit warning says so.
    assert!(est["total"]["dsp"].as_u64().unwrap() > 6840, "{}", est["total"]);
    assert!(est["warnings"].as_array().is_some_and(|w| !w.is_empty()), "{}", est["warnings"]);
    let gathers = est["layers"].as_array().unwrap().iter().filter(|l| l["kind"] == "gather_rows").count();
    assert_eq!(gathers, 4);
}

/// The RTL backend builds the graph layers and the row-wise MLPs (bit for bit under Verilator in
/// `tests/rtl_verilator.rs`, on a smaller generated block: this network's 16-bit Verilog takes
/// over a minute to build); its streaming form refuses the graph layers by name.
#[test]
fn the_rtl_backend_builds_the_interaction_network() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("rtl").to_string_lossy().into_owned();
    let model_path = onnx("gnn_in_small_elements");
    let run = hls_gen(&["compile", &model_path, "--part", "xcvu9p", "--backend", "rtl", "-o", &out, "-q"]);
    assert!(run.status.success(), "{}", text(&run));
    let rtl = tmp.path().join("rtl/rtl");
    for module in ["x_sender_5", "aggregate_27", "edge_mlp0_matmul_9"] {
        assert!(rtl.join(format!("myproject__{module}.v")).is_file(), "{module}");
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("rtl/report.json")).unwrap()).unwrap();
    // Gathers, concatenation, three dense + relu pairs, scatter-add, concatenation, three more,
    // gathers, concatenation, three more and the sigmoid: one cycle each.
    assert_eq!(
        (report["total"]["latency_cycles"].as_u64(), report["total"]["ii"].as_u64()),
        (Some(22), Some(1))
    );

    let out = tmp.path().join("stream").to_string_lossy().into_owned();
    let run = hls_gen(&[
        "compile",
        &model_path,
        "--part",
        "xcvu9p",
        "--backend",
        "rtl",
        "--io-type",
        "io_stream",
        "-o",
        &out,
    ]);
    let msg = text(&run);
    assert!(!run.status.success(), "{msg}");
    assert!(
        msg.contains("'x_sender_5': gather_rows") && msg.contains("'aggregate_27': scatter_add"),
        "{msg}"
    );
    assert!(!msg.contains("panicked") && !tmp.path().join("stream").exists(), "{msg}");
}

/// A graph model has no batch axis: an operator whose axes the importer counts with one is
/// refused by name (all of them at once), never read one axis off.
#[test]
fn operators_that_assume_a_batch_axis_are_refused_in_a_graph_model() {
    use onnx_proto::{onnx_node, save_model, value_info_fixed};
    let mut g = onnx_protobuf::GraphProto::new();
    g.name = "graph_softmax".into();
    g.input.push(value_info_fixed("x", 1, &[4, 3]));
    g.input.push(value_info_fixed("idx", 7, &[2]));
    g.node.push(onnx_node("Gather", "rows", &["x", "idx"], "g"));
    g.node.push(onnx_node("Softmax", "probs", &["g"], "p"));
    g.node.push(onnx_node("Flatten", "flat", &["p"], "y"));
    g.output.push(value_info_fixed("y", 1, &[1, 6]));
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("graph_softmax.onnx");
    save_model(g, &model);
    let run = hls_gen(&["inspect", &model.to_string_lossy()]);
    let msg = text(&run);
    assert_eq!(run.status.code(), Some(1), "{msg}");
    for node in ["'probs'", "'flat'", "graph model"] {
        assert!(msg.contains(node), "{node} missing from: {msg}");
    }
    assert!(!msg.contains("'rows'"), "{msg}");
}
