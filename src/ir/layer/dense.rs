//! `Dense`: `y = x · W + b` on the last axis of its input: a flat input of `n_in` features, or
//! row-wise on `[rows..., n_in]` (the same weights on every row, each row computed as a flat
//! input: the edge and node MLPs of a graph network) giving `[rows..., n_out]`.
//!
//! Arithmetic, per output `j`: `acc = cast_acc(b_j)`, then for `i = 0..n_in` in order
//! `acc = cast_acc(acc + x_i * w_ij)`, and `y_j = cast(acc)`, where `cast_acc` is the cast to the
//! accumulator type. With an exact accumulator ([`Dense::exact_accum`], the default) no
//! accumulation rounds or overflows, so the order does not matter and `y_j` is one cast of the
//! exact sum. A zero weight contributes nothing (`acc + x * 0` is `acc`, already of the
//! accumulator type), so pruned weights may be skipped by every implementation.
//!
//! **Reuse factor `R`** (a legal one divides `n_in`): the layer may be built as `R` steps that
//! each multiply `K = n_in / R` inputs (`i = q·R + r`, `q = 0..K`, in step `r`) by the weights of
//! every output, so the order of accumulation becomes `r`-major. An implementation may do that
//! only when the accumulation is [order-free](Dense::order_free); then the per-step form
//! `acc_j = cast_acc(acc_j + Σ_q cast_acc(x_i · w_ij))` (the inner sum wrapping) gives the bits of
//! the sequential definition above.

use serde::{Deserialize, Serialize};

use super::{
    const_ty, dot, exact_matrix_accumulator, one, one_ty, order_free_accumulator, Arity, Held, HeldMut,
    LayerDef, ReuseDomain, Work,
};
use crate::fixed::FixedType;
use crate::ir::{Shape, Weights};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dense {
    /// Shape `[n_in, n_out]`.
    pub weights: Weights,
    /// Shape `[n_out]`.
    pub bias: Weights,
    /// Accumulator type; `None` until precision inference makes it exact or the config sets it.
    pub accum: Option<FixedType>,
}

impl Dense {
    pub fn n_in(&self) -> usize {
        self.weights.shape.dims().first().copied().unwrap_or(0)
    }

    pub fn n_out(&self) -> usize {
        self.weights.shape.dims().get(1).copied().unwrap_or(0)
    }

    /// Rows the layer computes for an input of shape `x` (1 for a flat input).
    pub fn rows(&self, x: &Shape) -> usize {
        x.elements() / self.n_in().max(1)
    }

    /// The exact accumulator for input type `x`: the fraction of the products (and the bias), and
    /// a range covering the largest partial sum the actual weights allow, in any order.
    pub fn exact_accum(&self, x: &FixedType) -> Result<FixedType, String> {
        let wt = const_ty("weights", &self.weights)?;
        let bt = const_ty("bias", &self.bias)?;
        let w = &self.weights.values[..(self.n_in() * self.n_out()).min(self.weights.values.len())];
        exact_matrix_accumulator(x, wt, bt, &self.bias.values[..self.n_out().min(self.bias.values.len())], w)
    }

    /// Whether the accumulation gives the same bits in every order with input type `x`
    /// ([`order_free_accumulator`](super::order_free_accumulator)).
    pub fn order_free(&self, x: &FixedType) -> Result<bool, String> {
        order_free_accumulator(self.accum, || self.exact_accum(x))
    }
}

impl LayerDef for Dense {
    fn arity(&self) -> Arity {
        Arity::Exactly(1)
    }

    fn output_shape(&self, inputs: &[&Shape]) -> Result<Shape, String> {
        let x = one(inputs)?;
        if self.weights.shape.rank() != 2 {
            return Err(format!("weights must be 2-D, are {}", self.weights.shape));
        }
        if self.bias.shape.dims() != [self.n_out()] {
            return Err(format!("bias shape {} does not match {} outputs", self.bias.shape, self.n_out()));
        }
        match x.dims().split_last() {
            Some((&last, rows)) if last == self.n_in() => {
                Ok(Shape::new(rows.iter().copied().chain([self.n_out()]).collect::<Vec<_>>()))
            }
            _ => Err(format!("expects {} features on the last axis, gets {x}", self.n_in())),
        }
    }

    fn exact_type(&self, role: &str, inputs: &[FixedType]) -> Result<FixedType, String> {
        let x = one_ty(inputs)?;
        dot::exact_type(role, self.accum, || self.exact_accum(&x))
    }

