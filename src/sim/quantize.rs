//! `Quantize`: `y = cast(x)`, an explicit conversion whose type the model fixed (QONNX `Quant`,
//! QDQ pairs, QKeras quantizers): a [`CastKernel`].

pub(crate) use super::cast::CastKernel as QuantizeKernel;
