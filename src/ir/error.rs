//! Errors raised by IR construction and validation; each names the node it concerns.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum IrError {
    #[error("layer '{node}': {what}")]
    Invalid { node: String, what: String },
    #[error("layer '{node}' has no fixed-point type after the passes")]
    UntypedNode { node: String },
    #[error("the graph has a cycle through layer '{node}'")]
    Cycle { node: String },
    #[error("the graph has no input layer")]
    NoInput,
    #[error("the graph has no output")]
    NoOutput,
}

impl IrError {
    pub fn invalid(node: &str, what: impl Into<String>) -> Self {
        IrError::Invalid { node: node.to_string(), what: what.into() }
    }
}
