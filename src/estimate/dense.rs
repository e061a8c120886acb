//! Cost of [`ir::Layer::Dense`](crate::ir::Layer::Dense) in each strategy.
//!
//! **Latency strategy, reuse factor 1.** The emitted layer is fully unrolled with the weights as
//! constants, so every product is a constant multiplication ([`arith::const_mul`]): pruned and
//! power-of-two weights cost nothing, weights with few CSD digits become shift-and-add logic, the
//! rest take DSP slices. Each output sums its nonzero products and its nonzero bias in an adder
//! tree of accumulator-width adders (`terms - 1` adders, `ceil(log2 terms)` levels: the
//! accumulation wraps, so HLS may re-associate it), then casts to the output type. An output with
//! a single DSP product and a bias is one multiply-add that HLS maps into the DSP's post-adder
//! (UG1399, "DSP Multi-Operation Matching"): that adder costs no LUTs. Larger sums stay in LUTs
//! (the 16-bit MLP points cost ~20 csynth LUTs per product, its adder).
//!
//! **Latency strategy, reuse factor R > 1.** `ceil(nonzero / R)` multipliers are shared, each fed
//! through R-input multiplexers, so they see variable operands: a DSP unless both operands are
//! narrow. The adder tree is unchanged; the last products arrive `R - 1` cycles later; II = R.
//!
//! **Resource strategy.** `ceil(n_in * n_out / R)` multipliers (zeros included: the weights are
//! data) read their weights from a ROM reshaped to `R` words of `n_mult * weight_width` bits (block
//! RAM unless at most 4 words deep, the HLS auto-partition threshold of UG902/UG1399, where it is
//! registers and multiplexers). Products are accumulated into `n_out` accumulators over R cycles.
//! II = R, latency = R - 1 cycles of accumulation plus the datapath.

use super::arith::{self, add_delay, add_lut, cast, mux_lut, tree_depth, MulImpl};
use super::pipeline::Stage;
use super::{Ctx, LayerCost};
use crate::fixed::FixedType;
use crate::ir::{Dense, Strategy};

pub(super) fn cost(
    d: &Dense,
    x: &FixedType,
    out: &FixedType,
    reuse: usize,
    strategy: Strategy,
    cx: &Ctx,
) -> LayerCost {
    let k = &cx.k;
    let (n_in, n_out) = (d.n_in(), d.n_out());
    let wty = d.weights.ty.unwrap_or(*x);
    let acc = d.accum.unwrap_or(*out);
    let bty = d.bias.ty.unwrap_or(acc);
    let wa = acc.width;
    let bias_terms: Vec<u64> = d.bias.values.iter().map(|&b| u64::from(arith::raw(b, &bty) != 0)).collect();
    let mut terms = bias_terms.clone();
    for (i, &w) in d.weights.values.iter().enumerate() {
        if arith::raw(w, &wty) != 0 {
            if let Some(t) = terms.get_mut(i % n_out.max(1)) {
                *t += 1;
            }
        }
    }
    let nonzero: u64 = terms.iter().sum::<u64>() - bias_terms.iter().sum::<u64>();
    let adders: u64 = terms.iter().map(|t| t.saturating_sub(1)).sum();
    let depth = tree_depth(terms.iter().copied().max().unwrap_or(0));
    let out_cast = cast(&acc, out, k);
    let mut c = LayerCost::new(reuse as u64);
    c.lut += adders as f64 * add_lut(wa, k) + n_out as f64 * out_cast.lut;

    let tree = |c: &mut LayerCost, mut live: Vec<u64>| {
        for _ in 0..depth {
            let bits: u64 = live.iter().sum::<u64>() * u64::from(wa);
            c.stages.push(Stage::Comb { ns: add_delay(wa, k), bits_in: bits });
            live.iter_mut().for_each(|t| *t = t.div_ceil(2));
        }
        c.stages.push(Stage::Comb { ns: out_cast.delay, bits_in: n_out as u64 * u64::from(wa) });
    };
    let in_bits = n_in as u64 * u64::from(x.width);

    match strategy {
        Strategy::Latency if reuse <= 1 => {
            let mut mul_delay: f64 = 0.0;
            let mut single_dsp = vec![None; n_out];
            for (i, &w) in d.weights.values.iter().enumerate() {
                let m = arith::const_mul(x, arith::raw(w, &wty), cx.part.dsp_kind, k);
                c.dsp += m.dsp();
                c.lut += m.lut(k);
                mul_delay = mul_delay.max(m.delay(k));
                if m != MulImpl::Zero {
                    if let Some(s) = single_dsp.get_mut(i % n_out) {
                        *s = Some(s.is_none() && m.dsp() > 0);
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
        Strategy::Latency => {
            let r = reuse as u64;
            let n_mul = nonzero.div_ceil(r);
            let m = arith::var_mul(x.width, wty.width, cx.part.dsp_kind, k);
            c.dsp += n_mul * m.dsp();
            c.lut += n_mul as f64 * (m.lut(k) + mux_lut(x.width, r, k) + mux_lut(wty.width, r, k));
            let mux_delay = k.delay.mux * f64::from(tree_depth(r));
            c.stages.push(Stage::Comb { ns: mux_delay + m.delay(k), bits_in: in_bits });
            c.stages.push(Stage::Fixed { cycles: (r - 1) as u32, ff_bits: (r - 1) * n_mul * u64::from(wa) });
            tree(&mut c, terms);
        }
        Strategy::Resource => {
            let r = reuse as u64;
            let n_mul = ((n_in * n_out) as u64).div_ceil(r);
            let m = arith::var_mul(x.width, wty.width, cx.part.dsp_kind, k);
            c.dsp += n_mul * m.dsp();
            c.lut += n_mul as f64 * (m.lut(k) + mux_lut(x.width, r, k) + add_lut(wa, k));
            let rom_width = n_mul * u64::from(wty.width);
            let rom_read = if r <= 4 {
                c.lut += mux_lut(rom_width as u32, r, k);
                Stage::Comb { ns: k.delay.mux * f64::from(tree_depth(r)), bits_in: in_bits }
            } else {
                c.bram18 += arith::bram18_for(r, rom_width);
                Stage::Fixed { cycles: k.rom_read_cycles, ff_bits: 0 }
            };
            let per_cycle = (n_in as u64).div_ceil(r).max(1) + 1;
            c.stages.push(Stage::Fixed {
                cycles: (r - 1) as u32,
                ff_bits: n_out as u64 * u64::from(wa) + in_bits,
            });
            c.stages.push(rom_read);
            c.stages.push(Stage::Comb { ns: m.delay(k), bits_in: in_bits });
            let live = vec![per_cycle; n_out];
            for level in 0..tree_depth(per_cycle) {
                let bits = live.iter().map(|t| t.div_ceil(1 << level)).sum::<u64>() * u64::from(wa);
                c.stages.push(Stage::Comb { ns: add_delay(wa, k), bits_in: bits });
            }
            c.stages.push(Stage::Comb { ns: out_cast.delay, bits_in: n_out as u64 * u64::from(wa) });
        }
    }
    c
}
