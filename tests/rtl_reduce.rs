//! The RTL backend's `Elementwise` and `Reduce` layers, built with Verilator and driven by the
//! generated testbench, equal the bit-accurate simulator bit for bit on generated vectors, with
//! the latency of `arch::rtl::schedule` and II 1.
//!
//! Graphs: every elementwise operation between tensors (n-ary, inputs ready at different cycles,
//! so the earlier ones are delayed to meet the last) and with a broadcast constant; every
//! reduction over one axis and over all, with and without `keepdims`; and a Dense autoencoder
//! 12 -> 6 -> 12 whose output is the mean squared reconstruction error
//! `Mean(Mul(d, d))` of `d = Sub(input, reconstruction)`: the model input is read again two
//! Dense layers later.
//!
//! Without `verilator` on the PATH the tests print a notice and pass, except under `CI`.

mod common;

use std::process::Command;

use common::*;
use hls_gen::arch::rtl::schedule;
use hls_gen::backend::rtl::{self, RtlOptions};
use hls_gen::backend::verilator::run_rtlsim;
use hls_gen::fixed::{OverflowMode::*, QuantMode::*};
use hls_gen::flow;
use hls_gen::ir::{
    Activation, BinaryOp, Dense, Elementwise, Graph, Layer, LoweredGraph, NodeId, Quantize, Reduce, ReduceOp,
    Shape,
};

const SAMPLES: usize = 300;

fn have_verilator() -> bool {
    let found = Command::new("verilator").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var_os("CI").is_none(), "verilator is required in CI");
        eprintln!("notice: verilator not found; skipping the RTL simulation");
    }
    found
}

/// Emits `g`, runs it under Verilator against the simulator's expected outputs and checks the
/// measured latency and II.
fn run(name: &str, g: &LoweredGraph, stages: u32) {
    let latency = schedule(g, stages).unwrap().latency;
    let est =
        hls_gen::estimate::rtl::estimate(g, &hls_gen::estimate::lookup_part("xcvu9p").unwrap(), 5.0, stages)
            .unwrap();
    assert_eq!(est.total.latency_cycles, latency, "{name}: estimated latency");
    assert!(est.total.lut > 0 && est.total.ff > 0, "{name}: estimated cost");
    if !have_verilator() {
        return;
    }
    let start = std::time::Instant::now();
    let tb = flow::testbench(g, None, SAMPLES).unwrap_or_else(|e| panic!("{name}: {e}"));
    let opts = RtlOptions { project_name: name.into(), pipeline_stages: stages };
    let project = rtl::emit(g, &opts, &tb).unwrap_or_else(|e| panic!("{name}: {e}"));
    let dir = tempfile::tempdir().unwrap();
    project.write(dir.path(), true).unwrap();
    let outcome = run_rtlsim(dir.path()).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(outcome.passed, "{name}:\n{}", outcome.output);
    assert_eq!(outcome.samples, Some(SAMPLES), "{name}");
    assert_eq!(outcome.mismatches, Some(0), "{name}");
    assert_eq!(outcome.latency, Some(latency), "{name}: measured latency");
    assert_eq!(outcome.ii, Some(1), "{name}: measured II");
    eprintln!(
        "{name}: {SAMPLES} samples bit-exact, latency {latency}, II 1 ({:.0} s)",
        start.elapsed().as_secs_f64()
    );
}

fn ew(op: BinaryOp, constant: Option<hls_gen::ir::Weights>) -> Layer {
    Layer::Elementwise(Elementwise { op, constant })
}

/// Every elementwise operation, between tensors and with constants of several broadcast shapes.
fn elementwise_ops() -> Graph {
    let mut rng = Rng::new(11);
    let mut g = Graph::new("elementwise ops");
    let s = [2, 3];
    let a = input(&mut g, "a", &s, modes(fx(8, 3), Rnd, Sat));
    let b = input(&mut g, "b", &s, ufx(6, 2));
    // One cycle later than the inputs: `a` and `b` are delayed to meet it.
    let q = add(&mut g, "q", Layer::Quantize(Quantize), &s, modes(fx(7, 2), Rnd, Sat), &[a]);
    let r = add(&mut g, "r", Layer::Activation(Activation::Relu), &s, fx(7, 2), &[q]);
    let mut outs: Vec<NodeId> = vec![
        add(&mut g, "add3", ew(BinaryOp::Add, None), &s, modes(fx(10, 4), Rnd, Sat), &[a, r, b]),
        add(&mut g, "sub", ew(BinaryOp::Sub, None), &s, modes(fx(8, 3), RndConv, Wrap), &[b, q]),
        add(&mut g, "sub_rev", ew(BinaryOp::Sub, None), &s, modes(fx(9, 4), Trn, Sat), &[r, a]),
        add(&mut g, "mul3", ew(BinaryOp::Mul, None), &s, modes(fx(12, 6), Rnd, Sat), &[a, b, q]),
        add(&mut g, "max3", ew(BinaryOp::Max, None), &s, fx(8, 3), &[q, b, a]),
        add(&mut g, "min", ew(BinaryOp::Min, None), &s, modes(fx(6, 2), RndZero, SatSym), &[a, b]),
    ];
    let consts: [(&str, BinaryOp, &[usize], hls_gen::fixed::FixedType); 6] = [
        ("add_c", BinaryOp::Add, &[3], fx(5, 1)),
        ("sub_c", BinaryOp::Sub, &[], fx(6, 4)),
        ("mul_c", BinaryOp::Mul, &[2, 1], fx(6, 2)),
        ("mul_c_neg", BinaryOp::Mul, &[], fx(4, 4)),
        ("max_c", BinaryOp::Max, &[3], fx(5, 2)),
        ("min_c", BinaryOp::Min, &[1, 3], fx(9, 3)),
    ];
    for (k, (name, op, shape, ty)) in consts.into_iter().enumerate() {
        let c = random_weights(&mut rng, shape, ty, 0);
        let x = [a, q, r][k % 3];
        outs.push(add(&mut g, name, ew(op, Some(c)), &s, modes(fx(10, 4), Rnd, Sat), &[x]));
    }
    g.set_outputs(outs);
    g
}

