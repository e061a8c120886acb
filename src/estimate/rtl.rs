//! Estimate of the design the RTL backend ([`crate::backend::rtl`]) emits: its latency and II
//! exactly (the backend's timing contract), and LUTs and flip-flops from a simple model of its
//! structure, meant to be compared with Yosys / Vivado synthesis.
//!
//! Cost model ([`ADDER_LUT_PER_BIT`] LUTs per adder bit with a carry chain; one flip-flop per
//! registered bit):
//!
//! * `Dense`: the shared shift-and-add plan the backend builds ([`crate::arch::mcm`]) for inputs
//!   anywhere in the input type's range: [`ADDER_LUT_PER_BIT`] per adding bit of each adder
//!   (`mcm::Plan::adder_bits`); the output cast costs `W_out` LUTs when it rounds or saturates.
//!   Registers: the output bits, plus the values crossing the `stages - 1` cuts in the plan;
//! * pointwise layers: `W_out` LUTs per element for the cast and selection, plus the shift-add
//!   of a constant product; a table costs `2^W_index * W_out / 64` LUTs per element (LUT6 ROM);
//!   ELU and SELU add the cast and selection of the positive side; `HardSwish` is a product of
//!   two signals; each registers its output bits;
//! * `Elementwise`, per element, on operands aligned to the widest fractional part (`W_a` bits):
//!   `Add`/`Sub` one adder of `W_a` bits per operand after the first, `Max`/`Min` a subtractor and
//!   a `W_a`-bit multiplexer per operand after the first, `Mul` a product of two signals (or a
//!   constant product, as Dense's), then the cast;
//! * `Reduce`, per output of `n` values of `W_x` bits: the adder tree (as Dense's) over the values,
//!   their magnitudes (`2 W_x` LUTs each: negation and selection) or their squares (a product of
//!   two signals each); `Max`/`Min` `n - 1` subtractors and multiplexers; `Mean` the constant product
//!   by the reciprocal; `L2` the table's ROM; then the cast. Both register their output bits.
//!
//! * `Conv`: per output position and group, the cost of `Dense` for the group's filters over the
//!   whole window (its taps' channels as inputs);
//! * `Pool`, per output over a window of `n` values: `Max` as `Reduce`'s `Max`, `Average` as its
//!   `Mean`; `Softmax`, per row of `n`: the maximum's selections, `n` subtractors, `n` exp-table
//!   ROMs, the adder tree, one reciprocal ROM, `n` products of two signals, the casts;
//! * `Pad`, `UpSample`, `Transpose`: wiring when the type is kept, else a cast per element.
//!
//! * `Dense` and `Conv` with a reuse factor `R > 1` (time-multiplexed, `reuse_matrix_cost`, not
//!   calibrated against synthesis): the input selects, weight ROMs, shared products of two signals,
//!   adder trees and accumulators it builds (a `Conv`: per output position and group).
//!
//! Products of two signals (`Elementwise` `Mul`, squares, softmax's `e * r`, the shared
//! multipliers of time-multiplexed Dense) are DSP48E2 slices as Yosys maps them (see
//! `var_product`); constant products never are. Latency per layer is the RTL schedule's
//! ([`crate::arch::rtl`]); II is 1, or the largest reuse factor; no block RAM.

use super::arith::{bit_len, csd_digits, raw};
use super::{Estimate, EstimateError, LayerEstimate, Part, Totals};
use crate::arch::mcm;
use crate::arch::rtl::schedule_with;
use crate::fixed::{FixedType, OverflowMode, QuantMode};
use crate::ir::{self, Activation, BinaryOp, Layer, LoweredGraph, ReduceOp};

/// LUTs per adder bit. Fitted to Yosys 0.23 `synth_xilinx -family xcup` on two designs of this
/// backend before Dense used the shared plan of `arch::mcm` (the QKeras MLP of
/// `tests/models/keras`: 16,050 LUTs; the 6-bit jet tagger `qkeras_3layer`: 33,310 LUTs), which
/// one LUT per bit overestimated by 27 % on both: logic synthesis merges adders' sign-extension
/// bits and constant low bits. On the planned jet tagger (Yosys: 27,019 LUTs, signed nodes
/// entering the trees sign-flipped, saturating casts reading the incrementer's carry) the model
/// gives 24,305, 10 % under.
const ADDER_LUT_PER_BIT: f64 = 0.79;

