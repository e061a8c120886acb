//! The typed layer-graph IR.
//!
//! A [`Graph`] is a DAG of [`Node`]s, each holding one [`Layer`] (a closed enum with a typed
//! configuration per kind, one file per kind under `layer/`) and describing the one tensor it
//! produces: its [`Shape`] (no batch dimension, channels-last), inferred from the layer, and its
//! fixed-point type. A node may read any number of tensors; a model may have several inputs and
//! outputs. Frontends build graphs with types left unknown where the model does not fix them; the
//! passes make every type known; [`validate`] checks the contract of each stage and yields the
//! [`ImportedGraph`] and [`LoweredGraph`] the later stages take. The IR knows no file format, no
//! target and no terminal.

mod constant;
mod error;
mod graph;
mod layer;
pub mod layout;
mod print;
mod shape;
mod step;
mod validate;
mod value_type;
pub(crate) mod window;

pub use constant::{Table, TableFn, Weights, SELU_ALPHA, SELU_SCALE};
pub use error::IrError;
pub use graph::{Graph, Node, NodeId, Strategy};
pub use layer::*;
pub use print::print;
pub use shape::{Shape, MAX_ELEMENTS};
pub use step::{Cmp, Step, StepInput, StepNode, Threshold};
pub use validate::{
    representable, validate, ImportedGraph, LoweredGraph, Representable, Stage, MAX_CONST_WIDTH,
};
pub use value_type::{declared_type, narrowest_type};
