//! `cast` in hardware: converts an exact value into a fixed-point type as `ap_fixed` assignment
//! does (the contract of [`crate::fixed::cast`]): quantization first (every [`QuantMode`]), then
//! the overflow mode (every [`OverflowMode`]).
//!
//! Quantization drops `s` low bits: the kept bits are the floor, and one increment bit decided by
//! the dropped bits (the half bit, whether any bit below it is set), the sign and the floor's
//! parity rounds as the mode says. Overflow logic is built only for the sides the value's range
//! can actually cross; a value that always fits is just re-wired into the target's `W` bits.

use super::netlist::{Bit, Module, Val};
use crate::fixed::{FixedType, OverflowMode, QuantMode};

/// `v * 2^-s` rounded as `quant` says (the same decisions as the `fixed` module).
pub fn round(v: i128, s: u32, quant: QuantMode) -> i128 {
    if s == 0 {
        return v;
    }
    // Exact for |v| < 2^124: beyond 126 dropped bits only copies of the sign are dropped.
    let s = s.min(126);
    let floor = v >> s;
    let half = (v >> (s - 1)) & 1 != 0;
    let below = v & ((1i128 << (s - 1)) - 1) != 0;
    let neg = v < 0;
    let odd = floor & 1 != 0;
    let up = match quant {
        QuantMode::Trn => false,
        QuantMode::TrnZero => neg && (half || below),
        QuantMode::Rnd => half,
        QuantMode::RndZero => half && (neg || below),
        QuantMode::RndMinInf => half && below,
        QuantMode::RndInf => half && (!neg || below),
        QuantMode::RndConv => half && (odd || below),
    };
    floor + i128::from(up)
}

/// Converts `v` (its value is `wire * 2^sh * 2^-frac`) to `to`. The result is exactly `to.width`
/// bits wide (the target's raw value) with the range it can take.
pub fn cast(m: &mut Module, v: &Val, frac: i64, to: &FixedType) -> Val {
    let shift = i64::from(to.frac_bits()) - (frac - i64::from(v.sh));
    if shift >= 0 {
        return overflow(m, &Val { sh: shift as u32, ..v.clone() }, to);
    }
    let (floor, inc, (lo, hi)) = floor_and_increment(m, v, (-shift) as u32, to.quant);
    let sym = to.signed && to.width > 1 && to.overflow == OverflowMode::SatSym;
    let saturates = matches!(to.overflow, OverflowMode::Sat | OverflowMode::SatSym)
        && (lo < to.min_raw() + i128::from(sym) || hi > to.max_raw());
    if saturates && inc != Bit::Const(false) {
        return saturate_then_increment(m, &floor, &inc, (lo, hi), to);
    }
    let q = increment(m, floor, inc, (lo, hi));
    overflow(m, &q, to)
}

/// `floor(v / 2^s)` as a new wire in target LSB units, the increment bit the mode adds to it,
/// and the range of the rounded value.
fn floor_and_increment(m: &mut Module, v: &Val, s: u32, quant: QuantMode) -> (Val, Bit, (i128, i128)) {
    let (lo, hi) = (round(v.lo, s, quant), round(v.hi, s, quant));
    let (flo, fhi) = (v.lo >> s, v.hi >> s);
    let floor = if s < v.w {
        let bits = m.slice(v, v.w - 1, s);
        m.wire("f", flo, fhi, 0, Some(v.w - s), &bits)
    } else {
        match m.sign(v) {
            Bit::Const(_) => m.constant(0),
            Bit::Expr(e) => m.wire("f", flo, fhi, 0, Some(1), &e),
        }
    };
    // Only the bits the mode reads are referenced (and so marked as read).
    let needs_below = matches!(
        quant,
        QuantMode::TrnZero
            | QuantMode::RndZero
            | QuantMode::RndMinInf
            | QuantMode::RndInf
            | QuantMode::RndConv
    );
    let below = if s >= 2 && needs_below {
        let top = (s - 2).min(v.w - 1);
        let bits = m.slice(v, top, 0);
        if top == 0 {
            Bit::Expr(bits)
        } else {
            Bit::Expr(format!("(|{bits})"))
        }
    } else {
        Bit::Const(false)
    };
    let inc = match quant {
        QuantMode::Trn => Bit::Const(false),
        QuantMode::TrnZero => {
            let half = m.bit(v, s - 1);
            m.sign(v).and(half.or(below))
        }
        QuantMode::Rnd => m.bit(v, s - 1),
        QuantMode::RndZero => {
            let half = m.bit(v, s - 1);
            let neg = m.sign(v);
            half.and(neg.or(below))
        }
        QuantMode::RndMinInf => m.bit(v, s - 1).and(below),
        QuantMode::RndInf => {
            let half = m.bit(v, s - 1);
            let neg = m.sign(v);
            half.and(neg.not().or(below))
        }
        QuantMode::RndConv => {
            let half = m.bit(v, s - 1);
            let odd = m.bit(v, s);
            half.and(odd.or(below))
        }
    };
    (floor, inc, (lo, hi))
}

