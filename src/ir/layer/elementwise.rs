//! `Elementwise`: `y = cast(x_0 op x_1 op ... op x_{n-1})`, the operations exact, over the node's
//! inputs (all of the same shape; `Sub` takes exactly two, the others two or more: Keras' `Add`,
//! `Multiply`, `Maximum`, `Minimum` merges) or, when `constant` is set, `y = cast(x op c)` with
//! that constant broadcast onto the single input `x` (numpy rules on the trailing axes). `Max` and
//! `Min` are exact selections. An average of inputs is an `Add` followed by a `Mul` by the
//! constant `1 / n`.

use serde::{Deserialize, Serialize};

use super::{const_ty, exact, result_only, Arity, Held, HeldMut, LayerDef, Work};
use crate::fixed::FixedType;
use crate::ir::{Shape, Weights};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Max,
    Min,
}

impl BinaryOp {
    pub fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "add",
            BinaryOp::Sub => "sub",
            BinaryOp::Mul => "mul",
            BinaryOp::Max => "max",
            BinaryOp::Min => "min",
        }
    }

    /// The exact type of `a op b`.
    pub fn exact_type(self, a: &FixedType, b: &FixedType) -> FixedType {
        match self {
            BinaryOp::Add => a.exact_add_type(b),
            BinaryOp::Sub => a.exact_sub_type(b),
            BinaryOp::Mul => a.exact_mul_type(b),
            BinaryOp::Max | BinaryOp::Min => a.union_type(b),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Elementwise {
    pub op: BinaryOp,
    pub constant: Option<Weights>,
}

impl LayerDef for Elementwise {
    fn arity(&self) -> Arity {
        match (&self.constant, self.op) {
            (Some(_), _) => Arity::Exactly(1),
            (None, BinaryOp::Sub) => Arity::Exactly(2),
            (None, _) => Arity::AtLeast(2),
        }
    }

    fn output_shape(&self, inputs: &[&Shape]) -> Result<Shape, String> {
        if !self.arity().accepts(inputs.len()) {
            return Err(format!("takes {} inputs, has {}", self.arity(), inputs.len()));
        }
        let x = inputs[0];
        if let Some(c) = &self.constant {
            c.check_broadcast("constant", x)?;
        }
        if let Some(r) = inputs.iter().find(|r| **r != x) {
            return Err(format!("operand shapes differ: {x} and {r}"));
        }
        Ok(x.clone())
    }

    fn exact_type(&self, role: &str, inputs: &[FixedType]) -> Result<FixedType, String> {
        result_only(role)?;
        if !self.arity().accepts(inputs.len()) {
            return Err(format!("takes {} inputs, has {}", self.arity(), inputs.len()));
        }
        let mut t = inputs[0];
        if let Some(c) = &self.constant {
            t = self.op.exact_type(&t, &const_ty("constant", c)?);
        }
        for r in &inputs[1..] {
            t = self.op.exact_type(&t, r);
        }
        exact(t)
    }

    fn held(&self) -> Held<'_> {
        Held { constants: self.constant.iter().map(|c| ("constant", c)).collect(), ..Held::default() }
    }

    fn held_mut(&mut self) -> HeldMut<'_> {
        HeldMut {
            constants: self.constant.iter_mut().map(|c| ("constant", c)).collect(),
            ..HeldMut::default()
        }
    }

    fn work(&self, _: &[&Shape]) -> Work {
        Work::default()
    }
}
