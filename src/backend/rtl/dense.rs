//! `Dense` as multiplier-free logic: `y_j = cast(b_j + sum_i x_i * w_ij)`. The builder,
//! [`matrix`], takes any [`ConstMatrix`] and its input values; `Conv` builds each output position
//! through it too.
//!
//! Every product is brought to the common fractional-bit count `F = max(F_x + F_w, F_b)`, where
//! a weight is `±odd * 2^k`. Zero weights vanish; for each input, each distinct odd magnitude
//! `> 1` is computed once (shift-and-add over its canonical signed digits) and shared by every
//! output that needs it; the power of two is wiring and the sign becomes a subtraction in the
//! output's adder tree. Each output sums its terms and its bias in a balanced adder tree of
//! minimal-width adders, then casts to the output type; `AP_RND` rounding is folded into the
//! bias (`floor(S + 1/2)`), saving an incrementer.
//!
//! The result equals `ir::Layer::Dense` when the accumulator is exact for these weights and the
//! input range (one cast of the exact sum), or when it wraps without rounding (`AP_WRAP` with at
//! least `F` fractional bits: sums modulo `2^W_acc` do not depend on the order). Other
//! accumulators make the result depend on the summation order and are refused.
//!
//! Registers: `stages - 1` register cuts spread evenly over the adder-tree levels, then the output
//! register, so the layer takes exactly `stages` cycles.

use std::collections::BTreeMap;

use super::cast::cast;
use super::netlist::{Module, Val};
use super::pointwise::{raws, shl};
use crate::backend::BackendError;
use crate::fixed::{FixedType, OverflowMode, QuantMode};
use crate::ir::Dense;

/// One leaf or node of an adder tree: a value and whether it is subtracted.
#[derive(Clone)]
struct Term {
    val: Val,
    neg: bool,
}

/// A constant matrix with a bias, in raw integers: `y_j = cast(b_j + sum_i x_i * w_ij)`.
pub struct ConstMatrix<'a> {
    /// The layer named in errors.
    pub layer: &'a str,
    /// Row-major `[n_in, n_out]` raw weights at `fw` fractional bits.
    pub weights: &'a [i128],
    pub fw: i64,
    /// `n_out` raw biases at `fb` fractional bits.
    pub bias: &'a [i128],
    pub fb: i64,
    pub accum: FixedType,
}

/// Builds `Dense` on its inputs `xs` (at `fx` fractional bits): its registered outputs.
pub fn build(
    m: &mut Module,
    layer: &str,
    d: &Dense,
    xs: &[Val],
    fx: i64,
    out: &FixedType,
    stages: u32,
) -> Result<Vec<Val>, BackendError> {
    let (weights, fw) = raws(layer, "weights", &d.weights)?;
    let (bias, fb) = raws(layer, "bias", &d.bias)?;
    if weights.len() != d.n_in() * d.n_out() || bias.len() != d.n_out() || xs.len() != d.n_in() {
        return Err(BackendError::layer(layer, "weight, bias and input sizes do not match"));
    }
    let accum = d.accum.ok_or_else(|| BackendError::layer(layer, "the accumulator type is unknown"))?;
    matrix(m, &ConstMatrix { layer, weights: &weights, fw, bias: &bias, fb, accum }, xs, fx, out, stages)
}

