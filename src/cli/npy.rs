//! Reading and writing `.npy` arrays for `sim` and `compile --tb-input` (`.npz` archives of them
//! are read by [`super::npz`]).
//!
//! Reading accepts every real and integer dtype numpy writes — `i1 i2 i4 i8 u1 u2 u4 u8 f2 f4 f8`
//! and `b1` (bool), in any byte order (`<`, `>`, `=`, `|`) — in C or Fortran order (Fortran arrays
//! are transposed to C order), with headers of format versions 1.0, 2.0 and 3.0. Every value becomes
//! an f64 exactly: an integer beyond 2^53 in magnitude, which f64 cannot hold, is refused with its
//! element index. Other dtypes (complex, object, strings, structured, dates) are refused with an
//! error that names the dtype and lists the accepted ones. Writing produces float64 in C order.

use std::io::Write;
use std::path::Path;

use rayon::prelude::*;

use super::CliError;
use crate::flow::InputArray;

/// The dtypes `read` accepts, for error messages.
const ACCEPTED: &str = "accepted: bool (b1), signed integers (i1 i2 i4 i8), unsigned integers (u1 u2 u4 u8) \
                        and floats (f2 f4 f8), in any byte order";

/// The largest integer magnitude every smaller one of which an f64 holds exactly.
const EXACT_INT: u64 = 1 << 53;

/// What one element is, once the byte order is known.
#[derive(Clone, Copy)]
pub(super) enum Kind {
    Bool,
    Int,
    Uint,
    Float,
}

/// A numeric dtype: kind, size in bytes, byte order.
#[derive(Clone, Copy)]
pub(super) struct DType {
    pub(super) kind: Kind,
    pub(super) size: usize,
    pub(super) big_endian: bool,
}

impl DType {
    /// Parses a `descr` string such as `<f8`, `|u1` or `>i4`.
    fn parse(descr: &str) -> Result<DType, String> {
        let bad = |why: &str| format!("unsupported dtype '{descr}': {why}; {ACCEPTED}");
        let mut chars = descr.chars();
        let order = chars.next().ok_or_else(|| bad("empty"))?;
        let big_endian = match order {
            '<' | '|' => false,
            '>' => true,
            '=' => cfg!(target_endian = "big"),
            _ => return Err(bad("it does not start with a byte order ('<', '>', '=' or '|')")),
        };
        let kind_char = chars.next().ok_or_else(|| bad("no type code"))?;
        let kind = match kind_char {
            'b' => Kind::Bool,
            'i' => Kind::Int,
            'u' => Kind::Uint,
            'f' => Kind::Float,
            'c' => return Err(bad("complex numbers have no single real value")),
            'O' => return Err(bad("object arrays hold Python objects, not numbers")),
            'S' | 'a' | 'U' => return Err(bad("strings are not numbers")),
            'V' => return Err(bad("raw or structured records are not numbers")),
            'M' | 'm' => return Err(bad("dates and time spans are not numbers")),
            _ => return Err(bad("unknown type code")),
        };
        let size: usize = chars.as_str().parse().map_err(|_| bad("the size is not a number"))?;
        let ok = match kind {
            Kind::Bool => size == 1,
            Kind::Int | Kind::Uint => matches!(size, 1 | 2 | 4 | 8),
            Kind::Float => matches!(size, 2 | 4 | 8),
        };
        if !ok {
            return Err(bad("this size is not one numpy uses for the type"));
        }
        Ok(DType { kind, size, big_endian })
    }

    /// The value of one element's bytes, or why f64 cannot hold it.
    fn value(&self, b: &[u8]) -> Result<f64, String> {
        let mut raw = [0u8; 8];
        if self.big_endian {
            for (k, &x) in b.iter().rev().enumerate() {
                raw[k] = x;
            }
        } else {
            raw[..b.len()].copy_from_slice(b);
        }
        let bits = u64::from_le_bytes(raw);
        let n = self.size * 8;
        match self.kind {
            Kind::Bool => match bits {
                0 => Ok(0.0),
                1 => Ok(1.0),
                v => Err(format!("the bool byte is {v}, not 0 or 1")),
            },
            Kind::Uint => {
                if bits > EXACT_INT {
                    return Err(format!("{bits} is beyond 2^53 in magnitude, which f64 cannot hold exactly"));
                }
                Ok(bits as f64)
            }
            Kind::Int => {
                // Sign-extend the low n bits.
                let v = ((bits << (64 - n)) as i64) >> (64 - n);
                if v.unsigned_abs() > EXACT_INT {
                    return Err(format!("{v} is beyond 2^53 in magnitude, which f64 cannot hold exactly"));
                }
                Ok(v as f64)
            }
            Kind::Float => Ok(match self.size {
                2 => half_to_f64(bits as u16),
                4 => f32::from_bits(bits as u32) as f64,
                _ => f64::from_bits(bits),
            }),
        }
    }
}

