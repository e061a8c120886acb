//! Costs of the arithmetic operators our layers are made of: multiplications (by a constant or
//! generic), adders, comparators, multiplexers, type casts and ROMs.
//!
//! A multiplication by a constant is classified the way HLS implements it:
//!
//! * by zero: nothing (the pruned product disappears);
//! * by `±2^k`: wiring (a shift; the sign folds into the adder that consumes the product);
//! * by a constant with few significant bits, or with both operands narrow: LUTs (shift-and-add
//!   with one adder per extra canonical-signed-digit (CSD) digit, or a small fabric multiplier),
//!   see [`Coeffs`];
//! * otherwise DSP slices, as many as the operand widths need on the part's [`DspKind`].
//!
//! The width of a constant operand is that of its odd part: HLS trims constants to their
//! significant bits, and trailing zeros are a shift.

use super::coeffs::Coeffs;
use super::part::DspKind;
use crate::fixed::{FixedType, OverflowMode, QuantMode, Raws};

/// How one multiplication is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MulImpl {
    /// Multiplication by zero: removed.
    Zero,
    /// Multiplication by a signed power of two: a shift.
    Shift,
    /// Built from LUTs: shift-and-add with `adders` adders of `width` bits when `shift_add`,
    /// else a generic `a x b` fabric multiplier.
    Lut { a: u32, b: u32, adders: u32, width: u32, shift_add: bool },
    /// `count` DSP slices.
    Dsp { count: u32 },
}

/// Bits of `m > 0`.
pub fn bit_len(m: u64) -> u32 {
    64 - m.leading_zeros()
}

/// Number of nonzero digits of `m` in canonical signed-digit form.
pub fn csd_digits(mut m: u64) -> u32 {
    let mut n = 0;
    while m != 0 {
        if m & 1 == 1 {
            n += 1;
            // A run of ones `0111` becomes `100-1`: take -1 here when the next bit is also set.
            if m & 2 == 2 {
                m += 1;
            } else {
                m -= 1;
            }
        }
        m >>= 1;
    }
    n
}

/// The raw integer of a typed constant (`value * 2^frac_bits`). Validation guarantees exactness.
pub fn raw(value: f64, ty: &FixedType) -> i64 {
    Raws::new(ty).rounded(value)
}

/// DSP slices for a full `a x b`-bit signed product: the wide operands are split into one signed
/// top part and unsigned lower parts of one bit less than the port, in the cheaper orientation.
pub fn dsp_count(a: u32, b: u32, kind: DspKind) -> u32 {
    let (pa, pb) = kind.operand_widths();
    let parts = |w: u32, port: u32| if w <= port { 1 } else { 1 + (w - port).div_ceil(port - 1) };
    (parts(a, pa) * parts(b, pb)).min(parts(b, pa) * parts(a, pb))
}

/// Multiplication of an operand of type `x` by the constant with raw integer `c`.
pub fn const_mul(x: &FixedType, c: i64, kind: DspKind, k: &Coeffs) -> MulImpl {
    if c == 0 {
        return MulImpl::Zero;
    }
    let mut m = c.unsigned_abs();
    m >>= m.trailing_zeros();
    if m == 1 {
        return MulImpl::Shift;
    }
    let a = x.width;
    let bits = bit_len(m);
    let b = bits + 1;
    let adders = csd_digits(m) - 1;
    if bits <= k.const_lut_max_bits {
        return MulImpl::Lut { a, b, adders, width: a + bits, shift_add: true };
    }
    if a <= k.fabric_mul_max_width && b <= k.fabric_mul_max_width {
        return MulImpl::Lut { a, b, adders, width: a + bits, shift_add: k.const_mul_shift_add };
    }
    MulImpl::Dsp { count: dsp_count(a, b, kind) }
}

/// The shift-and-add logic of a constant multiplication (raw constant `c`, nonzero and not a
/// power of two) built in LUTs: what a product the tool would give a DSP costs once the DSPs run
/// out.
pub fn const_mul_in_fabric(x: &FixedType, c: i64) -> MulImpl {
    let mut m = c.unsigned_abs().max(1);
    m >>= m.trailing_zeros();
    let bits = bit_len(m);
    MulImpl::Lut {
        a: x.width,
        b: bits + 1,
        adders: csd_digits(m).saturating_sub(1),
        width: x.width + bits,
        shift_add: true,
    }
}

