//! `Activation` as pointwise logic: each element's exact intermediate `t`, then the output cast
//! and a register ([`finish`]).
//!
//! * `Linear`: `t = x`; `Relu`: `t = x < 0 ? 0 : x` (the sign bit selects);
//! * `LeakyRelu`/`PRelu`: `t = x < 0 ? alpha * x : x`, the product by shift-and-add;
//! * `Clip`: comparisons with the constant bounds; `HardSigmoid`: `alpha * x + beta` clamped
//!   to `[0, 1]`;
//! * `ThresholdedRelu`: `t = x` when `x > theta` (compared at `max(F_x, F_theta)`), else 0;
//! * `HardSwish`: `t = x * h`, `h` the `HardSigmoid` clip, a product of two signals;
//! * `Sigmoid`/`Tanh`/`Softplus`/`Softsign`: the index cast (the table's index type and modes),
//!   then a ROM holding every table entry already cast to the output type, as the simulator
//!   computes it;
//! * `Elu`/`Selu`: the sign of `x` selects the ROM's entry (`x < 0`) or the cast of `scale * x`
//!   (`scale` 1 for ELU; the constant product by shift-and-add).

use super::cast::cast;
use super::netlist::{literal, Module, Val};
use super::pointwise::{constants, finish, per_element, shl, times, Exact, Site};
use crate::backend::BackendError;
use crate::fixed::{self, FixedType};
use crate::ir::{Activation, Table, Weights};

/// Builds every element of an activation layer: its output values, registered.
pub fn build(
    m: &mut Module,
    at: &Site,
    a: &Activation,
    xs: &[Val],
    fx: i64,
    out: &FixedType,
) -> Result<Vec<Val>, BackendError> {
    match a {
        Activation::Sigmoid(t) | Activation::Tanh(t) | Activation::Softplus(t) | Activation::Softsign(t) => {
            let f = rom(m, at.layer, "lut", t, out)?;
            Ok(xs
                .iter()
                .map(|x| {
                    let y = lookup(m, &f, t, x, fx, out);
                    m.reg(&y)
                })
                .collect())
        }
        Activation::Elu(t) | Activation::Selu { table: t, .. } => {
            let (scale, fs) = match a {
                Activation::Selu { scale, .. } => {
                    let (v, fs) = constants(at.layer, "scale", scale)?;
                    (v[0], fs)
                }
                _ => (1, 0),
            };
            let f = rom(m, at.layer, "lut", t, out)?;
            Ok(xs
                .iter()
                .map(|x| {
                    let (lo, hi) = x.range();
                    let neg = (lo < 0).then(|| lookup(m, &f, t, x, fx, out));
                    let pos = (hi >= 0).then(|| {
                        let p = times(m, x, scale);
                        cast(m, &p, fx + fs, out)
                    });
                    let y = match (neg, pos) {
                        (Some(n), Some(p)) => {
                            let sign = m.sign(x);
                            let (nl, nh) = n.range();
                            let (pl, ph) = p.range();
                            m.mux(&sign, &n, &p, nl.min(pl), nh.max(ph))
                        }
                        (Some(y), None) | (None, Some(y)) => y,
                        (None, None) => m.constant(0),
                    };
                    m.reg(&y)
                })
                .collect())
        }
        Activation::Linear
        | Activation::Relu
        | Activation::LeakyRelu { .. }
        | Activation::PRelu { .. }
        | Activation::HardSigmoid { .. }
        | Activation::HardSwish { .. }
        | Activation::ThresholdedRelu { .. }
        | Activation::Clip { .. } => {
            let mut ys = Vec::with_capacity(xs.len());
            for (e, x) in xs.iter().enumerate() {
                let t = pointwise(m, &Site { e, ..*at }, a, x, fx)?;
                ys.push(finish(m, &t, out));
            }
            Ok(ys)
        }
    }
}