/// Builds the product of constant matrix `c` with the values `xs` (at `fx` fractional bits): the
/// `n_out` outputs cast to `out`, after exactly `stages` register stages.
pub fn matrix(
    m: &mut Module,
    c: &ConstMatrix,
    xs: &[Val],
    fx: i64,
    out: &FixedType,
    stages: u32,
) -> Result<Vec<Val>, BackendError> {
    let (layer, w, fw, b, fb, acc) = (c.layer, c.weights, c.fw, c.bias, c.fb, c.accum);
    let (n_in, n_out) = (xs.len(), b.len());
    if w.len() != n_in * n_out {
        return Err(BackendError::layer(layer, "weight, bias and input sizes do not match"));
    }
    let f = (fx + fw).max(fb);

    // Terms of each output; shared odd multiples of each input.
    let mut multiples: BTreeMap<(usize, u128), Val> = BTreeMap::new();
    let mut trees: Vec<Vec<Term>> = vec![Vec::new(); n_out];
    for i in 0..n_in {
        for (j, tree) in trees.iter_mut().enumerate() {
            let c = shl(layer, w[i * n_out + j], f - fx - fw)?;
            if c == 0 {
                continue;
            }
            let k = c.unsigned_abs().trailing_zeros();
            let odd = c.unsigned_abs() >> k;
            let p = match multiples.get(&(i, odd)) {
                Some(p) => p.clone(),
                None => {
                    let p = m.mul_odd(&xs[i], odd);
                    multiples.insert((i, odd), p.clone());
                    p
                }
            };
            tree.push(Term { val: p.shifted(k), neg: c < 0 });
        }
    }

    // The exact sum's range decides which accumulator semantics apply.
    let fa = i64::from(acc.frac_bits());
    let mut ranges = Vec::with_capacity(n_out);
    for (j, tree) in trees.iter().enumerate() {
        let bias = shl(layer, b[j], f - fb)?;
        let (mut lo, mut hi) = (bias, bias);
        for t in tree {
            let (a, z) = t.val.range();
            let (a, z) = if t.neg { (-z, -a) } else { (a, z) };
            lo += a;
            hi += z;
        }
        ranges.push((lo, hi));
    }
    let sym = acc.signed && acc.width > 1 && acc.overflow == OverflowMode::SatSym;
    let keep = acc.min_raw() + i128::from(sym);
    let mut exact = fa >= f;
    for &(lo, hi) in &ranges {
        if !exact {
            break;
        }
        exact = shl(layer, lo, fa - f)? >= keep && shl(layer, hi, fa - f)? <= acc.max_raw();
    }
    let wraps = fa >= f && acc.overflow == OverflowMode::Wrap;
    if !exact && !wraps {
        return Err(BackendError::layer(
            layer,
            format!(
                "accumulator {} can round or saturate partial sums, which makes the result depend on the summation order; the RTL backend needs an exact accumulator or an AP_WRAP one with at least {f} fractional bits",
                acc.ap_fixed_spelling()
            ),
        ));
    }
    // AP_RND on the final cast: floor(S + 1/2), with the half folded into the bias.
    let drop = i64::from(out.frac_bits()) - f;
    let fold = exact && out.quant == QuantMode::Rnd && drop < 0;
    let final_ty = if fold { out.with_modes(QuantMode::Trn, out.overflow) } else { *out };

    for (j, tree) in trees.iter_mut().enumerate() {
        let mut bias = shl(layer, b[j], f - fb)?;
        if fold {
            bias += 1i128 << (-drop - 1);
        }
        if bias != 0 {
            tree.push(Term { val: m.constant(bias), neg: false });
        }
        tree.sort_by_key(|t| (std::cmp::Reverse(t.val.sh), t.val.w));
    }

    let depth = trees.iter().map(|t| levels(t.len())).max().unwrap_or(0);
    let cuts: Vec<u32> = (1..stages).map(|k| k * depth / stages).collect();
    for level in 0..=depth {
        for _ in cuts.iter().filter(|&&c| c == level) {
            let mut regs: BTreeMap<(String, u32), Val> = BTreeMap::new();
            for tree in trees.iter_mut() {
                for t in tree.iter_mut() {
                    let key = (t.val.name.clone(), t.val.sh);
                    let r = match regs.get(&key) {
                        Some(r) => r.clone(),
                        None => {
                            let r = m.reg(&t.val);
                            regs.insert(key, r.clone());
                            r
                        }
                    };
                    t.val = r;
                }
            }
        }
        if level < depth {
            for tree in trees.iter_mut() {
                *tree = reduce(m, tree);
            }
        }
    }

    let mut ys = Vec::with_capacity(n_out);
    for tree in &trees {
        let sum = match tree.first() {
            None => m.constant(0),
            Some(t) if t.neg => m.neg(&t.val),
            Some(t) => t.val.clone(),
        };
        let y = if exact {
            cast(m, &sum, f, &final_ty)
        } else {
            let a = cast(m, &sum, f, &acc);
            cast(m, &a, fa, out)
        };
        ys.push(m.reg(&y));
    }
    Ok(ys)
}

/// Levels of a balanced binary tree over `n` leaves.
fn levels(n: usize) -> u32 {
    if n <= 1 {
        0
    } else {
        usize::BITS - (n - 1).leading_zeros()
    }
}

/// One level of the adder tree: adjacent pairs are added (signs fold into subtractions).
fn reduce(m: &mut Module, tree: &[Term]) -> Vec<Term> {
    tree.chunks(2)
        .map(|pair| match pair {
            [a, b] => match (a.neg, b.neg) {
                (false, true) => Term { val: m.add(&a.val, &b.val, true, None), neg: false },
                (true, false) => Term { val: m.add(&b.val, &a.val, true, None), neg: false },
                (n, _) => Term { val: m.add(&a.val, &b.val, false, None), neg: n },
            },
            [a] => a.clone(),
            _ => unreachable!("chunks(2) yields one or two terms"),
        })
        .collect()
}
