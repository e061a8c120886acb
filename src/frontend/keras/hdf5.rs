//! The thin reading layer over `hdf5-pure`: groups, string attributes and float datasets.
//!
//! Contract: every call returns a [`KerasError::Hdf5`] naming the file and the object path on any
//! failure, including a panic inside the HDF5 reader on malformed input (caught here), so callers
//! never see a panic. Datasets are returned as `f64` values (exact for `f32`/`f64` storage) in
//! row-major order with their shape; a dataset with more than [`MAX_ELEMENTS`] values is refused
//! before it is read.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use hdf5_pure::{AttrValue, DType};

use super::KerasError;
use crate::ir::MAX_ELEMENTS;

/// A dense float tensor read from a dataset.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Tensor {
    pub shape: Vec<usize>,
    pub values: Vec<f64>,
}

/// An open HDF5 file (held in memory).
pub(super) struct H5 {
    file: hdf5_pure::File,
    path: PathBuf,
}

/// A group of an open file, with its path from the root for messages.
pub(super) struct Group<'f> {
    h5: &'f H5,
    group: hdf5_pure::Group,
    at: String,
}

/// Runs an `hdf5-pure` call, turning its errors and panics into a message.
fn guard<T>(f: impl FnOnce() -> Result<T, hdf5_pure::Error>) -> Result<T, String> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("the HDF5 reader failed on malformed data".to_string()),
    }
}

impl H5 {
    pub fn open(path: &Path) -> Result<H5, KerasError> {
        let bytes =
            std::fs::read(path).map_err(|source| KerasError::Io { path: path.to_path_buf(), source })?;
        H5::from_bytes(bytes, path)
    }

    /// Opens an in-memory file; `path` names it in messages.
    pub fn from_bytes(bytes: Vec<u8>, path: &Path) -> Result<H5, KerasError> {
        if !hdf5_pure::is_hdf5_bytes(&bytes) {
            return Err(KerasError::Hdf5 {
                path: path.to_path_buf(),
                object: "/".into(),
                what: "not an HDF5 file (no signature)".into(),
            });
        }
        let file = guard(|| hdf5_pure::File::from_bytes(bytes)).map_err(|what| KerasError::Hdf5 {
            path: path.to_path_buf(),
            object: "/".into(),
            what,
        })?;
        Ok(H5 { file, path: path.to_path_buf() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn root(&self) -> Result<Group<'_>, KerasError> {
        let group = guard(|| Ok(self.file.root())).map_err(|what| self.err("/", what))?;
        Ok(Group { h5: self, group, at: String::new() })
    }

    fn err(&self, object: &str, what: impl Into<String>) -> KerasError {
        KerasError::Hdf5 {
            path: self.path.clone(),
            object: if object.is_empty() { "/".into() } else { object.to_string() },
            what: what.into(),
        }
    }
}

impl<'f> Group<'f> {
    /// The path of a member of this group.
    fn child_path(&self, name: &str) -> String {
        format!("{}/{}", self.at, name.trim_start_matches('/'))
    }

    pub fn error(&self, what: impl Into<String>) -> KerasError {
        self.h5.err(&self.at, what)
    }

    /// Names of the subgroups, in the order the file lists them.
    pub fn groups(&self) -> Result<Vec<String>, KerasError> {
        guard(|| self.group.groups()).map_err(|what| self.h5.err(&self.at, what))
    }

    /// Names of the datasets directly in this group.
    pub fn datasets(&self) -> Result<Vec<String>, KerasError> {
        guard(|| self.group.datasets()).map_err(|what| self.h5.err(&self.at, what))
    }

    /// The subgroup `name` (a single link name), if there is one.
    pub fn group(&self, name: &str) -> Result<Option<Group<'f>>, KerasError> {
        if !self.groups()?.iter().any(|g| g == name) {
            return Ok(None);
        }
        let at = self.child_path(name);
        let group = guard(|| self.group.group(name)).map_err(|what| self.h5.err(&at, what))?;
        Ok(Some(Group { h5: self.h5, group, at }))
    }

    fn attr(&self, name: &str) -> Result<Option<AttrValue>, KerasError> {
        let mut attrs = guard(|| self.group.attrs()).map_err(|what| self.h5.err(&self.at, what))?;
        Ok(attrs.remove(name))
    }

    /// A string attribute (fixed- or variable-length, ASCII or UTF-8).
    pub fn attr_string(&self, name: &str) -> Result<Option<String>, KerasError> {
        match self.attr(name)? {
            None => Ok(None),
            Some(v) => match v.as_str() {
                Some(s) => Ok(Some(s.to_string())),
                None => Err(self.error(format!("attribute '{name}' is not a string"))),
            },
        }
    }

    /// A string-array attribute. An empty numeric array (how h5py stores an empty list) reads as
    /// no strings.
    pub fn attr_strings(&self, name: &str) -> Result<Option<Vec<String>>, KerasError> {
        let Some(v) = self.attr(name)? else {
            return Ok(None);
        };
        if let Some(s) = v.as_strings() {
            return Ok(Some(s.to_vec()));
        }
        let empty = v.to_f64s().map(|f| f.is_empty()).unwrap_or(false)
            || v.to_i64s().map(|i| i.is_empty()).unwrap_or(false);
        if empty {
            return Ok(Some(Vec::new()));
        }
        Err(self.error(format!("attribute '{name}' is not a list of strings")))
    }

    /// Reads the float or signed-integer dataset at `path` (relative, may have several
    /// components); integers (such as QKeras' `iteration` counter) become floats.
    pub fn tensor(&self, path: &str) -> Result<Tensor, KerasError> {
        let at = self.child_path(path);
        let err = |what: String| self.h5.err(&at, what);
        let ds = guard(|| self.group.dataset(path)).map_err(err)?;
        let dtype = guard(|| ds.dtype()).map_err(err)?;
        let width = match dtype {
            DType::F32 | DType::I32 => 4,
            DType::F64 | DType::I64 => 8,
            DType::I8 => 1,
            DType::I16 => 2,
            _ => return Err(err(format!("dataset has type {dtype}, expected floats or signed integers"))),
        };
        let integer = !matches!(dtype, DType::F32 | DType::F64);
        let dims = guard(|| ds.shape()).map_err(err)?;
        let mut shape = Vec::with_capacity(dims.len());
        let mut count: usize = 1;
        for d in dims {
            let d = usize::try_from(d).map_err(|_| err(format!("dimension {d} is too large")))?;
            count = count.saturating_mul(d);
            shape.push(d);
        }
        if count > MAX_ELEMENTS {
            return Err(err(format!("dataset has {count} values, more than the limit of {MAX_ELEMENTS}")));
        }
        // Unless compressed, the values must be in the file; a larger shape is corrupt and would
        // only make the reader allocate.
        let compressed = guard(|| Ok(!ds.filters().is_empty())).map_err(err)?;
        let bytes = count.saturating_mul(width) as u64;
        if !compressed && bytes > self.h5.file.file_size() {
            return Err(err(format!("dataset of shape {shape:?} is larger than the file")));
        }
        let values = if integer {
            guard(|| ds.read_i64()).map_err(err)?.into_iter().map(|v| v as f64).collect()
        } else {
            guard(|| ds.read_f64()).map_err(err)?
        };
        if values.len() != count {
            return Err(err(format!("dataset holds {} values for shape {shape:?}", values.len())));
        }
        Ok(Tensor { shape, values })
    }
}
