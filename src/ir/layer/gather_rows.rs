//! `GatherRows`: the rows of a tensor picked by an index tensor computed at run time (ONNX
//! `Gather` on axis 0 with an index from a model input: the sender and receiver features of a
//! graph network's edges). Spec: <https://onnx.ai/onnx/operators/onnx__Gather.html>.
//!
//! Inputs `x [n, d_1, ...]` and `index [m]` of an integer type (no fractional bits); the output
//! is `[m, d_1, ...]` with `y[k, ...] = cast(x[index[k], ...])`. An index outside `0..n` is an
//! error of the run, never a wrap or a clamp: the simulator names the index input and the position;
//! the firmware's testbench feeds only inputs the simulator accepted.

use serde::{Deserialize, Serialize};

use super::{exact, result_only, Arity, Held, HeldMut, LayerDef, Work};
use crate::fixed::FixedType;
use crate::ir::Shape;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatherRows;

/// The index operand's shape `[m]` and type, shared by [`GatherRows`] and
/// [`ScatterAdd`](super::ScatterAdd).
pub(crate) fn index_operand(index: &Shape) -> Result<usize, String> {
    match index.dims() {
        [m] => Ok(*m),
        _ => Err(format!("the index must be 1-D, is {index}")),
    }
}

/// Checks that the index type is an integer type.
pub(crate) fn index_type(index: &FixedType) -> Result<(), String> {
    if index.frac_bits() > 0 {
        return Err(format!("the index has type {index}; an integer type is required"));
    }
    Ok(())
}

impl LayerDef for GatherRows {
    fn arity(&self) -> Arity {
        Arity::Exactly(2)
    }

    fn output_shape(&self, inputs: &[&Shape]) -> Result<Shape, String> {
        let [x, index] = inputs else { return Err(format!("takes 2 inputs, has {}", inputs.len())) };
        let m = index_operand(index)?;
        if x.rank() < 1 {
            return Err("the data must have at least one axis".into());
        }
        let mut dims = x.dims().to_vec();
        dims[0] = m;
        Ok(Shape::new(dims))
    }

    fn exact_type(&self, role: &str, inputs: &[FixedType]) -> Result<FixedType, String> {
        result_only(role)?;
        let [x, index] = inputs else { return Err(format!("takes 2 inputs, has {}", inputs.len())) };
        index_type(index)?;
        exact(*x)
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
        let (x, i) = (Shape::new([28, 3]), Shape::new([56]));
        assert_eq!(GatherRows.output_shape(&[&x, &i]), Ok(Shape::new([56, 3])));
        assert!(GatherRows.output_shape(&[&x, &Shape::new([2, 56])]).is_err());
        let t = FixedType::new(14, 7, true);
        assert_eq!(GatherRows.exact_type("result", &[t, FixedType::int(64, true)]).map(|r| r.width), Ok(14));
        assert!(GatherRows.exact_type("result", &[t, t]).is_err());
    }
}