/// IEEE 754 binary16 to f64 (exact).
fn half_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((h >> 10) & 0x1f);
    let frac = f64::from(h & 0x3ff);
    sign * match exp {
        0 => frac * 2f64.powi(-24),
        31 if frac == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        e => (1.0 + frac / 1024.0) * 2f64.powi(e - 15),
    }
}

/// A value of the header's Python dict literal.
#[derive(Debug, PartialEq)]
enum Lit {
    Str(String),
    Bool(bool),
    Tuple(Vec<u64>),
    /// Anything else (a list descr of a structured dtype, a nested dict...), kept as text.
    Other(String),
}

/// A tiny reader of the header's dict literal: `{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }`.
struct Header<'a> {
    s: &'a [u8],
    at: usize,
}

impl Header<'_> {
    fn skip_ws(&mut self) {
        while self.at < self.s.len() && self.s[self.at].is_ascii_whitespace() {
            self.at += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.skip_ws();
        if self.s.get(self.at) == Some(&c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.skip_ws();
        let q = *self.s.get(self.at).ok_or("the header ends early")?;
        if q != b'\'' && q != b'"' {
            return Err("expected a quoted string in the header".into());
        }
        let start = self.at + 1;
        let len = self.s[start..].iter().position(|&c| c == q).ok_or("unterminated string in the header")?;
        self.at = start + len + 1;
        String::from_utf8(self.s[start..start + len].to_vec()).map_err(|_| "the header is not UTF-8".into())
    }

    /// Skips a bracketed value (list or dict) and returns its text.
    fn bracketed(&mut self) -> Result<String, String> {
        let start = self.at;
        let mut depth = 0i32;
        while let Some(&c) = self.s.get(self.at) {
            self.at += 1;
            match c {
                b'[' | b'{' | b'(' => depth += 1,
                b']' | b'}' | b')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(String::from_utf8_lossy(&self.s[start..self.at]).into_owned());
                    }
                }
                _ => {}
            }
        }
        Err("unbalanced brackets in the header".into())
    }

    fn value(&mut self) -> Result<Lit, String> {
        self.skip_ws();
        match self.s.get(self.at) {
            Some(b'\'' | b'"') => Ok(Lit::Str(self.string()?)),
            Some(b'(') => {
                self.at += 1;
                let mut dims = Vec::new();
                loop {
                    if self.eat(b')') {
                        return Ok(Lit::Tuple(dims));
                    }
                    self.skip_ws();
                    let start = self.at;
                    while self.s.get(self.at).is_some_and(u8::is_ascii_digit) {
                        self.at += 1;
                    }
                    // Python 2 headers may write longs as `3L`.
                    let digits = std::str::from_utf8(&self.s[start..self.at]).unwrap_or("");
                    self.eat(b'L');
                    dims.push(digits.parse().map_err(|_| "a shape entry is not a whole number".to_string())?);
                    if !self.eat(b',') {
                        return if self.eat(b')') {
                            Ok(Lit::Tuple(dims))
                        } else {
                            Err("malformed shape tuple in the header".into())
                        };
                    }
                }
            }
            Some(b'[' | b'{') => Ok(Lit::Other(self.bracketed()?)),
            _ => {
                let start = self.at;
                while self.s.get(self.at).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_') {
                    self.at += 1;
                }
                match &self.s[start..self.at] {
                    b"True" => Ok(Lit::Bool(true)),
                    b"False" => Ok(Lit::Bool(false)),
                    _ => Err("unexpected value in the header".into()),
                }
            }
        }
    }

    /// The header's entries.
    fn dict(mut self) -> Result<Vec<(String, Lit)>, String> {
        if !self.eat(b'{') {
            return Err("the header is not a dict".into());
        }
        let mut out = Vec::new();
        loop {
            if self.eat(b'}') {
                return Ok(out);
            }
            let key = self.string()?;
            if !self.eat(b':') {
                return Err(format!("expected ':' after '{key}' in the header"));
            }
            out.push((key, self.value()?));
            if !self.eat(b',') {
                return if self.eat(b'}') {
                    Ok(out)
                } else {
                    Err("expected ',' or '}' in the header".into())
                };
            }
        }
    }
}