fn casts(out: &FixedType) -> bool {
    out.quant != QuantMode::Trn || out.overflow != OverflowMode::Wrap
}

fn dense_cost(d: &ir::Dense, x: &FixedType, out: &FixedType, stages: u32) -> (f64, u64) {
    let wty = d.weights.ty.unwrap_or(*x);
    let bty = d.bias.ty.unwrap_or(*out);
    let m = Matrix { weights: &d.weights.values, bias: &d.bias.values, wty, bty };
    matrix_cost(&m, x, out, stages)
}

/// A constant matrix: row-major `[n_in, n_out]` weights and `n_out` biases with their types.
struct Matrix<'a> {
    weights: &'a [f64],
    bias: &'a [f64],
    wty: FixedType,
    bty: FixedType,
}

/// LUTs and flip-flops of the RTL backend's constant-matrix builder (`Dense`, and `Conv` per
/// output position and group): the adder bits of its shift-add plan ([`mcm::plan`]).
fn matrix_cost(d: &Matrix, x: &FixedType, out: &FixedType, stages: u32) -> (f64, u64) {
    let (wty, bty) = (d.wty, d.bty);
    let n_out = d.bias.len();
    let n_in = d.weights.len() / n_out.max(1);
    let (fx, fw, fb) = (x.frac_bits(), wty.frac_bits(), bty.frac_bits());
    let f = (fx + fw).max(fb);
    let scale = |v: i64, k: i32| i128::from(v) << k.clamp(0, 64);
    let coefs: Vec<i128> = d.weights.iter().map(|&v| scale(raw(v, &wty), f - fx - fw)).collect();
    let bias: Vec<i128> = d.bias.iter().map(|&v| scale(raw(v, &bty), f - fb)).collect();
    if coefs.len() != n_in * n_out || bias.len() != n_out {
        return (0.0, 0);
    }
    // Signed inputs enter with their sign bit inverted (see `backend::rtl::matrix`).
    let half = if x.signed { 1i128 << (x.width - 1) } else { 0 };
    let bias = mcm::offset_bias(&coefs, &bias, &vec![half; n_in]);
    let plan = mcm::plan(&coefs, &bias, &vec![(x.min_raw() + half, x.max_raw() + half); n_in]);
    let cuts = plan.even_cuts(stages);
    let mut lut = plan.adder_bits() as f64 * ADDER_LUT_PER_BIT;
    if casts(out) {
        lut += (n_out as u64 * u64::from(out.width)) as f64;
    }
    (lut, plan.cut_bits(&cuts) + n_out as u64 * u64::from(out.width))
}

/// LUTs, DSPs and flip-flops of a `Dense` layer with reuse factor `r > 1` (the RTL backend's
/// `reuse.rs`): its one matrix ([`reuse_matrix_cost`]), the held inputs (those of phases
/// `1 .. r - 1`) and the phase counter.
fn reuse_dense_cost(d: &ir::Dense, x: &FixedType, out: &FixedType, r: usize) -> (f64, u64, u64) {
    let wty = d.weights.ty.unwrap_or(*x);
    let bty = d.bias.ty.unwrap_or(*out);
    let m = Matrix { weights: &d.weights.values, bias: &d.bias.values, wty, bty };
    let n_in = d.weights.values.len() / d.bias.values.len().max(1);
    if r < 2 || !n_in.is_multiple_of(r) {
        return (0.0, 0, 0);
    }
    let (lut, dsp, ff) = reuse_matrix_cost(&m, x, out, r);
    let held = ((n_in - n_in / r) as u64) * u64::from(x.width);
    (lut, dsp, ff + held + u64::from(bit_len(r as u64 - 1)))
}

