//! Reads a Keras `.keras` archive (Keras 3, and Keras 2.13+ native format): a zip holding
//! `config.json` (the model config), `model.weights.h5` (the weights) and `metadata.json`
//! (the Keras version).
//!
//! Contract: returns the config text, the weights file bytes and the version if recorded, or a
//! [`KerasError::Archive`] naming the archive and the member at fault. Members are size-checked
//! before and while reading, so a lying header cannot make the reader allocate without bound.

use std::io::Read;
use std::path::Path;

use super::KerasError;

/// Largest `config.json` / `metadata.json` accepted.
const MAX_JSON_BYTES: u64 = 64 << 20;
/// Largest `model.weights.h5` accepted.
const MAX_WEIGHTS_BYTES: u64 = 4 << 30;

pub(super) struct Archive {
    pub config: String,
    pub weights: Vec<u8>,
    pub keras_version: Option<String>,
}

pub(super) fn read(path: &Path) -> Result<Archive, KerasError> {
    let err = |what: String| KerasError::Archive { path: path.to_path_buf(), what };
    let file =
        std::fs::File::open(path).map_err(|source| KerasError::Io { path: path.to_path_buf(), source })?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| err(format!("not a zip archive: {e}")))?;

    let config = String::from_utf8(member(&mut zip, "config.json", MAX_JSON_BYTES).map_err(err)?)
        .map_err(|_| err("config.json is not UTF-8 text".into()))?;
    let weights = member(&mut zip, "model.weights.h5", MAX_WEIGHTS_BYTES).map_err(err)?;
    let keras_version = if zip.file_names().any(|n| n == "metadata.json") {
        let meta = member(&mut zip, "metadata.json", MAX_JSON_BYTES).map_err(err)?;
        serde_json::from_slice::<serde_json::Value>(&meta)
            .ok()
            .and_then(|v| v.get("keras_version").and_then(|v| v.as_str()).map(str::to_string))
    } else {
        None
    };
    Ok(Archive { config, weights, keras_version })
}

fn member(zip: &mut zip::ZipArchive<std::fs::File>, name: &str, limit: u64) -> Result<Vec<u8>, String> {
    let entry = zip.by_name(name).map_err(|e| format!("member {name}: {e}"))?;
    if entry.size() > limit {
        return Err(format!("member {name} is {} bytes, more than the limit of {limit}", entry.size()));
    }
    let mut bytes = Vec::with_capacity(entry.size().min(1 << 24) as usize);
    entry.take(limit + 1).read_to_end(&mut bytes).map_err(|e| format!("member {name}: {e}"))?;
    if bytes.len() as u64 > limit {
        return Err(format!("member {name} is larger than the limit of {limit} bytes"));
    }
    Ok(bytes)
}
