//! `Pad`: zero padding and cropping of the spatial axes of a channels-last tensor
//! (`[i_1, ..., i_s, c]`). Axis `d` gains `begin_d` positions before and `end_d` after; a negative
//! amount removes that many (cropping). Output extent `o_d = i_d + begin_d + end_d` (at least 1).
//! `y[o, c] = cast(x[o - begin, c])` where that input position exists, `cast(0)` elsewhere.

use serde::{Deserialize, Serialize};

use super::{exact, one, one_ty, result_only, spatial_gather, Arity, Held, HeldMut, LayerDef, Work};
use crate::fixed::FixedType;
use crate::ir::Shape;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pad {
    /// Positions added before each spatial axis (negative: removed).
    pub begin: Vec<i64>,
    /// Positions added after each spatial axis (negative: removed).
    pub end: Vec<i64>,
}

impl Pad {
    /// The input flat index of each output flat index for input shape `x`, `None` where the output
    /// position lies in the padding. Empty when the padding does not fit `x`.
    pub fn source_indices(&self, x: &Shape) -> Vec<Option<usize>> {
        let Ok(out) = self.output_shape(&[x]) else { return Vec::new() };
        let s = self.begin.len();
        let xd = &x.dims()[..s];
        spatial_gather(&out.dims()[..s], x.channels(), |o| {
            (0..s).try_fold(0usize, |f, d| {
                let i = o[d] as i64 - self.begin[d];
                (0..xd[d] as i64).contains(&i).then(|| f * xd[d] + i as usize)
            })
        })
    }
}

impl LayerDef for Pad {
    fn arity(&self) -> Arity {
        Arity::Exactly(1)
    }

    fn output_shape(&self, inputs: &[&Shape]) -> Result<Shape, String> {
        let x = one(inputs)?;
        let s = self.begin.len();
        if self.end.len() != s || x.rank() != s + 1 {
            return Err(format!(
                "pads {} spatial axes ({} before, {} after) of a {x} input with channels",
                s,
                self.begin.len(),
                self.end.len()
            ));
        }
        let mut dims = Vec::with_capacity(s + 1);
        for d in 0..s {
            let o = (x.dims()[d] as i64)
                .checked_add(self.begin[d])
                .and_then(|v| v.checked_add(self.end[d]))
                .ok_or_else(|| format!("axis {d}: padding {} + {} overflows", self.begin[d], self.end[d]))?;
            if o < 1 || self.begin[d] <= -(x.dims()[d] as i64) || self.end[d] <= -(x.dims()[d] as i64) {
                return Err(format!("axis {d}: cropping removes the whole axis of {}", x.dims()[d]));
            }
            dims.push(o as usize);
        }
        dims.push(x.channels());
        Ok(Shape::new(dims))
    }

    fn exact_type(&self, role: &str, inputs: &[FixedType]) -> Result<FixedType, String> {
        result_only(role)?;
        // Every fixed-point type holds the zeros padding adds.
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
