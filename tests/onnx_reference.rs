//! Checks the meaning of imported graphs, not only their shape: a plain `f64` evaluation of the IR
//! (the model's float semantics, with `Quantize` and model-fixed output types applied exactly) is
//! compared with the reference outputs in `golden/reference/<model>/` that onnxruntime and the
//! qonnx executor produced. Float models agree within float32 rounding; QONNX and QDQ models,
//! whose references are exact dyadic computations, agree bit for bit.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::windows::{conv, gather, pool, reduce};
use hls_gen::fixed::{FixedType, OverflowMode, QuantMode};
use hls_gen::frontend::onnx;
use hls_gen::ir::{layout, Activation, BinaryOp, Graph, Layer, NodeId, Shape};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn npy(path: &Path) -> (Vec<usize>, Vec<f64>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let f = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = f.shape().iter().map(|&d| d as usize).collect();
    (shape, f.into_vec::<f64>().unwrap())
}

/// `ap_fixed` assignment of an exact value: quantization mode, then overflow mode.
fn cast(v: f64, ty: &FixedType) -> f64 {
    let scale = 2f64.powi(ty.frac_bits());
    let raw = v * scale;
    let r = match ty.quant {
        QuantMode::Trn => raw.floor(),
        QuantMode::TrnZero => raw.trunc(),
        QuantMode::RndConv => raw.round_ties_even(),
        QuantMode::RndInf => raw.round(),
        QuantMode::Rnd => (raw + 0.5).floor(),
        QuantMode::RndMinInf => (raw - 0.5).ceil(),
        QuantMode::RndZero => (raw.abs() - 0.5).ceil().copysign(raw),
    };
    let w = ty.width as i32;
    let (lo, hi) =
        if ty.signed { (-(2f64.powi(w - 1)), 2f64.powi(w - 1) - 1.0) } else { (0.0, 2f64.powi(w) - 1.0) };
    let r = match ty.overflow {
        OverflowMode::Sat => r.clamp(lo, hi),
        OverflowMode::SatSym if ty.signed => r.clamp(-hi, hi),
        OverflowMode::SatSym => r.clamp(lo, hi),
        _ => {
            assert!(r >= lo && r <= hi, "wrap overflow in a reference evaluation");
            r
        }
    };
    r / scale
}

fn bcast(c: &hls_gen::ir::Weights, shape: &Shape, i: usize) -> f64 {
    c.values[c.shape.broadcast_index(shape, i)]
}

