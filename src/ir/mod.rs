//! The typed layer-graph IR.
//!
//! A [`Graph`] is a DAG of [`Node`]s, each holding one [`Layer`] (a closed enum with a typed
//! configuration per kind) and describing the one tensor it produces: its [`Shape`] (no batch
//! dimension, channels-last) and its fixed-point type. Frontends build graphs with types left
//! unknown where the model does not fix them; the passes make every type known; [`validate`] checks
//! the contract of each stage. The IR knows no file format, no target and no terminal.

mod error;
mod graph;
mod layer;
mod print;
mod shape;
mod validate;

pub use error::IrError;
pub use graph::{Graph, Node, NodeId};
pub use layer::*;
pub use print::print;
pub use shape::{Shape, MAX_ELEMENTS};
pub use validate::{representable, validate, Stage, MAX_CONST_WIDTH};
