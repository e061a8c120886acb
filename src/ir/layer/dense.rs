//! `Dense`: `y = x · W + b` on a flat input of `n_in` features.
//!
//! Arithmetic, per output `j`: `acc = cast_acc(b_j)`, then for `i = 0..n_in` in order
//! `acc = cast_acc(acc + x_i * w_ij)`, and `y_j = cast(acc)`, where `cast_acc` is the cast to the
//! accumulator type. With an exact accumulator ([`Dense::exact_accum`], the default) no
//! accumulation rounds or overflows, so the order does not matter and `y_j` is one cast of the
//! exact sum. A zero weight contributes nothing (`acc + x * 0` is `acc`, already of the
//! accumulator type), so pruned weights may be skipped by every implementation.
//!
//! The reuse factor time-shares the `n_in * n_out` multiplications: a legal one divides that count.

use serde::{Deserialize, Serialize};

use super::{const_ty, exact, one, one_ty, Arity, Held, HeldMut, LayerDef, Work};
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

    /// The exact accumulator for input type `x`: the fraction of the products (and the bias), and
    /// a range covering the largest partial sum the actual weights allow, in any order.
    pub fn exact_accum(&self, x: &FixedType) -> Result<FixedType, String> {
        let wt = const_ty("weights", &self.weights)?;
        let bt = const_ty("bias", &self.bias)?;
        let fp = x.frac_bits() + wt.frac_bits();
        let frac = fp.max(bt.frac_bits());
        let x_max = x.max_raw().unsigned_abs().max(x.min_raw().unsigned_abs());
        let (n_in, n_out) = (self.n_in(), self.n_out());
        let mut bound: u128 = 0;
        let mut negative = x.signed;
        for j in 0..n_out {
            let b = self.bias.values[j];
            negative |= b < 0.0;
            let mut s: u128 = ((b.abs() * 2f64.powi(bt.frac_bits())) as u128) << (frac - bt.frac_bits());
            for i in 0..n_in {
                let w = self.weights.values[i * n_out + j];
                negative |= w < 0.0;
                let w_raw = (w.abs() * 2f64.powi(wt.frac_bits())) as u128;
                s = s.saturating_add(w_raw.saturating_mul(x_max) << (frac - fp));
            }
            bound = bound.max(s);
        }
        let bits = (128 - bound.leading_zeros()).max(1) as i32 + i32::from(negative);
        exact(FixedType::new(bits.max(1) as u32, bits - frac, negative))
            .map_err(|e| e.replace("result", "accumulator"))
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
        if x.dims() != [self.n_in()] {
            return Err(format!("expects a flat input of {} features, gets {x}", self.n_in()));
        }
        Ok(Shape::new([self.n_out()]))
    }

    fn exact_type(&self, role: &str, inputs: &[FixedType]) -> Result<FixedType, String> {
        let x = one_ty(inputs)?;
        match role {
            "result" => self.accum.ok_or_else(|| "accumulator type is unknown".to_string()),
            "accumulator" => self.exact_accum(&x),
            other => Err(format!("has no {other} type")),
        }
    }

    fn held(&self) -> Held<'_> {
        Held {
            constants: vec![("weights", &self.weights), ("bias", &self.bias)],
            tables: Vec::new(),
            types: vec![("accumulator", self.accum)],
        }
    }

    fn held_mut(&mut self) -> HeldMut<'_> {
        HeldMut {
            constants: vec![("weights", &mut self.weights), ("bias", &mut self.bias)],
            tables: Vec::new(),
            types: vec![("accumulator", &mut self.accum)],
        }
    }

    fn work(&self, _: &[&Shape]) -> Work {
        Work {
            macs: self.weights.values.len() - self.weights.zeros(),
            reuse_domain: Some(self.n_in() * self.n_out()),
        }
    }
}
