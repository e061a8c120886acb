//! The closed set of layer kinds. Each kind lives in its own file, which owns everything true of
//! the layer wherever it runs: its typed configuration, its arithmetic contract (the exact
//! computation every stage implements), its arity, its output shape from its input shapes, its
//! constants and tables, the type of its exact result and its work count ([`LayerDef`]).
//!
//! Every stage (simulator, HLS backend, RTL backend, estimator, frontends) matches [`Layer`]
//! exhaustively, with one file per kind named after it, so a new kind does not compile until
//! each stage handles it. The common vocabulary of the contracts:
//!
//! * "exact" means the full-precision result of fixed-point operands (no rounding, no overflow);
//! * `cast(v)` converts an exact value to the node's output type with that type's quantization
//!   mode, then its overflow mode (`ap_fixed` assignment);
//! * constants ([`Weights`]) hold values exactly representable in their type once typed;
//! * tensors are row-major and channels-last ([`Shape`]); "the last axis" is the channel axis.
//!
//! | layer | file | output |
//! |---|---|---|
//! | `Input` | `input.rs` | the model input converted from float with the output type's modes |
//! | `Dense` | `dense.rs` | `acc = cast_acc(b_j)`, then for `i` in order `acc = cast_acc(acc + x_i * w_ij)`; `y_j = cast(acc)` |
//! | `BatchNorm` | `batch_norm.rs` | `y = cast(x * scale[c] + bias[c])`, `c` the index on the last axis |
//! | `Activation` | `activation.rs` | one function per element, see [`Activation`] |
//! | `Softmax` | `softmax.rs` | table-based softmax over the last axis, see [`Softmax`] |
//! | `Elementwise` | `elementwise.rs` | `y = cast(x op r)` with `r` the second input or the broadcast constant |
//! | `Concatenate` | `concatenate.rs` | the inputs joined along one axis, each element `cast` to the output type |
//! | `Reshape` | `reshape.rs` | the same values in row-major order, `cast` to the output type |
//! | `Quantize` | `quantize.rs` | `cast(x)`: an explicit conversion whose type the model fixed (QONNX, QDQ) |
//! | `Conv` | `conv.rs` | 1-D/2-D/3-D convolution, strides, dilations, zero padding, groups (depthwise), see [`Conv`] |
//! | `Pool` | `pool.rs` | max or average pooling (global too), see [`Pool`] |
//! | `Pad` | `pad.rs` | zero padding and cropping of the spatial axes |
//! | `UpSample` | `upsample.rs` | nearest-neighbour upsampling by integer factors |
//! | `Transpose` | `transpose.rs` | a permutation of the axes |
//! | `Reduce` | `reduce.rs` | sum, mean, max, min, sum of squares, L1 or L2 norm over some axes, see [`Reduce`] |
//! | `GatherRows` | `gather_rows.rs` | `cast(x[index[k], ...])`: rows picked by an integer index computed at run time |
//! | `ScatterAdd` | `scatter_add.rs` | `cast(sum of x[k, ...] with index[k] = r)` into `rows` zero rows |

mod activation;
mod batch_norm;
mod concatenate;
mod conv;
mod dense;
mod elementwise;
mod gather_rows;
mod input;
mod pad;
mod pool;
mod quantize;
mod reduce;
mod reshape;
mod scatter_add;
mod softmax;
mod transpose;
mod upsample;

pub use activation::Activation;
pub use batch_norm::BatchNorm;
pub use concatenate::Concatenate;
pub use conv::Conv;
pub use dense::Dense;
pub use elementwise::{BinaryOp, Elementwise};
pub use gather_rows::GatherRows;
pub use input::Input;
pub use pad::Pad;
pub use pool::{Pool, PoolOp};
pub use quantize::Quantize;
pub use reduce::{Reduce, ReduceOp};
pub use reshape::Reshape;
pub use scatter_add::ScatterAdd;
pub use softmax::Softmax;
pub use transpose::Transpose;
pub use upsample::UpSample;

use serde::{Deserialize, Serialize};

