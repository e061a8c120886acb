//! Cost of [`ir::Layer::Dense`](crate::ir::Layer::Dense) for each kernel of [`crate::arch::hls`].
//!
//! **Reuse factor 1** ([`Kernel::Unrolled`]). The emitted layer is fully unrolled with the weights as
//! constants, so every product is a constant multiplication ([`arith::const_mul`]): pruned and
//! power-of-two weights cost nothing, weights with few CSD digits become shift-and-add logic, the
//! rest take DSP slices. Each output sums its nonzero products and its nonzero bias in an adder
//! tree of accumulator-width adders (`terms - 1` adders, `ceil(log2 terms)` levels: the
//! accumulation wraps, so HLS may re-associate it), then casts to the output type. An output with
//! a single DSP product and a bias is one multiply-add that HLS maps into the DSP's post-adder
//! (UG1399, "DSP Multi-Operation Matching"): that adder costs no LUTs. Larger sums stay in LUTs
//! (the 16-bit MLP points cost ~20 csynth LUTs per product, its adder).
//!
//! Both strategies build this at reuse factor 1.
//!
//! **Reuse factor R > 1** ([`Kernel::Multiplexed`], see [`crate::arch::hls`]): `n_out · K`
//! multipliers (`K = n_in / R`) with variable operands (a DSP unless both are narrow), each
//! product cast to the accumulator, `K` adders per output (the tree over the `K` products and the
//! running sum), `K` input lanes of `R`:1 multiplexers shared by all outputs, `n_out` accumulator
//! registers. The weights are `R` words of `n_out · K` weights: constant multiplexers in LUTs for
//! the Latency strategy (a slot whose `R` weights are all zero multiplies by a constant zero and
//! costs nothing), the ROM the design chose for the Resource strategy (LUTRAM: one LUT per bit per
//! 64 words; block RAM: [`Rom::bram18`], read in `rom_read_cycles`). Latency: `R - 1` steps plus
//! the step's datapath; II = R.

use super::arith::{self, add_delay, add_lut, cast, lutrom_luts, mux_lut, sel_lut, tree_depth, MulImpl};
use super::pipeline::Stage;
use super::{Ctx, LayerCost};
use crate::arch::hls::{Kernel, LayerDesign, Rom, Storage};
use crate::fixed::{FixedType, Raws};
use crate::ir::Dense;

pub(super) fn cost(d: &Dense, x: &FixedType, out: &FixedType, design: &LayerDesign, cx: &Ctx) -> LayerCost {
    let k = &cx.k;
    let (n_in, n_out) = (d.n_in(), d.n_out());
    let wty = d.weights.ty.unwrap_or(*x);
    let acc = d.accum.unwrap_or(*out);
    let bty = d.bias.ty.unwrap_or(acc);
    let wa = acc.width;
    let bias_raws = Raws::new(&bty);
    let bias_terms: Vec<u64> = d.bias.values.iter().map(|&b| u64::from(bias_raws.rounded(b) != 0)).collect();
    let mut terms = bias_terms.clone();
    let weight_raws = Raws::new(&wty);
    for (i, &w) in d.weights.values.iter().enumerate() {
        if weight_raws.rounded(w) != 0 {
            if let Some(t) = terms.get_mut(i % n_out.max(1)) {
                *t += 1;
            }
        }
    }
    let adders: u64 = terms.iter().map(|t| t.saturating_sub(1)).sum();
    let depth = tree_depth(terms.iter().copied().max().unwrap_or(0));
    let out_cast = cast(&acc, out, k);
    let mut c = LayerCost::new(design.ii() as u64);
    c.lut += n_out as f64 * out_cast.lut;

    let tree = |c: &mut LayerCost, mut live: Vec<u64>| {
        for _ in 0..depth {
            let bits: u64 = live.iter().sum::<u64>() * u64::from(wa);
            c.stages.push(Stage::Comb { ns: add_delay(wa, k), bits_in: bits });
            live.iter_mut().for_each(|t| *t = t.div_ceil(2));
        }
        c.stages.push(Stage::Comb { ns: out_cast.delay, bits_in: n_out as u64 * u64::from(wa) });
    };
    let in_bits = n_in as u64 * u64::from(x.width);

    match design.kernel {
        // A dense layer never slides; the unrolled cost stands in.
        Kernel::Unrolled | Kernel::Sliding { .. } => {
            c.lut += adders as f64 * add_lut(wa, k);
            let mut mul_delay: f64 = 0.0;
            let mut single_dsp = vec![None; n_out];
            let mut products = Products::new(x, &wty, cx);
            for (i, &w) in d.weights.values.iter().enumerate() {
                let m = products.of(w);
                c.dsp += m.dsp;
                if m.dsp > 0 {
                    c.dsp_in_fabric_lut += m.in_fabric_lut;
                }
                c.lut += m.lut;
                mul_delay = mul_delay.max(m.delay);
                if !m.zero {
                    if let Some(s) = single_dsp.get_mut(i % n_out) {
                        *s = Some(s.is_none() && m.dsp > 0);
                    }
                }
            }
            // A lone DSP product plus a bias is one multiply-add: the DSP's post-adder does it.
            let absorbed =
                single_dsp.iter().zip(&bias_terms).filter(|(s, &b)| **s == Some(true) && b == 1).count();
            c.lut -= absorbed as f64 * add_lut(wa, k);
            c.stages.push(Stage::Comb { ns: mul_delay, bits_in: in_bits });
            tree(&mut c, terms);
        }
        Kernel::Multiplexed { reuse, per_cycle } => {
            multiplexed(&mut c, d, x, &wty, &acc, reuse, per_cycle, design.rom("weights"), cx);
            c.stages.push(Stage::Comb { ns: out_cast.delay, bits_in: n_out as u64 * u64::from(wa) });
        }
    }
    c
}