/// `floor + inc` for a rounded value in `[lo, hi]`.
fn increment(m: &mut Module, floor: Val, inc: Bit, (lo, hi): (i128, i128)) -> Val {
    match inc {
        Bit::Const(false) => floor,
        inc => {
            let w = super::netlist::width(lo, hi);
            let base = m.fit(&floor, 0, w);
            let one = if w == 1 { inc.text() } else { format!("{{{}'d0, {}}}", w - 1, inc.text()) };
            m.wire("q", lo, hi, 0, None, &format!("{base} + {one}"))
        }
    }
}

/// Rounding then `AP_SAT`/`AP_SAT_SYM` of `floor + inc` (rounded range `[lo, hi]`), with the
/// saturation decided on the floor: a floor at or above the maximum saturates high whatever the
/// increment, a floor below the minimum low (at most the minimum once incremented), and any
/// floor between them plus the increment stays within the bounds, so the incrementer is only
/// `W` bits wide and the comparisons need no carry from it. When the maximum is `2^k - 1` (see
/// [`ones_bound`]) the high side reads the incrementer's carry into bit `k` instead of the low
/// `k` bits all set: `floor = 2^k - 1` with no increment then passes through unclamped, which
/// is the same value, and the `k`-input AND is saved (the incrementer is `k + 1` bits when
/// `k = W`).
fn saturate_then_increment(
    m: &mut Module,
    floor: &Val,
    inc: &Bit,
    (lo, hi): (i128, i128),
    to: &FixedType,
) -> Val {
    let w = to.width;
    let sym = to.signed && to.width > 1 && to.overflow == OverflowMode::SatSym;
    let (keep, tmax) = (to.min_raw() + i128::from(sym), to.max_raw());
    let under = below(m, floor, keep);
    let clamp = |v: i128| v.max(keep).min(tmax);
    let (rlo, rhi) = (clamp(lo), clamp(hi));
    let (mid, over) = match ones_bound(floor, tmax) {
        Some(k) => {
            // Raw bits only (sliced, never used as a value): the floor's low `W` bits plus the
            // increment, one bit wider when `k = W` for the carry.
            let wm = w.max(k + 1);
            let low = m.fit(floor, 0, w);
            let base = if wm > w { format!("{{1'b0, {low}}}") } else { low };
            let one = format!("{{{}'d0, {}}}", wm - 1, inc.text());
            let sum = m.wire("q", 0, (1i128 << wm) - 1, 0, Some(wm), &format!("{base} + {one}"));
            let carry = Bit::Expr(m.slice(&sum, k, k));
            let over = m.sign(floor).not().and(high_bits_set(m, floor, k).or(carry));
            (m.slice(&sum, w - 1, 0), over)
        }
        None => {
            let over = m.gt(floor, tmax - 1);
            let base = m.fit(floor, 0, w);
            let one = if w == 1 { inc.text() } else { format!("{{{}'d0, {}}}", w - 1, inc.text()) };
            let mid = m.wire("q", rlo, rhi, 0, Some(w), &format!("{base} + {one}"));
            (m.slice(&mid, w - 1, 0), over)
        }
    };
    let inner = match &under {
        Bit::Const(false) => mid,
        u => format!("{} ? {} : {mid}", u.text(), super::netlist::literal(w, keep)),
    };
    let expr = match &over {
        Bit::Const(false) => inner,
        o => format!("{} ? {} : ({inner})", o.text(), super::netlist::literal(w, tmax)),
    };
    m.wire("y", rlo, rhi, 0, Some(w), &expr)
}

