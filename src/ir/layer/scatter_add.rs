//! `ScatterAdd`: rows summed into the rows of a zero tensor that an index tensor names (ONNX
//! `ScatterElements` and `ScatterND` with `reduction="add"` into zeros: the messages of a graph
//! network's edges summed into their receiver nodes). Specs:
//! <https://onnx.ai/onnx/operators/onnx__ScatterElements.html>,
//! <https://onnx.ai/onnx/operators/onnx__ScatterND.html>.
//!
//! Inputs `x [m, d_1, ...]` and `index [m]` of an integer type; the output is `[rows, d_1, ...]`
//! with `y[r, ...] = cast(sum of x[k, ...] over the k with index[k] = r)`, the sum exact (so its
//! order does not matter) and 0 for a row no index names. An index outside `0..rows` is an error
//! of the run, as for [`GatherRows`](super::GatherRows).

use serde::{Deserialize, Serialize};

use super::gather_rows::{index_operand, index_type};
use super::{exact, result_only, Arity, Held, HeldMut, LayerDef, Work};
use crate::fixed::FixedType;
use crate::ir::Shape;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScatterAdd {
    /// Rows of the output.
    pub rows: usize,
    /// Rows of the input (`m`), which bounds the terms of one sum.
    pub terms: usize,
}

/// Bits that hold a count up to `n`: `ceil(log2(n))`.
fn count_bits(n: usize) -> u32 {
    n.max(1).next_power_of_two().trailing_zeros()
}

impl LayerDef for ScatterAdd {
    fn arity(&self) -> Arity {
        Arity::Exactly(2)
    }

    fn output_shape(&self, inputs: &[&Shape]) -> Result<Shape, String> {
        let [x, index] = inputs else { return Err(format!("takes 2 inputs, has {}", inputs.len())) };
        let m = index_operand(index)?;
        if x.dims().first() != Some(&m) || m != self.terms {
            return Err(format!("the index has {m} entries but the data {x} does not have {m} rows"));
        }
        if self.rows == 0 {
            return Err("the output must have at least one row".into());
        }
        let mut dims = x.dims().to_vec();
        dims[0] = self.rows;
        Ok(Shape::new(dims))
    }

    /// The input type with the integer bits of a sum of all `m` rows (any `m` can meet in one row).
    fn exact_type(&self, role: &str, inputs: &[FixedType]) -> Result<FixedType, String> {
        result_only(role)?;
        let [x, index] = inputs else { return Err(format!("takes 2 inputs, has {}", inputs.len())) };
        index_type(index)?;
        let grow = count_bits(self.terms);
        exact(FixedType { width: x.width + grow, integer: x.integer + grow as i32, ..*x })
    }

    fn held(&self) -> Held<'_> {
        Held::default()
    }

    fn held_mut(&mut self) -> HeldMut<'_> {
        HeldMut::default()
    }

    fn work(&self, _: &[&Shape]) -> Work {
        Work::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_types() {
        let s = ScatterAdd { rows: 28, terms: 56 };
        let (x, i) = (Shape::new([56, 4]), Shape::new([56]));
        assert_eq!(s.output_shape(&[&x, &i]), Ok(Shape::new([28, 4])));
        assert!(s.output_shape(&[&Shape::new([55, 4]), &i]).is_err());
        let t = FixedType::new(14, 7, true);
        let r = s.exact_type("result", &[t, FixedType::int(64, true)]).map(|r| (r.width, r.integer));
        assert_eq!(r, Ok((20, 13)));
    }
}
