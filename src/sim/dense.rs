//! `Dense`: `acc = cast_acc(b_j)`, then `acc = cast_acc(acc + x_i * w_ij)` for `i = 0..n_in` in
//! order, and `y_j = cast(acc)`: one [`MatMul`] row per sample.

use super::constant::Raw;
use super::madd::{Narrow, Out};
use super::matmul::{MatMul, Types};
use super::plan::{Ctx, Scratch};
use super::SimError;
use crate::ir::Dense;

#[derive(Debug)]
pub(crate) struct DenseKernel {
    matmul: MatMul,
    acc_counter: usize,
    out_counter: usize,
}

impl DenseKernel {
    pub(crate) fn build(ctx: &mut Ctx, d: &Dense) -> Result<Self, SimError> {
        let acc = d.accum.ok_or_else(|| ctx.unsupported("the accumulator type is unknown"))?;
        let ty = Types { x: ctx.in_ty(0)?, acc, out: ctx.out_ty()? };
        let (n_in, n_out) = (d.n_in(), d.n_out());
        let w = Raw::new(ctx, "weights", &d.weights)?;
        let b = Raw::new(ctx, "bias", &d.bias)?;
        let matmul = MatMul::build(ctx, n_in, n_out, ty, &w, &b)?;
        let acc_counter = ctx.counter("accumulator", n_out * (n_in + 1));
        let out_counter = ctx.counter("output", n_out);
        Ok(DenseKernel { matmul, acc_counter, out_counter })
    }

    pub(crate) fn describe(&self) -> &'static str {
        self.matmul.describe()
    }

    /// The fractional bits of the exact sums [`DenseKernel::run`] gives, when its kernel has them
    /// ([`MatMul::sums_frac`]).
    pub(crate) fn sums_frac(&self) -> Option<i32> {
        self.matmul.sums_frac()
    }

    /// Whether the layer can read its input as [`Narrow`] rows ([`MatMul::reads_narrow`]).
    pub(crate) fn reads_narrow(&self) -> bool {
        self.matmul.reads_narrow()
    }

    /// The stride of the [`Narrow`] rows the layer can write ([`MatMul::narrow_stride`]).
    pub(crate) fn narrow_stride(&self) -> Option<usize> {
        self.matmul.narrow_stride()
    }

    /// Computes the block's `values` results into `out` from `x`: `i64` rows of `n_in` inputs,
    /// or [`Narrow`] rows where the layer reads them ([`MatMul::run_rows`]). `sums`, when given,
    /// receives the exact `bias + x·W` of each row if [`DenseKernel::sums_frac`] is `Some`. With
    /// `relu`, `out` receives `max(y, 0)` instead of `y`: the output of a following ReLU that keeps
    /// every value ([`super::activation::ActivationKernel::is_plain_relu`]).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn run(
        &self,
        x: Result<Narrow, &[i64]>,
        values: usize,
        out: Out,
        s: &mut Scratch,
        counts: &mut [u64],
        sums: Option<&mut Vec<i64>>,
        relu: bool,
    ) {
        let (acc, y) = self.matmul.run_rows(x, values, out, s, sums, relu);
        counts[self.acc_counter] += acc;
        counts[self.out_counter] += y;
    }
}