use super::{Shape, Table, Weights};
use crate::fixed::FixedType;

/// How many tensor inputs a layer takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arity {
    Exactly(usize),
    AtLeast(usize),
}

impl Arity {
    pub fn accepts(self, n: usize) -> bool {
        match self {
            Arity::Exactly(k) => n == k,
            Arity::AtLeast(k) => n >= k,
        }
    }
}

impl std::fmt::Display for Arity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Arity::Exactly(k) => write!(f, "{k}"),
            Arity::AtLeast(k) => write!(f, "at least {k}"),
        }
    }
}

/// What a layer computes per sample, for reports and for the reuse factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Work {
    /// Multiply-accumulates per sample: the products of the layer's dot products by its nonzero
    /// weights (pointwise products, as in a batch norm, are not counted).
    pub macs: usize,
    /// What a reuse factor divides: `None` for layers without a reuse factor (theirs is always 1).
    pub reuse_domain: Option<ReuseDomain>,
}

/// Advances a row-major multi-index within `extent` (wrapping to zeros after the last).
pub(crate) fn step(idx: &mut [usize], extent: &[usize]) {
    for d in (0..idx.len()).rev() {
        idx[d] += 1;
        if idx[d] < extent[d] {
            return;
        }
        idx[d] = 0;
    }
}

/// For each element (row-major) of a channels-last tensor of spatial extent `out` and `c`
/// channels, the input element that `source` picks: `source(o)` is the flat spatial input
/// position of output position `o` (`None`: no input), the channel is kept.
pub(crate) fn spatial_gather(
    out: &[usize],
    c: usize,
    source: impl Fn(&[usize]) -> Option<usize>,
) -> Vec<Option<usize>> {
    let positions: usize = out.iter().product();
    let mut map = Vec::with_capacity(positions * c);
    let mut o = vec![0usize; out.len()];
    for _ in 0..positions {
        match source(&o) {
            Some(f) => map.extend((0..c).map(|k| Some(f * c + k))),
            None => map.extend(std::iter::repeat_n(None, c)),
        }
        step(&mut o, out);
    }
    map
}

/// The output extent of a sliding window on one axis: `floor((input + pad_begin + pad_end -
/// span) / stride) + 1` with `span = dilation * (kernel - 1) + 1`; an error when the window does
/// not fit the padded input, a size is zero or the sizes overflow.
pub(crate) fn window_extent(
    axis: usize,
    input: usize,
    pads: (usize, usize),
    kernel: usize,
    dilation: usize,
    stride: usize,
) -> Result<usize, String> {
    if kernel == 0 || dilation == 0 || stride == 0 {
        return Err(format!("axis {axis}: kernel, dilation and stride must be at least 1"));
    }
    let too_large = || format!("axis {axis}: the window's sizes overflow");
    let span = dilation.checked_mul(kernel - 1).and_then(|v| v.checked_add(1)).ok_or_else(too_large)?;
    let padded = input.checked_add(pads.0).and_then(|v| v.checked_add(pads.1)).ok_or_else(too_large)?;
    if padded < span {
        return Err(format!("axis {axis}: the window spans {span} but the padded input is {padded} long"));
    }
    Ok((padded - span) / stride + 1)
}

/// The count a legal reuse factor divides, and what is counted (for messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReuseDomain {
    pub count: usize,
    pub unit: &'static str,
}

impl Work {
    /// Why `rf` is not a legal reuse factor for this work, naming the nearest legal values.
    pub fn check_reuse_factor(&self, rf: usize) -> Result<(), String> {
        let domain = self.reuse_domain.map_or(1, |d| d.count);
        if rf >= 1 && domain.is_multiple_of(rf) {
            return Ok(());
        }
        let what = match self.reuse_domain {
            _ if rf == 0 => "a reuse factor must be at least 1".to_string(),
            Some(d) => format!("it must divide the layer's {domain} {}", d.unit),
            None => "the layer has no reuse factor (it is always 1)".to_string(),
        };
        let legal: Vec<String> = nearest_legal(domain, rf).iter().map(|v| v.to_string()).collect();
        Err(format!("reuse factor {rf} is not legal: {what}; nearest legal values: {}", legal.join(", ")))
    }
}

