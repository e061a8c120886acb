//! QONNX quantizers: `Quant` (also `IntQuant`), `BipolarQuant`, `Trunc`, and the mapping of integer
//! quantization with a power-of-two scale to an exact `ap_fixed` type, shared with QDQ.
//!
//! Specs: <https://github.com/fastmachinelearning/qonnx/blob/main/docs/qonnx-custom-ops/quant_op.md>,
//! <https://github.com/fastmachinelearning/qonnx/blob/main/docs/qonnx-custom-ops/bipolar_quant_op.md>,
//! <https://github.com/fastmachinelearning/qonnx/blob/main/docs/qonnx-custom-ops/trunc_v1.md>,
//! <https://github.com/fastmachinelearning/qonnx/blob/main/docs/qonnx-custom-ops/trunc_v2.md>.
//!
//! `Quant(x, scale, zeropt, bitwidth)` is `y = (round(clamp(x/scale + zeropt)) − zeropt) · scale`
//! with the clamp to `[min_int, max_int]` of (`bitwidth`, `signed`, `narrow`). With zero point 0
//! and `scale = 2^-f` this is exactly a cast to `ap_fixed<bitwidth, bitwidth − f>` whose
//! quantization mode is the rounding mode (ROUND/HALF_EVEN → `AP_RND_CONV`, FLOOR → `AP_TRN`,
//! ROUND_TO_ZERO/DOWN → `AP_TRN_ZERO`, HALF_UP → `AP_RND_INF`, HALF_DOWN → `AP_RND_ZERO`) and whose
//! overflow mode is `AP_SAT` (`AP_SAT_SYM` when signed and narrow).
//!
//! Contract: on constants the values are quantized exactly here (per-element scales allowed) and
//! the result carries one type holding every channel's values; there every rounding mode and range
//! is exact. On activations the quantizer becomes `Layer::Quantize` with the type above
//! (per-tensor parameters only), in the activation's layout. A scale that is not a power of two, a nonzero zero point, a
//! rounding mode without an `ap_fixed` equivalent (CEIL, UP) or an unsigned narrow range on an
//! activation, or a bit width outside 1..=64 is an error naming the node.
//!
//! `BipolarQuant(x, scale)` is `y = (x >= 0 ? 1 : -1) · scale` (the qonnx executor's
//! `np.where(x >= 0, 1, -1) * scale`: the sign of 0 is +1). On constants the values are computed
//! here (power-of-two scales); on an activation (one scale for the tensor) it is the binary step
//! `x >= 0 ? scale : -scale` of [`crate::ir::Step`].
//!
//! `Trunc` v1 (five inputs) computes `floor(round(x/s) / 2^(in_bw − out_bw)) · s`: the value is
//! divided by `2^k`, not only cut to fewer bits. On an activation it becomes
//! `Quantize` (`<node>/round`, the input rounded to scale `s` in `in_bw + 1` signed bits, which
//! holds a signed or unsigned `in_bw`-bit input) → `Elementwise Mul 2^-k` (`<node>/shift`) →
//! `Quantize` to `out_bw + 1` signed bits at scale `s` with the rounding mode. `Trunc` v2 (six
//! inputs, `out_scale`) is `round(x/s)` cast to `ap_fixed<out_bw, out_bw − g>` with
//! `out_scale = 2^-g`, as two `Quantize` nodes (`<node>/round`, then `<node>`).

use std::collections::BTreeSet;
use std::rc::Rc;

use crate::fixed::{FixedType, OverflowMode, QuantMode, MAX_WIDTH};
use crate::frontend::onnx::builder::Builder;
use crate::frontend::onnx::ops::{Act, NodeCtx, Value};
use crate::frontend::onnx::tensor::{broadcast_dims, broadcast_indices, Tensor};
use crate::frontend::onnx::OnnxError;
use crate::ir::{
    BinaryOp, Cmp, Elementwise, Layer, Quantize, Step, StepInput, Threshold, Weights, MAX_CONST_WIDTH,
};

/// `e` when `v == 2^e` exactly (normal positive `f64` only).
pub(crate) fn pow2_exponent(v: f64) -> Option<i32> {
    let bits = v.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    (v > 0.0 && v.is_finite() && exp != 0 && bits & ((1u64 << 52) - 1) == 0).then_some(exp - 1023)
}

/// Fractional bits `f` of a scale `2^-f`, or a message saying why there is none.
pub(crate) fn scale_frac(scale: f64) -> Result<i32, String> {
    pow2_exponent(scale).map(|e| -e).ok_or_else(|| {
        format!(
            "scale {scale} is not a power of two; only power-of-two scales map to an exact fixed-point type"
        )
    })
}

