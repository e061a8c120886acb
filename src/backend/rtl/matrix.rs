//! A constant matrix times a vector of signals, `y_j = b_j + sum_i c_ij x_i` (integers), built
//! from the shared shift-and-add plan of [`crate::arch::mcm`]: every node becomes one adder of
//! the least width its exact range needs. Dense uses it; any layer that multiplies values by a
//! constant matrix can.
//!
//! Signed inputs enter as unsigned ones ([`unsigned`]: the sign bit inverted adds `2^(w-1)`, and
//! the biases take the offset back), so that sums of same-signed terms need no sign extension;
//! the plan does the same for signed intermediate nodes ([`Node::Flip`], built by [`flip`]).
//!
//! Registers: `cuts` lists adder depths (non-decreasing); for each cut at depth `c`, every
//! value of depth at most `c` read by an adder of greater depth, or by an output, passes through
//! one register (constants never do). The outputs are therefore delayed by exactly `cuts.len()`
//! cycles and carry no output register of their own.

use std::collections::BTreeMap;

use super::netlist::{Module, Val};
use crate::arch::mcm::{self, Node, Plan};

/// Each signed input `x` of width `w` as `u = x + 2^(w-1)` (its sign bit inverted, a value in
/// `[0, 2^w)`), unsigned inputs as they are; returns the inputs and each one's offset (value
/// units), for [`mcm::offset_bias`].
pub fn unsigned(m: &mut Module, xs: &[Val]) -> (Vec<Val>, Vec<i128>) {
    let mut us = Vec::with_capacity(xs.len());
    let mut offsets = Vec::with_capacity(xs.len());
    for x in xs {
        if !x.signed() {
            us.push(x.clone());
            offsets.push(0);
            continue;
        }
        let half = 1i128 << (x.w - 1);
        let top = m.slice(x, x.w - 1, x.w - 1);
        let expr = if x.w == 1 {
            format!("~{top}")
        } else {
            let rest = m.slice(x, x.w - 2, 0);
            format!("{{~{top}, {rest}}}")
        };
        us.push(m.wire("u", x.lo + half, x.hi + half, x.sh, Some(x.w), &expr));
        offsets.push(half << x.sh);
    }
    (us, offsets)
}

/// `v + 2^(w-1)` for a value `v` in the signed range `range` (units of the value), `w` its
/// [`mcm::bit_width`]: `v`'s two's complement at that width with the sign bit inverted.
fn flip(m: &mut Module, v: &Val, (lo, hi): (i128, i128)) -> Val {
    let w = mcm::bit_width(lo, hi) - v.sh;
    let half = 1i128 << (w - 1);
    let x = if w == v.w {
        v.clone()
    } else {
        let bits = m.fit(v, v.sh, w);
        m.wire("e", v.lo, v.hi, v.sh, Some(w), &bits)
    };
    let top = m.slice(&x, w - 1, w - 1);
    let expr = if w == 1 {
        format!("~{top}")
    } else {
        let rest = m.slice(&x, w - 2, 0);
        format!("{{~{top}, {rest}}}")
    };
    m.wire("u", x.lo + half, x.hi + half, x.sh, Some(w), &expr)
}

/// The plan of `coefs` (`n_in x n_out`, row-major) and `bias` over the ranges of `xs`.
pub fn plan(coefs: &[i128], bias: &[i128], xs: &[Val]) -> Plan {
    let inputs: Vec<(i128, i128)> = xs.iter().map(Val::range).collect();
    mcm::plan(coefs, bias, &inputs)
}

/// Builds `plan` (made by [`plan`] over `xs`); returns the outputs in units of the inputs' and
/// coefficients' common scale.
pub fn build(m: &mut Module, plan: &Plan, xs: &[Val], cuts: &[u32]) -> Vec<Val> {
    let stage = |d: u32| cuts.iter().filter(|&&c| c < d).count() as u32;
    // Each node's value delayed by a number of cut registers.
    let mut vals: BTreeMap<(usize, u32), Val> = BTreeMap::new();
    let delayed = |m: &mut Module, vals: &mut BTreeMap<(usize, u32), Val>, node: usize, k: u32| -> Val {
        let mut have = (0..=k).rev().find(|&d| vals.contains_key(&(node, d))).unwrap_or(0);
        let constant = matches!(plan.nodes[node], Node::Const(_));
        while have < k {
            let v = vals[&(node, have)].clone();
            let r = if constant { v } else { m.reg(&v) };
            have += 1;
            vals.insert((node, have), r);
        }
        vals[&(node, k)].clone()
    };
    for (id, node) in plan.nodes.iter().enumerate() {
        let v = match *node {
            Node::Input(i) => xs[i].clone(),
            Node::Const(c) => m.constant(c),
            Node::Flip(n) => flip(m, &vals[&(n, 0)], plan.ranges[n]),
            Node::Add { a, b, sub } => {
                let at = stage(plan.depth[id]);
                let x = delayed(m, &mut vals, a.node, at - stage(plan.depth[a.node])).shifted(a.shift);
                let y = delayed(m, &mut vals, b.node, at - stage(plan.depth[b.node])).shifted(b.shift);
                let s = x.sh.min(y.sh);
                let (lo, hi) = plan.ranges[id];
                m.add(&x, &y, sub, Some((lo >> s, hi >> s)))
            }
        };
        vals.insert((id, 0), v);
    }
    let all = cuts.len() as u32;
    plan.outputs
        .iter()
        .map(|o| {
            let v = delayed(m, &mut vals, o.node, all - stage(plan.depth[o.node])).shifted(o.shift);
            if o.neg {
                m.neg(&v)
            } else {
                v
            }
        })
        .collect()
}