#[test]
fn every_elementwise_op_is_bit_exact() {
    run("elementwise", &lowered(elementwise_ops()), 1);
}

fn reduce(op: ReduceOp, axes: &[usize], keepdims: bool, x: &[usize]) -> Layer {
    let mut r = Reduce::new(op, axes.to_vec(), keepdims, &Shape::new(x.to_vec()));
    if op == ReduceOp::Mean {
        r.reciprocal = Some(Reduce::default_reciprocal(r.count));
    }
    if let Some(t) = r.table.take() {
        r.table = Some(fill_table(t, |v| v.max(0.0).sqrt()));
    }
    Layer::Reduce(r)
}

/// Name, operation, axes, `keepdims`, output shape and type of one reduction.
type Case = (&'static str, ReduceOp, &'static [usize], bool, &'static [usize], hls_gen::fixed::FixedType);

/// Every reduction, over one axis or all of them, with and without `keepdims`.
fn reduce_ops() -> Graph {
    let mut g = Graph::new("reduce ops");
    let s = [3, 4];
    let x = input(&mut g, "x", &s, modes(fx(8, 3), Rnd, Sat));
    let ops: [Case; 8] = [
        ("sum", ReduceOp::Sum, &[1], false, &[3], modes(fx(10, 5), Rnd, Sat)),
        ("mean", ReduceOp::Mean, &[0], true, &[1, 4], modes(fx(9, 3), Rnd, Sat)),
        ("mean_all", ReduceOp::Mean, &[0, 1], false, &[1], modes(fx(12, 4), RndConv, Wrap)),
        ("max", ReduceOp::Max, &[0, 1], false, &[1], fx(8, 3)),
        ("min", ReduceOp::Min, &[1], true, &[3, 1], modes(fx(6, 2), Rnd, Sat)),
        ("sum_square", ReduceOp::SumSquare, &[0], false, &[4], modes(ufx(10, 7), Rnd, Sat)),
        ("l1", ReduceOp::L1, &[1], false, &[3], modes(ufx(9, 6), Trn, Wrap)),
        ("l2", ReduceOp::L2, &[0, 1], true, &[1, 1], modes(ufx(12, 4), Rnd, Sat)),
    ];
    let mut outs = Vec::new();
    for (name, op, axes, keep, shape, ty) in ops {
        outs.push(add(&mut g, name, reduce(op, axes, keep, &s), shape, ty, &[x]));
    }
    g.set_outputs(outs);
    g
}

#[test]
fn every_reduce_op_is_bit_exact() {
    run("reduce", &lowered(reduce_ops()), 1);
}

/// A Dense autoencoder 12 -> 6 -> 12 whose output is the mean squared reconstruction error.
fn autoencoder() -> Graph {
    let mut rng = Rng::new(12);
    let mut g = Graph::new("autoencoder");
    let x = input(&mut g, "input", &[12], modes(fx(8, 3), Rnd, Sat));
    let dense = |rng: &mut Rng, n_in: usize, n_out: usize| {
        Layer::Dense(Dense {
            weights: random_weights(rng, &[n_in, n_out], fx(6, 1), 20),
            bias: random_weights(rng, &[n_out], fx(6, 2), 0),
            accum: Some(fx(32, 16)),
        })
    };
    let enc = dense(&mut rng, 12, 6);
    let enc = add(&mut g, "encoder", enc, &[6], modes(fx(10, 4), Rnd, Sat), &[x]);
    let code = add(&mut g, "code", Layer::Activation(Activation::Relu), &[6], fx(10, 4), &[enc]);
    let dec = dense(&mut rng, 6, 12);
    let recon = add(&mut g, "decoder", dec, &[12], modes(fx(10, 4), Rnd, Sat), &[code]);
    let d = add(&mut g, "diff", ew(BinaryOp::Sub, None), &[12], modes(fx(12, 5), Rnd, Sat), &[x, recon]);
    let sq = add(&mut g, "square", ew(BinaryOp::Mul, None), &[12], modes(ufx(16, 8), Rnd, Sat), &[d, d]);
    let mse = reduce(ReduceOp::Mean, &[0], true, &[12]);
    let mse = add(&mut g, "mse", mse, &[1], modes(ufx(16, 8), Rnd, Sat), &[sq]);
    g.set_outputs(vec![mse]);
    g
}

#[test]
fn autoencoder_reconstruction_error_is_bit_exact() {
    let g = lowered(autoencoder());
    // The model input waits for the two Dense layers (2 stages each) and the relu.
    let sched = schedule(&g, 2).unwrap();
    let diff = g.find("diff").unwrap();
    assert_eq!(sched.ready[&diff], 6);
    assert_eq!(sched.latency, 8);
    run("autoencoder", &g, 2);
}

/// Elementwise only: the autoencoder's reconstruction difference as the output, so that the
/// delayed skip connection runs under Verilator without a reduction.
#[test]
fn autoencoder_skip_connection_is_bit_exact() {
    let mut g = autoencoder();
    let d = g.find("diff").unwrap();
    let sq = g.find("square").unwrap();
    g.set_outputs(vec![d, sq]);
    let mse = g.find("mse").unwrap();
    g.remove(mse);
    run("skip", &lowered(g), 2);
}
