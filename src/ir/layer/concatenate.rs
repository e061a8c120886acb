//! `Concatenate`: the inputs joined along `axis` (of the per-sample shape) in input order; every
//! other axis agrees. Each element is `cast` from its input's type to the output type, so inputs
//! of different types meet in one tensor. In row-major terms: for every index `o` over the axes
//! before `axis`, the output holds input 0's block of `dims_0[axis] * inner` values, then input
//! 1's, and so on, where `inner` is the product of the axes after `axis`.

use serde::{Deserialize, Serialize};

use super::{exact, result_only, Arity, Held, HeldMut, LayerDef, Work};
use crate::fixed::FixedType;
use crate::ir::Shape;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Concatenate {
    /// The axis of the per-sample shape (no batch axis).
    pub axis: usize,
}

impl Concatenate {
    /// For input shapes `inputs`: the number of outer blocks (product of the axes before `axis`)
    /// and each input's block length (its extent along `axis` times the inner axes).
    pub fn blocks(&self, inputs: &[&Shape]) -> (usize, Vec<usize>) {
        let outer = inputs.first().map_or(1, |s| s.dims()[..self.axis.min(s.rank())].iter().product());
        let lens = inputs.iter().map(|s| s.dims()[self.axis.min(s.rank())..].iter().product()).collect();
        (outer, lens)
    }
}

impl LayerDef for Concatenate {
    fn arity(&self) -> Arity {
        Arity::AtLeast(1)
    }

    fn output_shape(&self, inputs: &[&Shape]) -> Result<Shape, String> {
        let first = inputs.first().ok_or("takes at least 1 input, has 0")?;
        if self.axis >= first.rank() {
            return Err(format!("axis {} is out of range for shape {first}", self.axis));
        }
        let mut dims = first.dims().to_vec();
        for s in &inputs[1..] {
            let agrees = s.rank() == first.rank()
                && s.dims().iter().zip(first.dims()).enumerate().all(|(a, (x, y))| a == self.axis || x == y);
            if !agrees {
                return Err(format!("cannot concatenate shapes {first} and {s} along axis {}", self.axis));
            }
            dims[self.axis] += s.dims()[self.axis];
        }
        Ok(Shape::new(dims))
    }

    fn exact_type(&self, role: &str, inputs: &[FixedType]) -> Result<FixedType, String> {
        result_only(role)?;
        let (first, rest) = inputs.split_first().ok_or("takes at least 1 input, has 0")?;
        exact(rest.iter().fold(*first, |t, x| t.union_type(x)))
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
    fn shapes_and_blocks() {
        let (a, b) = (Shape::new([2, 3, 4]), Shape::new([2, 5, 4]));
        let c = Concatenate { axis: 1 };
        assert_eq!(c.output_shape(&[&a, &b]), Ok(Shape::new([2, 8, 4])));
        assert_eq!(c.blocks(&[&a, &b]), (2, vec![12, 20]));
        assert!(c.output_shape(&[&a, &Shape::new([3, 5, 4])]).is_err());
        assert!(Concatenate { axis: 3 }.output_shape(&[&a]).is_err());
        let last = Concatenate { axis: 0 };
        assert_eq!(last.output_shape(&[&Shape::new([3]), &Shape::new([2])]), Ok(Shape::new([5])));
        assert_eq!(last.blocks(&[&Shape::new([3]), &Shape::new([2])]), (1, vec![3, 2]));
    }
}
