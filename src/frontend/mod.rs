//! Model importers. Each frontend reads one family of formats and stops at the IR: it returns an
//! [`ir::Graph`](crate::ir::Graph) that passes `validate(.., Stage::Imported)`, or an error naming
//! the file and the node or layer at fault. No format type leaves this module.

pub mod keras;
pub mod onnx;

use std::path::{Path, PathBuf};
use thiserror::Error;

use crate::ir::{self, Graph};

#[derive(Debug, Error)]
pub enum FrontendError {
    #[error(transparent)]
    Onnx(#[from] onnx::OnnxError),
    #[error(transparent)]
    Keras(#[from] keras::KerasError),
    #[error("{path}: unknown model format (expected .onnx, .h5, .json or .keras)")]
    UnknownFormat { path: PathBuf },
    #[error("{path}: {source}")]
    Invalid { path: PathBuf, source: ir::IrError },
}

/// Options that some formats need.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Weights file for an architecture-only model (Keras JSON).
    pub weights: Option<PathBuf>,
}

/// Reads a model, choosing the frontend by file extension, and checks the imported graph.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Graph, FrontendError> {
    let ext = path.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase());
    let graph = match ext.as_deref() {
        Some("onnx") => onnx::load(path)?,
        Some("h5" | "hdf5" | "json" | "keras") => keras::load(path, opts.weights.as_deref())?,
        _ => return Err(FrontendError::UnknownFormat { path: path.to_path_buf() }),
    };
    ir::validate(&graph, ir::Stage::Imported)
        .map_err(|source| FrontendError::Invalid { path: path.to_path_buf(), source })?;
    Ok(graph)
}
