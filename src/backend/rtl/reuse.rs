//! `Dense` and `Conv` with reuse factor `R > 1`: time-multiplexed multipliers, one `1/R` share of
//! the products per cycle, initiation interval `R`, bit-exact with the fully parallel form.
//!
//! The layer is one or more constant matrices over elements of its input: a `Dense` one matrix
//! over its `n_in` inputs; a `Conv` one per output position and group, over its window (the
//! contract's order, tap major, then the group's channels: `n_in` = taps x channels per group),
//! where a tap in the padding is a zero input whose weights count as zero. The reuse factor divides
//! `n_in` (the rule the passes apply for every backend, `ir::Work::check_reuse_factor`), so each
//! matrix's inputs split into `G = n_in / R` slots of `R` consecutive inputs: slot `k` holds inputs
//! `kR .. kR + R - 1`. In phase `r` (`0 <= r < R`) of a sample, slot `k` presents input `kR + r`
//! on its select wire (an `R`-to-1 multiplexer indexed by the phase counter, shared by every output
//! of the matrix and by any other matrix with the same slot), and each of the `G * n_out`
//! multipliers `(k, j)` multiplies it by its weight for that phase, a constant chosen by the
//! same counter (a small ROM per multiplier: conditionals on the phase, which synthesis turns
//! into about one LUT per weight bit). A multiplier whose `R` weights are all zero (pruned) is not built.
//! The weights vary from cycle to cycle, so the products are general products of two signals
//! (Verilog `*`), not the shift-and-add constant products of the fully parallel form: Yosys maps
//! each to a DSP48E2 slice or, when small, to LUTs; sharing one general multiplier between `R`
//! weights is what saves area at `R > 1` (a shift-and-add form would need all `R` constant
//! products and a selection after them).
//!
//! Each output `j` has an accumulator register. In phase 0 it loads `b_j` plus that phase's
//! products; in the next phases it adds its phase's products to itself. Its width is that of the
//! exact range of every partial sum (the bias plus the first `r + 1` phases' products, over the
//! input ranges), so it never rounds, saturates or wraps: after phase `R - 1` the sum is the
//! exact sum of the fully parallel form, and the same cast ([`super::dense::Prepared`]: the
//! accumulator type, `AP_RND` folded into the bias) gives bit for bit the same output.
//!
//! Timing, with `start` high in the sample's first cycle `s` (the cycle its input bus is valid):
//! phase `r` runs in cycle `s + r`. Phase 0 reads the input bus directly; the inputs of later
//! phases are held from cycle `s` in registers loaded on `start`. The phase counter is 0 when
//! idle, and counts `1 .. R - 1` after `start`. The output register loads the cast of the final
//! sum at the end of phase `R - 1` and holds it: the output is valid from cycle `s + R`, so the
//! layer takes `R` cycles ([`crate::arch::rtl`]) and can take a new sample every `R` cycles.
//! `--pipeline-stages` does not apply to these layers: each phase is one register stage.
//!
//! The pieces ([`blocks`], [`Spec`], [`phase_counter`], [`hold`], [`datapath`]) build that
//! datapath inside any module: [`module`] makes the fully parallel design's layer module of them,
//! and the streaming processes (`stream/process.rs`) start the same datapath with their issue,
//! a convolution's later phases reading its line buffer instead of hold registers.

use std::collections::BTreeMap;

use super::dense::{prepare, ConstMatrix};
use super::netlist::{literal, width, Module, Val};
use super::pointwise::raws;
use super::{header, Tensor};
use crate::backend::namer::describe;
use crate::backend::BackendError;
use crate::fixed::FixedType;
use crate::ir::window::{Window, PAD};
use crate::ir::{Layer, LoweredGraph, NodeId, Shape};

/// One constant matrix of a layer: its inputs (an element of the layer's input, or `None` for a
/// zero), row-major `[n_in, n_out]` weights and `n_out` biases (raw, at the layer's scales).
pub(super) struct Block {
    inputs: Vec<Option<usize>>,
    weights: Vec<i128>,
    bias: Vec<i128>,
}

