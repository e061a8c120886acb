//! `Reduce` at every stage: hand-built graphs (a 1-D `[16]` tensor over axis 0 with and without
//! `keepdims`; a `[4, 5, 3]` tensor over the last axis, over axes `[0, 1]` and over all axes) for
//! every op, with output types that round and saturate. The simulator equals an exact reference
//! computed here from the layer's contract; the float simulator equals `f64` math; the emitted
//! Vitis project's C simulation equals the simulator in io_parallel and io_stream; the estimator
//! prices every op; the passes fill the reciprocal and the square-root table.

mod common;

use common::*;
use hls_gen::backend::vitis::{emit, run_csim, CppStd, VitisOptions};
use hls_gen::config::IoStyle;
use hls_gen::estimate::stream::FifoDepth;
use hls_gen::fixed::{FixedType, OverflowMode, OverflowMode::*, QuantMode, QuantMode::*};
use hls_gen::ir::{Graph, ImportedGraph, Layer, LoweredGraph, Reduce, ReduceOp, Shape};
use hls_gen::sim::{RunOptions, Simulator};

const OPS: [ReduceOp; 7] = [
    ReduceOp::Sum,
    ReduceOp::Mean,
    ReduceOp::Max,
    ReduceOp::Min,
    ReduceOp::SumSquare,
    ReduceOp::L1,
    ReduceOp::L2,
];

