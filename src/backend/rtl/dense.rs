//! `Dense` as multiplier-free logic: `y_j = cast(b_j + sum_i x_i * w_ij)`. The builder,
//! [`build_matrix`], takes any [`ConstMatrix`] and its input values; `Conv` builds each output position
//! through it too.
//!
//! Every product is brought to the common fractional-bit count `F = max(F_x + F_w, F_b)`; the
//! integer weight matrix and biases at that scale go to [`super::matrix`] (shared shift-and-add
//! sub-expressions, least-depth adder trees, every intermediate at the width of its exact range),
//! then each output is cast to the output type; `AP_RND` rounding is folded into the bias
//! (`floor(S + 1/2)`), saving an incrementer.
//!
//! The result equals `ir::Layer::Dense` when the accumulator is exact for these weights and the
//! input range (one cast of the exact sum), or when it wraps without rounding (`AP_WRAP` with at
//! least `F` fractional bits: sums modulo `2^W_acc` do not depend on the order). Other
//! accumulators make the result depend on the summation order and are refused.
//!
//! Registers: the cuts [`super::pipe::Pipe`] chooses (`stages - 1` spread evenly over the adder
//! depth, or those meeting a clock period), then the output register, so the layer takes exactly
//! one cycle more than it has cuts.

use super::cast::cast;
use super::matrix;
use super::netlist::{Module, Val};
use super::pipe::{Pipe, Record};
use super::pointwise::{raws, shl};
use crate::arch::mcm::{self, range_of};
use crate::arch::timing::{cast_tail, type_cast};
use crate::backend::BackendError;
use crate::fixed::{FixedType, OverflowMode, QuantMode};
use crate::ir::Dense;

/// A constant matrix with a bias, in raw integers: `y_j = cast(b_j + sum_i x_i * w_ij)`.
pub struct ConstMatrix<'a> {
    /// The layer named in errors.
    pub layer: &'a str,
    /// Row-major `[n_in, n_out]` raw weights at `fw` fractional bits.
    pub weights: &'a [i128],
    pub fw: i64,
    /// `n_out` raw biases at `fb` fractional bits.
    pub bias: &'a [i128],
    pub fb: i64,
    pub accum: FixedType,
}

/// Builds `Dense` on its inputs `xs` (at `fx` fractional bits): its registered outputs. A
/// row-wise `Dense` (`xs` holding several rows of `n_in` inputs) builds the matrix once per row.
#[allow(clippy::too_many_arguments)]
pub fn build(
    m: &mut Module,
    layer: &str,
    d: &Dense,
    xs: &[Val],
    fx: i64,
    out: &FixedType,
    pipe: &Pipe,
    rec: &mut Record,
) -> Result<Vec<Val>, BackendError> {
    let (weights, fw) = raws(layer, "weights", &d.weights)?;
    let (bias, fb) = raws(layer, "bias", &d.bias)?;
    let n_in = d.n_in();
    if weights.len() != n_in * d.n_out()
        || bias.len() != d.n_out()
        || n_in == 0
        || !xs.len().is_multiple_of(n_in)
    {
        return Err(BackendError::layer(layer, "weight, bias and input sizes do not match"));
    }
    let accum = d.accum.ok_or_else(|| BackendError::layer(layer, "the accumulator type is unknown"))?;
    let matrix = ConstMatrix { layer, weights: &weights, fw, bias: &bias, fb, accum };
    let mut ys = Vec::with_capacity(xs.len() / n_in * d.n_out());
    for row in xs.chunks(n_in) {
        ys.extend(build_matrix(m, &matrix, row, fx, out, pipe, rec)?);
    }
    Ok(ys)
}

/// What a constant-matrix layer's arithmetic needs besides its structure, shared by the fully
/// parallel builder and the time-multiplexed one (`reuse.rs`): the common scale, the scaled
/// coefficients and biases, each output's exact range and how the exact sum becomes the output.
pub struct Prepared {
    /// The common fractional-bit count `F` of the products, biases and sums.
    pub f: i64,
    /// Row-major `[n_in, n_out]` coefficients at scale `F` (for inputs at their own scale).
    pub coefs: Vec<i128>,
    /// `n_out` biases at scale `F`, with the half of a folded `AP_RND` added.
    pub biases: Vec<i128>,
    /// Each output's exact range at scale `F` (without the folded half).
    pub ranges: Vec<(i128, i128)>,
    /// Whether the accumulator holds every sum exactly (else it wraps).
    pub exact: bool,
    /// The type of the final cast of an exact sum (`AP_TRN` when `AP_RND` is folded).
    pub final_ty: FixedType,
    pub accum: FixedType,
}