/// LUTs, DSPs and flip-flops of a `Conv` layer with reuse factor `r > 1` (`reuse.rs`): per output
/// position and group, the kernel's matrix for the group's filters ([`reuse_matrix_cost`], taps in
/// the padding counted as inputs: an upper bound at the borders, and selects shared between
/// positions counted once per position); the held inputs, at most `(r - 1) / r` of the input's
/// `n_x` elements (each element read in phase 0 of every window it is in is not held; the bound
/// assumes it is), and the phase counter.
fn reuse_conv_cost(
    c: &ir::Conv,
    x: &FixedType,
    out: &FixedType,
    positions: usize,
    n_x: usize,
    r: usize,
) -> (f64, u64, u64) {
    if r < 2 || !c.window().is_multiple_of(r) {
        return (0.0, 0, 0);
    }
    let (mut lut, mut dsp, mut ff) = (0.0, 0, 0);
    for_each_group(c, x, out, |m| {
        let (l, d, f) = reuse_matrix_cost(m, x, out, r);
        lut += l;
        dsp += d;
        ff += f;
    });
    let held = (n_x * (r - 1)).div_ceil(r) as u64 * u64::from(x.width);
    (
        lut * positions as f64,
        dsp * positions as u64,
        ff * positions as u64 + held + u64::from(bit_len(r as u64 - 1)),
    )
}

/// LUTs, DSPs and flip-flops of one time-multiplexed constant matrix (`reuse.rs`) at reuse factor
/// `r` (dividing its `n_in`), uncalibrated: per slot of `r` inputs, an `r`-to-1 select of `W_x`
/// bits (`ceil((r - 1) / 3)` LUTs per bit: a LUT6 selects among four); per output and slot with a
/// nonzero weight, a weight ROM of one LUT per bit (the phase has at most six bits) and a product
/// of two signals ([`var_product`]); per output, the adder tree over its slots' products, the
/// accumulator's adder and restart select (one LUT per bit each) and the cast. Registers: the
/// accumulators and the outputs.
fn reuse_matrix_cost(d: &Matrix, x: &FixedType, out: &FixedType, r: usize) -> (f64, u64, u64) {
    let (wty, bty) = (d.wty, d.bty);
    let n_out = d.bias.len().max(1);
    let n_in = d.weights.len() / n_out;
    let slots = n_in / r;
    let (fx, fw, fb) = (x.frac_bits(), wty.frac_bits(), bty.frac_bits());
    let f = (fx + fw).max(fb);
    let scale = |v: i64, k: i32| i128::from(v) << k.clamp(0, 64);
    let coefs: Vec<i128> = d.weights.iter().map(|&v| scale(raw(v, &wty), f - fx - fw)).collect();
    let xw = signed_width(x);
    let xmax = x.min_raw().unsigned_abs().max(x.max_raw().unsigned_abs()) as i128;
    let (mut lut, mut dsp) = (f64::from(x.width) * slots as f64 * ((r - 1).div_ceil(3)) as f64, 0u64);
    let mut ff = n_out as u64 * u64::from(out.width);
    for j in 0..n_out {
        let mut products = Vec::new();
        let mut total: i128 = d.bias.get(j).map_or(0, |&b| scale(raw(b, &bty), f - fb).abs());
        for k in 0..slots {
            let col: Vec<i128> = (0..r).map(|q| coefs[(k * r + q) * n_out + j]).collect();
            let Some(t) = col.iter().filter(|&&c| c != 0).map(|c| c.trailing_zeros()).min() else {
                continue;
            };
            let lo = col.iter().map(|&c| c >> t).min().unwrap_or(0);
            let hi = col.iter().map(|&c| c >> t).max().unwrap_or(0);
            let ww = mcm::bit_width(lo, hi) + u32::from(lo >= 0);
            lut += f64::from(ww);
            let (l, p) = var_product(xw, ww);
            lut += l;
            dsp += p;
            products.push(xw + ww);
            total += col.iter().map(|c| c.abs()).max().unwrap_or(0) * xmax;
        }
        let (tree, _) = tree_cost(products);
        let acc = mcm::bit_width(-total, total);
        lut += tree + f64::from(acc) * (ADDER_LUT_PER_BIT + 1.0);
        ff += u64::from(acc);
        if casts(out) {
            lut += f64::from(out.width);
        }
    }
    (lut, dsp, ff)
}

