//! Constants a layer holds: tensors ([`Weights`]) and lookup tables ([`Table`]).

use serde::{Deserialize, Serialize};

use super::Shape;
use crate::fixed::{FixedType, OverflowMode, QuantMode};

/// A constant tensor: weights, biases, per-channel parameters, scalars.
///
/// `values` are row-major. Until the quantization pass `ty` may be `None` and the values are the
/// model's floats; afterwards every value is exactly representable in `ty`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Weights {
    pub shape: Shape,
    pub values: Vec<f64>,
    pub ty: Option<FixedType>,
}

impl Weights {
    pub fn new(shape: Shape, values: Vec<f64>) -> Self {
        Weights { shape, values, ty: None }
    }

    pub fn scalar(value: f64) -> Self {
        Weights::new(Shape::new([]), vec![value])
    }

    /// Number of values that are exactly zero (after quantization: pruned multiplications).
    pub fn zeros(&self) -> usize {
        self.values.iter().filter(|v| **v == 0.0).count()
    }

    /// Why the constant cannot stand beside a tensor of shape `target` (broadcast onto it), if so.
    pub fn check_broadcast(&self, role: &str, target: &Shape) -> Result<(), String> {
        if self.shape.broadcasts_to(target) {
            Ok(())
        } else {
            Err(format!("{role} shape {} does not broadcast to {target}", self.shape))
        }
    }

    /// Why the constant is not a single value, if so.
    pub fn check_scalar(&self, role: &str) -> Result<(), String> {
        if self.values.len() == 1 {
            Ok(())
        } else {
            Err(format!("{role} must be a scalar, has shape {}", self.shape))
        }
    }
}

/// The function a lookup table holds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum TableFn {
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    Tanh,
    /// `e^-x`.
    ExpNeg,
    /// `1 / x` (infinite at 0).
    Reciprocal,
    /// `alpha * (e^x - 1)`: the negative branch of ELU.
    EluNegative {
        alpha: f64,
    },
    /// `scale * alpha * (e^x - 1)` with SELU's constants: the negative branch of SELU.
    SeluNegative,
    /// `ln(1 + e^x)`.
    Softplus,
    /// `x / (1 + |x|)`.
    Softsign,
    /// `sqrt(x)` (0 below 0, which no index of an unsigned sum reaches).
    Sqrt,
}

/// SELU's `alpha` (Klambauer et al. 2017, as Keras and ONNX define it).
pub const SELU_ALPHA: f64 = 1.673_263_242_354_377_3;
/// SELU's `scale`.
pub const SELU_SCALE: f64 = 1.050_700_987_355_480_5;

impl TableFn {
    pub fn eval(self, x: f64) -> f64 {
        match self {
            TableFn::Sigmoid => 1.0 / (1.0 + (-x).exp()),
            TableFn::Tanh => x.tanh(),
            TableFn::ExpNeg => (-x).exp(),
            TableFn::Reciprocal => 1.0 / x,
            TableFn::EluNegative { alpha } => alpha * x.exp_m1(),
            TableFn::SeluNegative => SELU_SCALE * SELU_ALPHA * x.exp_m1(),
            TableFn::Softplus => x.exp().ln_1p(),
            TableFn::Softsign => x / (1.0 + x.abs()),
            TableFn::Sqrt => x.max(0.0).sqrt(),
        }
    }
}

/// A lookup table for a function of one fixed-point input.
///
/// The input `x` is cast to `index_ty` (its modes apply); the table index is the raw bits of that
/// value read as an unsigned number, offset by `2^(W-1)` when `index_ty` is signed so that index 0
/// is the most negative input. The table has `2^W` entries of type `ty`; `values` is filled from
/// `function` by the `lut-tables` pass and read verbatim by the simulator and every backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub function: TableFn,
    pub index_ty: FixedType,
    pub ty: FixedType,
    pub values: Vec<f64>,
}

impl Table {
    pub fn new(function: TableFn, index_ty: FixedType, ty: FixedType) -> Self {
        Table { function, index_ty, ty, values: Vec::new() }
    }

    /// Sigmoid: 1024 entries over [-8, 8), 16-bit unsigned entries in [0, 1).
    pub fn sigmoid_default() -> Self {
        Table::new(
            TableFn::Sigmoid,
            FixedType::new(10, 4, true).with_modes(QuantMode::Trn, OverflowMode::Sat),
            FixedType::new(16, 0, false).with_modes(QuantMode::Rnd, OverflowMode::Sat),
        )
    }

    /// Tanh: 1024 entries over [-4, 4), 17-bit signed entries in (-1, 1).
    pub fn tanh_default() -> Self {
        Table::new(
            TableFn::Tanh,
            FixedType::new(10, 3, true).with_modes(QuantMode::Trn, OverflowMode::Sat),
            FixedType::new(17, 1, true).with_modes(QuantMode::Rnd, OverflowMode::Sat),
        )
    }

    /// The negative branch of ELU: 1024 entries over [-8, 8) (only the negative half is read),
    /// 18-bit signed entries with room for `-alpha`.
    pub fn elu_default(alpha: f64) -> Self {
        let integer = 2 + alpha.abs().max(1.0).log2().ceil() as i32;
        Table::new(
            TableFn::EluNegative { alpha },
            FixedType::new(10, 4, true).with_modes(QuantMode::Trn, OverflowMode::Sat),
            FixedType::new(18, integer, true).with_modes(QuantMode::Rnd, OverflowMode::Sat),
        )
    }

    /// The negative branch of SELU: 1024 entries over [-8, 8), values in (-1.76, 0].
    pub fn selu_default() -> Self {
        Table::new(
            TableFn::SeluNegative,
            FixedType::new(10, 4, true).with_modes(QuantMode::Trn, OverflowMode::Sat),
            FixedType::new(18, 2, true).with_modes(QuantMode::Rnd, OverflowMode::Sat),
        )
    }

    /// Softplus: 1024 entries over [-8, 8), unsigned entries in [0, 16).
    pub fn softplus_default() -> Self {
        Table::new(
            TableFn::Softplus,
            FixedType::new(10, 4, true).with_modes(QuantMode::Trn, OverflowMode::Sat),
            FixedType::new(18, 4, false).with_modes(QuantMode::Rnd, OverflowMode::Sat),
        )
    }

    /// Softsign: 1024 entries over [-8, 8), signed entries in (-1, 1).
    pub fn softsign_default() -> Self {
        Table::new(
            TableFn::Softsign,
            FixedType::new(10, 4, true).with_modes(QuantMode::Trn, OverflowMode::Sat),
            FixedType::new(18, 1, true).with_modes(QuantMode::Rnd, OverflowMode::Sat),
        )
    }

    pub fn len(&self) -> usize {
        1usize << self.index_ty.width.min(24)
    }

    pub fn is_empty(&self) -> bool {
        false
    }
}
