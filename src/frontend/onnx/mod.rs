//! ONNX, QONNX and QDQ import (placeholder until the importer lands).

use std::path::{Path, PathBuf};
use thiserror::Error;

use crate::ir::Graph;

#[derive(Debug, Error)]
pub enum OnnxError {
    #[error("{path}: ONNX import is not available yet")]
    NotAvailable { path: PathBuf },
}

pub fn load(path: &Path) -> Result<Graph, OnnxError> {
    Err(OnnxError::NotAvailable { path: path.to_path_buf() })
}