/// LUTs of `x * o` for an odd constant `o > 1` and a `w_x`-bit `x`: `csd(o) - 1` adders of the
/// product's width, unless splitting `x` into 6-bit slices is cheaper: each slice's product is then
/// one LUT6 per output bit (logic synthesis collapses a constant product of at most six inputs into
/// a truth table), and the slices' products are added.
fn const_product(w_x: u32, o: u64) -> f64 {
    let width = f64::from(w_x + bit_len(o));
    let shift_add = f64::from(csd_digits(o).saturating_sub(1)) * width * ADDER_LUT_PER_BIT;
    let slices = f64::from(w_x.div_ceil(6));
    shift_add.min((2.0 * slices - 1.0) * width)
}

/// LUTs of a balanced adder tree over addends of the given widths (narrowest paired first, one
/// LUT per bit of the wider operand) and the width of its sum.
fn tree_cost(mut level: Vec<u32>) -> (f64, u32) {
    let mut lut = 0.0;
    level.sort_unstable();
    while level.len() > 1 {
        let mut next: Vec<u32> = level
            .chunks(2)
            .map(|p| match *p {
                [a, b] => {
                    lut += f64::from(a.max(b)) * ADDER_LUT_PER_BIT;
                    a.max(b) + 1
                }
                [a] => a,
                _ => unreachable!("chunks of two"),
            })
            .collect();
        next.sort_unstable();
        level = next;
    }
    (lut, level.first().copied().unwrap_or(0))
}

/// Signed operand width of a product of type `t` (a non-negative type gains a sign bit).
fn signed_width(t: &FixedType) -> u32 {
    t.width + u32::from(!t.signed)
}

/// A product of two signals of `a` and `b` signed bits: the DSP48E2 slices Yosys maps it to
/// (`mul2dsp` for `xcup`: A up to 27 bits and B up to 18 in one slice, wider operands in 17-bit
/// slices, an upper bound where the top partial products fall outside the result), or, when an
/// operand has fewer than 2 bits or the product fewer than 9, LUTs: `b - 1` adders of `a + b`
/// bits. Returns (LUTs, DSPs).
fn var_product(a: u32, b: u32) -> (f64, u64) {
    let (a, b) = (a.max(b), a.min(b));
    if b >= 2 && a + b >= 9 {
        let slices = |w: u32, max: u32| if w <= max { 1 } else { 1 + u64::from((w - max).div_ceil(17)) };
        return (0.0, slices(a, 27) * slices(b, 18));
    }
    (f64::from(b.saturating_sub(1)) * f64::from(a + b) * ADDER_LUT_PER_BIT, 0)
}

/// LUTs of a table's ROM and index (see the module docs).
fn table_cost(t: &ir::Table, out: &FixedType) -> f64 {
    ((1u64 << t.index_ty.width.min(20)) as f64 * f64::from(out.width) / 64.0).max(1.0)
        + f64::from(t.index_ty.width)
}

/// LUTs and DSPs of one element of an elementwise layer on inputs of types `ins`.
fn elementwise_cost(e: &ir::Elementwise, ins: &[FixedType], out: &FixedType) -> (f64, u64) {
    let mut operands: Vec<FixedType> = ins.to_vec();
    if let Some(c) = &e.constant {
        operands.push(c.ty.unwrap_or(*out));
    }
    let cast = if casts(out) { f64::from(out.width) } else { 0.0 };
    let f = operands.iter().map(|t| t.frac_bits()).max().unwrap_or(0);
    let aligned = |t: &FixedType| t.width + (f - t.frac_bits()).max(0) as u32;
    let (mut lut, mut dsp) = (0.0, 0);
    let mut acc = operands.first().map(aligned).unwrap_or(0);
    let rest = operands.iter().skip(1);
    match e.op {
        BinaryOp::Add | BinaryOp::Sub => {
            for t in rest {
                acc = acc.max(aligned(t)) + 1;
                lut += f64::from(acc) * ADDER_LUT_PER_BIT;
            }
        }
        BinaryOp::Max | BinaryOp::Min => {
            for t in rest {
                acc = acc.max(aligned(t));
                lut += f64::from(acc + 1) * ADDER_LUT_PER_BIT + f64::from(acc);
            }
        }
        BinaryOp::Mul => {
            acc = operands.first().map(signed_width).unwrap_or(0);
            let constant = e.constant.as_ref().map(|c| (c, c.ty.unwrap_or(*out)));
            for (k, t) in rest.enumerate() {
                let is_constant = constant.is_some() && k + ins.len() == operands.len() - 1;
                match constant {
                    Some((c, ty)) if is_constant => {
                        lut += c
                            .values
                            .iter()
                            .map(|&v| raw(v, &ty).unsigned_abs())
                            .filter(|&v| v > 1)
                            .map(|v| const_product(acc, v >> v.trailing_zeros()))
                            .fold(0.0, f64::max)
                    }
                    _ => {
                        let (l, d) = var_product(acc, signed_width(t));
                        lut += l;
                        dsp += d;
                    }
                }
                acc += signed_width(t);
            }
        }
    }
    (lut + cast, dsp)
}

