//! `UpSample`: nearest-neighbour upsampling of the spatial axes of a channels-last tensor by an
//! integer factor per axis: `o_d = i_d * f_d`, `y[o, c] = cast(x[floor(o / f), c])` (ONNX
//! `Resize`/`Upsample` in `nearest` mode with integer scales, Keras `UpSampling1D/2D`).

use serde::{Deserialize, Serialize};

use super::{exact, one, one_ty, result_only, spatial_gather, Arity, Held, HeldMut, LayerDef, Work};
use crate::fixed::FixedType;
use crate::ir::Shape;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpSample {
    /// Factor per spatial axis, at least 1.
    pub factors: Vec<usize>,
}

impl UpSample {
    /// The input flat index of each output flat index for input shape `x` (empty when the factors
    /// do not fit `x`).
    pub fn source_indices(&self, x: &Shape) -> Vec<usize> {
        let Ok(out) = self.output_shape(&[x]) else { return Vec::new() };
        let s = self.factors.len();
        let xd = &x.dims()[..s];
        spatial_gather(&out.dims()[..s], x.channels(), |o| {
            Some((0..s).fold(0usize, |f, d| f * xd[d] + o[d] / self.factors[d]))
        })
        .into_iter()
        .flatten()
        .collect()
    }
}

impl LayerDef for UpSample {
    fn arity(&self) -> Arity {
        Arity::Exactly(1)
    }

    fn output_shape(&self, inputs: &[&Shape]) -> Result<Shape, String> {
        let x = one(inputs)?;
        let s = self.factors.len();
        if x.rank() != s + 1 {
            return Err(format!("upsamples {s} spatial axes of a {x} input with channels"));
        }
        if self.factors.contains(&0) {
            return Err("factors must be at least 1".into());
        }
        let mut dims = (0..s)
            .map(|d| {
                x.dims()[d]
                    .checked_mul(self.factors[d])
                    .ok_or_else(|| format!("axis {d}: factor {} overflows", self.factors[d]))
            })
            .collect::<Result<Vec<usize>, String>>()?;
        dims.push(x.channels());
        Ok(Shape::new(dims))
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