/// Evaluates the graph on one sample.
fn eval(g: &Graph, input: &[f64]) -> Vec<Vec<f64>> {
    let mut vals: BTreeMap<NodeId, Vec<f64>> = BTreeMap::new();
    for id in g.topo_order().unwrap() {
        let n = g.node(id);
        let ins: Vec<&Vec<f64>> = g.inputs_of(id).iter().map(|i| &vals[i]).collect();
        let mut y: Vec<f64> = match &n.layer {
            Layer::Input(_) => input.to_vec(),
            Layer::Dense(d) => {
                let (k, m) = (d.n_in(), d.n_out());
                (0..m)
                    .map(|j| {
                        d.bias.values[j]
                            + (0..k).map(|i| ins[0][i] * d.weights.values[i * m + j]).sum::<f64>()
                    })
                    .collect()
            }
            Layer::BatchNorm(b) => {
                let c = n.shape.channels();
                let at = |w: &hls_gen::ir::Weights, i: usize| {
                    w.values[if w.values.len() == 1 { 0 } else { i % c }]
                };
                ins[0].iter().enumerate().map(|(i, x)| x * at(&b.scale, i) + at(&b.bias, i)).collect()
            }
            Layer::Activation(a) => ins[0]
                .iter()
                .enumerate()
                .map(|(i, &x)| match a {
                    Activation::Linear => x,
                    Activation::Relu => x.max(0.0),
                    Activation::LeakyRelu { alpha } => {
                        if x >= 0.0 {
                            x
                        } else {
                            alpha.values[0] * x
                        }
                    }
                    Activation::PRelu { alpha } => {
                        if x >= 0.0 {
                            x
                        } else {
                            bcast(alpha, &n.shape, i) * x
                        }
                    }
                    Activation::HardSigmoid { alpha, beta } => {
                        (alpha.values[0] * x + beta.values[0]).clamp(0.0, 1.0)
                    }
                    Activation::Clip { min, max } => {
                        let lo = min.as_ref().map_or(f64::NEG_INFINITY, |w| w.values[0]);
                        let hi = max.as_ref().map_or(f64::INFINITY, |w| w.values[0]);
                        x.max(lo).min(hi)
                    }
                    Activation::Sigmoid(_) => 1.0 / (1.0 + (-x).exp()),
                    Activation::Tanh(_) => x.tanh(),
                    Activation::Softplus(_) => x.max(0.0) + (-x.abs()).exp().ln_1p(),
                    Activation::Softsign(_) => x / (1.0 + x.abs()),
                    Activation::Elu(t) | Activation::Selu { table: t, .. } if x < 0.0 => t.function.eval(x),
                    Activation::Elu(_) => x,
                    Activation::Selu { scale, .. } => scale.values[0] * x,
                    Activation::ThresholdedRelu { theta } => {
                        if x > theta.values[0] {
                            x
                        } else {
                            0.0
                        }
                    }
                    Activation::HardSwish { alpha, beta } => {
                        x * (alpha.values[0] * x + beta.values[0]).clamp(0.0, 1.0)
                    }
                })
                .collect(),
            Layer::Softmax(_) => {
                let c = n.shape.channels();
                ins[0]
                    .chunks(c)
                    .flat_map(|row| {
                        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                        let e: Vec<f64> = row.iter().map(|x| (x - m).exp()).collect();
                        let s: f64 = e.iter().sum();
                        e.into_iter().map(move |v| v / s)
                    })
                    .collect()
            }
            Layer::Elementwise(e) => (0..n.shape.elements())
                .map(|i| {
                    let operands: Vec<f64> = match &e.constant {
                        Some(c) => vec![ins[0][i], bcast(c, &n.shape, i)],
                        None => ins.iter().map(|v| v[i]).collect(),
                    };
                    let f = |x: f64, r: f64| match e.op {
                        BinaryOp::Add => x + r,
                        BinaryOp::Sub => x - r,
                        BinaryOp::Mul => x * r,
                        BinaryOp::Max => x.max(r),
                        BinaryOp::Min => x.min(r),
                    };
                    operands[1..].iter().fold(operands[0], |x, &r| f(x, r))
                })
                .collect(),
            Layer::Concatenate(c) => {
                let shapes: Vec<&[usize]> = g.inputs_of(id).iter().map(|&i| g.node(i).shape.dims()).collect();
                common::concatenate(c.axis, &shapes, &ins)
            }
            Layer::Reshape(_) | Layer::Quantize(_) => ins[0].clone(),
            Layer::Conv(c) => conv(c, g.node(g.inputs_of(id)[0]).shape.dims(), ins[0], n.shape.dims()),
            Layer::Pool(p) => pool(p, g.node(g.inputs_of(id)[0]).shape.dims(), ins[0], n.shape.dims()),
            Layer::Pad(p) => {
                let x = g.node(g.inputs_of(id)[0]).shape.dims();
                gather(x, ins[0], n.shape.dims(), |d, o| o as i64 - p.begin[d])
            }
            Layer::UpSample(u) => {
                let x = g.node(g.inputs_of(id)[0]).shape.dims();
                gather(x, ins[0], n.shape.dims(), |d, o| (o / u.factors[d]) as i64)
            }
            Layer::Transpose(t) => {
                t.source_indices(&g.node(g.inputs_of(id)[0]).shape).into_iter().map(|i| ins[0][i]).collect()
            }
            Layer::Reduce(r) => reduce(r, g.node(g.inputs_of(id)[0]).shape.dims(), ins[0]),
            Layer::GatherRows(_) | Layer::ScatterAdd(_) => {
                panic!("{}: graph models are checked in tests/gnn.rs", n.name)
            }
        };
        if let Some(ty) = &n.ty {
            y.iter_mut().for_each(|v| *v = cast(*v, ty));
        }
        vals.insert(id, y);
    }
    g.outputs().iter().map(|o| vals[o].clone()).collect()
}