/// The rounding of a quantizer, named as in the QONNX spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rounding {
    /// ROUND, HALF_EVEN: to nearest, ties to even.
    HalfEven,
    Floor,
    Ceil,
    /// ROUND_TO_ZERO, DOWN: toward zero.
    TowardZero,
    /// UP: away from zero.
    AwayFromZero,
    /// HALF_UP: to nearest, ties away from zero.
    HalfUp,
    /// HALF_DOWN: to nearest, ties toward zero.
    HalfDown,
}

impl Rounding {
    pub(crate) fn parse(s: &str) -> Option<Rounding> {
        Some(match s.to_ascii_uppercase().as_str() {
            "ROUND" | "HALF_EVEN" => Rounding::HalfEven,
            "FLOOR" => Rounding::Floor,
            "CEIL" => Rounding::Ceil,
            "ROUND_TO_ZERO" | "DOWN" => Rounding::TowardZero,
            "UP" => Rounding::AwayFromZero,
            "HALF_UP" => Rounding::HalfUp,
            "HALF_DOWN" => Rounding::HalfDown,
            _ => return None,
        })
    }

    pub(crate) fn apply(self, v: f64) -> f64 {
        match self {
            Rounding::HalfEven => v.round_ties_even(),
            Rounding::Floor => v.floor(),
            Rounding::Ceil => v.ceil(),
            Rounding::TowardZero => v.trunc(),
            Rounding::AwayFromZero => {
                if v >= 0.0 {
                    v.ceil()
                } else {
                    v.floor()
                }
            }
            Rounding::HalfUp => v.round(),
            Rounding::HalfDown => {
                let r = (v.abs() - 0.5).ceil();
                r.copysign(v)
            }
        }
    }

    /// The `ap_fixed` quantization mode that rounds the same way, if any.
    pub(crate) fn quant_mode(self) -> Option<QuantMode> {
        match self {
            Rounding::HalfEven => Some(QuantMode::RndConv),
            Rounding::Floor => Some(QuantMode::Trn),
            Rounding::TowardZero => Some(QuantMode::TrnZero),
            Rounding::HalfUp => Some(QuantMode::RndInf),
            Rounding::HalfDown => Some(QuantMode::RndZero),
            Rounding::Ceil | Rounding::AwayFromZero => None,
        }
    }
}

/// An integer quantizer: `bits` wide, `signed`, optionally `narrow`, with a rounding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IntQuant {
    pub bits: u32,
    pub signed: bool,
    pub narrow: bool,
    pub rounding: Rounding,
}

impl IntQuant {
    /// `[min_int, max_int]` of the spec.
    pub(crate) fn range(&self) -> (f64, f64) {
        let b = self.bits as i32;
        match (self.signed, self.narrow) {
            (true, false) => (-(2f64.powi(b - 1)), 2f64.powi(b - 1) - 1.0),
            (true, true) => (-(2f64.powi(b - 1)) + 1.0, 2f64.powi(b - 1) - 1.0),
            (false, false) => (0.0, 2f64.powi(b) - 1.0),
            (false, true) => (0.0, 2f64.powi(b) - 2.0),
        }
    }

    fn overflow(&self) -> OverflowMode {
        if self.signed && self.narrow {
            OverflowMode::SatSym
        } else {
            OverflowMode::Sat
        }
    }

    /// The quantized value of `x` at scale `2^-frac`, exactly as the spec computes it.
    pub(crate) fn quantize(&self, x: f64, frac: i32) -> f64 {
        let (lo, hi) = self.range();
        let v = (x * 2f64.powi(frac)).clamp(lo, hi);
        self.rounding.apply(v) * 2f64.powi(-frac)
    }

    /// The type an activation is cast to: the same result for every input.
    pub(crate) fn act_type(&self, frac: i32) -> Result<FixedType, String> {
        let quant = self.rounding.quant_mode().ok_or_else(|| {
            format!("rounding mode {:?} has no ap_fixed quantization mode (only on constants)", self.rounding)
        })?;
        if self.narrow && !self.signed {
            return Err(format!(
                "the narrow unsigned range [0, 2^{} - 2] has no ap_fixed overflow mode (only on constants)",
                self.bits
            ));
        }
        if self.narrow && self.bits < 2 {
            return Err("a narrow signed range needs at least 2 bits".into());
        }
        exact_type(self.bits, self.signed, [frac], quant, self.overflow(), MAX_WIDTH)
    }

