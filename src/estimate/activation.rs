//! Cost of [`ir::Layer::Activation`](crate::ir::Layer::Activation), per element of the tensor.
//!
//! * `linear`: the output cast only.
//! * `relu`: a sign test and a select, then the cast.
//! * `leaky_relu`/`prelu`: the slope product (a constant multiplication, see
//!   [`arith::const_mul`]: a slope of 1 makes the layer a cast, a slope of 0 a ReLU, a power of
//!   two a shift), a sign test and a select.
//! * `hard_sigmoid`: a constant product, an add and a clamp (two tests, two selects).
//! * `clip`: one test and one select per bound.
//! * `elu`/`selu`: the table read, a sign test and a select (SELU: also the scale product);
//! * `thresholded_relu`: a comparison with the threshold and a select;
//! * `hard_swish`: the hard sigmoid's product, add and clamp, then a product with variable
//!   operands;
//! * `sigmoid`/`tanh`/`softplus`/`softsign`: the cast of the input to the table index, then a ROM
//!   read per element;
//!   the ROM is stored as the design decided ([`crate::arch::hls::rom_storage`]): block RAM
//!   replicated once per two readers (dual-port), or LUTs per reader.

use super::arith::{self, add_delay, add_lut, cast, cmp_lut, lutrom_luts, sel_lut, MulImpl};
use super::pipeline::Stage;
use super::{Ctx, LayerCost};
use crate::arch::hls::{LayerDesign, Rom, Storage};
use crate::fixed::FixedType;
use crate::ir::{Activation, Shape, Table, Weights};

pub(super) fn cost(
    a: &Activation,
    x: &FixedType,
    out: &FixedType,
    shape: &Shape,
    design: &LayerDesign,
    cx: &Ctx,
) -> LayerCost {
    let k = &cx.k;
    let n = shape.elements() as u64;
    let nf = n as f64;
    let out_cast = cast(x, out, k);
    let in_bits = n * u64::from(x.width);
    let mut c = LayerCost::new(1);
    let test = |c: &mut LayerCost, tests: f64| {
        c.lut += nf * tests * (cmp_lut(x.width, k) + sel_lut(out.width));
        c.stages
            .push(Stage::Comb { ns: tests.min(1.0) * (k.delay.add_base + k.delay.mux), bits_in: in_bits });
    };
    match a {
        Activation::Linear => {}
        Activation::Relu => test(&mut c, 1.0),
        Activation::LeakyRelu { alpha } | Activation::PRelu { alpha } => {
            let muls = slope_products(alpha, x, shape, cx);
            let identity = muls.iter().all(|(m, one)| *one && matches!(m, MulImpl::Shift));
            if !identity {
                let mut delay: f64 = 0.0;
                for (m, _) in &muls {
                    c.dsp += m.dsp();
                    c.lut += m.lut(k);
                    delay = delay.max(m.delay(k));
                }
                c.stages.push(Stage::Comb { ns: delay, bits_in: in_bits });
                test(&mut c, 1.0);
            }
        }
        Activation::HardSigmoid { alpha, beta } => {
            let muls = slope_products(alpha, x, shape, cx);
            let mut delay: f64 = 0.0;
            for (m, _) in &muls {
                c.dsp += m.dsp();
                c.lut += m.lut(k);
                delay = delay.max(m.delay(k));
            }
            let has_beta = beta.values.iter().any(|&b| b != 0.0);
            if has_beta {
                c.lut += nf * add_lut(out.width + 1, k);
                delay += add_delay(out.width + 1, k);
            }
            c.stages.push(Stage::Comb { ns: delay, bits_in: in_bits });
            test(&mut c, 2.0);
        }
        Activation::Clip { min, max } => {
            let bounds = f64::from(u8::from(min.is_some()) + u8::from(max.is_some()));
            if bounds > 0.0 {
                test(&mut c, bounds);
            }
        }
        Activation::Sigmoid(t) | Activation::Tanh(t) | Activation::Softplus(t) | Activation::Softsign(t) => {
            table_lookups(&mut c, t, design.rom("table"), x, n, cx)
        }
        Activation::Elu(t) => {
            table_lookups(&mut c, t, design.rom("table"), x, n, cx);
            test(&mut c, 1.0);
        }
        Activation::Selu { scale, table } => {
            table_lookups(&mut c, table, design.rom("table"), x, n, cx);
            let mut delay: f64 = 0.0;
            for (m, _) in slope_products(scale, x, shape, cx) {
                c.dsp += m.dsp();
                c.lut += m.lut(k);
                delay = delay.max(m.delay(k));
            }
            c.stages.push(Stage::Comb { ns: delay, bits_in: in_bits });
            test(&mut c, 1.0);
        }
        Activation::ThresholdedRelu { .. } => test(&mut c, 1.0),
        Activation::HardSwish { alpha, beta } => {
            let mut delay: f64 = 0.0;
            for (m, _) in slope_products(alpha, x, shape, cx) {
                c.dsp += m.dsp();
                c.lut += m.lut(k);
                delay = delay.max(m.delay(k));
            }
            if beta.values.iter().any(|&b| b != 0.0) {
                c.lut += nf * add_lut(out.width + 1, k);
                delay += add_delay(out.width + 1, k);
            }
            c.stages.push(Stage::Comb { ns: delay, bits_in: in_bits });
            test(&mut c, 2.0);
            // The product of x by the clipped factor: variable operands.
            let h = crate::ir::Activation::hard_sigmoid_type(x, alpha, beta).unwrap_or(*x);
            let m = arith::var_mul(x.width, h.width, cx.part.dsp_kind, k);
            c.dsp += n * m.dsp();
            c.lut += nf * m.lut(k);
            c.stages.push(Stage::Comb { ns: m.delay(k), bits_in: in_bits });
        }
    }
    c.lut += nf * out_cast.lut;
    c.stages.push(Stage::Comb { ns: out_cast.delay, bits_in: n * u64::from(out.width) });
    c
}