    fn held(&self) -> Held<'_> {
        dot::held(&self.weights, &self.bias, self.accum)
    }

    fn held_mut(&mut self) -> HeldMut<'_> {
        dot::held_mut(&mut self.weights, &mut self.bias, &mut self.accum)
    }

    fn work(&self, inputs: &[&Shape]) -> Work {
        let rows = inputs.first().map_or(1, |x| self.rows(x));
        Work {
            macs: (self.weights.values.len() - self.weights.zeros()) * rows,
            reuse_domain: Some(ReuseDomain { count: self.n_in(), unit: "inputs" }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixed::{cast, OverflowMode, QuantMode};

    fn typed(shape: &[usize], values: Vec<f64>, ty: FixedType) -> Weights {
        Weights { ty: Some(ty), ..Weights::new(Shape::new(shape.to_vec()), values) }
    }

    /// The sequential accumulation of the definition, on raw values: `x` has `fx` fractional
    /// bits, the weights `fw`, the bias is already an accumulator value.
    fn sequential(b: i128, xs: &[i128], ws: &[i128], fp: i32, acc: &FixedType) -> i128 {
        let fa = acc.frac_bits();
        xs.iter().zip(ws).fold(b, |a, (x, w)| cast((a << (fp - fa)) + x * w, fp, acc).raw)
    }

    /// The reuse-factor form: step `r` adds the wrapped sum of the cast products of inputs
    /// `q·R + r` to the accumulator.
    fn stepped(b: i128, xs: &[i128], ws: &[i128], fp: i32, acc: &FixedType, reuse: usize) -> i128 {
        let wrap = FixedType::new(acc.width, acc.integer, acc.signed);
        let fa = acc.frac_bits();
        let mut a = b;
        for r in 0..reuse {
            let mut s = 0;
            for i in (r..xs.len()).step_by(reuse) {
                s = cast(s + cast(xs[i] * ws[i], fp, acc).raw, fa, &wrap).raw;
            }
            a = cast(a + s, fa, &wrap).raw;
        }
        a
    }

    /// splitmix64.
    fn next(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    #[test]
    fn order_free_accumulators_give_the_sequential_bits_in_steps() {
        let (fx, fw) = (3, 4);
        let fp = fx + fw;
        let mut seed = 7;
        let modes = [
            (QuantMode::Trn, OverflowMode::Wrap, true),
            (QuantMode::Rnd, OverflowMode::Wrap, true),
            (QuantMode::RndMinInf, OverflowMode::Wrap, true),
            (QuantMode::RndConv, OverflowMode::Wrap, false),
            (QuantMode::Trn, OverflowMode::Sat, false),
        ];
        for (quant, overflow, free) in modes {
            // 8 bits with 3 fractional: products (7 fractional bits) round and sums overflow.
            let acc = FixedType::new(8, 5, true).with_modes(quant, overflow);
            let mut differs = 0;
            for _ in 0..400 {
                let n = 8;
                let xs: Vec<i128> = (0..n).map(|_| (next(&mut seed) % 200) as i128 - 100).collect();
                let ws: Vec<i128> = (0..n).map(|_| (next(&mut seed) % 60) as i128 - 30).collect();
                let b = (next(&mut seed) % 256) as i128 - 128;
                let want = sequential(b, &xs, &ws, fp, &acc);
                for reuse in [2, 4, 8] {
                    let got = stepped(b, &xs, &ws, fp, &acc, reuse);
                    if free {
                        assert_eq!(got, want, "{quant:?} {overflow:?} reuse {reuse}");
                    } else if got != want {
                        differs += 1;
                    }
                }
            }
            assert!(free || differs > 0, "{quant:?} {overflow:?} never differed");
            let d = Dense {
                weights: typed(&[1, 1], vec![0.5], FixedType::new(6, 2, true)),
                bias: typed(&[1], vec![0.0], FixedType::new(4, 2, true)),
                accum: Some(acc),
            };
            assert_eq!(d.order_free(&FixedType::new(8, 5, true)).unwrap(), free);
        }
    }

    #[test]
    fn an_accumulator_holding_the_exact_one_is_order_free_in_any_mode() {
        let x = FixedType::new(8, 3, true);
        let mut d = Dense {
            weights: typed(&[2, 1], vec![0.5, -0.25], FixedType::new(4, 1, true)),
            bias: typed(&[1], vec![0.5], FixedType::new(4, 1, true)),
            accum: None,
        };
        let exact = d.exact_accum(&x).unwrap();
        let sat = |t: FixedType| t.with_modes(QuantMode::RndConv, OverflowMode::Sat);
        d.accum = Some(sat(exact));
        assert!(d.order_free(&x).unwrap());
        d.accum = Some(sat(FixedType::new(exact.width + 2, exact.integer + 1, true)));
        assert!(d.order_free(&x).unwrap());
        d.accum = Some(sat(FixedType::new(exact.width - 1, exact.integer - 1, true)));
        assert!(!d.order_free(&x).unwrap());
        assert!(FixedType::new(16, 6, true).covers(&FixedType::new(8, 3, false)));
        assert!(!FixedType::new(8, 3, false).covers(&FixedType::new(8, 3, true)));
    }
}
