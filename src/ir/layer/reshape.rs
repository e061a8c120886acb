//! `Reshape`: the same values in row-major order under a new shape with the same element count,
//! each `cast` to the output type (Flatten is a reshape to one axis).

use serde::{Deserialize, Serialize};

use super::{exact, one, one_ty, result_only, Arity, Held, HeldMut, LayerDef, Work};
use crate::fixed::FixedType;
use crate::ir::Shape;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reshape {
    /// The per-sample output shape.
    pub shape: Shape,
}

impl Reshape {
    pub fn new(shape: Shape) -> Self {
        Reshape { shape }
    }
}

impl LayerDef for Reshape {
    fn arity(&self) -> Arity {
        Arity::Exactly(1)
    }

    fn output_shape(&self, inputs: &[&Shape]) -> Result<Shape, String> {
        let x = one(inputs)?;
        if x.elements() != self.shape.elements() {
            return Err(format!("reshape from {x} to {} changes the element count", self.shape));
        }
        Ok(self.shape.clone())
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
