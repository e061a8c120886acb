//! `Activation`: one function applied to every element, then `cast` to the node's output type.
//! The variants and their exact results (before the cast):
//!
//! | variant | exact result |
//! |---|---|
//! | `Linear` | `x` |
//! | `Relu` | `max(x, 0)` |
//! | `LeakyRelu` | `x >= 0 ? x : alpha * x`, `alpha` a scalar |
//! | `PRelu` | as `LeakyRelu`, `alpha` broadcast onto the tensor (per channel, or shared) |
//! | `HardSigmoid` | `min(max(alpha * x + beta, 0), 1)`, scalars |
//! | `Clip` | `min(max(x, min), max)`, scalar bounds, either optional (HardTanh is `Clip{-1, 1}`) |
//! | `Sigmoid` | `table[index(x)]`, the table holding the logistic function ([`Table`]) |
//! | `Tanh` | `table[index(x)]`, the table holding tanh |
//! | `Softplus` | `table[index(x)]`, the table holding `ln(1 + e^x)` |
//! | `Softsign` | `table[index(x)]`, the table holding `x / (1 + |x|)` |
//! | `Elu` | `x >= 0 ? x : table[index(x)]`, the table holding `alpha * (e^x - 1)` |
//! | `Selu` | `x >= 0 ? scale * x : table[index(x)]`, `scale` a scalar, the table holding `scale * alpha * (e^x - 1)` |
//! | `ThresholdedRelu` | `x > theta ? x : 0`, `theta` a scalar |
//! | `HardSwish` | `x * min(max(alpha * x + beta, 0), 1)`, scalars (the clip as in `HardSigmoid`, then the exact product) |

use serde::{Deserialize, Serialize};

use super::{const_ty, exact, one, one_ty, result_only, Arity, Held, HeldMut, LayerDef, Work};
use crate::fixed::FixedType;
use crate::ir::{Shape, Table, Weights};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Activation {
    Linear,
    Relu,
    LeakyRelu { alpha: Weights },
    PRelu { alpha: Weights },
    HardSigmoid { alpha: Weights, beta: Weights },
    Clip { min: Option<Weights>, max: Option<Weights> },
    Sigmoid(Table),
    Tanh(Table),
    Softplus(Table),
    Softsign(Table),
    Elu(Table),
    Selu { scale: Weights, table: Table },
    ThresholdedRelu { theta: Weights },
    HardSwish { alpha: Weights, beta: Weights },
}

impl Activation {
    pub fn name(&self) -> &'static str {
        match self {
            Activation::Linear => "linear",
            Activation::Relu => "relu",
            Activation::LeakyRelu { .. } => "leaky_relu",
            Activation::PRelu { .. } => "prelu",
            Activation::HardSigmoid { .. } => "hard_sigmoid",
            Activation::Clip { .. } => "clip",
            Activation::Sigmoid(_) => "sigmoid",
            Activation::Tanh(_) => "tanh",
            Activation::Softplus(_) => "softplus",
            Activation::Softsign(_) => "softsign",
            Activation::Elu(_) => "elu",
            Activation::Selu { .. } => "selu",
            Activation::ThresholdedRelu { .. } => "thresholded_relu",
            Activation::HardSwish { .. } => "hard_swish",
        }
    }

    /// The exact type of `min(max(alpha * x + beta, 0), 1)` for input type `x` (`HardSigmoid`,
    /// and the factor of `HardSwish`).
    pub fn hard_sigmoid_type(x: &FixedType, alpha: &Weights, beta: &Weights) -> Result<FixedType, String> {
        let t = x.exact_mul_type(&const_ty("alpha", alpha)?).exact_add_type(&const_ty("beta", beta)?);
        Ok(FixedType::new((t.frac_bits() + 1).max(1) as u32, 1, false))
    }
}

impl LayerDef for Activation {
    fn arity(&self) -> Arity {
        Arity::Exactly(1)
    }

    fn output_shape(&self, inputs: &[&Shape]) -> Result<Shape, String> {
        let x = one(inputs)?;
        match self {
            Activation::PRelu { alpha } => alpha.check_broadcast("slope", x)?,
            _ => {
                for (role, w) in self.held().constants {
                    w.check_scalar(role)?;
                }
            }
        }
        Ok(x.clone())
    }

