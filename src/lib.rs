//! hls-gen: compiles trained neural networks into bit-exact FPGA firmware.
//!
//! The pipeline: a frontend ([`frontend`]) reads an ONNX/QONNX/QDQ or Keras/QKeras model into the
//! typed layer graph ([`ir::Graph`]): a DAG of layers from a closed set ([`ir::Layer`]), each
//! producing one tensor with a shape and a fixed-point type ([`fixed::FixedType`], mirroring
//! `ap_fixed<W,I,Q,O>`). Passes ([`passes`]) fuse layers, apply the configuration ([`config`]) and
//! make every type known; [`ir::validate`] checks the contract between stages. The lowered graph
//! then feeds the bit-accurate simulator, the Vitis HLS and RTL backends and the estimator, which
//! all implement the arithmetic defined once in [`ir::Layer`]'s documentation.
//! [`synth`] runs Yosys on an emitted project's RTL to check the estimate against real counts.

pub mod backend;
pub mod cli;
pub mod config;
pub mod estimate;
pub mod fixed;
pub mod flow;
pub mod frontend;
pub mod ir;
pub mod passes;
pub mod sim;
pub mod synth;
pub mod testvec;
