//! `GatherRows`: `y[k, ...] = cast(x[index[k], ...])`, every index checked against the rows of
//! `x` first ([`IndexCheck`], shared with `ScatterAdd` and the `f64` mode): an index outside
//! `0..rows` fails the run with [`SimError::Index`]. [`RowKernel`] is what both layers' kernels
//! share: the checked indices of each sample, an exact staging buffer and the conversion to the
//! output type.

use super::cast::Convert;
use super::constant::too_wide;
use super::plan::{Ctx, Scratch};
use super::SimError;
use crate::fixed::FixedType;
use crate::ir::Shape;

/// Where an index tensor of `m` entries points: `rows` rows; names for the error.
#[derive(Debug, Clone)]
pub(crate) struct IndexCheck {
    layer: String,
    /// The model input the index tensor comes from.
    input: String,
    pub(crate) rows: usize,
    pub(crate) m: usize,
}

impl IndexCheck {
    pub(crate) fn new(layer: &str, input: &str, rows: usize, index: &Shape) -> Self {
        IndexCheck { layer: layer.to_string(), input: input.to_string(), rows, m: index.elements() }
    }

    /// The indices of sample `sample` as row numbers, or the first one out of range.
    pub(crate) fn rows_of(
        &self,
        sample: usize,
        index: impl Iterator<Item = i64>,
        out: &mut Vec<usize>,
    ) -> Result<(), SimError> {
        out.clear();
        for (position, value) in index.take(self.m).enumerate() {
            match usize::try_from(value) {
                Ok(r) if r < self.rows => out.push(r),
                _ => {
                    return Err(SimError::Index {
                        layer: self.layer.clone(),
                        input: self.input.clone(),
                        sample,
                        position,
                        value,
                        rows: self.rows,
                    })
                }
            }
        }
        Ok(())
    }
}

/// A layer that moves rows by a checked index: `x` has `x_rows` rows of `row` values, the output
/// `out_rows`; values of type `from` are staged exactly, then converted to the output type.
#[derive(Debug)]
pub(crate) struct RowKernel {
    pub(crate) check: IndexCheck,
    x_rows: usize,
    out_rows: usize,
    row: usize,
    index_frac: i32,
    convert: Convert,
    counter: usize,
}

impl RowKernel {
    /// `rows` is the range of the index; the data is input 0 and the index input 1.
    pub(crate) fn build(
        ctx: &mut Ctx,
        origin: &str,
        rows: usize,
        from: &FixedType,
    ) -> Result<Self, SimError> {
        let (x, index) = match ctx.inputs[..] {
            [x, index] => (x, index),
            _ => return Err(ctx.unsupported("takes a data and an index input")),
        };
        let x_rows = x.shape.dims().first().copied().unwrap_or(1).max(1);
        let row = x.shape.elements() / x_rows;
        let index_ty = ctx.in_ty(1)?;
        if index_ty.frac_bits() > 0 {
            return Err(
                ctx.unsupported(format!("the index has type {index_ty}; an integer type is required"))
            );
        }
        let check = IndexCheck::new(&ctx.node.name, origin, rows, &index.shape);
        let convert = Convert::new(from, &ctx.out_ty()?, ctx.opts.fast_paths).ok_or_else(|| too_wide(ctx))?;
        let counter = ctx.counter("output", ctx.elements());
        let out_rows = ctx.node.shape.dims().first().copied().unwrap_or(1).max(1);
        Ok(RowKernel { check, x_rows, out_rows, row, index_frac: index_ty.frac_bits(), convert, counter })
    }

    pub(crate) fn describe(&self) -> &'static str {
        self.convert.describe()
    }

    /// Runs the block: for each sample, `place(staged, picked, x)` writes the sample's exact
    /// output rows (`staged`, zeroed) from its checked row numbers and its data rows.
    pub(crate) fn run(
        &self,
        args: &[&[i64]],
        out: &mut [i64],
        s: &mut Scratch,
        counts: &mut [u64],
        place: impl Fn(&mut [i64], &[usize], &[i64], usize),
    ) -> Result<(), SimError> {
        let (m, row) = (self.check.m, self.row);
        let (x_len, out_len) = (self.x_rows * row, self.out_rows * row);
        let n = out.len() / out_len.max(1);
        let mut staged = std::mem::take(&mut s.gather);
        staged.clear();
        staged.resize(out.len(), 0);
        let mut picked = Vec::with_capacity(m);
        let shift = (-self.index_frac).clamp(0, 63) as u32;
        for sample in 0..n {
            let index = args[1][sample * m..(sample + 1) * m]
                .iter()
                .map(|&v| v.checked_shl(shift).unwrap_or(i64::MAX));
            self.check.rows_of(sample, index, &mut picked)?;
            let x = &args[0][sample * x_len..(sample + 1) * x_len];
            place(&mut staged[sample * out_len..(sample + 1) * out_len], &picked, x, row);
        }
        counts[self.counter] += self.convert.run(&staged, out, s);
        s.gather = staged;
        Ok(())
    }
}

/// Builds the kernel of a `GatherRows` layer.
pub(crate) fn build(ctx: &mut Ctx, origin: &str) -> Result<RowKernel, SimError> {
    let rows = ctx.inputs.first().and_then(|x| x.shape.dims().first().copied()).unwrap_or(0);
    let x_ty = ctx.in_ty(0)?;
    RowKernel::build(ctx, origin, rows, &x_ty)
}

/// `GatherRows`: row `k` of the output is row `picked[k]` of `x`.
pub(crate) fn gather(staged: &mut [i64], picked: &[usize], x: &[i64], row: usize) {
    for (k, &r) in picked.iter().enumerate() {
        staged[k * row..(k + 1) * row].copy_from_slice(&x[r * row..(r + 1) * row]);
    }
}