    fn exact_type(&self, role: &str, inputs: &[FixedType]) -> Result<FixedType, String> {
        result_only(role)?;
        let x = one_ty(inputs)?;
        exact(match self {
            Activation::Linear | Activation::Relu => x,
            Activation::LeakyRelu { alpha } | Activation::PRelu { alpha } => {
                x.union_type(&x.exact_mul_type(&const_ty("alpha", alpha)?))
            }
            Activation::HardSigmoid { alpha, beta } => Activation::hard_sigmoid_type(&x, alpha, beta)?,
            Activation::HardSwish { alpha, beta } => {
                x.exact_mul_type(&Activation::hard_sigmoid_type(&x, alpha, beta)?)
            }
            Activation::ThresholdedRelu { .. } => x,
            Activation::Clip { min, max } => {
                let mut t = x;
                for (role, b) in [("min", min), ("max", max)] {
                    if let Some(b) = b {
                        t = t.union_type(&const_ty(role, b)?);
                    }
                }
                t
            }
            Activation::Sigmoid(t)
            | Activation::Tanh(t)
            | Activation::Softplus(t)
            | Activation::Softsign(t) => t.ty,
            Activation::Elu(t) => x.union_type(&t.ty),
            Activation::Selu { scale, table } => {
                x.exact_mul_type(&const_ty("scale", scale)?).union_type(&table.ty)
            }
        })
    }

    fn held(&self) -> Held<'_> {
        match self {
            Activation::Linear | Activation::Relu => Held::default(),
            Activation::LeakyRelu { alpha } | Activation::PRelu { alpha } => {
                Held { constants: vec![("alpha", alpha)], ..Held::default() }
            }
            Activation::HardSigmoid { alpha, beta } | Activation::HardSwish { alpha, beta } => {
                Held { constants: vec![("alpha", alpha), ("beta", beta)], ..Held::default() }
            }
            Activation::ThresholdedRelu { theta } => {
                Held { constants: vec![("theta", theta)], ..Held::default() }
            }
            Activation::Selu { scale, table } => {
                Held { constants: vec![("scale", scale)], tables: vec![("table", table)], ..Held::default() }
            }
            Activation::Clip { min, max } => {
                let constants =
                    min.iter().map(|w| ("min", w)).chain(max.iter().map(|w| ("max", w))).collect();
                Held { constants, ..Held::default() }
            }
            Activation::Sigmoid(t)
            | Activation::Tanh(t)
            | Activation::Softplus(t)
            | Activation::Softsign(t)
            | Activation::Elu(t) => Held { tables: vec![("table", t)], ..Held::default() },
        }
    }

    fn held_mut(&mut self) -> HeldMut<'_> {
        match self {
            Activation::Linear | Activation::Relu => HeldMut::default(),
            Activation::LeakyRelu { alpha } | Activation::PRelu { alpha } => {
                HeldMut { constants: vec![("alpha", alpha)], ..HeldMut::default() }
            }
            Activation::HardSigmoid { alpha, beta } | Activation::HardSwish { alpha, beta } => {
                HeldMut { constants: vec![("alpha", alpha), ("beta", beta)], ..HeldMut::default() }
            }
            Activation::ThresholdedRelu { theta } => {
                HeldMut { constants: vec![("theta", theta)], ..HeldMut::default() }
            }
            Activation::Selu { scale, table } => HeldMut {
                constants: vec![("scale", scale)],
                tables: vec![("table", table)],
                ..HeldMut::default()
            },
            Activation::Clip { min, max } => {
                let constants =
                    min.iter_mut().map(|w| ("min", w)).chain(max.iter_mut().map(|w| ("max", w))).collect();
                HeldMut { constants, ..HeldMut::default() }
            }
            Activation::Sigmoid(t)
            | Activation::Tanh(t)
            | Activation::Softplus(t)
            | Activation::Softsign(t)
            | Activation::Elu(t) => HeldMut { tables: vec![("table", t)], ..HeldMut::default() },
        }
    }

    fn work(&self, _: &[&Shape]) -> Work {
        Work::default()
    }
}
