//! An independent, exact reference of the layer arithmetic of `src/ir/layer/`, on raw integers.
//!
//! A value is `raw * 2^-frac` held in `i128`; products and sums are exact, `cast` applies the
//! target type's quantization mode and then its overflow mode. Test types are small enough that
//! nothing here overflows `i128` (checked).

use std::collections::BTreeMap;

use hls_gen::fixed::{FixedType, OverflowMode, QuantMode};
use hls_gen::ir::{Activation, BinaryOp, Graph, Layer, NodeId, Table, Weights};

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
    // ap_types' AP_SAT_SYM never yields the most negative value of a signed type, even when
    // it is in range (checked against ap_fixed assignment).
    if ty.overflow == OverflowMode::SatSym && ty.signed {
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
                    Activation::Sigmoid(t) | Activation::Tanh(t) => x.iter().map(|&v| lookup(t, v)).collect(),
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
                let x = ins[0];
                let other: Vec<Val> = match &e.constant {
                    Some(c) => {
                        let cv = consts(c);
                        (0..n).map(|i| cv[c.shape.broadcast_index(&node.shape, i)]).collect()
                    }
                    None => ins[1].clone(),
                };
                x.iter()
                    .zip(&other)
                    .map(|(&a, &b)| match e.op {
                        BinaryOp::Add => a.add(b),
                        BinaryOp::Sub => a.sub(b),
                        BinaryOp::Mul => a.mul(b),
                    })
                    .collect()
            }
            Layer::Concatenate(c) => {
                let shapes: Vec<&[usize]> = g.inputs_of(id).iter().map(|&i| g.node(i).shape.dims()).collect();
                super::concatenate(c.axis, &shapes, &ins)
            }
            Layer::Reshape(_) | Layer::Quantize(_) => ins[0].clone(),
        };
        let out: Vec<Val> = exact.into_iter().map(|v| Val::of(cast(v, &ty), &ty)).collect();
        vals.insert(id, out);
    }
    g.outputs().iter().flat_map(|o| vals[o].iter().map(|v| v.raw)).collect()
}