/// LUTs and DSPs of one output of a reduction of values of type `x`.
fn reduce_cost(r: &ir::Reduce, x: &FixedType, out: &FixedType) -> (f64, u64) {
    let n = r.count;
    let w = x.width;
    let cast = if casts(out) { f64::from(out.width) } else { 0.0 };
    let (square_lut, square_dsp) = var_product(signed_width(x), signed_width(x));
    let squares = (n as f64 * square_lut, n as u64 * square_dsp);
    let lut = match r.op {
        ReduceOp::Sum => tree_cost(vec![w; n]).0,
        ReduceOp::L1 => tree_cost(vec![w; n]).0 + (2 * n as u64 * u64::from(w)) as f64,
        ReduceOp::SumSquare => return (tree_cost(vec![2 * w; n]).0 + squares.0 + cast, squares.1),
        ReduceOp::Max | ReduceOp::Min => {
            n.saturating_sub(1) as f64 * (f64::from(w + 1) * ADDER_LUT_PER_BIT + f64::from(w))
        }
        ReduceOp::Mean => {
            let (lut, sum) = tree_cost(vec![w; n]);
            let k = r.reciprocal.map(|t| ir::Pool::reciprocal_raw(n, &t)).unwrap_or(0).unsigned_abs() as u64;
            let odd = if k == 0 { 1 } else { k >> k.trailing_zeros() };
            lut + if odd > 1 { const_product(sum, odd) } else { 0.0 }
        }
        ReduceOp::L2 => {
            let table = r.table.as_ref().map(|t| table_cost(t, out)).unwrap_or(0.0);
            return (tree_cost(vec![2 * w; n]).0 + squares.0 + table, squares.1);
        }
    };
    (lut + cast, 0)
}

/// LUTs and flip-flops of a convolution: each output position and group is the constant matrix
/// of the group's filters over the whole window (taps in the padding counted as inside: an upper
/// bound at the edges).
fn conv_cost(c: &ir::Conv, x: &FixedType, out: &FixedType, positions: usize, stages: u32) -> (f64, u64) {
    let (mut lut, mut ff) = (0.0, 0);
    for_each_group(c, x, out, |m| {
        let (l, f) = matrix_cost(m, x, out, stages);
        lut += l;
        ff += f;
    });
    (lut * positions as f64, ff * positions as u64)
}

/// Calls `f` with the constant matrix of each group of `c`'s filters (its taps × channels per
/// group rows, the group's filters as columns).
fn for_each_group(c: &ir::Conv, x: &FixedType, out: &FixedType, mut f: impl FnMut(&Matrix)) {
    let wty = c.weights.ty.unwrap_or(*x);
    let bty = c.bias.ty.unwrap_or(*out);
    let (filters, groups) = (c.filters(), c.groups.max(1));
    let f_g = filters / groups;
    for g in 0..groups {
        let cols = g * f_g..(g + 1) * f_g;
        let weights: Vec<f64> = c
            .weights
            .values
            .chunks(filters.max(1))
            .flat_map(|row| row[cols.clone()].iter().copied())
            .collect();
        f(&Matrix { weights: &weights, bias: &c.bias.values[cols], wty, bty });
    }
}