/// The legal reuse factors (divisors of `domain`) nearest to `rf`: at most one below, one above.
pub fn nearest_legal(domain: usize, rf: usize) -> Vec<usize> {
    let domain = domain.max(1);
    let below = (1..=rf.min(domain)).rev().find(|d| domain.is_multiple_of(*d));
    let above = (rf.max(1)..=domain).find(|d| domain.is_multiple_of(*d));
    let mut v: Vec<usize> = below.into_iter().chain(above).filter(|&d| d != rf).collect();
    v.dedup();
    if v.is_empty() {
        // 1 divides every count, so the list is never empty.
        v.push(1);
    }
    v
}

/// The state a layer holds besides its plain configuration, each part with a role name in a
/// stable order: constant tensors, lookup tables, and internal types (a Dense accumulator; `None`
/// while unknown, every one known once lowered).
#[derive(Debug, Default)]
pub struct Held<'a> {
    pub constants: Vec<(&'static str, &'a Weights)>,
    pub tables: Vec<(&'static str, &'a Table)>,
    pub types: Vec<(&'static str, Option<FixedType>)>,
}

/// [`Held`], mutable.
#[derive(Debug, Default)]
pub struct HeldMut<'a> {
    pub constants: Vec<(&'static str, &'a mut Weights)>,
    pub tables: Vec<(&'static str, &'a mut Table)>,
    pub types: Vec<(&'static str, &'a mut Option<FixedType>)>,
}

/// What every layer kind states about itself. Implemented once per kind, in its file; there are
/// no default methods, so a new kind states all of it.
pub trait LayerDef {
    /// Number of tensor inputs.
    fn arity(&self) -> Arity;
    /// The output shape for these input shapes (one per input), or why they do not fit the layer
    /// and its constants.
    fn output_shape(&self, inputs: &[&Shape]) -> Result<Shape, String>;
    /// The type that exactly holds the layer's value `role` for these input types (every
    /// constant typed), with `AP_TRN`/`AP_WRAP` modes: `"result"` is the layer's result before
    /// the cast to the node's type; other roles are its internal types ([`Held::types`]).
    fn exact_type(&self, role: &str, inputs: &[FixedType]) -> Result<FixedType, String>;
    fn held(&self) -> Held<'_>;
    fn held_mut(&mut self) -> HeldMut<'_>;
    /// Work per sample for these input shapes.
    fn work(&self, inputs: &[&Shape]) -> Work;
}

/// The closed set of layer kinds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Layer {
    Input(Input),
    Dense(Dense),
    BatchNorm(BatchNorm),
    Activation(Activation),
    Softmax(Softmax),
    Elementwise(Elementwise),
    Concatenate(Concatenate),
    Reshape(Reshape),
    Quantize(Quantize),
    Conv(Conv),
    Pool(Pool),
    Pad(Pad),
    UpSample(UpSample),
    Transpose(Transpose),
    Reduce(Reduce),
    GatherRows(GatherRows),
    ScatterAdd(ScatterAdd),
}