/// The matrices of `Dense` or `Conv` layer `layer` (named `name`) from an input of shape `x`
/// held in `n_x` elements to an output of shape `y`, in output order.
pub(super) fn blocks(
    name: &str,
    layer: &Layer,
    x: &Shape,
    y: &Shape,
    n_x: usize,
) -> Result<Vec<Block>, BackendError> {
    let misfit = || BackendError::layer(name, "the input, weights and output shapes do not fit together");
    match layer {
        Layer::Dense(d) => {
            let (weights, _) = raws(name, "weights", &d.weights)?;
            let (bias, _) = raws(name, "bias", &d.bias)?;
            let (n_in, n_out) = (d.n_in(), d.n_out());
            if weights.len() != n_in * n_out || bias.len() != n_out || n_x != n_in {
                return Err(BackendError::layer(name, "weight, bias and input sizes do not match"));
            }
            Ok(vec![Block { inputs: (0..n_in).map(Some).collect(), weights, bias }])
        }
        Layer::Conv(conv) => {
            let window = Window::of_conv(conv, x, y).ok_or_else(misfit)?;
            let table = window.table().ok_or_else(misfit)?;
            let (taps, positions) = (window.taps(), window.positions());
            let (c_in, c_g, filters, groups) =
                (x.channels(), conv.group_channels(), conv.filters(), conv.groups);
            if groups == 0
                || filters % groups != 0
                || c_in != c_g * groups
                || y.channels() != filters
                || n_x != x.elements()
            {
                return Err(misfit());
            }
            let f_g = filters / groups;
            let (w, _) = raws(name, "weights", &conv.weights)?;
            let (b, _) = raws(name, "bias", &conv.bias)?;
            if w.len() != taps * c_g * filters || b.len() != filters {
                return Err(misfit());
            }
            let mut out = Vec::with_capacity(positions * groups);
            for pos in 0..positions {
                for g in 0..groups {
                    let cols = g * f_g..(g + 1) * f_g;
                    let mut inputs = Vec::with_capacity(taps * c_g);
                    let mut weights = Vec::with_capacity(taps * c_g * f_g);
                    for (t, &i) in table[pos * taps..(pos + 1) * taps].iter().enumerate() {
                        for c in 0..c_g {
                            let row = (t * c_g + c) * filters;
                            if i == PAD {
                                inputs.push(None);
                                weights.resize(weights.len() + f_g, 0);
                            } else {
                                inputs.push(Some(i as usize * c_in + g * c_g + c));
                                weights.extend_from_slice(&w[row + cols.start..row + cols.end]);
                            }
                        }
                    }
                    out.push(Block { inputs, weights, bias: b[cols].to_vec() });
                }
            }
            Ok(out)
        }
        _ => Err(BackendError::layer(name, "a reuse factor above 1 is built for dense and conv layers only")),
    }
}

/// What the datapath of a time-multiplexed layer needs besides its matrices: the reuse factor,
/// the scales of its weights, biases and inputs, its accumulator and output types.
pub(super) struct Spec<'a> {
    name: &'a str,
    r: usize,
    accum: FixedType,
    fw: i64,
    fb: i64,
    x_ty: FixedType,
    out: FixedType,
}

impl<'a> Spec<'a> {
    /// The spec of `Dense` or `Conv` layer `layer` named `name` at reuse factor `r` on inputs of
    /// type `x_ty`, checking that `r` is above 1 and divides the inputs of each of `blocks`.
    pub(super) fn of(
        name: &'a str,
        layer: &Layer,
        r: usize,
        x_ty: FixedType,
        out: FixedType,
        blocks: &[Block],
    ) -> Result<Spec<'a>, BackendError> {
        let (accum, fw, fb) = match layer {
            Layer::Dense(d) => (d.accum, &d.weights, &d.bias),
            Layer::Conv(c) => (c.accum, &c.weights, &c.bias),
            _ => {
                return Err(BackendError::layer(
                    name,
                    "a reuse factor above 1 is built for dense and conv layers only",
                ))
            }
        };
        let (_, fw) = raws(name, "weights", fw)?;
        let (_, fb) = raws(name, "bias", fb)?;
        let n_in = blocks.first().map_or(0, |b| b.inputs.len());
        if r < 2 || !n_in.is_multiple_of(r) {
            return Err(BackendError::layer(
                name,
                format!("reuse factor {r} must be above 1 and divide the layer's {n_in} inputs"),
            ));
        }
        let accum = accum.ok_or_else(|| BackendError::layer(name, "the accumulator type is unknown"))?;
        Ok(Spec { name, r, accum, fw, fb, x_ty, out })
    }
}

/// Text this file emits outside [`Module::body`]: declarations of the registers it writes
/// itself (to precede every use) and the always blocks that load them.
#[derive(Debug, Default)]
pub(super) struct Regs {
    pub decls: String,
    pub always: String,
}

