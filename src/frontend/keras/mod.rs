//! Keras and QKeras import, with no Python: reads a model and returns an [`ir::Graph`] that passes
//! `ir::validate(.., Stage::Imported)`.
//!
//! Formats, recognised by content (extension as a hint):
//!
//! * architecture JSON (`model.to_json()`) with a weights `.h5`: the `weights` argument, else
//!   `<stem>_weights.h5` or `<stem>.weights.h5` next to the JSON;
//! * a full-model `.h5` (root attribute `model_config` and a `model_weights` group);
//! * a `.keras` archive (`config.json` + `model.weights.h5`).
//!
//! A `weights` file given with a full model or an archive replaces the weights stored in it.
//!
//! Contract: sequential and functional models with any number of inputs and outputs (graph inputs
//! and outputs in the model's order). Node names are the
//! Keras layer names (activations folded into a layer become `<layer>_<activation>` nodes); the
//! graph is named after the model, else the file. Every error names the file and the layer (and
//! quantizer) at fault; all unsupported layers are reported together; no input makes this panic.
//! The same files always give the same graph.

mod archive;
mod config;
mod hdf5;
mod layers;
mod quantizers;
mod weights;

use std::fmt;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::ir::{self, Graph, IrError};

use config::ModelSpec;
use hdf5::H5;
use weights::WeightFile;

/// Largest model JSON accepted.
const MAX_JSON_BYTES: u64 = 64 << 20;

/// A layer the importer cannot represent, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub layer: String,
    pub class: String,
    pub reason: String,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "'{}' ({}): {}", self.layer, self.class, self.reason)
    }
}

fn list(layers: &[Rejected]) -> String {
    layers.iter().map(|r| r.to_string()).collect::<Vec<_>>().join("; ")
}

#[derive(Debug, Error)]
pub enum KerasError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a Keras model: {what}")]
    Format { path: PathBuf, what: String },
    #[error("{path}: HDF5 object {object}: {what}")]
    Hdf5 { path: PathBuf, object: String, what: String },
    #[error("{path}: {what}")]
    Archive { path: PathBuf, what: String },
    #[error("{path}: model config: {what}")]
    Config { path: PathBuf, what: String },
    #[error("{path}: no weights file given and {expected} does not exist")]
    MissingWeights { path: PathBuf, expected: PathBuf },
    #[error("{path}: {n} layer(s) cannot be imported: {l}", n = .layers.len(), l = list(.layers))]
    Unsupported { path: PathBuf, layers: Vec<Rejected> },
    #[error("{path}: layer '{layer}' ({class}): {what}")]
    Layer { path: PathBuf, layer: String, class: String, what: String },
    #[error("{path}: layer '{layer}': {what}")]
    Quantizer { path: PathBuf, layer: String, what: String },
    #[error("{path}: weights of layer '{layer}': {what}")]
    Weights { path: PathBuf, layer: String, what: String },
    #[error("{path}: {source}")]
    Invalid { path: PathBuf, source: IrError },
}

/// Reads a Keras model; see the module documentation for the formats.
pub fn load(path: &Path, weights: Option<&Path>) -> Result<Graph, KerasError> {
    let io = |source| KerasError::Io { path: path.to_path_buf(), source };
    let mut head = [0u8; 8];
    let n = {
        use std::io::Read;
        let mut f = std::fs::File::open(path).map_err(io)?;
        let mut n = 0;
        while n < head.len() {
            match f.read(&mut head[n..]).map_err(io)? {
                0 => break,
                k => n += k,
            }
        }
        n
    };
    let head = &head[..n];
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        load_archive(path, weights)
    } else if head.starts_with(b"\x89HDF\r\n\x1a\n") || has_ext(path, &["h5", "hdf5"]) {
        load_h5(path, weights)
    } else {
        load_json(path, weights)
    }
}

fn has_ext(path: &Path, exts: &[&str]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .map(|e| exts.iter().any(|x| e.eq_ignore_ascii_case(x)))
        .unwrap_or(false)
}

fn stem(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "model".into())
}

fn read_json(path: &Path) -> Result<String, KerasError> {
    let meta =
        std::fs::metadata(path).map_err(|source| KerasError::Io { path: path.to_path_buf(), source })?;
    if meta.len() > MAX_JSON_BYTES {
        return Err(KerasError::Format {
            path: path.to_path_buf(),
            what: format!("{} bytes is too large for a model config", meta.len()),
        });
    }
    let bytes = std::fs::read(path).map_err(|source| KerasError::Io { path: path.to_path_buf(), source })?;
    String::from_utf8(bytes).map_err(|_| KerasError::Format {
        path: path.to_path_buf(),
        what: "neither JSON text, HDF5 nor a zip archive".into(),
    })
}

fn load_json(path: &Path, weights: Option<&Path>) -> Result<Graph, KerasError> {
    let text = read_json(path)?;
    let weights_path = match weights {
        Some(w) => w.to_path_buf(),
        None => {
            let dir = path.parent().unwrap_or(Path::new(""));
            let candidates = [format!("{}_weights.h5", stem(path)), format!("{}.weights.h5", stem(path))];
            match candidates.iter().map(|c| dir.join(c)).find(|c| c.is_file()) {
                Some(found) => found,
                None => {
                    return Err(KerasError::MissingWeights {
                        path: path.to_path_buf(),
                        expected: dir.join(&candidates[0]),
                    })
                }
            }
        }
    };
    let h5 = H5::open(&weights_path)?;
    let version = h5.root()?.attr_string("keras_version")?;
    let model = config::parse(&text, path, version.as_deref())?;
    let store = WeightFile::new(h5, &model)?;
    assemble(path, model, store)
}

fn load_h5(path: &Path, weights: Option<&Path>) -> Result<Graph, KerasError> {
    let h5 = H5::open(path)?;
    let root = h5.root()?;
    let Some(text) = root.attr_string("model_config")? else {
        return Err(KerasError::Format {
            path: path.to_path_buf(),
            what: "this HDF5 file has no model_config attribute: it holds weights only; \
                   load the architecture JSON and pass this file as its weights"
                .into(),
        });
    };
    let version = root.attr_string("keras_version")?;
    let model = config::parse(&text, path, version.as_deref())?;
    let store = match weights {
        Some(w) => WeightFile::new(H5::open(w)?, &model)?,
        None => WeightFile::new(h5, &model)?,
    };
    assemble(path, model, store)
}

fn load_archive(path: &Path, weights: Option<&Path>) -> Result<Graph, KerasError> {
    let a = archive::read(path)?;
    let model = config::parse(&a.config, path, a.keras_version.as_deref())?;
    let store = match weights {
        Some(w) => WeightFile::new(H5::open(w)?, &model)?,
        None => WeightFile::new(H5::from_bytes(a.weights, &path.join("model.weights.h5"))?, &model)?,
    };
    assemble(path, model, store)
}

/// Plans every layer (reporting all unsupported ones), builds the graph and validates it.
fn assemble(path: &Path, model: ModelSpec, store: WeightFile) -> Result<Graph, KerasError> {
    let plans = layers::plan(&model)
        .map_err(|layers| KerasError::Unsupported { path: path.to_path_buf(), layers })?;
    let name = model.name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| stem(path));
    let graph = layers::Builder::new(&model, &store, path, name).build(&plans)?;
    ir::validate(&graph, ir::Stage::Imported)
        .map_err(|source| KerasError::Invalid { path: path.to_path_buf(), source })?;
    Ok(graph)
}
