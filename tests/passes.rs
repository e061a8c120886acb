//! The default pipeline on hand-built graphs: fusion, typing, exact accumulators, tables, reuse
//! factors, configuration precedence.

use hls_gen::config::Config;
use hls_gen::fixed::FixedType;
use hls_gen::ir::{
    self, Activation, BatchNorm, BinaryOp, Dense, Elementwise, Graph, Input, Layer, Shape, Softmax, Stage,
    Table, Weights,
};
use hls_gen::passes::{lower, PassContext, PassManager};

fn weights(shape: &[usize], seed: u64) -> Weights {
    let n: usize = shape.iter().product();
    let mut s = seed;
    let values = (0..n)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 33) as f64 / (1u64 << 31) as f64 - 0.5) * 0.8
        })
        .collect();
    Weights::new(Shape::new(shape), values)
}

/// input[8] -> MatMul[8x6] -> Add -> BatchNorm -> Relu -> Dense[6x3] -> Sigmoid ; Softmax
fn mlp() -> Graph {
    let mut g = Graph::new("mlp");
    let x = g.add("in", Layer::Input(Input::new(Shape::new([8]))), &[]).unwrap();
    let dense = Dense {
        weights: weights(&[8, 6], 1),
        bias: Weights::new(Shape::new([6]), vec![0.0; 6]),
        accum: None,
    };
    let mm = g.add("dense/MatMul:0", Layer::Dense(dense), &[x]).unwrap();
    let bias = Layer::Elementwise(Elementwise { op: BinaryOp::Add, constant: Some(weights(&[6], 2)) });
    let add = g.add("dense/BiasAdd", bias, &[mm]).unwrap();
    let bn = Layer::BatchNorm(BatchNorm { scale: weights(&[6], 3), bias: weights(&[6], 4) });
    let bn = g.add("bn", bn, &[add]).unwrap();
    let relu = g.add("relu", Layer::Activation(Activation::Relu), &[bn]).unwrap();
    let lin = g.add("linear", Layer::Activation(Activation::Linear), &[relu]).unwrap();
    let dense = Dense { weights: weights(&[6, 3], 5), bias: weights(&[3], 6), accum: None };
    let d2 = g.add("dense_2", Layer::Dense(dense), &[lin]).unwrap();
    let sig = g.add("sig", Layer::Activation(Activation::Sigmoid(Table::sigmoid_default())), &[d2]).unwrap();
    let sm = g.add("softmax", Layer::Softmax(Softmax::default_for(3)), &[sig]).unwrap();
    g.set_outputs(vec![sm]);
    ir::validate(&g, Stage::Imported).expect("hand-built graph is valid");
    g
}

fn kinds(g: &Graph) -> Vec<&'static str> {
    g.topo_order().unwrap().iter().map(|&i| g.node(i).layer.kind()).collect()
}

#[test]
fn default_pipeline_fuses_and_types_everything() {
    let (g, runs) = lower(mlp(), &PassContext::default(), &[]).expect("lowers");
    assert_eq!(kinds(&g), ["input", "dense", "activation", "dense", "activation", "softmax"]);
    let default = Config::default().default_precision;
    assert_eq!(default.to_string(), "ap_fixed<16,6,AP_RND,AP_SAT>");
    for id in g.node_ids() {
        let n = g.node(id);
        match &n.layer {
            Layer::Softmax(_) => assert_eq!(n.ty.unwrap().to_string(), "ap_ufixed<16,0,AP_RND,AP_SAT>"),
            Layer::Activation(Activation::Sigmoid(t)) => assert_eq!(n.ty, Some(t.ty)),
            _ => assert_eq!(n.ty, Some(default), "{}", n.name),
        }
        if let Layer::Dense(d) = &n.layer {
            assert_eq!(d.weights.ty, Some(default));
            let acc = d.accum.unwrap();
            // Products of two ap_fixed<16,6> have 20 fractional bits; the exact accumulator keeps them.
            assert_eq!(acc.frac_bits(), 20, "{}", n.name);
            assert!(acc.width <= 16 + 16 + 4, "accumulator {acc} is wider than needed");
        }
        for (_, t) in n.layer.tables() {
            assert_eq!(t.values.len(), t.len());
        }
    }
    assert!(runs.iter().any(|r| r.pass == "fuse-bias" && r.report.changes == 1));
    assert!(runs.iter().any(|r| r.pass == "fuse-batch-norm" && r.report.changes == 1));
}