/// `t` of an activation for element `e` (not for table activations).
fn pointwise(m: &mut Module, at: &Site, a: &Activation, x: &Val, fx: i64) -> Result<Exact, BackendError> {
    let (layer, e, channels, elements) = (at.layer, at.e, at.channels, at.elements);
    let (lo, hi) = x.range();
    Ok(match a {
        Activation::Linear => Exact { val: x.clone(), frac: fx },
        Activation::Relu => {
            if lo >= 0 {
                return Ok(Exact { val: x.clone(), frac: fx });
            }
            let zero = m.constant(0);
            let neg = m.sign(x);
            Exact { val: m.mux(&neg, &zero, x, 0, hi.max(0)), frac: fx }
        }
        Activation::LeakyRelu { alpha } | Activation::PRelu { alpha } => {
            let (al, fa) = constants(layer, "alpha", alpha)?;
            let a = per_element(layer, "alpha", &al, e, channels, elements)?;
            let up = fa.max(0) as u32;
            let pos = x.shifted(up);
            let neg = times(m, x, a).shifted((-fa).max(0) as u32);
            // Ranges in units of 2^-(fx + up): the positive side of x, and alpha times the negative side.
            let scale = |v: i128| v << up;
            let mut r = (i128::MAX, i128::MIN);
            if hi >= 0 {
                r = (scale(lo.max(0)), scale(hi));
            }
            if lo < 0 {
                let (p, q) = ((a * lo) << (-fa).max(0), (a * hi.min(-1)) << (-fa).max(0));
                r = (r.0.min(p.min(q)), r.1.max(p.max(q)));
            }
            let sign = m.sign(x);
            Exact { val: m.mux(&sign, &neg, &pos, r.0, r.1), frac: fx + i64::from(up) }
        }
        Activation::Clip { min, max } => {
            let lo_c = min.as_ref().map(|w| constants(layer, "min", w)).transpose()?;
            let hi_c = max.as_ref().map(|w| constants(layer, "max", w)).transpose()?;
            let f = [Some(fx), lo_c.as_ref().map(|c| c.1), hi_c.as_ref().map(|c| c.1)]
                .into_iter()
                .flatten()
                .max()
                .unwrap_or(fx);
            let mut t = x.shifted(u32::try_from(f - fx).unwrap_or(0));
            if let Some((v, fc)) = lo_c {
                let c = shl(layer, v[0], f - fc)?;
                let below = m.lt(&t, c);
                let k = m.constant(c);
                let (a, z) = t.range();
                t = m.mux(&below, &k, &t, a.max(c), z.max(c));
            }
            if let Some((v, fc)) = hi_c {
                let c = shl(layer, v[0], f - fc)?;
                let above = m.gt(&t, c);
                let k = m.constant(c);
                let (a, z) = t.range();
                t = m.mux(&above, &k, &t, a.min(c), z.min(c));
            }
            Exact { val: t, frac: f }
        }
        Activation::HardSigmoid { alpha, beta } => hard_sigmoid(m, layer, x, fx, alpha, beta)?,
        Activation::HardSwish { alpha, beta } => {
            let h = hard_sigmoid(m, layer, x, fx, alpha, beta)?;
            Exact { val: m.mul(x, &h.val, None), frac: fx + h.frac }
        }
        Activation::ThresholdedRelu { theta } => {
            let (tv, ft) = constants(layer, "theta", theta)?;
            let f = fx.max(ft);
            let c = shl(layer, tv[0], f - ft)?;
            let above = m.gt(&x.shifted(u32::try_from(f - fx).unwrap_or(0)), c);
            let zero = m.constant(0);
            Exact { val: m.mux(&above, x, &zero, lo.min(0), hi.max(0)), frac: fx }
        }
        Activation::Sigmoid(_)
        | Activation::Tanh(_)
        | Activation::Softplus(_)
        | Activation::Softsign(_)
        | Activation::Elu(_)
        | Activation::Selu { .. } => {
            return Err(BackendError::layer(
                layer,
                format!("{} is not a pointwise activation of the RTL backend", a.name()),
            ))
        }
    })
}

/// `min(max(alpha * x + beta, 0), 1)` at `max(F_x + F_alpha, F_beta, 0)` fractional bits.
fn hard_sigmoid(
    m: &mut Module,
    layer: &str,
    x: &Val,
    fx: i64,
    alpha: &Weights,
    beta: &Weights,
) -> Result<Exact, BackendError> {
    let (av, fa) = constants(layer, "alpha", alpha)?;
    let (bv, fb) = constants(layer, "beta", beta)?;
    let f = (fx + fa).max(fb).max(0);
    let p = times(m, x, av[0]).shifted(u32::try_from(f - fx - fa).unwrap_or(0));
    let beta = m.constant(shl(layer, bv[0], f - fb)?);
    let s = m.add(&p, &beta, false, None);
    let one = shl(layer, 1, f)?;
    let (a, z) = s.range();
    let below = m.lt(&s, 0);
    let zero = m.constant(0);
    let s = m.mux(&below, &zero, &s, a.max(0), z.max(0));
    let above = m.gt(&s, one);
    let k = m.constant(one);
    let (a, z) = s.range();
    Ok(Exact { val: m.mux(&above, &k, &s, a.min(one), z.min(one)), frac: f })
}

/// Largest table index width the backend builds as logic (a 16K-entry ROM per element).
const MAX_INDEX_BITS: u32 = 14;

/// Declares the ROM function `name` of a table (entries cast to `out`) and returns its name.
pub fn rom(
    m: &mut Module,
    layer: &str,
    name: &str,
    t: &Table,
    out: &FixedType,
) -> Result<String, BackendError> {
    let iw = t.index_ty.width;
    if iw > MAX_INDEX_BITS || t.values.len() != 1usize << iw {
        return Err(BackendError::layer(
            layer,
            format!(
                "table of {} entries with a {iw}-bit index cannot be built (at most {MAX_INDEX_BITS} bits)",
                t.values.len()
            ),
        ));
    }
    let ft = t.ty.frac_bits();
    let scale = 2f64.powi(ft);
    let mut text = format!(
        "    function [{}:0] {name};\n        input [{}:0] a;\n        begin\n            case (a)\n",
        out.width - 1,
        iw - 1
    );
    for (k, &v) in t.values.iter().enumerate() {
        let raw = fixed::cast((v * scale) as i128, ft, out).raw;
        text.push_str(&format!(
            "                {}: {name} = {};\n",
            literal(iw, k as i128),
            literal(out.width, raw)
        ));
    }
    text.push_str(&format!(
        "                default: {name} = {};\n            endcase\n        end\n    endfunction",
        literal(out.width, 0)
    ));
    m.raw_decl(text);
    Ok(name.to_string())
}

/// `y = table[index(x)]` for one element, through the module's ROM function `rom` (entries of
/// type `out`).
pub fn lookup(m: &mut Module, rom: &str, t: &Table, x: &Val, fx: i64, out: &FixedType) -> Val {
    let idx = cast(m, x, fx, &t.index_ty);
    let iw = t.index_ty.width;
    let addr = if !t.index_ty.signed {
        m.use_all(&idx)
    } else if iw == 1 {
        format!("~{}", m.slice(&idx, 0, 0))
    } else {
        format!("{{~{}, {}}}", m.slice(&idx, iw - 1, iw - 1), m.slice(&idx, iw - 2, 0))
    };
    let a = m.wire("a", 0, (1i128 << iw) - 1, 0, Some(iw), &addr);
    let all = m.use_all(&a);
    m.wire("y", out.min_raw(), out.max_raw(), 0, Some(out.width), &format!("{rom}({all})"))
}