/// Checks `c`'s accumulator against the inputs' ranges `inputs` (at `fx` fractional bits) and
/// prepares its arithmetic for output type `out`.
pub fn prepare(
    c: &ConstMatrix,
    inputs: &[(i128, i128)],
    fx: i64,
    out: &FixedType,
) -> Result<Prepared, BackendError> {
    let (layer, w, fw, b, fb, acc) = (c.layer, c.weights, c.fw, c.bias, c.fb, c.accum);
    let (n_in, n_out) = (inputs.len(), b.len());
    if w.len() != n_in * n_out {
        return Err(BackendError::layer(layer, "weight, bias and input sizes do not match"));
    }
    let f = (fx + fw).max(fb);

    let mut coefs = Vec::with_capacity(w.len());
    for &v in w {
        coefs.push(shl(layer, v, f - fx - fw)?);
    }
    let fa = i64::from(acc.frac_bits());
    let mut ranges = Vec::with_capacity(n_out);
    for (j, &bj) in b.iter().enumerate() {
        let col: Vec<i128> = (0..n_in).map(|i| coefs[i * n_out + j]).collect();
        ranges.push(range_of(&col, shl(layer, bj, f - fb)?, inputs));
    }
    let sym = acc.signed && acc.width > 1 && acc.overflow == OverflowMode::SatSym;
    let keep = acc.min_raw() + i128::from(sym);
    let mut exact = fa >= f;
    for &(lo, hi) in &ranges {
        if !exact {
            break;
        }
        exact = shl(layer, lo, fa - f)? >= keep && shl(layer, hi, fa - f)? <= acc.max_raw();
    }
    let wraps = fa >= f && acc.overflow == OverflowMode::Wrap;
    if !exact && !wraps {
        return Err(BackendError::layer(
            layer,
            format!(
                "accumulator {} can round or saturate partial sums, which makes the result depend on the summation order; the RTL backend needs an exact accumulator or an AP_WRAP one with at least {f} fractional bits",
                acc.ap_fixed_spelling()
            ),
        ));
    }
    // AP_RND on the final cast: floor(S + 1/2), with the half folded into the bias.
    let drop = i64::from(out.frac_bits()) - f;
    let fold = exact && out.quant == QuantMode::Rnd && drop < 0;
    let final_ty = if fold { out.with_modes(QuantMode::Trn, out.overflow) } else { *out };

    let mut biases = Vec::with_capacity(n_out);
    for &bj in b {
        let mut bias = shl(layer, bj, f - fb)?;
        if fold {
            bias += 1i128 << (-drop - 1);
        }
        biases.push(bias);
    }
    Ok(Prepared { f, coefs, biases, ranges, exact, final_ty, accum: acc })
}

impl Prepared {
    /// The output `sum` (the exact sum with the biases of [`Prepared::biases`], at scale `F`)
    /// cast to `out`, unregistered.
    pub fn cast_out(&self, m: &mut Module, sum: &Val, out: &FixedType) -> Val {
        if self.exact {
            cast(m, sum, self.f, &self.final_ty)
        } else {
            let a = cast(m, sum, self.f, &self.accum);
            cast(m, &a, i64::from(self.accum.frac_bits()), out)
        }
    }
}

/// Builds the product of constant matrix `c` with the values `xs` (at `fx` fractional bits): the
/// `n_out` outputs cast to `out`, with the cuts `pipe` chooses; records the stages in `rec`.
pub fn build_matrix(
    m: &mut Module,
    c: &ConstMatrix,
    xs: &[Val],
    fx: i64,
    out: &FixedType,
    pipe: &Pipe,
    rec: &mut Record,
) -> Result<Vec<Val>, BackendError> {
    let inputs: Vec<(i128, i128)> = xs.iter().map(Val::range).collect();
    let p = prepare(c, &inputs, fx, out)?;
    let (f, exact, final_ty) = (p.f, p.exact, p.final_ty);
    let drop = i64::from(out.frac_bits()) - f;
    let (us, offsets) = matrix::unsigned(m, xs);
    let plan = matrix::plan(&p.coefs, &mcm::offset_bias(&p.coefs, &p.biases, &offsets), &us);
    let tail = if exact {
        let mut saturates = false;
        let mut widest = 1;
        for &(lo, hi) in &p.ranges {
            let (lo, hi) = if drop < 0 { (lo >> -drop, hi >> -drop) } else { (lo << drop, hi << drop) };
            saturates |= lo < final_ty.min_raw() || hi > final_ty.max_raw();
            widest = widest.max(mcm::bit_width(lo, hi));
        }
        let rounds = (drop < 0 && final_ty.quant != QuantMode::Trn).then_some(out.width + 1);
        cast_tail(widest, rounds, saturates && final_ty.overflow != OverflowMode::Wrap)
    } else {
        type_cast(&c.accum, out)
    };
    let cuts = pipe.cuts(&plan, tail, rec);
    let sums = matrix::build(m, &plan, &us, &cuts);

    let mut ys = Vec::with_capacity(sums.len());
    for sum in &sums {
        let y = p.cast_out(m, sum, out);
        ys.push(m.reg(&y));
    }
    Ok(ys)
}
