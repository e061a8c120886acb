//! `Conv`: per output position `o` and filter `f` of group `g`, `acc = cast_acc(b_f)`, then for
//! each kernel tap `t` (row-major) and each channel `c` of the group in increasing order, when the
//! tap's input position lies inside the input, `acc = cast_acc(acc + x[p, g * c_g + c] *
//! w[t, c, f])`; `y[o, f] = cast(acc)`.
//!
//! Each output position is a `Dense` over its gathered window, so the layer runs as one
//! [`MatMul`] per group (`[taps * c_g] x [filters / groups]`, rows in the contract's order: tap
//! major, then channel) on rows gathered through a [`window`](crate::ir::window) table built with
//! the plan. A tap in the padding gathers zeros, and a zero input leaves an accumulator value
//! unchanged with no cast that could overflow, which is exactly the contract's "adds nothing": the
//! results and overflow counts are the contract's, whichever kernel `MatMul` chose (its exact
//! `f64`/`i64` kernels when it proves no accumulator cast can round or overflow, the literal
//! sequential accumulation otherwise). Rows are gathered a chunk at a time into the worker's
//! scratch, so a run allocates nothing once the scratch has grown; a 1x1 convolution with stride
//! 1, no padding and one group multiplies its input in place.
//!
//! Overflow counters: `accumulator` counts the casts the contract performs, per output position
//! and filter the bias cast and one per product of an input position inside the input (padding
//! does no cast); `output` one per output element.

use super::constant::Raw;
use super::matmul::{MatMul, Types};
use super::plan::{Ctx, Scratch};
use super::SimError;
use crate::ir::window::{Window, PAD};
use crate::ir::Conv;

#[derive(Debug)]
pub(crate) struct ConvKernel {
    /// Input values per sample, channels per input position, channels per group.
    in_elements: usize,
    c_in: usize,
    c_g: usize,
    taps: usize,
    positions: usize,
    filters: usize,
    /// Input position of each output position's taps ([`PAD`] in the padding); empty when the
    /// input rows are the windows themselves.
    index: Vec<u32>,
    /// One product per group.
    groups: Vec<MatMul>,
    /// Rows gathered at a time.
    chunk: usize,
    acc_counter: usize,
    out_counter: usize,
}

/// Values gathered at a time (rows of a chunk times their window).
const CHUNK_VALUES: usize = 1 << 15;

impl ConvKernel {
    pub(crate) fn build(ctx: &mut Ctx, conv: &Conv) -> Result<Self, SimError> {
        let acc = conv.accum.ok_or_else(|| ctx.unsupported("the accumulator type is unknown"))?;
        let ty = Types { x: ctx.in_ty(0)?, acc, out: ctx.out_ty()? };
        let x_shape = &ctx.inputs.first().ok_or_else(|| ctx.unsupported("input 0 is missing"))?.shape;
        let s = conv.spatial();
        let (c_g, filters, groups) = (conv.group_channels(), conv.filters(), conv.groups);
        let out_dims = ctx.node.shape.dims();
        if x_shape.rank() != s + 1 || out_dims.len() != s + 1 || groups == 0 || filters % groups != 0 {
            return Err(ctx.unsupported("the input, weights and output shapes do not fit together"));
        }
        let c_in = x_shape.channels();
        if c_in != c_g * groups || out_dims[s] != filters {
            return Err(ctx.unsupported("the input, weights and output shapes do not fit together"));
        }
        let window = Window::of_conv(conv, x_shape, &ctx.node.shape)
            .ok_or_else(|| ctx.unsupported("the input, weights and output shapes do not fit together"))?;
        let table = window.table().ok_or_else(|| ctx.unsupported("the window does not fit the input"))?;
        let (taps, positions) = (window.taps(), window.positions());
        let n_in = taps * c_g;
        let f_g = filters / groups;
        let w = Raw::new(ctx, "weights", &conv.weights)?;
        let b = Raw::new(ctx, "bias", &conv.bias)?;
        if w.values.len() != n_in * filters || b.values.len() != filters {
            return Err(ctx.unsupported("weight or bias sizes do not match the layer"));
        }
        let mut products = Vec::with_capacity(groups);
        for g in 0..groups {
            let cols = g * f_g..(g + 1) * f_g;
            let wg = Raw {
                frac: w.frac,
                values: w.values.chunks(filters).flat_map(|row| row[cols.clone()].iter().copied()).collect(),
                shape: crate::ir::Shape::new([n_in, f_g]),
            };
            let bg =
                Raw { frac: b.frac, values: b.values[cols].to_vec(), shape: crate::ir::Shape::new([f_g]) };
            products.push(MatMul::build(ctx, n_in, f_g, ty, &wg, &bg)?);
        }
        let inside = table.iter().filter(|&&i| i != PAD).count();
        let acc_counter = ctx.counter("accumulator", filters * (positions + inside * c_g));
        let out_counter = ctx.counter("output", ctx.elements());
        let identity = groups == 1
            && taps == 1
            && positions * c_in == x_shape.elements()
            && table.iter().enumerate().all(|(k, &i)| i as usize == k);
        Ok(ConvKernel {
            in_elements: x_shape.elements(),
            c_in,
            c_g,
            taps,
            positions,
            filters,
            index: if identity { Vec::new() } else { table },
            groups: products,
            chunk: (CHUNK_VALUES / n_in.max(1)).clamp(16, 4096),
            acc_counter,
            out_counter,
        })
    }

