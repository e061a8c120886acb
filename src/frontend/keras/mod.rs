//! Keras and QKeras import (placeholder until the importer lands).

use std::path::{Path, PathBuf};
use thiserror::Error;

use crate::ir::Graph;

#[derive(Debug, Error)]
pub enum KerasError {
    #[error("{path}: Keras import is not available yet")]
    NotAvailable { path: PathBuf },
}

pub fn load(path: &Path, _weights: Option<&Path>) -> Result<Graph, KerasError> {
    Err(KerasError::NotAvailable { path: path.to_path_buf() })
}