/// The parsed header: dtype, Fortran order, shape; and where the data starts.
pub(super) struct Parsed {
    pub(super) dtype: DType,
    pub(super) fortran: bool,
    pub(super) shape: Vec<usize>,
    pub(super) data_start: usize,
}

pub(super) fn parse_header(bytes: &[u8]) -> Result<Parsed, String> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err("not a .npy file (no \\x93NUMPY magic)".into());
    }
    let (len, start) = match (bytes[6], bytes[7]) {
        (1, 0) => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10usize),
        (2 | 3, 0) => {
            if bytes.len() < 12 {
                return Err("the header ends early".into());
            }
            (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12)
        }
        (major, minor) => {
            return Err(format!("format version {major}.{minor} is not supported (1.0, 2.0 and 3.0 are)"));
        }
    };
    let end = start.checked_add(len).filter(|&e| e <= bytes.len()).ok_or("the header ends early")?;
    let entries = Header { s: &bytes[start..end], at: 0 }.dict()?;
    let get = |k: &str| entries.iter().find(|(key, _)| key == k).map(|(_, v)| v);
    let dtype = match get("descr") {
        Some(Lit::Str(d)) => DType::parse(d)?,
        Some(Lit::Other(d)) => {
            return Err(format!("unsupported dtype {d}: structured records are not numbers; {ACCEPTED}"));
        }
        _ => return Err("the header has no 'descr' string".into()),
    };
    let fortran = match get("fortran_order") {
        Some(Lit::Bool(b)) => *b,
        _ => return Err("the header has no 'fortran_order' True or False".into()),
    };
    let shape: Vec<usize> = match get("shape") {
        Some(Lit::Tuple(t)) => t
            .iter()
            .map(|&d| usize::try_from(d).map_err(|_| "a dimension is too large".to_string()))
            .collect::<Result<_, _>>(),
        _ => return Err("the header has no 'shape' tuple".into()),
    }?;
    Ok(Parsed { dtype, fortran, shape, data_start: end })
}

/// The C-order values of a Fortran-order array of `shape`.
fn fortran_to_c(values: &[f64], shape: &[usize]) -> Vec<f64> {
    let mut index = vec![0usize; shape.len()];
    let mut out = Vec::with_capacity(values.len());
    for _ in 0..values.len() {
        // Fortran offset: the first axis varies fastest.
        let mut off = 0;
        for (&i, &d) in index.iter().zip(shape).rev() {
            off = off * d + i;
        }
        out.push(values[off]);
        // Next C index: the last axis varies fastest.
        for (i, &d) in index.iter_mut().zip(shape).rev() {
            *i += 1;
            if *i < d {
                break;
            }
            *i = 0;
        }
    }
    out
}

/// The values of `data`, `N` bytes each, converted by `value` in parallel slices.
fn convert<const N: usize>(data: &[u8], value: impl Fn(&[u8]) -> f64 + Sync) -> Vec<f64> {
    const SLICE: usize = 1 << 14;
    let mut values = vec![0.0; data.len() / N];
    values.par_chunks_mut(SLICE).zip(data.par_chunks(SLICE * N)).for_each(|(v, b)| {
        for (v, b) in v.iter_mut().zip(b.chunks_exact(N)) {
            *v = value(b);
        }
    });
    values
}