impl Layer {
    /// Every kind name, as [`Layer::kind`] gives them.
    pub const KINDS: &'static [&'static str] = &[
        "input",
        "dense",
        "batch_norm",
        "activation",
        "softmax",
        "elementwise",
        "concatenate",
        "reshape",
        "quantize",
        "conv",
        "pool",
        "pad",
        "upsample",
        "transpose",
        "reduce",
        "gather_rows",
        "scatter_add",
    ];

    /// The layer's kind as used in configuration (`LayerType`), reports, and file names at every
    /// stage.
    pub fn kind(&self) -> &'static str {
        match self {
            Layer::Input(_) => "input",
            Layer::Dense(_) => "dense",
            Layer::BatchNorm(_) => "batch_norm",
            Layer::Activation(_) => "activation",
            Layer::Softmax(_) => "softmax",
            Layer::Elementwise(_) => "elementwise",
            Layer::Concatenate(_) => "concatenate",
            Layer::Reshape(_) => "reshape",
            Layer::Quantize(_) => "quantize",
            Layer::Conv(_) => "conv",
            Layer::Pool(_) => "pool",
            Layer::Pad(_) => "pad",
            Layer::UpSample(_) => "upsample",
            Layer::Transpose(_) => "transpose",
            Layer::Reduce(_) => "reduce",
            Layer::GatherRows(_) => "gather_rows",
            Layer::ScatterAdd(_) => "scatter_add",
        }
    }

    /// The kind's definition.
    pub fn def(&self) -> &dyn LayerDef {
        match self {
            Layer::Input(l) => l,
            Layer::Dense(l) => l,
            Layer::BatchNorm(l) => l,
            Layer::Activation(l) => l,
            Layer::Softmax(l) => l,
            Layer::Elementwise(l) => l,
            Layer::Concatenate(l) => l,
            Layer::Reshape(l) => l,
            Layer::Quantize(l) => l,
            Layer::Conv(l) => l,
            Layer::Pool(l) => l,
            Layer::Pad(l) => l,
            Layer::UpSample(l) => l,
            Layer::Transpose(l) => l,
            Layer::Reduce(l) => l,
            Layer::GatherRows(l) => l,
            Layer::ScatterAdd(l) => l,
        }
    }

    pub fn def_mut(&mut self) -> &mut dyn LayerDef {
        match self {
            Layer::Input(l) => l,
            Layer::Dense(l) => l,
            Layer::BatchNorm(l) => l,
            Layer::Activation(l) => l,
            Layer::Softmax(l) => l,
            Layer::Elementwise(l) => l,
            Layer::Concatenate(l) => l,
            Layer::Reshape(l) => l,
            Layer::Quantize(l) => l,
            Layer::Conv(l) => l,
            Layer::Pool(l) => l,
            Layer::Pad(l) => l,
            Layer::UpSample(l) => l,
            Layer::Transpose(l) => l,
            Layer::Reduce(l) => l,
            Layer::GatherRows(l) => l,
            Layer::ScatterAdd(l) => l,
        }
    }

    /// The variant within the kind (`relu` of `activation`, `add` of `elementwise`), if any.
    pub fn variant(&self) -> Option<&'static str> {
        match self {
            Layer::Activation(a) => Some(a.name()),
            Layer::Elementwise(e) => Some(e.op.name()),
            Layer::Pool(p) => Some(p.op.name()),
            Layer::Reduce(r) => Some(r.op.name()),
            Layer::Conv(_)
            | Layer::Pad(_)
            | Layer::UpSample(_)
            | Layer::Transpose(_)
            | Layer::GatherRows(_)
            | Layer::ScatterAdd(_) => None,
            Layer::Input(_)
            | Layer::Dense(_)
            | Layer::BatchNorm(_)
            | Layer::Softmax(_)
            | Layer::Concatenate(_)
            | Layer::Reshape(_)
            | Layer::Quantize(_) => None,
        }
    }

    /// `kind` or `kind.variant` (`activation.relu`), as reports and the IR printer show it.
    pub fn qualified_kind(&self) -> String {
        match self.variant() {
            Some(v) => format!("{}.{v}", self.kind()),
            None => self.kind().to_string(),
        }
    }

    pub fn arity(&self) -> Arity {
        self.def().arity()
    }

    pub fn output_shape(&self, inputs: &[&Shape]) -> Result<Shape, String> {
        self.def().output_shape(inputs)
    }

    pub fn constants(&self) -> Vec<(&'static str, &Weights)> {
        self.def().held().constants
    }

    pub fn constants_mut(&mut self) -> Vec<(&'static str, &mut Weights)> {
        self.def_mut().held_mut().constants
    }

    pub fn tables(&self) -> Vec<(&'static str, &Table)> {
        self.def().held().tables
    }

    pub fn tables_mut(&mut self) -> Vec<(&'static str, &mut Table)> {
        self.def_mut().held_mut().tables
    }

    pub fn internal_types(&self) -> Vec<(&'static str, Option<FixedType>)> {
        self.def().held().types
    }

    pub fn internal_types_mut(&mut self) -> Vec<(&'static str, &mut Option<FixedType>)> {
        self.def_mut().held_mut().types
    }
}

