//! ONNX QDQ: `QuantizeLinear` / `DequantizeLinear`.
//!
//! Specs: <https://onnx.ai/onnx/operators/onnx__QuantizeLinear.html>,
//! <https://onnx.ai/onnx/operators/onnx__DequantizeLinear.html>.
//!
//! `QuantizeLinear` is `saturate(round_half_even(x / scale) + zero_point)` into the zero point's
//! integer type (uint8 when absent); `DequantizeLinear` is `(q − zero_point) · scale`. A pair on an
//! activation with scale `2^-f` and zero point 0 is one cast to `ap_fixed<8, 8 − f>` (int8) or
//! `ap_ufixed<8, 8 − f>` (uint8), `AP_RND_CONV`, `AP_SAT`: one `Layer::Quantize` named after the
//! `QuantizeLinear` node.
//!
//! Contract: on constants both ops are computed here (per-tensor or per-axis); a dequantized
//! constant carries the exact type of its integers at its scales (int8, uint8 or int32). On an
//! activation only per-tensor int8/uint8 is accepted, and the output of `QuantizeLinear` must be
//! read by `DequantizeLinear`s with the same scale and zero point and by nothing else, possibly
//! through a `Clip` to a narrower integer range (QCDQ), which narrows the cast's type.

use std::cell::OnceCell;
use std::path::Path;
use std::rc::Rc;

use super::qonnx::{exact_type, scale_frac};
use crate::fixed::{FixedType, OverflowMode, QuantMode, MAX_WIDTH};
use crate::frontend::onnx::builder::Builder;
use crate::frontend::onnx::ops::{norm_axis, Act, NodeCtx, Value};
use crate::frontend::onnx::tensor::{dtype_name, DType, Data, Tensor};
use crate::frontend::onnx::OnnxError;
use crate::ir::{Layer, Quantize, MAX_CONST_WIDTH};

/// The integer output of a `QuantizeLinear` on an activation.
#[derive(Debug)]
pub(crate) struct Pending {
    /// Label of the `QuantizeLinear` node.
    pub node: String,
    pub act: Act,
    pub scale: f64,
    pub zero: i64,
    pub ty: FixedType,
    /// The `Quantize` layer, once a `DequantizeLinear` emitted it.
    emitted: OnceCell<Act>,
}

impl Pending {
    /// This quantizer followed by `Clip` to the integers `[lo, hi]` (QCDQ: a narrower bit width in
    /// an 8-bit container): the range must be that of a `b`-bit integer, signed (full or
    /// symmetric) or unsigned, no wider than the quantizer's.
    pub(crate) fn clipped(&self, ctx: &NodeCtx, lo: f64, hi: f64) -> Result<Pending, OnnxError> {
        let range = |b: u32| 2f64.powi(b as i32);
        let (signed, overflow, bits) = match (1..=self.ty.width)
            .find(|&b| hi == range(b) - 1.0 || hi == range(b - 1) - 1.0)
        {
            Some(b) if !self.ty.signed && lo == 0.0 && hi == range(b) - 1.0 => (false, OverflowMode::Sat, b),
            Some(b) if self.ty.signed && hi == range(b - 1) - 1.0 && lo == -range(b - 1) => {
                (true, OverflowMode::Sat, b)
            }
            Some(b) if self.ty.signed && hi == range(b - 1) - 1.0 && lo == -hi && b > 1 => {
                (true, OverflowMode::SatSym, b)
            }
            _ => {
                return Err(ctx.unsupported(format!(
                    "clipping the integers of QuantizeLinear '{}' ({}) to [{lo}, {hi}]: only the range of a \
                     narrower integer of the same signedness is supported",
                    self.node, self.ty
                )))
            }
        };
        let ty = exact_type(
            bits,
            signed,
            [scale_frac(self.scale).map_err(|e| ctx.quant_err(e))?],
            QuantMode::RndConv,
            overflow,
            MAX_WIDTH,
        )
        .map_err(|e| ctx.quant_err(e))?;
        Ok(Pending {
            node: self.node.clone(),
            act: self.act.clone(),
            scale: self.scale,
            zero: self.zero,
            ty,
            emitted: OnceCell::new(),
        })
    }