    /// A type holding every value this quantizer gives at any of the scales `2^-f`, `f` in `fracs`.
    pub(crate) fn const_type(&self, fracs: impl IntoIterator<Item = i32>) -> Result<FixedType, String> {
        let quant = self.rounding.quant_mode().unwrap_or(QuantMode::Trn);
        exact_type(self.bits, self.signed, fracs, quant, self.overflow(), MAX_CONST_WIDTH)
    }
}

/// The narrowest type holding `q · 2^-f` for every `bits`-bit integer `q` and every `f` in `fracs`:
/// as many fractional bits as the finest scale and as many integer bits as the coarsest.
pub(crate) fn exact_type(
    bits: u32,
    signed: bool,
    fracs: impl IntoIterator<Item = i32>,
    quant: QuantMode,
    overflow: OverflowMode,
    max_width: u32,
) -> Result<FixedType, String> {
    let fracs: BTreeSet<i32> = fracs.into_iter().collect();
    let (Some(&lo), Some(&hi)) = (fracs.first(), fracs.last()) else {
        return Err("no scale".into());
    };
    let frac = hi as i64;
    let integer = bits as i64 - lo as i64;
    let width = integer + frac;
    if width < 1 || width > max_width as i64 {
        return Err(format!(
            "{bits}-bit values at scales 2^{} to 2^{} need a {width}-bit type; at most {max_width} bits are \
             supported here",
            -hi, -lo
        ));
    }
    Ok(FixedType { width: width as u32, integer: integer as i32, signed, quant, overflow })
}

/// Reads a bit width input: an integer from 1 to 64.
pub(crate) fn bit_width(
    ctx: &NodeCtx,
    ins: &[Option<Value>],
    i: usize,
    what: &str,
) -> Result<u32, OnnxError> {
    let v = ctx.scalar(ins, i, what)?;
    if v.fract() != 0.0 || !(1.0..=64.0).contains(&v) {
        return Err(ctx.quant_err(format!("{what} {v} is not an integer from 1 to 64")));
    }
    Ok(v as u32)
}

fn rounding(ctx: &NodeCtx, default: &str) -> Result<Rounding, OnnxError> {
    let s = ctx.string("rounding_mode", default)?;
    Rounding::parse(&s).ok_or_else(|| ctx.quant_err(format!("unknown rounding_mode '{s}'")))
}

/// Constant input `i` must be all zeros (a zero point).
pub(crate) fn zero_point(ctx: &NodeCtx, t: &Tensor, i: usize) -> Result<(), OnnxError> {
    let v = t.floats().map_err(|e| ctx.tensor_err(i, e))?;
    match v.iter().find(|&&z| z != 0.0) {
        Some(z) => Err(ctx.quant_err(format!(
            "zero point {z} is not 0; only symmetric quantization maps to a fixed-point type"
        ))),
        None => Ok(()),
    }
}

/// The fractional bits of every element of a constant scale.
fn fracs(ctx: &NodeCtx, t: &Tensor, i: usize) -> Result<Vec<i32>, OnnxError> {
    let v = t.floats().map_err(|e| ctx.tensor_err(i, e))?;
    v.iter().map(|&s| scale_frac(s).map_err(|e| ctx.quant_err(e))).collect()
}

/// The single scale of a per-tensor quantizer on an activation, as fractional bits.
fn act_frac(ctx: &NodeCtx, x: &Act, t: &Tensor, i: usize, what: &str) -> Result<i32, OnnxError> {
    if t.len() != 1 || t.dims.len() > x.shape.rank() + 1 {
        return Err(ctx.unsupported(format!(
            "{what} of shape {:?} on an activation: only per-tensor quantization of activations is supported",
            t.dims
        )));
    }
    Ok(fracs(ctx, t, i)?[0])
}

/// Adds the nodes of a step function on `x` (see [`crate::ir::Step`]): `<node>/<suffix>` for the
/// inner ones, the node's own name for the last.
pub(crate) fn add_step(b: &mut Builder, ctx: &NodeCtx, x: &Act, step: &Step) -> Result<Act, OnnxError> {
    let nodes = step.nodes().map_err(|e| ctx.quant_err(e))?;
    let mut ids = Vec::with_capacity(nodes.len());
    for (k, n) in nodes.iter().enumerate() {
        let name = if k + 1 == nodes.len() {
            ctx.label().to_string()
        } else {
            format!("{}/{}", ctx.label(), n.suffix)
        };
        let inputs: Vec<_> = n
            .inputs
            .iter()
            .map(|i| match i {
                StepInput::X => x.id,
                StepInput::Node(j) => ids[*j],
            })
            .collect();
        ids.push(b.add_typed(ctx, &name, n.layer.clone(), &inputs, n.ty)?.id);
    }
    let last = *ids.last().ok_or_else(|| ctx.quant_err("empty step chain"))?;
    Ok(Act { id: last, shape: x.shape.clone(), perm: x.perm.clone() })
}

