//! `Input`: a model input. Its value is the float given for each element converted to the node's
//! type as `ap_fixed v = (double)x;` does (the type's quantization, then overflow mode). A model
//! may have several inputs; their order is the order of the `Input` nodes in the graph. An
//! integer input (a graph's `edge_index`, declared int32/int64 by the model) takes whole numbers
//! only: a value with a fraction is an error, never rounded.

use serde::{Deserialize, Serialize};

use super::{Arity, Held, HeldMut, LayerDef, Work};
use crate::fixed::FixedType;
use crate::ir::Shape;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Input {
    /// The per-sample shape (no batch axis).
    pub shape: Shape,
    /// The model declares the input as integers.
    #[serde(default)]
    pub integer: bool,
}

impl Input {
    pub fn new(shape: Shape) -> Self {
        Input { shape, integer: false }
    }

    /// An input the model declares as integers.
    pub fn integer(shape: Shape) -> Self {
        Input { shape, integer: true }
    }
}

impl LayerDef for Input {
    fn arity(&self) -> Arity {
        Arity::Exactly(0)
    }

    fn output_shape(&self, _: &[&Shape]) -> Result<Shape, String> {
        Ok(self.shape.clone())
    }

    fn exact_type(&self, _: &str, _: &[FixedType]) -> Result<FixedType, String> {
        Err("an input layer needs a precision".into())
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
