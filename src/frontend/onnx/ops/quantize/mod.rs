//! Quantizers: QONNX `Quant`, `IntQuant`, `BipolarQuant`, `Trunc` ([`qonnx`]) and ONNX QDQ pairs
//! ([`qdq`]). On constants they become exact fixed-point types; on activations `Layer::Quantize`
//! nodes whose type the model fixes.

pub(crate) mod qdq;
pub(crate) mod qonnx;