/// `(ph__ == k)`: the phase counter of a layer at reuse factor `r` is in phase `k`.
fn phase(r: usize, k: usize) -> String {
    format!("(ph__ == {})", literal(width(0, r as i128 - 1), k as i128))
}

/// `(ph__ == 0)`: the phase counter of a layer at reuse factor `r` is idle (or starting).
pub(super) fn idle(r: usize) -> String {
    phase(r, 0)
}

/// The phase counter `ph__` of a layer at reuse factor `r`: 0 when idle and in the cycle where
/// `start` (a one-bit expression) is high, then `1 .. r - 1` in the following cycles.
pub(super) fn phase_counter(m: &mut Module, t: &mut Regs, r: usize, start: &str) {
    let pw = width(0, r as i128 - 1);
    let ph = declare(m, &mut t.decls, "ph__", 0, r as i128 - 1, 0, pw);
    t.always.push_str(&format!(
        "    always @(posedge ap_clk) begin\n        if (ap_rst) begin\n            ph__ <= {zero};\n        end else if ({start}) begin\n            ph__ <= {one};\n        end else if (ph__ != {zero} && !{last}) begin\n            ph__ <= ph__ + {one};\n        end else begin\n            ph__ <= {zero};\n        end\n    end\n",
        zero = literal(pw, 0),
        one = literal(pw, 1),
        last = phase(r, r - 1),
    ));
    m.use_all(&ph);
}

/// Which of the `n_x` input elements the matrices read in a phase after the first.
pub(super) fn later_inputs(blocks: &[Block], r: usize, n_x: usize) -> Vec<bool> {
    let mut later = vec![false; n_x];
    for b in blocks {
        for (k, i) in b.inputs.iter().enumerate() {
            if let (Some(i), true) = (i, k % r != 0) {
                later[*i] = true;
            }
        }
    }
    later
}

/// Registers `hold__i` holding input `xs[i]` for each `needed[i]`, loaded when `start` is high.
pub(super) fn hold(
    m: &mut Module,
    t: &mut Regs,
    xs: &[Val],
    needed: &[bool],
    start: &str,
) -> Vec<Option<Val>> {
    let mut held: Vec<Option<Val>> = vec![None; xs.len()];
    let mut loads = String::new();
    for (i, xi) in xs.iter().enumerate() {
        if !needed.get(i).copied().unwrap_or(false) {
            continue;
        }
        let h = declare(m, &mut t.decls, &format!("hold__{i}"), xi.lo, xi.hi, 0, xi.w);
        loads.push_str(&format!("        {} <= {};\n", h.name, m.use_all(xi)));
        held[i] = Some(h);
    }
    t.always.push_str(&format!("    always @(posedge ap_clk) if ({start}) begin\n{loads}    end\n"));
    held
}