    pub(crate) fn not_dequantized(&self, path: &Path, reader: &str) -> OnnxError {
        OnnxError::Node {
            path: path.to_path_buf(),
            node: self.node.clone(),
            op: "QuantizeLinear".into(),
            what: format!(
                "its integer output is read by {reader}; a QuantizeLinear must be followed by a \
                 DequantizeLinear with the same scale and zero point"
            ),
        }
    }
}

/// Bits and signedness of a QDQ integer type.
fn int_type(dtype: DType) -> Option<(u32, bool)> {
    match dtype {
        DType::Int8 => Some((8, true)),
        DType::Uint8 => Some((8, false)),
        DType::Int32 => Some((32, true)),
        _ => None,
    }
}

/// Per-element parameter index for a per-tensor (one value) or per-axis (1-D along `axis`) parameter.
fn param_index(
    ctx: &NodeCtx,
    dims: &[usize],
    p: &Tensor,
    axis: i64,
    input: usize,
) -> Result<Vec<usize>, OnnxError> {
    let n: usize = dims.iter().product();
    if p.len() == 1 {
        return Ok(vec![0; n]);
    }
    let a = norm_axis(ctx, axis, dims.len())?;
    if p.dims.len() != 1 || p.dims[0] != dims[a] {
        return Err(ctx.tensor_err(
            input,
            format!("shape {:?} is neither one value nor one per entry of axis {a} of {dims:?}", p.dims),
        ));
    }
    let inner: usize = dims[a + 1..].iter().product();
    Ok((0..n).map(|i| (i / inner.max(1)) % dims[a]).collect())
}

fn zero_dtype(ctx: &NodeCtx, zp: Option<&Tensor>) -> Result<DType, OnnxError> {
    match zp {
        Some(z) => Ok(z.dtype),
        None => match ctx.int("output_dtype", 0)? {
            0 => Ok(DType::Uint8),
            code => {
                let code = i32::try_from(code).unwrap_or(0);
                DType::from_code(code)
                    .ok_or_else(|| ctx.quant_err(format!("output type {}", dtype_name(code))))
            }
        },
    }
}

pub(crate) fn quantize_linear(
    _b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    let scale = ctx.constant(ins, 1, "y_scale")?;
    let zp = ctx.opt_const(ins, 2, "y_zero_point")?;
    let dtype = zero_dtype(ctx, zp.as_deref())?;
    let (lo, hi) = match dtype {
        DType::Int8 => (-128i64, 127i64),
        DType::Uint8 => (0, 255),
        _ => {
            return Err(ctx.quant_err(format!(
                "output type {}; only int8 and uint8 are supported",
                dtype_name(dtype.code())
            )))
        }
    };
    if ctx.int("block_size", 0)? != 0 {
        return Err(ctx.unsupported("blocked quantization"));
    }
    let axis = ctx.int("axis", 1)?;
    let sv = scale.floats().map_err(|e| ctx.tensor_err(1, e))?;
    let zv = match &zp {
        Some(z) => z.ints().map_err(|e| ctx.tensor_err(2, e))?,
        None => vec![0],
    };
    match ins.first() {
        Some(Some(Value::Const(x))) => {
            let si = param_index(ctx, &x.dims, &scale, axis, 1)?;
            let zi = match &zp {
                Some(z) => param_index(ctx, &x.dims, z, axis, 2)?,
                None => vec![0; x.len()],
            };
            let xv = x.floats().map_err(|e| ctx.tensor_err(0, e))?;
            let mut out = Vec::with_capacity(xv.len());
            for ((v, s), z) in xv.iter().zip(si).zip(zi) {
                let d = sv[s];
                if d == 0.0 || !d.is_finite() {
                    return Err(ctx.tensor_err(1, format!("scale {d} is not a positive finite number")));
                }
                let r = ((*v / d) as f32 as f64).round_ties_even() + zv[z] as f64;
                out.push(r.clamp(lo as f64, hi as f64) as i64);
            }
            Ok(vec![Value::Const(Rc::new(Tensor::int(dtype, x.dims.clone(), out)))])
        }
        _ => {
            let x = ctx.act(ins, 0)?;
            if sv.len() != 1 || zv.len() != 1 {
                return Err(ctx.unsupported("per-axis quantization of an activation"));
            }
            let f = scale_frac(sv[0]).map_err(|e| ctx.quant_err(e))?;
            if zv[0] != 0 {
                return Err(ctx.quant_err(format!(
                    "zero point {} is not 0; only symmetric quantization maps to a fixed-point type",
                    zv[0]
                )));
            }
            let (bits, signed) = int_type(dtype).unwrap_or((8, true));
            let ty = exact_type(bits, signed, [f], QuantMode::RndConv, OverflowMode::Sat, MAX_WIDTH)
                .map_err(|e| ctx.quant_err(e))?;
            let p = Pending {
                node: ctx.label().to_string(),
                act: x,
                scale: sv[0],
                zero: 0,
                ty,
                emitted: OnceCell::new(),
            };
            Ok(vec![Value::Quantized(Rc::new(p))])
        }
    }
}

