//! The simulator's API: overflow counting on a designed case, errors, progress and traces.

mod sim_support;

use std::sync::Mutex;

use hls_gen::fixed::{FixedType, OverflowMode, QuantMode};
use hls_gen::ir::{Dense, Graph, Input, IrError, Layer, LoweredGraph, Shape, Weights};
use hls_gen::sim::{RunOptions, SimError, SimOptions, Simulator};
use sim_support::*;

fn typed(values: &[f64], shape: &[usize], ty: FixedType) -> Weights {
    let mut w = Weights::new(Shape::new(shape.to_vec()), values.to_vec());
    w.ty = Some(ty);
    w
}

/// Input `ap_fixed<8,4,TRN,SAT>` -> Dense 3x2 of ones with an `ap_fixed<8,4,TRN,WRAP>`
/// accumulator -> `ap_fixed<6,3,TRN,SAT>`.
fn designed_graph() -> Graph {
    let mut g = Graph::new("designed");
    let in_ty = FixedType::new(8, 4, true).with_modes(QuantMode::Trn, OverflowMode::Sat);
    let x = add(&mut g, "in", Layer::Input(Input::new(Shape::new([3]))), in_ty, &[]);
    let w_ty = FixedType::new(4, 2, true);
    let dense = Dense {
        weights: typed(&[1.0; 6], &[3, 2], w_ty),
        bias: typed(&[0.0; 2], &[2], w_ty),
        accum: Some(FixedType::new(8, 4, true)),
    };
    let out_ty = FixedType::new(6, 3, true).with_modes(QuantMode::Trn, OverflowMode::Sat);
    let d = add(&mut g, "dense", Layer::Dense(dense), out_ty, &[x]);
    g.set_outputs(vec![d]);
    g
}

fn designed() -> LoweredGraph {
    LoweredGraph::new(designed_graph()).unwrap()
}

#[test]
fn overflows_are_counted_where_they_happen() {
    // Sample 0 saturates 10 and -9 to 7.9375 and -8; its sums stay in range.
    // Sample 1 saturates 8 to 7.9375; 7.9375 + 7.9375 wraps to -0.125, then -0.125 - 8 wraps to
    // 7.875 (two accumulator overflows per output), which saturates to 3.875 at the output.
    let inputs = [10.0, -9.0, 1.5, 7.9375, 8.0, -8.0];
    for fast in [true, false] {
        let sim = Simulator::with_options(&designed(), &SimOptions { fast_paths: fast }).unwrap();
        let r = sim.run(&inputs, 2, &RunOptions::default()).unwrap();
        assert_eq!(r.outputs[0].raw, vec![11, 11, 31, 31]);
        assert_eq!(r.outputs[0].values, vec![1.375, 1.375, 3.875, 3.875]);
        let counts: Vec<(&str, &str, u64, u64)> =
            r.overflows.iter().map(|o| (o.layer.as_str(), o.kind, o.count, o.elements)).collect();
        assert_eq!(
            counts,
            vec![("in", "output", 3, 6), ("dense", "accumulator", 4, 16), ("dense", "output", 2, 4)]
        );
    }
}

#[test]
fn graphs_that_are_not_lowered_are_refused() {
    let mut g = designed_graph();
    let dense = g.find("dense").unwrap();
    g.node_mut(dense).ty = None;
    match LoweredGraph::new(g) {
        Err(IrError::UntypedNode { node }) => assert_eq!(node, "dense"),
        other => panic!("expected an untyped-node error, got {other:?}"),
    }
    let mut g = designed_graph();
    if let Layer::Dense(d) = &mut g.node_mut(dense).layer {
        d.weights.values[0] = 0.1;
    }
    let err = LoweredGraph::new(g).unwrap_err();
    assert!(matches!(&err, IrError::Invalid { node, .. } if node == "dense"), "{err}");
}

#[test]
fn bad_inputs_are_refused() {
    let g = designed();
    let float = Simulator::new_float(&g.clone().into_imported()).unwrap();
    for sim in [Simulator::new(&g).unwrap(), float] {
        let mut inputs = vec![0.5; 12];
        inputs[7] = f64::NAN;
        match sim.run(&inputs, 4, &RunOptions::default()) {
            Err(e @ SimError::NonFiniteInput { sample: 2, .. }) => {
                assert!(matches!(&e, SimError::NonFiniteInput { index, .. } if index == &[1]), "{e}");
                assert!(e.to_string().contains("sample 2, index [1]"), "{e}")
            }
            other => panic!("expected a NaN error for sample 2, got {other:?}"),
        }
        inputs[7] = f64::INFINITY;
        assert!(matches!(sim.run(&inputs, 4, &RunOptions::default()), Err(SimError::NonFiniteInput { .. })));
        let err = sim.run(&[0.0; 11], 4, &RunOptions::default()).unwrap_err();
        assert_eq!(err, SimError::InputLength { expected: 12, got: 11, n_samples: 4, per_sample: 3 });
        assert!(matches!(
            sim.run(&[], usize::MAX, &RunOptions::default()),
            Err(SimError::InputLength { .. })
        ));
    }
}

#[test]
fn no_samples_give_empty_outputs() {
    let sim = Simulator::new(&designed()).unwrap();
    let r = sim.run(&[], 0, &RunOptions { trace: true, dense_sums: false, progress: None }).unwrap();
    assert!(r.outputs[0].values.is_empty() && r.outputs[0].raw.is_empty());
    assert!(r.overflows.iter().all(|o| o.count == 0 && o.elements == 0));
    assert_eq!(r.trace.unwrap().len(), 2);
}

#[test]
fn progress_is_reported_in_order_up_to_the_total() {
    let g = LoweredGraph::new(mlp(&[16, 32, 5], FixedType::new(16, 6, true), 1)).unwrap();
    let sim = Simulator::new(&g).unwrap();
    let n = 20_000;
    let inputs = inputs(&mut Rng(1), n, 16, 1.0);
    let seen = Mutex::new(Vec::new());
    let report = |done: usize| seen.lock().unwrap().push(done);
    sim.run(&inputs, n, &RunOptions { trace: false, dense_sums: false, progress: Some(&report) }).unwrap();
    let seen = seen.into_inner().unwrap();
    assert!(seen.len() >= 10, "{} reports", seen.len());
    assert!(seen.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(seen.last(), Some(&n));
}

#[test]
fn traces_hold_every_layer() {
    let g = LoweredGraph::new(mlp(&[8, 12, 4], FixedType::new(16, 6, true), 3)).unwrap();
    let sim = Simulator::new(&g).unwrap();
    let n = 100;
    let inputs = inputs(&mut Rng(2), n, 8, 1.0);
    let r = sim.run(&inputs, n, &RunOptions { trace: true, dense_sums: false, progress: None }).unwrap();
    let trace = r.trace.unwrap();
    let names: Vec<&str> = trace.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["input", "dense_0", "act_0", "dense_1", "act_1"]);
    for t in &trace {
        assert_eq!(t.values.len(), n * t.shape.elements());
    }
    assert_eq!(trace[4].values, r.outputs[0].values);
    let relu_in = &trace[1].values;
    let relu_out = &trace[2].values;
    assert!(relu_in.iter().zip(relu_out).all(|(&a, &b)| b == a.max(0.0)));
    let plain = sim.run(&inputs, n, &RunOptions::default()).unwrap();
    assert_eq!(plain.trace, None);
    assert_eq!(plain.outputs, r.outputs);
}

#[test]
fn a_simulator_is_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Simulator>();
}
