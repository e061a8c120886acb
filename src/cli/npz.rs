//! The model inputs named on the command line (`sim --input`, `compile --tb-input`, `profile
//! --input`, `sweep --input`): each file is a `.npy` array, taken in the order given, or an `.npz`
//! archive (numpy's `savez` or `savez_compressed`: a zip of stored or deflated `<key>.npy`
//! members), whose arrays are keyed by model input name.
//!
//! Contract: a file is an archive when it starts with a zip signature, whatever its extension.
//! Every member must be a `.npy` array named after its key; each array's source is
//! `file.npz['key']`, so later errors (a missing or extra key, a mis-shaped array, an index out
//! of range) name the file and the key. Matching keys to inputs is [`crate::flow::join_inputs`]'s.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::{npy, CliError};
use crate::flow::InputArray;

/// The start of a zip archive, and of an empty one.
const ZIP_MAGIC: [&[u8]; 2] = [b"PK\x03\x04", b"PK\x05\x06"];

/// The arrays of every file, in the order given (an archive's in its member order).
pub fn read_all(paths: &[PathBuf]) -> Result<Vec<InputArray>, CliError> {
    let mut arrays = Vec::with_capacity(paths.len());
    for path in paths {
        arrays.extend(read(path)?);
    }
    Ok(arrays)
}

/// The arrays of one file: one for a `.npy`, one per member for an `.npz`.
pub fn read(path: &Path) -> Result<Vec<InputArray>, CliError> {
    let err = |m: String| CliError::msg(format!("{}: {m}", path.display()));
    let mut file = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
    let len = file.metadata().map_err(|e| err(e.to_string()))?.len();
    if let Some(array) = npy::read_streamed(&path.display().to_string(), &mut file, len) {
        return Ok(vec![array]);
    }
    drop(file);
    let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    if !ZIP_MAGIC.iter().any(|m| bytes.starts_with(m)) {
        return Ok(vec![npy::parse(&path.display().to_string(), &bytes)?]);
    }
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&bytes[..]))
        .map_err(|e| err(format!("not a readable .npz archive: {e}")))?;
    if zip.is_empty() {
        return Err(err("the .npz archive holds no arrays".into()));
    }
    let mut arrays = Vec::with_capacity(zip.len());
    for k in 0..zip.len() {
        let mut member = zip.by_index(k).map_err(|e| err(format!("member {k}: {e}")))?;
        let name = member.name().to_string();
        let key = name.strip_suffix(".npy").filter(|k| !k.is_empty()).ok_or_else(|| {
            err(format!("member '{name}' is not a .npy array named <key>.npy, as numpy's savez writes"))
        })?;
        let source = format!("{}['{key}']", path.display());
        let mut data = Vec::with_capacity(member.size().min(1 << 30) as usize);
        member.read_to_end(&mut data).map_err(|e| CliError::msg(format!("{source}: {e}")))?;
        let mut array = npy::parse(&source, &data)?;
        array.key = Some(key.to_string());
        arrays.push(array);
    }
    Ok(arrays)
}
