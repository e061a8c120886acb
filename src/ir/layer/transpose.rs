//! `Transpose`: a permutation of the axes (numpy `transpose`): output axis `k` is input axis
//! `perm[k]`, so `y[j_0, ..., j_{r-1}] = cast(x[i])` with `i[perm[k]] = j_k`. Frontends use it where
//! a model moves data between layouts that the channels-last IR does not absorb (a flatten of a
//! channels-first tensor, a channels-first output).

use serde::{Deserialize, Serialize};

use super::{exact, one, one_ty, result_only, Arity, Held, HeldMut, LayerDef, Work};
use crate::fixed::FixedType;
use crate::ir::Shape;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transpose {
    pub perm: Vec<usize>,
}

impl Transpose {
    /// The input flat index of each output flat index for input shape `x`.
    pub fn source_indices(&self, x: &Shape) -> Vec<usize> {
        let dims = x.dims();
        let r = dims.len();
        let mut in_strides = vec![1usize; r];
        for k in (0..r.saturating_sub(1)).rev() {
            in_strides[k] = in_strides[k + 1] * dims[k + 1];
        }
        let out_dims: Vec<usize> = self.perm.iter().map(|&p| dims[p]).collect();
        let total = x.elements();
        let mut out = Vec::with_capacity(total);
        let mut idx = vec![0usize; r];
        for _ in 0..total {
            out.push((0..r).map(|k| idx[k] * in_strides[self.perm[k]]).sum());
            for k in (0..r).rev() {
                idx[k] += 1;
                if idx[k] < out_dims[k] {
                    break;
                }
                idx[k] = 0;
            }
        }
        out
    }
}

impl LayerDef for Transpose {
    fn arity(&self) -> Arity {
        Arity::Exactly(1)
    }

    fn output_shape(&self, inputs: &[&Shape]) -> Result<Shape, String> {
        let x = one(inputs)?;
        let mut sorted = self.perm.clone();
        sorted.sort_unstable();
        if sorted != (0..x.rank()).collect::<Vec<_>>() {
            return Err(format!("{:?} is not a permutation of the {} axes of {x}", self.perm, x.rank()));
        }
        Ok(Shape::new(self.perm.iter().map(|&p| x.dims()[p]).collect::<Vec<_>>()))
    }

    fn exact_type(&self, role: &str, inputs: &[FixedType]) -> Result<FixedType, String> {
        result_only(role)?;
        exact(one_ty(inputs)?)
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
    fn source_indices_follow_numpy() {
        // x: [2, 3] = [[0, 1, 2], [3, 4, 5]]; x.T = [[0, 3], [1, 4], [2, 5]].
        let t = Transpose { perm: vec![1, 0] };
        assert_eq!(t.source_indices(&Shape::new([2, 3])), [0, 3, 1, 4, 2, 5]);
        let t = Transpose { perm: vec![0, 1] };
        assert_eq!(t.source_indices(&Shape::new([2, 3])), [0, 1, 2, 3, 4, 5]);
        // [C, H, W] = [2, 1, 2] to [H, W, C]: perm [1, 2, 0].
        let t = Transpose { perm: vec![1, 2, 0] };
        assert_eq!(t.source_indices(&Shape::new([2, 1, 2])), [0, 2, 1, 3]);
    }
}