/// (input shape, axes, keepdims, output shape)
type Case = (&'static [usize], &'static [usize], bool, &'static [usize]);

const CASES: [Case; 6] = [
    (&[16], &[0], false, &[1]),
    (&[16], &[0], true, &[1]),
    (&[4, 5, 3], &[2], false, &[4, 5]),
    (&[4, 5, 3], &[0, 1], false, &[3]),
    (&[4, 5, 3], &[0, 1], true, &[1, 1, 3]),
    (&[4, 5, 3], &[0, 1, 2], false, &[1]),
];

fn x_ty() -> FixedType {
    fx(8, 3)
}

/// An output type that rounds and saturates for the op's results.
fn out_ty(op: ReduceOp) -> FixedType {
    match op {
        ReduceOp::Sum => modes(fx(8, 4), Rnd, Sat),
        ReduceOp::Mean => modes(fx(5, 1), Rnd, Sat),
        ReduceOp::Max | ReduceOp::Min => modes(fx(6, 2), Rnd, Sat),
        ReduceOp::SumSquare => modes(ufx(8, 4), Rnd, Sat),
        ReduceOp::L1 => modes(ufx(7, 3), Rnd, Sat),
        ReduceOp::L2 => modes(ufx(8, 3), Rnd, Sat),
    }
}

fn layer(op: ReduceOp, x: &[usize], axes: &[usize], keepdims: bool) -> Reduce {
    let mut r = Reduce::new(op, axes.to_vec(), keepdims, &Shape::new(x.to_vec()));
    if op == ReduceOp::Mean {
        r.reciprocal = Some(Reduce::default_reciprocal(r.count));
    }
    if let Some(t) = r.table.take() {
        r.table = Some(fill_table(t, f64::sqrt));
    }
    r
}

fn graph(op: ReduceOp, case: usize) -> Graph {
    let (x, axes, keepdims, out) = CASES[case];
    let mut g = Graph::new(format!("reduce_{}_{case}", op.name()));
    let i = input(&mut g, "x", x, x_ty());
    let r = add(&mut g, "r", Layer::Reduce(layer(op, x, axes, keepdims)), out, out_ty(op), &[i]);
    g.set_outputs(vec![r]);
    g
}

/// Every op over one case's input, each an output of its own.
fn all_ops_graph(case: usize) -> Graph {
    let (x, axes, keepdims, out) = CASES[case];
    let mut g = Graph::new(format!("reduce_all_{case}"));
    let i = input(&mut g, "x", x, x_ty());
    let outputs = OPS
        .iter()
        .map(|&op| {
            let layer = Layer::Reduce(layer(op, x, axes, keepdims));
            add(&mut g, op.name(), layer, out, out_ty(op), &[i])
        })
        .collect();
    g.set_outputs(outputs);
    g
}

/// `v` at `f` fractional bits cast to `to` (only `AP_TRN`/`AP_RND`, `AP_SAT`/`AP_WRAP`).
fn cast(v: i128, f: i32, to: &FixedType) -> (i128, bool) {
    let s = to.frac_bits() - f;
    let q = if s >= 0 {
        v << s
    } else {
        let d = 1i128 << -s;
        match to.quant {
            QuantMode::Trn => v.div_euclid(d),
            QuantMode::Rnd => (v + d / 2).div_euclid(d),
            other => panic!("{other:?}"),
        }
    };
    let (lo, hi) = raw_range(to);
    if (lo..=hi).contains(&q) {
        return (q, false);
    }
    match to.overflow {
        OverflowMode::Sat => (q.clamp(lo, hi), true),
        OverflowMode::Wrap => {
            let m = 1i128 << to.width;
            let w = q.rem_euclid(m);
            (if to.signed && w > hi { w - m } else { w }, true)
        }
        other => panic!("{other:?}"),
    }
}

/// The contract's result for one output position's raw inputs.
fn reference(r: &Reduce, vs: &[i128], out: &FixedType) -> (i128, bool) {
    let f = x_ty().frac_bits();
    match r.op {
        ReduceOp::Sum => cast(vs.iter().sum(), f, out),
        ReduceOp::L1 => cast(vs.iter().map(|v| v.abs()).sum(), f, out),
        ReduceOp::SumSquare => cast(vs.iter().map(|v| v * v).sum(), 2 * f, out),
        ReduceOp::Max => cast(*vs.iter().max().unwrap(), f, out),
        ReduceOp::Min => cast(*vs.iter().min().unwrap(), f, out),
        ReduceOp::Mean => {
            let rt = r.reciprocal.unwrap();
            let n = r.count as i128;
            let rn = ((1i128 << rt.frac_bits()) * 2 + n) / (2 * n);
            cast(vs.iter().sum::<i128>() * rn, f + rt.frac_bits(), out)
        }
        ReduceOp::L2 => {
            let t = r.table.as_ref().unwrap();
            let (i, _) = cast(vs.iter().map(|v| v * v).sum(), 2 * f, &t.index_ty);
            let k = if t.index_ty.signed { i + (1i128 << (t.index_ty.width - 1)) } else { i };
            let e = raw_of(t.values[k as usize], &t.ty);
            cast(e, t.ty.frac_bits(), out)
        }
    }
}

/// The raw inputs of output position `o`, row-major over the reduced coordinates.
fn gathered(xs: &[i128], dims: &[usize], axes: &[usize], o: usize) -> Vec<i128> {
    let kept: Vec<usize> = (0..dims.len()).filter(|a| !axes.contains(a)).collect();
    let mut coords = vec![0usize; dims.len()];
    let mut rest = o;
    for &a in kept.iter().rev() {
        coords[a] = rest % dims[a];
        rest /= dims[a];
    }
    let n: usize = axes.iter().map(|&a| dims[a]).product();
    (0..n)
        .map(|k| {
            let mut rest = k;
            for &a in axes.iter().rev() {
                coords[a] = rest % dims[a];
                rest /= dims[a];
            }
            let flat = coords.iter().zip(dims).fold(0, |acc, (&c, &d)| acc * d + c);
            xs[flat]
        })
        .collect()
}

fn samples(rng: &mut Rng, n: usize, elements: usize) -> Vec<i128> {
    let (lo, hi) = raw_range(&x_ty());
    (0..n * elements)
        .map(|k| match k % 7 {
            0 => lo,
            1 => hi,
            _ => rng.range(lo, hi),
        })
        .collect()
}

#[test]
fn the_simulator_follows_the_contract_exactly() {
    let mut rng = Rng::new(41);
    for op in OPS {
        for (case, &(x, axes, _, _)) in CASES.iter().enumerate() {
            let g = graph(op, case);
            let Layer::Reduce(r) = &g.node(g.outputs()[0]).layer else { unreachable!() };
            let r = r.clone();
            let sim = Simulator::new(&lowered(g)).unwrap();
            let elements: usize = x.iter().product();
            let n = 40;
            let raws = samples(&mut rng, n, elements);
            let values: Vec<f64> = raws.iter().map(|&v| value_of(v, &x_ty())).collect();
            let res = sim.run(&values, n, &RunOptions::default()).unwrap();
            let out = &res.outputs[0];
            let per = out.shape.elements();
            let mut overflows = 0;
            for s in 0..n {
                for o in 0..per {
                    let vs = gathered(&raws[s * elements..(s + 1) * elements], x, axes, o);
                    let (want, over) = reference(&r, &vs, &out_ty(op));
                    overflows += over as u64;
                    assert_eq!(
                        out.raw[s * per + o] as i128,
                        want,
                        "{} case {case} sample {s} out {o}",
                        op.name()
                    );
                }
            }
            let counted = res.overflows.iter().find(|c| c.layer == "r" && c.kind == "output").unwrap();
            assert_eq!(counted.count, overflows, "{} case {case}", op.name());
            assert!(
                overflows > 0 || matches!(op, ReduceOp::L2 | ReduceOp::Mean),
                "{} case {case} never saturates",
                op.name()
            );
        }
    }
}

#[test]
fn the_float_simulator_computes_true_math() {
    let mut rng = Rng::new(7);
    for op in OPS {
        for (case, &(x, axes, keepdims, out)) in CASES.iter().enumerate() {
            let mut g = Graph::new("float");
            let i = g.add("x", Layer::Input(hls_gen::ir::Input::new(Shape::new(x.to_vec()))), &[]).unwrap();
            let r = g.add("r", Layer::Reduce(layer(op, x, axes, keepdims)), &[i]).unwrap();
            assert_eq!(g.node(r).shape.dims(), out);
            g.set_outputs(vec![r]);
            let sim = Simulator::new_float(&ImportedGraph::new(g).unwrap()).unwrap();
            let elements: usize = x.iter().product();
            let n = 5;
            let xs: Vec<f64> = (0..n * elements).map(|_| rng.range(-1000, 1000) as f64 / 97.0).collect();
            let res = sim.run(&xs, n, &RunOptions::default()).unwrap();
            let per: usize = out.iter().product();
            for s in 0..n {
                let raws: Vec<i128> = (0..elements).map(|k| (s * elements + k) as i128).collect();
                for o in 0..per {
                    let vs: Vec<f64> =
                        gathered(&raws, x, axes, o).into_iter().map(|k| xs[k as usize]).collect();
                    let want = match op {
                        ReduceOp::Sum => vs.iter().sum::<f64>(),
                        ReduceOp::Mean => vs.iter().sum::<f64>() / vs.len() as f64,
                        ReduceOp::Max => vs.iter().copied().fold(f64::MIN, f64::max),
                        ReduceOp::Min => vs.iter().copied().fold(f64::MAX, f64::min),
                        ReduceOp::SumSquare => vs.iter().map(|v| v * v).sum(),
                        ReduceOp::L1 => vs.iter().map(|v| v.abs()).sum(),
                        ReduceOp::L2 => vs.iter().map(|v| v * v).sum::<f64>().sqrt(),
                    };
                    let got = res.outputs[0].values[s * per + o];
                    assert!(
                        (got - want).abs() <= 1e-9 * want.abs().max(1.0),
                        "{} {case}: {got} vs {want}",
                        op.name()
                    );
                }
            }
        }
    }
}

#[test]
fn the_passes_fill_the_reciprocal_and_the_table() {
    use hls_gen::passes::PassContext;
    for op in [ReduceOp::Mean, ReduceOp::L2] {
        let x = [4usize, 5, 3];
        let mut g = Graph::new("passes");
        let i = input(&mut g, "x", &x, x_ty());
        let layer = Reduce::new(op, vec![0, 1], false, &Shape::new(x.to_vec()));
        let r = add(&mut g, "r", Layer::Reduce(layer), &[3], out_ty(op), &[i]);
        g.set_outputs(vec![r]);
        let ctx = PassContext { config: hls_gen::config::Config::default(), prune_below: None };
        let (g, _) = hls_gen::passes::lower(g, &ctx, &[]).unwrap();
        let id = g.outputs()[0];
        let Layer::Reduce(r) = &g.node(id).layer else { panic!("not a reduce") };
        match op {
            ReduceOp::Mean => assert_eq!(r.reciprocal, Some(Reduce::default_reciprocal(20))),
            _ => {
                let t = r.table.as_ref().unwrap();
                assert_eq!(t.values.len(), t.len());
                assert!(t.values.windows(2).all(|w| w[0] <= w[1]) && t.values[t.len() - 1] > 7.9);
            }
        }
        Simulator::new(&g).unwrap();
    }
}

#[test]
fn the_estimator_prices_every_op() {
    let part = hls_gen::estimate::lookup_part("xcvu9p").unwrap();
    for op in OPS {
        for case in 0..CASES.len() {
            let g = lowered(graph(op, case));
            for io in [IoStyle::Parallel, IoStyle::Stream] {
                let (est, _) = hls_gen::flow::estimate_design(&g, &part, 5.0, io, FifoDepth::Auto)
                    .unwrap_or_else(|e| panic!("{} {case}: {e}", op.name()));
                let text = format!("{est:?}");
                assert!(text.contains("\"r\"") || text.contains("r"), "{text}");
            }
        }
    }
}

fn csim_in(name: &str, g: &LoweredGraph, io: IoStyle) {
    let Some(ap) = ap_types() else { return };
    let tb = hls_gen::flow::testbench(g, None, 200).unwrap_or_else(|e| panic!("{name}: {e}"));
    let part = hls_gen::estimate::lookup_part("xcvu9p").unwrap();
    let (_, io_type) = hls_gen::flow::estimate_design(g, &part, 5.0, io, FifoDepth::Auto)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let opts = VitisOptions {
        project_name: name.to_string(),
        part: "xcvu9p-flga2104-2L-e".to_string(),
        clock_period_ns: 5.0,
        io_type,
    };
    let project = emit(g, &opts, &tb).unwrap_or_else(|e| panic!("{name}: {e}"));
    let root = tempfile::tempdir().unwrap();
    project.write(root.path(), true).unwrap();
    let outcome = run_csim(root.path(), &ap, CppStd::Cpp14).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(outcome.passed && outcome.samples == Some(200), "{name}:\n{}", outcome.output);
}

/// One project per case holds all seven ops; the cases cover a 1-D input, the last axis,
/// leading axes and `keepdims`.
#[test]
fn every_op_is_bit_exact_in_csim() {
    for case in [0, 2, 3, 4] {
        for io in [IoStyle::Parallel, IoStyle::Stream] {
            let name = format!("reduce_all_{case}_{io:?}").to_lowercase();
            csim_in(&name, &lowered(all_ops_graph(case)), io);
        }
    }
}
