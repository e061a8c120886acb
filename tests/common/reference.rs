//! An independent, exact reference of the layer arithmetic of `src/ir/layer/`, on raw integers.
//!
//! A value is `raw * 2^-frac` held in `i128`; products and sums are exact, `cast` applies the
//! target type's quantization mode and then its overflow mode. Test types are small enough that
//! nothing here overflows `i128` (checked).

use std::collections::BTreeMap;

use hls_gen::fixed::{FixedType, OverflowMode, QuantMode};
use hls_gen::ir::{Activation, BinaryOp, Graph, Layer, NodeId, PoolOp, ReduceOp, Table, Weights};

use super::raw_range;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Val {
    pub raw: i128,
    pub frac: i32,
}

impl Val {
    pub fn of(raw: i128, ty: &FixedType) -> Self {
        Val { raw, frac: ty.frac_bits() }
    }

    fn at(self, frac: i32) -> i128 {
        assert!(frac >= self.frac);
        self.raw.checked_mul(1i128 << (frac - self.frac)).expect("reference overflow")
    }

    pub fn add(self, o: Val) -> Val {
        let f = self.frac.max(o.frac);
        Val { raw: self.at(f) + o.at(f), frac: f }
    }

    pub fn sub(self, o: Val) -> Val {
        let f = self.frac.max(o.frac);
        Val { raw: self.at(f) - o.at(f), frac: f }
    }

    pub fn mul(self, o: Val) -> Val {
        Val { raw: self.raw.checked_mul(o.raw).expect("reference overflow"), frac: self.frac + o.frac }
    }

    pub fn cmp(self, o: Val) -> std::cmp::Ordering {
        let f = self.frac.max(o.frac);
        self.at(f).cmp(&o.at(f))
    }

    pub fn zero() -> Val {
        Val { raw: 0, frac: 0 }
    }

    pub fn one() -> Val {
        Val { raw: 1, frac: 0 }
    }
}

/// `ap_fixed` assignment: quantize to `ty`'s LSB, then handle overflow; returns the raw value.
pub fn cast(v: Val, ty: &FixedType) -> i128 {
    let f = ty.frac_bits();
    let q = if f >= v.frac {
        v.at(f)
    } else {
        let s = (v.frac - f) as u32;
        let unit = 1i128 << s;
        let floor = v.raw.div_euclid(unit);
        let rem = v.raw.rem_euclid(unit);
        let half = unit / 2;
        let negative = v.raw < 0;
        let up = match ty.quant {
            QuantMode::Trn => false,
            QuantMode::TrnZero => negative && rem != 0,
            QuantMode::Rnd => rem >= half,
            QuantMode::RndZero => rem > half || (rem == half && negative),
            QuantMode::RndMinInf => rem > half,
            QuantMode::RndInf => rem > half || (rem == half && !negative),
            QuantMode::RndConv => rem > half || (rem == half && floor % 2 != 0),
        };
        floor + i128::from(up)
    };
    let (lo, hi) = raw_range(ty);
    // ap_types' AP_SAT_SYM never yields the most negative value of a signed type of two or more
    // bits, even when it is in range (checked against ap_fixed assignment); a 1-bit type keeps -1.
    if ty.overflow == OverflowMode::SatSym && ty.signed && ty.width > 1 {
        return q.clamp(-hi, hi);
    }
    if (lo..=hi).contains(&q) {
        return q;
    }
    match ty.overflow {
        OverflowMode::Wrap => {
            let m = 1i128 << ty.width;
            let u = q.rem_euclid(m);
            if ty.signed && u > hi {
                u - m
            } else {
                u
            }
        }
        OverflowMode::Sat => q.clamp(lo, hi),
        OverflowMode::SatZero => 0,
        OverflowMode::SatSym => q.clamp(lo, hi),
    }
}

fn consts(w: &Weights) -> Vec<Val> {
    let ty = w.ty.expect("typed constant");
    w.values.iter().map(|&v| Val::of(super::raw_of(v, &ty), &ty)).collect()
}

fn lookup(t: &Table, x: Val) -> Val {
    let w = t.index_ty.width;
    let raw = cast(x, &t.index_ty);
    let index = if t.index_ty.signed { raw + (1i128 << (w - 1)) } else { raw };
    Val::of(super::raw_of(t.values[index as usize], &t.ty), &t.ty)
}