/// A multiplication of two variable operands of widths `a` and `b`.
pub fn var_mul(a: u32, b: u32, kind: DspKind, k: &Coeffs) -> MulImpl {
    if a <= k.fabric_mul_max_width && b <= k.fabric_mul_max_width {
        MulImpl::Lut { a, b, adders: 0, width: a + b, shift_add: false }
    } else {
        MulImpl::Dsp { count: dsp_count(a, b, kind) }
    }
}

impl MulImpl {
    pub fn dsp(&self) -> u64 {
        match self {
            MulImpl::Dsp { count } => u64::from(*count),
            _ => 0,
        }
    }

    /// csynth LUT estimate.
    pub fn lut(&self, k: &Coeffs) -> f64 {
        match *self {
            MulImpl::Lut { adders, width, shift_add: true, .. } => f64::from(adders) * add_lut(width, k),
            MulImpl::Lut { a, b, shift_add: false, .. } => f64::from(a * b) * k.lut_per_fabric_mul_bit,
            _ => 0.0,
        }
    }

    /// Combinational delay in ns (UltraScale+ -2).
    pub fn delay(&self, k: &Coeffs) -> f64 {
        match *self {
            MulImpl::Zero | MulImpl::Shift => 0.0,
            MulImpl::Dsp { count } => k.delay.dsp_mul + if count > 1 { add_delay(48, k) } else { 0.0 },
            MulImpl::Lut { adders, width, shift_add: true, .. } => {
                f64::from(bit_len(u64::from(adders))) * add_delay(width, k)
            }
            MulImpl::Lut { a, b, shift_add: false, .. } => {
                f64::from(bit_len(u64::from(a.min(b)))) * add_delay(a + b, k)
            }
        }
    }
}

pub fn add_lut(width: u32, k: &Coeffs) -> f64 {
    f64::from(width) * k.lut_per_add_bit
}

pub fn add_delay(width: u32, k: &Coeffs) -> f64 {
    k.delay.add_base + f64::from(width) * k.delay.add_per_bit
}

pub fn cmp_lut(width: u32, k: &Coeffs) -> f64 {
    f64::from(width) * k.lut_per_cmp_bit
}

/// A select between two `width`-bit values: one LUT per bit.
pub fn sel_lut(width: u32) -> f64 {
    f64::from(width)
}

/// An `inputs`:1 multiplexer of `width` bits.
pub fn mux_lut(width: u32, inputs: u64, k: &Coeffs) -> f64 {
    f64::from(width) * inputs.saturating_sub(1) as f64 * k.lut_per_mux_bit
}

/// Levels of a binary tree over `n` leaves.
pub fn tree_depth(n: u64) -> u32 {
    if n <= 1 {
        0
    } else {
        bit_len(n - 1)
    }
}

/// Cost of `cast(x)` from `from` to `to` for one value: rounding needs an adder when fractional
/// bits are dropped with a rounding mode, saturation a range check and a select when integer
/// bits are dropped with a saturating mode. Truncation and wrapping are wiring.
pub struct Cast {
    pub lut: f64,
    pub delay: f64,
}

pub fn cast(from: &FixedType, to: &FixedType, k: &Coeffs) -> Cast {
    let mut lut = 0.0;
    let mut delay = 0.0;
    let drops_frac = from.frac_bits() > to.frac_bits();
    let rounds = !matches!(to.quant, QuantMode::Trn | QuantMode::TrnZero);
    if drops_frac && rounds {
        lut += add_lut(to.width, k);
        delay += add_delay(to.width, k);
    }
    let from_int = from.integer + i32::from(to.signed && !from.signed);
    let drops_int = from_int > to.integer || (from.signed && !to.signed);
    if drops_int && to.overflow != OverflowMode::Wrap {
        let checked = (from_int - to.integer).max(1) as u32;
        lut += cmp_lut(checked + 1, k) + sel_lut(to.width);
        delay += k.delay.add_base + k.delay.mux;
    }
    Cast { lut, delay }
}

