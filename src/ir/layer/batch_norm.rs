//! `BatchNorm`: a per-channel affine map `y = cast(x * scale[c] + bias[c])`, `c` the index on the
//! last axis, product and sum exact; a standalone layer where it could not be fused into a Dense.

use serde::{Deserialize, Serialize};

use super::{const_ty, exact, one, one_ty, result_only, Arity, Held, HeldMut, LayerDef, Work};
use crate::fixed::FixedType;
use crate::ir::{Shape, Weights};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchNorm {
    /// Shape `[channels]` (or one value shared by all channels).
    pub scale: Weights,
    pub bias: Weights,
}

impl LayerDef for BatchNorm {
    fn arity(&self) -> Arity {
        Arity::Exactly(1)
    }

    fn output_shape(&self, inputs: &[&Shape]) -> Result<Shape, String> {
        let x = one(inputs)?;
        for (role, w) in [("scale", &self.scale), ("bias", &self.bias)] {
            let n = w.shape.elements();
            if n != 1 && n != x.channels() {
                return Err(format!("{role} has {n} values for {} channels", x.channels()));
            }
        }
        Ok(x.clone())
    }

    fn exact_type(&self, role: &str, inputs: &[FixedType]) -> Result<FixedType, String> {
        result_only(role)?;
        let x = one_ty(inputs)?;
        exact(
            x.exact_mul_type(&const_ty("scale", &self.scale)?).exact_add_type(&const_ty("bias", &self.bias)?),
        )
    }

    fn held(&self) -> Held<'_> {
        Held { constants: vec![("scale", &self.scale), ("bias", &self.bias)], ..Held::default() }
    }

    fn held_mut(&mut self) -> HeldMut<'_> {
        HeldMut {
            constants: vec![("scale", &mut self.scale), ("bias", &mut self.bias)],
            ..HeldMut::default()
        }
    }

    fn work(&self, _: &[&Shape]) -> Work {
        Work::default()
    }
}
