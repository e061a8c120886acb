//! `Quantize`: `y = cast(x)`, an explicit conversion whose type the model fixed (a QONNX `Quant`,
//! a QDQ pair, a QKeras activation quantizer). The type is the node's output type.

use serde::{Deserialize, Serialize};

use super::{exact, one, one_ty, result_only, Arity, Held, HeldMut, LayerDef, Work};
use crate::fixed::FixedType;
use crate::ir::Shape;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Quantize;

impl LayerDef for Quantize {
    fn arity(&self) -> Arity {
        Arity::Exactly(1)
    }

    fn output_shape(&self, inputs: &[&Shape]) -> Result<Shape, String> {
        Ok(one(inputs)?.clone())
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
