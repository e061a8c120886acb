//! `Elementwise`: `y = cast(x op r)`, the operation exact, where `r` is the node's second input (of
//! the same shape) or, when `constant` is set, that constant broadcast onto `x` (numpy rules on
//! the trailing axes).

use serde::{Deserialize, Serialize};

use super::{const_ty, exact, result_only, Arity, Held, HeldMut, LayerDef, Work};
use crate::fixed::FixedType;
use crate::ir::{Shape, Weights};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
}

impl BinaryOp {
    pub fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "add",
            BinaryOp::Sub => "sub",
            BinaryOp::Mul => "mul",
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
        match self.constant {
            Some(_) => Arity::Exactly(1),
            None => Arity::Exactly(2),
        }
    }

    fn output_shape(&self, inputs: &[&Shape]) -> Result<Shape, String> {
        match (inputs, &self.constant) {
            ([x], Some(c)) => {
                c.check_broadcast("constant", x)?;
                Ok((*x).clone())
            }
            ([x, r], None) if x == r => Ok((*x).clone()),
            ([x, r], None) => Err(format!("operand shapes differ: {x} and {r}")),
            _ => Err(format!("takes {} inputs, has {}", self.arity(), inputs.len())),
        }
    }

    fn exact_type(&self, role: &str, inputs: &[FixedType]) -> Result<FixedType, String> {
        result_only(role)?;
        let (x, r) = match (inputs, &self.constant) {
            ([x], Some(c)) => (*x, const_ty("constant", c)?),
            ([x, r], None) => (*x, *r),
            _ => return Err(format!("takes {} inputs, has {}", self.arity(), inputs.len())),
        };
        exact(match self.op {
            BinaryOp::Add => x.exact_add_type(&r),
            BinaryOp::Sub => x.exact_sub_type(&r),
            BinaryOp::Mul => x.exact_mul_type(&r),
        })
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