/// Each element's slope product and whether its slope is exactly one.
fn slope_products(alpha: &Weights, x: &FixedType, shape: &Shape, cx: &Ctx) -> Vec<(MulImpl, bool)> {
    let ty = alpha.ty.unwrap_or(*x);
    (0..shape.elements())
        .map(|i| {
            let v = alpha.values.get(alpha.shape.broadcast_index(shape, i)).copied().unwrap_or(0.0);
            (arith::const_mul(x, arith::raw(v, &ty), cx.part.dsp_kind, &cx.k), v == 1.0)
        })
        .collect()
}

/// `n` parallel reads of table `t` (stored as `rom` says) indexed by `cast(x)`.
pub(super) fn table_lookups(
    c: &mut LayerCost,
    t: &Table,
    rom: Option<&Rom>,
    x: &FixedType,
    n: u64,
    cx: &Ctx,
) {
    let k = &cx.k;
    let index = cast(x, &t.index_ty, k);
    let depth = t.len() as u64;
    let width = u64::from(t.ty.width);
    c.lut += n as f64 * index.lut;
    c.stages.push(Stage::Comb { ns: index.delay, bits_in: n * u64::from(x.width) });
    match rom.map(|r| r.storage) {
        Some(Storage::Bram) => {
            c.bram18 += rom.map_or(0, Rom::bram18);
            c.lut += n as f64 * k.lut_per_bram_read;
            // The read registers its data in fabric, and its address too when it takes two cycles
            // (the sigmoid points: 1,047 FFs for 64 x 16-bit reads in Vivado HLS, 1,689 for 64 x
            // (16 + 10) bits in Vitis HLS).
            let reg = u64::from(t.ty.width)
                + u64::from(k.rom_read_cycles.saturating_sub(1)) * u64::from(t.index_ty.width);
            c.stages.push(Stage::Rom { cycles: k.rom_read_cycles, ff_bits: n * reg });
        }
        Some(Storage::Lutram | Storage::Constants) | None => {
            c.lut += n as f64 * lutrom_luts(depth, width);
            let levels = f64::from(arith::bit_len(depth.max(1))).div_euclid(6.0) + 1.0;
            c.stages.push(Stage::Comb { ns: levels * k.delay.mux, bits_in: n * u64::from(t.index_ty.width) });
        }
    }
}