/// LUTs of graph layer `id` (`backend/rtl/graph.rs`), uncalibrated: a `ScatterAdd` into
/// `scatter_rows` rows, else a `GatherRows`. Per index element, its range comparison;
/// `GatherRows`, per output element, a tree of 4:1 selects (a LUT per bit selects among four)
/// and the in-range select folded into the cast; `ScatterAdd`, per index element and output row,
/// the row match (a LUT), and per output element the adder tree of the masked terms (the mask
/// folds into the adders' LUTs) and the cast.
fn graph_cost(g: &LoweredGraph, id: ir::NodeId, scatter_rows: Option<usize>) -> Result<f64, EstimateError> {
    let node = g.node(id);
    let out = node.out_ty()?;
    let ins = g.inputs_of(id);
    let (Some(&data), Some(&index)) = (ins.first(), ins.get(1)) else { return Ok(0.0) };
    let (x, index_width) = (g.node(data).out_ty()?, g.node(index).out_ty()?.width);
    let m = g.node(index).shape.elements();
    let n = g.node(data).shape.dims().first().copied().unwrap_or(0);
    let elements = node.shape.elements() as f64;
    let compare = m as f64 * f64::from(index_width) * ADDER_LUT_PER_BIT;
    let cast = if casts(&out) { f64::from(out.width) } else { 0.0 };
    Ok(match scatter_rows {
        None => {
            let selects = n.saturating_sub(1).div_ceil(3) as f64 * f64::from(x.width);
            compare + elements * (selects + cast)
        }
        Some(rows) => {
            let (tree, _) = tree_cost(vec![x.width; m]);
            compare + (m * rows) as f64 + elements * (tree + cast)
        }
    })
}

/// LUTs of one output of a pooling window of `n` values of type `x`: `Max` `n - 1` subtractors
/// and multiplexers, `Average` the adder tree and the constant product by the reciprocal; then
/// the cast.
fn pool_cost(p: &ir::Pool, x: &FixedType, out: &FixedType) -> f64 {
    let n = p.window();
    let w = x.width;
    let cast = if casts(out) { f64::from(out.width) } else { 0.0 };
    cast + match p.op {
        ir::PoolOp::Max => n.saturating_sub(1) as f64 * (f64::from(w + 1) * ADDER_LUT_PER_BIT + f64::from(w)),
        ir::PoolOp::Average => {
            let (lut, sum) = tree_cost(vec![w; n]);
            let k = p.reciprocal.map(|t| ir::Pool::reciprocal_raw(n, &t)).unwrap_or(0).unsigned_abs() as u64;
            let odd = if k == 0 { 1 } else { k >> k.trailing_zeros() };
            lut + if odd > 1 { const_product(sum, odd) } else { 0.0 }
        }
    }
}

/// LUTs and DSPs of one softmax row of `n` values of type `x`: the maximum's `n - 1` selections,
/// `n` subtractors, `n` exp-table ROMs, the adder tree of the entries, one reciprocal ROM, `n`
/// products of two signals and `n` casts.
fn softmax_cost(sm: &ir::Softmax, n: usize, x: &FixedType, out: &FixedType) -> (f64, u64) {
    let (e, r) = (&sm.exp_table, &sm.inv_table);
    let w = f64::from(x.width);
    let nf = n as f64;
    let max = n.saturating_sub(1) as f64 * ((w + 1.0) * ADDER_LUT_PER_BIT + w);
    let diff = nf * (w + 1.0) * ADDER_LUT_PER_BIT;
    let tables = nf * table_cost(e, &e.ty) + table_cost(r, &r.ty);
    let (sum, _) = tree_cost(vec![e.ty.width; n]);
    let (plut, pdsp) = var_product(signed_width(&e.ty), signed_width(&r.ty));
    let cast = if casts(out) { f64::from(out.width) } else { 0.0 };
    (max + diff + tables + sum + nf * (plut + cast), n as u64 * pdsp)
}

/// LUTs and DSPs of one `HardSwish` element: the `HardSigmoid` clip (`h` in `[0, 1]` at
/// `F_h = max(F_x + F_alpha, F_beta, 0)` fractional bits), the product `x * h` of two signals and
/// the cast.
fn hard_swish_cost(alpha: &ir::Weights, beta: &ir::Weights, x: &FixedType, out: &FixedType) -> (f64, u64) {
    let frac = |w: &ir::Weights| w.ty.map_or(0, |t| t.frac_bits());
    let fh = (x.frac_bits() + frac(alpha)).max(frac(beta)).max(0);
    let h_width = u32::try_from(fh).unwrap_or(0) + 2;
    let (plut, pdsp) = var_product(signed_width(x), h_width);
    let cast = if casts(out) { f64::from(out.width) } else { 0.0 };
    (2.0 * f64::from(x.width) + f64::from(h_width) + plut + cast, pdsp)
}