/// The shape of the single input of a one-input layer (arity is checked before shapes).
fn one<'a>(inputs: &[&'a Shape]) -> Result<&'a Shape, String> {
    match inputs {
        [x] => Ok(x),
        _ => Err(format!("takes 1 input, has {}", inputs.len())),
    }
}

/// The type of the single input of a one-input layer.
fn one_ty(inputs: &[FixedType]) -> Result<FixedType, String> {
    match inputs {
        [x] => Ok(*x),
        _ => Err(format!("takes 1 input, has {}", inputs.len())),
    }
}

/// The exact type as the result of a computation: modes `AP_TRN`/`AP_WRAP`, at most
/// [`crate::fixed::MAX_WIDTH`] bits.
fn exact(ty: FixedType) -> Result<FixedType, String> {
    use crate::fixed::{OverflowMode, QuantMode, MAX_WIDTH};
    if ty.width > MAX_WIDTH {
        return Err(format!(
            "an exact result type would need {} bits (at most {MAX_WIDTH}); set its precision",
            ty.width
        ));
    }
    Ok(ty.with_modes(QuantMode::Trn, OverflowMode::Wrap))
}

/// Checks that an exact type is asked of the layer's result, the only value of layers without
/// internal types.
fn result_only(role: &str) -> Result<(), String> {
    match role {
        "result" => Ok(()),
        other => Err(format!("has no {other} type")),
    }
}

/// The type of a constant, which the passes give every constant before types are computed.
fn const_ty(role: &str, w: &Weights) -> Result<FixedType, String> {
    w.ty.ok_or_else(|| format!("{role} has no fixed-point type"))
}

/// What a dot-product layer (`Dense`, `Conv`) holds: its weights, its bias and its accumulator
/// type, and the types it computes: the result is the accumulator cast, the accumulator's exact
/// type comes from `exact`.
pub(crate) mod dot {
    use super::{Held, HeldMut, Weights};
    use crate::fixed::FixedType;

    pub(crate) fn exact_type(
        role: &str,
        accum: Option<FixedType>,
        exact: impl FnOnce() -> Result<FixedType, String>,
    ) -> Result<FixedType, String> {
        match role {
            "result" => accum.ok_or_else(|| "accumulator type is unknown".to_string()),
            "accumulator" => exact(),
            other => Err(format!("has no {other} type")),
        }
    }

    pub(crate) fn held<'a>(weights: &'a Weights, bias: &'a Weights, accum: Option<FixedType>) -> Held<'a> {
        Held {
            constants: vec![("weights", weights), ("bias", bias)],
            tables: Vec::new(),
            types: vec![("accumulator", accum)],
        }
    }

    pub(crate) fn held_mut<'a>(
        weights: &'a mut Weights,
        bias: &'a mut Weights,
        accum: &'a mut Option<FixedType>,
    ) -> HeldMut<'a> {
        HeldMut {
            constants: vec![("weights", weights), ("bias", bias)],
            tables: Vec::new(),
            types: vec![("accumulator", accum)],
        }
    }
}

