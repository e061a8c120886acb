//! Type arithmetic shared by the typing passes: exact result types of each layer, exact Dense
//! accumulators, and types for constants.

use super::PassError;
use crate::fixed::{self, FixedType, OverflowMode, QuantMode, MAX_WIDTH};
use crate::ir::{Activation, BinaryOp, Dense, Elementwise, Graph, Layer, NodeId, Weights};

fn too_wide(layer: &str, what: &str, ty: FixedType) -> Result<FixedType, PassError> {
    if ty.width > MAX_WIDTH {
        return Err(PassError::layer(
            layer,
            format!(
                "an exact {what} type would need {} bits (at most {MAX_WIDTH}); set its precision",
                ty.width
            ),
        ));
    }
    Ok(ty)
}

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
        values.iter().all(|&v| crate::ir::representable(v, &ty))
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
    let mut overflows = 0;
    for v in &mut w.values {
        if let Ok(c) = fixed::from_f64(*v, &ty) {
            overflows += usize::from(c.overflow);
            *v = fixed::to_f64(c.raw, ty.frac_bits());
        }
    }
    w.ty = Some(ty);
    overflows
}

fn input_types(g: &Graph, id: NodeId) -> Result<Vec<FixedType>, PassError> {
    g.inputs_of(id)
        .iter()
        .map(|&i| {
            g.node(i).ty.ok_or_else(|| {
                PassError::layer(&g.node(id).name, format!("input '{}' has no type", g.node(i).name))
            })
        })
        .collect()
}

fn const_ty(layer: &str, w: &Weights) -> Result<FixedType, PassError> {
    w.ty.ok_or_else(|| PassError::layer(layer, "a constant has no type"))
}

/// The exact accumulator of a Dense layer: its fraction is that of the products (and bias), its
/// range covers the largest possible partial sum given the actual weights and the input type.
pub(super) fn exact_accum(layer: &str, d: &Dense, x: &FixedType) -> Result<FixedType, PassError> {
    let wt = const_ty(layer, &d.weights)?;
    let bt = const_ty(layer, &d.bias)?;
    let fp = x.frac_bits() + wt.frac_bits();
    let frac = fp.max(bt.frac_bits());
    let x_max = x.max_raw().unsigned_abs().max(x.min_raw().unsigned_abs());
    let (n_in, n_out) = (d.n_in(), d.n_out());
    let mut bound: u128 = 0;
    let mut negative = x.signed;
    for j in 0..n_out {
        let b = d.bias.values[j];
        negative |= b < 0.0;
        let mut s: u128 = ((b.abs() * 2f64.powi(bt.frac_bits())) as u128) << (frac - bt.frac_bits());
        for i in 0..n_in {
            let w = d.weights.values[i * n_out + j];
            negative |= w < 0.0;
            let w_raw = (w.abs() * 2f64.powi(wt.frac_bits())) as u128;
            s = s.saturating_add(w_raw.saturating_mul(x_max) << (frac - fp));
        }
        bound = bound.max(s);
    }
    let bits = (128 - bound.leading_zeros()).max(1) as i32 + i32::from(negative);
    too_wide(layer, "accumulator", FixedType::new(bits.max(1) as u32, bits - frac, negative))
}

/// The type that holds a layer's result exactly, given its input and constant types.
pub(super) fn exact_result(g: &Graph, id: NodeId) -> Result<FixedType, PassError> {
    let node = g.node(id);
    let name = node.name.as_str();
    let ins = input_types(g, id)?;
    let x = *ins.first().ok_or_else(|| PassError::layer(name, "an input layer needs a precision"))?;
    let ty = match &node.layer {
        Layer::Input => return Err(PassError::layer(name, "an input layer needs a precision")),
        Layer::Dense(d) => d.accum.ok_or_else(|| PassError::layer(name, "accumulator type is unknown"))?,
        Layer::BatchNorm(b) => {
            x.exact_mul_type(&const_ty(name, &b.scale)?).exact_add_type(&const_ty(name, &b.bias)?)
        }
        Layer::Activation(a) => match a {
            Activation::Linear | Activation::Relu => x,
            Activation::LeakyRelu { alpha } | Activation::PRelu { alpha } => {
                x.union_type(&x.exact_mul_type(&const_ty(name, alpha)?))
            }
            Activation::HardSigmoid { alpha, beta } => {
                let t = x.exact_mul_type(&const_ty(name, alpha)?).exact_add_type(&const_ty(name, beta)?);
                FixedType::new((t.frac_bits() + 1).max(1) as u32, 1, false)
            }
            Activation::Clip { min, max } => {
                let mut t = x;
                for b in min.iter().chain(max.iter()) {
                    t = t.union_type(&const_ty(name, b)?);
                }
                t
            }
            Activation::Sigmoid(t) | Activation::Tanh(t) => t.ty,
        },
        Layer::Softmax(s) => s.exp_table.ty.exact_mul_type(&s.inv_table.ty),
        Layer::Elementwise(Elementwise { op, constant }) => {
            let r = match constant {
                Some(c) => const_ty(name, c)?,
                None => *ins.get(1).ok_or_else(|| PassError::layer(name, "missing second operand"))?,
            };
            match op {
                BinaryOp::Add => x.exact_add_type(&r),
                BinaryOp::Sub => x.exact_sub_type(&r),
                BinaryOp::Mul => x.exact_mul_type(&r),
            }
        }
        Layer::Reshape | Layer::Quantize => x,
    };
    too_wide(name, "result", FixedType { quant: QuantMode::Trn, overflow: OverflowMode::Wrap, ..ty })
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
