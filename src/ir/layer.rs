//! The closed set of layer kinds and their typed configurations.
//!
//! Every stage (simulator, HLS backend, RTL backend, estimator) matches [`Layer`] exhaustively, so
//! a new kind does not compile until each stage handles it. The arithmetic of each kind is defined
//! here once; the simulator, the HLS layer library and the RTL must implement exactly this:
//!
//! * "exact" means the full-precision result of fixed-point operands (no rounding, no overflow);
//! * `cast(v)` converts an exact value to the node's output type with that type's quantization
//!   mode, then its overflow mode (`ap_fixed` assignment);
//! * constants ([`Weights`]) hold values exactly representable in their type once typed.
//!
//! | layer | output |
//! |---|---|
//! | `Input` | the model input converted from float with the output type's modes |
//! | `Dense` | `acc = cast_acc(b_j)`, then for `i` in order `acc = cast_acc(acc + x_i * w_ij)`; `y_j = cast(acc)` |
//! | `BatchNorm` | `y = cast(x * scale[c] + bias[c])`, `c` the index on the last axis |
//! | `Activation` | see [`Activation`] |
//! | `Softmax` | see [`Softmax`] |
//! | `Elementwise` | `y = cast(x op r)` with `r` the second input or the broadcast constant |
//! | `Reshape` | the same values in row-major order, `cast` to the output type |
//! | `Quantize` | `cast(x)`: an explicit conversion whose type the model fixed (QONNX, QDQ) |

use crate::fixed::{FixedType, OverflowMode, QuantMode};
use serde::{Deserialize, Serialize};

use super::Shape;

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
}

/// Hardware implementation strategy, as in hls4ml's `Strategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Strategy {
    /// Fully unrolled multipliers, partitioned weights; II = reuse factor.
    #[default]
    Latency,
    /// Weights in block RAM, `n_in * n_out / reuse` multipliers time-shared.
    Resource,
}

impl Strategy {
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Latency => "latency",
            Strategy::Resource => "resource",
        }
    }
}

/// `y = x · W + b` on a 1-D input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dense {
    /// Shape `[n_in, n_out]`.
    pub weights: Weights,
    /// Shape `[n_out]`.
    pub bias: Weights,
    /// Accumulator type; `None` until precision inference makes it exact or the config sets it.
    pub accum: Option<FixedType>,
}

impl Dense {
    pub fn n_in(&self) -> usize {
        self.weights.shape.dims().first().copied().unwrap_or(0)
    }

    pub fn n_out(&self) -> usize {
        self.weights.shape.dims().get(1).copied().unwrap_or(0)
    }
}

/// Per-channel affine map `y = x * scale + bias`; a standalone layer when it could not be fused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchNorm {
    /// Shape `[channels]` (or `[]` for one value shared by all channels).
    pub scale: Weights,
    pub bias: Weights,
}

/// A lookup table for a function of one fixed-point input.
///
/// The input `x` is cast to `index_ty` (its modes apply); the table index is the raw bits of that
/// value read as an unsigned number, offset by `2^(W-1)` when `index_ty` is signed so that index 0
/// is the most negative input. The table has `2^W` entries of type `ty`; `values` is filled by the
/// `lut-tables` pass and read verbatim by the simulator and every backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub index_ty: FixedType,
    pub ty: FixedType,
    pub values: Vec<f64>,
}

impl Table {
    pub fn new(index_ty: FixedType, ty: FixedType) -> Self {
        Table { index_ty, ty, values: Vec::new() }
    }

    /// Sigmoid: 1024 entries over [-8, 8), 16-bit unsigned entries in [0, 1).
    pub fn sigmoid_default() -> Self {
        Table::new(
            FixedType::new(10, 4, true).with_modes(QuantMode::Trn, OverflowMode::Sat),
            FixedType::new(16, 0, false).with_modes(QuantMode::Rnd, OverflowMode::Sat),
        )
    }

    /// Tanh: 1024 entries over [-4, 4), 17-bit signed entries in (-1, 1).
    pub fn tanh_default() -> Self {
        Table::new(
            FixedType::new(10, 3, true).with_modes(QuantMode::Trn, OverflowMode::Sat),
            FixedType::new(17, 1, true).with_modes(QuantMode::Rnd, OverflowMode::Sat),
        )
    }

    pub fn len(&self) -> usize {
        1usize << self.index_ty.width.min(24)
    }

    pub fn is_empty(&self) -> bool {
        false
    }
}

/// Elementwise activations. All are followed by `cast` to the node's output type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Activation {
    /// `y = x`.
    Linear,
    /// `y = max(x, 0)`.
    Relu,
    /// `y = x >= 0 ? x : alpha * x` (exact product), `alpha` a scalar constant.
    LeakyRelu { alpha: Weights },
    /// As `LeakyRelu` with one slope per channel (last axis) or one shared.
    PRelu { alpha: Weights },
    /// `y = min(max(alpha * x + beta, 0), 1)`, all exact.
    HardSigmoid { alpha: Weights, beta: Weights },
    /// `y = min(max(x, min), max)` with scalar constants, either bound optional (HardTanh is
    /// `Clip{-1, 1}`).
    Clip { min: Option<Weights>, max: Option<Weights> },
    /// `y = table[index(x)]`, the table holding the logistic function.
    Sigmoid(Table),
    /// `y = table[index(x)]`, the table holding tanh.
    Tanh(Table),
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
        }
    }
}