/// LUTs of a ROM of `depth` words of `width` bits in LUTs (LUTRAM, or a constant multiplexer):
/// one LUT6 per bit per 64 words.
pub fn lutrom_luts(depth: u64, width: u64) -> f64 {
    (width * depth.div_ceil(64)) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::estimate::coeffs::HlsTool;

    fn k() -> Coeffs {
        Coeffs::for_tool(HlsTool::VitisHls)
    }

    #[test]
    fn csd_digit_counts() {
        assert_eq!(csd_digits(1), 1);
        assert_eq!(csd_digits(3), 2);
        assert_eq!(csd_digits(7), 2);
        assert_eq!(csd_digits(5), 2);
        assert_eq!(csd_digits(0b1011011), 4);
        assert_eq!(csd_digits(0b10101), 3);
    }

    #[test]
    fn zero_one_and_powers_of_two_need_no_multiplier() {
        let x = FixedType::new(16, 6, true);
        for c in [0i64, 1, -1, 2, -64, 1 << 20] {
            let m = const_mul(&x, c, DspKind::Dsp48E2, &k());
            assert!(matches!(m, MulImpl::Zero | MulImpl::Shift), "{c}: {m:?}");
            assert_eq!((m.dsp(), m.lut(&k())), (0, 0.0));
        }
        assert_eq!(const_mul(&x, 0, DspKind::Dsp48E2, &k()), MulImpl::Zero);
        assert_eq!(const_mul(&x, -8, DspKind::Dsp48E2, &k()), MulImpl::Shift);
    }

    #[test]
    fn wide_constants_use_dsps_and_narrow_ones_luts() {
        let x = FixedType::new(16, 6, true);
        let vitis = k();
        let vivado = Coeffs::for_tool(HlsTool::VivadoHls);
        // A 10-bit constant: a DSP in both tools.
        assert_eq!(const_mul(&x, 0b1011011011, DspKind::Dsp48E2, &vitis), MulImpl::Dsp { count: 1 });
        // A 5-bit constant: LUTs in Vitis HLS, a DSP in Vivado HLS.
        assert!(matches!(const_mul(&x, 0b10101, DspKind::Dsp48E2, &vitis), MulImpl::Lut { adders: 2, .. }));
        assert_eq!(const_mul(&x, 0b10101, DspKind::Dsp48E2, &vivado), MulImpl::Dsp { count: 1 });
        // x * 3 = (x << 1) + x in both.
        assert!(matches!(const_mul(&x, -12, DspKind::Dsp48E2, &vivado), MulImpl::Lut { adders: 1, .. }));
        // Both operands at most 10 bits: LUTs whatever the constant.
        let narrow = FixedType::new(7, 1, true);
        assert!(matches!(const_mul(&narrow, 0b1011011, DspKind::Dsp48E2, &vivado), MulImpl::Lut { .. }));
    }

    #[test]
    fn dsp_counts_per_dsp_kind() {
        assert_eq!(dsp_count(16, 16, DspKind::Dsp48E2), 1);
        assert_eq!(dsp_count(27, 18, DspKind::Dsp48E2), 1);
        assert_eq!(dsp_count(18, 27, DspKind::Dsp48E2), 1);
        assert_eq!(dsp_count(27, 18, DspKind::Dsp48E1), 2);
        assert_eq!(dsp_count(25, 18, DspKind::Dsp48E1), 1);
        assert_eq!(dsp_count(27, 24, DspKind::Dsp58), 1);
        assert_eq!(dsp_count(27, 24, DspKind::Dsp48E2), 2);
        assert_eq!(dsp_count(32, 32, DspKind::Dsp48E2), 4);
    }

    #[test]
    fn lut_rom_size() {
        assert_eq!(lutrom_luts(4, 4096), 4096.0);
        assert_eq!(lutrom_luts(1024, 8), 128.0);
    }

    #[test]
    fn casts() {
        let acc = FixedType::new(24, 8, true);
        let trn = FixedType::new(16, 6, true);
        assert_eq!(cast(&acc, &trn, &k()).lut, 0.0);
        let sat = trn.with_modes(QuantMode::Rnd, OverflowMode::Sat);
        assert!(cast(&acc, &sat, &k()).lut > 16.0);
    }
}
