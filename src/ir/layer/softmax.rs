//! `Softmax` over the last axis, numerically stable and table based. Per row `x` of the last axis:
//!
//! 1. `m = max_i x_i`; `d_i = m - x_i` (exact, `d_i >= 0`);
//! 2. `e_i = exp_table[index(d_i)]` where the table holds `exp(-d)` (so `e_i = 1` at the maximum);
//! 3. `s = sum_i e_i` (exact, `1 <= s <= n`);
//! 4. `r = inv_table[index(s)]` where the table holds `1 / s`;
//! 5. `y_i = cast(e_i * r)` (exact product, then the output type).

use serde::{Deserialize, Serialize};

use super::{exact, one, one_ty, result_only, Arity, Held, HeldMut, LayerDef, Work};
use crate::fixed::{FixedType, OverflowMode, QuantMode};
use crate::ir::{Shape, Table, TableFn};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Softmax {
    pub exp_table: Table,
    pub inv_table: Table,
}

impl Softmax {
    /// Defaults for `n` classes: `exp(-d)` over d in [0, 8) at 1/256 steps (2048 entries of 18
    /// bits: one 36 Kb block RAM), fine enough that logits rarely tie; `1/s` over
    /// s in [0, 2^ceil(log2 n)) with 1024 entries of 18 bits.
    pub fn default_for(n: usize) -> Self {
        let range = (n.max(2) as f64).log2().ceil() as i32;
        Softmax {
            exp_table: Table::new(
                TableFn::ExpNeg,
                FixedType::new(11, 3, false).with_modes(QuantMode::Rnd, OverflowMode::Sat),
                FixedType::new(18, 1, false).with_modes(QuantMode::Rnd, OverflowMode::Sat),
            ),
            inv_table: Table::new(
                TableFn::Reciprocal,
                FixedType::new(10, range, false).with_modes(QuantMode::Rnd, OverflowMode::Sat),
                FixedType::new(18, 1, false).with_modes(QuantMode::Rnd, OverflowMode::Sat),
            ),
        }
    }

    /// Unsigned type holding `m - x` exactly for any two values `m >= x` of the input type.
    pub fn difference_type(x: &FixedType) -> FixedType {
        FixedType::new(x.width, x.integer, false)
    }

    /// Type holding the exact sum of the `n` table values of a row.
    pub fn sum_type(&self, n: usize) -> FixedType {
        let ty = self.exp_table.ty;
        let extra = if n <= 1 { 0 } else { (usize::BITS - (n - 1).leading_zeros()) as i32 };
        FixedType::new(ty.width + extra as u32, ty.integer + extra, ty.signed)
    }
}

impl LayerDef for Softmax {
    fn arity(&self) -> Arity {
        Arity::Exactly(1)
    }

    fn output_shape(&self, inputs: &[&Shape]) -> Result<Shape, String> {
        Ok(one(inputs)?.clone())
    }

    fn exact_type(&self, role: &str, inputs: &[FixedType]) -> Result<FixedType, String> {
        result_only(role)?;
        one_ty(inputs)?;
        exact(self.exp_table.ty.exact_mul_type(&self.inv_table.ty))
    }

    fn held(&self) -> Held<'_> {
        Held {
            tables: vec![("exp_table", &self.exp_table), ("inv_table", &self.inv_table)],
            ..Held::default()
        }
    }

    fn held_mut(&mut self) -> HeldMut<'_> {
        let tables = vec![("exp_table", &mut self.exp_table), ("inv_table", &mut self.inv_table)];
        HeldMut { tables, ..HeldMut::default() }
    }

    fn work(&self, _: &[&Shape]) -> Work {
        Work::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intermediate_types() {
        let mut s = Softmax::default_for(4);
        s.exp_table.ty = FixedType::new(18, 1, false);
        assert_eq!(s.sum_type(1), FixedType::new(18, 1, false));
        assert_eq!(s.sum_type(2), FixedType::new(19, 2, false));
        assert_eq!(s.sum_type(5), FixedType::new(21, 4, false));
        assert_eq!(s.sum_type(8), FixedType::new(21, 4, false));
        assert_eq!(s.sum_type(9), FixedType::new(22, 5, false));
        assert_eq!(Softmax::difference_type(&FixedType::new(16, 6, true)), FixedType::new(16, 6, false));
    }
}