pub(crate) fn dequantize_linear(
    b: &mut Builder,
    ctx: &NodeCtx,
    ins: &[Option<Value>],
) -> Result<Vec<Value>, OnnxError> {
    let scale = ctx.constant(ins, 1, "x_scale")?;
    let zp = ctx.opt_const(ins, 2, "x_zero_point")?;
    let sv = scale.floats().map_err(|e| ctx.tensor_err(1, e))?;
    let zv = match &zp {
        Some(z) => z.ints().map_err(|e| ctx.tensor_err(2, e))?,
        None => vec![0],
    };
    if ctx.int("block_size", 0)? != 0 {
        return Err(ctx.unsupported("blocked quantization"));
    }
    match ins.first() {
        Some(Some(Value::Quantized(p))) => {
            if sv.len() != 1 || zv.len() != 1 || sv[0] != p.scale || zv[0] != p.zero {
                return Err(ctx.quant_err(format!(
                    "scale {sv:?} and zero point {zv:?} differ from those of QuantizeLinear '{}' ({} and {})",
                    p.node, p.scale, p.zero
                )));
            }
            b.dequantized.insert(p.node.clone());
            if let Some(a) = p.emitted.get() {
                return Ok(vec![Value::Act(a.clone())]);
            }
            let a =
                b.add_typed(ctx, &p.node, Layer::Quantize(Quantize), &[p.act.id], Some(p.ty))?.like(&p.act);
            let _ = p.emitted.set(a.clone());
            Ok(vec![Value::Act(a)])
        }
        Some(Some(Value::Const(x))) => {
            let Data::Int(q) = &x.data else {
                return Err(ctx.tensor_err(0, "DequantizeLinear needs an integer tensor, this one is float"));
            };
            let (bits, signed) = int_type(x.dtype).ok_or_else(|| {
                ctx.quant_err(format!(
                    "input type {}; int8, uint8 or int32 expected",
                    dtype_name(x.dtype.code())
                ))
            })?;
            if let Some(z) = zv.iter().find(|&&z| z != 0) {
                return Err(ctx.quant_err(format!(
                    "zero point {z} is not 0; only symmetric quantization maps to a fixed-point type"
                )));
            }
            let axis = ctx.int("axis", 1)?;
            let si = param_index(ctx, &x.dims, &scale, axis, 1)?;
            let fracs: Vec<i32> =
                sv.iter().map(|&s| scale_frac(s)).collect::<Result<_, _>>().map_err(|e| ctx.quant_err(e))?;
            let values: Vec<f64> = q.iter().zip(&si).map(|(&v, &s)| v as f64 * sv[s]).collect();
            let ty = exact_type(bits, signed, fracs, QuantMode::RndConv, OverflowMode::Sat, MAX_CONST_WIDTH)
                .map_err(|e| ctx.quant_err(e))?;
            let t = Tensor { ty: Some(ty), ..Tensor::float(x.dims.clone(), values) };
            Ok(vec![Value::Const(Rc::new(t))])
        }
        Some(Some(Value::Act(_))) => Err(ctx.err(
            "the input is a float activation; DequantizeLinear must read the output of a QuantizeLinear",
        )),
        _ => Err(ctx.err("input #0 is missing")),
    }
}