/// Softmax over the last axis, numerically stable and table based:
///
/// 1. `m = max_i x_i`; `d_i = m - x_i` (exact, `d_i >= 0`);
/// 2. `e_i = exp_table[index(d_i)]` where the table holds `exp(-d)` (so `e_i = 1` at the maximum);
/// 3. `s = sum_i e_i` (exact, `1 <= s <= n`);
/// 4. `r = inv_table[index(s)]` where the table holds `1 / s`;
/// 5. `y_i = cast(e_i * r)` (exact product, then the output type).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Softmax {
    pub exp_table: Table,
    pub inv_table: Table,
}

impl Softmax {
    /// Defaults for `n` classes: `exp(-d)` over d in [0, 8) at 1/256 steps (2048 entries of 18
    /// bits: one 36 Kb block RAM), fine enough that logits rarely tie; `1/s` over
    /// s in [0, 2^ceil(log2 n)) with 1024 entries of 18 bits.
    pub fn default_for(n: usize) -> Self {
        let range = (n.max(2) as f64).log2().ceil() as i32;
        Softmax {
            exp_table: Table::new(
                FixedType::new(11, 3, false).with_modes(QuantMode::Rnd, OverflowMode::Sat),
                FixedType::new(18, 1, false).with_modes(QuantMode::Rnd, OverflowMode::Sat),
            ),
            inv_table: Table::new(
                FixedType::new(10, range, false).with_modes(QuantMode::Rnd, OverflowMode::Sat),
                FixedType::new(18, 1, false).with_modes(QuantMode::Rnd, OverflowMode::Sat),
            ),
        }
    }
}

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

/// `y = x op r`: `r` is the node's second input when `constant` is `None`, else the constant
/// broadcast onto `x` (numpy rules on trailing axes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Elementwise {
    pub op: BinaryOp,
    pub constant: Option<Weights>,
}

/// The closed set of layer kinds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Layer {
    Input,
    Dense(Dense),
    BatchNorm(BatchNorm),
    Activation(Activation),
    Softmax(Softmax),
    Elementwise(Elementwise),
    Reshape,
    Quantize,
}

impl Layer {
    /// The layer's kind as used in configuration (`LayerType`), reports and file names.
    pub fn kind(&self) -> &'static str {
        match self {
            Layer::Input => "input",
            Layer::Dense(_) => "dense",
            Layer::BatchNorm(_) => "batch_norm",
            Layer::Activation(_) => "activation",
            Layer::Softmax(_) => "softmax",
            Layer::Elementwise(_) => "elementwise",
            Layer::Reshape => "reshape",
            Layer::Quantize => "quantize",
        }
    }

    /// Number of tensor inputs the layer takes.
    pub fn arity(&self) -> usize {
        match self {
            Layer::Input => 0,
            Layer::Elementwise(Elementwise { constant: None, .. }) => 2,
            _ => 1,
        }
    }

    /// Every constant the layer holds, with a role name, in a stable order.
    pub fn weights(&self) -> Vec<(&'static str, &Weights)> {
        match self {
            Layer::Dense(d) => vec![("weights", &d.weights), ("bias", &d.bias)],
            Layer::BatchNorm(b) => vec![("scale", &b.scale), ("bias", &b.bias)],
            Layer::Activation(a) => match a {
                Activation::LeakyRelu { alpha } | Activation::PRelu { alpha } => vec![("alpha", alpha)],
                Activation::HardSigmoid { alpha, beta } => vec![("alpha", alpha), ("beta", beta)],
                Activation::Clip { min, max } => {
                    min.iter().map(|w| ("min", w)).chain(max.iter().map(|w| ("max", w))).collect()
                }
                _ => vec![],
            },
            Layer::Elementwise(Elementwise { constant: Some(c), .. }) => vec![("constant", c)],
            _ => vec![],
        }
    }

    /// Mutable access to the constants, in the order of [`Layer::weights`].
    pub fn weights_mut(&mut self) -> Vec<(&'static str, &mut Weights)> {
        match self {
            Layer::Dense(d) => vec![("weights", &mut d.weights), ("bias", &mut d.bias)],
            Layer::BatchNorm(b) => vec![("scale", &mut b.scale), ("bias", &mut b.bias)],
            Layer::Activation(a) => match a {
                Activation::LeakyRelu { alpha } | Activation::PRelu { alpha } => vec![("alpha", alpha)],
                Activation::HardSigmoid { alpha, beta } => vec![("alpha", alpha), ("beta", beta)],
                Activation::Clip { min, max } => {
                    min.iter_mut().map(|w| ("min", w)).chain(max.iter_mut().map(|w| ("max", w))).collect()
                }
                _ => vec![],
            },
            Layer::Elementwise(Elementwise { constant: Some(c), .. }) => vec![("constant", c)],
            _ => vec![],
        }
    }

    /// Lookup tables the layer holds, with a role name.
    pub fn tables(&self) -> Vec<(&'static str, &Table)> {
        match self {
            Layer::Activation(Activation::Sigmoid(t)) | Layer::Activation(Activation::Tanh(t)) => {
                vec![("table", t)]
            }
            Layer::Softmax(s) => vec![("exp_table", &s.exp_table), ("inv_table", &s.inv_table)],
            _ => vec![],
        }
    }

    pub fn tables_mut(&mut self) -> Vec<(&'static str, &mut Table)> {
        match self {
            Layer::Activation(Activation::Sigmoid(t)) | Layer::Activation(Activation::Tanh(t)) => {
                vec![("table", t)]
            }
            Layer::Softmax(s) => vec![("exp_table", &mut s.exp_table), ("inv_table", &mut s.inv_table)],
            _ => vec![],
        }
    }

    /// Multiply-accumulate operations per sample (nonzero weights only once quantized).
    pub fn macs(&self) -> usize {
        match self {
            Layer::Dense(d) => d.weights.values.len() - d.weights.zeros(),
            _ => 0,
        }
    }
}