/// The time-multiplexed datapath of `blocks` (see the module header), run by the phase counter
/// ([`phase_counter`]): input element `i` (of range `ranges[i]`) is `first[i]` in phase 0 and
/// `later[i]` in the other phases. Returns the output registers, in block order, each loaded
/// with the cast of its exact sum at the end of phase `R - 1` and held until then.
pub(super) fn datapath(
    m: &mut Module,
    t: &mut Regs,
    s: &Spec,
    blocks: &[Block],
    first: &[Val],
    later: &[Option<Val>],
    ranges: &[(i128, i128)],
) -> Result<Vec<Val>, BackendError> {
    let (name, r, out) = (s.name, s.r, &s.out);
    let w = s.x_ty.width;
    let fx = i64::from(s.x_ty.frac_bits());
    let n_in = blocks.first().map_or(0, |b| b.inputs.len());
    let zero = Val { name: literal(w, 0), w, lo: 0, hi: 0, sh: 0 };
    let phase = |k: usize| phase(r, k);
    let mut selects: BTreeMap<Vec<Option<usize>>, Val> = BTreeMap::new();
    let mut outs = Vec::new();
    let mut out_regs = String::new();
    for b in blocks {
        if b.inputs.len() != n_in || b.inputs.iter().flatten().any(|&i| i >= first.len().min(ranges.len())) {
            return Err(BackendError::layer(name, "a matrix reads an input the layer does not have"));
        }
        let ranges: Vec<(i128, i128)> = b.inputs.iter().map(|i| i.map_or((0, 0), |i| ranges[i])).collect();
        let c = ConstMatrix {
            layer: name,
            weights: &b.weights,
            fw: s.fw,
            bias: &b.bias,
            fb: s.fb,
            accum: s.accum,
        };
        let p = prepare(&c, &ranges, fx, out)?;
        let n_out = b.bias.len();

        // Slot k's input in the current phase.
        let slots = n_in / r;
        let mut sel = Vec::with_capacity(slots);
        for k in 0..slots {
            let key = b.inputs[k * r..(k + 1) * r].to_vec();
            if let Some(s) = selects.get(&key) {
                sel.push(s.clone());
                continue;
            }
            let mut members: Vec<&Val> = Vec::with_capacity(r);
            for q in 0..r {
                members.push(match b.inputs[k * r + q] {
                    None => &zero,
                    Some(i) if q == 0 => &first[i],
                    Some(i) => later.get(i).and_then(Option::as_ref).ok_or_else(|| {
                        BackendError::layer(name, "an input read after the first phase is not held")
                    })?,
                });
            }
            let lo = members.iter().map(|v| v.lo).min().unwrap_or(0);
            let hi = members.iter().map(|v| v.hi).max().unwrap_or(0);
            let expr = choose(&phase, &members.iter().map(|v| v.name.clone()).collect::<Vec<_>>());
            let s = m.wire("sel", lo, hi, 0, Some(w), &expr);
            selects.insert(key, s.clone());
            sel.push(s);
        }

        for j in 0..n_out {
            let o = outs.len();
            let coef = |i: usize| p.coefs[i * n_out + j];
            // This output's products in the current phase, one per slot with a nonzero weight.
            let mut products = Vec::new();
            for (k, s) in sel.iter().enumerate() {
                let col: Vec<i128> = (0..r).map(|q| coef(k * r + q)).collect();
                let Some(t) = col.iter().filter(|&&c| c != 0).map(|c| c.trailing_zeros()).min() else {
                    continue;
                };
                let entries: Vec<i128> = col.iter().map(|&c| c >> t).collect();
                let (lo, hi) = (*entries.iter().min().unwrap_or(&0), *entries.iter().max().unwrap_or(&0));
                let ew = width(lo, hi);
                let lits: Vec<String> = entries.iter().map(|&e| literal(ew, e)).collect();
                let rom = m.wire("w", lo, hi, t, None, &choose(&phase, &lits));
                products.push(m.mul(s, &rom, None));
            }
            let bj = p.biases[j];
            // Exact range of the accumulator: the bias, then each prefix of phases.
            let (mut acc_lo, mut acc_hi) = (bj, bj);
            let (mut lo, mut hi) = (bj, bj);
            for q in 0..r {
                for k in 0..slots {
                    let i = k * r + q;
                    let (xlo, xhi) = ranges[i];
                    let (a, b) = (coef(i) * xlo, coef(i) * xhi);
                    lo += a.min(b);
                    hi += a.max(b);
                }
                acc_lo = acc_lo.min(lo);
                acc_hi = acc_hi.max(hi);
            }
            let sum = match tree(m, products) {
                None => m.constant(bj),
                Some(part) => {
                    let s = p
                        .coefs
                        .iter()
                        .skip(j)
                        .step_by(n_out)
                        .chain(std::iter::once(&bj))
                        .filter(|&&c| c != 0)
                        .map(|c| c.trailing_zeros())
                        .min()
                        .unwrap_or(0)
                        .min(part.sh);
                    let (ulo, uhi) = (acc_lo >> s, acc_hi >> s);
                    let aw = width(ulo, uhi);
                    let acc = declare(m, &mut t.decls, &format!("acc__{o}"), ulo, uhi, s, aw);
                    let restart = format!("{} ? {} : {}", phase(0), literal(aw, bj >> s), acc.name);
                    let base = m.wire("b", ulo, uhi, s, Some(aw), &restart);
                    let mut next = m.add(&base, &part, false, Some((ulo, uhi)));
                    if next.w != aw || next.sh != s {
                        let bits = m.fit(&next, s, aw);
                        next = m.wire("a", ulo, uhi, s, Some(aw), &bits);
                    }
                    t.always.push_str(&format!(
                        "    always @(posedge ap_clk) {} <= {};\n",
                        acc.name,
                        m.use_all(&next)
                    ));
                    next
                }
            };
            let y = p.cast_out(m, &sum, out);
            if y.w != out.width {
                return Err(BackendError::layer(name, "the output cast has an unexpected width"));
            }
            let reg = declare(m, &mut t.decls, &format!("out__{o}"), y.lo, y.hi, y.sh, y.w);
            out_regs.push_str(&format!("        {} <= {};\n", reg.name, m.use_all(&y)));
            outs.push(reg);
        }
    }
    t.always
        .push_str(&format!("    always @(posedge ap_clk) if ({}) begin\n{out_regs}    end\n", phase(r - 1)));
    Ok(outs)
}

