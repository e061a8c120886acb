//! The report renderers: the `report.json` schema (snapshot in `golden/estimate/`), the text
//! table and the Markdown report.

use hls_gen::estimate::{self, lookup_part, report};
use hls_gen::fixed::FixedType;
use hls_gen::ir::{Activation, Dense, Graph, Input, Layer, LoweredGraph, Shape, Weights};

fn small_mlp() -> LoweredGraph {
    let fx = FixedType::new(16, 6, true);
    let typed = |shape: Shape, values: Vec<f64>| {
        let mut w = Weights::new(shape, values);
        w.ty = Some(fx);
        w
    };
    let mut g = Graph::new("mlp");
    let mut prev = g.add("input_1", Layer::Input(Input::new(Shape::new([4]))), &[]).unwrap();
    g.node_mut(prev).ty = Some(fx);
    for (l, (n_in, n_out)) in [(4usize, 4usize), (4, 2)].into_iter().enumerate() {
        let w: Vec<f64> = (0..n_in * n_out).map(|i| [0.7451171875, 0.0, -0.5, 0.3330078125][i % 4]).collect();
        let d = Dense {
            weights: typed(Shape::new([n_in, n_out]), w),
            bias: typed(Shape::new([n_out]), vec![0.25; n_out]),
            accum: Some(fx),
        };
        prev = g.add(format!("fc{}", l + 1), Layer::Dense(d), &[prev]).unwrap();
        g.node_mut(prev).ty = Some(fx);
        g.node_mut(prev).reuse_factor = 1 + l;
        prev = g.add(format!("relu{}", l + 1), Layer::Activation(Activation::Relu), &[prev]).unwrap();
        g.node_mut(prev).ty = Some(fx);
    }
    g.set_outputs(vec![prev]);
    LoweredGraph::new(g).unwrap()
}

fn estimate() -> estimate::Estimate {
    estimate::estimate(&small_mlp(), &lookup_part("xczu3eg").unwrap(), 5.0).unwrap()
}

#[test]
fn json_schema_snapshot() {
    let json = report::to_json(&estimate());
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    for key in ["schema", "part", "clock_ns", "total", "layers"] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    for key in ["latency_cycles", "latency_ns", "ii", "dsp", "lut", "ff", "bram18"] {
        assert!(v["total"].get(key).is_some(), "total.{key}");
        for l in v["layers"].as_array().unwrap() {
            assert!(l.get(key).is_some(), "layer {key}");
        }
    }
    for l in v["layers"].as_array().unwrap() {
        for key in ["name", "kind", "reuse_factor"] {
            assert!(l.get(key).is_some(), "layer {key}");
        }
    }
    insta::with_settings!({ snapshot_path => "../golden/estimate", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("report_json", json);
    });
}

#[test]
fn text_and_markdown() {
    let e = estimate();
    let text = report::to_text(&e);
    insta::with_settings!({ snapshot_path => "../golden/estimate", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("report_txt", text);
    });
    assert!(text.contains("fc1") && text.contains("total") && text.contains("% of part"));
    let md = report::to_markdown(&e);
    assert!(md.starts_with("# Resource and latency estimate") && md.contains("| fc2 | dense | 2 | 2 |"));
    let assumed = md.split("## What the estimate assumes").nth(1).expect("an assumptions section");
    assert!(assumed.contains("dataflow region") && assumed.contains("Layer 'fc2' runs 2 steps of 2 inputs"));
    assert!(assumed.contains("LUTRAM up to 1024 bits"));
}

#[test]
fn fit_warnings_are_rendered() {
    let e = estimate::estimate(&small_mlp(), &lookup_part("xc7z020").unwrap(), 5.0).unwrap();
    assert!(e.warnings.is_empty());
    let mut e = e;
    e.warnings.push(estimate::FitWarning { resource: "DSP".into(), used: 300, available: 220 });
    assert!(report::to_text(&e).contains("warning: DSP 300 exceeds the part's 220 (136 %)"));
    assert!(report::to_markdown(&e).contains("## Does not fit"));
}

#[test]
fn report_json_reads_back() {
    let est = estimate();
    let json = report::to_json(&est);
    let s = report::parse_json(&json, "report.json").unwrap();
    assert_eq!(s.schema, report::SCHEMA);
    assert_eq!(s.part, est.part);
    assert_eq!(s.clock_ns, est.clock_ns);
    assert_eq!(s.total, est.total);
    assert_eq!(s.top, None);

    let other = json.replace(report::SCHEMA, "hls-gen-estimate/9");
    let e = report::parse_json(&other, "p/report.json").unwrap_err().to_string();
    assert!(e.contains("p/report.json") && e.contains("hls-gen-estimate/9"), "{e}");
    let e = report::parse_json("{", "p/report.json").unwrap_err().to_string();
    assert!(e.starts_with("p/report.json: not a hls-gen-estimate/1 report"), "{e}");
}