/// LUTs of one element's cast and select logic in a pointwise layer (see the module docs).
fn pointwise_cost(layer: &Layer, x: &FixedType, out: &FixedType) -> f64 {
    let cast = if casts(out) { f64::from(out.width) } else { 0.0 };
    match layer {
        Layer::Activation(
            Activation::Sigmoid(t) | Activation::Tanh(t) | Activation::Softplus(t) | Activation::Softsign(t),
        ) => table_cost(t, out),
        Layer::Activation(Activation::Linear)
        | Layer::Quantize(_)
        | Layer::Reshape(_)
        | Layer::Concatenate(_)
        | Layer::Pad(_)
        | Layer::UpSample(_)
        | Layer::Transpose(_) => cast,
        Layer::BatchNorm(_)
        | Layer::Activation(Activation::LeakyRelu { .. })
        | Layer::Activation(Activation::PRelu { .. })
        | Layer::Activation(Activation::HardSigmoid { .. }) => {
            2.0 * f64::from(x.width) + f64::from(out.width)
        }
        Layer::Activation(Activation::Relu | Activation::Clip { .. }) => f64::from(out.width),
        Layer::Activation(Activation::ThresholdedRelu { .. }) => {
            f64::from(x.width + 1) * ADDER_LUT_PER_BIT + f64::from(out.width)
        }
        Layer::Activation(Activation::Elu(t)) => table_cost(t, out) + 2.0 * f64::from(out.width),
        Layer::Activation(Activation::Selu { scale, table }) => {
            let s = scale.ty.map_or(0, |ty| raw(scale.values.first().copied().unwrap_or(0.0), &ty));
            let odd = s.unsigned_abs() >> s.unsigned_abs().trailing_zeros().min(63);
            let product = if odd > 1 { const_product(x.width, odd) } else { 0.0 };
            table_cost(table, out) + 2.0 * f64::from(out.width) + product
        }
        // Priced in `estimate_with` (a product of two signals) or not pointwise.
        Layer::Activation(Activation::HardSwish { .. })
        | Layer::Input(_)
        | Layer::Dense(_)
        | Layer::Softmax(_)
        | Layer::Elementwise(_)
        | Layer::Conv(_)
        | Layer::Pool(_)
        | Layer::Reduce(_)
        | Layer::GatherRows(_)
        | Layer::ScatterAdd(_) => 0.0,
    }
}

/// Estimates the RTL design of `g` built with `stages` register stages per Dense and Conv layer.
pub fn estimate(
    g: &LoweredGraph,
    part: &Part,
    clock_ns: f64,
    stages: u32,
) -> Result<Estimate, EstimateError> {
    estimate_with(g, part, clock_ns, stages, &std::collections::BTreeMap::new())
}

