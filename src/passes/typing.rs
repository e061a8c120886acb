//! Type arithmetic shared by the typing passes: types for constants, and the exact result type of
//! a node (which each layer defines).

use super::PassError;
use crate::fixed::{self, FixedType, OverflowMode, QuantMode};
use crate::ir::{Graph, NodeId, Weights};

/// The smallest type of at most `width` bits holding `values`; exact when that fits in `width`
/// bits, otherwise rounded to nearest with the integer bits the largest magnitude needs.
pub(super) fn const_type(values: &[f64], width: u32) -> FixedType {
    let signed = values.iter().any(|&v| v < 0.0);
    let max_abs = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if max_abs == 0.0 {
        return FixedType::int(1, false);
    }
    let mut int_bits = max_abs.log2().floor() as i32 + 1 + i32::from(signed);
    // 2^k itself needs one more bit when signed (the positive maximum is 2^(I-1) - lsb).
    let mut frac_needed = 0i32;
    while frac_needed < 60 && values.iter().any(|&v| (v * 2f64.powi(frac_needed)).fract() != 0.0) {
        frac_needed += 1;
    }
    let fits = |i: i32, f: i32| {
        let ty = FixedType::new((i + f).max(1) as u32, i, signed);
        let exact = crate::ir::Representable::new(&ty);
        values.iter().all(|&v| exact.holds(v))
    };
    if !fits(int_bits, frac_needed) {
        int_bits += 1;
    }
    if int_bits + frac_needed <= width as i32 && fits(int_bits, frac_needed) {
        return FixedType::new((int_bits + frac_needed).max(1) as u32, int_bits, signed);
    }
    FixedType::new(width, int_bits, signed).with_modes(QuantMode::Rnd, OverflowMode::Sat)
}

/// Quantizes every value of `w` into `ty`; returns how many values did not fit (saturated or
/// wrapped by the type's overflow mode).
pub(super) fn quantize_weights(w: &mut Weights, ty: FixedType) -> usize {
    use rayon::prelude::*;
    // Slices in parallel: each value is converted on its own, the count is a sum.
    let overflows = w
        .values
        .par_chunks_mut(1 << 14)
        .map(|slice| {
            let mut overflows = 0;
            for v in slice {
                if let Ok(c) = fixed::from_f64(*v, &ty) {
                    overflows += usize::from(c.overflow);
                    *v = fixed::to_f64(c.raw, ty.frac_bits());
                }
            }
            overflows
        })
        .sum();
    w.ty = Some(ty);
    overflows
}

/// The type that holds a layer's result exactly, given its input and constant types (the
/// layer's own [`crate::ir::LayerDef::exact_type`]).
pub(super) fn exact_result(g: &Graph, id: NodeId) -> Result<FixedType, PassError> {
    let node = g.node(id);
    let ins: Vec<FixedType> = g
        .inputs_of(id)
        .iter()
        .map(|&i| {
            g.node(i).ty.ok_or_else(|| {
                PassError::layer(&node.name, format!("input '{}' has no type", g.node(i).name))
            })
        })
        .collect::<Result<_, _>>()?;
    node.layer.def().exact_type("result", &ins).map_err(|e| PassError::layer(&node.name, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn const_types_are_minimal_and_exact() {
        assert_eq!(const_type(&[0.5], 18), FixedType::new(1, 0, false));
        assert_eq!(const_type(&[-1.0, 1.0], 18), FixedType::new(2, 2, true));
        assert_eq!(const_type(&[0.0], 18), FixedType::int(1, false));
        let t = const_type(&[0.1], 18);
        assert_eq!((t.width, t.integer, t.signed), (18, -3, false));
        assert_eq!(const_type(&[-0.25, 3.0], 18), FixedType::new(5, 3, true));
    }
}