#[test]
fn exact_accumulator_covers_the_worst_case_sum() {
    let (g, _) = lower(mlp(), &PassContext::default(), &[]).unwrap();
    let id = g.find("dense_2").unwrap();
    let Layer::Dense(d) = &g.node(id).layer else { panic!() };
    let acc = d.accum.unwrap();
    let x = g.node(g.inputs_of(id)[0]).ty.unwrap();
    let xmax = x.max_raw().max(-x.min_raw()) as f64 * x.lsb();
    for j in 0..d.n_out() {
        let worst: f64 = d.bias.values[j].abs()
            + (0..d.n_in()).map(|i| d.weights.values[i * d.n_out() + j].abs() * xmax).sum::<f64>();
        assert!(worst <= acc.max_raw() as f64 * acc.lsb(), "{worst} exceeds {acc}");
        assert!(-worst >= acc.min_raw() as f64 * acc.lsb());
    }
}

#[test]
fn configuration_precedence_and_auto() {
    let cfg = Config::from_yaml_str(
        "Model:\n  Precision: ap_fixed<12,4>\n  ReuseFactor: 2\nLayerType:\n  Dense:\n    Precision:\n      weight: ap_fixed<8,2>\nLayerName:\n  dense_2:\n    ReuseFactor: 3\n    Precision: { result: auto, accum: \"ap_fixed<20,8>\" }\n  sig:\n    TableSize: 256\n",
        "test",
    )
    .expect("parses");
    let (g, _) = lower(mlp(), &PassContext { config: cfg, prune_below: None }, &[]).expect("lowers");
    let d1 = g.node(g.find("dense/MatMul:0").unwrap());
    let Layer::Dense(d) = &d1.layer else { panic!() };
    assert_eq!(d.weights.ty, Some(FixedType::new(8, 2, true)));
    assert_eq!(d1.ty, Some(FixedType::new(12, 4, true)));
    assert_eq!(d1.reuse_factor, 2);
    let d2 = g.node(g.find("dense_2").unwrap());
    assert_eq!(d2.reuse_factor, 3);
    let Layer::Dense(d) = &d2.layer else { panic!() };
    assert_eq!(d.accum, Some(FixedType::new(20, 8, true)));
    assert_eq!(d2.ty, d.accum, "auto result of a Dense is its accumulator");
    let sig = g.node(g.find("sig").unwrap());
    assert_eq!(sig.layer.tables()[0].1.len(), 256);
}

#[test]
fn illegal_reuse_factor_lists_nearest_legal_values() {
    let cfg = Config::from_yaml_str("LayerName:\n  dense_2:\n    ReuseFactor: 5\n", "test").unwrap();
    let err = lower(mlp(), &PassContext { config: cfg, prune_below: None }, &[]).unwrap_err().to_string();
    assert!(err.contains("dense_2") && err.contains("nearest legal values: 3, 6"), "{err}");
}

#[test]
fn unknown_configured_layer_is_an_error() {
    let cfg = Config::from_yaml_str("LayerName:\n  nope:\n    ReuseFactor: 2\n", "test").unwrap();
    let err = lower(mlp(), &PassContext { config: cfg, prune_below: None }, &[]).unwrap_err().to_string();
    assert!(err.contains("nope"), "{err}");
}

#[test]
fn prune_below_zeroes_small_weights() {
    let (g, runs) =
        lower(mlp(), &PassContext { config: Config::default(), prune_below: Some(0.2) }, &[]).unwrap();
    let Layer::Dense(d) = &g.node(g.find("dense_2").unwrap()).layer else { panic!() };
    assert!(d.weights.values.iter().all(|&w| w == 0.0 || w.abs() >= 0.2));
    assert!(d.weights.zeros() > 0);
    let prune = runs.iter().find(|r| r.pass == "prune").unwrap();
    assert!(prune.report.changes > 0 && prune.report.notes.iter().any(|n| n.contains("pruned")));
}

#[test]
fn float_pipeline_only_restructures() {
    let mut g = mlp();
    PassManager::new("float").unwrap().run(&mut g, &PassContext::default(), &[]).unwrap();
    assert_eq!(kinds(&g), ["input", "dense", "activation", "dense", "activation", "softmax"]);
    assert!(g.node_ids().iter().all(|&i| g.node(i).ty.is_none()));
}

#[test]
fn dump_after_unknown_pass_is_an_error() {
    let err = PassManager::new("default").unwrap().run(&mut mlp(), &PassContext::default(), &["nope".into()]);
    assert!(err.unwrap_err().to_string().contains("unknown pass 'nope'"));
}