/// The cost figures of one constant product ([`arith::const_mul`]).
#[derive(Debug, Clone, Copy)]
struct Product {
    zero: bool,
    dsp: u64,
    lut: f64,
    delay: f64,
    /// Its LUTs when built in fabric ([`arith::const_mul_in_fabric`]), for DSP products.
    in_fabric_lut: f64,
}

/// The products of an input of type `x` by weights of type `w`, each distinct raw weight costed
/// once: weights of at most 16 bits are looked up by raw value.
struct Products<'a> {
    x: &'a FixedType,
    w: &'a FixedType,
    cx: &'a Ctx<'a>,
    raws: Raws,
    seen: Vec<Option<Product>>,
}

impl<'a> Products<'a> {
    const TABLE_BITS: u32 = 16;

    fn new(x: &'a FixedType, w: &'a FixedType, cx: &'a Ctx<'a>) -> Self {
        let size = if w.width <= Self::TABLE_BITS { 1 << w.width } else { 0 };
        Products { x, w, cx, raws: Raws::new(w), seen: vec![None; size] }
    }

    fn of(&mut self, value: f64) -> Product {
        let raw = self.raws.rounded(value);
        let lowest = if self.w.signed { -(self.seen.len() as i64 / 2) } else { 0 };
        let slot = usize::try_from(raw - lowest).ok().filter(|&s| s < self.seen.len());
        if let Some(p) = slot.and_then(|s| self.seen[s]) {
            return p;
        }
        let k = &self.cx.k;
        let m = arith::const_mul(self.x, raw, self.cx.part.dsp_kind, k);
        let in_fabric_lut = if m.dsp() > 0 { arith::const_mul_in_fabric(self.x, raw).lut(k) } else { 0.0 };
        let p = Product {
            zero: m == MulImpl::Zero,
            dsp: m.dsp(),
            lut: m.lut(k),
            delay: m.delay(k),
            in_fabric_lut,
        };
        if let Some(s) = slot {
            self.seen[s] = Some(p);
        }
        p
    }
}

/// The step datapath of a multiplexed dense layer and its resources (without the output cast).
#[allow(clippy::too_many_arguments)]
fn multiplexed(
    c: &mut LayerCost,
    d: &Dense,
    x: &FixedType,
    wty: &FixedType,
    acc: &FixedType,
    reuse: usize,
    per_cycle: usize,
    rom: Option<&Rom>,
    cx: &Ctx,
) {
    let k = &cx.k;
    let n_out = d.n_out();
    let (r, kq) = (reuse as u64, per_cycle as u64);
    let wa = acc.width;
    let slots = n_out as u64 * kq;
    let raws = Raws::new(wty);
    let live = match rom {
        Some(_) => slots,
        None => (0..n_out)
            .flat_map(|j| (0..per_cycle).map(move |q| (j, q)))
            .filter(|&(j, q)| {
                (0..reuse).any(|s| raws.rounded(d.weights.values[(q * reuse + s) * n_out + j]) != 0)
            })
            .count() as u64,
    };
    let m = arith::var_mul(x.width, wty.width, cx.part.dsp_kind, k);
    let product = cast(&x.exact_mul_type(wty), acc, k);
    c.dsp += live * m.dsp();
    c.lut += live as f64 * (m.lut(k) + product.lut);
    c.lut += kq as f64 * mux_lut(x.width, r, k);
    c.lut += n_out as f64 * (kq as f64 * add_lut(wa, k) + sel_lut(wa));
    let storage = rom.map_or(Storage::Constants, |rom| rom.storage);
    let in_bits = d.n_in() as u64 * u64::from(x.width);
    let x_mux = k.delay.mux * f64::from(tree_depth(r));
    c.stages.push(Stage::Fixed { cycles: (r - 1) as u32, ff_bits: n_out as u64 * u64::from(wa) });
    let operands = match storage {
        Storage::Constants | Storage::Lutram => {
            c.lut += lutrom_luts(r, slots * u64::from(wty.width));
            x_mux.max(k.delay.mux * f64::from(tree_depth(r).div_ceil(6).max(1)))
        }
        Storage::Bram => {
            c.bram18 += rom.map_or(0, Rom::bram18);
            c.stages.push(Stage::Fixed { cycles: k.rom_read_cycles, ff_bits: 0 });
            0.0
        }
    };
    c.stages.push(Stage::Comb { ns: operands + m.delay(k) + product.delay, bits_in: in_bits });
    for level in 0..tree_depth(kq + 1) {
        let live_terms: u64 = (kq + 1).div_ceil(1 << level);
        c.stages
            .push(Stage::Comb { ns: add_delay(wa, k), bits_in: n_out as u64 * live_terms * u64::from(wa) });
    }
}