    pub(crate) fn describe(&self) -> &'static str {
        self.groups.first().map_or("empty", MatMul::describe)
    }

    /// `x` holds at least the block's `n * in_elements` inputs, `out` its results.
    pub(crate) fn run(&self, x: &[i64], out: &mut [i64], s: &mut Scratch, counts: &mut [u64]) {
        let per_sample = self.positions * self.filters;
        let n = out.len() / per_sample.max(1);
        let (mut acc, mut y) = (0, 0);
        if self.index.is_empty() {
            if let Some(m) = self.groups.first() {
                (acc, y) = m.run(&x[..n * self.in_elements], out, s);
            }
        } else {
            (acc, y) = self.run_gathered(x, n, out, s);
        }
        counts[self.acc_counter] += acc;
        counts[self.out_counter] += y;
    }

    fn run_gathered(&self, x: &[i64], n: usize, out: &mut [i64], s: &mut Scratch) -> (u64, u64) {
        let rows = n * self.positions;
        let window = self.taps * self.c_g;
        let f_g = self.filters / self.groups.len().max(1);
        let single = self.groups.len() == 1;
        let mut rows_buf = std::mem::take(&mut s.gather);
        let mut staged = std::mem::take(&mut s.staged);
        let (mut acc, mut y) = (0, 0);
        let mut first = 0;
        while first < rows {
            let r = self.chunk.min(rows - first);
            for (g, product) in self.groups.iter().enumerate() {
                rows_buf.resize(r * window, 0);
                for (k, dst) in rows_buf.chunks_exact_mut(window).enumerate() {
                    let row = first + k;
                    let (sample, pos) = (row / self.positions, row % self.positions);
                    let xs = &x[sample * self.in_elements..(sample + 1) * self.in_elements];
                    let taps = &self.index[pos * self.taps..(pos + 1) * self.taps];
                    for (d, &i) in dst.chunks_exact_mut(self.c_g).zip(taps) {
                        if i == PAD {
                            d.fill(0);
                        } else {
                            let at = i as usize * self.c_in + g * self.c_g;
                            d.copy_from_slice(&xs[at..at + self.c_g]);
                        }
                    }
                }
                let (a, o) = if single {
                    product.run(&rows_buf, &mut out[first * self.filters..(first + r) * self.filters], s)
                } else {
                    staged.resize(r * f_g, 0);
                    let counts = product.run(&rows_buf, &mut staged, s);
                    for (k, part) in staged.chunks_exact(f_g).enumerate() {
                        let at = (first + k) * self.filters + g * f_g;
                        out[at..at + f_g].copy_from_slice(part);
                    }
                    counts
                };
                acc += a;
                y += o;
            }
            first += r;
        }
        s.gather = rows_buf;
        s.staged = staged;
        (acc, y)
    }
}