/// The exact accumulator of dot products `b + Σ x_i · w_i`, one per output (its bias and its
/// weights), for input type `x`: the fraction of the products and the bias, and a range covering
/// the largest partial sum in any order.
pub(crate) fn exact_dot_accumulator<I, W>(
    x: &FixedType,
    wt: FixedType,
    bt: FixedType,
    outputs: I,
) -> Result<FixedType, String>
where
    I: IntoIterator<Item = (f64, W)>,
    W: IntoIterator<Item = f64>,
{
    let fp = x.frac_bits() + wt.frac_bits();
    let frac = fp.max(bt.frac_bits());
    let x_max = x.max_raw().unsigned_abs().max(x.min_raw().unsigned_abs());
    let mut bound: u128 = 0;
    let mut negative = x.signed;
    for (b, weights) in outputs {
        negative |= b < 0.0;
        let mut s: u128 = ((b.abs() * 2f64.powi(bt.frac_bits())) as u128) << (frac - bt.frac_bits());
        for w in weights {
            negative |= w < 0.0;
            let w_raw = (w.abs() * 2f64.powi(wt.frac_bits())) as u128;
            s = s.saturating_add(w_raw.saturating_mul(x_max) << (frac - fp));
        }
        bound = bound.max(s);
    }
    let bits = (128 - bound.leading_zeros()).max(1) as i32 + i32::from(negative);
    exact(FixedType::new(bits.max(1) as u32, bits - frac, negative))
        .map_err(|e| e.replace("result", "accumulator"))
}

/// [`exact_dot_accumulator`] of the outputs of a row-major `[n_in, n_out]` weight matrix `w`
/// with bias `bias` (`n_out` values), read row by row over slices of rows in parallel: every
/// output's bound is a saturating sum of non-negative terms, the same in any order.
pub(crate) fn exact_matrix_accumulator(
    x: &FixedType,
    wt: FixedType,
    bt: FixedType,
    bias: &[f64],
    w: &[f64],
) -> Result<FixedType, String> {
    use rayon::prelude::*;
    let n_out = bias.len();
    if n_out == 0 || !w.len().is_multiple_of(n_out) {
        let rows = w.len() / n_out.max(1);
        let outputs = (0..n_out).map(|j| (bias[j], (0..rows).map(move |i| w[i * n_out + j])));
        return exact_dot_accumulator(x, wt, bt, outputs);
    }
    let fp = x.frac_bits() + wt.frac_bits();
    let frac = fp.max(bt.frac_bits());
    let x_max = x.max_raw().unsigned_abs().max(x.min_raw().unsigned_abs());
    let (w_scale, b_scale) = (2f64.powi(wt.frac_bits()), 2f64.powi(bt.frac_bits()));
    let rows = ((1 << 15) / n_out).max(1);
    let (sums, negative) = w
        .par_chunks(rows * n_out)
        .map(|slice| {
            let (mut sums, mut negative) = (vec![0u128; n_out], false);
            for row in slice.chunks_exact(n_out) {
                for (s, &v) in sums.iter_mut().zip(row) {
                    negative |= v < 0.0;
                    let w_raw = (v.abs() * w_scale) as u128;
                    *s = s.saturating_add(w_raw.saturating_mul(x_max) << (frac - fp));
                }
            }
            (sums, negative)
        })
        .reduce(
            || (vec![0u128; n_out], false),
            |(a, na), (b, nb)| (a.iter().zip(&b).map(|(x, y)| x.saturating_add(*y)).collect(), na || nb),
        );
    let mut bound: u128 = 0;
    for (&b, s) in bias.iter().zip(sums) {
        bound = bound.max((((b.abs() * b_scale) as u128) << (frac - bt.frac_bits())).saturating_add(s));
    }
    let negative = negative || x.signed || bias.iter().any(|&b| b < 0.0);
    let bits = (128 - bound.leading_zeros()).max(1) as i32 + i32::from(negative);
    exact(FixedType::new(bits.max(1) as u32, bits - frac, negative))
        .map_err(|e| e.replace("result", "accumulator"))
}