/// Evaluates every reference row; `tol` 0 asks for exact equality.
fn check(model: &str, expected: &str, tol: f64) {
    check_output(model, expected, 0, tol);
}

/// [`check`] of output `k` against the reference file `expected`.
fn check_output(model: &str, expected: &str, k: usize, tol: f64) {
    let g = onnx::load(&root().join("tests/models/onnx").join(format!("{model}.onnx"))).unwrap();
    let dir = root().join("golden/reference").join(model);
    let (ishape, inputs) = npy(&dir.join("inputs.npy"));
    let (oshape, outputs) = npy(&dir.join(expected));
    let (f, o): (usize, usize) = (ishape[1..].iter().product(), oshape[1..].iter().product());
    let input = g.inputs()[0];
    assert_eq!(g.node(input).shape.elements(), f);
    let mut worst = 0.0f64;
    for (row, (x, want)) in inputs.chunks(f).zip(outputs.chunks(o)).enumerate() {
        let x = match g.input_layout(input) {
            Some(perm) => layout::from_model(x, &g.node(input).shape, perm),
            None => x.to_vec(),
        };
        let y = eval(&g, &x).swap_remove(k);
        let got = &match g.output_layout(k) {
            Some(perm) => layout::to_model(&y, &g.node(g.outputs()[k]).shape, perm),
            None => y,
        };
        assert_eq!(got.len(), o);
        // As tests/conformance.rs: an output near zero from cancelling large terms carries the
        // float32 error of those terms, so the error is relative to the sample's largest output too.
        let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (j, (a, b)) in got.iter().zip(want).enumerate() {
            let err = (a - b).abs() / (1.0 + b.abs().max(scale));
            worst = worst.max(err);
            if tol == 0.0 {
                assert_eq!(a, b, "{model} row {row} output {j}: got {a}, want {b}");
            } else {
                assert!(err <= tol, "{model} row {row} output {j}: got {a}, want {b}");
            }
        }
    }
    eprintln!("{model} vs {expected}: worst relative error {worst:e}");
}

#[test]
fn float_models_match_onnxruntime() {
    for m in ["mlp_float", "mlp_gemm_bn", "mlp_opset7", "ops_zoo_op11", "ops_zoo_op13", "mlp_big"] {
        check(m, "expected_float.npy", 1e-5);
    }
}

#[test]
fn float_cnns_match_onnxruntime() {
    for m in [
        "cnn2d",
        "cnn1d",
        "cnn_merge",
        "cnn_global",
        "cnn_pad",
        "cnn_nhwc",
        "cnn_channels_last",
        "cnn_ops_op9",
    ] {
        check(m, "expected_float.npy", 1e-5);
    }
}

/// Reductions (every op, axes in NCHW models mapped to the IR's layout, keepdims or not, axes as
/// attributes and as inputs) and the anomaly-score models against onnxruntime.
#[test]
fn reductions_and_scores_match_onnxruntime() {
    for m in ["reduce_ops", "reduce_ops_op13"] {
        check(m, "expected_float.npy", 1e-5);
        for k in 1..7 {
            check_output(m, &format!("expected_float_{k}.npy"), k, 1e-5);
        }
    }
    for m in ["ae_mse", "ae_plain", "vae_encoder_l2", "vae_encoder_plain"] {
        check(m, "expected_float.npy", 1e-5);
    }
}

#[test]
fn qonnx_models_match_the_qonnx_executor_exactly() {
    check("mlp_qonnx", "expected_qonnx.npy", 0.0);
    check("cnn_qonnx", "expected_qonnx.npy", 0.0);
    check("mlp_qonnx_bipolar", "expected_qonnx.npy", 0.0);
}

#[test]
fn qdq_model_matches_onnxruntime_exactly() {
    check("mlp_qdq", "expected_float.npy", 0.0);
    check("cnn_qdq", "expected_float.npy", 0.0);
}
