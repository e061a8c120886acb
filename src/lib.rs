//! hls-gen: compiles trained neural networks into bit-exact FPGA firmware.
//!
//! The pipeline: a frontend ([`frontend`]) reads an ONNX/QONNX/QDQ or Keras/QKeras model into the
//! typed layer graph ([`ir::Graph`]): a DAG of layers from a closed set ([`ir::Layer`], one file
//! per kind), each producing one tensor with a shape and a fixed-point type
//! ([`fixed::FixedType`], mirroring `ap_fixed<W,I,Q,O>`); a model may have several inputs and
//! outputs and a layer several inputs. Passes ([`passes`]) fuse layers, apply the configuration
//! ([`config`]) and make every type known, yielding an [`ir::LoweredGraph`] (validated once).
//! That graph feeds the bit-accurate simulator ([`sim`]), the Vitis HLS and RTL backends
//! ([`backend`]) and the estimator ([`estimate`]), which all implement the arithmetic each
//! layer's IR file defines; [`arch`] decides once the hardware structure the backends build and
//! the estimator costs. [`synth`] runs Yosys on an emitted project's RTL to check the estimate
//! against real counts; [`sweep`] runs a model's design space (precision, reuse factor, strategy,
//! pruning) as worker processes here or on Slurm and collects the Pareto fronts; [`flow`] strings the stages together for the CLI ([`cli`]), the tests
//! and the benchmarks.

pub mod arch;
pub mod backend;
pub mod cli;
pub mod config;
pub mod estimate;
pub mod fixed;
pub mod flow;
pub mod frontend;
pub mod ir;
pub mod passes;
pub mod profile;
pub mod sim;
pub mod sweep;
pub mod synth;
#[cfg(test)]
mod test_rng;
pub mod testvec;