/// The array of a `.npy` file's bytes; `source` names it in messages and in the result.
pub fn parse(source: &str, bytes: &[u8]) -> Result<InputArray, CliError> {
    let err = |m: String| CliError::msg(format!("{source}: {m}"));
    let p = parse_header(bytes).map_err(err)?;
    let count = p
        .shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| err("the shape is too large".into()))?;
    let data = &bytes[p.data_start..];
    let need = count.checked_mul(p.dtype.size).ok_or_else(|| err("the shape is too large".into()))?;
    if data.len() != need {
        return Err(err(format!(
            "the header's shape {:?} needs {need} bytes of data but the file holds {}",
            p.shape,
            data.len()
        )));
    }
    let little = !p.dtype.big_endian || p.dtype.size == 1;
    let mut values = match (p.dtype.kind, p.dtype.size) {
        // Floats convert exactly and never fail: one parallel pass over the bytes.
        (Kind::Float, 4) if little => {
            convert::<4>(data, |b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
        }
        (Kind::Float, 8) if little => {
            convert::<8>(data, |b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
        }
        _ => {
            let mut values = Vec::with_capacity(count);
            for (k, b) in data.chunks_exact(p.dtype.size).enumerate() {
                values.push(p.dtype.value(b).map_err(|m| err(format!("element {k} (in file order): {m}")))?);
            }
            values
        }
    };
    if p.fortran && p.shape.len() > 1 {
        values = fortran_to_c(&values, &p.shape);
    }
    Ok(InputArray { source: source.to_string(), key: None, shape: p.shape, values })
}

/// The array of a `.npy` file that `file` (positioned at its start, `len` bytes long) holds,
/// when it is C-order little-endian float32 or float64 with a header in the first
/// [`HEAD_READ`] bytes: the data is converted as it is read, a chunk at a time, so the file's
/// bytes are never held whole. `None` for any other file, which [`parse`] then reads whole (and
/// explains).
pub fn read_streamed(source: &str, file: &mut std::fs::File, len: u64) -> Option<InputArray> {
    use std::io::{Read, Seek, SeekFrom};
    let mut head = vec![0; HEAD_READ.min(len) as usize];
    file.read_exact(&mut head).ok()?;
    let p = parse_header(&head).ok()?;
    let little = !p.dtype.big_endian;
    let size = match (p.dtype.kind, p.dtype.size) {
        (Kind::Float, n @ (4 | 8)) if little && !(p.fortran && p.shape.len() > 1) => n,
        _ => return None,
    };
    let count = p.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d))?;
    if count.checked_mul(size)? as u64 != len.checked_sub(p.data_start as u64)? {
        return None;
    }
    file.seek(SeekFrom::Start(p.data_start as u64)).ok()?;
    let mut values = vec![0.0; count];
    let mut buf = vec![0u8; READ_CHUNK * size];
    for out in values.chunks_mut(READ_CHUNK) {
        let bytes = &mut buf[..out.len() * size];
        file.read_exact(bytes).ok()?;
        if size == 4 {
            for (v, b) in out.iter_mut().zip(bytes.chunks_exact(4)) {
                *v = f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]]));
            }
        } else {
            for (v, b) in out.iter_mut().zip(bytes.chunks_exact(8)) {
                *v = f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
            }
        }
    }
    Some(InputArray { source: source.to_string(), key: None, shape: p.shape, values })
}

/// Bytes [`read_streamed`] reads for the header.
pub(super) const HEAD_READ: u64 = 1 << 12;
/// Values [`read_streamed`] converts per read.
const READ_CHUNK: usize = 1 << 16;

/// Writes float64 values in C order (format 1.0, or 2.0 for a header beyond 64 KiB), converting
/// the values to bytes a chunk at a time on the way out.
pub fn write(path: &Path, shape: &[usize], data: &[f64]) -> Result<(), CliError> {
    let mut w = Writer::create(path, shape)?;
    w.append(data)?;
    w.finish()
}

/// A float64 `.npy` file of a known shape written in pieces, in row-major order; the pieces
/// must add up to the shape (the caller's contract). The data goes to a temporary file beside
/// `path` that [`Writer::finish`] renames to it: a writer dropped before that leaves no file.
pub struct Writer {
    file: std::io::BufWriter<tempfile::NamedTempFile>,
    path: std::path::PathBuf,
    buf: Vec<u8>,
}