/// Whether accumulating in accumulator `acc` gives the same bits in every order: true when it
/// holds the exact accumulator `exact` (nothing rounds or overflows), or when it wraps (`AP_WRAP`)
/// and rounds by `AP_TRN`, `AP_RND` or `AP_RND_MIN_INF`, whose rounding commutes with adding a
/// multiple of the LSB: for every `a` of the accumulator type, `cast(a + p) = a + cast(p)` modulo
/// `2^W`, so the sum is `cast(b) + Σ cast(p_i)` modulo `2^W`.
pub(crate) fn order_free_accumulator(
    acc: Option<FixedType>,
    exact: impl FnOnce() -> Result<FixedType, String>,
) -> Result<bool, String> {
    let acc = acc.ok_or_else(|| "accumulator type is unknown".to_string())?;
    let wraps = acc.overflow == crate::fixed::OverflowMode::Wrap
        && matches!(
            acc.quant,
            crate::fixed::QuantMode::Trn | crate::fixed::QuantMode::Rnd | crate::fixed::QuantMode::RndMinInf
        );
    Ok(wraps || acc.covers(&exact()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The row-major, parallel bound equals the output-by-output one: over several slices of
    /// rows, with negative and positive weights and biases, for signed and unsigned inputs.
    #[test]
    fn matrix_accumulator_equals_the_dot_accumulator() {
        let (n_in, n_out) = (300, 150);
        let mut seed = 12345u64;
        let mut next = move || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((seed >> 40) as f64 / (1u64 << 24) as f64 - 0.3) * 8.0
        };
        let (wt, bt) = (FixedType::new(12, 4, true), FixedType::new(16, 6, true));
        let lsb = |v: f64, t: &FixedType| (v / t.lsb()).round() * t.lsb();
        let w: Vec<f64> = (0..n_in * n_out).map(|_| lsb(next(), &wt)).collect();
        let bias: Vec<f64> = (0..n_out).map(|_| lsb(next(), &bt)).collect();
        let positive_w: Vec<f64> = w.iter().map(|v| v.abs()).collect();
        for x in [FixedType::new(16, 6, true), FixedType::new(10, 2, false)] {
            let (w, positive_w) = (&w, &positive_w);
            let outputs = (0..n_out).map(|j| (bias[j], (0..n_in).map(move |i| w[i * n_out + j])));
            let by_dot = exact_dot_accumulator(&x, wt, bt, outputs);
            assert_eq!(exact_matrix_accumulator(&x, wt, bt, &bias, w), by_dot);
            let outputs =
                (0..n_out).map(|j| (bias[j].abs(), (0..n_in).map(move |i| positive_w[i * n_out + j])));
            let by_dot = exact_dot_accumulator(&x, wt, bt, outputs);
            let abs_bias: Vec<f64> = bias.iter().map(|b| b.abs()).collect();
            assert_eq!(exact_matrix_accumulator(&x, wt, bt, &abs_bias, positive_w), by_dot);
        }
    }

    #[test]
    fn window_extents_refuse_overflow_and_zero_sizes() {
        assert_eq!(window_extent(0, 8, (1, 1), 3, 1, 2), Ok(4));
        assert_eq!(window_extent(0, 8, (0, 0), 3, 2, 1), Ok(4));
        assert!(window_extent(0, 8, (usize::MAX, 1), 3, 1, 1).unwrap_err().contains("overflow"));
        assert!(window_extent(0, 8, (0, 0), 3, usize::MAX, 1).unwrap_err().contains("overflow"));
        assert!(window_extent(1, 2, (0, 0), 5, 1, 1).unwrap_err().contains("axis 1"));
        assert!(window_extent(0, 8, (0, 0), 3, 1, 0).is_err());
    }

    #[test]
    fn nearest_legal_values() {
        assert_eq!(nearest_legal(16 * 64, 3), vec![2, 4]);
        assert_eq!(nearest_legal(10, 11), vec![10]);
        assert_eq!(nearest_legal(12, 5), vec![4, 6]);
        assert_eq!(nearest_legal(12, 0), vec![1]);
        assert_eq!(nearest_legal(0, 0), vec![1]);
        assert_eq!(nearest_legal(1, 1), vec![1]);
        let w = Work { macs: 12, reuse_domain: Some(ReuseDomain { count: 12, unit: "inputs" }) };
        assert!(w.check_reuse_factor(4).is_ok());
        assert!(w.check_reuse_factor(0).unwrap_err().ends_with("nearest legal values: 1"));
        assert!(Work::default().check_reuse_factor(2).is_err());
    }
}