/// `1 / count` to `r_ty`'s LSB, ties upward, no larger than its maximum (average pooling, mean).
fn reciprocal(count: usize, r_ty: &FixedType) -> Val {
    let num = 1i128 << r_ty.frac_bits();
    let d = count as i128;
    let mut r = num / d;
    if 2 * (num - r * d) >= d {
        r += 1;
    }
    Val::of(r.min(raw_range(r_ty).1), r_ty)
}

fn max(a: Val, b: Val) -> Val {
    if a.cmp(b).is_lt() {
        b
    } else {
        a
    }
}

fn min(a: Val, b: Val) -> Val {
    if a.cmp(b).is_gt() {
        b
    } else {
        a
    }
}

/// Every multi-index of `dims`, row-major (one empty index for no axes).
fn positions(dims: &[usize]) -> Vec<Vec<usize>> {
    let mut all = vec![Vec::new()];
    for &d in dims {
        all = all.into_iter().flat_map(|p| (0..d).map(move |i| [p.clone(), vec![i]].concat())).collect();
    }
    all
}

/// Runs the graph on one sample of raw input values (every model input's, in input order);
/// returns the raw values of every output, concatenated in output order.
pub fn run(g: &Graph, input: &[i128]) -> Vec<i128> {
    let mut vals: BTreeMap<NodeId, Vec<Val>> = BTreeMap::new();
    let mut next_input = 0;
    for id in g.topo_order().unwrap() {
        let node = g.node(id);
        let ty = node.ty.unwrap();
        let ins: Vec<&Vec<Val>> = g.inputs_of(id).iter().map(|i| &vals[i]).collect();
        let n = node.shape.elements();
        let exact: Vec<Val> = match &node.layer {
            Layer::Input(_) => {
                next_input += n;
                input[next_input - n..next_input].iter().map(|&r| Val::of(r, &ty)).collect()
            }
            Layer::Dense(d) => {
                let acc_ty = d.accum.unwrap();
                let w = consts(&d.weights);
                let b = consts(&d.bias);
                let (n_in, n_out) = (d.n_in(), d.n_out());
                (0..n_out)
                    .map(|j| {
                        let mut acc = Val::of(cast(b[j], &acc_ty), &acc_ty);
                        for i in 0..n_in {
                            acc = Val::of(cast(acc.add(ins[0][i].mul(w[i * n_out + j])), &acc_ty), &acc_ty);
                        }
                        acc
                    })
                    .collect()
            }
            Layer::BatchNorm(b) => {
                let (s, c) = (consts(&b.scale), consts(&b.bias));
                (0..n)
                    .map(|i| {
                        let si = b.scale.shape.broadcast_index(&node.shape, i);
                        let ci = b.bias.shape.broadcast_index(&node.shape, i);
                        ins[0][i].mul(s[si]).add(c[ci])
                    })
                    .collect()
            }
            Layer::Activation(a) => {
                let x = ins[0];
                match a {
                    Activation::Linear => x.clone(),
                    Activation::Relu => x.iter().map(|&v| max(v, Val::zero())).collect(),
                    Activation::LeakyRelu { alpha } => {
                        let al = consts(alpha)[0];
                        x.iter().map(|&v| if v.cmp(Val::zero()).is_ge() { v } else { al.mul(v) }).collect()
                    }
                    Activation::PRelu { alpha } => {
                        let al = consts(alpha);
                        (0..n)
                            .map(|i| {
                                let v = x[i];
                                let k = alpha.shape.broadcast_index(&node.shape, i);
                                if v.cmp(Val::zero()).is_ge() {
                                    v
                                } else {
                                    al[k].mul(v)
                                }
                            })
                            .collect()
                    }
                    Activation::HardSigmoid { alpha, beta } => {
                        let (al, be) = (consts(alpha)[0], consts(beta)[0]);
                        x.iter().map(|&v| min(max(al.mul(v).add(be), Val::zero()), Val::one())).collect()
                    }
                    Activation::Clip { min: lo, max: hi } => x
                        .iter()
                        .map(|&v| {
                            let v = lo.as_ref().map_or(v, |l| max(v, consts(l)[0]));
                            hi.as_ref().map_or(v, |h| min(v, consts(h)[0]))
                        })
                        .collect(),
                    Activation::Sigmoid(t)
                    | Activation::Tanh(t)
                    | Activation::Softplus(t)
                    | Activation::Softsign(t) => x.iter().map(|&v| lookup(t, v)).collect(),
                    Activation::Elu(t) => {
                        x.iter().map(|&v| if v.cmp(Val::zero()).is_ge() { v } else { lookup(t, v) }).collect()
                    }
                    Activation::Selu { scale, table } => {
                        let sc = consts(scale)[0];
                        x.iter()
                            .map(|&v| if v.cmp(Val::zero()).is_ge() { sc.mul(v) } else { lookup(table, v) })
                            .collect()
                    }
                    Activation::ThresholdedRelu { theta } => {
                        let th = consts(theta)[0];
                        x.iter().map(|&v| if v.cmp(th).is_gt() { v } else { Val::zero() }).collect()
                    }
                    Activation::HardSwish { alpha, beta } => {
                        let (al, be) = (consts(alpha)[0], consts(beta)[0]);
                        x.iter()
                            .map(|&v| v.mul(min(max(al.mul(v).add(be), Val::zero()), Val::one())))
                            .collect()
                    }
                }
            }
            Layer::Softmax(s) => {
                let c = node.shape.channels();
                let x = ins[0];
                let mut out = Vec::with_capacity(n);
                for row in x.chunks(c) {
                    let m = row.iter().copied().fold(row[0], max);
                    let e: Vec<Val> = row.iter().map(|&v| lookup(&s.exp_table, m.sub(v))).collect();
                    let sum = e.iter().copied().fold(Val::zero(), Val::add);
                    let r = lookup(&s.inv_table, sum);
                    out.extend(e.iter().map(|&v| v.mul(r)));
                }
                out
            }
            Layer::Elementwise(e) => {
                let mut operands: Vec<Vec<Val>> = ins.iter().map(|v| (*v).clone()).collect();
                if let Some(c) = &e.constant {
                    let cv = consts(c);
                    operands.push((0..n).map(|i| cv[c.shape.broadcast_index(&node.shape, i)]).collect());
                }
                let op = |a: Val, b: Val| match e.op {
                    BinaryOp::Add => a.add(b),
                    BinaryOp::Sub => a.sub(b),
                    BinaryOp::Mul => a.mul(b),
                    BinaryOp::Max => max(a, b),
                    BinaryOp::Min => min(a, b),
                };
                (0..n).map(|i| operands[1..].iter().fold(operands[0][i], |acc, o| op(acc, o[i]))).collect()
            }
            Layer::Concatenate(c) => {
                let shapes: Vec<&[usize]> = g.inputs_of(id).iter().map(|&i| g.node(i).shape.dims()).collect();
                super::concatenate(c.axis, &shapes, &ins)
            }
            Layer::Reshape(_) | Layer::Quantize(_) => ins[0].clone(),
            Layer::Conv(cv) => {
                let xd = g.node(g.inputs_of(id)[0]).shape.dims().to_vec();
                let od = node.shape.dims().to_vec();
                let s = cv.spatial();
                let k = cv.kernel().to_vec();
                let (cg, filters) = (cv.group_channels(), cv.filters());
                let acc_ty = cv.accum.unwrap();
                let (w, b) = (consts(&cv.weights), consts(&cv.bias));
                let mut out = Vec::with_capacity(n);
                for o in positions(&od[..s]) {
                    for f in 0..filters {
                        let grp = f / (filters / cv.groups);
                        let mut acc = Val::of(cast(b[f], &acc_ty), &acc_ty);
                        for (t, tap) in positions(&k).into_iter().enumerate() {
                            let p: Vec<i64> = (0..s)
                                .map(|d| {
                                    (o[d] * cv.strides[d] + tap[d] * cv.dilations[d]) as i64
                                        - cv.pads_begin[d] as i64
                                })
                                .collect();
                            if (0..s).any(|d| p[d] < 0 || p[d] >= xd[d] as i64) {
                                continue;
                            }
                            let mut at = 0;
                            for d in 0..s {
                                at = at * xd[d] + p[d] as usize;
                            }
                            for c in 0..cg {
                                let xv = ins[0][at * xd[s] + grp * cg + c];
                                let prod = xv.mul(w[(t * cg + c) * filters + f]);
                                acc = Val::of(cast(acc.add(prod), &acc_ty), &acc_ty);
                            }
                        }
                        out.push(acc);
                    }
                }
                out
            }
            Layer::Pool(p) => {
                let xd = g.node(g.inputs_of(id)[0]).shape.dims().to_vec();
                let od = node.shape.dims().to_vec();
                let s = p.spatial();
                let ch = xd[s];
                let mut out = Vec::with_capacity(n);
                for o in positions(&od[..s]) {
                    for c in 0..ch {
                        let mut window = Vec::new();
                        for tap in positions(&p.kernel) {
                            let q: Vec<i64> = (0..s)
                                .map(|d| (o[d] * p.strides[d] + tap[d]) as i64 - p.pads_begin[d] as i64)
                                .collect();
                            if (0..s).all(|d| q[d] >= 0 && q[d] < xd[d] as i64) {
                                let mut at = 0;
                                for d in 0..s {
                                    at = at * xd[d] + q[d] as usize;
                                }
                                window.push(ins[0][at * ch + c]);
                            }
                        }
                        out.push(match p.op {
                            PoolOp::Max => window[1..].iter().copied().fold(window[0], max),
                            PoolOp::Average => {
                                let count =
                                    if p.count_pad { p.kernel.iter().product() } else { window.len() };
                                let sum = window.iter().copied().fold(Val::zero(), Val::add);
                                sum.mul(reciprocal(count, &p.reciprocal.unwrap()))
                            }
                        });
                    }
                }
                out
            }
            Layer::Pad(p) => {
                let xd = g.node(g.inputs_of(id)[0]).shape.dims().to_vec();
                let od = node.shape.dims().to_vec();
                let s = p.begin.len();
                let mut out = Vec::with_capacity(n);
                for o in positions(&od[..s]) {
                    let i: Vec<i64> = (0..s).map(|d| o[d] as i64 - p.begin[d]).collect();
                    let inside = (0..s).all(|d| i[d] >= 0 && i[d] < xd[d] as i64);
                    for c in 0..xd[s] {
                        if inside {
                            let mut at = 0;
                            for d in 0..s {
                                at = at * xd[d] + i[d] as usize;
                            }
                            out.push(ins[0][at * xd[s] + c]);
                        } else {
                            out.push(Val::zero());
                        }
                    }
                }
                out
            }
            Layer::UpSample(u) => {
                let xd = g.node(g.inputs_of(id)[0]).shape.dims().to_vec();
                let od = node.shape.dims().to_vec();
                let s = u.factors.len();
                let mut out = Vec::with_capacity(n);
                for o in positions(&od[..s]) {
                    let mut at = 0;
                    for d in 0..s {
                        at = at * xd[d] + o[d] / u.factors[d];
                    }
                    for c in 0..xd[s] {
                        out.push(ins[0][at * xd[s] + c]);
                    }
                }
                out
            }
            Layer::Reduce(r) => {
                let x_shape = g.node(g.inputs_of(id)[0]).shape.clone();
                r.sources(&x_shape)
                    .into_iter()
                    .map(|src| {
                        let v: Vec<Val> = src.iter().map(|&i| ins[0][i]).collect();
                        let total = |f: &dyn Fn(Val) -> Val| v.iter().fold(Val::zero(), |a, &x| a.add(f(x)));
                        match r.op {
                            ReduceOp::Sum => total(&|x| x),
                            ReduceOp::SumSquare => total(&|x| x.mul(x)),
                            ReduceOp::L1 => total(&|x| max(x, Val::zero().sub(x))),
                            ReduceOp::Max => v[1..].iter().copied().fold(v[0], max),
                            ReduceOp::Min => v[1..].iter().copied().fold(v[0], min),
                            ReduceOp::Mean => total(&|x| x).mul(reciprocal(r.count, &r.reciprocal.unwrap())),
                            ReduceOp::L2 => lookup(r.table.as_ref().unwrap(), total(&|x| x.mul(x))),
                        }
                    })
                    .collect()
            }
            Layer::Transpose(t) => {
                let xd = g.node(g.inputs_of(id)[0]).shape.dims().to_vec();
                let mut out = Vec::with_capacity(n);
                for j in positions(node.shape.dims()) {
                    let mut i = vec![0; j.len()];
                    for (k, &p) in t.perm.iter().enumerate() {
                        i[p] = j[k];
                    }
                    let mut at = 0;
                    for d in 0..xd.len() {
                        at = at * xd[d] + i[d];
                    }
                    out.push(ins[0][at]);
                }
                out
            }
            Layer::GatherRows(_) | Layer::ScatterAdd(_) => {
                panic!("{}: graph layers are checked in tests/gnn.rs", node.name)
            }
        };
        let out: Vec<Val> = exact.into_iter().map(|v| Val::of(cast(v, &ty), &ty)).collect();
        vals.insert(id, out);
    }
    g.outputs().iter().flat_map(|o| vals[o].iter().map(|v| v.raw)).collect()
}