impl Writer {
    /// Creates the file and writes its header.
    pub fn create(path: &Path, shape: &[usize]) -> Result<Writer, CliError> {
        let err = |e: std::io::Error| CliError::msg(format!("{}: {e}", path.display()));
        let dims: String = shape.iter().map(|d| format!("{d}, ")).collect();
        let mut dict = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': ({dims}), }}");
        let long = dict.len() + 11 > usize::from(u16::MAX);
        let prefix = if long { 12 } else { 10 };
        // numpy pads the header with spaces so that the data starts at a multiple of 64 bytes.
        let pad = (64 - (prefix + dict.len() + 1) % 64) % 64;
        dict.extend(std::iter::repeat_n(' ', pad));
        dict.push('\n');
        let mut head = b"\x93NUMPY".to_vec();
        if long {
            head.extend_from_slice(&[2, 0]);
            let len =
                u32::try_from(dict.len()).map_err(|_| err(std::io::Error::other("the shape is too long")))?;
            head.extend_from_slice(&len.to_le_bytes());
        } else {
            head.extend_from_slice(&[1, 0]);
            head.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        }
        head.extend_from_slice(dict.as_bytes());
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        if !dir.is_dir() {
            return Err(CliError::msg(format!(
                "{}: directory '{}' does not exist",
                path.display(),
                dir.display()
            )));
        }
        // tempfile's errors name the temporary file; say the file asked for instead.
        let file = tempfile::Builder::new()
            .prefix(".hls-gen-")
            .suffix(".npy")
            .tempfile_in(dir)
            .map_err(|e| err(std::io::Error::from(e.kind())))?;
        let mut file = std::io::BufWriter::with_capacity(8 * WRITE_CHUNK, file);
        file.write_all(&head).map_err(err)?;
        Ok(Writer { file, path: path.to_path_buf(), buf: Vec::new() })
    }

    /// Appends `data`.
    pub fn append(&mut self, data: &[f64]) -> Result<(), CliError> {
        let path = &self.path;
        let err = |e: std::io::Error| CliError::msg(format!("{}: {e}", path.display()));
        for chunk in data.chunks(WRITE_CHUNK) {
            self.buf.clear();
            self.buf.extend(chunk.iter().flat_map(|v| v.to_le_bytes()));
            self.file.write_all(&self.buf).map_err(err)?;
        }
        Ok(())
    }

    /// Writes what is buffered and puts the file at its path.
    pub fn finish(self) -> Result<(), CliError> {
        let path = self.path;
        let err = |e: std::io::Error| CliError::msg(format!("{}: {e}", path.display()));
        let file = self.file.into_inner().map_err(|e| err(e.into_error()))?;
        // Renaming over a file makes ext4 write the new one's blocks out within the rename (its
        // `auto_da_alloc`), milliseconds per MB; without the old file the kernel's flusher does it.
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
            std::fs::remove_file(&path).map_err(err)?;
        }
        file.persist(&path).map_err(|e| err(e.error))?;
        Ok(())
    }
}

/// Values converted to bytes per write.
const WRITE_CHUNK: usize = 1 << 17;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_floats_convert_exactly() {
        assert_eq!(half_to_f64(0x3c00), 1.0);
        assert_eq!(half_to_f64(0xc000), -2.0);
        assert_eq!(half_to_f64(0x0001), 2f64.powi(-24));
        assert_eq!(half_to_f64(0x7bff), 65504.0);
        assert!(half_to_f64(0x7c00).is_infinite());
    }

    #[test]
    fn fortran_order_is_transposed() {
        // [[1, 2, 3], [4, 5, 6]] stored column by column.
        assert_eq!(
            fortran_to_c(&[1.0, 4.0, 2.0, 5.0, 3.0, 6.0], &[2, 3]),
            vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
        );
    }

    #[test]
    fn header_literal_parses() {
        let h = b"{'descr': '>i8', 'fortran_order': True, 'shape': (2, 3L), }";
        let e = Header { s: h, at: 0 }.dict().unwrap();
        assert_eq!(e[2], ("shape".to_string(), Lit::Tuple(vec![2, 3])));
        let h = b"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,)}";
        assert!(matches!(Header { s: h, at: 0 }.dict().unwrap()[0].1, Lit::Other(_)));
    }
}
