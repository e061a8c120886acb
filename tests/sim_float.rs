//! The `f64` reference mode against a direct computation.

mod sim_support;

use hls_gen::fixed::{self, FixedType, OverflowMode, QuantMode};
use hls_gen::ir::{Activation, Dense, Graph, ImportedGraph, Input, Layer, Shape, Softmax, Table, Weights};
use hls_gen::sim::{RunOptions, SimError, Simulator};
use sim_support::*;

fn dense(rng: &mut Rng, n_in: usize, n_out: usize) -> Dense {
    let w = (0..n_in * n_out).map(|_| rng.normal() * 0.7).collect();
    let b = (0..n_out).map(|_| rng.normal() * 0.1).collect();
    Dense {
        weights: Weights::new(Shape::new([n_in, n_out]), w),
        bias: Weights::new(Shape::new([n_out]), b),
        accum: None,
    }
}

fn apply(d: &Dense, x: &[f64]) -> Vec<f64> {
    let (n_in, n_out) = (d.n_in(), d.n_out());
    (0..n_out)
        .map(|j| {
            let mut acc = d.bias.values[j];
            for (i, &xi) in x.iter().enumerate().take(n_in) {
                acc += xi * d.weights.values[i * n_out + j];
            }
            acc
        })
        .collect()
}

/// A 5-8-6-3 MLP with tanh, sigmoid and softmax, untyped as a frontend leaves it.
#[test]
fn float_mode_computes_the_model_in_f64() {
    let mut rng = Rng(31);
    let (d1, d2, d3) = (dense(&mut rng, 5, 8), dense(&mut rng, 8, 6), dense(&mut rng, 6, 3));
    let mut g = Graph::new("float");
    let mut prev = g.add("in", Layer::Input(Input::new(Shape::new([5]))), &[]).unwrap();
    let layers = [
        Layer::Dense(d1.clone()),
        Layer::Activation(Activation::Tanh(Table::tanh_default())),
        Layer::Dense(d2.clone()),
        Layer::Activation(Activation::Sigmoid(Table::sigmoid_default())),
        Layer::Dense(d3.clone()),
        Layer::Softmax(Softmax::default_for(3)),
    ];
    for (k, layer) in layers.into_iter().enumerate() {
        prev = g.add(format!("l{k}"), layer, &[prev]).unwrap();
    }
    g.set_outputs(vec![prev]);
    let sim = Simulator::new_float(&ImportedGraph::new(g).unwrap()).unwrap();
    let n = 50;
    let inputs = inputs(&mut rng, n, 5, 2.0);
    let result = sim.run(&inputs, n, &RunOptions::default()).unwrap();
    let out = &result.outputs[0];
    assert_eq!((out.ty, out.raw.len(), out.values.len()), (None, 0, n * 3));
    for (s, x) in inputs.chunks(5).enumerate() {
        let h: Vec<f64> = apply(&d1, x).iter().map(|v| v.tanh()).collect();
        let h: Vec<f64> = apply(&d2, &h).iter().map(|v| 1.0 / (1.0 + (-v).exp())).collect();
        let z = apply(&d3, &h);
        let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
        let sum: f64 = e.iter().sum();
        let y: Vec<f64> = e.iter().map(|v| v / sum).collect();
        assert_eq!(&out.values[s * 3..s * 3 + 3], &y[..], "sample {s}");
    }
    assert!(result.overflows.is_empty());
}

/// Types fixed by the model (QONNX `Quant`, QKeras) are applied with their rounding and
/// saturation; nothing else is rounded.
#[test]
fn float_mode_applies_the_types_the_model_fixed() {
    let mut rng = Rng(4);
    let in_ty = FixedType::new(8, 3, true).with_modes(QuantMode::Rnd, OverflowMode::Sat);
    let q_ty = FixedType::new(6, 2, true).with_modes(QuantMode::RndConv, OverflowMode::Sat);
    let d = dense(&mut rng, 4, 3);
    let mut g = Graph::new("qonnx");
    let x = g.add("in", Layer::Input(Input::new(Shape::new([4]))), &[]).unwrap();
    g.node_mut(x).ty = Some(in_ty);
    g.node_mut(x).ty_from_model = true;
    let y = g.add("dense", Layer::Dense(d.clone()), &[x]).unwrap();
    let q = g.add("quant", Layer::Quantize(hls_gen::ir::Quantize), &[y]).unwrap();
    g.node_mut(q).ty = Some(q_ty);
    g.set_outputs(vec![y, q]);
    let sim = Simulator::new_float(&ImportedGraph::new(g).unwrap()).unwrap();
    let n = 200;
    let inputs = inputs(&mut rng, n, 4, 5.0);
    let result = sim.run(&inputs, n, &RunOptions::default()).unwrap();
    let (plain, quantized) = (&result.outputs[0], &result.outputs[1]);
    assert_eq!(plain.ty, None);
    assert_eq!(quantized.ty, Some(q_ty));
    let (mut in_sat, mut q_sat) = (0, 0);
    for (s, x) in inputs.chunks(4).enumerate() {
        let xq: Vec<f64> = x
            .iter()
            .map(|&v| {
                let c = fixed::from_f64(v, &in_ty).unwrap();
                in_sat += c.overflow as u64;
                fixed::to_f64(c.raw, in_ty.frac_bits())
            })
            .collect();
        let z = apply(&d, &xq);
        assert_eq!(&plain.values[s * 3..s * 3 + 3], &z[..]);
        for (j, &v) in z.iter().enumerate() {
            let c = fixed::from_f64(v, &q_ty).unwrap();
            q_sat += c.overflow as u64;
            assert_eq!(quantized.raw[s * 3 + j], c.raw as i64);
            assert_eq!(quantized.values[s * 3 + j], fixed::to_f64(c.raw, q_ty.frac_bits()));
        }
    }
    assert!(in_sat > 0 && q_sat > 0, "the inputs should saturate sometimes");
    let counts: Vec<(&str, &str, u64, u64)> =
        result.overflows.iter().map(|o| (o.layer.as_str(), o.kind, o.count, o.elements)).collect();
    assert_eq!(
        counts,
        vec![("in", "output", in_sat, 4 * n as u64), ("quant", "output", q_sat, 3 * n as u64)]
    );
}