fn quantize_node(
    b: &mut Builder,
    ctx: &NodeCtx,
    name: &str,
    x: &Act,
    ty: FixedType,
) -> Result<Act, OnnxError> {
    b.add_typed(ctx, name, Layer::Quantize(Quantize), &[x.id], Some(ty))
}

pub(crate) fn quant(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Result<Vec<Value>, OnnxError> {
    let scale = ctx.constant(ins, 1, "scale")?;
    let zp = ctx.constant(ins, 2, "zeropt")?;
    let q = IntQuant {
        bits: bit_width(ctx, ins, 3, "bitwidth")?,
        signed: ctx.int("signed", 1)? != 0,
        narrow: ctx.int("narrow", 0)? != 0,
        rounding: rounding(ctx, "ROUND")?,
    };
    zero_point(ctx, &zp, 2)?;
    match ins.first() {
        Some(Some(Value::Const(x))) => {
            let dims = broadcast_dims(&x.dims, &scale.dims)
                .and_then(|d| broadcast_dims(&d, &zp.dims))
                .ok_or_else(|| {
                    ctx.shape_err(format!(
                        "x {:?} and scale {:?} do not broadcast (within the size limit)",
                        x.dims, scale.dims
                    ))
                })?;
            let f = fracs(ctx, &scale, 1)?;
            let xv = x.floats().map_err(|e| ctx.tensor_err(0, e))?;
            let values: Vec<f64> = broadcast_indices(&x.dims, &dims)
                .into_iter()
                .zip(broadcast_indices(&scale.dims, &dims))
                .map(|(i, s)| q.quantize(xv[i], f[s]))
                .collect();
            let ty = q.const_type(f.iter().copied()).map_err(|e| ctx.quant_err(e))?;
            let t = Tensor { ty: Some(ty), ..Tensor::float(dims, values) };
            Ok(vec![Value::Const(Rc::new(t))])
        }
        _ => {
            let x = ctx.act(ins, 0)?;
            let f = act_frac(ctx, &x, &scale, 1, "scale")?;
            if zp.dims.len() > x.shape.rank() + 1 {
                return Err(
                    ctx.shape_err(format!("zeropt of shape {:?} changes the activation's rank", zp.dims))
                );
            }
            let ty = q.act_type(f).map_err(|e| ctx.quant_err(e))?;
            Ok(vec![Value::Act(quantize_node(b, ctx, ctx.label(), &x, ty)?.like(&x))])
        }
    }
}

pub(crate) fn bipolar_quant(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    let scale = ctx.constant(ins, 1, "scale")?;
    let Some(Some(Value::Const(x))) = ins.first() else {
        let x = ctx.act(ins, 0)?;
        if scale.len() != 1 || scale.dims.len() > x.shape.rank() + 1 {
            return Err(ctx.unsupported(format!(
                "scale of shape {:?} on an activation: only a per-tensor BipolarQuant of an activation is supported",
                scale.dims
            )));
        }
        let s = scale.floats().map_err(|e| ctx.tensor_err(1, e))?[0];
        ctx.finite(1, &[s])?;
        let step = Step::Binary { at: Threshold::new(Cmp::Ge, 0.0), low: -s, high: s };
        return Ok(vec![Value::Act(add_step(b, ctx, &x, &step)?)]);
    };
    let dims = broadcast_dims(&x.dims, &scale.dims).ok_or_else(|| {
        ctx.shape_err(format!(
            "x {:?} and scale {:?} do not broadcast (within the size limit)",
            x.dims, scale.dims
        ))
    })?;
    let f = fracs(ctx, &scale, 1)?;
    let sv = scale.floats().map_err(|e| ctx.tensor_err(1, e))?;
    let xv = x.floats().map_err(|e| ctx.tensor_err(0, e))?;
    let values: Vec<f64> = broadcast_indices(&x.dims, &dims)
        .into_iter()
        .zip(broadcast_indices(&scale.dims, &dims))
        .map(|(i, s)| if xv[i] >= 0.0 { sv[s] } else { -sv[s] })
        .collect();
    // ±2^-f are the values -1 and +1 of a 2-bit signed integer at scale 2^-f.
    let ty = exact_type(2, true, f, QuantMode::Trn, OverflowMode::Sat, MAX_CONST_WIDTH)
        .map_err(|e| ctx.quant_err(e))?;
    let t = Tensor { ty: Some(ty), ..Tensor::float(dims, values) };
    Ok(vec![Value::Const(Rc::new(t))])
}

pub(crate) fn trunc(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Result<Vec<Value>, OnnxError> {
    let v2 = ins.len() == 6;
    let scale = ctx.constant(ins, 1, "scale")?;
    let zp = ctx.constant(ins, 2, "zeropt")?;
    zero_point(ctx, &zp, 2)?;
    let in_bits = bit_width(ctx, ins, 3, "in_bitwidth")?;
    let (out_scale, out_bits) = if v2 {
        (Some(ctx.constant(ins, 4, "out_scale")?), bit_width(ctx, ins, 5, "out_bitwidth")?)
    } else {
        (None, bit_width(ctx, ins, 4, "out_bitwidth")?)
    };
    let round = rounding(ctx, "FLOOR")?;
    let x = match ins.first() {
        Some(Some(Value::Act(x))) => x.clone(),
        _ => return Err(ctx.unsupported("Trunc of a constant")),
    };
    let f = act_frac(ctx, &x, &scale, 1, "scale")?;
    let mode = round
        .quant_mode()
        .ok_or_else(|| ctx.quant_err(format!("rounding mode {round:?} has no ap_fixed quantization mode")))?;
    let wide = in_bits + 1;
    let rounded_ty = exact_type(wide, true, [f], QuantMode::RndConv, OverflowMode::Sat, MAX_WIDTH)
        .map_err(|e| ctx.quant_err(e))?;
    let rounded = quantize_node(b, ctx, &format!("{}/round", ctx.label()), &x, rounded_ty)?.like(&x);
    let out = if let Some(out_scale) = out_scale {
        let g = act_frac(ctx, &x, &out_scale, 4, "out_scale")?;
        let q = IntQuant {
            bits: out_bits,
            signed: ctx.int("signed", 1)? != 0,
            narrow: ctx.int("narrow", 0)? != 0,
            rounding: round,
        };
        let ty = q.act_type(g).map_err(|e| ctx.quant_err(e))?;
        quantize_node(b, ctx, ctx.label(), &rounded, ty)?
    } else {
        let k = in_bits as i32 - out_bits as i32;
        if k < 0 {
            return Err(ctx.quant_err(format!("out_bitwidth {out_bits} exceeds in_bitwidth {in_bits}")));
        }
        if k == 0 {
            return Ok(vec![Value::Act(rounded)]);
        }
        let shift = Weights { ty: Some(FixedType::new(1, 1 - k, false)), ..Weights::scalar(2f64.powi(-k)) };
        let shifted_ty = FixedType { integer: rounded_ty.integer - k, ..rounded_ty };
        let layer = Layer::Elementwise(Elementwise { op: BinaryOp::Mul, constant: Some(shift) });
        let shifted = b
            .add_typed(ctx, &format!("{}/shift", ctx.label()), layer, &[rounded.id], Some(shifted_ty))?
            .like(&x);
        let ty = exact_type(out_bits + 1, true, [f], mode, OverflowMode::Sat, MAX_WIDTH)
            .map_err(|e| ctx.quant_err(e))?;
        quantize_node(b, ctx, ctx.label(), &shifted, ty)?
    };
    Ok(vec![Value::Act(out.like(&x))])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(bits: u32, signed: bool, narrow: bool, rounding: Rounding) -> IntQuant {
        IntQuant { bits, signed, narrow, rounding }
    }

    #[test]
    fn spec_rounding_table() {
        // The rounding table of the QONNX Quant spec.
        let xs = [5.5, 2.5, 1.6, 1.1, 1.0, -1.0, -1.1, -1.6, -2.5, -5.5];
        let want: [(&str, [f64; 10]); 7] = [
            ("ROUND", [6., 2., 2., 1., 1., -1., -1., -2., -2., -6.]),
            ("CEIL", [6., 3., 2., 2., 1., -1., -1., -1., -2., -5.]),
            ("FLOOR", [5., 2., 1., 1., 1., -1., -2., -2., -3., -6.]),
            ("UP", [6., 3., 2., 2., 1., -1., -2., -2., -3., -6.]),
            ("DOWN", [5., 2., 1., 1., 1., -1., -1., -1., -2., -5.]),
            ("HALF_UP", [6., 3., 2., 1., 1., -1., -1., -2., -3., -6.]),
            ("HALF_DOWN", [5., 2., 2., 1., 1., -1., -1., -2., -2., -5.]),
        ];
        for (name, expect) in want {
            let r = Rounding::parse(name).unwrap();
            let got: Vec<f64> = xs.iter().map(|&x| r.apply(x)).collect();
            assert_eq!(got, expect, "{name}");
        }
        assert_eq!(Rounding::parse("round_to_zero"), Some(Rounding::TowardZero));
        assert_eq!(Rounding::parse("half_even"), Some(Rounding::HalfEven));
        assert_eq!(Rounding::parse("STOCHASTIC"), None);
    }

    #[test]
    fn quant_maps_to_fixed_types() {
        let t = q(8, true, false, Rounding::HalfEven).act_type(4).unwrap();
        assert_eq!(t, FixedType::new(8, 4, true).with_modes(QuantMode::RndConv, OverflowMode::Sat));
        let t = q(6, true, true, Rounding::Floor).act_type(7).unwrap();
        assert_eq!(t, FixedType::new(6, -1, true).with_modes(QuantMode::Trn, OverflowMode::SatSym));
        let t = q(4, false, false, Rounding::TowardZero).act_type(-2).unwrap();
        assert_eq!(t, FixedType::new(4, 6, false).with_modes(QuantMode::TrnZero, OverflowMode::Sat));
        let t = q(3, true, false, Rounding::HalfUp).act_type(0).unwrap();
        assert_eq!(t.quant, QuantMode::RndInf);
        let t = q(3, true, false, Rounding::HalfDown).act_type(0).unwrap();
        assert_eq!(t.quant, QuantMode::RndZero);
        assert!(q(8, true, false, Rounding::Ceil).act_type(0).unwrap_err().contains("Ceil"));
        assert!(q(8, true, false, Rounding::AwayFromZero).act_type(0).is_err());
        assert!(q(8, false, true, Rounding::HalfEven).act_type(0).unwrap_err().contains("narrow unsigned"));
        assert!(q(1, true, true, Rounding::HalfEven).act_type(0).is_err());
        assert!(q(64, true, false, Rounding::HalfEven).act_type(10).is_ok());
    }

    #[test]
    fn per_channel_constant_types() {
        // 4-bit signed values at scales 2^-2 and 2^-5: frac 5, integer 4 - 2 = 2.
        let t = q(4, true, false, Rounding::HalfEven).const_type([2, 5]).unwrap();
        assert_eq!((t.width, t.integer, t.signed), (7, 2, true));
        assert!(q(32, true, false, Rounding::HalfEven).const_type([0, 30]).is_err());
        assert!(q(8, false, true, Rounding::Ceil).const_type([3]).is_ok());
    }

    #[test]
    fn constant_quantization_is_exact() {
        let r = q(4, true, false, Rounding::HalfEven);
        assert_eq!(r.quantize(0.3125, 3), 0.25); // 2.5 -> 2
        assert_eq!(r.quantize(0.4375, 3), 0.5); // 3.5 -> 4
        assert_eq!(r.quantize(5.0, 3), 0.875); // clamp to 7
        assert_eq!(r.quantize(-5.0, 3), -1.0); // clamp to -8
        let n = q(4, true, true, Rounding::HalfEven);
        assert_eq!(n.quantize(-5.0, 3), -0.875);
        let u = q(4, false, true, Rounding::Ceil);
        assert_eq!(u.quantize(3.9, 2), 3.5); // 15.6 -> clamp to 14
        assert_eq!(u.quantize(0.01, 2), 0.25);
        assert_eq!(u.quantize(-1.0, 2), 0.0);
    }

    #[test]
    fn powers_of_two() {
        assert_eq!(pow2_exponent(0.0625), Some(-4));
        assert_eq!(pow2_exponent(8.0), Some(3));
        assert_eq!(pow2_exponent(0.1), None);
        assert_eq!(pow2_exponent(-0.5), None);
        assert_eq!(pow2_exponent(0.0), None);
        assert_eq!(pow2_exponent(f64::INFINITY), None);
        assert_eq!(scale_frac(0.0078125), Ok(7));
        assert!(scale_frac(0.007).unwrap_err().contains("not a power of two"));
    }
}