/// `k` when `c = 2^k - 1 > 0` and `v >= c` can be decided by bit logic on `v` (units of 1):
/// `c` inside `v`'s range and `k` at most `v`'s magnitude bits.
fn ones_bound(v: &Val, c: i128) -> Option<u32> {
    let k = (c + 1).trailing_zeros();
    let mag = if v.signed() { v.w - 1 } else { v.w };
    if v.sh != 0 || c <= 0 || (c + 1).count_ones() != 1 || k > mag || c > v.hi || c <= v.lo {
        return None;
    }
    Some(k)
}

/// Whether any magnitude bit of `v` from `k` up is set.
fn high_bits_set(m: &mut Module, v: &Val, k: u32) -> Bit {
    let mag = if v.signed() { v.w - 1 } else { v.w };
    if mag <= k {
        return Bit::Const(false);
    }
    let high = m.slice(v, mag - 1, k);
    Bit::Expr(if mag - k == 1 { high } else { format!("(|{high})") })
}

/// `v < c` (`v` in units of 1); for `c = 0` the sign, for `c = -2^k` a negative value whose bits
/// from `k` up are not all set, else a comparison.
fn below(m: &mut Module, v: &Val, c: i128) -> Bit {
    let crossing = v.sh == 0 && v.lo < c && c <= v.hi;
    if crossing && c == 0 {
        return m.sign(v);
    }
    if crossing && c < 0 && (-c).count_ones() == 1 {
        let k = (-c).trailing_zeros();
        if k + 1 < v.w {
            let high = m.slice(v, v.w - 2, k);
            let all = if v.w - 2 == k { high } else { format!("(&{high})") };
            return m.sign(v).and(Bit::Expr(format!("~{all}")));
        }
    }
    m.lt(v, c)
}

/// Applies the overflow mode to `q` (target LSB units) and returns the `W`-bit result.
fn overflow(m: &mut Module, q: &Val, to: &FixedType) -> Val {
    let w = to.width;
    let (tmin, tmax) = (to.min_raw(), to.max_raw());
    let sym = to.signed && to.width > 1 && to.overflow == OverflowMode::SatSym;
    let keep = tmin + i128::from(sym);
    let (qlo, qhi) = q.range();
    let clamp = |v: i128| v.max(keep).min(tmax);
    if qlo >= keep && qhi <= tmax {
        let bits = m.fit(q, 0, w);
        return m.wire("y", qlo, qhi, 0, Some(w), &bits);
    }
    match to.overflow {
        OverflowMode::Wrap => {
            let bits = m.fit(q, 0, w);
            m.wire("y", tmin, tmax, 0, Some(w), &bits)
        }
        OverflowMode::Sat | OverflowMode::SatSym | OverflowMode::SatZero => {
            let over = m.gt(q, tmax);
            let under = m.lt(q, keep);
            let bits = m.fit(q, 0, w);
            let (low, lo, hi) = if to.overflow == OverflowMode::SatZero {
                (0, clamp(qlo).min(0), clamp(qhi).max(0))
            } else {
                (keep, clamp(qlo), clamp(qhi))
            };
            let high = if to.overflow == OverflowMode::SatZero { 0 } else { tmax };
            let inner = match &under {
                Bit::Const(false) => bits,
                u => format!("{} ? {} : {bits}", u.text(), super::netlist::literal(w, low)),
            };
            let expr = match &over {
                Bit::Const(false) => inner,
                o => format!("{} ? {} : ({inner})", o.text(), super::netlist::literal(w, high)),
            };
            m.wire("y", lo, hi, 0, Some(w), &expr)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixed::{self, FixedType};

    #[test]
    fn round_matches_the_fixed_model() {
        let modes = [
            QuantMode::Trn,
            QuantMode::TrnZero,
            QuantMode::Rnd,
            QuantMode::RndZero,
            QuantMode::RndMinInf,
            QuantMode::RndInf,
            QuantMode::RndConv,
        ];
        for q in modes {
            let ty = FixedType::new(40, 40, true).with_modes(q, OverflowMode::Wrap);
            for v in -300i128..300 {
                for s in 1..5u32 {
                    assert_eq!(round(v, s, q), fixed::cast(v, s as i32, &ty).raw, "{q:?} {v} {s}");
                }
            }
        }
    }
}