#[test]
fn float_mode_needs_the_types_the_model_fixed() {
    let mut g = Graph::new("untyped");
    let x = g.add("in", Layer::Input(Input::new(Shape::new([2]))), &[]).unwrap();
    let q = g.add("quant", Layer::Quantize(hls_gen::ir::Quantize), &[x]).unwrap();
    g.set_outputs(vec![q]);
    match Simulator::new_float(&ImportedGraph::new(g).unwrap()) {
        Err(SimError::Invalid(e)) => assert!(e.to_string().contains("quant"), "{e}"),
        other => panic!("expected an error naming the layer, got {other:?}"),
    }
}

/// Row-major coordinates of every position of `dims`.
fn coords(dims: &[usize]) -> Vec<Vec<usize>> {
    let mut all = vec![Vec::new()];
    for &d in dims {
        all = all.into_iter().flat_map(|p| (0..d).map(move |i| [p.clone(), vec![i]].concat())).collect();
    }
    all
}

/// Flat index of `c` in `dims`, `None` outside.
fn flat(c: &[i64], dims: &[usize]) -> Option<usize> {
    let mut f = 0;
    for (&x, &d) in c.iter().zip(dims) {
        if x < 0 || x >= d as i64 {
            return None;
        }
        f = f * d + x as usize;
    }
    Some(f)
}

