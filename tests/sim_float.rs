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