/// [`estimate`] with the Dense and Conv layers of `per_layer` taking their own stage count (the
/// design `--clock-period` builds). Their cut registers are costed as for cuts spread evenly over
/// the adder depth.
pub fn estimate_with(
    g: &LoweredGraph,
    part: &Part,
    clock_ns: f64,
    stages: u32,
    per_layer: &std::collections::BTreeMap<ir::NodeId, u32>,
) -> Result<Estimate, EstimateError> {
    if !(clock_ns.is_finite() && clock_ns > 0.0) {
        return Err(EstimateError::BadClock(clock_ns));
    }
    let sched = schedule_with(g, stages, per_layer)?;
    let mut layers = Vec::new();
    for id in g.topo_order()? {
        let node = g.node(id);
        let out = node.out_ty()?;
        let cycles = sched.cycles[&id];
        let x = g.inputs_of(id).first().map(|&i| g.node(i).out_ty()).transpose()?.unwrap_or(out);
        let elements = node.shape.elements() as u64;
        let registers = elements * u64::from(out.width);
        let stages = per_layer.get(&id).copied().unwrap_or(stages);
        let (lut, dsp, ff) = match &node.layer {
            Layer::Input(_) => (0.0, 0, 0),
            Layer::Dense(d) if node.reuse_factor > 1 => reuse_dense_cost(d, &x, &out, node.reuse_factor),
            Layer::Dense(d) => {
                let rows = elements / d.n_out().max(1) as u64;
                let (lut, ff) = dense_cost(d, &x, &out, stages);
                (lut * rows as f64, 0, ff * rows)
            }
            Layer::GatherRows(_) => (graph_cost(g, id, None)?, 0, registers),
            Layer::ScatterAdd(s) => (graph_cost(g, id, Some(s.rows))?, 0, registers),
            Layer::Elementwise(e) => {
                let ins =
                    g.inputs_of(id).iter().map(|&i| g.node(i).out_ty()).collect::<Result<Vec<_>, _>>()?;
                let (lut, dsp) = elementwise_cost(e, &ins, &out);
                (lut * elements as f64, dsp * elements, registers)
            }
            Layer::Reduce(r) => {
                let (lut, dsp) = reduce_cost(r, &x, &out);
                (lut * elements as f64, dsp * elements, registers)
            }
            Layer::Conv(c) if node.reuse_factor > 1 => {
                let positions = node.shape.elements() / node.shape.channels().max(1);
                let n_x = g.inputs_of(id).first().map_or(0, |&i| g.node(i).shape.elements());
                reuse_conv_cost(c, &x, &out, positions, n_x, node.reuse_factor)
            }
            Layer::Conv(c) => {
                let positions = node.shape.elements() / node.shape.channels().max(1);
                let (lut, ff) = conv_cost(c, &x, &out, positions, stages);
                (lut, 0, ff)
            }
            Layer::Pool(p) => (pool_cost(p, &x, &out) * elements as f64, 0, registers),
            Layer::Softmax(sm) => {
                let n = node.shape.channels().max(1);
                let rows = elements / n as u64;
                let (lut, dsp) = softmax_cost(sm, n, &x, &out);
                (lut * rows as f64, dsp * rows, registers)
            }
            Layer::Activation(Activation::HardSwish { alpha, beta }) => {
                let (lut, dsp) = hard_swish_cost(alpha, beta, &x, &out);
                (lut * elements as f64, dsp * elements, registers)
            }
            _ if cycles == 0 => (0.0, 0, 0),
            other => (pointwise_cost(other, &x, &out) * elements as f64, 0, registers),
        };
        layers.push(LayerEstimate {
            name: node.name.clone(),
            kind: node.layer.qualified_kind(),
            shape: node.shape.extents(),
            reuse_factor: node.reuse_factor.max(1) as u64,
            strategy: "rtl".to_string(),
            latency_cycles: cycles,
            latency_ns: cycles as f64 * clock_ns,
            ii: if matches!(node.layer, Layer::Dense(_) | Layer::Conv(_)) {
                node.reuse_factor.max(1) as u64
            } else {
                1
            },
            dsp,
            lut: lut.round() as u64,
            ff,
            bram18: 0,
            uram: 0,
            calibrated: None,
        });
    }
    let latency = sched.latency;
    let sum = |f: fn(&LayerEstimate) -> u64| layers.iter().map(f).sum::<u64>();
    let total = Totals {
        latency_cycles: latency,
        latency_ns: latency as f64 * clock_ns,
        ii: sched.ii,
        dsp: sum(|l| l.dsp),
        lut: sum(|l| l.lut),
        ff: sum(|l| l.ff),
        bram18: 0,
        uram: 0,
    };
    Ok(Estimate::new(
        part,
        clock_ns,
        0.0,
        Default::default(),
        RTL_STAGE,
        total,
        layers,
        vec![
            "The RTL backend's own design: latency and II are exact (its schedule), LUTs and flip-flops come \
             from the shift-add cost model, constant products use no DSP, products of two signals use \
             the DSP48E2 slices Yosys maps them to."
                .to_string(),
        ],
    ))
}

/// The `stage` of an RTL estimate in `report.json`.
pub const RTL_STAGE: &str = "rtl-model";