/// A small CNN with every new kind, untyped: its float outputs equal a direct computation with
/// the same order of operations (bias, then kernel taps row-major, then channels).
#[test]
fn float_mode_computes_convolutional_layers_in_f64() {
    use hls_gen::ir::{
        BinaryOp, Conv, Elementwise, Pad, Pool, PoolOp, Transpose, UpSample, SELU_ALPHA, SELU_SCALE,
    };
    let mut rng = Rng(12);
    let xd = [6usize, 5, 2];
    let conv = Conv {
        weights: Weights::new(Shape::new([3, 3, 1, 4]), (0..36).map(|_| rng.normal() * 0.5).collect()),
        bias: Weights::new(Shape::new([4]), (0..4).map(|_| rng.normal() * 0.1).collect()),
        strides: vec![1, 2],
        dilations: vec![2, 1],
        pads_begin: vec![1, 0],
        pads_end: vec![2, 1],
        groups: 2,
        accum: None,
    };
    let mut avg = Pool::global(PoolOp::Average, &[2, 2]);
    avg.pads_begin = vec![1, 1];
    let pad = Pad { begin: vec![1, -1], end: vec![-1, 2] };
    let up = UpSample { factors: vec![2, 1] };
    let tr = Transpose { perm: vec![1, 0, 2] };
    let scalar_w = |v: f64| Weights::new(Shape::new(Vec::<usize>::new()), vec![v]);
    let mut g = Graph::new("cnn");
    let x = g.add("in", Layer::Input(Input::new(Shape::new(xd))), &[]).unwrap();
    let c = g.add("conv", Layer::Conv(conv.clone()), &[x]).unwrap();
    let e = g.add("elu", Layer::Activation(Activation::Elu(Table::elu_default(0.7))), &[c]).unwrap();
    let p = g.add("avg", Layer::Pool(avg.clone()), &[e]).unwrap();
    let pd = g.add("pad", Layer::Pad(pad.clone()), &[p]).unwrap();
    let u = g.add("up", Layer::UpSample(up.clone()), &[pd]).unwrap();
    let t = g.add("tr", Layer::Transpose(tr.clone()), &[u]).unwrap();
    let hs = Activation::HardSwish { alpha: scalar_w(0.2), beta: scalar_w(0.5) };
    let a1 = g.add("hswish", Layer::Activation(hs), &[t]).unwrap();
    let selu = Activation::Selu { scale: scalar_w(SELU_SCALE), table: Table::selu_default() };
    let a2 = g.add("selu", Layer::Activation(selu), &[t]).unwrap();
    let a3 =
        g.add("thr", Layer::Activation(Activation::ThresholdedRelu { theta: scalar_w(0.1) }), &[t]).unwrap();
    let a4 =
        g.add("softplus", Layer::Activation(Activation::Softplus(Table::softplus_default())), &[t]).unwrap();
    let a5 =
        g.add("softsign", Layer::Activation(Activation::Softsign(Table::softsign_default())), &[t]).unwrap();
    let m = g
        .add("max", Layer::Elementwise(Elementwise { op: BinaryOp::Max, constant: None }), &[a1, a2, a3])
        .unwrap();
    let s = g
        .add("sum", Layer::Elementwise(Elementwise { op: BinaryOp::Add, constant: None }), &[m, a4, a5])
        .unwrap();
    let td: Vec<usize> = g.node(t).shape.dims().to_vec();
    let gp = g.add("gmax", Layer::Pool(Pool::global(PoolOp::Max, &td[..2])), &[s]).unwrap();
    g.set_outputs(vec![s, gp]);
    let dims = |id| g.node(id).shape.dims().to_vec();
    let (cd, pdd, ud, sd) = (dims(c), dims(pd), dims(u), dims(s));
    let sim = Simulator::new_float(&ImportedGraph::new(g.clone()).unwrap()).unwrap();
    let n = 20;
    let inputs = inputs(&mut rng, n, 60, 1.5);
    let result = sim.run(&inputs, n, &RunOptions::default()).unwrap();
    let (so, go) = (sd.iter().product::<usize>(), 4);
    for (k, x) in inputs.chunks(60).enumerate() {
        let mut y = Vec::new();
        for o in coords(&cd[..2]) {
            for f in 0..4 {
                let mut acc = conv.bias.values[f];
                for (ti, tap) in coords(&[3, 3]).into_iter().enumerate() {
                    let q: Vec<i64> = (0..2)
                        .map(|d| {
                            (o[d] * conv.strides[d] + tap[d] * conv.dilations[d]) as i64
                                - conv.pads_begin[d] as i64
                        })
                        .collect();
                    if let Some(at) = flat(&q, &xd[..2]) {
                        acc += x[at * 2 + f / 2] * conv.weights.values[ti * 4 + f];
                    }
                }
                y.push(if acc >= 0.0 { acc } else { 0.7 * acc.exp_m1() });
            }
        }
        let mut pooled = Vec::new();
        for o in coords(&cd[..2]) {
            for ch in 0..4 {
                let (mut sum, mut count) = (0.0, 0.0);
                for tap in coords(&[2, 2]) {
                    let q: Vec<i64> = (0..2).map(|d| (o[d] + tap[d]) as i64 - 1).collect();
                    if let Some(at) = flat(&q, &cd[..2]) {
                        sum += y[at * 4 + ch];
                        count += 1.0;
                    }
                }
                pooled.push(sum / count);
            }
        }
        let mut padded = Vec::new();
        for o in coords(&pdd[..2]) {
            let q: Vec<i64> = (0..2).map(|d| o[d] as i64 - pad.begin[d]).collect();
            for ch in 0..4 {
                padded.push(flat(&q, &cd[..2]).map_or(0.0, |at| pooled[at * 4 + ch]));
            }
        }
        let mut upsampled = Vec::new();
        for o in coords(&ud[..2]) {
            let q = [(o[0] / 2) as i64, o[1] as i64];
            for ch in 0..4 {
                upsampled.push(padded[flat(&q, &pdd[..2]).unwrap() * 4 + ch]);
            }
        }
        let mut want = Vec::new();
        for j in coords(&sd) {
            let v = upsampled[(j[1] * ud[1] + j[0]) * 4 + j[2]];
            let hswish = v * (0.2 * v + 0.5).clamp(0.0, 1.0);
            let selu = if v >= 0.0 { SELU_SCALE * v } else { SELU_SCALE * SELU_ALPHA * v.exp_m1() };
            let thr = if v > 0.1 { v } else { 0.0 };
            let softplus = if v > 0.0 { v + (-v).exp().ln_1p() } else { v.exp().ln_1p() };
            want.push(hswish.max(selu).max(thr) + softplus + v / (1.0 + v.abs()));
        }
        assert_eq!(&result.outputs[0].values[k * so..(k + 1) * so], &want[..], "sample {k}");
        let gmax: Vec<f64> =
            (0..4).map(|ch| want.chunks(4).map(|px| px[ch]).fold(f64::NEG_INFINITY, f64::max)).collect();
        assert_eq!(&result.outputs[1].values[k * go..(k + 1) * go], &gmax[..], "sample {k}");
    }
}
