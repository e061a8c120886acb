//! Reading a plain `.npy` array a number of rows at a time, for `sim`'s streamed run.
//!
//! Contract: [`Rows::open`] accepts exactly the files [`super::npy::read_streamed`] converts
//! whole (C-order little-endian float32 or float64 whose data length matches the header), and only
//! those of at least two dimensions with a nonzero first one; a row is everything after the first
//! axis. Any other file gives `None`, and the caller reads it the usual way, which explains what is
//! wrong with it. Values become `f64` exactly, as [`super::npy::parse`] converts them.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::npy::{parse_header, Kind, HEAD_READ};
use super::CliError;

/// An open `.npy` file positioned at its next unread row.
pub(super) struct Rows {
    file: File,
    path: PathBuf,
    /// Bytes per value: 4 or 8.
    size: usize,
    /// The array's shape, `[rows, ...]`.
    pub(super) shape: Vec<usize>,
    /// Values per row.
    pub(super) per_row: usize,
    bytes: Vec<u8>,
}

impl Rows {
    /// Opens `path` when it is a file this reader takes (see the module's contract).
    pub(super) fn open(path: &Path) -> Option<Rows> {
        let mut file = File::open(path).ok()?;
        let len = file.metadata().ok()?.len();
        let mut head = vec![0; HEAD_READ.min(len) as usize];
        file.read_exact(&mut head).ok()?;
        let p = parse_header(&head).ok()?;
        let size = match (p.dtype.kind, p.dtype.size) {
            (Kind::Float, n @ (4 | 8)) if !p.dtype.big_endian && !p.fortran => n,
            _ => return None,
        };
        let (&first, rest) = p.shape.split_first()?;
        let per_row = rest.iter().try_fold(1usize, |a, &d| a.checked_mul(d))?;
        if rest.is_empty() || first == 0 || per_row == 0 {
            return None;
        }
        let count = first.checked_mul(per_row)?;
        if count.checked_mul(size)? as u64 != len.checked_sub(p.data_start as u64)? {
            return None;
        }
        file.seek(SeekFrom::Start(p.data_start as u64)).ok()?;
        Some(Rows { file, path: path.to_path_buf(), size, shape: p.shape, per_row, bytes: Vec::new() })
    }

    /// Number of rows of the array.
    pub(super) fn rows(&self) -> usize {
        self.shape[0]
    }

    /// Reads the next `rows` rows into `out` (replacing its contents).
    pub(super) fn read(&mut self, rows: usize, out: &mut Vec<f64>) -> Result<(), CliError> {
        let count = rows * self.per_row;
        self.bytes.resize(count * self.size, 0);
        self.file
            .read_exact(&mut self.bytes)
            .map_err(|e| CliError::msg(format!("{}: {e}", self.path.display())))?;
        out.clear();
        if self.size == 4 {
            out.extend(
                self.bytes.chunks_exact(4).map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))),
            );
        } else {
            out.extend(
                self.bytes
                    .chunks_exact(8)
                    .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])),
            );
        }
        Ok(())
    }
}