#[test]
fn yaml_errors_name_the_key() {
    let e = Config::from_yaml_str("Model:\n  Precision: ap_fixed<16>\n", "cfg.yml").unwrap_err().to_string();
    assert!(e.contains("Model.Precision"), "{e}");
    let e = Config::from_yaml_str("Modle: {}\n", "cfg.yml").unwrap_err().to_string();
    assert!(e.contains("cfg.yml") && e.contains("Modle"), "{e}");
    let e =
        Config::from_yaml_str("LayerType:\n  Conv9D: {ReuseFactor: 2}\n", "cfg.yml").unwrap_err().to_string();
    assert!(e.contains("Conv9D"), "{e}");
}

/// input[2,3] -> Transpose[1,0] -> Reshape[6] -> Dense[6x2] (a channels-first flatten), and a conv
/// followed by a batch norm and a per-channel bias.
#[test]
fn transposes_before_a_flatten_fold_into_the_dense_rows_and_convs_fuse() {
    let mut g = Graph::new("flatten");
    let x = g.add("in", Layer::Input(Input::new(Shape::new([2, 3]))), &[]).unwrap();
    let t = g.add("t", Layer::Transpose(ir::Transpose { perm: vec![1, 0] }), &[x]).unwrap();
    let r = g.add("flat", Layer::Reshape(ir::Reshape::new(Shape::new([6]))), &[t]).unwrap();
    let w = weights(&[6, 2], 9);
    let dense = Dense { weights: w.clone(), bias: Weights::new(Shape::new([2]), vec![0.0; 2]), accum: None };
    let d = g.add("fc", Layer::Dense(dense), &[r]).unwrap();
    g.set_outputs(vec![d]);
    PassManager::new("float").unwrap().run(&mut g, &PassContext::default(), &[]).unwrap();
    assert_eq!(kinds(&g), ["input", "reshape", "dense"]);
    let Layer::Dense(folded) = &g.node(g.find("fc").unwrap()).layer else { panic!() };
    // x = [[a, b, c], [d, e, f]]; flatten(x^T) = [a, d, b, e, c, f] meets rows 0..6 of w; flatten(x)
    // = [a, b, c, d, e, f] must meet the same weights.
    let x: Vec<f64> = (1..=6).map(f64::from).collect();
    let xt = [x[0], x[3], x[1], x[4], x[2], x[5]];
    for j in 0..2 {
        let want: f64 = (0..6).map(|m| xt[m] * w.values[m * 2 + j]).sum();
        let got: f64 = (0..6).map(|i| x[i] * folded.weights.values[i * 2 + j]).sum();
        assert!((want - got).abs() < 1e-12, "output {j}: {want} vs {got}");
    }

    let mut g = Graph::new("conv");
    let x = g.add("in", Layer::Input(Input::new(Shape::new([5, 2]))), &[]).unwrap();
    let conv = ir::Conv {
        weights: weights(&[3, 2, 4], 11),
        bias: Weights::new(Shape::new([4]), vec![0.5; 4]),
        strides: vec![1],
        dilations: vec![1],
        pads_begin: vec![1],
        pads_end: vec![1],
        groups: 1,
        accum: None,
    };
    let c = g.add("conv", Layer::Conv(conv), &[x]).unwrap();
    let add = Layer::Elementwise(Elementwise { op: BinaryOp::Add, constant: Some(weights(&[1, 4], 12)) });
    let add = g.add("bias", add, &[c]).unwrap();
    let bn = Layer::BatchNorm(BatchNorm { scale: weights(&[4], 13), bias: weights(&[4], 14) });
    let bn = g.add("bn", bn, &[add]).unwrap();
    g.set_outputs(vec![bn]);
    PassManager::new("float").unwrap().run(&mut g, &PassContext::default(), &[]).unwrap();
    assert_eq!(kinds(&g), ["input", "conv"]);
    let Layer::Conv(fused) = &g.node(g.find("conv").unwrap()).layer else { panic!() };
    let (add_c, s, b) = (weights(&[1, 4], 12), weights(&[4], 13), weights(&[4], 14));
    for f in 0..4 {
        let want = (0.5 + add_c.values[f]) * s.values[f] + b.values[f];
        assert!((fused.bias.values[f] - want).abs() < 1e-12);
        let w0 = weights(&[3, 2, 4], 11).values[f];
        assert!((fused.weights.values[f] - w0 * s.values[f]).abs() < 1e-12);
    }
}