/// The module of `Dense` or `Conv` layer `id` (reuse factor above 1) named `module`, on input
/// tensor `x`: ports `ap_clk`, `ap_rst`, `start`, `x`, `y`. Returns its text and the ranges of its
/// outputs.
pub fn module(
    g: &LoweredGraph,
    id: NodeId,
    module: &str,
    x: &Tensor,
) -> Result<(String, Vec<(i128, i128)>), BackendError> {
    let node = g.node(id);
    let name = node.name.as_str();
    let r = node.reuse_factor;
    let out = node.out_ty()?;
    let n_x = x.ranges.len();
    let misfit = || BackendError::layer(name, "the input, weights and output shapes do not fit together");
    let x_shape = &g.node(*g.inputs_of(id).first().ok_or_else(misfit)?).shape;
    let blocks = blocks(name, &node.layer, x_shape, &node.shape, n_x)?;
    let spec = Spec::of(name, &node.layer, r, x.ty, out, &blocks)?;

    let mut m = Module::new();
    let w = x.ty.width;
    let bits = n_x as u32 * w;
    m.track("x", bits);
    let xs: Vec<Val> = x
        .ranges
        .iter()
        .enumerate()
        .map(|(e, &(lo, hi))| {
            let slice = m.slice_of("x", bits, (e as u32 + 1) * w - 1, e as u32 * w);
            m.wire("x", lo, hi, 0, Some(w), &slice)
        })
        .collect();

    let mut t = Regs::default();
    phase_counter(&mut m, &mut t, r, "start");
    // Inputs read in phases 1 .. R - 1, held from the sample's first cycle.
    let held = hold(&mut m, &mut t, &xs, &later_inputs(&blocks, r, n_x), "start");
    let outs = datapath(&mut m, &mut t, &spec, &blocks, &xs, &held, &x.ranges)?;

    let parts: Vec<String> = outs.iter().rev().map(|y| m.use_all(y)).collect();
    let out_bits = outs.len() as u32 * out.width;
    let mut text = header(
        module,
        &format!(
            "{} layer {}, reuse factor {r} (a new sample every {r} cycles)",
            node.layer.kind(),
            describe(name)
        ),
    );
    text.push_str(&format!(
        "module {module} (\n    input wire ap_clk,\n    input wire ap_rst,\n    input wire start,\n    input wire [{}:0] x,\n    output wire [{}:0] y\n);\n",
        bits - 1,
        out_bits - 1
    ));
    text.push_str(&t.decls);
    text.push_str(&m.body());
    text.push_str(&t.always);
    text.push_str(&format!("    assign y = {{{}}};\nendmodule\n`default_nettype wire\n", parts.join(", ")));
    Ok((text, outs.iter().map(Val::range).collect()))
}

/// Declares register `name` of `w` bits for a value in `[lo, hi]` (units `2^sh`) and tracks it.
fn declare(m: &mut Module, regs: &mut String, name: &str, lo: i128, hi: i128, sh: u32, w: u32) -> Val {
    regs.push_str(&format!("    reg [{}:0] {name};\n", w - 1));
    m.track(name, w);
    Val { name: name.to_string(), w, lo, hi, sh }
}

/// `options[phase]` as nested conditionals on the phase (the last one is the default).
fn choose(phase: &dyn Fn(usize) -> String, options: &[String]) -> String {
    if options.iter().all(|o| *o == options[0]) {
        return options[0].clone();
    }
    let mut expr = options[options.len() - 1].clone();
    for (q, o) in options.iter().enumerate().rev().skip(1) {
        expr = format!("{} ? {o} : {expr}", phase(q));
    }
    expr
}

/// The sum of `vals` as a balanced adder tree, or `None` for no values.
fn tree(m: &mut Module, mut vals: Vec<Val>) -> Option<Val> {
    while vals.len() > 1 {
        let mut next = Vec::with_capacity(vals.len().div_ceil(2));
        for pair in vals.chunks(2) {
            next.push(if pair.len() == 2 { m.add(&pair[0], &pair[1], false, None) } else { pair[0].clone() });
        }
        vals = next;
    }
    vals.pop()
}
